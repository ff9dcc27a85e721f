/* birdfeed tail — print live tweets, one canonical JSON object a line.
 *
 * Subscribes to <prefix>live. When Redis drops, it reconnects with backoff,
 * subscribes again and fills the gap from the stream (entries after the last
 * id printed), so nothing still in the history is missed or printed twice.
 * With a redis+sentinel:// URL it also listens to a Sentinel's
 * +switch-master notices and moves to the new master when one comes, even
 * if the old one is still up (cut off from the others). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "backoff.h"
#include "buf.h"
#include "bus.h"
#include "cli.h"
#include "log.h"
#include "sentinel.h"
#include "util.h"

static const char tail_help[] =
    "Subscribe to the live channel and print each tweet published from now on as one line\n"
    "of canonical JSON (with --ids: '<stream-id> <json>', the SSE event id first). If Redis\n"
    "drops, tail reconnects with backoff and prints what it missed from the stream history.\n"
    "With a redis+sentinel:// URL it follows a failover to the new master the same way.\n\n"
    "Exit status: 0 after --count tweets, 2 usage error, 3 Redis unreachable.";

struct tail_opts {
    long long count;    /* 0: forever */
    int ids;
    long long retries;
};

static const struct tail_opts tail_defaults = {.count = 0, .ids = 0, .retries = 10};

static const cli_option tail_options[] = {
    CLI_OPT_INT("count", 0, "N", struct tail_opts, count, 1, 1000000000000LL,
                "exit after N tweets (default: run until interrupted)"),
    CLI_OPT_FLAG("ids", 0, struct tail_opts, ids, "print '<stream-id> <json>'"),
    CLI_OPT_RETRIES(struct tail_opts, retries),
    CLI_OPT_END,
};

struct tail {
    char key_live[256], key_tweets[256];
    const char *redis_url;
    const struct tail_opts *o;
    redisContext *sub;
    redisContext *watch; /* a Sentinel's +switch-master notices, or NULL */
    bus_id last;         /* last id printed */
    int have_last;
    unsigned long long printed;
};

/* Print one "<id> <json>" payload, unless it is at or before the last id
 * printed. Returns 1 when --count is reached. */
static int emit(struct tail *t, const char *payload, size_t len)
{
    const char *sp = memchr(payload, ' ', len);
    bus_id id;
    if (sp == NULL || bus_id_parse(payload, (size_t)(sp - payload), &id) < 0) {
        log_warn("tail.bad_message", "bytes=%zu", len);
        return 0;
    }
    if (t->have_last && bus_id_cmp(id, t->last) <= 0) return 0;
    t->last = id;
    t->have_last = 1;
    if (t->o->ids) fwrite(payload, 1, len, stdout);
    else fwrite(sp + 1, 1, len - (size_t)(sp + 1 - payload), stdout);
    putchar('\n');
    t->printed++;
    return t->o->count && t->printed >= (unsigned long long)t->o->count;
}

/* After a reconnect: print what was added to the stream since the last id
 * printed. The subscription is already in place, so the live messages that
 * follow overlap this, and emit() drops the overlap. 0 ok (1: count reached),
 * -1 error. */
static int backfill(struct tail *t, char *err, size_t errlen)
{
    if (!t->have_last) return 0;
    redisContext *c = bus_connect(t->redis_url, 10000, err, errlen);
    if (c == NULL) return -1;
    int rc = 0;
    for (;;) {
        char lo[BUS_ID_MAX];
        bus_id_format(bus_id_next(t->last), lo);
        redisReply *r = redisCommand(c, "XRANGE %s %s + COUNT 1000", t->key_tweets, lo);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            snprintf(err, errlen, "Redis XRANGE: %s", r == NULL ? c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            if (r) freeReplyObject(r);
            rc = -1;
            break;
        }
        size_t n = r->elements;
        buf line = BUF_INIT;
        for (size_t k = 0; k < n && rc == 0; k++) {
            bus_id eid;
            const char *json;
            size_t len;
            char ids[BUS_ID_MAX];
            if (bus_entry_parse(r->element[k], &eid, &json, &len) == 0) {
                buf_reset(&line);
                buf_printf(&line, "%s ", bus_id_format(eid, ids));
                buf_append(&line, json, len);
                if (emit(t, line.data, line.len)) rc = 1;
            } else if (bus_entry_id(r->element[k], &eid) < 0) {
                continue;
            }
            /* An entry without a tweet still moves the cursor on. */
            if (rc == 0 && bus_id_cmp(eid, t->last) > 0) t->last = eid;
        }
        buf_free(&line);
        freeReplyObject(r);
        if (rc != 0 || n < 1000) break;
    }
    redisFree(c);
    return rc;
}

static int subscribe(struct tail *t, char *err, size_t errlen)
{
    if (t->sub) redisFree(t->sub);
    t->sub = bus_connect(t->redis_url, 0, err, errlen);
    if (t->sub == NULL) return -1;
    redisReply *r = redisCommand(t->sub, "SUBSCRIBE %s", t->key_live);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "Redis SUBSCRIBE: %s", r == NULL ? t->sub->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        if (r) freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

/* With a Sentinel URL: watch for failovers (a failure to is only logged:
 * the subscription works without it, and it is tried again on reconnect). */
static void watch(struct tail *t)
{
    char err[512];
    if (t->watch || !sentinel_url_is(t->redis_url)) return;
    t->watch = bus_watch_open(t->redis_url, err, sizeof err);
    if (t->watch == NULL) log_warn("tail.no_failover_watch", "error=\"%s\"", err);
}

/* Wait until the subscription has data (0), or a Sentinel says the master
 * moved or the subscription broke (-1). */
static int wait_readable(struct tail *t)
{
    for (;;) {
        struct pollfd pfd[2] = {{t->sub->fd, POLLIN, 0}, {t->watch ? t->watch->fd : -1, POLLIN, 0}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (pfd[1].revents) {
            int moved = bus_watch_read(t->watch, t->redis_url);
            if (moved < 0) {   /* that Sentinel went away: another one later */
                redisFree(t->watch);
                t->watch = NULL;
            } else if (moved) {
                log_warn("tail.failover", "msg=\"the Sentinels switched to another master\"");
                return -1;
            }
        }
        if (pfd[0].revents) return redisBufferRead(t->sub) == REDIS_OK ? 0 : -1;
    }
}

/* Read live messages until --count is reached (1), the connection drops or
 * the master moves (0). */
static int follow(struct tail *t)
{
    for (;;) {
        redisReply *r = NULL;
        int done = 0;
        if (redisGetReplyFromReader(t->sub, (void **)&r) != REDIS_OK) return 0;
        if (r == NULL) {
            fflush(stdout);   /* nothing more buffered: show what we have */
            if (wait_readable(t) < 0) return 0;
            continue;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
            strcmp(r->element[0]->str, "message") == 0 && r->element[2]->type == REDIS_REPLY_STRING)
            done = emit(t, r->element[2]->str, r->element[2]->len);
        freeReplyObject(r);
        if (done) return 1;
    }
}

static int tail_run(void *opts, config *cfg, int argc, char **argv)
{
    struct tail t = {.o = opts, .redis_url = cfg->redis_url};
    int rc = CLI_EXIT_OK;
    char err[512];
    backoff bo;

    (void)argc;
    (void)argv;
    bus_key(t.key_live, sizeof t.key_live, cfg->prefix, BUS_KEY_LIVE);
    bus_key(t.key_tweets, sizeof t.key_tweets, cfg->prefix, BUS_KEY_TWEETS);
    backoff_init(&bo, 100, (int)cfg->backoff_max_ms);
    for (;;) {
        /* (Re)connect: subscribe first, then fill the gap from the stream. */
        int b = 0;
        if (subscribe(&t, err, sizeof err) < 0 || (b = backfill(&t, err, sizeof err)) < 0) {
            if (bo.attempt >= t.o->retries) {
                fprintf(stderr, "birdfeed tail: %s\n", err);
                rc = CLI_EXIT_UNREACHABLE;
                break;
            }
            int ms = backoff_next(&bo);
            log_warn("tail.retry", "attempt=%d wait_ms=%d error=\"%s\"", bo.attempt, ms, err);
            sleep_ms(ms);
            continue;
        }
        if (b == 1) break;
        backoff_reset(&bo);
        watch(&t);
        if (follow(&t)) break;
        log_warn("tail.disconnected", "error=\"%s\"", t.sub->errstr[0] ? t.sub->errstr : "connection closed");
    }
    fflush(stdout);
    if (t.sub) redisFree(t.sub);
    if (t.watch) redisFree(t.watch);
    return rc;
}

const cli_command cli_cmd_tail = {
    .name = "tail", .summary = "print live tweets, one canonical JSON object a line", .max_operands = 0,
    .synopsis = "[--count N] [--ids]", .description = tail_help,
    CLI_OPTIONS(struct tail_opts, tail_options, &tail_defaults), .run = tail_run,
};
