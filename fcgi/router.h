/* router — the table of HTTP routes: method + path pattern → handler.
 *
 * Patterns are paths relative to the mount point; a segment "{name}" matches
 * one non-empty path segment and is available to the handler as
 * http_path_arg(req, "name"). To add an endpoint, write the handler in its
 * own module and add one line to the table in router.c. */
#ifndef BIRDFEED_ROUTER_H
#define BIRDFEED_ROUTER_H

#include "http.h"

typedef void (*router_handler)(http_req *req);

/* Answer req: 414 when its URI is longer than HTTP_URI_MAX, 400 when its
 * path or query is malformed, 404 when no pattern matches, 204 + Allow (and
 * the CORS preflight headers) for OPTIONS and 405 + Allow for another method
 * when the path matches under other methods (HEAD goes wherever GET does),
 * else call the handler. A handler that answers nothing gets a 500 (logged). */
void router_dispatch(http_req *req);

#endif
