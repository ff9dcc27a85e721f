/* redisconn — one acceptor thread's Redis command connections: made on
 * first use, made again after an error, so a Redis restart costs one failed
 * request at most. REST handlers, filters, health and metrics write and read
 * through the master's (`redis`); a stream's history (preload and resume)
 * is read through redisconn_read, from the read server (readsrv.h: the
 * master's connection itself when redis-read is unset, else a second one).
 * The hub's subscription is the feed's own (feed.h).
 *
 * One thread: each acceptor thread has its own (in its http_ctx). */
#ifndef BIRDFEED_REDISCONN_H
#define BIRDFEED_REDISCONN_H

#include <hiredis/hiredis.h>

#include "config.h"
#include "filterdb.h"

typedef struct redisconn redisconn;

/* Not connected yet; cfg (the Redis URL, prefix, filters-max) must outlive
 * it. Never NULL. */
redisconn *redisconn_new(const config *cfg);
void redisconn_free(redisconn *rc);                 /* rc may be NULL */

/* The connection, connected (or connected again after an error) now. NULL
 * when Redis cannot be reached; the reason is in redisconn_error. */
redisContext *redisconn_get(redisconn *rc);
/* Run one command (hiredis format: pass values with %s/%b), connecting
 * again and retrying once if the connection had dropped. Returns the reply
 * (the caller frees it with freeReplyObject; it may be a
 * REDIS_REPLY_ERROR), or NULL when Redis is unreachable (redisconn_error). */
redisReply *redisconn_command(redisconn *rc, const char *fmt, ...);
/* Like redisconn_command, on the read server (for history reads only:
 * XRANGE, XREVRANGE). With redis-read 'replica', the server's ROLE is asked
 * again at most once a second and a server that is no longer a replica is
 * left for another; an error reply (LOADING, MASTERDOWN…) drops the
 * connection, so the next read connects anew. */
redisReply *redisconn_read(redisconn *rc, const char *fmt, ...);
/* Why the last connect or command failed ("Redis unreachable" when nothing
 * is known). Owned by rc. */
const char *redisconn_error(const redisconn *rc);

/* The saved-filter store (lib/filterdb.h) over this connection: reads are
 * retried once after a reconnect, writes never (they may have applied).
 * Valid while rc is. */
filterdb redisconn_filterdb(redisconn *rc);

#endif
