/* Unit tests for the parts of pub and backoff that do no I/O. */
#include <stdio.h>
#include <string.h>

#include "backoff.h"
#include "pub.h"
#include "test.h"

#define T_(s) {s, sizeof(s) - 1}
#define TW(id) "{\"id\":\"" id "\",\"text\":\"t\"}"

static void test_tweet_id(void)
{
    const char *id;
    size_t n;
    const char *t = "{\"id\":\"123\",\"text\":\"x\"}";
    ASSERT_EQ(pub_tweet_id(t, strlen(t), &id, &n), 0);
    ASSERT_EQ(n, 3);
    ASSERT(memcmp(id, "123", 3) == 0);
    const char *esc = "{\"id\":\"a\\\"b\",\"text\":\"x\"}";      /* an escaped quote inside the id */
    ASSERT_EQ(pub_tweet_id(esc, strlen(esc), &id, &n), 0);
    ASSERT_EQ(n, 4);
    static const char *const bad[] = {"{\"text\":\"x\",\"id\":\"1\"}", "{\"id\":1}", "{\"id\":\"12", "", "{\"id\":\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ(pub_tweet_id(bad[i], strlen(bad[i]), &id, &n), -1);
}

static void test_match_by_tweet_id(void)
{
    pub_text pend[] = {T_(TW("1")), T_(TW("2")), T_(TW("3"))};
    pub_matcher *m = pub_matcher_new(pend, 3);
    /* Order does not matter; another text with the same tweet id counts
     * (a resend of the same tweet, or the same tweet from another publisher). */
    ASSERT_EQ(pub_matcher_take(m, TW("3"), strlen(TW("3"))), 2);
    ASSERT_EQ(pub_matcher_take(m, "{\"id\":\"1\",\"text\":\"other\"}", 26), 0);
    ASSERT_EQ(pub_matcher_take(m, TW("9"), strlen(TW("9"))), -1);     /* someone else's */
    ASSERT_EQ(pub_matcher_take(m, TW("3"), strlen(TW("3"))), -1);     /* taken already */
    ASSERT_EQ(pub_matcher_take(m, "not json", 8), -1);
    ASSERT_EQ(pub_matcher_take(m, TW("2"), strlen(TW("2"))), 1);
    pub_matcher_free(m);
}

static void test_match_duplicates_in_input(void)
{
    /* The same tweet twice in the input: each stream entry counts for one of
     * them, the first in send order first. */
    pub_text pend[] = {T_(TW("7")), T_(TW("8")), T_(TW("7"))};
    pub_matcher *m = pub_matcher_new(pend, 3);
    ASSERT_EQ(pub_matcher_take(m, TW("7"), strlen(TW("7"))), 0);
    ASSERT_EQ(pub_matcher_take(m, TW("7"), strlen(TW("7"))), 2);
    ASSERT_EQ(pub_matcher_take(m, TW("7"), strlen(TW("7"))), -1);
    pub_matcher_free(m);
}

static void test_match_many(void)
{
    /* Enough tweets to fill the table's chains and probe sequences. */
    enum { N = 5000 };
    static char texts[N][48];
    static pub_text pend[N];
    for (int i = 0; i < N; i++) {
        int len = snprintf(texts[i], sizeof texts[i], "{\"id\":\"%d\",\"text\":\"t\"}", i % 4000);
        pend[i].p = texts[i];
        pend[i].n = (size_t)len;
    }
    pub_matcher *m = pub_matcher_new(pend, N);
    for (int i = N - 1; i >= 0; i--) {   /* ids 0..999 twice: the earlier copy first */
        long k = pub_matcher_take(m, texts[i], pend[i].n);
        long want = i % 4000 < 1000 && i >= 4000 ? i - 4000 : i;
        if (i % 4000 < 1000 && i < 4000) want = i + 4000;
        ASSERT_EQ(k, want);
    }
    pub_matcher_free(m);
    pub_matcher_free(pub_matcher_new(pend, 0));
    pub_matcher_free(NULL);
}

static void test_backoff_grows_and_caps(void)
{
    backoff b;
    backoff_init(&b, 100, 1000);
    int prev = 0;
    for (int i = 0; i < 4; i++) {
        int d = backoff_next(&b);
        int nominal = 100 << i;
        ASSERT(d <= nominal && d >= nominal * 3 / 4);
        ASSERT(d > prev);
        prev = d;
    }
    for (int i = 0; i < 50; i++) {
        int d = backoff_next(&b);
        ASSERT(d <= 1000 && d >= 750);
    }
    ASSERT_EQ(b.attempt, 54);
    backoff_reset(&b);
    ASSERT_EQ(b.attempt, 0);
    int d = backoff_next(&b);
    ASSERT(d <= 100 && d >= 75);
}

static void test_backoff_clamps(void)
{
    backoff b;
    backoff_init(&b, 0, 0);
    ASSERT_EQ(backoff_next(&b), 1);
    backoff_init(&b, 500, 10);   /* cap below base: base wins */
    ASSERT(backoff_next(&b) <= 500);
}

static void test_script_shape(void)
{
    const char *s = pub_script();
    ASSERT_CONTAINS(s, "'XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2]");
    ASSERT_CONTAINS(s, "'PUBLISH', KEYS[2], id .. ' ' .. ARGV[2]");
    ASSERT_CONTAINS(s, "return id");
}

int main(void)
{
    RUN(test_tweet_id);
    RUN(test_match_by_tweet_id);
    RUN(test_match_duplicates_in_input);
    RUN(test_match_many);
    RUN(test_backoff_grows_and_caps);
    RUN(test_backoff_clamps);
    RUN(test_script_shape);
    return test_summary();
}
