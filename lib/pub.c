#include "pub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "backoff.h"
#include "buf.h"
#include "bus.h"
#include "log.h"
#include "util.h"

/* KEYS[1] = stream, KEYS[2] = channel, ARGV[1] = history, ARGV[2] = tweet. */
static const char script[] =
    "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2])\n"
    "redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[2])\n"
    "return id\n";

enum { E_QUEUED, E_SENT, E_DONE };

struct entry {
    unsigned long long tag;
    size_t cmd_off, cmd_len;    /* the EVALSHA command in p->cmds */
    size_t json_off, json_len;  /* the tweet inside it */
    unsigned char state;
};

struct pub {
    pub_opts o;
    redisContext *c;            /* NULL or broken: reconnect before use */
    int broken;
    int dead;                   /* gave up: every tweet fails at once */
    char sha[41];
    char key_tweets[256], key_live[256];
    buf head;                   /* constant start of every EVALSHA command */
    buf cmds;                   /* formatted commands of entries[first..n) */
    struct entry *e;
    size_t first, n, cap;       /* entries[first..n) are held */
    size_t rd;                  /* no E_SENT entry before this index */
    size_t nsent, nqueued;
    int hold;                   /* some entries were requeued: resend once nothing is in flight */
    int reload;                 /* the script must be loaded again before resending */
    int wait;                   /* Redis said "try later": back off before resending */
    bus_id water;               /* every tweet sent later gets an id above this */
    backoff bo;
    unsigned long reconnects, recovered;
    char lasterr[256];
};

const char *pub_script(void)
{
    return script;
}

static int stopping(const pub *p)
{
    return p->o.stop && *p->o.stop;
}

/* Run one command that must not fail; the reply is returned to the caller
 * (or NULL with lasterr set, and the connection marked broken when the
 * failure was an I/O error). */
static redisReply *command(pub *p, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(p->c, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        snprintf(p->lasterr, sizeof p->lasterr, "Redis %s: %s", what, p->c->errstr[0] ? p->c->errstr : "connection lost");
        p->broken = 1;
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(p->lasterr, sizeof p->lasterr, "Redis %s: %s", what, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static int load_script(pub *p)
{
    redisReply *r = command(p, "SCRIPT LOAD", "SCRIPT LOAD %s", script);
    if (r == NULL) return -1;
    if (r->type != REDIS_REPLY_STRING || r->len != 40) {
        snprintf(p->lasterr, sizeof p->lasterr, "Redis SCRIPT LOAD: unexpected reply");
        freeReplyObject(r);
        return -1;
    }
    if (p->sha[0] == '\0') {
        memcpy(p->sha, r->str, 40);
        p->sha[40] = '\0';
        buf_reset(&p->head);
        buf_printf(&p->head, "*7\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$1\r\n2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
                   p->sha, strlen(p->key_tweets), p->key_tweets, strlen(p->key_live), p->key_live);
        char h[24];
        int hl = snprintf(h, sizeof h, "%lld", p->o.history);
        buf_printf(&p->head, "$%d\r\n%s\r\n", hl, h);
    }
    freeReplyObject(r);
    return 0;
}

/* The id of the newest stream entry into *id (0-0 for none). */
static int stream_top(pub *p, bus_id *id)
{
    redisReply *r = command(p, "XREVRANGE", "XREVRANGE %s + - COUNT 1", p->key_tweets);
    if (r == NULL) return -1;
    id->ms = id->seq = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements >= 1 && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
        bus_id_parse(r->element[0]->element[0]->str, r->element[0]->element[0]->len, id);
    freeReplyObject(r);
    return 0;
}

/* One connection attempt: connect, load the script. */
static int connect_once(pub *p)
{
    char err[256];
    if (p->c) redisFree(p->c);
    p->c = bus_connect(p->o.redis_url, p->o.timeout_ms, err, sizeof err);
    if (p->c == NULL) {
        snprintf(p->lasterr, sizeof p->lasterr, "%s", err);
        return -1;
    }
    p->broken = 0;
    if (load_script(p) < 0) return -1;
    return 0;
}

/* Connect, retrying with backoff. Counts toward the same backoff as every
 * other failure since the last success. */
static int connect_retry(pub *p)
{
    for (;;) {
        if (connect_once(p) == 0) return 0;
        if (stopping(p) || p->bo.attempt >= p->o.retries) {
            p->broken = 1;
            return -1;
        }
        int ms = backoff_next(&p->bo);
        log_warn("pub.retry", "attempt=%d wait_ms=%d error=\"%s\"", p->bo.attempt, ms, p->lasterr);
        sleep_ms(ms);
        if (stopping(p)) {
            p->broken = 1;
            return -1;
        }
    }
}

pub *pub_open(const pub_opts *opts, char *err, size_t errlen)
{
    pub *p = xcalloc(1, sizeof *p);
    p->o = *opts;
    p->o.redis_url = xstrdup(opts->redis_url);
    p->o.prefix = xstrdup(opts->prefix);
    if (p->o.retries < 0) p->o.retries = 0;
    bus_key(p->key_tweets, sizeof p->key_tweets, p->o.prefix, BUS_KEY_TWEETS);
    bus_key(p->key_live, sizeof p->key_live, p->o.prefix, BUS_KEY_LIVE);
    backoff_init(&p->bo, 100, p->o.backoff_max_ms);
    if (connect_retry(p) < 0 || stream_top(p, &p->water) < 0) {
        snprintf(err, errlen, "%s", p->lasterr);
        pub_free(p);
        return NULL;
    }
    return p;
}

void pub_free(pub *p)
{
    if (p == NULL) return;
    if (p->c) redisFree(p->c);
    free((char *)p->o.redis_url);
    free((char *)p->o.prefix);
    buf_free(&p->head);
    buf_free(&p->cmds);
    free(p->e);
    free(p);
}

size_t pub_queued(const pub *p)
{
    return p->nqueued;
}

size_t pub_inflight(const pub *p)
{
    return p->nsent;
}

void pub_stats(const pub *p, unsigned long *reconnects, unsigned long *recovered)
{
    if (reconnects) *reconnects = p->reconnects;
    if (recovered) *recovered = p->recovered;
}

/* Drop finished entries from the front; reclaim their memory once most of
 * the buffer is garbage. */
static void compact(pub *p)
{
    while (p->first < p->n && p->e[p->first].state == E_DONE) p->first++;
    if (p->rd < p->first) p->rd = p->first;
    if (p->first == p->n) {
        p->first = p->n = p->rd = 0;
        buf_reset(&p->cmds);
        return;
    }
    if (p->first < 1024 || p->first * 2 < p->n) return;
    size_t shift = p->e[p->first].cmd_off;
    buf_consume(&p->cmds, shift);
    memmove(p->e, p->e + p->first, (p->n - p->first) * sizeof *p->e);
    p->n -= p->first;
    p->rd -= p->first;
    p->first = 0;
    for (size_t i = 0; i < p->n; i++) {
        p->e[i].cmd_off -= shift;
        p->e[i].json_off -= shift;
    }
}

void pub_add(pub *p, const char *json, size_t len, unsigned long long tag)
{
    char num[32];
    int nl = snprintf(num, sizeof num, "$%zu\r\n", len);
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->e = xrealloc(p->e, p->cap * sizeof *p->e);
    }
    struct entry *e = &p->e[p->n++];
    e->tag = tag;
    e->cmd_off = p->cmds.len;
    buf_reserve(&p->cmds, p->head.len + (size_t)nl + len + 2);
    buf_append(&p->cmds, p->head.data, p->head.len);
    buf_append(&p->cmds, num, (size_t)nl);
    e->json_off = p->cmds.len;
    e->json_len = len;
    buf_append(&p->cmds, json, len);
    buf_append(&p->cmds, "\r\n", 2);
    e->cmd_len = p->cmds.len - e->cmd_off;
    e->state = E_QUEUED;
    p->nqueued++;
}

static void report(pub *p, struct entry *e, enum pub_status st, const char *id, const char *error, int recovered,
                   pub_done_fn done, void *ctx)
{
    pub_result r = {st, e->tag, id, error, p->cmds.data + e->json_off, e->json_len, recovered};
    if (e->state == E_SENT) p->nsent--;
    else if (e->state == E_QUEUED) p->nqueued--;
    e->state = E_DONE;
    done(ctx, &r);
}

/* Write every queued tweet to Redis without waiting for replies. A write
 * error is not reported here; pub_collect recovers from it. */
static void pub_send(pub *p)
{
    if (p->dead || p->broken || p->c == NULL || p->hold || p->nqueued == 0) return;
    /* Append the queued entries (contiguous runs at once), in order. */
    size_t i = p->first;
    while (i < p->n) {
        if (p->e[i].state != E_QUEUED) {
            i++;
            continue;
        }
        size_t j = i, len = 0;
        while (j < p->n && p->e[j].state == E_QUEUED && p->e[j].cmd_off == p->e[i].cmd_off + len) {
            len += p->e[j].cmd_len;
            p->e[j].state = E_SENT;
            j++;
        }
        redisAppendFormattedCommand(p->c, p->cmds.data + p->e[i].cmd_off, len);
        p->nsent += j - i;
        p->nqueued -= j - i;
        i = j;
    }
    int doneflag = 0;
    while (!doneflag) {
        if (redisBufferWrite(p->c, &doneflag) != REDIS_OK) {
            snprintf(p->lasterr, sizeof p->lasterr, "Redis write: %s", p->c->errstr);
            p->broken = 1;
            return;
        }
    }
}

long pub_match_next(const pub_text *pending, size_t n, size_t *from, const char *text, size_t len)
{
    for (size_t k = *from; k < n; k++)
        if (pending[k].n == len && memcmp(pending[k].p, text, len) == 0) {
            *from = k + 1;
            return (long)k;
        }
    return -1;
}

/* Entries idx[0..k) still marked sent were not found in the stream: queue
 * them to be sent again. */
static void requeue_sent(pub *p, const size_t *idx, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (p->e[idx[i]].state == E_SENT) {
            p->e[idx[i]].state = E_QUEUED;
            p->nsent--;
            p->nqueued++;
        }
}

/* The connection broke with entries in flight: reconnect, find which of
 * them Redis executed (they are in the stream after p->water), report
 * those, and queue the rest again. */
static int recover(pub *p, pub_done_fn done, void *ctx)
{
    log_warn("pub.disconnected", "inflight=%zu error=\"%s\"", p->nsent, p->lasterr);
    for (;;) {
        if (stopping(p) || p->bo.attempt >= p->o.retries) return -1;
        int ms = backoff_next(&p->bo);
        sleep_ms(ms);
        if (stopping(p)) return -1;
        if (connect_once(p) < 0) {
            log_warn("pub.retry", "attempt=%d error=\"%s\"", p->bo.attempt, p->lasterr);
            continue;
        }
        break;
    }
    p->reconnects++;

    /* The unconfirmed entries, in send order. */
    size_t n = 0;
    size_t *idx = xmalloc((p->nsent ? p->nsent : 1) * sizeof *idx);
    pub_text *pend = xmalloc((p->nsent ? p->nsent : 1) * sizeof *pend);
    for (size_t i = p->first; i < p->n && n < p->nsent; i++)
        if (p->e[i].state == E_SENT) {
            idx[n] = i;
            pend[n].p = p->cmds.data + p->e[i].json_off;
            pend[n].n = p->e[i].json_len;
            n++;
        }

    size_t from = 0, found = 0;
    bus_id cursor = p->water, top = p->water;
    int rc = 0;
    while (from < n) {
        char lo[BUS_ID_MAX];
        bus_id_format(bus_id_next(cursor), lo);
        redisReply *r = command(p, "XRANGE", "XRANGE %s %s + COUNT 1000", p->key_tweets, lo);
        if (r == NULL) {
            /* Lost again: what was skipped is known not to be there; the
             * rest is looked for after cursor on the next attempt. */
            requeue_sent(p, idx, from);
            p->water = cursor;
            p->recovered += found;
            rc = -2;
            break;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            freeReplyObject(r);
            break;
        }
        for (size_t k = 0; k < r->elements; k++) {
            redisReply *ent = r->element[k];
            if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 || ent->element[0]->type != REDIS_REPLY_STRING)
                continue;
            bus_id eid;
            if (bus_id_parse(ent->element[0]->str, ent->element[0]->len, &eid) < 0) continue;
            cursor = eid;
            if (bus_id_cmp(eid, top) > 0) top = eid;
            redisReply *fv = ent->element[1];
            for (size_t f = 0; f + 1 < fv->elements; f += 2) {
                if (fv->element[f]->type != REDIS_REPLY_STRING || strcmp(fv->element[f]->str, "t") != 0) continue;
                long m = pub_match_next(pend, n, &from, fv->element[f + 1]->str, fv->element[f + 1]->len);
                if (m >= 0) {
                    report(p, &p->e[idx[m]], PUB_OK, ent->element[0]->str, NULL, 1, done, ctx);
                    found++;
                }
                break;
            }
        }
        int more = r->elements == 1000;
        freeReplyObject(r);
        if (!more) break;
    }
    if (rc == 0) {
        requeue_sent(p, idx, n);
        p->water = top;
        p->recovered += found;
        p->rd = p->first;
        p->hold = 0;
        p->reload = 0;
        log_info("pub.recovered", "found_in_stream=%zu resent=%zu", found, n - found);
    }
    free(idx);
    free(pend);
    return rc;
}

static void give_up(pub *p, pub_done_fn done, void *ctx)
{
    char why[320];
    snprintf(why, sizeof why, "Redis unreachable: %s", p->lasterr);
    for (size_t i = p->first; i < p->n; i++) {
        struct entry *e = &p->e[i];
        if (e->state == E_SENT) report(p, e, PUB_UNCONFIRMED, NULL, why, 0, done, ctx);
        else if (e->state == E_QUEUED) report(p, e, PUB_FAILED, NULL, why, 0, done, ctx);
    }
    p->dead = 1;
    compact(p);
}

static int transient(const char *msg)
{
    static const char *const words[] = {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "CLUSTERDOWN"};
    for (size_t i = 0; i < ARRAY_LEN(words); i++) {
        size_t l = strlen(words[i]);
        if (strncmp(msg, words[i], l) == 0 && (msg[l] == ' ' || msg[l] == '\0')) return 1;
    }
    return 0;
}

/* Handle the reply to entry e. */
static void on_reply(pub *p, struct entry *e, redisReply *r, pub_done_fn done, void *ctx)
{
    if (r->type == REDIS_REPLY_STRING) {
        bus_id id;
        if (bus_id_parse(r->str, r->len, &id) == 0 && bus_id_cmp(id, p->water) > 0) p->water = id;
        backoff_reset(&p->bo);
        report(p, e, PUB_OK, r->str, NULL, 0, done, ctx);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR && (strncmp(r->str, "NOSCRIPT", 8) == 0 || transient(r->str))) {
        /* Not executed: send it again once the pipeline is drained. */
        e->state = E_QUEUED;
        p->nsent--;
        p->nqueued++;
        p->hold = 1;
        if (r->str[0] == 'N') p->reload = 1;
        else p->wait = 1;
        snprintf(p->lasterr, sizeof p->lasterr, "Redis: %s", r->str);
        return;
    }
    char why[300];
    if (r->type == REDIS_REPLY_ERROR) snprintf(why, sizeof why, "Redis refused it: %s", r->str);
    else snprintf(why, sizeof why, "Redis answered with an unexpected reply (type %d)", r->type);
    report(p, e, PUB_FAILED, NULL, why, 0, done, ctx);
}

int pub_collect(pub *p, size_t keep, pub_done_fn done, void *ctx, char *err, size_t errlen)
{
    if (p->dead) {
        give_up(p, done, ctx);
        snprintf(err, errlen, "Redis unreachable: %s", p->lasterr);
        return -1;
    }
    while (p->nsent > keep || p->nqueued > 0) {
        if (p->broken || p->c == NULL) {
            int rc = recover(p, done, ctx);
            if (rc == -1) goto fail;
            compact(p);
            continue;
        }
        if (p->nqueued > 0 && !p->hold) {
            pub_send(p);
            continue;
        }
        if (p->nsent == 0) {
            /* Everything in flight is answered; what is queued was refused for now. */
            if (p->wait) {
                if (stopping(p) || p->bo.attempt >= p->o.retries) goto fail;
                sleep_ms(backoff_next(&p->bo));
                p->wait = 0;
            }
            if (p->reload && load_script(p) < 0) {
                if (!p->broken) p->wait = 1;   /* refused for now; a broken link goes through recover */
                continue;
            }
            if (p->reload) log_info("pub.script_reloaded", "resent=%zu", p->nqueued);
            p->reload = 0;
            p->hold = 0;
            p->rd = p->first;
            continue;
        }
        redisReply *r = NULL;
        if (redisGetReply(p->c, (void **)&r) != REDIS_OK || r == NULL) {
            snprintf(p->lasterr, sizeof p->lasterr, "Redis: %s", p->c->errstr[0] ? p->c->errstr : "connection lost");
            p->broken = 1;
            continue;
        }
        while (p->rd < p->n && p->e[p->rd].state != E_SENT) p->rd++;
        if (p->rd == p->n) {   /* cannot happen: a reply nobody asked for */
            freeReplyObject(r);
            snprintf(p->lasterr, sizeof p->lasterr, "Redis: reply out of step");
            p->broken = 1;
            continue;
        }
        on_reply(p, &p->e[p->rd], r, done, ctx);
        p->rd++;
        freeReplyObject(r);
        if (p->rd - p->first > 4096) compact(p);
    }
    compact(p);
    return 0;
fail:
    give_up(p, done, ctx);
    snprintf(err, errlen, "Redis unreachable: %s", p->lasterr);
    return -1;
}
