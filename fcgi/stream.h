/* stream — GET /stream, the acceptor's half: validate the request, find the
 * history it needs (from the hub's ring, else from the Redis stream), then
 * hand the connection to the hub (hub.h), which serves it from then on.
 *
 * Query: preload=N (0..preload-max, default preload), lastEventId=ID (like
 * the Last-Event-ID header, for polyfills; the header wins), filter=ID
 * (repeatable) and q=words (which tweets: fcgi/selection.h; a filtered
 * stream's preload and resume come from the Redis stream, matched),
 * matched=1 (an `event: matched` after each tweet), access_token (authz.h).
 * A Last-Event-ID far ahead of every clock gets `event: reset` and the
 * preload; a resume longer than client-buffer comes in parts (the stream
 * ends, the client resumes from its last id). Bad input → 400 JSON, no or a
 * bad token → 401, outside a reader token's scope → 403, unknown filter →
 * 404 (never text/event-stream); a failure that passes (Redis down,
 * max-clients reached, shutting down) → 200 text/event-stream with only
 * `retry:`, so that EventSource comes back. HEAD: the headers only. */
#ifndef BIRDFEED_STREAM_H
#define BIRDFEED_STREAM_H

#include "http.h"

/* GET /stream: answers 400/401/403/404 or a retry-only 200 itself, or hands
 * the connection with its history to the process's hub (http_proc(req)->hub)
 * and detaches req. */
void stream_get(http_req *req);

#endif
