#include "feed.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "backoff.h"
#include "filterdb.h"
#include "log.h"
#include "readsrv.h"
#include "sentinel.h"
#include "util.h"

#define BACKFILL_PAGE 1000
#define RETRY_BASE_MS 100
#define SUB_TIMEOUT_MS 1000
#define CMD_TIMEOUT_MS 2000
#define ROLE_EVERY_MS 1000        /* ROLE of the server read from, while subscribed */
#define ROLE_DEADLINE_MS 5000     /* no answer by then: the server is hung or cut off, reconnect */
#define WATCH_RETRY_MS 5000       /* a Sentinel watch that could not be opened or broke: again after this */

struct feed {
    const config *cfg;
    loop *l;
    const feed_handler *hd;
    void *arg;
    size_t seed;
    redisContext *sub;             /* subscribed to live + control */
    redisContext *cmd;             /* commands: seed, backfill, filters */
    loop_io io;                    /* sub's fd */
    loop_timer retry;
    backoff bo;
    bus_id last;                   /* the newest tweet delivered */
    int have_last;                 /* last is meaningful (seeded once) */
    int stopping;
    char key_tweets[256], key_live[256], key_control[256];
    enum readsrv_mode mode;
    bus_peer peer;                 /* where sub and cmd went */
    char last_addr[sizeof ((bus_peer *)0)->addr];   /* the server before: another one now is a failover */
    loop_timer role_tick;          /* asks ROLE every ROLE_EVERY_MS while up */
    loop_io role_io;               /* cmd's fd while a ROLE is in flight (while subscribed, cmd is
                                    * used only so: a synchronous command would read ROLE's answer) */
    uint64_t role_sent_us;         /* 0: no ROLE in flight */
    int warned_master;             /* a redis-read URL that became a master: said once */
    redisContext *watch;           /* reading the master through a Sentinel URL: one Sentinel's
                                    * +switch-master notices (bus_watch_*), kept across reconnects */
    loop_io watch_io;              /* watch's fd */
    uint64_t watch_retry_us;       /* not before then, a watch that failed is opened again */
    pthread_mutex_t mu;            /* guards `seen` (text: not atomic) */
    feed_stats seen;               /* role, server, replica_of, link (connects/failovers/up are atomics) */
    _Atomic unsigned long long connects, failovers;
    _Atomic int up;
};

/* ---- links: how the feed reaches Redis -------------------------------------- */

static void links_close(feed *f)
{
    if (f->sub) loop_io_stop(f->l, &f->io, f->sub->fd);
    if (f->cmd) loop_io_stop(f->l, &f->role_io, f->cmd->fd);
    if (f->sub) redisFree(f->sub);
    if (f->cmd) redisFree(f->cmd);
    f->sub = f->cmd = NULL;
    f->role_sent_us = 0;
    loop_timer_cancel(&f->role_tick);
}

/* What the server read from is now, for feed_stats_get. */
static void note_server(feed *f, int role, const sentinel_role *r)
{
    pthread_mutex_lock(&f->mu);
    f->seen.role = role;
    strlcpy_safe(f->seen.server, role < 0 ? "" : f->peer.addr, sizeof f->seen.server);
    f->seen.replica_of[0] = f->seen.link[0] = '\0';
    if (r && r->kind == SENTINEL_ROLE_REPLICA) {
        sentinel_addr_format(&r->master, f->seen.replica_of, sizeof f->seen.replica_of);
        strlcpy_safe(f->seen.link, r->state, sizeof f->seen.link);
    }
    pthread_mutex_unlock(&f->mu);
}

/* A redis-read URL that names a master now (promoted by a failover): fine,
 * reading goes on; say so once per promotion. */
static void note_url_role(feed *f, int role)
{
    if (f->mode != READSRV_URL) return;
    if (role == SENTINEL_ROLE_MASTER && !f->warned_master) {
        log_warn("hub.read_server_master",
                 "server=%s redis-read names a server that is a master now (a failover promoted it?); reading "
                 "on from it: tweets it shows may be lost if it fails before a replica holds them",
                 f->peer.addr);
        f->warned_master = 1;
    } else if (role == SENTINEL_ROLE_REPLICA) {
        f->warned_master = 0;
    }
}

/* Connect both links to the read server (readsrv.h) and subscribe to
 * live + control (both confirmations read). Both links must reach the same
 * server: the backfill must read the stream the subscription follows.
 * 0 ok, -1 with the reason in err (links closed by the caller). */
static int links_open(feed *f, char *err, size_t errlen)
{
    redisReply *r;
    bus_peer other;
    f->sub = readsrv_connect(f->cfg, SUB_TIMEOUT_MS, &f->peer, err, errlen);
    if (f->sub == NULL) return -1;
    f->cmd = readsrv_connect(f->cfg, CMD_TIMEOUT_MS, &other, err, errlen);
    if (f->cmd == NULL) return -1;
    if (strcmp(other.addr, f->peer.addr) != 0) {
        snprintf(err, errlen, "the subscription reached %.120s but the command link %.120s", f->peer.addr, other.addr);
        return -1;
    }
    r = redisCommand(f->sub, "SUBSCRIBE %s %s", f->key_live, f->key_control);
    if (r == NULL) goto sub_failed;
    freeReplyObject(r);
    if (redisGetReply(f->sub, (void **)&r) != REDIS_OK) goto sub_failed;   /* the second confirmation */
    freeReplyObject(r);
    return 0;
sub_failed:
    snprintf(err, errlen, "%s", f->sub->errstr);
    return -1;
}

/* ---- catching up ------------------------------------------------------------- */

/* Each tweet once, in stream order. A live message whose id is not above
 * the last one delivered was delivered already (by the seed or a backfill
 * that overlapped the subscription). This relies on the publishers' contract
 * (lib/pub.h): XADD and PUBLISH run in one Lua script, so messages arrive in
 * stream order — on the master and on replicas alike, as the script's
 * effects replicate as one transaction. A publisher that issued them as two
 * commands could be overtaken by another and have its tweet dropped here;
 * fetching the stream to guard against that would cost a Redis round trip
 * on this thread for nearly every live read. */
static void deliver(feed *f, bus_id id, const char *json, size_t len)
{
    if (f->have_last && bus_id_cmp(id, f->last) <= 0) return;   /* seen already */
    f->last = id;
    f->have_last = 1;
    f->hd->tweet(f->arg, id, json, len);
}

/* Every saved filter, to the owner. 0 ok, -1 Redis failed. */
static int reload_filters(feed *f)
{
    filterdb db = {filterdb_context_cmd, f->cmd, f->cfg->prefix, f->cfg->filters_max};
    filter *v;
    size_t n;
    char err[256];

    if (filterdb_list(&db, &v, &n, err, sizeof err) != FILTERDB_OK) {
        log_warn("hub.filters_sync_failed", "err=\"%s\"", err);
        return -1;
    }
    f->hd->filters(f->arg, v, n);
    for (size_t i = 0; i < n; i++) filter_free(&v[i]);
    free(v);
    return 0;
}

/* The stream's max-deleted-entry-id (Redis ≥ 7), 0-0 when unknown. 0 ok, -1 Redis failed. */
static int max_deleted(feed *f, bus_id *out)
{
    redisReply *r = redisCommand(f->cmd, "XINFO STREAM %s", f->key_tweets);
    out->ms = out->seq = 0;
    if (r == NULL) return -1;
    if (r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < r->elements; i += 2)
            if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, "max-deleted-entry-id") == 0 &&
                r->element[i + 1]->type == REDIS_REPLY_STRING)
                bus_id_parse(r->element[i + 1]->str, r->element[i + 1]->len, out);
    freeReplyObject(r);
    return 0;
}

/* An error reply where entries were expected (a replica loading its data,
 * LOADING; a master gone, MASTERDOWN…): a failure, with the reply in
 * cmd's errstr for went_down. Frees r. Returns -1. */
static int reply_failed(feed *f, redisReply *r, const char *what)
{
    snprintf(f->cmd->errstr, sizeof f->cmd->errstr, "%s: %s", what, r->str);
    freeReplyObject(r);
    return -1;
}

/* The first time: the newest `seed` tweets. 0 ok, -1 Redis failed. */
static int seed(feed *f)
{
    redisReply *r = redisCommand(f->cmd, "XREVRANGE %s + - COUNT %llu", f->key_tweets, (unsigned long long)f->seed);
    if (r == NULL) return -1;
    if (r->type == REDIS_REPLY_ERROR) return reply_failed(f, r, "XREVRANGE");
    if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = r->elements; i > 0; i--) {
            bus_id id;
            const char *json;
            size_t len;
            if (bus_entry_parse(r->element[i - 1], &id, &json, &len) == 0) deliver(f, id, json, len);
        }
        if (r->elements >= f->seed) f->hd->partial(f->arg);    /* older entries may exist */
        f->have_last = 1;
    }
    freeReplyObject(r);
    return 0;
}

/* After a reconnect: every tweet after the last one delivered. 0 ok, -1 Redis failed. */
static int backfill(feed *f)
{
    char start[BUS_ID_MAX + 1];
    bus_id del;
    if (max_deleted(f, &del) < 0) return -1;
    if (bus_id_cmp(del, f->last) > 0) {
        /* Trimming overtook us: what we missed may be gone. */
        f->hd->lost(f->arg, del);
        f->last = del;
    }
    bus_id cur = f->last;            /* the last entry read: tweets and any other writer's entries */
    for (;;) {
        bus_id_format(bus_id_next(cur), start);
        redisReply *r = redisCommand(f->cmd, "XRANGE %s %s + COUNT %d", f->key_tweets, start, BACKFILL_PAGE);
        size_t n;
        if (r == NULL) return -1;
        if (r->type == REDIS_REPLY_ERROR) return reply_failed(f, r, "XRANGE");
        n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        for (size_t i = 0; i < n; i++) {
            bus_id id;
            const char *json;
            size_t len;
            if (bus_entry_parse(r->element[i], &id, &json, &len) == 0) deliver(f, id, json, len);
            else if (bus_entry_id(r->element[i], &id) < 0) continue;
            if (bus_id_cmp(id, cur) > 0) cur = id;
        }
        freeReplyObject(r);
        if (n < BACKFILL_PAGE) break;
    }
    if (f->last.ms || f->last.seq)
        log_info("hub.backfilled", "last_seen=%llu-%llu", (unsigned long long)f->last.ms, (unsigned long long)f->last.seq);
    return 0;
}

/* ---- the subscription --------------------------------------------------------- */

static void on_message(feed *f, redisReply *r)
{
    const redisReply *ch, *pl;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "message") != 0)
        return;                                         /* subscribe confirmations */
    ch = r->element[1];
    pl = r->element[2];
    if (ch->type != REDIS_REPLY_STRING || pl->type != REDIS_REPLY_STRING) return;
    if (strcmp(ch->str, f->key_control) == 0) {
        log_debug("hub.control", "bytes=%zu", pl->len);
        f->hd->control(f->arg, pl->str, pl->len);
        return;
    }
    const char *sp = memchr(pl->str, ' ', pl->len);
    bus_id id;
    if (sp == NULL || bus_id_parse(pl->str, (size_t)(sp - pl->str), &id) < 0) {
        log_warn("hub.bad_message", "channel=%s bytes=%zu", ch->str, pl->len);
        return;
    }
    deliver(f, id, sp + 1, pl->len - (size_t)(sp + 1 - pl->str));
}

/* Handle the replies hiredis already holds. 0 ok, -1 the connection broke. */
static int drain(feed *f)
{
    void *reply;
    for (;;) {
        if (redisGetReplyFromReader(f->sub, &reply) != REDIS_OK) return -1;
        if (reply == NULL) return 0;
        on_message(f, reply);
        freeReplyObject(reply);
    }
}

static void went_down(feed *f, const char *why)
{
    int delay = backoff_next(&f->bo);
    links_close(f);
    note_server(f, -1, NULL);
    atomic_store_explicit(&f->up, 0, memory_order_release);
    if (!f->stopping) loop_timer_at(&f->retry, now_us() + (uint64_t)delay * 1000);
    log_warn("hub.redis_down", "err=\"%s\" retry_in_ms=%d", why, delay);
    f->hd->down(f->arg, why);
}

static void on_readable(loop *l, loop_io *io, unsigned revents)
{
    feed *f = LOOP_CONTAINER(io, feed, io);
    (void)l;
    (void)revents;
    if (redisBufferRead(f->sub) != REDIS_OK || drain(f) < 0) {
        char why[160];
        snprintf(why, sizeof why, "%s", f->sub->errstr[0] ? f->sub->errstr : "connection lost");
        went_down(f, why);
    }
}

/* ---- the master's moves, as the Sentinels announce them -------------------------- */

/* A master cut off from the Sentinels and its replicas (a network
 * partition) stays alive: the feed's links to it work and ROLE on them says
 * "master", while the Sentinels promote another server. Only the Sentinels
 * can tell, so a feed that reads the master (redis-read unset) through a
 * redis+sentinel:// URL keeps one Sentinel connection subscribed to
 * +switch-master on the loop and reconnects on a notice for its master
 * (connect asks the Sentinels for the master anew). The watch is opened
 * before the links, so a switch after the Sentinels named the master to
 * connect to is never missed (one before it is a needless reconnect). */
static int watch_wanted(const feed *f)
{
    return f->mode == READSRV_MASTER && sentinel_url_is(f->cfg->redis_url);
}

static void watch_close(feed *f)
{
    if (f->watch == NULL) return;
    loop_io_stop(f->l, &f->watch_io, f->watch->fd);
    redisFree(f->watch);
    f->watch = NULL;
}

static void on_watch_readable(loop *l, loop_io *io, unsigned revents)
{
    feed *f = LOOP_CONTAINER(io, feed, watch_io);
    char why[400];
    (void)l;
    (void)revents;
    int moved = bus_watch_read(f->watch, f->cfg->redis_url);
    if (moved < 0) {                                /* that Sentinel went away: another one later */
        log_warn("hub.failover_watch_lost", "retry_in_ms=%d", WATCH_RETRY_MS);
        watch_close(f);
        f->watch_retry_us = now_us() + WATCH_RETRY_MS * 1000ull;
    } else if (moved && f->sub) {
        snprintf(why, sizeof why, "the Sentinels switched the master away from %s", f->peer.addr);
        went_down(f, why);
    }
}

/* Open the watch when this feed wants one and has none (blocking: asks the
 * Sentinels in turn, each within SENTINEL_TIMEOUT_MS). Without it the feed
 * reads on, moving only when the server says it is no master: a failure is
 * logged and tried again WATCH_RETRY_MS later. */
static void watch_open(feed *f)
{
    char err[512];
    if (!watch_wanted(f) || f->watch || f->stopping || now_us() < f->watch_retry_us) return;
    f->watch = bus_watch_open(f->cfg->redis_url, err, sizeof err);
    if (f->watch && loop_io_start(f->l, &f->watch_io, f->watch->fd, LOOP_READ, on_watch_readable) < 0) {
        snprintf(err, sizeof err, "epoll: %s", strerror(errno));
        redisFree(f->watch);
        f->watch = NULL;
    }
    if (f->watch == NULL) {
        log_warn("hub.failover_watch_unavailable", "err=\"%s\" retry_in_ms=%d", err, WATCH_RETRY_MS);
        f->watch_retry_us = now_us() + WATCH_RETRY_MS * 1000ull;
    }
}

/* ---- the role of the server read from ------------------------------------------ */

/* What ROLE said. A server that stopped having the role this feed reads
 * from is left (the next connect finds the right one); otherwise the answer
 * only updates what health and metrics show. 0 ok, -1 went down. */
static int on_role(feed *f, const redisReply *r)
{
    sentinel_role role;
    char why[400];
    if (sentinel_parse_role(r, &role, why, sizeof why) < 0) {
        log_debug("hub.role_unreadable", "server=%s err=\"%s\"", f->peer.addr, why);
        return 0;
    }
    note_server(f, (int)role.kind, &role);
    note_url_role(f, (int)role.kind);
    if (f->mode == READSRV_REPLICA && role.kind != SENTINEL_ROLE_REPLICA) {
        snprintf(why, sizeof why, "%s is a %s now (promoted by a failover?): reading from another replica",
                 f->peer.addr, sentinel_role_name(role.kind));
    } else if (f->mode == READSRV_MASTER && role.kind != SENTINEL_ROLE_MASTER && sentinel_url_is(f->cfg->redis_url)) {
        snprintf(why, sizeof why, "%s is a %s now: the master moved", f->peer.addr, sentinel_role_name(role.kind));
    } else {
        return 0;
    }
    went_down(f, why);
    return -1;
}

static void on_role_readable(loop *l, loop_io *io, unsigned revents)
{
    feed *f = LOOP_CONTAINER(io, feed, role_io);
    void *reply = NULL;
    (void)revents;
    if (redisBufferRead(f->cmd) != REDIS_OK || redisGetReplyFromReader(f->cmd, &reply) != REDIS_OK) {
        char why[160];
        snprintf(why, sizeof why, "%s", f->cmd->errstr[0] ? f->cmd->errstr : "connection lost");
        went_down(f, why);
        return;
    }
    if (reply == NULL) return;                      /* more to come */
    loop_io_stop(l, &f->role_io, f->cmd->fd);
    f->role_sent_us = 0;
    int rc = on_role(f, reply);
    freeReplyObject(reply);
    if (rc == 0) loop_timer_at(&f->role_tick, now_us() + ROLE_EVERY_MS * 1000ull);
}

/* Every ROLE_EVERY_MS while subscribed: send ROLE on the command link and
 * read the answer when it comes (the loop never waits on Redis for it). */
static void role_tick(loop_timer *t)
{
    feed *f = LOOP_CONTAINER(t, feed, role_tick);
    int done = 0;
    char why[400];
    if (f->cmd == NULL) return;
    watch_open(f);                                  /* a watch lost meanwhile */
    if (f->role_sent_us) {                          /* the deadline of the one in flight */
        snprintf(why, sizeof why, "%s did not answer ROLE within %d ms", f->peer.addr, ROLE_DEADLINE_MS);
        went_down(f, why);
        return;
    }
    redisAppendCommand(f->cmd, "ROLE");
    while (!done)
        if (redisBufferWrite(f->cmd, &done) != REDIS_OK) {
            snprintf(why, sizeof why, "%s", f->cmd->errstr);
            went_down(f, why);
            return;
        }
    if (loop_io_start(f->l, &f->role_io, f->cmd->fd, LOOP_READ, on_role_readable) < 0) {
        snprintf(why, sizeof why, "epoll: %s", strerror(errno));
        went_down(f, why);
        return;
    }
    f->role_sent_us = now_us();
    loop_timer_at(&f->role_tick, f->role_sent_us + ROLE_DEADLINE_MS * 1000ull);
}

/* Subscribe, then fetch what came before: nothing published from the
 * subscription on is missed, and deliver() drops what arrives twice. */
static void connect_now(loop_timer *t)
{
    feed *f = LOOP_CONTAINER(t, feed, retry);
    char err[1024];
    struct timeval none = {0, 0};

    if (f->stopping) return;
    watch_open(f);
    if (links_open(f, err, sizeof err) < 0) goto fail;
    if (reload_filters(f) < 0 || (f->have_last ? backfill(f) : seed(f)) < 0) {
        snprintf(err, sizeof err, "%s", f->cmd->errstr);
        goto fail;
    }
    redisSetTimeout(f->sub, none);   /* idle reads must not time out: heartbeats come from the hub, not Redis */
    if (loop_io_start(f->l, &f->io, f->sub->fd, LOOP_READ, on_readable) < 0) {
        snprintf(err, sizeof err, "epoll: %s", strerror(errno));
        goto fail;
    }
    if (drain(f) < 0) {
        snprintf(err, sizeof err, "%s", f->sub->errstr);
        goto fail;
    }
    backoff_reset(&f->bo);
    if (f->last_addr[0] && strcmp(f->last_addr, f->peer.addr) != 0) {
        atomic_fetch_add_explicit(&f->failovers, 1, memory_order_relaxed);
        log_info("hub.failover", "from=%s to=%s role=%s", f->last_addr, f->peer.addr,
                 f->peer.role >= 0 ? sentinel_role_name((enum sentinel_role_kind)f->peer.role) : "unknown");
    }
    strlcpy_safe(f->last_addr, f->peer.addr, sizeof f->last_addr);
    note_server(f, f->peer.role, NULL);
    note_url_role(f, f->peer.role);
    atomic_fetch_add_explicit(&f->connects, 1, memory_order_relaxed);
    atomic_store_explicit(&f->up, 1, memory_order_release);
    loop_timer_at(&f->role_tick, 0);                /* the first ROLE at once: the replica's master and link */
    f->hd->up(f->arg);
    return;
fail:
    went_down(f, err);
}

/* ---- lifetime ------------------------------------------------------------------- */

feed *feed_new(const config *cfg, loop *l, size_t seed_count, const feed_handler *handler, void *arg)
{
    feed *f = xcalloc(1, sizeof *f);
    f->cfg = cfg;
    f->l = l;
    f->hd = handler;
    f->arg = arg;
    f->seed = seed_count ? seed_count : 1;
    backoff_init(&f->bo, RETRY_BASE_MS, (int)cfg->backoff_max_ms);
    f->mode = readsrv_mode(cfg);
    pthread_mutex_init(&f->mu, NULL);
    f->seen.role = -1;
    bus_key(f->key_tweets, sizeof f->key_tweets, cfg->prefix, BUS_KEY_TWEETS);
    bus_key(f->key_live, sizeof f->key_live, cfg->prefix, BUS_KEY_LIVE);
    bus_key(f->key_control, sizeof f->key_control, cfg->prefix, BUS_KEY_CONTROL);
    loop_timer_init(l, &f->retry, connect_now);
    loop_timer_init(l, &f->role_tick, role_tick);
    loop_timer_at(&f->retry, 0);
    return f;
}

void feed_stop(feed *f)
{
    f->stopping = 1;
    loop_timer_cancel(&f->retry);
    loop_timer_cancel(&f->role_tick);
}

void feed_free(feed *f)
{
    if (f == NULL) return;
    links_close(f);
    watch_close(f);
    loop_timer_remove(f->l, &f->retry);
    loop_timer_remove(f->l, &f->role_tick);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void feed_stats_get(feed *f, feed_stats *out)
{
    pthread_mutex_lock(&f->mu);
    *out = f->seen;
    pthread_mutex_unlock(&f->mu);
    out->mode = readsrv_mode_name(f->mode);
    out->connects = atomic_load_explicit(&f->connects, memory_order_relaxed);
    out->failovers = atomic_load_explicit(&f->failovers, memory_order_relaxed);
    out->up = atomic_load_explicit(&f->up, memory_order_acquire);
}

int feed_lag(const char *server, int role, const sentinel_role *master, long long *lag)
{
    if (role == SENTINEL_ROLE_MASTER) {
        *lag = 0;
        return 0;
    }
    if (role != SENTINEL_ROLE_REPLICA || master == NULL || master->kind != SENTINEL_ROLE_MASTER) return -1;
    for (size_t i = 0; i < master->nreplicas; i++) {
        char addr[300];
        if (strcmp(sentinel_addr_format(&master->replicas[i].addr, addr, sizeof addr), server) != 0) continue;
        *lag = master->offset > master->replicas[i].offset ? master->offset - master->replicas[i].offset : 0;
        return 0;
    }
    return -1;
}
