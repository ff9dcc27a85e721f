#include "pub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "backoff.h"
#include "buf.h"
#include "bus.h"
#include "log.h"
#include "sentinel.h"
#include "util.h"

/* KEYS[1] = stream, KEYS[2] = channel, ARGV[1] = history, ARGV[2] = tweet. */
static const char script[] =
    "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2])\n"
    "redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[2])\n"
    "return id\n";

/* Longest one WAIT blocks the connection; a short answer is asked again. */
#define WAIT_STEP_MS 1000

/* An entry is a tweet, or a command whose reply comes in between (WAIT, the
 * fence publish). E_WRITTEN: in the stream, waiting for a WAIT to confirm it. */
enum { E_QUEUED, E_SENT, E_WRITTEN, E_DONE };
enum { K_TWEET, K_WAIT, K_FENCE };

struct entry {
    unsigned long long tag;
    size_t cmd_off, cmd_len;    /* the command in p->cmds */
    size_t json_off, json_len;  /* the tweet inside it */
    bus_id id;                  /* E_WRITTEN: where it is */
    unsigned char state, kind;
};

struct pub {
    pub_opts o;
    redisContext *c;            /* NULL or broken: reconnect before use */
    bus_peer peer;              /* where c goes */
    char moved_to[300];         /* the last new master a retry wait was cut short for */
    int broken;
    int dead;                   /* gave up: every tweet fails at once */
    char sha[41];
    char key_tweets[256], key_live[256], key_fence[256];
    buf head;                   /* constant start of every EVALSHA command */
    buf cmds;                   /* formatted commands of entries[first..n) */
    struct entry *e;
    size_t first, n, cap;       /* entries[first..n) are held */
    size_t rd;                  /* no E_SENT entry before this index */
    size_t nsent, nqueued, nwritten;   /* tweets in each state */
    size_t nctl;                /* WAIT / fence commands sent, reply not read */
    size_t nwait;               /* of which WAITs: at most one at a time */
    int hold;                   /* some entries were requeued: resend once nothing is in flight */
    int reload;                 /* the script must be loaded again before resending */
    int wait;                   /* Redis said "try later": back off before resending */
    int fresh;                  /* no write confirmed on this connection yet: fence before WAIT */
    int wait_failed;            /* the replicas did not confirm within wait_timeout_ms */
    uint64_t short_since_ms;    /* WAIT has come back short since then (0: it has not) */
    bus_id water;               /* confirmed: every later tweet gets an id above this */
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

/* ---- recovery matching (no I/O) ---- */

int pub_tweet_id(const char *json, size_t len, const char **id, size_t *n)
{
    static const char lead[] = "{\"id\":\"";
    size_t i = sizeof lead - 1;
    if (len < i || memcmp(json, lead, i) != 0) return -1;
    for (size_t k = i; k < len; k++) {
        if (json[k] == '\\') {
            k++;
            continue;
        }
        if (json[k] == '"') {
            *id = json + i;
            *n = k - i;
            return 0;
        }
    }
    return -1;
}

struct pub_matcher {
    const pub_text *pending;
    size_t n;
    size_t cap;                 /* slots, a power of two */
    long *slot;                 /* first pending index with a tweet id hashing here, -1: empty */
    long *next;                 /* next pending index with the same tweet id, -1: none */
    unsigned char *taken;
};

/* The slot holding tweet id (id, n), or the empty slot where it would go. */
static size_t find_slot(const pub_matcher *m, const char *id, size_t n)
{
    size_t i = (size_t)hash_fnv1a(id, n) & (m->cap - 1);
    for (;;) {
        long k = m->slot[i];
        const char *kid;
        size_t kn;
        if (k < 0) return i;
        if (pub_tweet_id(m->pending[k].p, m->pending[k].n, &kid, &kn) == 0 && kn == n && memcmp(kid, id, n) == 0)
            return i;
        i = (i + 1) & (m->cap - 1);
    }
}

pub_matcher *pub_matcher_new(const pub_text *pending, size_t n)
{
    pub_matcher *m = xcalloc(1, sizeof *m);
    m->pending = pending;
    m->n = n;
    m->cap = 16;
    while (m->cap < 2 * n) m->cap *= 2;
    m->slot = xmalloc(m->cap * sizeof *m->slot);
    m->next = xmalloc((n ? n : 1) * sizeof *m->next);
    m->taken = xcalloc(n ? n : 1, 1);
    for (size_t i = 0; i < m->cap; i++) m->slot[i] = -1;
    /* Insert from the last, so each chain runs in send order. */
    for (size_t k = n; k > 0; k--) {
        const char *id;
        size_t idn;
        m->next[k - 1] = -1;
        if (pub_tweet_id(pending[k - 1].p, pending[k - 1].n, &id, &idn) < 0) continue;
        size_t s = find_slot(m, id, idn);
        m->next[k - 1] = m->slot[s];
        m->slot[s] = (long)(k - 1);
    }
    return m;
}

long pub_matcher_take(pub_matcher *m, const char *text, size_t len)
{
    const char *id;
    size_t n;
    if (pub_tweet_id(text, len, &id, &n) < 0) return -1;
    for (long k = m->slot[find_slot(m, id, n)]; k >= 0; k = m->next[k])
        if (!m->taken[k]) {
            m->taken[k] = 1;
            return k;
        }
    return -1;
}

void pub_matcher_free(pub_matcher *m)
{
    if (m == NULL) return;
    free(m->slot);
    free(m->next);
    free(m->taken);
    free(m);
}

/* ---- connection ---- */

/* Run one command that must not fail; the reply is returned to the caller
 * (or NULL with lasterr set, and the connection marked broken when the
 * failure was an I/O error or the server is no longer the master). */
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
        if (bus_reply_failover(r)) p->broken = 1;
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

/* One connection attempt: connect (to the master the URL names now), load the script. */
static int connect_once(pub *p)
{
    char err[256];
    if (p->c) redisFree(p->c);
    p->c = bus_connect_peer(p->o.redis_url, p->o.timeout_ms, &p->peer, err, sizeof err);
    if (p->c == NULL) {
        snprintf(p->lasterr, sizeof p->lasterr, "%s", err);
        return -1;
    }
    p->broken = 0;
    p->fresh = 1;
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
    if (p->o.wait_replicas < 0) p->o.wait_replicas = 0;
    if (p->o.wait_timeout_ms < 1) p->o.wait_timeout_ms = 1;
    bus_key(p->key_tweets, sizeof p->key_tweets, p->o.prefix, BUS_KEY_TWEETS);
    bus_key(p->key_live, sizeof p->key_live, p->o.prefix, BUS_KEY_LIVE);
    bus_key(p->key_fence, sizeof p->key_fence, p->o.prefix, BUS_KEY_FENCE);
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
    return p->nsent + p->nwritten;
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

static struct entry *new_entry(pub *p, int kind)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->e = xrealloc(p->e, p->cap * sizeof *p->e);
    }
    struct entry *e = &p->e[p->n++];
    memset(e, 0, sizeof *e);
    e->kind = (unsigned char)kind;
    e->cmd_off = p->cmds.len;
    e->state = E_QUEUED;
    return e;
}

/* Move e to state st, keeping the counters right. */
static void set_state(pub *p, struct entry *e, int st)
{
    if (e->kind == K_TWEET) {
        size_t *from = e->state == E_QUEUED ? &p->nqueued : e->state == E_SENT ? &p->nsent
                     : e->state == E_WRITTEN ? &p->nwritten : NULL;
        size_t *to = st == E_QUEUED ? &p->nqueued : st == E_SENT ? &p->nsent : st == E_WRITTEN ? &p->nwritten : NULL;
        if (from) (*from)--;
        if (to) (*to)++;
    } else {
        if (e->state == E_SENT) {
            p->nctl--;
            if (e->kind == K_WAIT) p->nwait--;
        }
        if (st == E_SENT) {
            p->nctl++;
            if (e->kind == K_WAIT) p->nwait++;
        }
    }
    e->state = (unsigned char)st;
}

void pub_add(pub *p, const char *json, size_t len, unsigned long long tag)
{
    char num[32];
    int nl = snprintf(num, sizeof num, "$%zu\r\n", len);
    struct entry *e = new_entry(p, K_TWEET);
    e->tag = tag;
    buf_reserve(&p->cmds, p->head.len + (size_t)nl + len + 2);
    buf_append(&p->cmds, p->head.data, p->head.len);
    buf_append(&p->cmds, num, (size_t)nl);
    e->json_off = p->cmds.len;
    e->json_len = len;
    buf_append(&p->cmds, json, len);
    buf_append(&p->cmds, "\r\n", 2);
    e->cmd_len = p->cmds.len - e->cmd_off;
    e->state = E_DONE;
    set_state(p, e, E_QUEUED);
}

/* Queue a WAIT (preceded by the fence publish on a connection that has
 * written nothing yet, so that WAIT measures the master's whole data, not
 * an empty set of writes). */
static void add_wait(pub *p)
{
    if (p->fresh) {
        struct entry *f = new_entry(p, K_FENCE);
        buf_printf(&p->cmds, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$0\r\n\r\n", strlen(p->key_fence), p->key_fence);
        f->cmd_len = p->cmds.len - f->cmd_off;
    }
    int step = WAIT_STEP_MS < p->o.wait_timeout_ms ? WAIT_STEP_MS : p->o.wait_timeout_ms;
    char n[24], t[24];
    snprintf(n, sizeof n, "%d", p->o.wait_replicas);
    snprintf(t, sizeof t, "%d", step);
    struct entry *w = new_entry(p, K_WAIT);
    buf_printf(&p->cmds, "*3\r\n$4\r\nWAIT\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(n), n, strlen(t), t);
    w->cmd_len = p->cmds.len - w->cmd_off;
}

static void report(pub *p, struct entry *e, enum pub_status st, const char *id, const char *error, int recovered,
                   pub_done_fn done, void *ctx)
{
    pub_result r = {st, e->tag, id, error, p->cmds.data + e->json_off, e->json_len, recovered};
    set_state(p, e, E_DONE);
    done(ctx, &r);
}

/* Write every queued entry without waiting for replies: the tweets, then,
 * when replicas must confirm and no WAIT is out already, a WAIT after them
 * (one at a time: each may block the connection up to WAIT_STEP_MS). With
 * tweets=0, only that WAIT, for what is written. A write error is not
 * reported here; pub_collect recovers from it. */
static void send_queued(pub *p, int tweets)
{
    if (p->dead || p->broken || p->c == NULL || p->hold) return;
    if (tweets ? p->nqueued == 0 : p->nwritten == 0) return;
    if (p->o.wait_replicas > 0 && p->nwait == 0) add_wait(p);
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
            set_state(p, &p->e[j], E_SENT);
            j++;
        }
        redisAppendFormattedCommand(p->c, p->cmds.data + p->e[i].cmd_off, len);
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

/* A found tweet, with the id it has in the stream: confirmed now without
 * replicas to wait for, else written and waiting for WAIT. */
static void found(pub *p, struct entry *e, const char *sid, size_t sidlen, pub_done_fn done, void *ctx)
{
    if (p->o.wait_replicas == 0) {
        report(p, e, PUB_OK, sid, NULL, 1, done, ctx);
        return;
    }
    if (bus_id_parse(sid, sidlen, &e->id) == 0) set_state(p, e, E_WRITTEN);
}

/* The connection broke (or the server stopped being the master) with
 * tweets unconfirmed: reconnect, find which of them the master holds (by
 * tweet id, in the stream after p->water), keep those, and queue the rest
 * again. 0 ok; -1 gave up; -2 lost again (call again). */
/* Wait ms before the next attempt; with a Sentinel URL, stop early once the
 * Sentinels name a new master (neither the one the lost connection had nor
 * one this wait was already cut short for): the failover is done, go to it
 * at once rather than after the backoff. */
static void retry_wait(pub *p, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    int watch = sentinel_url_is(p->o.redis_url) && p->peer.addr[0];
    for (uint64_t now = now_ms(); now < end && !stopping(p); now = now_ms()) {
        char m[300];
        sleep_ms(watch && end - now > 250 ? 250 : (long long)(end - now));
        if (watch && bus_master_addr(p->o.redis_url, m, sizeof m) == 0 && strcmp(m, p->peer.addr) != 0 &&
            strcmp(m, p->moved_to) != 0) {
            strlcpy_safe(p->moved_to, m, sizeof p->moved_to);
            return;
        }
    }
}

static int recover(pub *p, pub_done_fn done, void *ctx)
{
    log_warn("pub.disconnected", "inflight=%zu unconfirmed=%zu error=\"%s\"", p->nsent, p->nwritten, p->lasterr);
    for (;;) {
        if (stopping(p) || p->bo.attempt >= p->o.retries) return -1;
        int ms = backoff_next(&p->bo);
        retry_wait(p, ms);
        if (stopping(p)) return -1;
        if (connect_once(p) < 0) {
            log_warn("pub.retry", "attempt=%d error=\"%s\"", p->bo.attempt, p->lasterr);
            continue;
        }
        break;
    }
    p->reconnects++;
    /* Commands between tweets died with the connection. */
    for (size_t i = p->first; i < p->n; i++)
        if (p->e[i].kind != K_TWEET) set_state(p, &p->e[i], E_DONE);

    /* The unconfirmed tweets, in send order. */
    size_t n = 0, cap = p->nsent + p->nwritten;
    size_t *idx = xmalloc((cap ? cap : 1) * sizeof *idx);
    pub_text *pend = xmalloc((cap ? cap : 1) * sizeof *pend);
    for (size_t i = p->first; i < p->n && n < cap; i++)
        if (p->e[i].kind == K_TWEET && (p->e[i].state == E_SENT || p->e[i].state == E_WRITTEN)) {
            idx[n] = i;
            pend[n].p = p->cmds.data + p->e[i].json_off;
            pend[n].n = p->e[i].json_len;
            n++;
        }
    pub_matcher *m = pub_matcher_new(pend, n);

    size_t nfound = 0;
    bus_id cursor = p->water, top = p->water;
    int rc = 0;
    while (n > 0) {
        char lo[BUS_ID_MAX];
        bus_id_format(bus_id_next(cursor), lo);
        redisReply *r = command(p, "XRANGE", "XRANGE %s %s + COUNT 1000", p->key_tweets, lo);
        if (r == NULL) {
            p->broken = 1;
            rc = -2;
            break;
        }
        size_t got = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        for (size_t k = 0; k < got; k++) {
            bus_id eid;
            const char *json;
            size_t len;
            if (bus_entry_parse(r->element[k], &eid, &json, &len) < 0) {
                if (bus_entry_id(r->element[k], &eid) == 0) cursor = eid;   /* no tweet: passed */
                continue;
            }
            cursor = eid;
            if (bus_id_cmp(eid, top) > 0) top = eid;
            long at = pub_matcher_take(m, json, len);
            if (at >= 0) {
                const redisReply *sid = r->element[k]->element[0];
                found(p, &p->e[idx[at]], sid->str, sid->len, done, ctx);
                nfound++;
            }
        }
        freeReplyObject(r);
        if (got < 1000) break;
    }
    if (rc == 0) {
        /* What the stream does not hold is sent again. */
        for (size_t k = 0; k < n; k++)
            if (!m->taken[k]) set_state(p, &p->e[idx[k]], E_QUEUED);
        if (p->o.wait_replicas == 0) p->water = top;
        p->rd = p->first;
        p->hold = 0;
        p->reload = 0;
        p->recovered += nfound;
        log_info("pub.recovered", "found_in_stream=%zu resent=%zu", nfound, n - nfound);
    } else if (p->o.wait_replicas == 0) {
        /* Lost again: what was found is reported; the rest is looked for
         * after cursor on the next attempt (nothing before it is missing). */
        p->water = cursor;
        p->recovered += nfound;
    }
    pub_matcher_free(m);
    free(idx);
    free(pend);
    return rc;
}

static void give_up(pub *p, const char *why, pub_done_fn done, void *ctx)
{
    char unconf[400], noreply[400];
    if (p->wait_failed)
        snprintf(unconf, sizeof unconf, "in the master's stream, but fewer than %d replicas confirmed it within %d ms",
                 p->o.wait_replicas, p->o.wait_timeout_ms);
    else
        snprintf(unconf, sizeof unconf, "written, not yet confirmed by replicas, then: %s", why);
    snprintf(noreply, sizeof noreply, "no reply, it may or may not be in the stream: %s", why);
    for (size_t i = p->first; i < p->n; i++) {
        struct entry *e = &p->e[i];
        if (e->kind != K_TWEET) set_state(p, e, E_DONE);
        else if (e->state == E_WRITTEN) report(p, e, PUB_UNCONFIRMED, NULL, unconf, 0, done, ctx);
        else if (e->state == E_SENT) report(p, e, PUB_UNCONFIRMED, NULL, noreply, 0, done, ctx);
        else if (e->state == E_QUEUED) report(p, e, PUB_FAILED, NULL, why, 0, done, ctx);
    }
    p->dead = 1;
    compact(p);
}

static int transient(const char *msg)
{
    static const char *const words[] = {"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"};
    for (size_t i = 0; i < ARRAY_LEN(words); i++) {
        size_t l = strlen(words[i]);
        if (strncmp(msg, words[i], l) == 0 && (msg[l] == ' ' || msg[l] == '\0')) return 1;
    }
    return 0;
}

/* WAIT answered: enough replicas confirm every tweet written before it;
 * too few for too long is the end. */
static void on_wait(pub *p, size_t at, redisReply *r, pub_done_fn done, void *ctx)
{
    if (r->type != REDIS_REPLY_INTEGER) {
        snprintf(p->lasterr, sizeof p->lasterr, "Redis WAIT: %s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        p->broken = 1;
        return;
    }
    if (r->integer >= p->o.wait_replicas) {
        for (size_t i = p->first; i < at; i++) {
            struct entry *e = &p->e[i];
            if (e->state != E_WRITTEN) continue;
            char sid[BUS_ID_MAX];
            if (bus_id_cmp(e->id, p->water) > 0) p->water = e->id;
            report(p, e, PUB_OK, bus_id_format(e->id, sid), NULL, 0, done, ctx);
        }
        p->short_since_ms = 0;
        return;
    }
    uint64_t now = now_ms();
    if (p->nwritten == 0) return;          /* nothing of ours waits on it */
    if (bus_master_moved(p->o.redis_url, &p->peer)) {
        /* Cut off from its replicas because it is not the master any more
         * (a failover this connection did not see): go to the new one. */
        snprintf(p->lasterr, sizeof p->lasterr, "Redis at %s is no longer the master", p->peer.addr);
        p->broken = 1;
        return;
    }
    if (p->short_since_ms == 0) {
        p->short_since_ms = now;
        log_warn("pub.replicas_behind", "replicas=%lld wanted=%d unconfirmed=%zu", r->integer, p->o.wait_replicas,
                 p->nwritten);
    }
    if (now - p->short_since_ms >= (uint64_t)p->o.wait_timeout_ms) {
        snprintf(p->lasterr, sizeof p->lasterr, "only %lld of %d replicas confirmed the tweets written within %d ms "
                 "(--wait-timeout)", r->integer, p->o.wait_replicas, p->o.wait_timeout_ms);
        p->wait_failed = 1;
    }
}

/* Handle the reply to entry e. */
static void on_reply(pub *p, struct entry *e, redisReply *r, pub_done_fn done, void *ctx)
{
    if (e->kind == K_WAIT) {
        set_state(p, e, E_DONE);
        on_wait(p, (size_t)(e - p->e), r, done, ctx);
        return;
    }
    if (e->kind == K_FENCE) {
        set_state(p, e, E_DONE);
        if (r->type == REDIS_REPLY_INTEGER) p->fresh = 0;
        else if (bus_reply_failover(r)) p->broken = 1;
        return;
    }
    if (r->type == REDIS_REPLY_STRING) {
        bus_id id;
        int ok = bus_id_parse(r->str, r->len, &id) == 0;
        backoff_reset(&p->bo);
        p->fresh = 0;
        if (p->o.wait_replicas > 0 && ok) {
            e->id = id;
            set_state(p, e, E_WRITTEN);
            return;
        }
        if (ok && bus_id_cmp(id, p->water) > 0) p->water = id;
        report(p, e, PUB_OK, r->str, NULL, 0, done, ctx);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR && (strncmp(r->str, "NOSCRIPT", 8) == 0 || transient(r->str) || bus_reply_failover(r))) {
        /* Not executed: send it again once the pipeline is drained (to the
         * new master, when this server stopped being the master). */
        set_state(p, e, E_QUEUED);
        p->hold = 1;
        if (strncmp(r->str, "NOSCRIPT", 8) == 0) p->reload = 1;
        else if (bus_reply_failover(r)) p->broken = 1;
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
    char why[320];
    if (p->dead) goto fail;
    while (p->nsent + p->nwritten > keep || p->nqueued > 0) {
        if (p->wait_failed) goto fail;
        if (p->broken || p->c == NULL) {
            int rc = recover(p, done, ctx);
            if (rc == -1) goto fail;
            compact(p);
            continue;
        }
        if (p->nqueued > 0 && !p->hold) {
            send_queued(p, 1);
            continue;
        }
        if (p->nwritten > 0 && p->nwait == 0 && !p->hold) {   /* written, not yet confirmed: ask (again) */
            if (stopping(p)) goto fail;
            send_queued(p, 0);
            continue;
        }
        if (p->nsent == 0 && p->nctl == 0) {
            if (p->hold) {
                /* Everything in flight is answered; what is queued was refused for now. */
                if (p->wait) {
                    if (bus_master_moved(p->o.redis_url, &p->peer)) {
                        /* NOREPLICAS from a master cut off by a failover it did not see. */
                        snprintf(p->lasterr, sizeof p->lasterr, "Redis at %s is no longer the master", p->peer.addr);
                        p->broken = 1;
                        p->wait = 0;
                        continue;
                    }
                    if (stopping(p) || p->bo.attempt >= p->o.retries) goto fail;
                    int ms = backoff_next(&p->bo);
                    log_warn("pub.retry", "attempt=%d wait_ms=%d error=\"%s\"", p->bo.attempt, ms, p->lasterr);
                    sleep_ms(ms);
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
    if (p->wait_failed) snprintf(why, sizeof why, "%s", p->lasterr);
    else snprintf(why, sizeof why, "Redis unreachable: %s", p->lasterr);
    give_up(p, why, done, ctx);
    snprintf(err, errlen, "%s", why);
    return -1;
}
