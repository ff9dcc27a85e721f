/* api_filters — the REST API for saved filters (DESIGN §5) and the bearer
 * token check every handler shares.
 *
 *   GET    /api/filters        200 {"filters":[…]}
 *   POST   /api/filters        201 + Location + ETag; 400, 409, 413, 415
 *   GET    /api/filters/{id}   200 + ETag (304 on If-None-Match); 404
 *   PUT    /api/filters/{id}   200 + ETag; 400, 404, 409, 412 (If-Match)
 *   DELETE /api/filters/{id}   204; 404, 412 (If-Match)
 * Changing requests need "Authorization: Bearer <token>" (401 +
 * WWW-Authenticate otherwise); with auth_reads, reads do too. Redis down:
 * 503 + Retry-After. ETag = "<version>". */
#ifndef BIRDFEED_API_FILTERS_H
#define BIRDFEED_API_FILTERS_H

#include <stddef.h>

#include "config.h"
#include "filterdb.h"
#include "http.h"

/* Load the tokens file of cfg and make the process's filter set
 * (selection_init), once per process before serving. 0 ok, -1 with the
 * reason in err (the tokens file is missing or malformed). */
int api_filters_init(const config *cfg, char *err, size_t errlen);
/* SIGHUP: read the tokens file again (the old tokens stay on failure, logged). */
void api_filters_reload(void);
/* Release what api_filters_init loaded. */
void api_filters_shutdown(void);

/* Is req allowed? write = 1 for changing requests (always need a token),
 * 0 for reads and streams (need one only with auth_reads). Returns 0 when
 * allowed; -1 after answering 401 with WWW-Authenticate: Bearer. */
int api_auth(http_req *req, int write);

/* The filter store over req's thread's Redis connection (reads are retried
 * once after a reconnect, writes never). */
filterdb api_filters_db(http_req *req);

void api_filters_list(http_req *req);
void api_filters_create(http_req *req);
void api_filters_get(http_req *req);
void api_filters_put(http_req *req);
void api_filters_delete(http_req *req);

#endif
