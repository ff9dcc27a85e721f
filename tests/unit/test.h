/* Tiny unit-test harness: each test is a function; assertions print both
 * sides and the location on failure, and the test stops there.
 *
 *   static void test_x(void) { ASSERT_EQ(1 + 1, 2); ASSERT_STREQ(s, "a"); }
 *   int main(void) { RUN(test_x); return test_summary(); }
 */
#ifndef BIRDFEED_TEST_H
#define BIRDFEED_TEST_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

static int test_failed, test_passed;
static jmp_buf test_jmp;
static const char *test_name;

#define TEST_FAIL(...) do { \
        fprintf(stderr, "FAIL %s (%s:%d): ", test_name, __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); longjmp(test_jmp, 1); } while (0)

#define ASSERT(c) do { if (!(c)) TEST_FAIL("assertion failed: %s", #c); } while (0)
#define ASSERT_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ != b_) TEST_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_STREQ(a, b) do { const char *a_ = (a), *b_ = (b); \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) \
            TEST_FAIL("%s == %s:\n  got:  %s\n  want: %s", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define ASSERT_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
        if (h_ == NULL || strstr(h_, n_) == NULL) \
            TEST_FAIL("%s contains %s:\n  in:   %s\n  want: %s", #hay, #needle, h_ ? h_ : "(null)", n_); } while (0)

#define RUN(fn) do { test_name = #fn; \
        if (setjmp(test_jmp) == 0) { fn(); test_passed++; } else test_failed++; } while (0)

static inline int test_summary(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

#endif
