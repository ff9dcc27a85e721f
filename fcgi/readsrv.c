#include "readsrv.h"

#include <stdio.h>
#include <string.h>

#include "sentinel.h"

enum readsrv_mode readsrv_mode(const config *cfg)
{
    if (cfg->redis_read == NULL) return READSRV_MASTER;
    return strcmp(cfg->redis_read, "replica") == 0 ? READSRV_REPLICA : READSRV_URL;
}

const char *readsrv_mode_name(enum readsrv_mode m)
{
    return m == READSRV_MASTER ? "master" : m == READSRV_REPLICA ? "replica" : "url";
}

int readsrv_check(const config *cfg, char *err, size_t errlen)
{
    if (readsrv_mode(cfg) == READSRV_REPLICA && !sentinel_url_is(cfg->redis_url)) {
        snprintf(err, errlen,
                 "redis-read 'replica' needs a redis+sentinel:// redis URL (the Sentinels list the replicas); "
                 "redis is a single server: give the replica's URL instead");
        return -1;
    }
    return 0;
}

int readsrv_check_start(const config *cfg, int timeout_ms, char *err, size_t errlen)
{
    bus_peer peer;
    redisContext *c;
    if (readsrv_mode(cfg) != READSRV_URL) return 0;
    c = bus_connect_peer(cfg->redis_read, timeout_ms, &peer, err, errlen);
    if (c == NULL) return 1;
    redisFree(c);
    if (peer.role != SENTINEL_ROLE_REPLICA) {
        snprintf(err, errlen,
                 "redis-read: %s is a %s, not a replica (ROLE): point it at a replica, say 'replica', or leave "
                 "it unset to read from the master",
                 peer.addr, sentinel_role_name((enum sentinel_role_kind)peer.role));
        return -1;
    }
    return 0;
}

redisContext *readsrv_connect(const config *cfg, int timeout_ms, bus_peer *peer, char *err, size_t errlen)
{
    switch (readsrv_mode(cfg)) {
    case READSRV_REPLICA:
        return bus_connect_replica(cfg->redis_url, cfg->node, timeout_ms, peer, err, errlen);
    case READSRV_URL:
        return bus_connect_peer(cfg->redis_read, timeout_ms, peer, err, errlen);
    case READSRV_MASTER:
    default:
        return bus_connect_peer(cfg->redis_url, timeout_ms, peer, err, errlen);
    }
}
