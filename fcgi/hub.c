#include "hub.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "fcgirec.h"
#include "filterdb.h"
#include "filterset.h"
#include "log.h"
#include "selection.h"
#include "sse.h"
#include "util.h"

#define RING_MIN 4096
#define RING_BYTES (32u << 20)
#define WRITE_IOV 128
#define WRITE_BYTES (256u << 10)
#define BACKFILL_PAGE 1000
#define TRAILER_LEN (FCGIREC_HEADER_LEN + FCGIREC_END_LEN)

struct hub_frame {
    int refs;             /* -1: immortal */
    int is_tweet;
    bus_id id;
    uint32_t *slots;      /* tweets: the filters it matched (filterset_match) */
    size_t nslots;
    size_t len;
    char data[];
};

typedef struct client {
    int fd;
    unsigned request_id;
    struct client *prev, *next;           /* all clients, by last write (oldest first) */
    struct client *dirty_next;            /* pending flush after a broadcast */
    struct client *grave_next;
    uint64_t last_write_ms;
    hub_frame **q;                        /* queued frames: q[qhead..qlen) */
    uint32_t qhead, qlen, qcap;
    uint32_t off;                         /* bytes of q[qhead] already sent */
    size_t owed;                          /* content bytes queued, not yet sent */
    uint32_t rec_left;                    /* content bytes left in the open record */
    uint8_t hdr_off;                      /* bytes of hdr sent (8: none pending) */
    uint8_t trailer_off;                  /* bytes of the end-of-request trailer sent */
    unsigned char hdr[FCGIREC_HEADER_LEN];
    unsigned dirty : 1, want_out : 1, ending : 1, dead : 1, live : 1, end_after_drain : 1;
    bus_id last;                          /* newest tweet id queued */
    filterset_sel *selection;             /* NULL: everything */
} client;

struct hub {
    const config *cfg;
    int ep;
    int wake;
    /* handover from acceptors */
    pthread_mutex_t mu;
    hub_stream **inbox;
    size_t ninbox, capinbox;
    int nstreams;                          /* atomic: admitted streams */
    int redis_up;                          /* atomic */
    /* ring of recent frames (hub thread), with a published summary */
    hub_frame **ring;
    size_t ring_cap, ring_head, ring_count, ring_bytes;
    hub_ring_info info;                    /* under mu */
    int whole;
    bus_id floor;
    bus_id last_seen;
    int seen_any;
    /* clients */
    client *head, *tail;                   /* by last write */
    size_t nclients;
    client *dirty;
    client *grave;
    /* coalescing: live frames queued before this time wait for one pass */
    uint64_t hold_until_us;
    /* Redis */
    redisContext *sub, *cmd;
    uint64_t retry_at_ms;
    uint64_t backoff_ms;
    char key_tweets[256], key_live[256], key_control[256];
    int stopping;
    hub_stats stats;                       /* written here with relaxed atomics */
};

#define STAT_ADD(h, field, n) __atomic_add_fetch(&(h)->stats.field, (n), __ATOMIC_RELAXED)

static int tag_wake, tag_sub;

static uint64_t mono_ms(void) { return now_us() / 1000; }

/* ---- frames ---------------------------------------------------------------- */

static hub_frame *frame_alloc(size_t len)
{
    hub_frame *f = xmalloc(sizeof *f + len + 1);
    f->refs = 1;
    f->is_tweet = 0;
    f->id.ms = f->id.seq = 0;
    f->slots = NULL;
    f->nslots = 0;
    f->len = len;
    return f;
}

hub_frame *hub_frame_raw(const char *data, size_t len)
{
    hub_frame *f = frame_alloc(len);
    memcpy(f->data, data, len);
    f->data[len] = '\0';
    return f;
}

hub_frame *hub_frame_tweet(bus_id id, const char *json, size_t len)
{
    buf b = BUF_INIT;
    char ids[BUS_ID_MAX];
    hub_frame *f;
    sse_encode_event(&b, bus_id_format(id, ids), "tweet", json, len);
    f = hub_frame_raw(b.data, b.len);
    f->is_tweet = 1;
    f->id = id;
    buf_free(&b);
    return f;
}

static hub_frame *frame_ref(hub_frame *f)
{
    if (f->refs >= 0) f->refs++;
    return f;
}

void hub_frame_unref(hub_frame *f)
{
    if (f == NULL || f->refs < 0) return;
    if (--f->refs == 0) {
        free(f->slots);
        free(f);
    }
}

static hub_frame *ping_frame(void)
{
    static hub_frame *p;
    if (p == NULL) {
        buf b = BUF_INIT;
        sse_encode_comment(&b, "ping");
        p = hub_frame_raw(b.data, b.len);
        p->refs = -1;
        buf_free(&b);
    }
    return p;
}

/* ---- the ring -------------------------------------------------------------- */

static hub_frame *ring_at(const hub *h, size_t i)   /* i = 0: oldest */
{
    return h->ring[(h->ring_head + i) % h->ring_cap];
}

static void publish_info(hub *h)
{
    pthread_mutex_lock(&h->mu);
    h->info.whole = h->whole;
    h->info.floor = h->floor;
    h->info.count = h->ring_count;
    h->info.oldest = h->ring_count ? ring_at(h, 0)->id : h->floor;
    h->info.newest = h->ring_count ? ring_at(h, h->ring_count - 1)->id : h->last_seen;
    pthread_mutex_unlock(&h->mu);
}

static void ring_pop(hub *h)
{
    hub_frame *f = h->ring[h->ring_head];
    h->floor = f->id;
    h->whole = 0;
    h->ring_bytes -= f->len;
    h->ring_head = (h->ring_head + 1) % h->ring_cap;
    h->ring_count--;
    hub_frame_unref(f);
}

static void ring_push(hub *h, hub_frame *f)
{
    while (h->ring_count > 0 && (h->ring_count == h->ring_cap || h->ring_bytes + f->len > RING_BYTES)) ring_pop(h);
    h->ring[(h->ring_head + h->ring_count) % h->ring_cap] = frame_ref(f);
    h->ring_count++;
    h->ring_bytes += f->len;
}

static void ring_clear(hub *h, bus_id floor)
{
    while (h->ring_count) ring_pop(h);
    h->floor = floor;
    h->whole = 0;
}

void hub_ring_info_get(hub *h, hub_ring_info *out)
{
    pthread_mutex_lock(&h->mu);
    *out = h->info;
    pthread_mutex_unlock(&h->mu);
}

/* ---- clients: queue and writes ---------------------------------------------- */

/* The one place that decides whether a tweet goes to a client. */
static int client_wants(const client *c, const hub_frame *f)
{
    return filterset_wants(c->selection, f->slots, f->nslots);
}

static void list_unlink(hub *h, client *c)
{
    if (c->prev) c->prev->next = c->next;
    else h->head = c->next;
    if (c->next) c->next->prev = c->prev;
    else h->tail = c->prev;
    c->prev = c->next = NULL;
}

static void list_append(hub *h, client *c)
{
    c->prev = h->tail;
    c->next = NULL;
    if (h->tail) h->tail->next = c;
    else h->head = c;
    h->tail = c;
}

static void touch(hub *h, client *c)
{
    c->last_write_ms = mono_ms();
    if (h->tail != c) {
        list_unlink(h, c);
        list_append(h, c);
    }
}

static void enqueue(client *c, hub_frame *f)
{
    if (c->qhead > 0 && c->qhead == c->qlen) c->qhead = c->qlen = 0;
    if (c->qlen == c->qcap) {
        if (c->qhead > 0) {
            memmove(c->q, c->q + c->qhead, (c->qlen - c->qhead) * sizeof *c->q);
            c->qlen -= c->qhead;
            c->qhead = 0;
        }
        if (c->qlen == c->qcap) {
            c->qcap = c->qcap ? c->qcap * 2 : 4;
            c->q = xrealloc(c->q, c->qcap * sizeof *c->q);
        }
    }
    c->q[c->qlen++] = frame_ref(f);
    c->owed += f->len;
    if (f->is_tweet) c->last = f->id;
}

static void mark_dirty(hub *h, client *c)
{
    if (c->dirty || c->dead) return;
    c->dirty = 1;
    c->dirty_next = h->dirty;
    h->dirty = c;
}

/* Close the connection now; the memory goes at the end of this loop turn
 * (epoll may still hold events for it). */
static void client_kill(hub *h, client *c, const char *why)
{
    if (c->dead) return;
    c->dead = 1;
    log_debug("stream.close", "fd=%d why=%s owed=%zu", c->fd, why, c->owed);
    epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    list_unlink(h, c);
    h->nclients--;
    __atomic_sub_fetch(&h->nstreams, 1, __ATOMIC_RELEASE);
    filterset_release(selection_filters(), c->selection);
    c->selection = NULL;
    for (uint32_t i = c->qhead; i < c->qlen; i++) hub_frame_unref(c->q[i]);
    free(c->q);
    c->q = NULL;
    c->qhead = c->qlen = c->qcap = 0;
    c->grave_next = h->grave;
    h->grave = c;
}

static void set_want_out(hub *h, client *c, int on)
{
    struct epoll_event ev;
    if (c->want_out == (unsigned)on) return;
    c->want_out = on ? 1 : 0;
    ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Gather what c owes into iov: record headers and frame bytes, at most
 * WRITE_IOV pieces / WRITE_BYTES bytes. Mirrors advance() exactly. */
static int build_iov(client *c, struct iovec *iov, unsigned char (*hdrs)[FCGIREC_HEADER_LEN], size_t *total)
{
    uint32_t qi = c->qhead, off = c->off, rec_left = c->rec_left;
    uint8_t hdr_off = c->hdr_off;
    size_t owed = c->owed, bytes = 0;
    int n = 0, nh = 0;

    while (n < WRITE_IOV && bytes < WRITE_BYTES) {
        if (rec_left == 0) {
            if (owed == 0 || nh == WRITE_IOV / 2) break;
            rec_left = (uint32_t)(owed > FCGIREC_MAX_CONTENT ? FCGIREC_MAX_CONTENT : owed);
            fcgirec_header(hdrs[nh], FCGIREC_STDOUT, c->request_id, rec_left);
            iov[n].iov_base = hdrs[nh++];
            iov[n++].iov_len = FCGIREC_HEADER_LEN;
            bytes += FCGIREC_HEADER_LEN;
            hdr_off = FCGIREC_HEADER_LEN;
        } else if (hdr_off < FCGIREC_HEADER_LEN) {
            iov[n].iov_base = c->hdr + hdr_off;
            iov[n++].iov_len = FCGIREC_HEADER_LEN - hdr_off;
            bytes += FCGIREC_HEADER_LEN - hdr_off;
            hdr_off = FCGIREC_HEADER_LEN;
        } else {
            hub_frame *f = c->q[qi];
            size_t take = f->len - off;
            if (take > rec_left) take = rec_left;
            iov[n].iov_base = f->data + off;
            iov[n++].iov_len = take;
            bytes += take;
            off += (uint32_t)take;
            rec_left -= (uint32_t)take;
            owed -= take;
            if (off == f->len) {
                qi++;
                off = 0;
            }
        }
    }
    *total = bytes;
    return n;
}

/* Account for n bytes written. */
static void advance(client *c, size_t n)
{
    while (n > 0) {
        if (c->rec_left == 0) {
            c->rec_left = (uint32_t)(c->owed > FCGIREC_MAX_CONTENT ? FCGIREC_MAX_CONTENT : c->owed);
            fcgirec_header(c->hdr, FCGIREC_STDOUT, c->request_id, c->rec_left);
            c->hdr_off = 0;
        }
        if (c->hdr_off < FCGIREC_HEADER_LEN) {
            size_t take = FCGIREC_HEADER_LEN - c->hdr_off;
            if (take > n) take = n;
            c->hdr_off = (uint8_t)(c->hdr_off + take);
            n -= take;
            continue;
        }
        hub_frame *f = c->q[c->qhead];
        size_t take = f->len - c->off;
        if (take > c->rec_left) take = c->rec_left;
        if (take > n) take = n;
        c->off += (uint32_t)take;
        c->rec_left -= (uint32_t)take;
        c->owed -= take;
        n -= take;
        if (c->off == f->len) {
            hub_frame_unref(f);
            c->q[c->qhead++] = NULL;
            c->off = 0;
        }
    }
    if (c->qhead == c->qlen) {
        c->qhead = c->qlen = 0;
        if (c->qcap > 16) {             /* idle clients keep (almost) nothing */
            free(c->q);
            c->q = NULL;
            c->qcap = 0;
        }
    }
}

/* Write what c owes (and the trailer once it is ending and drained). */
static void flush(hub *h, client *c)
{
    struct iovec iov[WRITE_IOV];
    unsigned char hdrs[WRITE_IOV / 2][FCGIREC_HEADER_LEN];
    int wrote = 0;

    while (!c->dead && (c->owed > 0 || c->rec_left > 0)) {
        size_t total;
        int n = build_iov(c, iov, hdrs, &total);
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                set_want_out(h, c, 1);
                if (wrote) touch(h, c);
                return;
            }
            client_kill(h, c, "write_error");
            return;
        }
        wrote = 1;
        STAT_ADD(h, bytes_written, (unsigned long long)w);
        advance(c, (size_t)w);
        if ((size_t)w < total) {
            set_want_out(h, c, 1);
            touch(h, c);
            return;
        }
    }
    if (c->dead) return;
    if (wrote) touch(h, c);
    if (c->end_after_drain) c->ending = 1;
    if (c->ending) {
        unsigned char t[TRAILER_LEN];
        fcgirec_header(t, FCGIREC_STDOUT, c->request_id, 0);
        fcgirec_end_request(t + FCGIREC_HEADER_LEN, c->request_id, 0);
        while (c->trailer_off < TRAILER_LEN) {
            ssize_t w = write(c->fd, t + c->trailer_off, TRAILER_LEN - c->trailer_off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && errno == EAGAIN) {
                set_want_out(h, c, 1);
                return;
            }
            if (w <= 0) break;
            c->trailer_off = (uint8_t)(c->trailer_off + w);
        }
        client_kill(h, c, "ended");
        return;
    }
    set_want_out(h, c, 0);
}

/* Queue f for c if it wants it; drop c when it owes too much. */
static void offer(hub *h, client *c, hub_frame *f)
{
    if (c->dead || !c->live || c->ending || c->end_after_drain) return;
    if (bus_id_cmp(f->id, c->last) <= 0 || !client_wants(c, f)) return;
    enqueue(c, f);
    STAT_ADD(h, events_queued, 1);
    if ((long long)c->owed > h->cfg->client_buffer) {
        STAT_ADD(h, slow_cutoffs, 1);
        log_info("stream.slow_client", "fd=%d owed=%zu limit=%lld", c->fd, c->owed, h->cfg->client_buffer);
        client_kill(h, c, "over_client_buffer");
        return;
    }
    mark_dirty(h, c);
}

static void flush_dirty(hub *h)
{
    while (h->dirty) {
        client *c = h->dirty;
        h->dirty = c->dirty_next;
        c->dirty = 0;
        if (!c->dead && !c->want_out) flush(h, c);
    }
}

/* The write pass after broadcasts. Writing costs per write, not per byte
 * (here, in the web server and in the browser's kernel), so a busy hub
 * writes each client's pending frames together: after a pass that took d,
 * the next one waits until min(4 d, coalesce-ms) after this one began. A
 * few clients make d tiny and change nothing; thousands of clients on a
 * loaded machine get fewer, larger writes, each event held at most
 * coalesce-ms. Returns 1 when dirty clients are being held. */
static int flush_live(hub *h, uint64_t now)
{
    uint64_t hold, took, cap = (uint64_t)h->cfg->coalesce_ms * 1000;
    if (h->dirty == NULL) return 0;
    if (now < h->hold_until_us && !h->stopping) return 1;
    flush_dirty(h);
    took = now_us() - now;
    hold = 4 * took < cap ? 4 * took : cap;
    h->hold_until_us = now + hold;
    return 0;
}

/* Dead clients leave the dirty list before their memory goes. */
static void dirty_prune(hub *h)
{
    client **pp = &h->dirty;
    while (*pp) {
        if ((*pp)->dead) {
            (*pp)->dirty = 0;
            *pp = (*pp)->dirty_next;
        } else {
            pp = &(*pp)->dirty_next;
        }
    }
}

/* A new tweet from Redis: into the ring, then to every client that wants it. */
static void deliver(hub *h, bus_id id, const char *json, size_t len)
{
    hub_frame *f;
    if (h->seen_any && bus_id_cmp(id, h->last_seen) <= 0) return;   /* seen already */
    f = hub_frame_tweet(id, json, len);
    if (selection_filters()) f->slots = filterset_match(selection_filters(), json, len, &f->nslots);
    ring_push(h, f);
    h->last_seen = id;
    h->seen_any = 1;
    for (client *c = h->head, *next; c; c = next) {
        next = c->next;
        offer(h, c, f);
    }
    hub_frame_unref(f);
}

/* ---- streams handed over by acceptors ---------------------------------------- */

static void add_stream(hub *h, hub_stream *s)
{
    client *c = xcalloc(1, sizeof *c);
    struct epoll_event ev;
    int fl = fcntl(s->fd, F_GETFL);

    c->fd = s->fd;
    c->request_id = s->request_id;
    c->hdr_off = FCGIREC_HEADER_LEN;
    c->selection = s->selection;
    fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
    {   /* each event must leave at once: no Nagle wait for the web server's delayed ACK */
        int one = 1;
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* fails harmlessly on unix sockets */
    }
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = c;
    list_append(h, c);
    h->nclients++;
    if (epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        log_warn("stream.epoll_failed", "fd=%d err=\"%s\"", c->fd, strerror(errno));
        client_kill(h, c, "epoll");
        goto done;
    }
    enqueue(c, s->head);
    if (s->reset) enqueue(c, s->reset);
    if (s->from_ring) {
        /* the newest ring_preload frames the client wants, oldest first */
        size_t want = s->ring_preload, i = h->ring_count, start;
        while (i > 0 && want > 0) {
            if (client_wants(c, ring_at(h, i - 1))) want--;
            i--;
        }
        start = i;
        for (i = start; i < h->ring_count; i++)
            if (client_wants(c, ring_at(h, i))) enqueue(c, ring_at(h, i));
        c->last = h->last_seen;
        c->live = 1;
    } else {
        for (size_t i = 0; i < s->nhistory; i++) enqueue(c, s->history[i]);
        if (bus_id_cmp(s->after, c->last) > 0) c->last = s->after;
        if (s->history_truncated) {
            c->end_after_drain = 1;
        } else if (h->whole || bus_id_cmp(c->last, h->floor) >= 0) {
            /* the ring holds everything after c->last: fill the gap from it */
            size_t i = h->ring_count;
            while (i > 0 && bus_id_cmp(ring_at(h, i - 1)->id, c->last) > 0) i--;
            for (; i < h->ring_count; i++)
                if (client_wants(c, ring_at(h, i))) enqueue(c, ring_at(h, i));
            c->live = 1;
        } else {
            c->end_after_drain = 1;      /* events were lost meanwhile: the client resumes */
        }
    }
    STAT_ADD(h, streams_opened, 1);
    {
        unsigned long long tweets = 0;
        for (uint32_t i = c->qhead; i < c->qlen; i++) tweets += c->q[i]->is_tweet;
        STAT_ADD(h, events_queued, tweets);
    }
    log_debug("stream.open", "fd=%d queued=%zu live=%d", c->fd, c->owed, c->live);
    flush(h, c);
done:
    for (size_t i = 0; i < s->nhistory; i++) hub_frame_unref(s->history[i]);
    hub_frame_unref(s->head);
    hub_frame_unref(s->reset);
    free(s->history);
    free(s);
}

static void take_inbox(hub *h)
{
    hub_stream **in;
    size_t n;
    pthread_mutex_lock(&h->mu);
    in = h->inbox;
    n = h->ninbox;
    h->inbox = NULL;
    h->ninbox = h->capinbox = 0;
    pthread_mutex_unlock(&h->mu);
    for (size_t i = 0; i < n; i++) {
        if (h->stopping) in[i]->history_truncated = 1;
        add_stream(h, in[i]);
    }
    free(in);
}

int hub_admit(hub *h, const char **why)
{
    if (!__atomic_load_n(&h->redis_up, __ATOMIC_ACQUIRE)) {
        *why = "redis";
        return -1;
    }
    int n = __atomic_add_fetch(&h->nstreams, 1, __ATOMIC_ACQ_REL);
    if (n > h->cfg->max_clients) {
        __atomic_sub_fetch(&h->nstreams, 1, __ATOMIC_RELEASE);
        *why = "full";
        return -1;
    }
    return 0;
}

void hub_release(hub *h)
{
    __atomic_sub_fetch(&h->nstreams, 1, __ATOMIC_RELEASE);
}

size_t hub_streams(hub *h)
{
    return (size_t)__atomic_load_n(&h->nstreams, __ATOMIC_ACQUIRE);
}

void hub_submit(hub *h, hub_stream *s)
{
    uint64_t one = 1;
    ssize_t w;
    pthread_mutex_lock(&h->mu);
    if (h->ninbox == h->capinbox) {
        h->capinbox = h->capinbox ? h->capinbox * 2 : 16;
        h->inbox = xrealloc(h->inbox, h->capinbox * sizeof *h->inbox);
    }
    h->inbox[h->ninbox++] = s;
    pthread_mutex_unlock(&h->mu);
    w = write(h->wake, &one, sizeof one);
    (void)w;
}

/* ---- Redis ------------------------------------------------------------------- */

static void sub_down(hub *h, const char *why)
{
    if (h->sub) {
        epoll_ctl(h->ep, EPOLL_CTL_DEL, h->sub->fd, NULL);
        redisFree(h->sub);
        h->sub = NULL;
    }
    if (h->cmd) {
        redisFree(h->cmd);
        h->cmd = NULL;
    }
    __atomic_store_n(&h->redis_up, 0, __ATOMIC_RELEASE);
    h->backoff_ms = h->backoff_ms ? h->backoff_ms * 2 : 100;
    if ((long long)h->backoff_ms > h->cfg->backoff_max_ms) h->backoff_ms = (uint64_t)h->cfg->backoff_max_ms;
    h->retry_at_ms = mono_ms() + h->backoff_ms;
    log_warn("hub.redis_down", "err=\"%s\" retry_in_ms=%llu", why, (unsigned long long)h->backoff_ms);
}

/* The stream's max-deleted-entry-id (Redis ≥ 7), 0-0 when unknown. */
static int max_deleted(hub *h, bus_id *out)
{
    redisReply *r = redisCommand(h->cmd, "XINFO STREAM %s", h->key_tweets);
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

/* After (re)subscribing: seed the ring (first time) or backfill what was
 * missed while the subscription was down. 0 ok, -1 Redis failed. */
static int redis_sync(hub *h)
{
    char start[BUS_ID_MAX + 1];
    if (!h->seen_any) {
        redisReply *r = redisCommand(h->cmd, "XREVRANGE %s + - COUNT %llu", h->key_tweets, (unsigned long long)h->ring_cap);
        if (r == NULL) return -1;
        h->whole = 1;                    /* ring_pop clears it */
        if (r->type == REDIS_REPLY_ARRAY) {
            for (size_t i = r->elements; i > 0; i--) {
                bus_id id;
                const char *json;
                size_t len;
                if (bus_entry_parse(r->element[i - 1], &id, &json, &len) == 0) deliver(h, id, json, len);
            }
            if (r->elements >= h->ring_cap && h->whole && h->ring_count) {
                h->whole = 0;            /* older entries may exist */
                h->floor = bus_id_prev(ring_at(h, 0)->id);
            }
            h->seen_any = 1;
        }
        freeReplyObject(r);
        return 0;
    }
    bus_id del;
    if (max_deleted(h, &del) < 0) return -1;
    if (bus_id_cmp(del, h->last_seen) > 0) {
        /* Trimming overtook us: what we missed may be gone. Every stream ends
         * and resumes with Last-Event-ID (getting an "event: reset"). */
        log_warn("hub.history_lost", "clients=%zu", h->nclients);
        for (client *c = h->head; c; c = c->next) c->end_after_drain = 1, mark_dirty(h, c);
        ring_clear(h, del);
        h->last_seen = del;
    }
    for (;;) {
        bus_id_format(bus_id_next(h->last_seen), start);
        redisReply *r = redisCommand(h->cmd, "XRANGE %s %s + COUNT %d", h->key_tweets, start, BACKFILL_PAGE);
        size_t n;
        if (r == NULL) return -1;
        n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        for (size_t i = 0; i < n; i++) {
            bus_id id;
            const char *json;
            size_t len;
            if (bus_entry_parse(r->element[i], &id, &json, &len) == 0) deliver(h, id, json, len);
        }
        freeReplyObject(r);
        if (n < BACKFILL_PAGE) break;
    }
    if (h->last_seen.ms || h->last_seen.seq) log_info("hub.backfilled", "last_seen=%llu-%llu",
                                                      (unsigned long long)h->last_seen.ms,
                                                      (unsigned long long)h->last_seen.seq);
    return 0;
}

/* A filter was deleted: its streams get `event: filter-deleted` and end. */
static void end_filter_streams(int slot, const char *id, void *arg)
{
    hub *h = arg;
    buf b = BUF_INIT, data = BUF_INIT;
    hub_frame *f;
    size_t n = 0;

    buf_appends(&data, "{\"id\":");
    buf_append_json_str(&data, id, strlen(id));
    buf_appendc(&data, '}');
    sse_encode_event(&b, NULL, "filter-deleted", data.data, data.len);
    f = hub_frame_raw(b.data, b.len);
    for (client *c = h->head; c; c = c->next) {
        if (c->dead || !filterset_sel_has(c->selection, slot)) continue;
        enqueue(c, f);
        c->end_after_drain = 1;
        mark_dirty(h, c);
        n++;
    }
    hub_frame_unref(f);
    buf_free(&b);
    buf_free(&data);
    log_info("hub.filter_deleted", "id=%s streams=%zu", id, n);
}

/* The control channel: filter created/changed/deleted notices keep the
 * process's matcher (lib/filterset.h) current. */
static void on_control(hub *h, const char *msg, size_t len)
{
    int ended;
    char id[FILTER_ID_MAX];
    log_debug("hub.control", "bytes=%zu", len);
    if (selection_filters() && filterset_notice(selection_filters(), msg, len, &ended, id) == 0 && ended >= 0)
        end_filter_streams(ended, id, h);
}

/* Load every saved filter (notices may have been missed while unsubscribed).
 * 0 ok, -1 Redis failed. */
static int filters_sync(hub *h)
{
    filterdb db = {filterdb_context_cmd, h->cmd, h->cfg->prefix, h->cfg->filters_max};
    filter *v;
    size_t n;
    char err[256];

    if (selection_filters() == NULL) return 0;
    if (filterdb_list(&db, &v, &n, err, sizeof err) != FILTERDB_OK) {
        log_warn("hub.filters_sync_failed", "err=\"%s\"", err);
        return -1;
    }
    filterset_sync(selection_filters(), v, n, end_filter_streams, h);
    for (size_t i = 0; i < n; i++) filter_free(&v[i]);
    free(v);
    return 0;
}

static void on_message(hub *h, redisReply *r)
{
    const redisReply *ch, *pl;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "message") != 0)
        return;                                         /* subscribe confirmations */
    ch = r->element[1];
    pl = r->element[2];
    if (ch->type != REDIS_REPLY_STRING || pl->type != REDIS_REPLY_STRING) return;
    if (strcmp(ch->str, h->key_control) == 0) {
        on_control(h, pl->str, pl->len);
        return;
    }
    const char *sp = memchr(pl->str, ' ', pl->len);
    bus_id id;
    if (sp == NULL || bus_id_parse(pl->str, (size_t)(sp - pl->str), &id) < 0) {
        log_warn("hub.bad_message", "channel=%s bytes=%zu", ch->str, pl->len);
        return;
    }
    deliver(h, id, sp + 1, pl->len - (size_t)(sp + 1 - pl->str));
}

/* Drain the replies hiredis already holds. 0 ok, -1 the connection broke. */
static int drain_sub(hub *h)
{
    void *reply;
    for (;;) {
        if (redisGetReplyFromReader(h->sub, &reply) != REDIS_OK) return -1;
        if (reply == NULL) return 0;
        on_message(h, reply);
        freeReplyObject(reply);
    }
}

static void redis_connect(hub *h)
{
    char err[256];
    redisReply *r;
    struct epoll_event ev;

    h->sub = bus_connect(h->cfg->redis_url, 1000, err, sizeof err);
    if (h->sub == NULL) goto fail;
    h->cmd = bus_connect(h->cfg->redis_url, 2000, err, sizeof err);
    if (h->cmd == NULL) goto fail;
    r = redisCommand(h->sub, "SUBSCRIBE %s %s", h->key_live, h->key_control);
    if (r == NULL) goto fail_ctx;
    freeReplyObject(r);
    if (redisGetReply(h->sub, (void **)&r) != REDIS_OK) goto fail_ctx;   /* second confirmation */
    freeReplyObject(r);
    /* Subscribed: nothing published from now on is missed; fetch what came before. */
    if (filters_sync(h) < 0 || redis_sync(h) < 0) {
        snprintf(err, sizeof err, "%s", h->cmd->errstr);
        goto fail;
    }
    {   /* idle reads must not time out: heartbeats come from us, not Redis */
        struct timeval tv = {0, 0};
        redisSetTimeout(h->sub, tv);
    }
    ev.events = EPOLLIN;
    ev.data.ptr = &tag_sub;
    if (epoll_ctl(h->ep, EPOLL_CTL_ADD, h->sub->fd, &ev) < 0) {
        snprintf(err, sizeof err, "epoll: %s", strerror(errno));
        goto fail;
    }
    if (drain_sub(h) < 0) {
        snprintf(err, sizeof err, "%s", h->sub->errstr);
        goto fail;
    }
    h->backoff_ms = 0;
    STAT_ADD(h, redis_connects, 1);
    publish_info(h);
    __atomic_store_n(&h->redis_up, 1, __ATOMIC_RELEASE);
    log_info("hub.redis_up", "streams=%zu ring=%zu", h->nclients, h->ring_count);
    return;
fail_ctx:
    snprintf(err, sizeof err, "%s", h->sub->errstr);
fail:
    sub_down(h, err);
}

static void on_sub_readable(hub *h)
{
    if (redisBufferRead(h->sub) != REDIS_OK || drain_sub(h) < 0) {
        char why[160];
        snprintf(why, sizeof why, "%s", h->sub->errstr[0] ? h->sub->errstr : "connection lost");
        sub_down(h, why);
        return;
    }
    publish_info(h);
}

/* ---- the loop ------------------------------------------------------------------ */

static void on_client_event(hub *h, client *c, uint32_t events)
{
    if (c->dead) return;
    if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        client_kill(h, c, "peer_closed");
        return;
    }
    if (events & EPOLLIN) {
        char tmp[512];
        ssize_t r = read(c->fd, tmp, sizeof tmp);   /* nothing is expected: the web server closing */
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            client_kill(h, c, "peer_closed");
            return;
        }
    }
    if (events & EPOLLOUT) {
        set_want_out(h, c, 0);
        flush(h, c);
    }
}

static void heartbeats(hub *h, uint64_t now)
{
    uint64_t hb = (uint64_t)h->cfg->heartbeat_ms;
    client *stop = h->tail;
    while (h->head && h->head->last_write_ms + hb <= now) {
        client *c = h->head;
        if (c->owed == 0 && !c->want_out) {
            STAT_ADD(h, heartbeats, 1);
            enqueue(c, ping_frame());
            flush(h, c);
        }
        if (!c->dead) {                  /* blocked or pinged: look again a period later */
            c->last_write_ms = now;
            if (h->tail != c) {
                list_unlink(h, c);
                list_append(h, c);
            }
        }
        if (c == stop) break;
    }
}

static void bury(hub *h)
{
    if (h->grave) dirty_prune(h);
    while (h->grave) {
        client *c = h->grave;
        h->grave = c->grave_next;
        free(c);
    }
}

void hub_poll(hub *h, int max_wait_ms)
{
    struct epoll_event evs[256];
    uint64_t now = mono_ms();
    int timeout = max_wait_ms, n;

    if (h->sub == NULL && !h->stopping && now >= h->retry_at_ms) {
        redis_connect(h);
        flush_dirty(h);
        now = mono_ms();
    }
    if (h->sub == NULL && h->retry_at_ms > now && h->retry_at_ms - now < (uint64_t)timeout)
        timeout = (int)(h->retry_at_ms - now);
    if (h->head) {
        uint64_t due = h->head->last_write_ms + (uint64_t)h->cfg->heartbeat_ms;
        int wait = due > now ? (int)(due - now) : 0;
        if (wait < timeout) timeout = wait;
    }
    if (h->dirty) {                      /* frames held for coalescing */
        uint64_t t = now_us();
        int wait = h->hold_until_us > t ? (int)((h->hold_until_us - t + 999) / 1000) : 0;
        if (wait < timeout) timeout = wait;
    }
    n = epoll_wait(h->ep, evs, (int)ARRAY_LEN(evs), timeout);
    for (int i = 0; i < n; i++) {
        void *p = evs[i].data.ptr;
        if (p == &tag_wake) {
            uint64_t v;
            ssize_t r = read(h->wake, &v, sizeof v);
            (void)r;
            take_inbox(h);
        } else if (p == &tag_sub) {
            if (h->sub) on_sub_readable(h);
        } else {
            on_client_event(h, p, evs[i].events);
        }
    }
    flush_live(h, now_us());
    heartbeats(h, mono_ms());
    bury(h);
}

void hub_shutdown(hub *h, int budget_ms)
{
    uint64_t deadline = mono_ms() + (uint64_t)budget_ms;
    h->stopping = 1;
    take_inbox(h);
    for (client *c = h->head, *next; c; c = next) {
        next = c->next;
        c->ending = 1;
        if (!c->want_out) flush(h, c);
    }
    bury(h);
    while (h->nclients > 0) {
        uint64_t now = mono_ms();
        if (now >= deadline) break;
        hub_poll(h, (int)(deadline - now));
    }
    size_t left = h->nclients;
    while (h->head) client_kill(h, h->head, "shutdown");
    bury(h);
    log_info("hub.stopped", "unflushed_streams=%zu", left);
}

hub *hub_new(const config *cfg)
{
    hub *h = xcalloc(1, sizeof *h);
    struct epoll_event ev;

    h->cfg = cfg;
    pthread_mutex_init(&h->mu, NULL);
    h->ep = epoll_create1(EPOLL_CLOEXEC);
    h->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (h->ep < 0 || h->wake < 0) {
        log_error("hub.init_failed", "err=\"%s\"", strerror(errno));
        abort();
    }
    ev.events = EPOLLIN;
    ev.data.ptr = &tag_wake;
    epoll_ctl(h->ep, EPOLL_CTL_ADD, h->wake, &ev);
    h->ring_cap = (size_t)cfg->preload_max > RING_MIN ? (size_t)cfg->preload_max : RING_MIN;
    h->ring = xcalloc(h->ring_cap, sizeof *h->ring);
    bus_key(h->key_tweets, sizeof h->key_tweets, cfg->prefix, BUS_KEY_TWEETS);
    bus_key(h->key_live, sizeof h->key_live, cfg->prefix, BUS_KEY_LIVE);
    bus_key(h->key_control, sizeof h->key_control, cfg->prefix, BUS_KEY_CONTROL);
    publish_info(h);
    return h;
}

void hub_free(hub *h)
{
    if (h == NULL) return;
    while (h->head) client_kill(h, h->head, "free");
    bury(h);
    for (size_t i = 0; i < h->ninbox; i++) {
        hub_stream *s = h->inbox[i];
        close(s->fd);
        filterset_release(selection_filters(), s->selection);
        for (size_t k = 0; k < s->nhistory; k++) hub_frame_unref(s->history[k]);
        hub_frame_unref(s->head);
        hub_frame_unref(s->reset);
        free(s->history);
        free(s);
    }
    free(h->inbox);
    ring_clear(h, h->floor);
    free(h->ring);
    if (h->sub) redisFree(h->sub);
    if (h->cmd) redisFree(h->cmd);
    close(h->ep);
    close(h->wake);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int hub_wake_fd(const hub *h) { return h->wake; }

void hub_stats_get(hub *h, hub_stats *out)
{
#define STAT_GET(field) out->field = __atomic_load_n(&h->stats.field, __ATOMIC_RELAXED)
    STAT_GET(streams_opened);
    STAT_GET(events_queued);
    STAT_GET(bytes_written);
    STAT_GET(slow_cutoffs);
    STAT_GET(heartbeats);
    STAT_GET(redis_connects);
#undef STAT_GET
    pthread_mutex_lock(&h->mu);
    out->ring_frames = h->info.count;
    pthread_mutex_unlock(&h->mu);
    out->redis_up = __atomic_load_n(&h->redis_up, __ATOMIC_ACQUIRE);
}
