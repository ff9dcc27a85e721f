/* selection — which tweets a stream wants (DESIGN §4–5): `?filter=ID`
 * (repeatable, or comma-separated), `?q=words` (an ad-hoc filter), neither
 * (everything); and the history such a stream starts with, found by scanning
 * the Redis stream backwards in bounded chunks.
 *
 * One filterset (lib/filterset.h) per process, made by selection_init before
 * any thread starts; the hub feeds it from `control` and tags each live
 * tweet with the filters it matched. */
#ifndef BIRDFEED_SELECTION_H
#define BIRDFEED_SELECTION_H

#include <stddef.h>

#include "bus.h"
#include "config.h"
#include "filterset.h"
#include "http.h"

#define SELECTION_IDS_MAX 32        /* filter ids in one request */
#define SELECTION_SCAN_PAGE 500     /* entries read per XREVRANGE */
#define SELECTION_SCAN_MAX 50000    /* entries scanned at most for one preload */

/* Make this process's filter set (limits from cfg). Call once. */
void selection_init(const config *cfg);
void selection_shutdown(void);
/* The process's filter set (NULL before selection_init). */
filterset *selection_filters(void);

/* The selection req asks for. 0 ok with *sel set (NULL: everything; else
 * the caller gives it back with filterset_release); -1 after answering 400
 * (bad parameter), 404 (unknown filter) or 503 (Redis down). */
int selection_from_request(http_req *req, filterset_sel **sel);

/* Called for each history entry, oldest first. */
typedef void (*selection_add_fn)(bus_id id, const char *json, size_t len, void *arg);

/* The newest n entries of the stream at key that sel matches, scanning back
 * from the newest in pages of SELECTION_SCAN_PAGE, at most
 * SELECTION_SCAN_MAX entries. add() gets them oldest first; *newest is the
 * newest id scanned (0-0 for an empty stream): live events continue after
 * it. 0 ok, -1 Redis failed (nothing added). */
int selection_newest(http_req *req, const char *key, filterset_sel *sel, size_t n, selection_add_fn add, void *arg,
                     bus_id *newest);

#endif
