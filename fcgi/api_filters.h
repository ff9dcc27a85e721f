/* api_filters — the REST API for saved filters (lib/filterdb.h holds them
 * in Redis).
 *
 *   GET    /api/filters        200 {"filters":[…]}
 *   POST   /api/filters        201 + Location + ETag; 400, 409, 413, 415
 *   GET    /api/filters/{id}   200 + ETag (304 on If-None-Match); 404
 *   PUT    /api/filters/{id}   200 + ETag; 400, 404, 409, 412 (If-Match)
 *   DELETE /api/filters/{id}   204; 404, 412 (If-Match)
 * Changing requests need a token (authz.h: 401 + WWW-Authenticate
 * otherwise); with auth-reads, reads do too. Redis down: 503 + Retry-After.
 * ETag = "<version>". */
#ifndef BIRDFEED_API_FILTERS_H
#define BIRDFEED_API_FILTERS_H

#include "http.h"

/* GET /api/filters: every saved filter, ordered by id. */
void api_filters_list(http_req *req);
/* POST /api/filters: a JSON filter body (lib/filter.h) becomes a new filter,
 * answered 201 with its id, Location and ETag. */
void api_filters_create(http_req *req);
/* GET /api/filters/{id}: one filter with its ETag, or 304 when
 * If-None-Match names its version. */
void api_filters_get(http_req *req);
/* PUT /api/filters/{id}: replace the filter (only at the If-Match version,
 * when given). */
void api_filters_put(http_req *req);
/* DELETE /api/filters/{id}: 204 (only at the If-Match version, when given);
 * its streams end with `event: filter-deleted`. */
void api_filters_delete(http_req *req);

#endif
