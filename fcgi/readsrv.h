/* readsrv — where a responder reads from: the `redis-read` setting.
 *
 * The hub's feed (subscription to live + control, seed, backfill) and the
 * acceptors' history reads (preload and resume: XRANGE/XREVRANGE) go to the
 * read server; REST writes, filters, health and metrics go to the master
 * (`redis`). Three modes:
 *   unset      the master itself (what `redis` names), as with one server;
 *   replica    a replica the Sentinels of the redis+sentinel:// `redis` URL
 *              list as up and in sync, those on this `node` first, chosen
 *              anew on every connect (the one before may be gone or promoted);
 *              none usable: the connect fails and the caller retries later —
 *              it never falls back to the master, whose tweets may die with it;
 *   URL        that one server (redis:// or unix:): refused at start when it
 *              is a master; if a failover promotes it later, reading goes on.
 * Connections are made with lib/bus.h, so AUTH, SELECT and ROLE are done on
 * every (re)connect. */
#ifndef BIRDFEED_READSRV_H
#define BIRDFEED_READSRV_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "bus.h"
#include "config.h"

enum readsrv_mode { READSRV_MASTER, READSRV_REPLICA, READSRV_URL };

/* cfg's mode. */
enum readsrv_mode readsrv_mode(const config *cfg);
/* "master", "replica" or "url". */
const char *readsrv_mode_name(enum readsrv_mode m);

/* Does cfg's redis-read go with the rest of cfg ('replica' needs a
 * redis+sentinel:// redis URL)? 0 yes; -1 with a one-line reason in err. No I/O. */
int readsrv_check(const config *cfg, char *err, size_t errlen);
/* At start, for a redis-read URL: ask the server's ROLE. 0 it is a replica,
 * or there is no URL to check; 1 it could not be asked (unreachable: the
 * reason in err; the caller starts anyway and reading waits for it);
 * -1 it is a master or a Sentinel (refused: the reason in err). I/O,
 * timeout_ms per step. */
int readsrv_check_start(const config *cfg, int timeout_ms, char *err, size_t errlen);

/* Connect to the read server (with a connect and command timeout of
 * timeout_ms): where it went and what ROLE says it is into *peer. NULL with
 * the reason in err (for 'replica': no usable replica, with each one's
 * reason). The caller frees the context with redisFree. Any thread. */
redisContext *readsrv_connect(const config *cfg, int timeout_ms, bus_peer *peer, char *err, size_t errlen);

#endif
