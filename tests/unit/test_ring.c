/* Unit tests for fcgi/ring (recent frames, floor and whole, the summary other
 * threads read) and the ring's frames going out through a writer over a
 * socketpair while the ring lets them go. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "fcgirec.h"
#include "frame.h"
#include "ring.h"
#include "test.h"
#include "writer.h"

static frame *tweet(uint64_t ms, const char *json)
{
    return frame_tweet((bus_id){ms, 0}, json, strlen(json));
}

static void push_new(ring *r, uint64_t ms)
{
    char json[64];
    snprintf(json, sizeof json, "{\"n\":%llu}", (unsigned long long)ms);
    frame *f = tweet(ms, json);
    ring_push(r, f);
    frame_unref(f);                  /* the ring's reference is the only one */
}

static void test_empty(void)
{
    ring *r = ring_new(4, 1 << 20);
    ring_info ri;
    ring_info_get(r, &ri);
    ASSERT(ri.whole);                /* nothing seen yet: the ring is the whole (empty) stream */
    ASSERT_EQ(ri.count, 0);
    ASSERT_EQ(ri.newest.ms, 0);
    ASSERT_EQ(ring_cap(r), 4);
    ring_free(r);
}

/* Beyond cap the oldest go and the floor rises to the last id dropped. */
static void test_cap(void)
{
    ring *r = ring_new(4, 1 << 20);
    ring_info ri;
    for (uint64_t ms = 1; ms <= 6; ms++) push_new(r, ms);
    ASSERT_EQ(ring_count(r), 4);
    ASSERT_EQ(ring_at(r, 0)->id.ms, 3);
    ASSERT_EQ(ring_at(r, 3)->id.ms, 6);
    ASSERT_EQ(ring_newest(r).ms, 6);
    ASSERT(!ring_whole(r));
    ASSERT_EQ(ring_floor(r).ms, 2);
    ring_info_get(r, &ri);
    ASSERT_EQ(ri.count, 4);
    ASSERT_EQ(ri.oldest.ms, 3);
    ASSERT_EQ(ri.newest.ms, 6);
    ASSERT_EQ(ri.floor.ms, 2);
    ASSERT(!ri.whole);
    ring_free(r);
}

/* The byte budget evicts too, but never the frame just pushed. */
static void test_bytes(void)
{
    frame *probe = tweet(1, "{\"n\":1}");
    size_t one = probe->len;
    frame_unref(probe);
    ring *r = ring_new(100, 3 * one);
    for (uint64_t ms = 1; ms <= 5; ms++) push_new(r, ms);
    ASSERT_EQ(ring_count(r), 3);
    ASSERT_EQ(ring_at(r, 0)->id.ms, 3);
    ring_free(r);

    r = ring_new(100, 1);                /* smaller than any frame: keeps the newest alone */
    push_new(r, 7);
    push_new(r, 8);
    ASSERT_EQ(ring_count(r), 1);
    ASSERT_EQ(ring_at(r, 0)->id.ms, 8);
    ring_free(r);
}

static void test_partial_and_clear(void)
{
    ring *r = ring_new(8, 1 << 20);
    ring_info ri;
    push_new(r, 10);
    push_new(r, 11);
    ASSERT(ring_whole(r));
    ring_mark_partial(r);                /* older tweets exist in the stream */
    ASSERT(!ring_whole(r));
    ASSERT_EQ(ring_floor(r).ms, 9);
    ASSERT_EQ(ring_floor(r).seq, UINT64_MAX);   /* just below 10-0 */
    ring_clear(r, (bus_id){20, 3});      /* trimming overtook: nothing held, everything above 20-3 next */
    ring_info_get(r, &ri);
    ASSERT_EQ(ri.count, 0);
    ASSERT(!ri.whole);
    ASSERT_EQ(ri.floor.ms, 20);
    ASSERT_EQ(ri.newest.ms, 20);
    ASSERT_EQ(ri.newest.seq, 3);
    ASSERT_EQ(ri.oldest.ms, 20);
    ring_free(r);
}

/* A preload written from the ring while the ring drops those frames: the
 * writer's references keep them alive and the bytes arrive intact. */
static void test_ring_to_writer(void)
{
    int sv[2];
    writer w;
    ring *r = ring_new(3, 1 << 20);
    buf raw = BUF_INIT, content = BUF_INIT, want = BUF_INIT;

    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_EQ(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
    for (uint64_t ms = 1; ms <= 3; ms++) push_new(r, ms);
    writer_init(&w, sv[0], 1, 1 << 20);
    for (size_t i = 0; i < ring_count(r); i++) {
        writer_push(&w, ring_at(r, i));
        buf_append(&want, ring_at(r, i)->data, ring_at(r, i)->len);
    }
    for (uint64_t ms = 4; ms <= 9; ms++) push_new(r, ms);      /* 1..3 leave the ring */
    ASSERT_EQ(ring_at(r, 0)->id.ms, 7);
    ring_free(r);
    ASSERT_EQ(writer_flush(&w, NULL), WRITER_OK);
    char tmp[4096];
    ssize_t n = read(sv[1], tmp, sizeof tmp);
    ASSERT(n > 0);
    buf_append(&raw, tmp, (size_t)n);
    fcgirec_append_stdout(&content, 1, want.data, want.len);   /* one record, as the writer frames it */
    ASSERT_EQ(raw.len, content.len);
    ASSERT(memcmp(raw.data, content.data, raw.len) == 0);
    writer_release(&w);
    buf_free(&raw);
    buf_free(&content);
    buf_free(&want);
    close(sv[0]);
    close(sv[1]);
}

/* Acceptor threads read the summary while the owner pushes: every summary
 * they see is one consistent state. */
struct reader {
    ring *r;
    atomic_int stop;
    int bad;
    atomic_long reads;
};

static void *read_info(void *arg)
{
    struct reader *rd = arg;
    while (!atomic_load(&rd->stop)) {
        ring_info ri;
        ring_info_get(rd->r, &ri);
        if (ri.count > 16 || bus_id_cmp(ri.oldest, ri.newest) > 0 ||
            (ri.count && ri.newest.ms - ri.oldest.ms != ri.count - 1) ||
            (!ri.whole && ri.count && ri.floor.ms + 1 != ri.oldest.ms))
            rd->bad++;
        atomic_fetch_add(&rd->reads, 1);
    }
    return NULL;
}

static void test_info_threads(void)
{
    struct reader rd = {ring_new(16, 1 << 20), 0, 0, 0};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, read_info, &rd), 0);
    /* Push at least 20 000 tweets, and go on until the reader has looked
     * a few hundred times: under valgrind threads take turns, and the
     * reader may not have run at all by the 20 000th push. */
    for (uint64_t ms = 1; ms <= 20000 || atomic_load(&rd.reads) < 500; ms++)
        push_new(rd.r, ms);
    atomic_store(&rd.stop, 1);
    pthread_join(th, NULL);
    ring_free(rd.r);
    ASSERT_EQ(rd.bad, 0);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_cap);
    RUN(test_bytes);
    RUN(test_partial_and_clear);
    RUN(test_ring_to_writer);
    RUN(test_info_threads);
    return test_summary();
}
