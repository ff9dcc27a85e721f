#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "authz.h"
#include "buf.h"
#include "counters.h"
#include "hub.h"
#include "log.h"
#include "selection.h"
#include "sse.h"
#include "util.h"

#define HISTORY_PAGE 500
#define HISTORY_MAX_EVENTS 20000

struct history {
    frame **f;
    size_t n, cap, bytes;
    int truncated;
    bus_id last;
    filterset_sel *matched;   /* ?matched=1: each tweet is followed by its matched frame */
};

static void history_add(struct history *hs, frame *f, size_t len)
{
    if (hs->n == hs->cap) {
        hs->cap = hs->cap ? hs->cap * 2 : 64;
        hs->f = xrealloc(hs->f, hs->cap * sizeof *hs->f);
    }
    hs->f[hs->n++] = f;
    hs->bytes += len;
}

/* A tweet of the history, and on a ?matched=1 stream the `event: matched`
 * saying which of the selection's filters it matched. */
static void history_tweet(struct history *hs, bus_id id, const char *json, size_t len)
{
    frame *t = frame_tweet(id, json, len);
    history_add(hs, t, len);
    if (hs->matched) {
        buf members = BUF_INIT;
        filterset_sel_matched_tweet(hs->matched, json, len, &members);
        history_add(hs, frame_matched(t, members.data, members.len), members.len);
        buf_free(&members);
    }
}

static void history_add_tweet(bus_id id, const char *json, size_t len, void *arg)
{
    history_tweet(arg, id, json, len);
}

static void history_free(struct history *hs)
{
    for (size_t i = 0; i < hs->n; i++) frame_unref(hs->f[i]);
    free(hs->f);
    memset(hs, 0, sizeof *hs);
}

/* Every entry after `after` from the Redis stream that sel wants (NULL:
 * all), oldest first, up to the client buffer's worth (then truncated;
 * at least one tweet, however long, so that each resume gets further).
 * hs->last is the last entry looked at. 0 ok, -1 Redis failed. */
static int fetch_after(http_req *req, const char *key, bus_id after, filterset_sel *sel, struct history *hs)
{
    size_t budget = (size_t)http_config(req)->client_buffer;
    bus_id cur = after;
    hs->last = after;
    for (;;) {
        char start[BUS_ID_MAX];
        redisReply *r = redisconn_read(http_redis(req), "XRANGE %s %s + COUNT %d", key, bus_id_format(bus_id_next(cur), start),
                                           HISTORY_PAGE);
        size_t n;
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            if (r) freeReplyObject(r);
            return -1;
        }
        n = r->elements;
        for (size_t i = 0; i < n; i++) {
            bus_id id;
            const char *json;
            size_t len;
            if (bus_entry_parse(r->element[i], &id, &json, &len) < 0) {
                if (bus_entry_id(r->element[i], &id) == 0) cur = hs->last = id;   /* no tweet: passed */
                continue;
            }
            cur = id;
            if (sel && !filterset_sel_matches(sel, json, len)) {
                hs->last = id;
                continue;
            }
            /* the first tweet goes even when it alone is over the budget:
             * else the client would resume from the same id for ever */
            if (hs->n > 0 && (hs->bytes + len > budget || hs->n >= HISTORY_MAX_EVENTS)) {
                hs->truncated = 1;
                break;
            }
            history_tweet(hs, id, json, len);
            hs->last = id;
        }
        freeReplyObject(r);
        if (hs->truncated || n < HISTORY_PAGE) return 0;
    }
}

/* The newest n entries from the Redis stream, oldest first — at most
 * client-buffer bytes of them (at least one), as a client may owe no more
 * at once: read newest first in pages, so that large tweets never fill
 * memory with preload-max of them. hs->last is the stream's newest id (live
 * events continue after it). 0 ok, -1 Redis failed. */
static int fetch_newest(http_req *req, const char *key, size_t n, struct history *hs)
{
    size_t budget = (size_t)http_config(req)->client_buffer, bytes = 0, nv = 0;
    struct { frame *f; size_t len; } *v = n ? xcalloc(n, sizeof *v) : NULL;
    char end[BUS_ID_MAX + 1] = "+";
    int rc = -1, full = 0;

    hs->last.ms = hs->last.seq = 0;
    while (nv < n && !full) {
        size_t want = n - nv < HISTORY_PAGE ? n - nv : HISTORY_PAGE;
        redisReply *r = redisconn_read(http_redis(req), "XREVRANGE %s %s - COUNT %zu", key, end, want);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            if (r) freeReplyObject(r);
            goto done;
        }
        bus_id id = {0, 0};
        for (size_t i = 0; i < r->elements && !full; i++) {
            const char *json;
            size_t len;
            if (bus_entry_parse(r->element[i], &id, &json, &len) < 0) {
                bus_entry_id(r->element[i], &id);            /* no tweet: the next page starts below it */
                continue;
            }
            if (hs->last.ms == 0 && hs->last.seq == 0) hs->last = id;
            if (nv > 0 && bytes + len > budget) {
                full = 1;
                break;
            }
            v[nv].f = frame_tweet(id, json, len);
            v[nv++].len = len;
            bytes += len;
        }
        size_t got = r->elements;
        freeReplyObject(r);
        if (got < want || (id.ms == 0 && id.seq == 0)) break;
        bus_id_format(bus_id_prev(id), end);
    }
    rc = 0;
done:
    for (size_t i = nv; i > 0; i--) {
        if (rc == 0) history_add(hs, v[i - 1].f, v[i - 1].len);
        else frame_unref(v[i - 1].f);
    }
    free(v);
    return rc;
}

/* The oldest entry id of the stream: 1 found, 0 empty stream, -1 Redis failed. */
static int oldest_id(http_req *req, const char *key, bus_id *out)
{
    redisReply *r = redisconn_read(http_redis(req), "XRANGE %s - + COUNT 1", key);
    int rc = -1;
    if (r && r->type == REDIS_REPLY_ARRAY) {
        rc = 0;
        if (r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 1 &&
            r->element[0]->element[0]->type == REDIS_REPLY_STRING &&
            bus_id_parse(r->element[0]->element[0]->str, r->element[0]->element[0]->len, out) == 0)
            rc = 1;
    }
    if (r) freeReplyObject(r);
    return rc;
}

static frame *reset_frame(bus_id oldest)
{
    buf b = BUF_INIT;
    char ids[BUS_ID_MAX];
    frame *f;
    bus_id_format(oldest, ids);
    sse_encode_event(&b, NULL, "reset", ids, strlen(ids));
    f = frame_raw(b.data, b.len);
    buf_free(&b);
    return f;
}

/* The headers every /stream answer carries (after Status and Content-Type). */
#define STREAM_HEADERS "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
#define STREAM_TYPE "text/event-stream; charset=utf-8"
#define AHEAD_TOLERANCE_MS 5000      /* a Last-Event-ID this far past every clock resumes, beyond: reset */

static frame *head_frame(const http_req *req)
{
    buf b = BUF_INIT;
    frame *f;
    http_head(req, &b, 200, STREAM_TYPE, -1, STREAM_HEADERS);
    sse_encode_retry(&b, (unsigned long)http_config(req)->retry_ms);
    f = frame_raw(b.data, b.len);
    buf_free(&b);
    return f;
}

/* A failure that passes (Redis down, the process full, shutting down): 200
 * text/event-stream with the usual headers and only "retry: ms", so that
 * EventSource reconnects (with its Last-Event-ID) instead of giving up as it
 * does on any other status. */
static void answer_retry(http_req *req, const char *why)
{
    const config *cfg = http_config(req);
    long long ms = cfg->retry_ms;
    buf body = BUF_INIT;
    if (strcmp(why, "full") == 0 && ms < 5000) ms = 5000;          /* another responder may have room */
    else if (strcmp(why, "redis") == 0 && ms < 2000) ms = 2000;
    sse_encode_retry(&body, (unsigned long)ms);
    http_reply(req, 200, STREAM_TYPE, STREAM_HEADERS, body.data, body.len);
    log_debug("stream.retry", "why=%s retry_ms=%lld", why, ms);
    buf_free(&body);
}

static int one_param(http_req *req, const char *key, const char **out)
{
    size_t n = query_count(http_query(req), key);
    *out = NULL;
    if (n > 1) {
        http_error(req, 400, "bad_request", "parameter '%s' given %zu times", key, n);
        return -1;
    }
    *out = http_param(req, key);
    return 0;
}

/* What the client asked for. */
struct ask {
    size_t preload;
    int have_after;
    bus_id after;              /* Last-Event-ID */
    filterset_sel *sel;        /* NULL: everything */
    int matched;               /* ?matched=1: each tweet followed by what it matched */
};

/* Is after past every clock we know (the newest id, the wall clock) by more
 * than the tolerance? Such an id was not made by this stream (a stream
 * reset, another deployment): the client starts over. A little ahead (a
 * replica behind the one the browser read, a clock a little off) resumes. */
static int far_ahead(bus_id after, const ring_info *ri)
{
    uint64_t now = wall_ms(), newest = ri->newest.ms > now ? ri->newest.ms : now;
    return after.ms > newest + AHEAD_TOLERANCE_MS;
}

/* The oldest id the deployment still holds (0-0 for an empty stream), for
 * "event: reset". 0 ok, -1 Redis failed. */
static int oldest_held(http_req *req, const char *key, const ring_info *ri, bus_id *out)
{
    int rc;
    if (ri->whole) {
        *out = ri->oldest;
        return 0;
    }
    rc = oldest_id(req, key, out);
    if (rc == 0) out->ms = out->seq = 0;
    return rc < 0 ? -1 : 0;
}

/* Where the stream's history comes from: into s (from the ring, or the
 * history in hs, and where live events continue), *reset when the client
 * must start over. 0 ok, -1 Redis failed. */
static int plan_history(http_req *req, hub *h, const struct ask *a, hub_stream *s, struct history *hs, frame **reset)
{
    char key[256];
    ring_info ri;
    bus_id oldest;

    bus_key(key, sizeof key, http_config(req)->prefix, BUS_KEY_TWEETS);
    hub_ring_info(h, &ri);
    if (a->have_after && far_ahead(a->after, &ri)) {
        if (oldest_held(req, key, &ri, &oldest) < 0) return -1;
        *reset = reset_frame(oldest);
    } else if (a->have_after) {
        /* A filtered stream resumes from Redis: ring frames older than its
         * selection were not matched against it. */
        if (!a->sel && (ri.whole || bus_id_cmp(a->after, ri.floor) >= 0)) {
            /* the ring holds everything after it */
            if (!(ri.whole && ri.count && bus_id_cmp(a->after, ri.oldest) < 0)) {
                s->after = a->after;
                return 0;
            }
            *reset = reset_frame(ri.oldest);        /* trimmed away: start over */
        } else {
            int rc = oldest_id(req, key, &oldest);
            if (rc < 0) return -1;
            if (rc == 1 && bus_id_cmp(a->after, oldest) < 0) {
                *reset = reset_frame(oldest);
            } else {
                if (fetch_after(req, key, a->after, a->sel, hs) < 0) return -1;
                s->after = hs->last;
                return 0;
            }
        }
    }
    /* the preload */
    if (a->sel) {
        /* the newest N matching tweets: scan the history backwards */
        return selection_newest(req, key, a->sel, a->preload, (size_t)http_config(req)->client_buffer,
                                history_add_tweet, hs, &s->after);
    } else if (a->preload <= ri.count || ri.whole) {
        s->from_ring = 1;
        s->ring_preload = a->preload;
        return 0;
    }
    if (fetch_newest(req, key, a->preload, hs) < 0) return -1;
    s->after = hs->last;
    return 0;
}

/* Read the request's parameters into a. 0 ok, SELECTION_AGAIN (Redis needed
 * for a filter and down), -1 after answering 400/404. */
static int read_ask(http_req *req, struct ask *a)
{
    const config *cfg = http_config(req);
    const char *preload_s, *leid_q, *leid, *why, *matched_s;
    long long preload = cfg->preload;

    memset(a, 0, sizeof *a);
    if (one_param(req, "preload", &preload_s) < 0 || one_param(req, "lastEventId", &leid_q) < 0 ||
        one_param(req, "matched", &matched_s) < 0)
        return -1;
    if (matched_s && strcmp(matched_s, "0") != 0 && strcmp(matched_s, "1") != 0) {
        http_error(req, 400, "bad_request", "matched must be 0 or 1");
        return -1;
    }
    a->matched = matched_s && strcmp(matched_s, "1") == 0;
    if (preload_s && parse_ll(preload_s, 0, cfg->preload_max, &preload, &why) < 0) {
        http_error(req, 400, "bad_request", "preload '%s' is %s (allowed 0..%lld)", preload_s, why, cfg->preload_max);
        return -1;
    }
    a->preload = (size_t)preload;
    leid = http_header(req, "Last-Event-ID");
    if (leid == NULL || *leid == '\0') leid = leid_q;
    if (leid && *leid) {
        if (bus_id_parse(leid, strlen(leid), &a->after) < 0) {
            http_error(req, 400, "bad_request", "Last-Event-ID '%s' is not a stream id (<ms>-<seq>)", leid);
            return -1;
        }
        a->have_after = 1;
    }
    return selection_from_request(req, &a->sel);
}

void stream_get(http_req *req)
{
    const proc *p = http_proc(req);
    hub *h = p->hub;
    const char *why;
    struct ask a;
    struct history hs;
    frame *reset = NULL;
    hub_stream *s;
    int rc;

    authz_grant g;
    int64_t expires_ms = 0;

    memset(&hs, 0, sizeof hs);
    if (authz_require(req, AUTHZ_READ, &g) < 0) return;   /* auth-reads: streams need a token too */
    if (authz_scope(req, &g, AUTHZ_STREAM) < 0) {         /* a scoped reader: its saved filters only */
        authz_grant_free(&g);
        return;
    }
    if (g.reader) expires_ms = g.claims.exp * 1000;       /* the stream ends when its reader token does */
    authz_grant_free(&g);
    rc = read_ask(req, &a);
    if (rc < 0) return;
    if (rc == SELECTION_AGAIN) {
        counters_add(p->counters, COUNTER_STREAMS_REFUSED_REDIS, 1);
        answer_retry(req, "redis");
        return;
    }
    if (http_is_head(req)) {                 /* the headers a stream would get, no stream */
        filterset_release(p->filters, a.sel);
        http_reply_unsized(req, 200, STREAM_TYPE, STREAM_HEADERS);
        return;
    }
    if (hub_admit(h, &why) < 0) {
        filterset_release(p->filters, a.sel);
        if (strcmp(why, "stopping") != 0)
            counters_add(p->counters,
                         strcmp(why, "full") == 0 ? COUNTER_STREAMS_REFUSED_FULL : COUNTER_STREAMS_REFUSED_REDIS, 1);
        answer_retry(req, why);
        return;
    }
    /* What is left of a request body (a GET has none) arrives at the hub,
     * which drops it: nothing here waits for it. */

    s = xcalloc(1, sizeof *s);
    s->matched = a.matched && a.sel != NULL;
    if (s->matched) hs.matched = a.sel;
    if (plan_history(req, h, &a, s, &hs, &reset) < 0) {
        log_warn("stream.redis_failed", "err=\"%s\"", redisconn_error(http_redis(req)));
        counters_add(p->counters, COUNTER_STREAMS_REFUSED_REDIS, 1);
        hub_release(h);
        filterset_release(p->filters, a.sel);
        history_free(&hs);
        frame_unref(reset);
        free(s);
        answer_retry(req, "redis");
        return;
    }
    s->head = head_frame(req);
    s->reset = reset;
    s->history = hs.f;
    s->nhistory = hs.n;
    s->history_truncated = hs.truncated;
    s->selection = a.sel;
    s->expires_ms = expires_ms;
    s->fd = http_take_connection(req, &s->request_id);   /* last: the request's parameters go with it */
    hub_submit(h, s);
}
