/* health — GET /api/health: 200 when Redis answers PING, 503 naming the part
 * that failed otherwise. */
#ifndef BIRDFEED_HEALTH_H
#define BIRDFEED_HEALTH_H

#include "http.h"

void health_get(http_req *req);

#endif
