#include "hub.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sse.h"
#include "util.h"
#include "writer.h"

#define RING_MIN 4096                /* frames the ring holds at least */
#define RING_BYTES (32u << 20)       /* and at most this many bytes of them */
#define EXPIRY_STEP_MS 250           /* reader-token expiry: checked at most this often */
/* The send buffer of a stream's socket (the kernel doubles it). Left alone,
 * TCP grows it to 4 MB, which a client that never reads fills before
 * client-buffer counts a byte; this keeps the kernel's share small (for
 * unix sockets it is about the default). */
#define STREAM_SNDBUF (128 << 10)

typedef struct client {
    writer w;                        /* the connection's output (w.fd is the connection) */
    loop_io io;                      /* w.fd in the loop (the hub is loop_data) */
    struct client *prev, *next;      /* all clients, by last write (oldest first);
                                      * once closed, next links the grave */
    struct client *dirty_next;       /* waiting for the next write pass */
    uint64_t last_write_ms;
    bus_id last;                     /* newest tweet id queued */
    filterset_sel *selection;        /* NULL: everything */
    int64_t expires_ms;              /* wall clock: its reader token expires (0: never) */
    unsigned dirty : 1, want_out : 1, dead : 1, live : 1;
    unsigned matched : 1;            /* ?matched=1 (with a selection): say which filters matched */
    unsigned ending : 1;             /* no more live events: end once the queue is written */
} client;

struct hub {
    const config *cfg;
    loop *l;
    filterset *fs;
    ring *ring;
    feed *feed;
    frame *ping;
    /* handover from acceptors */
    pthread_mutex_t mu;
    hub_stream **inbox;
    size_t ninbox, capinbox;
    _Atomic int nstreams;            /* admitted streams */
    _Atomic int redis_up;
    _Atomic int closing;             /* shutting down: admit no more */
    /* clients */
    client *head, *tail;             /* by last write */
    size_t nclients;
    client *dirty;
    client *grave;
    loop_timer coalesce;             /* the next write pass of dirty clients */
    loop_timer heartbeat;            /* the oldest client's heartbeat is due */
    loop_timer bury;                 /* free closed clients after the turn */
    loop_timer expiry;               /* the earliest reader-token expiry is due */
    uint64_t hold_until_us;          /* coalescing: no write pass before this */
    int stopping;
    struct {                         /* written by the hub's thread only */
        _Atomic unsigned long long streams_opened, events_queued, bytes_written, slow_cutoffs, heartbeats;
    } st;
};

/* One writer thread: a relaxed load and store, no locked instruction. */
static void stat_add(_Atomic unsigned long long *v, unsigned long long n)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n, memory_order_relaxed);
}

/* ---- the client list ------------------------------------------------------------ */

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
    if (!h->heartbeat.armed) loop_timer_at(&h->heartbeat, (c->last_write_ms + (uint64_t)h->cfg->heartbeat_ms) * 1000);
}

/* c wrote at now: to the end of the list (heartbeats look at the front). */
static void touch(hub *h, client *c, uint64_t now)
{
    c->last_write_ms = now;
    if (h->tail != c) {
        list_unlink(h, c);
        list_append(h, c);
    }
}

/* ---- clients ---------------------------------------------------------------------- */

/* The one place that decides whether a tweet goes to a client. */
static int client_wants(const client *c, const frame *f)
{
    return filterset_wants(c->selection, f->slots, f->nslots);
}

static void enqueue(client *c, frame *f)
{
    writer_push(&c->w, f);
    if (f->is_tweet) c->last = f->id;
    if (f->is_tweet && c->matched) {
        /* the client's own frame after the shared one: which of its filters matched */
        buf members = BUF_INIT;
        filterset_sel_matched(c->selection, f->slots, f->nslots, &members);
        frame *m = frame_matched(f, members.data, members.len);
        writer_push(&c->w, m);
        frame_unref(m);
        buf_free(&members);
    }
}

static void mark_dirty(hub *h, client *c)
{
    if (c->dirty || c->dead) return;
    c->dirty = 1;
    c->dirty_next = h->dirty;
    h->dirty = c;
    if (!h->coalesce.armed) loop_timer_at(&h->coalesce, h->stopping ? 0 : h->hold_until_us);
}

/* Close the connection now; the memory goes at the end of this loop turn
 * (the loop may still hold an event for it). */
static void client_kill(hub *h, client *c, const char *why)
{
    if (c->dead) return;
    c->dead = 1;
    log_debug("stream.close", "fd=%d why=%s owed=%zu", c->w.fd, why, writer_owed(&c->w));
    loop_io_stop(h->l, &c->io, c->w.fd);
    close(c->w.fd);
    list_unlink(h, c);
    h->nclients--;
    atomic_fetch_sub_explicit(&h->nstreams, 1, memory_order_release);
    filterset_release(h->fs, c->selection);
    c->selection = NULL;
    writer_release(&c->w);
    c->next = h->grave;
    h->grave = c;
    loop_timer_at(&h->bury, 0);
}

static void set_want_out(hub *h, client *c, int on)
{
    if (c->want_out == (unsigned)on) return;
    c->want_out = on ? 1 : 0;
    loop_io_set(h->l, &c->io, c->w.fd, LOOP_READ | (on ? LOOP_WRITE : 0));
}

/* Write what c owes, then (when it is ending and drained) the end of the
 * request, after which the connection closes. */
static void flush(hub *h, client *c)
{
    size_t n;
    int rc = writer_flush(&c->w, &n);
    if (n) stat_add(&h->st.bytes_written, n);
    if (rc == WRITER_OK && c->ending && !c->w.ended) {
        writer_end(&c->w);
        rc = writer_flush(&c->w, NULL);
    }
    if (rc == WRITER_ERROR) {
        client_kill(h, c, c->w.ended ? "ended" : "write_error");
        return;
    }
    if (n) touch(h, c, now_ms());
    if (rc == WRITER_AGAIN) {
        set_want_out(h, c, 1);
        return;
    }
    if (writer_done(&c->w)) {
        client_kill(h, c, "ended");
        return;
    }
    set_want_out(h, c, 0);
}

/* Queue f for c if it wants it; cut c off when it owes too much. Owing
 * because the hub held the writes (coalescing) is not the client's fault:
 * a client whose socket takes more is written at once instead. */
static void offer(hub *h, client *c, frame *f)
{
    if (c->dead || !c->live || c->ending) return;
    if (bus_id_cmp(f->id, c->last) <= 0 || !client_wants(c, f)) return;
    enqueue(c, f);
    stat_add(&h->st.events_queued, 1);
    if (writer_over(&c->w) && !c->want_out) {
        flush(h, c);
        if (c->dead) return;
    }
    if (writer_over(&c->w)) {
        stat_add(&h->st.slow_cutoffs, 1);
        int queued = 0;                               /* what the kernel holds besides */
        ioctl(c->w.fd, SIOCOUTQ, &queued);
        log_info("stream.slow_client", "fd=%d owed=%zu limit=%lld kernel_queued=%d", c->w.fd, writer_owed(&c->w),
                 h->cfg->client_buffer, queued);
        client_kill(h, c, "over_client_buffer");
        return;
    }
    mark_dirty(h, c);
}

/* No more live events for c: what is queued, then the end of the request. */
static void end_after_drain(hub *h, client *c)
{
    c->ending = 1;
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
 * coalesce-ms. */
static void on_coalesce(loop_timer *t)
{
    hub *h = LOOP_CONTAINER(t, hub, coalesce);
    uint64_t now = now_us(), took, hold, cap = (uint64_t)h->cfg->coalesce_ms * 1000;
    flush_dirty(h);
    took = now_us() - now;
    hold = 4 * took < cap ? 4 * took : cap;
    h->hold_until_us = now + hold;
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

static void bury_now(hub *h)
{
    if (h->grave) dirty_prune(h);
    while (h->grave) {
        client *c = h->grave;
        h->grave = c->next;
        free(c);
    }
}

static void on_bury(loop_timer *t)
{
    bury_now(LOOP_CONTAINER(t, hub, bury));
}

/* Quiet clients get ": ping"; a client still blocked is looked at again a
 * period later.
 *
 * Streams fall silent together after an event that went to all of them, and
 * would then all be due in one pass, every period while the feed is quiet:
 * with tens of thousands of streams that pass costs what a broadcast does,
 * and events wait behind it. So a pass pings at most 1/HB_SPREAD of the
 * clients and, with more due, the next pass comes a period/(4 × HB_SPREAD)
 * later: such a cohort is pinged over a quarter of the period (each ping at
 * most that late), and stays spread in the periods that follow. Streams
 * already spread out come due at 1/(4 × HB_SPREAD) of them per such step,
 * under the cap, and are pinged on time. */
enum { HB_SPREAD = 16 };

static void on_heartbeat(loop_timer *t)
{
    hub *h = LOOP_CONTAINER(t, hub, heartbeat);
    uint64_t hb = (uint64_t)h->cfg->heartbeat_ms, now = now_ms();
    size_t budget = h->nclients / HB_SPREAD + 1;
    client *stop = h->tail;
    while (h->head && h->head->last_write_ms + hb <= now) {
        client *c = h->head;
        if (!writer_pending(&c->w) && !c->want_out) {
            if (!budget--) {
                loop_timer_at(&h->heartbeat, now_us() + hb * 1000 / (4 * HB_SPREAD));
                return;
            }
            stat_add(&h->st.heartbeats, 1);
            enqueue(c, h->ping);
            flush(h, c);
        }
        if (!c->dead) touch(h, c, now);
        if (c == stop) break;
    }
    if (h->head) loop_timer_at(&h->heartbeat, (h->head->last_write_ms + hb) * 1000);
}

/* Streams opened with a reader token end when it expires: `event:
 * token-expired` (data: {"exp":…}), then the end of the response, so the
 * browser reconnects with the fresh token the page got meanwhile. */
static void arm_expiry(hub *h, int64_t expires_ms)
{
    uint64_t now = now_us();
    int64_t left = expires_ms - (int64_t)wall_ms();
    uint64_t due = now + (left > 0 ? (uint64_t)left * 1000 : 0);
    if (!h->expiry.armed || due < h->expiry.due_us) loop_timer_at(&h->expiry, due);
}

static void on_expiry(loop_timer *t)
{
    hub *h = LOOP_CONTAINER(t, hub, expiry);
    int64_t now = (int64_t)wall_ms(), next = 0;
    for (client *c = h->head; c; c = c->next) {
        if (c->dead || c->ending || c->expires_ms == 0) continue;
        if (c->expires_ms > now) {
            if (next == 0 || c->expires_ms < next) next = c->expires_ms;
            continue;
        }
        buf b = BUF_INIT;
        char data[64];
        int n = snprintf(data, sizeof data, "{\"exp\":%lld}", (long long)(c->expires_ms / 1000));
        sse_encode_event(&b, NULL, "token-expired", data, (size_t)n);
        frame *f = frame_raw(b.data, b.len);
        enqueue(c, f);
        frame_unref(f);
        buf_free(&b);
        log_info("stream.token_expired", "fd=%d", c->w.fd);
        end_after_drain(h, c);
    }
    /* not again before EXPIRY_STEP_MS: a burst of expiries is one pass */
    if (next) arm_expiry(h, next > now + EXPIRY_STEP_MS ? next : now + EXPIRY_STEP_MS);
}

static void on_client_io(loop *l, loop_io *io, unsigned revents)
{
    client *c = LOOP_CONTAINER(io, client, io);
    hub *h = loop_data(l);
    if (c->dead) return;
    if (revents & LOOP_HUP) {
        client_kill(h, c, "peer_closed");
        return;
    }
    if (revents & LOOP_READ) {
        char tmp[512];
        ssize_t r = read(c->w.fd, tmp, sizeof tmp);   /* nothing is expected: the web server closing */
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            client_kill(h, c, "peer_closed");
            return;
        }
        if (r > 0 && c->w.request_id == WRITER_RAW) {  /* a direct client sends nothing after its head */
            client_kill(h, c, "peer_sent_data");
            return;
        }
    }
    if (revents & LOOP_WRITE) {
        set_want_out(h, c, 0);
        flush(h, c);
    }
}

/* ---- tweets from the feed ------------------------------------------------------------ */

/* A new tweet: into the ring, then to every client that wants it. */
static void on_tweet(void *arg, bus_id id, const char *json, size_t len)
{
    hub *h = arg;
    frame *f = frame_tweet(id, json, len);
    f->slots = filterset_match(h->fs, json, len, &f->nslots);
    ring_push(h->ring, f);
    for (client *c = h->head, *next; c; c = next) {
        next = c->next;
        offer(h, c, f);
    }
    frame_unref(f);
}

/* A filter was deleted: its streams get `event: filter-deleted` and end. */
static void end_filter_streams(int slot, const char *id, void *arg)
{
    hub *h = arg;
    buf b = BUF_INIT, data = BUF_INIT;
    frame *f;
    size_t n = 0;

    buf_appends(&data, "{\"id\":");
    buf_append_json_str(&data, id, strlen(id));
    buf_appendc(&data, '}');
    sse_encode_event(&b, NULL, "filter-deleted", data.data, data.len);
    f = frame_raw(b.data, b.len);
    for (client *c = h->head; c; c = c->next) {
        /* a client whose end of request is going out takes nothing more */
        if (c->dead || c->w.ended || !filterset_sel_has(c->selection, slot)) continue;
        enqueue(c, f);
        end_after_drain(h, c);
        n++;
    }
    frame_unref(f);
    buf_free(&b);
    buf_free(&data);
    log_info("hub.filter_deleted", "id=%s streams=%zu", id, n);
}

/* `control`: filter created/changed/deleted notices keep the matcher current. */
static void on_control(void *arg, const char *msg, size_t len)
{
    hub *h = arg;
    int ended;
    char id[FILTER_ID_MAX];
    if (filterset_notice(h->fs, msg, len, &ended, id) == 0 && ended >= 0) end_filter_streams(ended, id, h);
}

static void on_filters(void *arg, const filter *v, size_t n)
{
    hub *h = arg;
    filterset_sync(h->fs, v, n, end_filter_streams, h);
}

static void on_partial(void *arg)
{
    hub *h = arg;
    ring_mark_partial(h->ring);
}

/* Trimming overtook the feed: every stream ends and resumes with
 * Last-Event-ID (getting an "event: reset"). */
static void on_lost(void *arg, bus_id floor)
{
    hub *h = arg;
    log_warn("hub.history_lost", "clients=%zu", h->nclients);
    for (client *c = h->head; c; c = c->next) end_after_drain(h, c);
    ring_clear(h->ring, floor);
}

static void on_up(void *arg)
{
    hub *h = arg;
    atomic_store_explicit(&h->redis_up, 1, memory_order_release);
    flush_dirty(h);                  /* what the backfill queued leaves now */
    log_info("hub.redis_up", "streams=%zu ring=%zu", h->nclients, ring_count(h->ring));
}

static void on_down(void *arg, const char *why)
{
    hub *h = arg;
    (void)why;
    atomic_store_explicit(&h->redis_up, 0, memory_order_release);
}

static const feed_handler feed_events = {
    on_tweet, on_control, on_filters, on_partial, on_lost, on_up, on_down,
};

/* ---- streams handed over by acceptors ---------------------------------------- */

static void stream_free(hub *h, hub_stream *s)
{
    for (size_t i = 0; i < s->nhistory; i++) frame_unref(s->history[i]);
    frame_unref(s->head);
    frame_unref(s->reset);
    free(s->history);
    filterset_release(h->fs, s->selection);
    free(s);
}

/* Queue the ring's frames after id `after` that c wants. */
static void queue_ring_after(hub *h, client *c, bus_id after)
{
    size_t i = ring_count(h->ring);
    while (i > 0 && bus_id_cmp(ring_at(h->ring, i - 1)->id, after) > 0) i--;
    for (; i < ring_count(h->ring); i++)
        if (client_wants(c, ring_at(h->ring, i))) enqueue(c, ring_at(h->ring, i));
}

static void add_stream(hub *h, hub_stream *s)
{
    client *c = xcalloc(1, sizeof *c);
    int fl = fcntl(s->fd, F_GETFL), one = 1;
    ring *r = h->ring;

    writer_init(&c->w, s->fd, s->request_id, (size_t)h->cfg->client_buffer);
    c->selection = s->selection;
    s->selection = NULL;
    c->matched = s->matched && c->selection;
    c->expires_ms = s->expires_ms;
    c->last_write_ms = now_ms();
    fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
    /* each event must leave at once: no Nagle wait for the web server's delayed ACK */
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* fails harmlessly on unix sockets */
    setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &(int){STREAM_SNDBUF}, sizeof(int));
    list_append(h, c);
    h->nclients++;
    if (loop_io_start(h->l, &c->io, s->fd, LOOP_READ, on_client_io) < 0) {
        log_warn("stream.epoll_failed", "fd=%d err=\"%s\"", s->fd, strerror(errno));
        client_kill(h, c, "epoll");
        goto done;
    }
    enqueue(c, s->head);
    if (s->reset) enqueue(c, s->reset);
    if (s->from_ring) {
        /* the newest ring_preload frames the client wants, oldest first —
         * at most client-buffer bytes of them (at least one) */
        size_t want = s->ring_preload, i = ring_count(r), bytes = 0, budget = (size_t)h->cfg->client_buffer;
        while (i > 0 && want > 0) {
            frame *f = ring_at(r, i - 1);
            if (client_wants(c, f)) {
                if (want < s->ring_preload && bytes + f->len > budget) break;
                bytes += f->len;
                want--;
            }
            i--;
        }
        for (; i < ring_count(r); i++)
            if (client_wants(c, ring_at(r, i))) enqueue(c, ring_at(r, i));
        c->last = ring_newest(r);
        c->live = 1;
    } else {
        /* history frames come with their matched frames (made by the acceptor) */
        unsigned matched = c->matched;
        c->matched = 0;
        for (size_t i = 0; i < s->nhistory; i++) enqueue(c, s->history[i]);
        c->matched = matched;
        if (bus_id_cmp(s->after, c->last) > 0) c->last = s->after;
        if (s->history_truncated) {
            c->ending = 1;
        } else if (ring_whole(r) || bus_id_cmp(c->last, ring_floor(r)) >= 0) {
            queue_ring_after(h, c, c->last);     /* the ring holds everything after c->last */
            c->live = 1;
        } else {
            c->ending = 1;                       /* events were lost meanwhile: the client resumes */
        }
    }
    if (c->expires_ms) arm_expiry(h, c->expires_ms);
    stat_add(&h->st.streams_opened, 1);
    {
        unsigned long long tweets = 0;
        for (uint32_t i = c->w.qhead; i < c->w.qlen; i++) tweets += (unsigned long long)c->w.q[i]->is_tweet;
        stat_add(&h->st.events_queued, tweets);
    }
    log_debug("stream.open", "fd=%d queued=%zu live=%d", c->w.fd, writer_owed(&c->w), c->live);
    flush(h, c);
done:
    s->fd = -1;
    stream_free(h, s);
}

static void take_inbox(void *arg)
{
    hub *h = arg;
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

void hub_close_admission(hub *h)
{
    atomic_store_explicit(&h->closing, 1, memory_order_release);
}

int hub_admit(hub *h, const char **why)
{
    if (atomic_load_explicit(&h->closing, memory_order_acquire)) {
        *why = "stopping";
        return -1;
    }
    if (!atomic_load_explicit(&h->redis_up, memory_order_acquire)) {
        *why = "redis";
        return -1;
    }
    int n = atomic_fetch_add_explicit(&h->nstreams, 1, memory_order_acq_rel) + 1;
    if (n > h->cfg->max_clients) {
        atomic_fetch_sub_explicit(&h->nstreams, 1, memory_order_release);
        *why = "full";
        return -1;
    }
    return 0;
}

void hub_release(hub *h)
{
    atomic_fetch_sub_explicit(&h->nstreams, 1, memory_order_release);
}

size_t hub_streams(hub *h)
{
    return (size_t)atomic_load_explicit(&h->nstreams, memory_order_acquire);
}

void hub_submit(hub *h, hub_stream *s)
{
    pthread_mutex_lock(&h->mu);
    if (h->ninbox == h->capinbox) {
        h->capinbox = h->capinbox ? h->capinbox * 2 : 16;
        h->inbox = xrealloc(h->inbox, h->capinbox * sizeof *h->inbox);
    }
    h->inbox[h->ninbox++] = s;
    pthread_mutex_unlock(&h->mu);
    loop_wake(h->l);
}

void hub_ring_info(hub *h, ring_info *out) { ring_info_get(h->ring, out); }
feed *hub_feed(hub *h) { return h->feed; }

/* ---- lifetime -------------------------------------------------------------------- */

hub *hub_new(const config *cfg, loop *l, filterset *fs)
{
    hub *h = xcalloc(1, sizeof *h);
    buf b = BUF_INIT;
    size_t cap = (size_t)cfg->preload_max > RING_MIN ? (size_t)cfg->preload_max : RING_MIN;

    h->cfg = cfg;
    h->l = l;
    h->fs = fs;
    pthread_mutex_init(&h->mu, NULL);
    sse_encode_comment(&b, "ping");
    h->ping = frame_raw(b.data, b.len);
    buf_free(&b);
    h->ring = ring_new(cap, RING_BYTES);
    loop_timer_init(l, &h->coalesce, on_coalesce);
    loop_timer_init(l, &h->heartbeat, on_heartbeat);
    loop_timer_init(l, &h->bury, on_bury);
    loop_timer_init(l, &h->expiry, on_expiry);
    loop_on_wake(l, take_inbox, h);
    loop_set_data(l, h);
    h->feed = feed_new(cfg, l, cap, &feed_events, h);
    return h;
}

void hub_shutdown(hub *h, int budget_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)budget_ms;
    hub_close_admission(h);
    h->stopping = 1;
    feed_stop(h->feed);
    take_inbox(h);
    for (client *c = h->head, *next; c; c = next) {
        next = c->next;
        c->ending = 1;
        if (!c->want_out) flush(h, c);
    }
    if (h->coalesce.armed) loop_timer_at(&h->coalesce, 0);
    bury_now(h);
    while (h->nclients > 0) {
        uint64_t now = now_ms();
        if (now >= deadline) break;
        loop_run_once(h->l, (int)(deadline - now));
    }
    size_t left = h->nclients;
    while (h->head) client_kill(h, h->head, "shutdown");
    bury_now(h);
    log_info("hub.stopped", "unflushed_streams=%zu", left);
}

void hub_free(hub *h)
{
    if (h == NULL) return;
    while (h->head) client_kill(h, h->head, "free");
    bury_now(h);
    for (size_t i = 0; i < h->ninbox; i++) {
        close(h->inbox[i]->fd);
        stream_free(h, h->inbox[i]);
    }
    free(h->inbox);
    feed_free(h->feed);
    loop_on_wake(h->l, NULL, NULL);
    loop_set_data(h->l, NULL);
    loop_timer_remove(h->l, &h->coalesce);
    loop_timer_remove(h->l, &h->heartbeat);
    loop_timer_remove(h->l, &h->bury);
    loop_timer_remove(h->l, &h->expiry);
    ring_free(h->ring);
    frame_unref(h->ping);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void hub_stats_get(hub *h, hub_stats *out)
{
    ring_info ri;
    out->streams_opened = atomic_load_explicit(&h->st.streams_opened, memory_order_relaxed);
    out->events_queued = atomic_load_explicit(&h->st.events_queued, memory_order_relaxed);
    out->bytes_written = atomic_load_explicit(&h->st.bytes_written, memory_order_relaxed);
    out->slow_cutoffs = atomic_load_explicit(&h->st.slow_cutoffs, memory_order_relaxed);
    out->heartbeats = atomic_load_explicit(&h->st.heartbeats, memory_order_relaxed);
    ring_info_get(h->ring, &ri);
    out->ring_frames = ri.count;
}
