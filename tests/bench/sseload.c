/* sseload — an epoll Server-Sent Events load client for birdfeed's benchmarks.
 *
 * Opens N HTTP/1.1 connections to one loopback URL with a controlled ramp,
 * decodes chunked or plain bodies, parses SSE (lines ending in CRLF, LF or
 * CR; id:, event:, data:, comments; an event ends at a blank line) and
 * records, per connection: events delivered, ids out of order or repeated
 * (ids compare numerically: birdfeed's "ms-seq", Nchan's "time:tag"), and the
 * latency of each event = wall clock at receipt − the "sent_us" the publisher
 * put in the data JSON. At the end it prints one human line and one
 * key=value line (see --help).
 *
 * Only loopback addresses are accepted; every run is bounded by --duration. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "bus.h"
#include "util.h"

#define MAX_LINE      (1u << 20)   /* longest SSE line accepted */
#define MAX_HEAD      16384        /* longest response head accepted */
#define READ_BUF      (256 * 1024)
#define MAX_PIDS      64
#define MAX_SOURCES   64

/* ---------------------------------------------------------------- latency histogram */

/* Log-linear histogram of microseconds: exact below 256 µs, then 128
 * sub-buckets per power of two (error < 0.8 %), up to 2^40 µs. */
#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_LINEAR   (2u * HIST_SUB)
#define HIST_MAX_EXP  40
#define HIST_BUCKETS  (HIST_LINEAR + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)

typedef struct hist {
    uint64_t n;
    uint64_t max;
    uint64_t counts[HIST_BUCKETS];
} hist;

static size_t hist_index(uint64_t v)
{
    if (v < HIST_LINEAR) return (size_t)v;
    int e = 63 - __builtin_clzll(v);                     /* >= HIST_SUB_BITS + 1 */
    if (e >= HIST_MAX_EXP) return HIST_BUCKETS - 1;
    size_t sub = (size_t)(v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
    return HIST_LINEAR + (size_t)(e - HIST_SUB_BITS - 1) * HIST_SUB + sub;
}

/* The middle of bucket i, in µs. */
static double hist_value(size_t i)
{
    if (i < HIST_LINEAR) return (double)i;
    size_t k = i - HIST_LINEAR;
    int e = (int)(k / HIST_SUB) + HIST_SUB_BITS + 1;
    uint64_t sub = k % HIST_SUB;
    uint64_t width = 1ull << (e - HIST_SUB_BITS);
    uint64_t lo = (1ull << e) + sub * width;
    return (double)lo + (double)width / 2.0;
}

static void hist_add(hist *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
    h->n++;
    if (v > h->max) h->max = v;
}

static void hist_merge(hist *into, const hist *h)
{
    for (size_t i = 0; i < HIST_BUCKETS; i++) into->counts[i] += h->counts[i];
    into->n += h->n;
    if (h->max > into->max) into->max = h->max;
}

/* The q-quantile (0 < q <= 1) in µs; the exact maximum for the top sample. */
static double hist_quantile(const hist *h, double q)
{
    if (h->n == 0) return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank >= h->n) return (double)h->max;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            double v = hist_value(i);
            return v > (double)h->max ? (double)h->max : v;
        }
    }
    return (double)h->max;
}

/* The histogram as text ("sseload-hist BUCKETS N MAX", then "INDEX COUNT" for
 * each bucket in use), so the runs of several client processes can be
 * merged into one exact set of quantiles (sseload --hist-merge) instead of
 * taking the largest of their p99s. */
static int hist_write(const hist *h, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "sseload: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "sseload-hist %u %llu %llu\n", (unsigned)HIST_BUCKETS, (unsigned long long)h->n,
            (unsigned long long)h->max);
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        if (h->counts[i]) fprintf(f, "%zu %llu\n", i, (unsigned long long)h->counts[i]);
    if (fclose(f) != 0) {
        fprintf(stderr, "sseload: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Adds the histogram in PATH (written by hist_write) to into; on a bad
 * file says PATH:LINE: why. */
static int hist_read(hist *into, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "sseload: %s: %s\n", path, strerror(errno));
        return -1;
    }
    unsigned buckets;
    unsigned long long n, max, idx, count, sum = 0;
    int line = 1, rc = 0;
    if (fscanf(f, "sseload-hist %u %llu %llu\n", &buckets, &n, &max) != 3 || buckets != HIST_BUCKETS) {
        fprintf(stderr, "sseload: %s:1: not a histogram of this sseload (want \"sseload-hist %u N MAX\")\n",
                path, (unsigned)HIST_BUCKETS);
        fclose(f);
        return -1;
    }
    hist h = {.n = n, .max = max};
    for (;;) {
        line++;
        int got = fscanf(f, "%llu %llu\n", &idx, &count);
        if (got == EOF) break;
        if (got != 2 || idx >= HIST_BUCKETS) {
            fprintf(stderr, "sseload: %s:%d: want \"INDEX COUNT\" with INDEX below %u\n", path, line,
                    (unsigned)HIST_BUCKETS);
            rc = -1;
            break;
        }
        h.counts[idx] += count;
        sum += count;
    }
    if (rc == 0 && sum != n) {
        fprintf(stderr, "sseload: %s: the buckets hold %llu samples, the header says %llu\n", path, sum, n);
        rc = -1;
    }
    fclose(f);
    if (rc == 0) hist_merge(into, &h);
    return rc;
}

/* sseload --hist-merge FILE…: one line of quantiles over all the files. */
static int hist_merge_main(int nfiles, char **files)
{
    if (nfiles < 1) {
        fprintf(stderr, "sseload: --hist-merge wants one or more files written by --hist-out\n");
        return 2;
    }
    hist *all = xcalloc(1, sizeof *all);
    for (int i = 0; i < nfiles; i++)
        if (hist_read(all, files[i]) < 0) {
            free(all);
            return 1;
        }
    printf("files=%d lat_samples=%llu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n", nfiles,
           (unsigned long long)all->n, hist_quantile(all, 0.50) / 1000, hist_quantile(all, 0.90) / 1000,
           hist_quantile(all, 0.99) / 1000, hist_quantile(all, 0.999) / 1000, (double)all->max / 1000);
    free(all);
    return 0;
}

/* ---------------------------------------------------------------- event ids */

/* An SSE id as a tuple of numbers: "1700000000000-3" → (1700000000000, 3),
 * Nchan's "1700000000:2" → (1700000000, 2). */
typedef struct evid {
    int n;              /* 0: not comparable */
    uint64_t v[4];
} evid;

static void evid_parse(const char *s, size_t len, evid *id)
{
    bus_id b;
    id->n = 0;
    if (bus_id_parse(s, len, &b) == 0) {
        id->n = 2;
        id->v[0] = b.ms;
        id->v[1] = b.seq;
        return;
    }
    size_t i = 0;
    while (i < len && id->n < 4) {
        while (i < len && (s[i] < '0' || s[i] > '9')) i++;
        if (i == len) break;
        uint64_t x = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (x > (UINT64_MAX - 9) / 10) { id->n = 0; return; }
            x = x * 10 + (uint64_t)(s[i] - '0');
            i++;
        }
        id->v[id->n++] = x;
    }
}

static int evid_cmp(const evid *a, const evid *b)
{
    int n = a->n < b->n ? a->n : b->n;
    for (int i = 0; i < n; i++)
        if (a->v[i] != b->v[i]) return a->v[i] < b->v[i] ? -1 : 1;
    return a->n - b->n;
}

/* ---------------------------------------------------------------- options */

static struct {
    const char *url;
    char host[256];
    char port[8];
    char path[2048];
    long long conns, ramp, duration_s, expect, until_idle_ms, settle_ms, threads, linger_ms;
    long long batch_us;          /* --batch-us: pause after a wait that found events */
    buf headers;                 /* extra request header lines, CRLF-terminated */
    int npids;
    int pids[MAX_PIDS];
    const char *ready_file;
    const char *hist_out;        /* --hist-out: the latency histogram, for --hist-merge */
    int verbose;
    int quickack;
    int retry;                   /* reopen connections that fail before their head */
    int nsources;
    struct sockaddr_in sources[MAX_SOURCES];   /* local addresses, in turn */
} opt = {.conns = 1, .ramp = 1000, .duration_s = 30, .expect = -1, .until_idle_ms = -1,
         .settle_ms = 1000, .threads = 1};

static struct sockaddr_storage target;
static socklen_t target_len;
static buf request = BUF_INIT;

/* ---------------------------------------------------------------- connections */

enum { CS_IDLE, CS_CONNECTING, CS_WRITING, CS_HEAD, CS_BODY, CS_DONE };
enum { CH_SIZE, CH_EXT, CH_DATA, CH_DATA_END, CH_TRAILER };
enum { END_NONE, END_FAILED, END_CLOSED, END_STOPPED };

typedef struct conn {
    int fd;
    int state;
    int end;                    /* END_* once state is CS_DONE */
    size_t wrote;
    buf head;                   /* response head until its blank line */
    /* body framing */
    int chunked;
    int chunk_state;
    uint64_t chunk_left;
    int chunk_digits;
    int trailer_len;
    int64_t content_left;       /* -1: until close */
    /* SSE parser */
    buf line;                   /* a partial line carried between reads */
    int after_cr;               /* the last byte seen was CR: skip one LF */
    int ev_has_data;
    int ev_has_id;
    int ev_typed;               /* an event: field other than message/tweet */
    int64_t ev_sent_us;         /* -1: none */
    evid ev_id;
    evid last_id;               /* id of the last dispatched event with an id */
    int have_last;
    /* counts */
    uint64_t events, other_events, ooo, dup, comments;
    uint64_t data_bytes;        /* data field bytes of counted events */
    uint64_t ev_data_bytes;
    uint64_t t_request_us, t_first_us, t_expect_us;     /* monotonic */
    uint64_t retry_at_us;       /* CS_IDLE with --retry: open again then */
    int reopen;                 /* --retry: the next conn_open keeps the counts */
    int counted_done;
} conn;

static conn *conns;
static _Atomic long long next_conn;      /* next index to open */
static _Atomic long long settled;        /* connections that got their head or failed */
static _Atomic long long done_conns;     /* reached --expect, or ended */
static _Atomic uint64_t events_total;
static _Atomic uint64_t last_event_us;   /* monotonic */
static _Atomic uint64_t last_byte_us;
static _Atomic int stop_flag;
static uint64_t t_start_us;
static char first_error[256];
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic long long failed_connect, failed_http, failed_proto;
static _Atomic long long retries;        /* connections opened again (--retry) */

typedef struct worker {
    int ep;
    hist lat;
    uint64_t no_stamp;          /* events without sent_us */
    uint64_t now_wall;          /* wall clock µs of the current read */
    char *rbuf;
    pthread_t tid;
    int index;
    long long *retry_q;         /* indexes waiting to be opened again (--retry) */
    size_t nretry, retry_cap;
    unsigned rnd;
} worker;

static void note_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_error(const char *fmt, ...)
{
    pthread_mutex_lock(&error_lock);
    if (!first_error[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(first_error, sizeof first_error, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&error_lock);
}

static void conn_mark_done(conn *c)
{
    if (!c->counted_done) {
        c->counted_done = 1;
        atomic_fetch_add(&done_conns, 1);
    }
}

/* --retry: close c and open it again 0.2-2 s later, as a browser's
 * EventSource would; a reconnect storm gets in eventually. */
static void conn_retry(worker *w, conn *c)
{
    if (c->state >= CS_BODY) atomic_fetch_sub(&settled, 1);    /* it settles again */
    if (c->fd >= 0) {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    buf_free(&c->head);
    buf_free(&c->line);
    c->state = CS_IDLE;
    c->reopen = 1;
    w->rnd = w->rnd * 1103515245u + 12345u;
    c->retry_at_us = now_us() + 200000u + (w->rnd >> 8) % 1800000u;
    if (w->nretry == w->retry_cap) {
        w->retry_cap = w->retry_cap ? 2 * w->retry_cap : 256;
        w->retry_q = xrealloc(w->retry_q, w->retry_cap * sizeof *w->retry_q);
    }
    w->retry_q[w->nretry++] = (long long)(c - conns);
}

static void conn_end(worker *w, conn *c, int why)
{
    if (c->state == CS_DONE) return;
    if (opt.retry && why == END_CLOSED && !(opt.expect > 0 && c->events >= (uint64_t)opt.expect) &&
        !atomic_load(&stop_flag)) {
        conn_retry(w, c);       /* the server ended the stream early: reconnect */
        return;
    }
    if (c->state < CS_BODY) atomic_fetch_add(&settled, 1);
    if (c->fd >= 0) {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->state = CS_DONE;
    c->end = why;
    buf_free(&c->head);
    buf_free(&c->line);
    conn_mark_done(c);
}

static void conn_fail(worker *w, conn *c, _Atomic long long *counter, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void conn_fail(worker *w, conn *c, _Atomic long long *counter, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    note_error("connection %ld: %s", (long)(c - conns), msg);
    if (opt.retry && c->state < CS_BODY) {
        conn_retry(w, c);
        return;
    }
    if (counter) atomic_fetch_add(counter, 1);
    conn_end(w, c, c->state >= CS_BODY ? END_CLOSED : END_FAILED);
}

/* ---------------------------------------------------------------- SSE parsing */

/* Scan a data line for "sent_us":<digits>. */
static int64_t scan_sent_us(const char *s, size_t n)
{
    static const char key[] = "\"sent_us\":";
    const char *p = memmem(s, n, key, sizeof key - 1);
    if (!p) return -1;
    p += sizeof key - 1;
    const char *end = s + n;
    while (p < end && *p == ' ') p++;
    if (p == end || *p < '0' || *p > '9') return -1;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9' && v < INT64_MAX / 10) v = v * 10 + (*p++ - '0');
    return v;
}

static void sse_dispatch(worker *w, conn *c)
{
    if (!c->ev_has_data) goto reset;         /* no data field: nothing is dispatched */
    if (c->ev_typed) {
        c->other_events++;
        goto reset;
    }
    c->events++;
    c->data_bytes += c->ev_data_bytes;
    uint64_t mono = now_us();
    atomic_store_explicit(&last_event_us, mono, memory_order_relaxed);
    atomic_fetch_add_explicit(&events_total, 1, memory_order_relaxed);
    if (c->events == 1) c->t_first_us = mono;
    if (opt.expect > 0 && c->events == (uint64_t)opt.expect) {
        c->t_expect_us = mono;
        conn_mark_done(c);
    }
    if (c->ev_sent_us >= 0) {
        uint64_t sent = (uint64_t)c->ev_sent_us;
        hist_add(&w->lat, w->now_wall > sent ? w->now_wall - sent : 0);
    } else {
        w->no_stamp++;
    }
    if (c->ev_has_id && c->ev_id.n > 0) {
        if (c->have_last) {
            int d = evid_cmp(&c->ev_id, &c->last_id);
            if (d == 0) c->dup++;
            else if (d < 0) c->ooo++;
        }
        if (!c->have_last || evid_cmp(&c->ev_id, &c->last_id) > 0) c->last_id = c->ev_id;
        c->have_last = 1;
    }
reset:
    c->ev_has_data = 0;
    c->ev_data_bytes = 0;
    c->ev_has_id = 0;
    c->ev_typed = 0;
    c->ev_sent_us = -1;
}

/* One complete line (without its terminator). */
static void sse_line(worker *w, conn *c, const char *s, size_t n)
{
    if (n == 0) {
        sse_dispatch(w, c);
        return;
    }
    if (s[0] == ':') {
        c->comments++;
        return;
    }
    const char *colon = memchr(s, ':', n);
    size_t flen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = colon ? n - flen - 1 : 0;
    if (vlen > 0 && *v == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(s, "data", 4) == 0) {
        c->ev_has_data = 1;
        c->ev_data_bytes += vlen;
        if (c->ev_sent_us < 0) c->ev_sent_us = scan_sent_us(v, vlen);
    } else if (flen == 2 && memcmp(s, "id", 2) == 0) {
        if (!memchr(v, '\0', vlen)) {
            c->ev_has_id = 1;
            evid_parse(v, vlen, &c->ev_id);
        }
    } else if (flen == 5 && memcmp(s, "event", 5) == 0) {
        c->ev_typed = !(vlen == 0 || (vlen == 7 && memcmp(v, "message", 7) == 0) ||
                        (vlen == 5 && memcmp(v, "tweet", 5) == 0));
    }
    /* retry: and unknown fields are ignored, as a browser does. */
}

/* Feed body bytes to the SSE parser. Returns 0, or -1 on a line too long. */
static int sse_feed(worker *w, conn *c, const char *p, size_t n)
{
    while (n > 0) {
        if (c->after_cr) {
            c->after_cr = 0;
            if (*p == '\n') {
                p++;
                n--;
                continue;
            }
        }
        const char *cr = memchr(p, '\r', n);
        const char *lf = memchr(p, '\n', cr ? (size_t)(cr - p) : n);
        const char *eol = lf ? lf : cr;
        if (!eol) {
            if (c->line.len + n > MAX_LINE) return -1;
            buf_append(&c->line, p, n);
            return 0;
        }
        size_t len = (size_t)(eol - p);
        if (c->line.len) {
            if (c->line.len + len > MAX_LINE) return -1;
            buf_append(&c->line, p, len);
            sse_line(w, c, c->line.data, c->line.len);
            buf_reset(&c->line);
        } else {
            sse_line(w, c, p, len);
        }
        if (*eol == '\r') c->after_cr = 1;
        p = eol + 1;
        n -= len + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- HTTP */

/* Feed body bytes through the transfer decoding. Returns 0, 1 when the body
 * ended, -1 on a protocol error (reason noted). */
static int body_feed(worker *w, conn *c, const char *p, size_t n)
{
    if (!c->chunked) {
        if (c->content_left >= 0 && (int64_t)n > c->content_left) n = (size_t)c->content_left;
        if (sse_feed(w, c, p, n) < 0) goto too_long;
        if (c->content_left >= 0) {
            c->content_left -= (int64_t)n;
            if (c->content_left == 0) return 1;
        }
        return 0;
    }
    while (n > 0) {
        switch (c->chunk_state) {
        case CH_SIZE: {
            char ch = *p;
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
                    ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
            if (d >= 0) {
                if (++c->chunk_digits > 15) goto bad_chunk;
                c->chunk_left = c->chunk_left * 16 + (uint64_t)d;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->chunk_state = CH_EXT;
            } else if (ch == '\r') {
                /* the LF follows */
            } else if (ch == '\n') {
                if (c->chunk_digits == 0) goto bad_chunk;
                c->chunk_state = c->chunk_left ? CH_DATA : CH_TRAILER;
                c->trailer_len = 0;
            } else {
                goto bad_chunk;
            }
            p++;
            n--;
            break;
        }
        case CH_EXT:
            if (*p == '\n') {
                if (c->chunk_digits == 0) goto bad_chunk;
                c->chunk_state = c->chunk_left ? CH_DATA : CH_TRAILER;
                c->trailer_len = 0;
            }
            p++;
            n--;
            break;
        case CH_DATA: {
            size_t take = n < c->chunk_left ? n : (size_t)c->chunk_left;
            if (sse_feed(w, c, p, take) < 0) goto too_long;
            p += take;
            n -= take;
            c->chunk_left -= take;
            if (c->chunk_left == 0) c->chunk_state = CH_DATA_END;
            break;
        }
        case CH_DATA_END:
            if (*p == '\n') {
                c->chunk_state = CH_SIZE;
                c->chunk_digits = 0;
                c->chunk_left = 0;
            } else if (*p != '\r') {
                goto bad_chunk;
            }
            p++;
            n--;
            break;
        case CH_TRAILER:
            if (*p == '\n') {
                if (c->trailer_len == 0) return 1;
                c->trailer_len = 0;
            } else if (*p != '\r') {
                c->trailer_len++;
            }
            p++;
            n--;
            break;
        }
    }
    return 0;
bad_chunk:
    conn_fail(w, c, &failed_proto, "bad chunked encoding near byte 0x%02x", (unsigned char)*p);
    return -1;
too_long:
    conn_fail(w, c, &failed_proto, "SSE line longer than %u bytes", MAX_LINE);
    return -1;
}

/* Case-insensitive: does header line [s, s+n) have name `name`? Sets *val. */
static int header_is(const char *s, size_t n, const char *name, const char **val, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || s[k] != ':' || strncasecmp(s, name, k) != 0) return 0;
    const char *v = s + k + 1, *end = s + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    *val = v;
    *vlen = (size_t)(end - v);
    return 1;
}

/* Parse the head in c->head (complete, ending at head_len). 0 ok, -1 failed. */
static int head_parse(worker *w, conn *c, size_t head_len)
{
    const char *s = c->head.data, *end = s + head_len;
    const char *eol = memchr(s, '\n', head_len);
    int status = 0;
    if (!eol || sscanf(s, "HTTP/1.%*1d %3d", &status) != 1) {
        conn_fail(w, c, &failed_proto, "not an HTTP/1.x response");
        return -1;
    }
    if (status != 200) {
        size_t l = (size_t)(eol - s);
        while (l && (s[l - 1] == '\r')) l--;
        conn_fail(w, c, &failed_http, "%.*s", (int)(l > 120 ? 120 : l), s);
        return -1;
    }
    int is_sse = 0;
    c->content_left = -1;
    for (const char *l = eol + 1; l < end;) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        size_t n = nl ? (size_t)(nl - l) : (size_t)(end - l);
        const char *v;
        size_t vlen;
        if (header_is(l, n, "Content-Type", &v, &vlen))
            is_sse = vlen >= 17 && strncasecmp(v, "text/event-stream", 17) == 0;
        else if (header_is(l, n, "Transfer-Encoding", &v, &vlen))
            c->chunked = memmem(v, vlen, "chunked", 7) != NULL;
        else if (header_is(l, n, "Content-Length", &v, &vlen)) {
            char num[24];
            long long cl;
            const char *why;
            snprintf(num, sizeof num, "%.*s", (int)(vlen < 23 ? vlen : 23), v);
            if (parse_ll(num, 0, INT64_MAX, &cl, &why) < 0) {
                conn_fail(w, c, &failed_proto, "bad Content-Length '%s': %s", num, why);
                return -1;
            }
            c->content_left = cl;
        }
        l = nl ? nl + 1 : end;
    }
    if (!is_sse) {
        conn_fail(w, c, &failed_http, "Content-Type is not text/event-stream");
        return -1;
    }
    if (c->chunked) c->content_left = -1;
    return 0;
}

/* ---------------------------------------------------------------- event loop */

static void conn_open(worker *w, long long i)
{
    conn *c = &conns[i];
    if (c->reopen) {
        /* --retry: a fresh connection, the counts of the earlier ones kept. */
        conn keep = *c;
        memset(c, 0, sizeof *c);
        c->events = keep.events;
        c->other_events = keep.other_events;
        c->ooo = keep.ooo;
        c->dup = keep.dup;
        c->comments = keep.comments;
        c->data_bytes = keep.data_bytes;
        c->last_id = keep.last_id;
        c->have_last = keep.have_last;
        c->t_first_us = keep.t_first_us;
        c->t_expect_us = keep.t_expect_us;
    } else {
        memset(c, 0, sizeof *c);
    }
    c->fd = -1;
    c->ev_sent_us = -1;
    c->state = CS_CONNECTING;
    int fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        conn_fail(w, c, &failed_connect, "socket: %s", strerror(errno));
        return;
    }
    c->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt.nsources > 0) {
        /* The port is chosen at connect (per 4-tuple), so each source address
         * adds a whole ephemeral port range toward the one target port. */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        const struct sockaddr_in *src = &opt.sources[i % opt.nsources];
        if (bind(fd, (const struct sockaddr *)src, sizeof *src) < 0) {
            conn_fail(w, c, &failed_connect, "bind: %s", strerror(errno));
            return;
        }
    }
    if (connect(fd, (struct sockaddr *)&target, target_len) < 0 && errno != EINPROGRESS) {
        conn_fail(w, c, &failed_connect, "connect: %s", strerror(errno));
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        conn_fail(w, c, &failed_connect, "epoll_ctl: %s", strerror(errno));
        return;
    }
    c->t_request_us = now_us();
}

static void conn_writable(worker *w, conn *c)
{
    if (c->state == CS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            conn_fail(w, c, &failed_connect, "connect: %s", strerror(err));
            return;
        }
        c->state = CS_WRITING;
    }
    while (c->wrote < request.len) {
        ssize_t n = write(c->fd, request.data + c->wrote, request.len - c->wrote);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            conn_fail(w, c, &failed_connect, "write: %s", strerror(errno));
            return;
        }
        c->wrote += (size_t)n;
    }
    c->t_request_us = now_us();
    c->state = CS_HEAD;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_readable(worker *w, conn *c)
{
    ssize_t n = read(c->fd, w->rbuf, READ_BUF);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        conn_fail(w, c, c->state == CS_HEAD ? &failed_connect : NULL, "read: %s", strerror(errno));
        return;
    }
    atomic_store_explicit(&last_byte_us, now_us(), memory_order_relaxed);
    if (opt.quickack) {
        int one = 1;            /* the kernel clears it again: set it after every read */
        setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
    if (n == 0) {
        if (c->state == CS_HEAD) conn_fail(w, c, &failed_http, "closed before the response head");
        else conn_end(w, c, END_CLOSED);
        return;
    }
    w->now_wall = wall_us();
    const char *p = w->rbuf;
    size_t len = (size_t)n;
    if (c->state == CS_HEAD) {
        size_t old = c->head.len;
        buf_append(&c->head, p, len);
        const char *h = c->head.data;
        const char *e = memmem(h, c->head.len, "\r\n\r\n", 4);
        size_t head_len, sep = 4;
        if (!e) {
            e = memmem(h, c->head.len, "\n\n", 2);
            sep = 2;
        }
        if (!e) {
            if (c->head.len > MAX_HEAD) conn_fail(w, c, &failed_proto, "response head over %d bytes", MAX_HEAD);
            return;
        }
        head_len = (size_t)(e - h) + sep;
        if (head_parse(w, c, head_len) < 0) return;
        size_t body_off = head_len - old;       /* where the body starts in this read */
        p += body_off;
        len -= body_off;
        buf_free(&c->head);
        c->state = CS_BODY;
        atomic_fetch_add(&settled, 1);
    }
    if (len > 0) {
        int r = body_feed(w, c, p, len);
        if (r == 1) conn_end(w, c, END_CLOSED);
    }
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    struct epoll_event evs[512];
    uint64_t deadline = t_start_us + (uint64_t)opt.duration_s * 1000000u;
    while (!atomic_load(&stop_flag)) {
        uint64_t now = now_us();
        if (now >= deadline) break;
        /* Open what the ramp allows by now; claim indexes from the shared counter. */
        long long allowed = opt.ramp > 0 ? (long long)((now - t_start_us) * (uint64_t)opt.ramp / 1000000u) + 1
                                         : opt.conns;
        if (allowed > opt.conns) allowed = opt.conns;
        for (int k = 0; k < 256; k++) {
            long long i = atomic_load(&next_conn);
            if (i >= allowed) break;
            if (!atomic_compare_exchange_weak(&next_conn, &i, i + 1)) continue;
            conn_open(w, i);
        }
        for (size_t k = 0; k < w->nretry;) {
            long long ci = w->retry_q[k];
            if (conns[ci].retry_at_us > now) { k++; continue; }
            w->retry_q[k] = w->retry_q[--w->nretry];
            atomic_fetch_add(&retries, 1);
            conn_open(w, ci);
        }
        int ramping = atomic_load(&next_conn) < opt.conns || w->nretry > 0;
        int n = epoll_wait(w->ep, evs, (int)ARRAY_LEN(evs), ramping ? 1 : 20);
        /* --batch-us: after a wait that found some but not a full array of
         * events, pause before the next wait. What arrives meanwhile queues
         * in the kernel: this process is not waiting, so the server's send
         * does not wake it (here that wake-up runs on the server's CPU
         * time, as a browser on another machine never would). */
        if (opt.batch_us > 0 && n > 0 && n < (int)ARRAY_LEN(evs)) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = opt.batch_us * 1000};
            nanosleep(&ts, NULL);
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->state == CS_DONE || c->state == CS_IDLE) continue;     /* idle: closed, retrying */
            if (c->state == CS_CONNECTING || c->state == CS_WRITING) {
                if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) conn_writable(w, c);
            } else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
                conn_readable(w, c);
            }
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- RSS */

static long rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

static void rss_sample(long out[MAX_PIDS])
{
    for (int i = 0; i < opt.npids; i++) out[i] = rss_kb(opt.pids[i]);
}

static long rss_sum(const long v[MAX_PIDS])
{
    long s = 0;
    for (int i = 0; i < opt.npids; i++) s += v[i] > 0 ? v[i] : 0;
    return s;
}

/* ---------------------------------------------------------------- setup */

static void usage(FILE *out)
{
    fputs("usage: sseload [options] URL\n\n"
          "Opens --conns Server-Sent Events streams to URL (http://HOST:PORT/PATH, loopback\n"
          "only) and measures what arrives: events per connection, ids out of order or\n"
          "repeated, and latency = receipt wall clock - the \"sent_us\" (µs since the epoch)\n"
          "found in each event's data. Events of a type other than message/tweet (reset,\n"
          "filter-deleted…) are counted apart.\n\n"
          "Options:\n"
          "  -c, --conns N         connections to open (default 1)\n"
          "  -r, --ramp N          connections opened per second (default 1000; 0: at once)\n"
          "  -d, --duration S      stop after S seconds whatever happens (default 30)\n"
          "  -e, --expect N        events each connection should get; stop when all have\n"
          "      --linger MS       with --expect: keep every connection open MS more once all\n"
          "                        have their events (default 0)\n"
          "  -i, --until-idle MS   stop when all connections are open, some event arrived and\n"
          "                        none for MS milliseconds\n"
          "  -H, --header 'N: V'   add a request header (repeatable); one named Accept,\n"
          "                        Cache-Control or User-Agent replaces sseload's own\n"
          "  -H @FILE              the header lines of FILE (a request recorded from a\n"
          "                        browser: request line, Host and blank lines skipped)\n"
          "  -p, --pid-rss PID,…   report the RSS of these processes before connecting and at\n"
          "                        the idle plateau (all connected, no byte for --settle)\n"
          "      --settle MS       quiet time that makes the plateau (default 1000)\n"
          "      --ready-file F    create F at the plateau (a script can then publish)\n"
          "      --hist-out F      write the latency histogram to F at the end\n"
          "  -t, --threads N       event-loop threads (default 1, at most 8)\n"
          "      --quickack        acknowledge every read at once (TCP_QUICKACK) instead of\n"
          "                        delaying ACKs as browsers do; shows whether a server's\n"
          "                        Nagle delays meet the client's delayed ACKs\n"
          "      --batch-us N      after a wait that found events, pause N µs (at most\n"
          "                        100000) before waiting again, so the events of a\n"
          "                        burst wake this process once, not once each: on one\n"
          "                        machine those wake-ups cost the server's CPU. Each\n"
          "                        latency measured grows by up to N µs (default 0)\n"
          "      --retry           open a connection again, 0.2-2 s later, when it fails\n"
          "                        before its response head (refused, reset, an error\n"
          "                        status), until --duration: a reconnect storm gets in\n"
          "      --source A[,A…]   bind connection i to local address A[i % n] (127.x.y.z):\n"
          "                        each address gives its own ephemeral port range toward\n"
          "                        the one server port (~28 000 connections each here)\n"
          "  -v, --verbose         progress on stderr\n"
          "  -h, --help            this text\n\n"
          "Output (stdout): a one-line summary, then one line of key=value pairs:\n"
          "  conns connected failed closed events expected delivered_pct min_events\n"
          "  ooo dup other_events comments lat_samples p50_ms p90_ms p99_ms p999_ms max_ms\n"
          "  first_p50_ms complete_p50_ms complete_max_ms elapsed_s events_per_s\n"
          "  avg_data_b request_b (bytes of the request sent) retries (--retry) stop (expect, idle, duration, closed) plateau (0/1)\n"
          "  rss_before_kb rss_idle_kb rss_per_conn_b rss_pids=PID:BEFORE:IDLE,… (--pid-rss;\n"
          "  kB; rss_per_conn_b = (idle - before) / connected, in bytes)\n"
          "delivered_pct counts at most --expect events per connection (na without it);\n"
          "complete_* is the time from the request to the --expect-th event.\n"
          "Exit status: 0 after a run, 1 when it could not run, 2 on a usage error.\n\n"
          "sseload --hist-merge FILE...\n"
          "  merges histograms written by --hist-out (one per client process) and prints\n"
          "  files lat_samples p50_ms p90_ms p99_ms p999_ms max_ms over all of them.\n", out);
}

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "sseload: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(sseload --help lists the options)\n");
    return 2;
}

static int num_opt(const char *name, const char *arg, long long min, long long max, long long *out)
{
    const char *why;
    if (parse_ll(arg, min, max, out, &why) == 0) return 0;
    fprintf(stderr, "sseload: --%s '%s': %s (allowed %lld..%lld)\n", name, arg, why, min, max);
    return -1;
}

/* Split http://HOST[:PORT][/PATH] into opt.host/port/path. 0 ok, -1 with a reason. */
static int url_split(const char *url, const char **why)
{
    if (strncmp(url, "http://", 7) != 0) { *why = "only http:// URLs are supported"; return -1; }
    const char *h = url + 7, *hend, *rest;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (!hend) { *why = "unterminated [IPv6] host"; return -1; }
        h++;
        rest = hend + 1;
    } else {
        hend = h + strcspn(h, ":/");
        rest = hend;
    }
    if (hend == h || (size_t)(hend - h) >= sizeof opt.host) { *why = "bad host"; return -1; }
    memcpy(opt.host, h, (size_t)(hend - h));
    opt.host[hend - h] = '\0';
    strcpy(opt.port, "80");
    if (*rest == ':') {
        size_t pl = strcspn(rest + 1, "/");
        long long port;
        const char *e;
        char tmp[8];
        if (pl == 0 || pl >= sizeof tmp) { *why = "bad port"; return -1; }
        memcpy(tmp, rest + 1, pl);
        tmp[pl] = '\0';
        if (parse_ll(tmp, 1, 65535, &port, &e) < 0) { *why = "bad port"; return -1; }
        snprintf(opt.port, sizeof opt.port, "%lld", port);
        rest += 1 + pl;
    }
    if (*rest == '\0') rest = "/";
    if (*rest != '/') { *why = "bad URL after the host"; return -1; }
    if (strlen(rest) >= sizeof opt.path) { *why = "path too long"; return -1; }
    if (strpbrk(rest, " \r\n")) { *why = "spaces or line breaks in the path"; return -1; }
    strcpy(opt.path, rest);
    return 0;
}

static int resolve_loopback(const char **why)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (rc != 0) { *why = gai_strerror(rc); return -1; }
    int found = 0;
    for (struct addrinfo *a = res; a && !found; a = a->ai_next) {
        int loop = 0;
        if (a->ai_family == AF_INET) {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)a->ai_addr;
            loop = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
        } else if (a->ai_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a->ai_addr;
            loop = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
        }
        if (loop) {
            memcpy(&target, a->ai_addr, a->ai_addrlen);
            target_len = a->ai_addrlen;
            found = 1;
        }
    }
    freeaddrinfo(res);
    if (!found) { *why = "not a loopback address (sseload loads only 127.0.0.0/8 and ::1)"; return -1; }
    return 0;
}

/* Add one "Name: value" header line (without its line end) to opt.headers.
 * A Host line is dropped: sseload writes the target's own. 0 ok, -1 malformed. */
static int header_add(const char *s, size_t n)
{
    if (n == 0 || s[0] == ':' || !memchr(s, ':', n) || memchr(s, '\r', n) || memchr(s, '\n', n)) return -1;
    if (n >= 5 && strncasecmp(s, "Host:", 5) == 0) return 0;
    buf_append(&opt.headers, s, n);
    buf_appends(&opt.headers, "\r\n");
    return 0;
}

/* --header @FILE: the header lines of a recorded request (what a browser
 * sent), one a line, CRLF or LF; a request line and the blank line that ends
 * a head are skipped. 0 ok, -1 with a message on stderr. */
static int header_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "sseload: --header @%s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strcspn(line, "\r\n");
        if (n == 0) continue;
        if (lineno == 1 && !memchr(line, ':', n)) continue;     /* "GET /path HTTP/1.1" */
        if (header_add(line, n) < 0) {
            fprintf(stderr, "sseload: --header @%s:%d: want 'Name: value'\n", path, lineno);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* --source A,B,…: loopback IPv4 addresses to bind to, in turn. 0 ok, -1 with a message. */
static int sources_parse(const char *arg)
{
    char *list = xstrdup(arg), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        if (opt.nsources == MAX_SOURCES || inet_pton(AF_INET, tok, &a.sin_addr) != 1 ||
            (ntohl(a.sin_addr.s_addr) >> 24) != 127) {
            fprintf(stderr, "sseload: --source '%s': want up to %d loopback IPv4 addresses (127.x.y.z)\n", tok, MAX_SOURCES);
            rc = -1;
            break;
        }
        opt.sources[opt.nsources++] = a;
    }
    free(list);
    return rc;
}

/* Is header NAME among the --header lines? (They replace sseload's own.) */
static int header_given(const char *name)
{
    size_t n = strlen(name);
    const char *p = opt.headers.data, *end = p ? p + opt.headers.len : NULL;
    while (p && p < end) {
        if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') return 1;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"conns", required_argument, NULL, 'c'},     {"ramp", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},  {"expect", required_argument, NULL, 'e'},
        {"until-idle", required_argument, NULL, 'i'}, {"header", required_argument, NULL, 'H'},
        {"pid-rss", required_argument, NULL, 'p'},   {"settle", required_argument, NULL, 'S'},
        {"ready-file", required_argument, NULL, 'R'}, {"threads", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},         {"quickack", no_argument, NULL, 'Q'},
        {"retry", no_argument, NULL, 'T'},           {"source", required_argument, NULL, 's'},
        {"linger", required_argument, NULL, 'L'},    {"hist-out", required_argument, NULL, 'O'},
        {"batch-us", required_argument, NULL, 'B'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "c:r:d:e:i:H:p:t:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': if (num_opt("conns", optarg, 1, 1000000, &opt.conns) < 0) return 2; break;
        case 'r': if (num_opt("ramp", optarg, 0, 1000000, &opt.ramp) < 0) return 2; break;
        case 'd': if (num_opt("duration", optarg, 1, 3600, &opt.duration_s) < 0) return 2; break;
        case 'e': if (num_opt("expect", optarg, 1, 100000000, &opt.expect) < 0) return 2; break;
        case 'i': if (num_opt("until-idle", optarg, 1, 3600000, &opt.until_idle_ms) < 0) return 2; break;
        case 'S': if (num_opt("settle", optarg, 1, 600000, &opt.settle_ms) < 0) return 2; break;
        case 'L': if (num_opt("linger", optarg, 0, 600000, &opt.linger_ms) < 0) return 2; break;
        case 'B': if (num_opt("batch-us", optarg, 0, 100000, &opt.batch_us) < 0) return 2; break;
        case 't': if (num_opt("threads", optarg, 1, 8, &opt.threads) < 0) return 2; break;
        case 'H':
            if (optarg[0] == '@') {
                if (header_file(optarg + 1) < 0) return 2;
                break;
            }
            if (header_add(optarg, strlen(optarg)) < 0)
                return bad_usage("--header '%s': want 'Name: value' on one line", optarg);
            break;
        case 'p': {
            char *list = xstrdup(optarg), *save = NULL;
            for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                long long pid;
                if (opt.npids == MAX_PIDS) { free(list); return bad_usage("--pid-rss: at most 64 pids%s", ""); }
                if (num_opt("pid-rss", tok, 1, 4194304, &pid) < 0) { free(list); return 2; }
                opt.pids[opt.npids++] = (int)pid;
            }
            free(list);
            break;
        }
        case 'R': opt.ready_file = optarg; break;
        case 'O': opt.hist_out = optarg; break;
        case 'v': opt.verbose = 1; break;
        case 'Q': opt.quickack = 1; break;
        case 'T': opt.retry = 1; break;
        case 's': if (sources_parse(optarg) < 0) return 2; break;
        case 'h': usage(stdout); exit(0);
        default: fprintf(stderr, "(sseload --help lists the options)\n"); return 2;
        }
    }
    if (optind != argc - 1) return bad_usage("want exactly one URL%s", "");
    opt.url = argv[optind];
    const char *why;
    if (url_split(opt.url, &why) < 0) {
        fprintf(stderr, "sseload: URL '%s': %s\n", opt.url, why);
        return 2;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_of(uint64_t *v, size_t n, double q)
{
    if (n == 0) return 0;
    size_t k = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[k];
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--hist-merge") == 0) return hist_merge_main(argc - 2, argv + 2);
    int rc = parse_args(argc, argv);
    if (rc) {
        buf_free(&opt.headers);
        return rc;
    }
    const char *why;
    if (resolve_loopback(&why) < 0) {
        fprintf(stderr, "sseload: %s: %s\n", opt.host, why);
        buf_free(&opt.headers);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)opt.conns + 16 + (rlim_t)opt.threads > rl.rlim_cur) {
        fprintf(stderr, "sseload: --conns %lld needs more file descriptors than the limit %llu\n",
                opt.conns, (unsigned long long)rl.rlim_cur);
        buf_free(&opt.headers);
        return 1;
    }
    int v6 = target.ss_family == AF_INET6;
    buf_printf(&request, "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\n", opt.path, v6 ? "[" : "", opt.host,
               v6 ? "]" : "", opt.port);
    if (!header_given("Accept")) buf_appends(&request, "Accept: text/event-stream\r\n");
    if (!header_given("Cache-Control")) buf_appends(&request, "Cache-Control: no-cache\r\n");
    if (!header_given("User-Agent")) buf_appends(&request, "User-Agent: birdfeed-sseload\r\n");
    buf_printf(&request, "%s\r\n", opt.headers.data ? opt.headers.data : "");

    long rss_before[MAX_PIDS] = {0}, rss_idle[MAX_PIDS] = {0};
    int plateau = 0;
    rss_sample(rss_before);

    conns = xcalloc((size_t)opt.conns, sizeof *conns);
    for (long long i = 0; i < opt.conns; i++) conns[i].fd = -1;
    worker *ws = xcalloc((size_t)opt.threads, sizeof *ws);
    t_start_us = now_us();
    for (int i = 0; i < opt.threads; i++) {
        ws[i].index = i;
        ws[i].ep = epoll_create1(EPOLL_CLOEXEC);
        ws[i].rbuf = xmalloc(READ_BUF);
        ws[i].rnd = 2654435761u * (unsigned)(i + 1) ^ (unsigned)getpid();
        if (ws[i].ep < 0) {
            fprintf(stderr, "sseload: epoll_create1: %s\n", strerror(errno));
            return 1;
        }
    }
    for (int i = 0; i < opt.threads; i++) pthread_create(&ws[i].tid, NULL, worker_run, &ws[i]);

    /* The main thread watches the stop conditions and the plateau. */
    uint64_t deadline = t_start_us + (uint64_t)opt.duration_s * 1000000u;
    uint64_t all_settled_at = 0, last_report = t_start_us;
    const char *stop_reason = "duration";
    uint64_t expected_at = 0;      /* when every connection had its --expect events */
    for (;;) {
        usleep(5000);
        uint64_t now = now_us();
        if (now >= deadline) break;
        long long st = atomic_load(&settled);
        if (st >= opt.conns && !all_settled_at) all_settled_at = now;
        if (opt.expect > 0 && atomic_load(&done_conns) >= opt.conns) {
            if (!expected_at) expected_at = now;
            if (now - expected_at >= (uint64_t)opt.linger_ms * 1000u) { stop_reason = "expect"; break; }
        }
        if (opt.expect < 0 && atomic_load(&done_conns) >= opt.conns && st >= opt.conns) { stop_reason = "all closed"; break; }
        uint64_t le = atomic_load(&last_event_us), lb = atomic_load(&last_byte_us);
        if (all_settled_at && opt.until_idle_ms > 0 && atomic_load(&events_total) > 0) {
            uint64_t since = le > all_settled_at ? le : all_settled_at;
            if (now - since >= (uint64_t)opt.until_idle_ms * 1000u) { stop_reason = "idle"; break; }
        }
        if (!plateau && all_settled_at) {
            uint64_t quiet_from = lb > all_settled_at ? lb : all_settled_at;
            if (now - quiet_from >= (uint64_t)opt.settle_ms * 1000u) {
                plateau = 1;
                rss_sample(rss_idle);
                if (opt.verbose) fprintf(stderr, "sseload: plateau after %.1f s\n", (double)(now - t_start_us) / 1e6);
                if (opt.ready_file) {
                    FILE *f = fopen(opt.ready_file, "w");
                    if (f) fclose(f);
                    else fprintf(stderr, "sseload: %s: %s\n", opt.ready_file, strerror(errno));
                }
            }
        }
        if (opt.verbose && now - last_report >= 1000000u) {
            last_report = now;
            fprintf(stderr, "sseload: %.0f s: %lld opened, %lld settled, %llu events\n",
                    (double)(now - t_start_us) / 1e6, (long long)atomic_load(&next_conn), st,
                    (unsigned long long)atomic_load(&events_total));
        }
    }
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < opt.threads; i++) pthread_join(ws[i].tid, NULL);
    double elapsed = (double)(now_us() - t_start_us) / 1e6;

    /* Totals. */
    hist *lat = xcalloc(1, sizeof *lat);
    uint64_t no_stamp = 0;
    for (int i = 0; i < opt.threads; i++) {
        hist_merge(lat, &ws[i].lat);
        no_stamp += ws[i].no_stamp;
    }
    long long connected = 0, closed = 0, failed = 0;
    uint64_t data_bytes = 0;
    uint64_t events = 0, other = 0, ooo = 0, dup = 0, comments = 0, delivered = 0;
    uint64_t min_events = UINT64_MAX;
    uint64_t *firsts = xcalloc((size_t)opt.conns, sizeof *firsts), *completes = xcalloc((size_t)opt.conns, sizeof *completes);
    size_t nfirst = 0, ncomplete = 0;
    for (long long i = 0; i < opt.conns; i++) {
        conn *c = &conns[i];
        int got_head = c->state == CS_BODY || (c->state == CS_DONE && c->end != END_FAILED);
        if (got_head) connected++;
        else failed++;
        if (c->state == CS_DONE && c->end == END_CLOSED) closed++;
        events += c->events;
        data_bytes += c->data_bytes;
        other += c->other_events;
        ooo += c->ooo;
        dup += c->dup;
        comments += c->comments;
        if (c->events < min_events) min_events = c->events;
        if (opt.expect > 0) delivered += c->events < (uint64_t)opt.expect ? c->events : (uint64_t)opt.expect;
        if (c->t_first_us) firsts[nfirst++] = c->t_first_us - c->t_request_us;
        if (c->t_expect_us) completes[ncomplete++] = c->t_expect_us - c->t_request_us;
        if (c->fd >= 0) close(c->fd);
        buf_free(&c->head);
        buf_free(&c->line);
    }
    qsort(firsts, nfirst, sizeof *firsts, cmp_u64);
    qsort(completes, ncomplete, sizeof *completes, cmp_u64);
    uint64_t expected = opt.expect > 0 ? (uint64_t)opt.expect * (uint64_t)opt.conns : 0;
    char pct[32];
    if (expected) snprintf(pct, sizeof pct, "%.2f", 100.0 * (double)delivered / (double)expected);
    else strcpy(pct, "na");
    double p50 = hist_quantile(lat, 0.50) / 1000, p90 = hist_quantile(lat, 0.90) / 1000,
           p99 = hist_quantile(lat, 0.99) / 1000, p999 = hist_quantile(lat, 0.999) / 1000,
           pmax = (double)lat->max / 1000;

    printf("sseload: %lld/%lld connected, %lld failed, %lld closed early; %llu events",
           connected, opt.conns, failed, closed, (unsigned long long)events);
    if (expected) printf(" of %llu expected (%s%% delivered)", (unsigned long long)expected, pct);
    printf(", %llu out of order, %llu duplicated; latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f"
           " (%llu samples); %.1f s, stopped by %s\n",
           (unsigned long long)ooo, (unsigned long long)dup, p50, p90, p99, p999, pmax,
           (unsigned long long)lat->n, elapsed, stop_reason);
    if (first_error[0]) fprintf(stderr, "sseload: first error: %s\n", first_error);
    printf("conns=%lld connected=%lld failed=%lld closed=%lld events=%llu expected=%llu delivered_pct=%s"
           " min_events=%llu ooo=%llu dup=%llu other_events=%llu comments=%llu lat_samples=%llu no_stamp=%llu"
           " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f"
           " first_p50_ms=%.3f complete_p50_ms=%.3f complete_max_ms=%.3f elapsed_s=%.2f events_per_s=%.0f"
           " avg_data_b=%.0f request_b=%zu retries=%lld failed_connect=%lld failed_http=%lld failed_proto=%lld stop=%s",
           opt.conns, connected, failed, closed, (unsigned long long)events, (unsigned long long)expected, pct,
           (unsigned long long)(min_events == UINT64_MAX ? 0 : min_events), (unsigned long long)ooo,
           (unsigned long long)dup, (unsigned long long)other, (unsigned long long)comments,
           (unsigned long long)lat->n, (unsigned long long)no_stamp, p50, p90, p99, p999, pmax,
           pct_of(firsts, nfirst, 0.5) / 1000, pct_of(completes, ncomplete, 0.5) / 1000,
           ncomplete ? (double)completes[ncomplete - 1] / 1000 : 0.0, elapsed,
           elapsed > 0 ? (double)events / elapsed : 0.0, events ? (double)data_bytes / (double)events : 0.0,
           request.len, (long long)atomic_load(&retries), (long long)atomic_load(&failed_connect),
           (long long)atomic_load(&failed_http), (long long)atomic_load(&failed_proto),
           stop_reason[0] == 'a' ? "closed" : stop_reason);
    if (opt.npids) {
        long before = rss_sum(rss_before), idle = rss_sum(rss_idle);
        printf(" rss_before_kb=%ld", before);
        if (plateau) {
            printf(" rss_idle_kb=%ld rss_per_conn_b=%.0f", idle,
                   connected ? (double)(idle - before) * 1024.0 / (double)connected : 0.0);
        } else {
            printf(" rss_idle_kb=na rss_per_conn_b=na");
        }
        /* Per process, for scripts that group them: pid:before:idle,… */
        printf(" rss_pids=");
        for (int i = 0; i < opt.npids; i++)
            printf("%s%d:%ld:%ld", i ? "," : "", opt.pids[i], rss_before[i], plateau ? rss_idle[i] : -1L);
    }
    printf(" plateau=%d\n", plateau);
    int status = opt.hist_out && hist_write(lat, opt.hist_out) < 0 ? 1 : 0;

    for (int i = 0; i < opt.threads; i++) {
        close(ws[i].ep);
        free(ws[i].rbuf);
        free(ws[i].retry_q);
    }
    free(ws);
    free(lat);
    free(firsts);
    free(completes);
    free(conns);
    buf_free(&request);
    buf_free(&opt.headers);
    return status;
}
