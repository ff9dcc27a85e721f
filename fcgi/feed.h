/* feed — a responder process's subscription to Redis: every tweet and every
 * filter notice, in order, each once, across Redis restarts.
 *
 * It subscribes to `live` and `control` (lib/bus.h). The first time, it
 * seeds its owner with the newest tweets of the stream; after each
 * reconnect it first reloads the saved filters (notices may have been
 * missed), then backfills every tweet published while it was away
 * (XRANGE from the last id it delivered), so nothing is lost or repeated.
 * When trimming overtook it (the stream's max-deleted-entry-id is past the
 * last id delivered), it reports the loss instead. Reconnect delays come
 * from lib/backoff.h (doubling to backoff-max-ms, with jitter).
 *
 * How it connects is in one place (links_open in feed.c): the read server
 * (readsrv.h: the master, a replica the Sentinels list, or a replica's URL),
 * the subscription and a second connection for commands, both to that one
 * server. While subscribed it asks that server's ROLE every second without
 * waiting for the answer on the loop: a replica read from that was promoted
 * (or, reading the master through Sentinel, a master that was demoted) is
 * left for the right one; one that does not answer within 5 s is left too
 * (hung, or cut off). A reconnect that lands on another server than before
 * counts as a failover (feed_stats).
 *
 * Threads: everything runs on the loop's thread, except feed_stats_get. The
 * Redis calls are blocking with timeouts (1 s subscribe, 2 s commands), as
 * the subscription is made again only after a failure. */
#ifndef BIRDFEED_FEED_H
#define BIRDFEED_FEED_H

#include <stddef.h>

#include "bus.h"
#include "config.h"
#include "filter.h"
#include "loop.h"
#include "sentinel.h"

typedef struct feed feed;

/* What the feed tells its owner, on the loop's thread. arg is the owner's. */
typedef struct feed_handler {
    /* A tweet newer than every one before (seed, backfill or live). json is
     * borrowed for the call. */
    void (*tweet)(void *arg, bus_id id, const char *json, size_t len);
    /* A message on `control` (a filter notice, lib/filter.h). */
    void (*control)(void *arg, const char *msg, size_t len);
    /* After (re)subscribing: every saved filter, v[0..n) (borrowed). */
    void (*filters)(void *arg, const filter *v, size_t n);
    /* After the first seed: the stream holds tweets older than those seeded. */
    void (*partial)(void *arg);
    /* Tweets up to floor were trimmed from the stream before the feed could
     * read them: some are lost; later tweets follow as usual. */
    void (*lost)(void *arg, bus_id floor);
    /* Subscribed and caught up. */
    void (*up)(void *arg);
    /* The subscription is gone (why: a short reason); the feed reconnects. */
    void (*down)(void *arg, const char *why);
} feed_handler;

/* A feed for cfg's Redis and prefix (cfg must outlive it) that seeds at most
 * seed tweets. It first connects from the loop, at once. handler and arg
 * must outlive it. Never NULL. */
feed *feed_new(const config *cfg, loop *l, size_t seed, const feed_handler *handler, void *arg);
/* Close the connections and free everything. f may be NULL. */
void feed_free(feed *f);
/* Shutting down: keep the subscription while it lasts, but never reconnect. */
void feed_stop(feed *f);

typedef struct feed_stats {
    unsigned long long connects;    /* successful (re)subscriptions */
    unsigned long long failovers;   /* of those, the ones that reached another server than the one before */
    int up;                         /* 1 while subscribed and caught up */
    const char *mode;               /* redis-read: "master", "replica" or "url" (readsrv.h) */
    int role;                       /* enum sentinel_role_kind of the server read from; -1 while not connected */
    char server[300];               /* its address, "" while not connected */
    char replica_of[300];           /* a replica's master, as its last ROLE said ("" unknown) */
    char link[24];                  /* a replica's link to its master ("connected", "connect", "sync"…) */
} feed_stats;
/* The feed's counters and server into *out, for metrics and health. Any
 * thread; each value is read atomically, the text under a lock (the set is
 * not one snapshot). */
void feed_stats_get(feed *f, feed_stats *out);

/* The replication lag of what the feed reads, from the master's answer to
 * ROLE (master): 0 for a server that is a master itself; for a replica at
 * server, the master's replication offset minus the offset that replica
 * last acknowledged (replicas acknowledge once a second, so a busy one
 * shows up to a second of writes). 0 ok, with *lag in bytes; -1 unknown
 * (master is not a master's answer, or does not list that replica: it is
 * not connected to it). No I/O. */
int feed_lag(const char *server, int role, const sentinel_role *master, long long *lag);

#endif
