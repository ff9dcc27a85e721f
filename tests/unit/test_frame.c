/* Unit tests for fcgi/frame: a tweet's SSE event and where its JSON sits in
 * it, and the `event: matched` frame of a ?matched=1 stream, which quotes the
 * tweet's id from that JSON — also for JSON no birdfeed publisher writes
 * (line breaks, NUL bytes), which must never be read past the frame. */
#include <string.h>

#include "frame.h"
#include "test.h"

static frame *tweet(const char *json, size_t len)
{
    return frame_tweet((bus_id){1700000000000ull, 3}, json, len);
}

static void test_tweet_event(void)
{
    const char *json = "{\"id\":\"42\",\"text\":\"hi\"}";
    frame *f = tweet(json, strlen(json));
    ASSERT(f->is_tweet);
    ASSERT_STREQ(f->data, "id: 1700000000000-3\nevent: tweet\ndata: {\"id\":\"42\",\"text\":\"hi\"}\n\n");
    ASSERT_EQ(f->len, strlen(f->data));
    ASSERT_EQ(f->json_len, strlen(json));
    ASSERT(memcmp(f->data + f->json_off, json, f->json_len) == 0);
    frame_unref(f);
}

/* The matched frame's data for a tweet frame made from json[0..len). */
static void matched_data(const char *json, size_t len, char *out, size_t outlen)
{
    frame *t = tweet(json, len);
    const char members[] = "\"filters\":[\"7\"],\"q\":[]";
    frame *m = frame_matched(t, members, sizeof members - 1);
    ASSERT(!m->is_tweet);
    ASSERT(strncmp(m->data, "event: matched\ndata: ", 21) == 0);
    snprintf(out, outlen, "%.*s", (int)(m->len - 21 - 2), m->data + 21);   /* without the blank line */
    frame_unref(m);
    frame_unref(t);
}

static void test_matched_ids(void)
{
    char d[256];
    const char *plain = "{\"id\":\"42\",\"text\":\"hi\"}";
    matched_data(plain, strlen(plain), d, sizeof d);
    ASSERT_STREQ(d, "{\"id\":\"42\",\"filters\":[\"7\"],\"q\":[]}");
    const char *escaped = "{\"id\":\"a\\\"b\",\"text\":\"hi\"}";         /* a quote inside the id */
    matched_data(escaped, strlen(escaped), d, sizeof d);
    ASSERT_STREQ(d, "{\"id\":\"a\\\"b\",\"filters\":[\"7\"],\"q\":[]}");
    const char *no_id = "{\"text\":\"hi\"}";
    matched_data(no_id, strlen(no_id), d, sizeof d);
    ASSERT_STREQ(d, "{\"id\":null,\"filters\":[\"7\"],\"q\":[]}");
    const char *cut = "{\"id\":\"4";                                       /* the id never ends */
    matched_data(cut, strlen(cut), d, sizeof d);
    ASSERT_STREQ(d, "{\"id\":null,\"filters\":[\"7\"],\"q\":[]}");
    const char *two_lines = "{\"id\":\"42\",\n\"text\":\"hi\"}";            /* two data: lines */
    matched_data(two_lines, strlen(two_lines), d, sizeof d);
    ASSERT_STREQ(d, "{\"id\":null,\"filters\":[\"7\"],\"q\":[]}");
}

/* SSE drops NUL bytes from data, so the frame holds fewer bytes than the
 * JSON given: the JSON's place in the frame must not claim the rest. */
static void test_nul_bytes(void)
{
    char json[200];
    char d[256];
    memset(json, 0, sizeof json);
    memcpy(json, "{\"id\":\"4", 8);                     /* then 192 NUL bytes: no closing quote */
    frame *f = tweet(json, sizeof json);
    ASSERT(f->json_off + f->json_len <= f->len);
    frame_unref(f);
    matched_data(json, sizeof json, d, sizeof d);
    ASSERT_STREQ(d, "{\"id\":null,\"filters\":[\"7\"],\"q\":[]}");
}

int main(void)
{
    RUN(test_tweet_event);
    RUN(test_matched_ids);
    RUN(test_nul_bytes);
    return test_summary();
}
