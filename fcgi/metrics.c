#include "metrics.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "bus.h"
#include "counters.h"
#include "filterset.h"
#include "hub.h"
#include "log.h"
#include "prom.h"
#include "redisconn.h"
#include "sentinel.h"
#include "util.h"

#define SCAN_COUNT 1000
#define SCAN_KEYS_MAX 100000       /* processes looked at, at most */
#define KEY_ARCHIVE "archive:"     /* birdfeed archive's progress: <prefix>archive:<group> */

/* ---- what a process publishes, and how the deployment view sums it --------- */

/* Published fields: the acceptors' counters (counters.h, same order), the
 * hub's and the feed's, then gauges. */
enum {
    HUB_STREAMS_OPENED = COUNTERS,
    HUB_EVENTS_SENT,
    HUB_BYTES_SENT,
    HUB_SLOW_CLIENTS,
    HUB_HEARTBEATS,
    HUB_REDIS_RECONNECTS,
    FEED_FAILOVERS,
    GAUGE_STREAMS_OPEN,
    GAUGE_REDIS_SUBSCRIBED,
    GAUGE_MATCHER_FILTERS,
    GAUGE_RING_EVENTS,
    PROC_FIELDS
};

/* One line per published field: the hash field, the metric it feeds (a
 * label pair distinguishes fields that share one), and whether the view
 * takes the largest value (figures every process holds alike) or the sum. */
struct metric_def {
    const char *field;
    const char *name;
    enum prom_type type;
    int largest;
    const char *label, *value;
    const char *help;
};

#define COUNTER(f, n, l, v, h) {f, n, PROM_COUNTER, 0, l, v, h}
#define GAUGE(f, n, largest, h) {f, n, PROM_GAUGE, largest, NULL, NULL, h}
static const struct metric_def proc_defs[PROC_FIELDS] = {
    [HUB_STREAMS_OPENED] = COUNTER("streams_opened", "birdfeed_streams_opened_total", NULL, NULL,
                                   "SSE streams accepted (200, handed to the event loop)."),
    [COUNTER_STREAMS_REFUSED_FULL] = COUNTER("streams_refused_full", "birdfeed_streams_refused_total", "reason", "full",
                                             "SSE streams refused (answered with only retry:): the process "
                                             "had --max-clients streams (full) or Redis was unreachable (redis)."),
    [COUNTER_STREAMS_REFUSED_REDIS] = COUNTER("streams_refused_redis", "birdfeed_streams_refused_total", "reason",
                                              "redis", NULL),
    [HUB_EVENTS_SENT] = COUNTER("events_sent", "birdfeed_events_sent_total", NULL, NULL,
                                "Tweet events queued to streams for sending (preload, resume and live); a stream "
                                "cut off drops what it had not written yet and resumes from its Last-Event-ID."),
    [HUB_BYTES_SENT] = COUNTER("bytes_sent", "birdfeed_bytes_sent_total", NULL, NULL,
                               "Bytes written to stream connections (SSE text and FastCGI framing)."),
    [HUB_SLOW_CLIENTS] = COUNTER("slow_clients", "birdfeed_slow_clients_total", NULL, NULL,
                                 "Streams cut off because they owed more than --client-buffer bytes."),
    [HUB_HEARTBEATS] = COUNTER("heartbeats", "birdfeed_heartbeats_sent_total", NULL, NULL,
                               "Heartbeat comments (: ping) sent to quiet streams."),
    [HUB_REDIS_RECONNECTS] = COUNTER("redis_reconnects", "birdfeed_redis_reconnects_total", NULL, NULL,
                                     "Times a responder's Redis subscription was made again after it was lost."),
    /* one sample per process (fold_feed), not summed */
    [FEED_FAILOVERS] = {"feed_failovers", NULL, PROM_COUNTER, 0, NULL, NULL, NULL},
    [COUNTER_HTTP_1XX] = COUNTER("http_1xx", "birdfeed_http_responses_total", "code", "1xx",
                                 "HTTP answers other than open streams (REST calls, errors, refused streams), "
                                 "by status class."),
    [COUNTER_HTTP_2XX] = COUNTER("http_2xx", "birdfeed_http_responses_total", "code", "2xx", NULL),
    [COUNTER_HTTP_3XX] = COUNTER("http_3xx", "birdfeed_http_responses_total", "code", "3xx", NULL),
    [COUNTER_HTTP_4XX] = COUNTER("http_4xx", "birdfeed_http_responses_total", "code", "4xx", NULL),
    [COUNTER_HTTP_5XX] = COUNTER("http_5xx", "birdfeed_http_responses_total", "code", "5xx", NULL),
    [GAUGE_STREAMS_OPEN] = GAUGE("streams_open", "birdfeed_streams_open", 0, "SSE streams open now."),
    [GAUGE_REDIS_SUBSCRIBED] = GAUGE("redis_subscribed", "birdfeed_redis_subscribed_processes", 0,
                                     "Responder processes subscribed to Redis now (fewer than "
                                     "birdfeed_responder_processes: some are reconnecting)."),
    [GAUGE_MATCHER_FILTERS] = GAUGE("matcher_filters", "birdfeed_matcher_filters", 1,
                                    "Filters compiled in a responder's matcher (saved filters and live ad-hoc ?q= "
                                    "filters), the largest over responder processes."),
    [GAUGE_RING_EVENTS] = GAUGE("ring_events", "birdfeed_ring_events", 1,
                                "Recent events a responder holds in memory for preloads and resumes, the largest "
                                "over responder processes."),
};

/* Text fields beside the numbers: where the process's feed reads from. */
enum { TEXT_FEED_SERVER, TEXT_FEED_ROLE, PROC_TEXTS };
static const char *const proc_texts[PROC_TEXTS] = {"feed_server", "feed_role"};

/* What `birdfeed ingest` and `birdfeed pull` publish under
 * <prefix>metrics:ingest:<node>:<pid> (the fields of report_stats in
 * cli/intake.c). */
static const struct metric_def ingest_defs[] = {
    COUNTER("ingested", "birdfeed_ingest_tweets_total", NULL, NULL,
            "Tweets published into Redis by running birdfeed ingest processes."),
    COUNTER("rejected", "birdfeed_ingest_rejected_total", NULL, NULL,
            "Input lines running birdfeed ingest processes rejected (invalid JSON, not a tweet, bad UTF-8…)."),
    COUNTER("reconnects", "birdfeed_ingest_redis_reconnects_total", NULL, NULL,
            "Redis reconnects of running birdfeed ingest processes."),
    COUNTER("skipped", "birdfeed_ingest_skipped_total", NULL, NULL,
            "Input lines running birdfeed ingest processes skipped as not posts (deletes, likes, identity events…)."),
};

/* ---- publication ------------------------------------------------------------- */

/* From the publisher thread, before each write: arg is the process context. */
static void gather(void *arg, unsigned long long *v)
{
    const proc *p = arg;
    hub_stats st;
    feed_stats fs;
    for (int i = 0; i < COUNTERS; i++) v[i] = counters_get(p->counters, (enum counter)i);
    hub_stats_get(p->hub, &st);
    feed_stats_get(hub_feed(p->hub), &fs);
    v[HUB_STREAMS_OPENED] = st.streams_opened;
    v[HUB_EVENTS_SENT] = st.events_queued;
    v[HUB_BYTES_SENT] = st.bytes_written;
    v[HUB_SLOW_CLIENTS] = st.slow_cutoffs;
    v[HUB_HEARTBEATS] = st.heartbeats;
    v[HUB_REDIS_RECONNECTS] = fs.connects > 0 ? fs.connects - 1 : 0;   /* the first is no reconnect */
    v[FEED_FAILOVERS] = fs.failovers;
    v[GAUGE_STREAMS_OPEN] = hub_streams(p->hub);
    v[GAUGE_REDIS_SUBSCRIBED] = fs.up ? 1 : 0;
    v[GAUGE_MATCHER_FILTERS] = filterset_count(p->filters);
    v[GAUGE_RING_EVENTS] = st.ring_frames;
}

/* The feed's server and its role, from the publisher thread. */
static void gather_texts(void *arg, char (*t)[STATPUB_TEXT_MAX])
{
    const proc *p = arg;
    feed_stats fs;
    feed_stats_get(hub_feed(p->hub), &fs);
    strlcpy_safe(t[TEXT_FEED_SERVER], fs.server, STATPUB_TEXT_MAX);
    strlcpy_safe(t[TEXT_FEED_ROLE], fs.role >= 0 ? sentinel_role_name((enum sentinel_role_kind)fs.role) : "",
                 STATPUB_TEXT_MAX);
}

statpub *metrics_publish_start(const proc *p)
{
    const char *fields[PROC_FIELDS];
    char key[512];
    statpub *sp;
    for (int i = 0; i < PROC_FIELDS; i++) fields[i] = proc_defs[i].field;
    statpub_key(key, sizeof key, p->cfg->prefix, BUS_KEY_METRICS_PROC, p->cfg->node);
    sp = statpub_start(p->cfg->redis_url, key, fields, PROC_FIELDS, gather, (void *)p);
    statpub_texts(sp, proc_texts, PROC_TEXTS, gather_texts);
    return sp;
}

/* ---- GET /api/metrics ----------------------------------------------------------- */

/* pattern = prefix (glob characters escaped) + kind + "*". */
static void key_pattern(buf *out, const char *prefix, const char *kind)
{
    for (const char *p = prefix; *p; p++) {
        if (strchr("*?[]\\", *p)) buf_appendc(out, '\\');
        buf_appendc(out, *p);
    }
    buf_appends(out, kind);
    buf_appendc(out, '*');
}

struct keys {
    char **k;
    size_t n, cap;
};

static void keys_free(struct keys *ks)
{
    for (size_t i = 0; i < ks->n; i++) free(ks->k[i]);
    free(ks->k);
    memset(ks, 0, sizeof *ks);
}

/* Every key matching pattern (SCAN). 0 ok, -1 Redis failed (why). */
static int scan_keys(http_req *req, const char *pattern, struct keys *ks, char *why, size_t whylen)
{
    char cursor[32] = "0";
    do {
        redisReply *r = redisconn_command(http_redis(req), "SCAN %s MATCH %s COUNT %d", cursor, pattern, SCAN_COUNT);
        if (r == NULL) {
            snprintf(why, whylen, "%s", redisconn_error(http_redis(req)));
            return -1;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            snprintf(why, whylen, "Redis: SCAN: %s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements && ks->n < SCAN_KEYS_MAX; i++) {
            const redisReply *k = r->element[1]->element[i];
            if (k->type != REDIS_REPLY_STRING) continue;
            if (ks->n == ks->cap) {
                ks->cap = ks->cap ? ks->cap * 2 : 16;
                ks->k = xrealloc(ks->k, ks->cap * sizeof *ks->k);
            }
            ks->k[ks->n++] = xstrndup(k->str, k->len);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static void declare(prom *p, const char *name, enum prom_type type, const char *help)
{
    char err[160];
    if (prom_declare(p, name, type, help, err, sizeof err) < 0) log_error("metrics.bad_family", "err=\"%s\"", err);
}

static void sample(prom *p, const char *name, const char *label, const char *value, double v, int largest)
{
    const char *labels[] = {label, value, NULL};
    char err[160];
    int rc = largest ? prom_max(p, name, label ? labels : NULL, v, err, sizeof err)
                     : prom_add(p, name, label ? labels : NULL, v, err, sizeof err);
    if (rc < 0) log_error("metrics.bad_sample", "err=\"%s\"", err);
}

static void declare_defs(prom *p, const struct metric_def *defs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (defs[i].help) declare(p, defs[i].name, defs[i].type, defs[i].help);
}

/* Fold one process's HGETALL reply into p. Returns 1 when it held figures
 * (0: the hash expired meanwhile). Unknown fields (a newer version's) and
 * values that are not numbers are skipped. */
static int fold_hash(prom *p, const redisReply *r, const struct metric_def *defs, size_t ndefs, const char *key)
{
    int any = 0;
    if (r->type != REDIS_REPLY_ARRAY) return 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        long long n;
        const char *why;
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        any = 1;
        for (size_t d = 0; d < ndefs; d++) {
            if (strcmp(defs[d].field, f->str) != 0) continue;
            if (defs[d].name == NULL) break;            /* folded per process elsewhere */
            if (parse_ll(v->str, 0, LLONG_MAX, &n, &why) < 0) {
                log_warn("metrics.bad_value", "key=%s field=%s why=\"%s\"", key, f->str, why);
                break;
            }
            sample(p, defs[d].name, defs[d].label, defs[d].value, (double)n, defs[d].largest);
            break;
        }
    }
    return any;
}

/* A field of a flat [name, value, …] reply (XINFO). */
static const redisReply *info_field(const redisReply *r, const char *name)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, name) == 0)
            return r->element[i + 1];
    return NULL;
}

static int info_int(const redisReply *r, const char *name, long long *out)
{
    const redisReply *v = info_field(r, name);
    if (v == NULL || v->type != REDIS_REPLY_INTEGER) return -1;
    *out = v->integer;
    return 0;
}

/* Figures of the deployment itself, read from Redis. */
static const struct {
    const char *name;
    enum prom_type type;
    const char *help;
} deployment_defs[] = {
    {"birdfeed_responder_processes", PROM_GAUGE,
     "Responder processes whose figures are included (each publishes every 2 s; a silent one drops out after 6 s)."},
    {"birdfeed_stream_entries", PROM_GAUGE, "Tweets in the Redis stream (the history)."},
    {"birdfeed_stream_entries_added_total", PROM_COUNTER, "Tweets ever added to the Redis stream (Redis 7 or later)."},
    {"birdfeed_stream_newest_age_seconds", PROM_GAUGE,
     "Seconds since the newest stream entry's id was made: how long since the last tweet was ingested."},
    {"birdfeed_archive_lag_entries", PROM_GAUGE, "Stream entries a consumer group (birdfeed archive) has not read yet."},
    {"birdfeed_archive_pending_entries", PROM_GAUGE,
     "Stream entries a consumer group has read but not acknowledged (not yet committed to SQL)."},
    {"birdfeed_archive_archived_total", PROM_COUNTER,
     "Tweets a birdfeed archive stored since it started, by consumer group."},
    {"birdfeed_archive_lost_total", PROM_COUNTER,
     "Stream entries trimmed away before the archive stored them, since it started, by consumer group."},
    {"birdfeed_archive_rejected_total", PROM_COUNTER,
     "Stream entries the archive could not store (not a tweet), since it started, by consumer group."},
    {"birdfeed_archive_duplicates_total", PROM_COUNTER,
     "Stream entries the archive skipped because their tweet id was archived under another stream id (published again "
     "after a failover), since it started, by consumer group."},
    {"birdfeed_archive_redelivered_total", PROM_COUNTER,
     "Stream entries the archive skipped because their stream id was archived already (delivered again after a "
     "crash), since it started, by consumer group."},
    {"birdfeed_archive_report_age_seconds", PROM_GAUGE,
     "Seconds since a birdfeed archive last wrote its progress (every second while it runs), by consumer group."},
    {"birdfeed_filters_saved", PROM_GAUGE, "Saved filters in Redis."},
    {"birdfeed_ingest_processes", PROM_GAUGE, "birdfeed ingest processes running now."},
    /* per responder process, labelled process="<host>:<pid>": where its feed
     * reads from, its failovers, and that replica's lag */
    {"birdfeed_feed_server_info", PROM_GAUGE,
     "1 per responder process whose feed is subscribed: the Redis server it reads from (server) and what that "
     "server is (role: master or replica)."},
    {"birdfeed_feed_failovers_total", PROM_COUNTER,
     "Times a responder process's feed reconnected to another Redis server than before (a failover, or a replica "
     "chosen anew)."},
    {"birdfeed_feed_replica_lag_bytes", PROM_GAUGE,
     "How far the replica a responder process reads from is behind the master: the master's replication offset "
     "minus the offset the replica last acknowledged (once a second); 0 when it reads from the master."},
};

/* A field of an HGETALL reply, or NULL. */
static const redisReply *hash_field(const redisReply *r, const char *name)
{
    if (r->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, name) == 0 &&
            r->element[i + 1]->type == REDIS_REPLY_STRING)
            return r->element[i + 1];
    return NULL;
}

/* One process's feed figures (its HGETALL reply r) into p; master is the
 * master's ROLE answer (NULL: not known). */
static void fold_feed(prom *p, const redisReply *r, const char *process, const sentinel_role *master)
{
    const redisReply *server = hash_field(r, proc_texts[TEXT_FEED_SERVER]);
    const redisReply *role = hash_field(r, proc_texts[TEXT_FEED_ROLE]);
    const redisReply *fo = hash_field(r, proc_defs[FEED_FAILOVERS].field);
    const char *proc_label[] = {"process", process, NULL};
    long long n, lag;
    const char *why;
    char err[160];
    if (fo && parse_ll(fo->str, 0, LLONG_MAX, &n, &why) == 0)
        prom_add(p, "birdfeed_feed_failovers_total", proc_label, (double)n, err, sizeof err);
    if (server == NULL || server->len == 0 || role == NULL || role->len == 0) return;
    const char *info[] = {"process", process, "role", role->str, "server", server->str, NULL};
    prom_add(p, "birdfeed_feed_server_info", info, 1, err, sizeof err);
    int kind = strcmp(role->str, "master") == 0 ? SENTINEL_ROLE_MASTER
             : strcmp(role->str, "replica") == 0 ? SENTINEL_ROLE_REPLICA : -1;
    if (feed_lag(server->str, kind, master, &lag) == 0) {
        const char *lag_labels[] = {"process", process, "server", server->str, NULL};
        prom_add(p, "birdfeed_feed_replica_lag_bytes", lag_labels, (double)lag, err, sizeof err);
    }
}

static void declare_deployment(prom *p)
{
    for (size_t i = 0; i < ARRAY_LEN(deployment_defs); i++)
        declare(p, deployment_defs[i].name, deployment_defs[i].type, deployment_defs[i].help);
}

/* Commands after the HGETALLs, in the order they are sent. */
enum { Q_TIME, Q_XINFO_STREAM, Q_XINFO_GROUPS, Q_HLEN, Q_ROLE, Q_COUNT };

/* Redis's clock (TIME) in ms, or -1. */
static double redis_now_ms(const redisReply *t)
{
    if (t->type != REDIS_REPLY_ARRAY || t->elements != 2 || t->element[0]->type != REDIS_REPLY_STRING ||
        t->element[1]->type != REDIS_REPLY_STRING)
        return -1;
    return strtod(t->element[0]->str, NULL) * 1000.0 + strtod(t->element[1]->str, NULL) / 1000.0;
}

/* One archiver's progress hash (<prefix>archive:<group>, cli/archive.c). */
static void fold_archive(prom *p, const redisReply *r, const char *group, double now_ms)
{
    static const struct {
        const char *field, *name;
    } counts[] = {
        {"archived", "birdfeed_archive_archived_total"},
        {"lost", "birdfeed_archive_lost_total"},
        {"rejected", "birdfeed_archive_rejected_total"},
        {"duplicates", "birdfeed_archive_duplicates_total"},
        {"again", "birdfeed_archive_redelivered_total"},
    };
    if (r->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        long long n;
        const char *why;
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            parse_ll(v->str, 0, LLONG_MAX, &n, &why) < 0)
            continue;
        for (size_t k = 0; k < ARRAY_LEN(counts); k++)
            if (strcmp(f->str, counts[k].field) == 0) sample(p, counts[k].name, "group", group, (double)n, 0);
        if (strcmp(f->str, "updated_ms") == 0 && now_ms >= 0) {
            double age = floor(now_ms - (double)n) / 1000.0;
            sample(p, "birdfeed_archive_report_age_seconds", "group", group, age > 0 ? age : 0, 0);
        }
    }
}

static void fold_deployment(prom *p, redisReply **q)
{
    const redisReply *st = q[Q_XINFO_STREAM], *groups = q[Q_XINFO_GROUPS];
    double now_ms = redis_now_ms(q[Q_TIME]);
    long long n;

    if (st->type == REDIS_REPLY_ARRAY) {
        const redisReply *last = info_field(st, "last-generated-id");
        bus_id id;
        if (info_int(st, "length", &n) == 0) sample(p, "birdfeed_stream_entries", NULL, NULL, (double)n, 0);
        if (info_int(st, "entries-added", &n) == 0)
            sample(p, "birdfeed_stream_entries_added_total", NULL, NULL, (double)n, 0);
        if (last && last->type == REDIS_REPLY_STRING && bus_id_parse(last->str, last->len, &id) == 0 &&
            (id.ms || id.seq) && now_ms >= 0) {
            double age = floor(now_ms - (double)id.ms) / 1000.0;   /* ms resolution, as the ids */
            sample(p, "birdfeed_stream_newest_age_seconds", NULL, NULL, age > 0 ? age : 0, 0);
        }
    } else {
        sample(p, "birdfeed_stream_entries", NULL, NULL, 0, 0);   /* no stream yet */
    }
    if (groups->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < groups->elements; i++) {
            const redisReply *g = groups->element[i], *name = info_field(g, "name");
            if (name == NULL || name->type != REDIS_REPLY_STRING) continue;
            if (info_int(g, "lag", &n) == 0)   /* nil when Redis cannot tell */
                sample(p, "birdfeed_archive_lag_entries", "group", name->str, (double)n, 0);
            if (info_int(g, "pending", &n) == 0)
                sample(p, "birdfeed_archive_pending_entries", "group", name->str, (double)n, 0);
        }
    if (q[Q_HLEN]->type == REDIS_REPLY_INTEGER)
        sample(p, "birdfeed_filters_saved", NULL, NULL, (double)q[Q_HLEN]->integer, 0);
}

void metrics_get(http_req *req)
{
    const config *cfg = http_config(req);
    struct keys procs = {0}, ingests = {0}, archives = {0};
    buf pat = BUF_INIT, body = BUF_INIT;
    char k_tweets[256], k_filters[256];
    redisReply **rep = NULL;
    size_t nrep = 0, nproc = 0, ningest = 0;
    redisContext *c;
    prom *p = prom_new();
    sentinel_role *master = NULL;
    char why[300];

    key_pattern(&pat, cfg->prefix, BUS_KEY_METRICS_PROC);
    if (scan_keys(req, pat.data, &procs, why, sizeof why) < 0) goto redis_failed;
    buf_reset(&pat);
    key_pattern(&pat, cfg->prefix, BUS_KEY_METRICS_INGEST);
    if (scan_keys(req, pat.data, &ingests, why, sizeof why) < 0) goto redis_failed;
    buf_reset(&pat);
    key_pattern(&pat, cfg->prefix, KEY_ARCHIVE);
    if (scan_keys(req, pat.data, &archives, why, sizeof why) < 0) goto redis_failed;
    if ((c = redisconn_get(http_redis(req))) == NULL) {
        snprintf(why, sizeof why, "%s", redisconn_error(http_redis(req)));
        goto redis_failed;
    }

    /* One pipeline: every process's hash, then the deployment's figures. */
    bus_key(k_tweets, sizeof k_tweets, cfg->prefix, BUS_KEY_TWEETS);
    bus_key(k_filters, sizeof k_filters, cfg->prefix, BUS_KEY_FILTERS);
    for (size_t i = 0; i < procs.n; i++) redisAppendCommand(c, "HGETALL %s", procs.k[i]);
    for (size_t i = 0; i < ingests.n; i++) redisAppendCommand(c, "HGETALL %s", ingests.k[i]);
    for (size_t i = 0; i < archives.n; i++) redisAppendCommand(c, "HGETALL %s", archives.k[i]);
    redisAppendCommand(c, "TIME");
    redisAppendCommand(c, "XINFO STREAM %s", k_tweets);
    redisAppendCommand(c, "XINFO GROUPS %s", k_tweets);
    redisAppendCommand(c, "HLEN %s", k_filters);
    redisAppendCommand(c, "ROLE");
    size_t nhash = procs.n + ingests.n + archives.n;
    rep = xcalloc(nhash + Q_COUNT, sizeof *rep);
    for (nrep = 0; nrep < nhash + Q_COUNT; nrep++)
        if (redisGetReply(c, (void **)&rep[nrep]) != REDIS_OK) {
            snprintf(why, sizeof why, "Redis: %s", c->errstr);
            goto redis_failed;
        }

    declare_defs(p, proc_defs, PROC_FIELDS);
    declare_deployment(p);
    declare_defs(p, ingest_defs, ARRAY_LEN(ingest_defs));
    for (size_t i = 0; i < procs.n; i++) nproc += (size_t)fold_hash(p, rep[i], proc_defs, PROC_FIELDS, procs.k[i]);
    {
        char why_role[160];
        size_t klen = strlen(cfg->prefix) + strlen(BUS_KEY_METRICS_PROC);
        master = xmalloc(sizeof *master);
        if (sentinel_parse_role(rep[nhash + Q_ROLE], master, why_role, sizeof why_role) < 0) {
            free(master);
            master = NULL;
        }
        for (size_t i = 0; i < procs.n; i++)
            if (strlen(procs.k[i]) > klen) fold_feed(p, rep[i], procs.k[i] + klen, master);
    }
    for (size_t i = 0; i < ingests.n; i++)
        ningest += (size_t)fold_hash(p, rep[procs.n + i], ingest_defs, ARRAY_LEN(ingest_defs), ingests.k[i]);
    sample(p, "birdfeed_responder_processes", NULL, NULL, (double)nproc, 0);
    sample(p, "birdfeed_ingest_processes", NULL, NULL, (double)ningest, 0);
    fold_deployment(p, rep + nhash);
    size_t plen = strlen(cfg->prefix) + strlen(KEY_ARCHIVE);
    for (size_t i = 0; i < archives.n; i++)
        if (strlen(archives.k[i]) > plen)
            fold_archive(p, rep[procs.n + ingests.n + i], archives.k[i] + plen, redis_now_ms(rep[nhash + Q_TIME]));

    prom_write(p, &body);
    http_reply(req, 200, PROM_CONTENT_TYPE, "Cache-Control: no-store\r\n", body.data, body.len);
    goto done;
redis_failed:
    log_warn("metrics.redis_failed", "err=\"%s\"", why);
    http_error_headers(req, 503, "Retry-After: 2\r\n", "redis_unavailable", "%s", why);
done:
    for (size_t i = 0; i < nrep; i++) freeReplyObject(rep[i]);
    free(rep);
    keys_free(&procs);
    keys_free(&ingests);
    keys_free(&archives);
    buf_free(&pat);
    buf_free(&body);
    prom_free(p);
    free(master);
}
