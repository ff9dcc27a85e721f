/* api_tweets — GET /api/tweets?q=&filter=&before=&limit=: search over the SQL
 * archive (lib/store.h), newest first, keyset pagination by stream id.
 *
 * 200 {"tweets":[canonical…],"next":"<id to pass as before>"|null};
 * 400 on a bad parameter; 404 for an unknown filter; 503 (+ Retry-After) when
 * no archive is configured (--db / BIRDFEED_DB), it cannot be reached or its
 * schema is not current. Each acceptor thread opens its own store connection
 * on first use and keeps it; it is closed when the thread ends. */
#ifndef BIRDFEED_API_TWEETS_H
#define BIRDFEED_API_TWEETS_H

#include <stddef.h>

#include "http.h"

/* GET /api/tweets: one page of the archive's answer, as above. */
void api_tweets_get(http_req *req);

/* For GET /api/health: -1 with the reason in err when an archive is
 * configured and does not answer on this thread's connection; 0 when it
 * answers; 1 when no archive is configured. */
int api_tweets_db_check(http_req *req, char *err, size_t errlen);

#endif
