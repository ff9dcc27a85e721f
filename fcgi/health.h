/* health — GET /api/health: 200 when Redis answers PING and the archive (when
 * one is configured) answers too; 503 naming the part that failed otherwise.
 * The body says "archive":"ok" | "not configured" | the reason it failed,
 * and reports the answering process's streams and hub counters under
 * "responder" (hub_stats). */
#ifndef BIRDFEED_HEALTH_H
#define BIRDFEED_HEALTH_H

#include "http.h"

/* GET /api/health: 200 or 503 + Retry-After, as above. */
void health_get(http_req *req);

#endif
