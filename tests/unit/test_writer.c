/* Unit tests for fcgi/writer (a stream's queue of frames → FastCGI records →
 * writev) over socketpairs: record boundaries read back with lib/fcgirec,
 * partial writes and EAGAIN with a small SO_SNDBUF, cuts at every offset
 * (inside record headers too), frames shared between writers, the output
 * limit and the end-of-request trailer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "fcgirec.h"
#include "frame.h"
#include "test.h"
#include "writer.h"

#define REQ_ID 7

/* A socket that takes at most `take` bytes per write, as a nearly full one
 * does: this file's writev wraps the system call (the writer in
 * libbirdfeed-fcgi.a links to it) and passes everything through while take
 * is 0. Cuts then fall at every offset: inside record headers, frames and
 * the trailer. */
static size_t take;

ssize_t writev(int fd, const struct iovec *iov, int n);
ssize_t writev(int fd, const struct iovec *iov, int n)
{
    struct iovec cut[128];
    size_t left = take;
    int k = 0;
    if (take == 0 || n > 128) return syscall(SYS_writev, fd, iov, n);
    for (; k < n && left > 0; k++) {
        cut[k] = iov[k];
        if (cut[k].iov_len > left) cut[k].iov_len = left;
        left -= cut[k].iov_len;
    }
    return syscall(SYS_writev, fd, cut, k);
}

/* One connection under test: a writer on sv[0] (non-blocking), what the
 * peer read on sv[1], and what it should get. */
struct conn {
    int sv[2];
    writer w;
    buf raw;          /* bytes read from sv[1] */
    buf content;      /* their STDOUT content */
    buf want;         /* the frames pushed, in order */
    int ended;        /* the bytes ended with the end-of-request records */
};

static void conn_open(struct conn *c, int sndbuf, size_t limit)
{
    memset(c, 0, sizeof *c);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, c->sv), 0);
    if (sndbuf) ASSERT_EQ(setsockopt(c->sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    for (int i = 0; i < 2; i++) ASSERT_EQ(fcntl(c->sv[i], F_SETFL, fcntl(c->sv[i], F_GETFL) | O_NONBLOCK), 0);
    writer_init(&c->w, c->sv[0], REQ_ID, limit);
}

static void conn_close(struct conn *c)
{
    writer_release(&c->w);
    buf_free(&c->raw);
    buf_free(&c->content);
    buf_free(&c->want);
    close(c->sv[0]);
    if (c->sv[1] >= 0) close(c->sv[1]);
}

/* Queue f and expect its bytes. */
static void conn_push(struct conn *c, frame *f)
{
    writer_push(&c->w, f);
    buf_append(&c->want, f->data, f->len);
}

/* Read what is there (at most max bytes; 0: all). Returns bytes read. */
static size_t conn_read(struct conn *c, size_t max)
{
    char tmp[4096];
    size_t got = 0;
    for (;;) {
        size_t want = sizeof tmp;
        if (max && max - got < want) want = max - got;
        if (want == 0) break;
        ssize_t n = read(c->sv[1], tmp, want);
        if (n <= 0) break;
        buf_append(&c->raw, tmp, (size_t)n);
        got += (size_t)n;
    }
    return got;
}

/* What a web server would read: every record parsed, their STDOUT content
 * into c->content, c->ended set when the bytes end with an empty STDOUT
 * record and FCGI_END_REQUEST (nothing after). Fails the test on a bad
 * record. Returns the STDOUT records with content. */
static int conn_parse(struct conn *c)
{
    size_t off = 0;
    int records = 0, saw_empty = 0;
    buf_reset(&c->content);
    c->ended = 0;
    while (off < c->raw.len) {
        fcgirec rec;
        long n = fcgirec_parse((const unsigned char *)c->raw.data + off, c->raw.len - off, &rec);
        ASSERT(n > 0);
        ASSERT_EQ(rec.request_id, REQ_ID);
        ASSERT(!c->ended);                                /* nothing after END_REQUEST */
        if (rec.type == FCGIREC_STDOUT) {
            ASSERT(!saw_empty);
            ASSERT(rec.content_len <= FCGIREC_MAX_CONTENT);
            if (rec.content_len == 0) saw_empty = 1;
            else records++;
            buf_append(&c->content, rec.content, rec.content_len);
        } else {
            ASSERT_EQ(rec.type, FCGIREC_END_REQUEST);
            ASSERT(saw_empty);
            ASSERT_EQ(rec.content_len, 8);
            ASSERT_EQ(rec.content[4], 0);                 /* FCGI_REQUEST_COMPLETE */
            c->ended = 1;
        }
        off += (size_t)n;
    }
    return records;
}

/* Flush until done, reading in pieces of `piece` bytes (0: all) between
 * flushes; then every pushed byte must have arrived, framed. Returns the
 * rounds that found the socket full. */
static int conn_finish(struct conn *c, size_t piece)
{
    int rc, again = 0;
    for (int round = 0; round < 200000 && (rc = writer_flush(&c->w, NULL)) == WRITER_AGAIN; round++) {
        again++;
        conn_read(c, piece);
    }
    ASSERT_EQ(rc, WRITER_OK);
    ASSERT_EQ(writer_owed(&c->w), 0);
    ASSERT(!writer_pending(&c->w));
    conn_read(c, 0);
    conn_parse(c);
    ASSERT_EQ(c->content.len, c->want.len);
    ASSERT(memcmp(c->content.data, c->want.data, c->want.len) == 0);
    return again;
}

/* A frame of len bytes, each the byte seed + its index (the caller's reference). */
static frame *pattern_frame(size_t len, int seed)
{
    char *p = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) p[i] = (char)('a' + (seed + (int)i) % 26);
    frame *f = frame_raw(p, len);
    free(p);
    return f;
}

/* Push a new frame of len bytes that only the writer holds. */
static void push_new(struct conn *c, size_t len, int seed)
{
    frame *f = pattern_frame(len, seed);
    conn_push(c, f);
    frame_unref(f);
}

static void test_one_record(void)
{
    struct conn c;
    size_t written;
    frame *a = frame_raw("retry: 1\n\n", 10), *b = frame_tweet((bus_id){5, 1}, "{\"x\":1}", 7);

    conn_open(&c, 0, 1 << 20);
    conn_push(&c, a);
    conn_push(&c, b);
    ASSERT_EQ(writer_owed(&c.w), a->len + b->len);
    ASSERT(writer_pending(&c.w));
    ASSERT_EQ(writer_flush(&c.w, &written), WRITER_OK);
    ASSERT_EQ(written, FCGIREC_HEADER_LEN + a->len + b->len);   /* both frames behind one header */
    ASSERT(!writer_done(&c.w));
    conn_read(&c, 0);
    ASSERT_EQ(conn_parse(&c), 1);
    ASSERT(!c.ended);
    ASSERT_STREQ(c.content.data, "retry: 1\n\nid: 5-1\nevent: tweet\ndata: {\"x\":1}\n\n");
    frame_unref(a);
    frame_unref(b);
    conn_close(&c);
}

/* A frame larger than a record's content is cut into records of ≤ 65 535 bytes. */
static void test_big_frame(void)
{
    struct conn c;
    conn_open(&c, 0, 1 << 20);
    push_new(&c, 200000, 3);
    conn_finish(&c, 0);
    ASSERT_EQ(conn_parse(&c), 4);                                   /* 3 × 65 535 + 3 395 */
    conn_close(&c);
}

/* A small send buffer: writev takes part of what is owed, then EAGAIN. The
 * reader takes odd-sized pieces in between; the framing survives every cut,
 * and a drained big queue is freed. */
static void test_partial_writes(void)
{
    struct conn c;
    conn_open(&c, 4096, 64u << 20);
    for (int i = 0; i < 400; i++) push_new(&c, i == 200 ? 70000 : (size_t)(1 + (i * 37) % 1500), i);
    ASSERT_EQ(writer_owed(&c.w), c.want.len);
    ASSERT(conn_finish(&c, 777) > 10);           /* the socket really was full, often */
    ASSERT(c.w.q == NULL);
    conn_close(&c);
}

/* Cuts at every offset (a socket taking 1, 2, … 40 bytes a write), the
 * trailer included: each flush goes on where the last one stopped. */
static void test_cut_everywhere(void)
{
    int cut_headers = 0;
    for (take = 1; take <= 40; take++) {      /* reset to 0 below, and by main() after a failure */
        struct conn c;
        conn_open(&c, 0, 64u << 20);
        for (int i = 0; i < 60; i++) {
            push_new(&c, (size_t)(1 + (i * 7) % 29), i);
            if (i % 3 == 2) {                  /* a write now and then: records of a few frames each */
                ASSERT(writer_flush(&c.w, NULL) != WRITER_ERROR);
                if (c.w.hdr_off > 0 && c.w.hdr_off < FCGIREC_HEADER_LEN) cut_headers++;
                conn_read(&c, 0);              /* each tiny write costs the socket a buffer */
            }
        }
        writer_end(&c.w);
        conn_finish(&c, 0);
        ASSERT(c.ended);
        ASSERT(writer_done(&c.w));
        conn_close(&c);
    }
    take = 0;
    ASSERT(cut_headers > 10);
}

/* One frame queued to two writers: each owns a reference; each connection
 * gets the same bytes; the frame is freed once, after both wrote it. */
static void test_shared_frames(void)
{
    struct conn c1, c2;
    frame *f = frame_tweet((bus_id){9, 0}, "{\"t\":\"shared\"}", 14);

    conn_open(&c1, 0, 1 << 20);
    conn_open(&c2, 0, 1 << 20);
    conn_push(&c1, f);
    conn_push(&c2, f);
    conn_push(&c2, f);                           /* twice into one queue too */
    ASSERT_EQ(f->refs, 4);
    ASSERT_EQ(writer_flush(&c1.w, NULL), WRITER_OK);
    ASSERT_EQ(f->refs, 3);
    conn_finish(&c2, 0);
    ASSERT_EQ(f->refs, 1);
    conn_finish(&c1, 0);
    frame_unref(f);
    conn_close(&c1);
    conn_close(&c2);
}

/* Owing more than the limit is what cuts a client off; release gives every
 * queued frame back. */
static void test_limit(void)
{
    struct conn c;
    frame *f = pattern_frame(600, 1);

    conn_open(&c, 4096, 1000);
    conn_push(&c, f);
    ASSERT(!writer_over(&c.w));
    conn_push(&c, f);
    ASSERT(writer_over(&c.w));
    ASSERT_EQ(f->refs, 3);
    /* a peer that never reads: what the socket takes no longer counts as owed */
    for (int i = 0; i < 200; i++) conn_push(&c, f);
    ASSERT_EQ(writer_flush(&c.w, NULL), WRITER_AGAIN);
    ASSERT(writer_owed(&c.w) < 202 * 600);
    ASSERT(writer_over(&c.w));
    writer_release(&c.w);
    ASSERT_EQ(f->refs, 1);
    ASSERT_EQ(writer_owed(&c.w), 0);
    ASSERT(c.w.q == NULL);
    frame_unref(f);
    conn_close(&c);
}

/* writer_end: after what is queued, an empty STDOUT record and END_REQUEST,
 * also when the socket is full and the trailer waits (tiny reads). */
static void test_trailer(void)
{
    for (int small = 0; small < 2; small++) {
        struct conn c;
        conn_open(&c, small ? 4096 : 0, 64u << 20);
        for (int i = 0; i < (small ? 300 : 3); i++) push_new(&c, (size_t)(100 + i), i);
        writer_end(&c.w);
        ASSERT(!writer_done(&c.w));
        int again = conn_finish(&c, 5);
        ASSERT(small ? again > 0 : again == 0);
        ASSERT(c.ended);
        ASSERT(writer_done(&c.w));
        /* flushing a finished writer writes nothing more */
        ASSERT_EQ(writer_flush(&c.w, NULL), WRITER_OK);
        ASSERT_EQ(conn_read(&c, 0), 0);
        conn_close(&c);
    }
}

/* The peer went away: the write fails (EPIPE), never blocks. */
static void test_peer_gone(void)
{
    struct conn c;
    conn_open(&c, 0, 1 << 20);
    close(c.sv[1]);
    c.sv[1] = -1;
    push_new(&c, 100, 0);
    ASSERT_EQ(writer_flush(&c.w, NULL), WRITER_ERROR);
    conn_close(&c);
}

/* A plain HTTP connection (WRITER_RAW): the frames' bytes exactly, with no
 * record and no trailer, whatever the cuts; ending it writes nothing. */
static void test_raw(void)
{
    for (size_t cut = 1; cut <= 9; cut += 4) {
        struct conn c;
        buf got = BUF_INIT;
        int sv[2];
        memset(&c, 0, sizeof c);
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        for (int i = 0; i < 2; i++) ASSERT_EQ(fcntl(sv[i], F_SETFL, fcntl(sv[i], F_GETFL) | O_NONBLOCK), 0);
        writer_init(&c.w, sv[0], WRITER_RAW, 1 << 22);
        take = cut;
        frame *small = frame_raw("event: a\n\n", 10);
        conn_push(&c, small);
        frame_unref(small);
        frame *big = pattern_frame(FCGIREC_MAX_CONTENT + 1000, 3);
        conn_push(&c, big);
        frame_unref(big);
        writer_end(&c.w);
        int rounds = 0;
        while (writer_flush(&c.w, NULL) == WRITER_AGAIN && rounds++ < 100000) {
            char tmp[4096];
            ssize_t n = read(sv[1], tmp, sizeof tmp);
            if (n > 0) buf_append(&got, tmp, (size_t)n);
        }
        take = 0;
        ASSERT(writer_done(&c.w));
        ASSERT(!writer_pending(&c.w));
        for (;;) {
            char tmp[4096];
            ssize_t n = read(sv[1], tmp, sizeof tmp);
            if (n <= 0) break;
            buf_append(&got, tmp, (size_t)n);
        }
        ASSERT_EQ(got.len, c.want.len);
        ASSERT(memcmp(got.data, c.want.data, got.len) == 0);
        writer_release(&c.w);
        buf_free(&got);
        buf_free(&c.want);
        close(sv[0]);
        close(sv[1]);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);             /* as the responder: a gone peer is EPIPE */
    RUN(test_one_record);
    RUN(test_big_frame);
    RUN(test_partial_writes);
    RUN(test_cut_everywhere);
    take = 0;
    RUN(test_shared_frames);
    RUN(test_limit);
    RUN(test_trailer);
    RUN(test_peer_gone);
    RUN(test_raw);
    return test_summary();
}
