/* selection — which tweets a stream wants: `?filter=ID` (repeatable, or
 * comma-separated saved filters: any of them), `?q=words` (comma-separated
 * phrases, any of them, narrowing what the filters pick), neither
 * (everything); and the history such a stream starts with, found by scanning
 * the Redis stream backwards in bounded chunks.
 *
 * Selections are made in the process's filter set (proc->filters,
 * lib/filterset.h), which the hub keeps current from `control` and matches
 * each live tweet against once. Acceptor threads only. */
#ifndef BIRDFEED_SELECTION_H
#define BIRDFEED_SELECTION_H

#include <stddef.h>

#include "bus.h"
#include "filterset.h"
#include "http.h"

#define SELECTION_IDS_MAX 32        /* filter ids in one request */
#define SELECTION_SCAN_PAGE 500     /* entries read per XREVRANGE */
#define SELECTION_SCAN_MAX 50000    /* entries scanned at most for one preload */

#define SELECTION_AGAIN 1          /* Redis is needed and down: nothing answered */

/* The saved filter ids req names: every `filter=` (repeatable, each a
 * comma-separated list), in order, at most SELECTION_IDS_MAX, each a copy in
 * ids[0..*n) the caller frees. 0 ok (*n may be 0); -1 after answering 400
 * (an empty id, too many), with nothing to free. */
int selection_filter_ids(http_req *req, char *ids[SELECTION_IDS_MAX], size_t *n);

/* The selection req asks for. 0 ok with *sel set (NULL: everything; else
 * the caller gives it back with filterset_release(http_proc(req)->filters,
 * …)); -1 after answering 400 (bad parameter) or 404 (unknown filter);
 * SELECTION_AGAIN when a filter had to be read from Redis and Redis is down
 * (the caller answers that passing failure its own way). */
int selection_from_request(http_req *req, filterset_sel **sel);

/* Called for each history entry, oldest first; json is borrowed for the call. */
typedef void (*selection_add_fn)(bus_id id, const char *json, size_t len, void *arg);

/* The newest n entries of the stream at key that sel matches — at most
 * max_bytes of tweets (at least one) — scanning back from the newest in
 * pages of SELECTION_SCAN_PAGE, at most SELECTION_SCAN_MAX entries. add()
 * gets them oldest first; *newest is the newest id scanned (0-0 for an
 * empty stream): live events continue after it. 0 ok, -1 Redis failed
 * (nothing added). */
int selection_newest(http_req *req, const char *key, filterset_sel *sel, size_t n, size_t max_bytes,
                     selection_add_fn add, void *arg, bus_id *newest);

#endif
