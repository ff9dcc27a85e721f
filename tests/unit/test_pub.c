/* Unit tests for the parts of pub and backoff that do no I/O. */
#include "backoff.h"
#include "pub.h"
#include "test.h"

#define T_(s) {s, sizeof(s) - 1}

static void test_match_in_order(void)
{
    pub_text pend[] = {T_("a"), T_("b"), T_("c")};
    size_t from = 0;
    ASSERT_EQ(pub_match_next(pend, 3, &from, "a", 1), 0);
    ASSERT_EQ(from, 1);
    ASSERT_EQ(pub_match_next(pend, 3, &from, "b", 1), 1);
    ASSERT_EQ(pub_match_next(pend, 3, &from, "c", 1), 2);
    ASSERT_EQ(from, 3);
    ASSERT_EQ(pub_match_next(pend, 3, &from, "c", 1), -1);   /* nothing left */
}

static void test_match_skips_other_publishers(void)
{
    pub_text pend[] = {T_("{\"id\":\"1\"}"), T_("{\"id\":\"2\"}")};
    size_t from = 0;
    ASSERT_EQ(pub_match_next(pend, 2, &from, "{\"id\":\"9\"}", 10), -1);  /* someone else's */
    ASSERT_EQ(from, 0);
    ASSERT_EQ(pub_match_next(pend, 2, &from, "{\"id\":\"1\"}", 10), 0);
    ASSERT_EQ(pub_match_next(pend, 2, &from, "{\"id\":\"8\"}", 10), -1);
    ASSERT_EQ(pub_match_next(pend, 2, &from, "{\"id\":\"2\"}", 10), 1);
}

static void test_match_refused_in_between(void)
{
    /* b was refused by Redis (not executed): c is found, b must be resent. */
    pub_text pend[] = {T_("a"), T_("b"), T_("c")};
    size_t from = 0;
    ASSERT_EQ(pub_match_next(pend, 3, &from, "a", 1), 0);
    ASSERT_EQ(pub_match_next(pend, 3, &from, "c", 1), 2);
    ASSERT_EQ(from, 3);
}

static void test_match_duplicates_in_input(void)
{
    /* The same line twice, only the first executed: the second is not taken for it. */
    pub_text pend[] = {T_("a"), T_("a")};
    size_t from = 0;
    ASSERT_EQ(pub_match_next(pend, 2, &from, "a", 1), 0);
    ASSERT_EQ(from, 1);
    ASSERT_EQ(pub_match_next(pend, 2, &from, "b", 1), -1);
    ASSERT_EQ(from, 1);
}

static void test_match_length_differs(void)
{
    pub_text pend[] = {T_("abc")};
    size_t from = 0;
    ASSERT_EQ(pub_match_next(pend, 1, &from, "ab", 2), -1);
    ASSERT_EQ(pub_match_next(pend, 1, &from, "abcd", 4), -1);
    ASSERT_EQ(pub_match_next(pend, 0, &from, "abc", 3), -1);
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
    RUN(test_match_in_order);
    RUN(test_match_skips_other_publishers);
    RUN(test_match_refused_in_between);
    RUN(test_match_duplicates_in_input);
    RUN(test_match_length_differs);
    RUN(test_backoff_grows_and_caps);
    RUN(test_backoff_clamps);
    RUN(test_script_shape);
    return test_summary();
}
