/* stream — GET /stream, the acceptor's half: validate the request, find the
 * history it needs (from the hub's ring, else from the Redis stream), then
 * hand the connection to the hub (hub.h), which serves it from then on.
 *
 * Query: preload=N (0..preload-max, default preload), lastEventId=ID (like
 * the Last-Event-ID header, for polyfills; the header wins), filter=ID
 * (repeatable) and q=words (which tweets: fcgi/selection.h; a filtered
 * stream's preload and resume come from the Redis stream, matched).
 * Bad input → 400 JSON, unknown filter → 404; Redis down or max-clients reached → 503 +
 * Retry-After; never text/event-stream on an error. */
#ifndef BIRDFEED_STREAM_H
#define BIRDFEED_STREAM_H

#include "http.h"

/* GET /stream: answers 400/401/404/503 itself, or hands the connection with
 * its history to the process's hub (http_proc(req)->hub) and detaches req. */
void stream_get(http_req *req);

#endif
