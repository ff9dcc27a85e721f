/* birdfeed archive — copy the Redis stream into the SQL archive (lib/store.h).
 *
 * Reads `<prefix>tweets` with a consumer group: first this consumer's own
 * pending entries (delivered before a crash, never acknowledged), then new
 * ones. Each batch is stored in one transaction and acknowledged (XACK) only
 * after the commit; a row already archived is left alone. So a crash at any
 * point loses nothing and duplicates nothing: whatever was not acknowledged
 * comes back as pending and is stored idempotently. The archive keeps one
 * row per tweet id too: an entry whose tweet is archived already under
 * another stream id (a batch published again after a Redis failover) is
 * skipped and counted as a duplicate.
 *
 * Progress goes to the log and to the hash `<prefix>archive:<group>`
 * (last_id, archived, duplicates, again, lag, pending, lost, rejected,
 * updated_ms) so metrics can show it. Entries trimmed from the stream before they were archived are
 * reported loudly, with their number. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "bus.h"
#include "cli.h"
#include "log.h"
#include "store.h"
#include "util.h"

static const char archive_help[] =
    "Copy the tweets stream from Redis into the SQL archive (--db / BIRDFEED_DB), as a\n"
    "service. Reads with a consumer group (created when absent, from the oldest entry\n"
    "still held): first this consumer's unacknowledged entries and those other consumers\n"
    "abandoned, then new ones. Each batch is one transaction, acknowledged after the\n"
    "commit, stored idempotently by stream id: a crash anywhere loses nothing and\n"
    "duplicates nothing. One row per tweet id: an entry whose tweet is archived already\n"
    "under another stream id (published again after a Redis failover) is skipped and\n"
    "counted as a duplicate. Progress and lag go to the log and to the Redis hash\n"
    "<prefix>archive:<group>. Entries trimmed from the stream before they were archived\n"
    "are logged as errors (archive.overtaken) with their number.\n"
    "The schema must be current ('birdfeed migrate'). SIGTERM/SIGINT stop after the batch;\n"
    "SIGHUP reopens the log file.\n"
    "Exit status: 0 ok; with --once, 1 when entries were lost or rejected; 2 usage error;\n"
    "3 when Redis or the database cannot be reached (--once) or the schema is not current.";

#define BATCH_MAX 10000
#define REPORT_EVERY_MS 1000      /* state hash refresh */
#define LOG_EVERY_MS 10000        /* progress line in the log */
#define MASTER_CHECK_MS 2000      /* idle: ask the Sentinels whether the master moved */

struct archive_opts {
    const char *group;
    const char *consumer;         /* NULL: the node setting */
    long long batch;
    long long block_ms;
    long long claim_idle_ms;
    int once;
};

static const struct archive_opts archive_defaults = {
    .group = "archive", .consumer = NULL, .batch = 500, .block_ms = 1000, .claim_idle_ms = 60000, .once = 0,
};

static const cli_option archive_options[] = {
    CLI_OPT_TEXT("group", 0, "NAME", struct archive_opts, group, 1, 200, "consumer group (default archive)"),
    CLI_OPT_TEXT("consumer", 0, "NAME", struct archive_opts, consumer, 1, 200,
                 "this archiver's name in the group; keep it stable across\n"
                 "restarts so it finishes its own pending entries (default:\n"
                 "the node setting, which defaults to the host name)"),
    CLI_OPT_INT("batch", 0, "N", struct archive_opts, batch, 1, BATCH_MAX,
                "entries per transaction (default 500, at most 10000)"),
    CLI_OPT_INT("block-ms", 0, "N", struct archive_opts, block_ms, 10, 60000,
                "wait this long for new entries per read (default 1000)"),
    CLI_OPT_INT("claim-idle-ms", 0, "N", struct archive_opts, claim_idle_ms, 0, 86400000,
                "take over entries another consumer of the group left\n"
                "unacknowledged this long (an archiver on a host that died):\n"
                "on start, on reconnect and every half of it (default 60000)"),
    CLI_OPT_FLAG("once", 0, struct archive_opts, once, "archive what the stream holds now, then exit"),
    CLI_OPT_END,
};

/* What the archiver knows about the stream and its group (XINFO). */
struct stream_info {
    long long length;
    long long entries_added;
    int has_first;
    bus_id first;
    long long pending;
    bus_id last_delivered;
    long long entries_read;       /* -1: unknown */
    long long lag;                /* -1: unknown */
};

struct archiver {
    config *cfg;
    const struct archive_opts *opt;
    redisContext *redis;
    bus_peer peer;                /* where redis goes */
    store *db;
    char key[512];                /* the stream */
    char state_key[512];          /* the progress hash */
    unsigned long long archived, duplicates, again, lost, rejected;   /* again: stream id archived already */
    char last_id[BUS_ID_MAX];
    uint64_t last_report_ms, last_log_ms;
};

static volatile sig_atomic_t stop_requested, reopen_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP) reopen_requested = 1;
    else stop_requested = 1;
}

/* ---- XINFO ---- */

static redisReply *field(redisReply *flat, const char *name)
{
    if (flat == NULL || flat->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < flat->elements; i += 2)
        if (flat->element[i]->type == REDIS_REPLY_STRING && strcmp(flat->element[i]->str, name) == 0)
            return flat->element[i + 1];
    return NULL;
}

static long long field_int(redisReply *flat, const char *name)
{
    redisReply *r = field(flat, name);
    return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
}

static int field_id(redisReply *flat, const char *name, bus_id *id)
{
    redisReply *r = field(flat, name);
    return r && r->type == REDIS_REPLY_STRING ? bus_id_parse(r->str, r->len, id) : -1;
}

/* XINFO STREAM and XINFO GROUPS in one MULTI, so both describe one moment.
 * 0 ok, -1 Redis error (err). A missing group leaves the group fields zero. */
static int stream_info(struct archiver *a, struct stream_info *si, char *err, size_t errlen)
{
    redisReply *r;
    int rc = -1;
    memset(si, 0, sizeof *si);
    si->entries_read = si->lag = -1;
    redisAppendCommand(a->redis, "MULTI");
    redisAppendCommand(a->redis, "XINFO STREAM %s", a->key);
    redisAppendCommand(a->redis, "XINFO GROUPS %s", a->key);
    redisAppendCommand(a->redis, "EXEC");
    for (int i = 0; i < 4; i++) {
        if (redisGetReply(a->redis, (void **)&r) != REDIS_OK) {
            snprintf(err, errlen, "redis: %s", a->redis->errstr);
            return -1;
        }
        if (i < 3) {
            freeReplyObject(r);
            continue;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            snprintf(err, errlen, "redis: XINFO failed: %s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            goto done;
        }
    }
    redisReply *st = r->element[0], *groups = r->element[1];
    if (st->type == REDIS_REPLY_ERROR) {       /* no stream yet: nothing to archive */
        rc = 0;
        goto done;
    }
    si->length = field_int(st, "length");
    si->entries_added = field_int(st, "entries-added");
    redisReply *first = field(st, "first-entry");
    if (first && first->type == REDIS_REPLY_ARRAY && first->elements >= 1 && first->element[0]->type == REDIS_REPLY_STRING)
        si->has_first = bus_id_parse(first->element[0]->str, first->element[0]->len, &si->first) == 0;
    if (groups->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < groups->elements; i++) {
            redisReply *name = field(groups->element[i], "name");
            if (name == NULL || name->type != REDIS_REPLY_STRING || strcmp(name->str, a->opt->group) != 0) continue;
            si->pending = field_int(groups->element[i], "pending");
            field_id(groups->element[i], "last-delivered-id", &si->last_delivered);
            si->entries_read = field_int(groups->element[i], "entries-read");
            si->lag = field_int(groups->element[i], "lag");
        }
    rc = 0;
done:
    freeReplyObject(r);
    return rc;
}

/* ---- group and progress ---- */

static int ensure_group(struct archiver *a, char *err, size_t errlen)
{
    struct stream_info si;
    char already[24];
    if (stream_info(a, &si, err, errlen) < 0) return -1;
    /* Entries trimmed before the group existed were never the archive's to
     * lose: count them as read, so the group's lag starts right. */
    long long gone = si.entries_added > si.length ? si.entries_added - si.length : 0;
    snprintf(already, sizeof already, "%lld", gone);
    redisReply *r = redisCommand(a->redis, "XGROUP CREATE %s %s 0 MKSTREAM ENTRIESREAD %s", a->key, a->opt->group,
                                 already);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
        freeReplyObject(r);   /* a Redis before 7.0 has no ENTRIESREAD */
        r = redisCommand(a->redis, "XGROUP CREATE %s %s 0 MKSTREAM", a->key, a->opt->group);
    }
    if (r == NULL) {
        snprintf(err, errlen, "redis: %s", a->redis->errstr);
        return -1;
    }
    int created = r->type == REDIS_REPLY_STATUS;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
        snprintf(err, errlen, "redis: XGROUP CREATE %s %s: %s", a->key, a->opt->group, r->str);
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    if (created)
        log_info("archive.group_created", "stream=%s group=%s entries=%lld", a->key, a->opt->group, si.length);
    return 0;
}

/* Take over the entries another consumer of the group was given and has not
 * acknowledged for --claim-idle-ms (an archiver that died for good, or ran
 * under another name): they become this consumer's pending entries and are
 * archived next. Those already trimmed from the stream are counted as lost.
 * Returns how many were taken over, or -1 (err). */
static long claim_abandoned(struct archiver *a, char *err, size_t errlen)
{
    char cursor[BUS_ID_MAX] = "0-0", idle[24], count[24];
    size_t claimed = 0, lost = 0;
    snprintf(idle, sizeof idle, "%lld", a->opt->claim_idle_ms);
    snprintf(count, sizeof count, "%lld", a->opt->batch);
    for (int round = 0; round < 100000; round++) {
        redisReply *r = redisCommand(a->redis, "XAUTOCLAIM %s %s %s %s %s COUNT %s JUSTID", a->key, a->opt->group,
                                     a->opt->consumer, idle, cursor, count);
        if (r == NULL) {
            snprintf(err, errlen, "redis: %s", a->redis->errstr);
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR && bus_reply_failover(r)) {   /* not the master any more */
            snprintf(err, errlen, "redis: XAUTOCLAIM: %s", r->str);
            freeReplyObject(r);
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {   /* Redis before 6.2: nothing to take over with */
            log_warn("archive.claim_unavailable", "error=\"%s\"", r->str);
            freeReplyObject(r);
            return 0;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(r);
            snprintf(err, errlen, "redis: XAUTOCLAIM: unexpected reply");
            return -1;
        }
        claimed += r->element[1]->elements;
        if (r->elements >= 3 && r->element[2]->type == REDIS_REPLY_ARRAY) lost += r->element[2]->elements;
        strlcpy_safe(cursor, r->element[0]->str, sizeof cursor);
        freeReplyObject(r);
        if (strcmp(cursor, "0-0") == 0) break;
    }
    if (claimed)
        log_warn("archive.claimed", "entries=%zu group=%s consumer=%s idle_ms=%lld msg=%s", claimed, a->opt->group,
                 a->opt->consumer, a->opt->claim_idle_ms,
                 "\"took over entries another consumer received and never acknowledged\"");
    if (lost) {
        a->lost += lost;
        log_error("archive.overtaken", "lost=%zu stream=%s group=%s msg=%s", lost, a->key, a->opt->group,
                  "\"entries pending for another consumer were trimmed from the stream before they were archived\"");
    }
    return (long)claimed;
}

/* Before reading new entries: did trimming overtake the group? If the
 * entries after the group's last-delivered id are fewer than those it has
 * not read, the difference was trimmed away unarchived. Say so, and move the
 * group's read counter past them so its lag is right again. */
static int check_overtaken(struct archiver *a, char *err, size_t errlen)
{
    struct stream_info si;
    if (stream_info(a, &si, err, errlen) < 0) return -1;
    int behind = !si.has_first || bus_id_cmp(si.last_delivered, si.first) < 0;
    if (!behind || si.entries_read < 0 || si.entries_added < 0) return 0;
    long long unread = si.entries_added - si.entries_read;
    if (unread <= si.length) return 0;
    long long lost = unread - si.length;
    char last[BUS_ID_MAX], first[BUS_ID_MAX] = "none", read[24];
    bus_id_format(si.last_delivered, last);
    if (si.has_first) bus_id_format(si.first, first);
    a->lost += (unsigned long long)lost;
    log_error("archive.overtaken",
              "lost=%lld stream=%s group=%s last_delivered=%s oldest_in_stream=%s msg=%s", lost, a->key,
              a->opt->group, last, first,
              "\"stream trimming overtook the archive: these entries were removed before they were archived;"
              " raise --history or run more archivers\"");
    snprintf(read, sizeof read, "%lld", si.entries_added - si.length);
    redisReply *r = redisCommand(a->redis, "XGROUP SETID %s %s %s ENTRIESREAD %s", a->key, a->opt->group, last, read);
    if (r == NULL) {
        snprintf(err, errlen, "redis: %s", a->redis->errstr);
        return -1;
    }
    freeReplyObject(r);   /* an error here (Redis < 7) only leaves the lag figure high */
    return 0;
}

/* Publish progress in `<prefix>archive:<group>` and, now and then, the log. */
static void report(struct archiver *a, int force)
{
    uint64_t now = wall_ms();
    struct stream_info si;
    char err[256];
    if (!force && now - a->last_report_ms < REPORT_EVERY_MS) return;
    a->last_report_ms = now;
    if (stream_info(a, &si, err, sizeof err) < 0) {
        log_warn("archive.report_failed", "error=%s", err);
        return;
    }
    long long lag = si.lag >= 0 ? si.lag + si.pending : -1;
    char lag_s[24], now_s[24];
    snprintf(lag_s, sizeof lag_s, "%lld", lag);
    snprintf(now_s, sizeof now_s, "%llu", (unsigned long long)now);
    redisReply *r = redisCommand(a->redis,
                                 "HSET %s last_id %s archived %llu duplicates %llu again %llu lag %s pending %lld lost %llu"
                                 " rejected %llu updated_ms %s",
                                 a->state_key, a->last_id[0] ? a->last_id : "", a->archived, a->duplicates, a->again,
                                 lag_s,
                                 si.pending, a->lost, a->rejected, now_s);
    freeReplyObject(r);
    if (force || now - a->last_log_ms >= LOG_EVERY_MS) {
        a->last_log_ms = now;
        log_info("archive.progress",
                 "archived=%llu duplicates=%llu lag=%lld pending=%lld lost=%llu rejected=%llu again=%llu last_id=%s",
                 a->archived, a->duplicates, lag, si.pending, a->lost, a->rejected, a->again,
                 a->last_id[0] ? a->last_id : "none");
    }
}

/* ---- one batch ---- */

/* Store the entries of one XREADGROUP reply and acknowledge them.
 * *count gets how many entries the reply held (0: nothing to do).
 * 0 ok, -1 error (err); on error nothing was acknowledged. */
static int archive_batch(struct archiver *a, redisReply *reply, size_t *count, char *cursor, char *err, size_t errlen)
{
    *count = 0;
    if (reply->type == REDIS_REPLY_NIL) return 0;
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis: XREADGROUP: %s", reply->str);
        return -1;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 || reply->element[0]->type != REDIS_REPLY_ARRAY ||
        reply->element[0]->elements != 2 || reply->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "redis: XREADGROUP: unexpected reply");
        return -1;
    }
    redisReply *entries = reply->element[0]->element[1];
    size_t n = entries->elements, nrows = 0, lost = 0;
    store_counts c;
    store_row *rows = xcalloc(n ? n : 1, sizeof *rows);
    const char **ack = xcalloc(n + 3, sizeof *ack);
    int rc = -1;

    ack[0] = "XACK";
    ack[1] = a->key;
    ack[2] = a->opt->group;
    for (size_t i = 0; i < n; i++) {
        redisReply *e = entries->element[i];
        char why[256];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING) {
            snprintf(err, errlen, "redis: XREADGROUP: unexpected entry");
            goto done;
        }
        const char *id = e->element[0]->str;
        redisReply *fields = e->element[1];
        ack[3 + i] = id;
        if (fields->type != REDIS_REPLY_ARRAY) {   /* pending, but trimmed from the stream */
            lost++;
            continue;
        }
        redisReply *t = NULL;
        for (size_t f = 0; f + 1 < fields->elements; f += 2)
            if (fields->element[f]->type == REDIS_REPLY_STRING && strcmp(fields->element[f]->str, "t") == 0)
                t = fields->element[f + 1];
        if (t == NULL || t->type != REDIS_REPLY_STRING) {
            a->rejected++;
            log_warn("archive.rejected", "id=%s reason=\"no field t\"", id);
            continue;
        }
        if (store_row_parse(&rows[nrows], id, t->str, t->len, why, sizeof why) < 0) {
            a->rejected++;
            log_warn("archive.rejected", "id=%s reason=\"%s\"", id, why);
            continue;
        }
        nrows++;
    }
    if (n == 0) {
        rc = 0;
        goto done;
    }
    if (store_insert(a->db, rows, nrows, &c, err, errlen) < 0) goto done;
    redisReply *r = redisCommandArgv(a->redis, (int)(n + 3), ack, NULL);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis: XACK: %s", r ? r->str : a->redis->errstr);
        freeReplyObject(r);
        goto done;
    }
    freeReplyObject(r);
    if (lost) {
        a->lost += lost;
        log_error("archive.overtaken", "lost=%zu stream=%s group=%s msg=%s", lost, a->key, a->opt->group,
                  "\"pending entries were trimmed from the stream before they were archived;"
                  " raise --history or run more archivers\"");
    }
    a->archived += c.inserted;
    a->duplicates += c.duplicates;
    a->again += c.again;
    if (n) {
        strlcpy_safe(a->last_id, entries->element[n - 1]->element[0]->str, sizeof a->last_id);
        strlcpy_safe(cursor, a->last_id, BUS_ID_MAX);
    }
    if (c.duplicates)
        log_info("archive.duplicates", "skipped=%zu msg=%s", c.duplicates,
                 "\"entries whose tweet id is archived already under another stream id (published again)\"");
    log_debug("archive.batch", "entries=%zu stored=%zu duplicates=%zu again=%zu lost=%zu", n, c.inserted, c.duplicates,
              c.again, lost);
    *count = n;
    rc = 0;
done:
    for (size_t i = 0; i < nrows; i++) store_row_free(&rows[i]);
    free(rows);
    free(ack);
    return rc;
}

/* ---- the loop ---- */

/* 0 ok; -1 error (err), with *fatal set when retrying cannot help (the
 * schema is not the one this binary needs). */
static int connect_all(struct archiver *a, int *fatal, char *err, size_t errlen)
{
    *fatal = 0;
    if (a->redis == NULL) {
        /* The command timeout must outlast a blocking read. */
        a->redis = bus_connect_peer(a->cfg->redis_url, (int)a->opt->block_ms + 5000, &a->peer, err, errlen);
        if (a->redis == NULL) return -1;
    }
    if (a->db == NULL) {
        a->db = store_open(a->cfg->db_url, err, errlen);
        if (a->db == NULL) return -1;
        if (store_check(a->db, err, errlen) < 0) {
            *fatal = 1;
            store_close(a->db);
            a->db = NULL;
            return -1;
        }
    }
    if (ensure_group(a, err, errlen) < 0) return -1;
    return claim_abandoned(a, err, errlen) < 0 ? -1 : 0;
}

static void disconnect_all(struct archiver *a)
{
    if (a->redis) redisFree(a->redis);
    a->redis = NULL;
    store_close(a->db);
    a->db = NULL;
}

/* Archive until stopped (or, with --once, until the stream has nothing
 * more). Returns the exit code. */
static int run(struct archiver *a)
{
    char err[1024], cursor[BUS_ID_MAX] = "0", batch[24], block[24];
    int pending_phase = 1, failures = 0, fatal, wait_ms;
    uint64_t next_claim = 0, next_master_check = 0;
    long long claim_every = a->opt->claim_idle_ms / 2 > 1000 ? a->opt->claim_idle_ms / 2 : 1000;
    backoff bo;

    backoff_init(&bo, 100, (int)a->cfg->backoff_max_ms);

    snprintf(batch, sizeof batch, "%lld", a->opt->batch);
    snprintf(block, sizeof block, "%lld", a->opt->block_ms);
    while (!stop_requested) {
        if (reopen_requested) {      /* SIGHUP: logrotate moved the log file */
            reopen_requested = 0;
            log_reopen();
        }
        if (a->redis == NULL || a->db == NULL) {
            if (connect_all(a, &fatal, err, sizeof err) < 0) {
                wait_ms = fatal || a->opt->once ? 0 : backoff_next(&bo);
                log_error("archive.unavailable", "error=\"%s\" retry_ms=%d", err, wait_ms);
                if (a->opt->once || fatal) {
                    fprintf(stderr, "birdfeed archive: %s\n", err);
                    disconnect_all(a);
                    return CLI_EXIT_UNREACHABLE;
                }
                disconnect_all(a);
                sleep_ms(wait_ms);   /* a signal ends it early: the loop checks stop_requested */
                continue;
            }
            pending_phase = 1;   /* after any reconnect, first what is ours and unacknowledged */
            strlcpy_safe(cursor, "0", sizeof cursor);
            if (failures) log_info("archive.resumed", "after_failures=%d", failures);
            failures = 0;
            backoff_reset(&bo);
        }

        redisReply *r;
        if (pending_phase) {
            r = redisCommand(a->redis, "XREADGROUP GROUP %s %s COUNT %s STREAMS %s %s", a->opt->group,
                             a->opt->consumer, batch, a->key, cursor);
        } else {
            if (!a->opt->once && now_ms() >= next_claim) {
                /* Another archiver may have died since: take over what it left. */
                long claimed = claim_abandoned(a, err, sizeof err);
                if (claimed < 0) goto failed;
                next_claim = now_ms() + (uint64_t)claim_every;
                if (claimed > 0) {
                    pending_phase = 1;
                    strlcpy_safe(cursor, "0", sizeof cursor);
                    continue;
                }
            }
            if (check_overtaken(a, err, sizeof err) < 0) goto failed;
            if (a->opt->once)
                r = redisCommand(a->redis, "XREADGROUP GROUP %s %s COUNT %s STREAMS %s >", a->opt->group,
                                 a->opt->consumer, batch, a->key);
            else
                r = redisCommand(a->redis, "XREADGROUP GROUP %s %s COUNT %s BLOCK %s STREAMS %s >", a->opt->group,
                                 a->opt->consumer, batch, block, a->key);
        }
        if (r == NULL) {
            snprintf(err, sizeof err, "redis: %s", a->redis->errstr);
            goto failed;
        }
        size_t count;
        int brc = archive_batch(a, r, &count, cursor, err, sizeof err);
        freeReplyObject(r);
        if (brc < 0) goto failed;
        if (count == 0) {
            if (pending_phase) {
                pending_phase = 0;
            } else if (a->opt->once) {
                break;
            } else if (now_ms() >= next_master_check) {
                /* Nothing new: is this still the master, or one cut off
                 * from the others while the Sentinels promoted another? */
                next_master_check = now_ms() + MASTER_CHECK_MS;
                if (bus_master_moved(a->cfg->redis_url, &a->peer)) {
                    snprintf(err, sizeof err, "Redis at %s is no longer the master", a->peer.addr);
                    goto failed;
                }
            }
        }
        report(a, 0);
        continue;
    failed:
        failures++;
        wait_ms = a->opt->once ? 0 : backoff_next(&bo);
        log_error("archive.failed", "error=\"%s\" retry_ms=%d", err, wait_ms);
        if (a->opt->once) {
            fprintf(stderr, "birdfeed archive: %s\n", err);
            return CLI_EXIT_UNREACHABLE;
        }
        disconnect_all(a);
        sleep_ms(wait_ms);
    }
    if (a->redis) report(a, 1);
    return (a->lost || a->rejected) && a->opt->once ? CLI_EXIT_PARTIAL : 0;
}

static int archive_run(void *opts, config *cfg, int argc, char **argv)
{
    struct archive_opts *o = opts;
    struct archiver a = {.cfg = cfg, .opt = o};
    int rc;

    (void)argc;
    (void)argv;
    if (cfg->db_url == NULL) {
        fprintf(stderr, "birdfeed archive: no database: give --db sqlite:PATH or postgres://… (or BIRDFEED_DB)\n");
        return CLI_EXIT_USAGE;
    }
    if (o->consumer == NULL) o->consumer = cfg->node;   /* this host, as birdfeed names it */
    cli_catch_signals(on_signal, 1);   /* SIGHUP: reopen the log */

    bus_key(a.key, sizeof a.key, cfg->prefix, BUS_KEY_TWEETS);
    snprintf(a.state_key, sizeof a.state_key, "%sarchive:%s", cfg->prefix, o->group);
    log_info("archive.start", "stream=%s group=%s consumer=%s batch=%lld once=%d", a.key, o->group, o->consumer,
             o->batch, o->once);
    rc = run(&a);
    log_info("archive.stop", "archived=%llu duplicates=%llu lost=%llu rejected=%llu again=%llu exit=%d", a.archived,
             a.duplicates, a.lost, a.rejected, a.again, rc);
    disconnect_all(&a);
    return rc;
}

const cli_command cli_cmd_archive = {
    .name = "archive", .summary = "copy the tweets stream into the SQL archive (a service)", .max_operands = 0,
    .synopsis = "[--db URL] [--group NAME] [--consumer NAME] [--batch N] [--claim-idle-ms N] [--once]",
    .description = archive_help,
    CLI_OPTIONS(struct archive_opts, archive_options, &archive_defaults), .run = archive_run,
};
