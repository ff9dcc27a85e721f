/* Unit tests for fcgi/writer (a stream's queue of frames → FastCGI records →
 * writev) over socketpairs: record boundaries read back with lib/fcgirec,
 * partial writes and EAGAIN with a small SO_SNDBUF, frames shared between
 * writers, the output limit and the end-of-request trailer. */
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

/* A connected pair: sv[0] for the writer (non-blocking), sv[1] to read. */
static void pair(int sv[2], int sndbuf)
{
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if (sndbuf) ASSERT_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    ASSERT_EQ(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
    ASSERT_EQ(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK), 0);
}

/* Read what is there (at most max bytes; 0: all) into out. Returns bytes read. */
static size_t drain(int fd, buf *out, size_t max)
{
    char tmp[4096];
    size_t got = 0;
    for (;;) {
        size_t want = sizeof tmp;
        if (max && max - got < want) want = max - got;
        if (want == 0) break;
        ssize_t n = read(fd, tmp, want);
        if (n <= 0) break;
        buf_append(out, tmp, (size_t)n);
        got += (size_t)n;
    }
    return got;
}

/* What a web server would read: every record parsed; their STDOUT content
 * concatenated into content. Returns the number of STDOUT records with
 * content; *ended is 1 when the bytes end with an empty STDOUT record and
 * FCGI_END_REQUEST (and nothing after). Fails the test on a bad record. */
static int parse_all(const buf *raw, buf *content, int *ended)
{
    size_t off = 0;
    int records = 0, saw_empty = 0;
    *ended = 0;
    while (off < raw->len) {
        fcgirec rec;
        long n = fcgirec_parse((const unsigned char *)raw->data + off, raw->len - off, &rec);
        ASSERT(n > 0);
        ASSERT_EQ(rec.request_id, REQ_ID);
        ASSERT(!*ended);                                  /* nothing after END_REQUEST */
        if (rec.type == FCGIREC_STDOUT) {
            ASSERT(!saw_empty);
            ASSERT(rec.content_len <= FCGIREC_MAX_CONTENT);
            if (rec.content_len == 0) saw_empty = 1;
            else records++;
            buf_append(content, rec.content, rec.content_len);
        } else {
            ASSERT_EQ(rec.type, FCGIREC_END_REQUEST);
            ASSERT(saw_empty);
            ASSERT_EQ(rec.content_len, 8);
            ASSERT_EQ(rec.content[4], 0);                 /* FCGI_REQUEST_COMPLETE */
            *ended = 1;
        }
        off += (size_t)n;
    }
    return records;
}

/* A frame of len bytes, each the byte seed + its index. */
static frame *pattern_frame(size_t len, int seed)
{
    char *p = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) p[i] = (char)('a' + (seed + (int)i) % 26);
    frame *f = frame_raw(p, len);
    free(p);
    return f;
}

static void test_one_record(void)
{
    int sv[2], ended;
    writer w;
    buf raw = BUF_INIT, content = BUF_INIT;
    size_t written;
    frame *a = frame_raw("retry: 1\n\n", 10), *b = frame_tweet((bus_id){5, 1}, "{\"x\":1}", 7);

    pair(sv, 0);
    writer_init(&w, sv[0], REQ_ID, 1 << 20);
    writer_push(&w, a);
    writer_push(&w, b);
    ASSERT_EQ(writer_owed(&w), a->len + b->len);
    ASSERT(writer_pending(&w));
    ASSERT_EQ(writer_flush(&w, &written), WRITER_OK);
    ASSERT_EQ(written, FCGIREC_HEADER_LEN + a->len + b->len);   /* both frames behind one header */
    ASSERT(!writer_pending(&w));
    ASSERT(!writer_done(&w));
    drain(sv[1], &raw, 0);
    ASSERT_EQ(parse_all(&raw, &content, &ended), 1);
    ASSERT(!ended);
    ASSERT_STREQ(content.data, "retry: 1\n\nid: 5-1\nevent: tweet\ndata: {\"x\":1}\n\n");
    writer_release(&w);
    frame_unref(a);
    frame_unref(b);
    buf_free(&raw);
    buf_free(&content);
    close(sv[0]);
    close(sv[1]);
}

/* A frame larger than a record's content is cut into records of ≤ 65 535 bytes. */
static void test_big_frame(void)
{
    int sv[2], ended;
    writer w;
    buf raw = BUF_INIT, content = BUF_INIT;
    frame *f = pattern_frame(200000, 3);
    int rc;

    pair(sv, 0);
    writer_init(&w, sv[0], REQ_ID, 1 << 20);
    writer_push(&w, f);
    while ((rc = writer_flush(&w, NULL)) == WRITER_AGAIN) drain(sv[1], &raw, 0);
    ASSERT_EQ(rc, WRITER_OK);
    drain(sv[1], &raw, 0);
    ASSERT_EQ(parse_all(&raw, &content, &ended), 4);                 /* 3 × 65 535 + 3 395 */
    ASSERT_EQ(content.len, f->len);
    ASSERT(memcmp(content.data, f->data, f->len) == 0);
    writer_release(&w);
    frame_unref(f);
    buf_free(&raw);
    buf_free(&content);
    close(sv[0]);
    close(sv[1]);
}

/* A small send buffer: writev takes part of what is owed, then EAGAIN. The
 * reader takes odd-sized pieces in between; the framing survives every cut. */
static void test_partial_writes(void)
{
    int sv[2], ended, rc, again = 0;
    writer w;
    buf raw = BUF_INIT, content = BUF_INIT, want = BUF_INIT;
    size_t total = 0, n;

    pair(sv, 4096);
    writer_init(&w, sv[0], REQ_ID, 64u << 20);
    for (int i = 0; i < 400; i++) {
        frame *f = pattern_frame(i == 200 ? 70000 : (size_t)(1 + (i * 37) % 1500), i);
        writer_push(&w, f);
        buf_append(&want, f->data, f->len);
        frame_unref(f);                          /* the writer holds it now */
    }
    ASSERT_EQ(writer_owed(&w), want.len);
    for (int round = 0; round < 100000; round++) {
        rc = writer_flush(&w, &n);
        ASSERT(rc != WRITER_ERROR);
        total += n;
        if (rc == WRITER_OK) break;
        again++;
        drain(sv[1], &raw, 777);
    }
    ASSERT_EQ(rc, WRITER_OK);
    ASSERT(again > 10);                          /* the socket really was full, often */
    ASSERT_EQ(writer_owed(&w), 0);
    ASSERT(!writer_pending(&w));
    ASSERT(w.q == NULL);                         /* a drained big queue is freed */
    drain(sv[1], &raw, 0);
    ASSERT_EQ(raw.len, total);
    parse_all(&raw, &content, &ended);
    ASSERT_EQ(content.len, want.len);
    ASSERT(memcmp(content.data, want.data, want.len) == 0);
    writer_release(&w);
    buf_free(&raw);
    buf_free(&content);
    buf_free(&want);
    close(sv[0]);
    close(sv[1]);
}

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

static void test_cut_everywhere(void)
{
    int cut_headers = 0;
    for (take = 1; take <= 40; take++) {     /* reset to 0 below, and by main() after a failure */
        int sv[2], ended, rc = WRITER_OK;
        writer w;
        buf raw = BUF_INIT, content = BUF_INIT, want = BUF_INIT;

        pair(sv, 0);
        writer_init(&w, sv[0], REQ_ID, 64u << 20);
        for (int i = 0; i < 60; i++) {
            frame *f = pattern_frame((size_t)(1 + (i * 7) % 29), i);
            writer_push(&w, f);
            buf_append(&want, f->data, f->len);
            frame_unref(f);
            if (i % 3 == 2) {            /* a write now and then: records of a few frames each */
                rc = writer_flush(&w, NULL);
                ASSERT(rc != WRITER_ERROR);
                if (w.hdr_off > 0 && w.hdr_off < FCGIREC_HEADER_LEN) cut_headers++;
                drain(sv[1], &raw, 0);   /* each tiny write costs the socket a buffer */
            }
        }
        writer_end(&w);
        for (int round = 0; round < 10000 && (rc = writer_flush(&w, NULL)) == WRITER_AGAIN; round++) {
            if (w.hdr_off > 0 && w.hdr_off < FCGIREC_HEADER_LEN) cut_headers++;
            drain(sv[1], &raw, 0);
        }
        ASSERT_EQ(rc, WRITER_OK);
        ASSERT(writer_done(&w));
        drain(sv[1], &raw, 0);
        parse_all(&raw, &content, &ended);
        ASSERT(ended);
        ASSERT_EQ(content.len, want.len);
        ASSERT(memcmp(content.data, want.data, want.len) == 0);
        writer_release(&w);
        buf_free(&raw);
        buf_free(&content);
        buf_free(&want);
        close(sv[0]);
        close(sv[1]);
    }
    take = 0;
    ASSERT(cut_headers > 10);
}

/* One frame queued to two writers: each owns a reference; each connection
 * gets the same bytes; the frame is freed once, after both wrote it. */
static void test_shared_frames(void)
{
    int s1[2], s2[2], ended;
    writer w1, w2;
    buf r1 = BUF_INIT, r2 = BUF_INIT, c1 = BUF_INIT, c2 = BUF_INIT;
    frame *f = frame_tweet((bus_id){9, 0}, "{\"t\":\"shared\"}", 14);

    pair(s1, 0);
    pair(s2, 0);
    writer_init(&w1, s1[0], REQ_ID, 1 << 20);
    writer_init(&w2, s2[0], REQ_ID, 1 << 20);
    writer_push(&w1, f);
    writer_push(&w2, f);
    writer_push(&w2, f);                         /* twice into one queue too */
    ASSERT_EQ(f->refs, 4);
    ASSERT_EQ(writer_flush(&w1, NULL), WRITER_OK);
    ASSERT_EQ(f->refs, 3);
    ASSERT_EQ(writer_flush(&w2, NULL), WRITER_OK);
    ASSERT_EQ(f->refs, 1);
    drain(s1[1], &r1, 0);
    drain(s2[1], &r2, 0);
    parse_all(&r1, &c1, &ended);
    parse_all(&r2, &c2, &ended);
    ASSERT_EQ(c1.len, f->len);
    ASSERT_EQ(c2.len, 2 * f->len);
    ASSERT(memcmp(c1.data, f->data, f->len) == 0);
    ASSERT(memcmp(c2.data + f->len, f->data, f->len) == 0);
    frame_unref(f);
    writer_release(&w1);
    writer_release(&w2);
    buf_free(&r1);
    buf_free(&r2);
    buf_free(&c1);
    buf_free(&c2);
    close(s1[0]);
    close(s1[1]);
    close(s2[0]);
    close(s2[1]);
}

/* Owing more than the limit is what cuts a client off; release gives every
 * queued frame back. */
static void test_limit(void)
{
    int sv[2];
    writer w;
    frame *f = pattern_frame(600, 1);

    pair(sv, 4096);
    writer_init(&w, sv[0], REQ_ID, 1000);
    writer_push(&w, f);
    ASSERT(!writer_over(&w));
    writer_push(&w, f);
    ASSERT(writer_over(&w));
    ASSERT_EQ(f->refs, 3);
    /* a peer that never reads: what the socket takes no longer counts as owed */
    for (int i = 0; i < 200; i++) writer_push(&w, f);
    ASSERT_EQ(writer_flush(&w, NULL), WRITER_AGAIN);
    ASSERT(writer_owed(&w) < 202 * 600);
    ASSERT(writer_over(&w));
    writer_release(&w);
    ASSERT_EQ(f->refs, 1);
    ASSERT_EQ(writer_owed(&w), 0);
    ASSERT(w.q == NULL);
    frame_unref(f);
    close(sv[0]);
    close(sv[1]);
}

/* writer_end: after what is queued, an empty STDOUT record and END_REQUEST,
 * even when the socket cuts the trailer itself. */
static void test_trailer(void)
{
    for (int small = 0; small < 2; small++) {
        int sv[2], ended, rc, rounds = 0;
        writer w;
        buf raw = BUF_INIT, content = BUF_INIT, want = BUF_INIT;

        pair(sv, small ? 4096 : 0);
        writer_init(&w, sv[0], REQ_ID, 64u << 20);
        for (int i = 0; i < (small ? 300 : 3); i++) {
            frame *f = pattern_frame((size_t)(100 + i), i);
            writer_push(&w, f);
            buf_append(&want, f->data, f->len);
            frame_unref(f);
        }
        writer_end(&w);
        ASSERT(!writer_done(&w));
        while ((rc = writer_flush(&w, NULL)) == WRITER_AGAIN) {
            drain(sv[1], &raw, 5);               /* tiny reads: the trailer may be cut too */
            rounds++;
        }
        ASSERT_EQ(rc, WRITER_OK);
        ASSERT(writer_done(&w));
        ASSERT(small ? rounds > 0 : rounds == 0);
        drain(sv[1], &raw, 0);
        parse_all(&raw, &content, &ended);
        ASSERT(ended);
        ASSERT_EQ(content.len, want.len);
        ASSERT(memcmp(content.data, want.data, want.len) == 0);
        /* flushing a finished writer writes nothing more */
        ASSERT_EQ(writer_flush(&w, NULL), WRITER_OK);
        ASSERT_EQ(drain(sv[1], &raw, 0), 0);
        writer_release(&w);
        buf_free(&raw);
        buf_free(&content);
        buf_free(&want);
        close(sv[0]);
        close(sv[1]);
    }
}

/* The peer went away: the write fails (EPIPE), never blocks. */
static void test_peer_gone(void)
{
    int sv[2];
    writer w;
    frame *f = pattern_frame(100, 0);
    pair(sv, 0);
    close(sv[1]);
    writer_init(&w, sv[0], REQ_ID, 1 << 20);
    writer_push(&w, f);
    ASSERT_EQ(writer_flush(&w, NULL), WRITER_ERROR);
    writer_release(&w);
    frame_unref(f);
    close(sv[0]);
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
    return test_summary();
}
