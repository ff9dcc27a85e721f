/* resp.h — Redis replies for unit tests, without a server: RESP bytes, as a
 * server sends them, decoded by hiredis's reader. */
#ifndef BIRDFEED_TEST_RESP_H
#define BIRDFEED_TEST_RESP_H

#include <string.h>

#include <hiredis/hiredis.h>

/* The reply bytes[0..n) (one complete RESP value) decode to, or NULL when
 * they are not one; the caller frees it (freeReplyObject). */
static inline redisReply *resp_n(const char *bytes, size_t n)
{
    redisReader *rd = redisReaderCreate();
    void *r = NULL;
    redisReaderFeed(rd, bytes, n);
    if (redisReaderGetReply(rd, &r) != REDIS_OK) r = NULL;
    redisReaderFree(rd);
    return r;
}
/* The same for a NUL-terminated string. */
static inline redisReply *resp(const char *bytes) { return resp_n(bytes, strlen(bytes)); }

#endif
