/* Unit tests for lib/httphead: request heads on the stream-listen port. */
#include <stdlib.h>
#include <string.h>

#include "httphead.h"
#include "test.h"

static int parse(const char *s, httphead *h, int *status, char *err, size_t errlen)
{
    return httphead_parse(s, strlen(s), h, status, err, errlen);
}

static int span_is(httphead_span s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static void test_complete(void)
{
    httphead h;
    int status = 0;
    char err[128];
    const char *s = "GET /stream?filter=ab&q=x%20y HTTP/1.1\r\nHost: a\r\nLast-Event-ID:  1-2 \r\n"
                    "Cookie: birdfeed_token=x\r\n\r\nleftover";
    ASSERT_EQ(parse(s, &h, &status, err, sizeof err), HTTPHEAD_DONE);
    ASSERT(span_is(h.method, "GET"));
    ASSERT(span_is(h.target, "/stream?filter=ab&q=x%20y"));
    ASSERT_EQ(h.minor, 1);
    ASSERT_EQ(h.nf, 3);
    ASSERT(span_is(*httphead_get(&h, "last-event-id"), "1-2"));
    ASSERT(span_is(*httphead_get(&h, "COOKIE"), "birdfeed_token=x"));
    ASSERT(httphead_get(&h, "Origin") == NULL);
    ASSERT_EQ(h.len, strlen(s) - strlen("leftover"));
    /* bare LF, an empty value, an empty line before the request line, HTTP/1.0 */
    s = "\r\nHEAD /x/stream HTTP/1.0\nX-Empty:\n\n";
    ASSERT_EQ(parse(s, &h, &status, err, sizeof err), HTTPHEAD_DONE);
    ASSERT(span_is(h.method, "HEAD"));
    ASSERT_EQ(h.minor, 0);
    ASSERT(span_is(*httphead_get(&h, "x-empty"), ""));
    /* an empty Host is a Host (RFC 9112 §3.2) */
    s = "GET /stream HTTP/1.1\r\nHost:\r\n\r\n";
    ASSERT_EQ(parse(s, &h, &status, err, sizeof err), HTTPHEAD_DONE);
    ASSERT(span_is(*httphead_get(&h, "host"), ""));
    ASSERT_EQ(h.len, strlen(s));
}

static void test_more(void)
{
    httphead h;
    int status = 0;
    char err[128];
    const char *s = "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n";
    /* every proper prefix of a valid head asks for more */
    for (size_t n = 0; n < strlen(s); n++)
        ASSERT_EQ(httphead_parse(s, n, &h, &status, err, sizeof err), HTTPHEAD_MORE);
    ASSERT_EQ(httphead_parse(s, strlen(s), &h, &status, err, sizeof err), HTTPHEAD_DONE);
}

static void expect_error(const char *s, int want_status, const char *want_reason)
{
    httphead h;
    int status = 0;
    char err[128] = "";
    ASSERT_EQ(parse(s, &h, &status, err, sizeof err), HTTPHEAD_ERROR);
    ASSERT_EQ(status, want_status);
    ASSERT_CONTAINS(err, want_reason);
}

static void test_refused(void)
{
    expect_error("GET\r\n\r\n", 400, "malformed request line");
    expect_error("GET  /stream HTTP/1.1\r\n\r\n", 400, "malformed request line");
    expect_error("G(T /stream HTTP/1.1\r\n\r\n", 400, "malformed request line");
    expect_error("GET http://a/stream HTTP/1.1\r\n\r\n", 400, "must be a path");
    expect_error("GET /stream HTTP/1.1 \r\n\r\n", 400, "HTTP version");
    expect_error("GET /stream HTTX/1.1\r\n\r\n", 400, "HTTP version");
    expect_error("GET /stream HTTP/2.0\r\n\r\n", 505, "HTTP/1.0 and HTTP/1.1");
    expect_error("GET /stream HTTP/1.2\r\n\r\n", 505, "HTTP/1.0 and HTTP/1.1");
    expect_error("GET /str\x01m HTTP/1.1\r\n\r\n", 400, "malformed request line");
    expect_error("GET /stream HTTP/1.1\r\nHost : a\r\n\r\n", 400, "malformed header field");
    expect_error("GET /stream HTTP/1.1\r\n: a\r\n\r\n", 400, "malformed header field");
    expect_error("GET /stream HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "obsolete line folding");
    expect_error("GET /stream HTTP/1.1\r\nHost: a\x01z\r\n\r\n", 400, "control byte");
    expect_error("GET /stream HTTP/1.1\r\nHost: a\rz\r\n\r\n", 400, "stray CR");
    /* RFC 9112 §3.2: HTTP/1.1 names its Host, once; HTTP/1.0 may leave it out */
    expect_error("GET /stream HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, "without a Host");
    expect_error("GET /stream HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, "more than one Host");
    expect_error("GET /stream HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400, "more than one Host");
    /* a NUL in the middle of a line */
    httphead h;
    int status = 0;
    char err[128];
    static const char nul[] = "GET /stream HTTP/1.1\r\nHost: a\0z\r\n\r\n";
    ASSERT_EQ(httphead_parse(nul, sizeof nul - 1, &h, &status, err, sizeof err), HTTPHEAD_ERROR);
    ASSERT_EQ(status, 400);
}

static void test_limits(void)
{
    httphead h;
    int status = 0;
    char err[128];
    char *big = malloc(HTTPHEAD_MAX + 64);
    size_t n;

    /* a request line that never ends within the limit: 414 */
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', HTTPHEAD_MAX + 10);
    ASSERT_EQ(httphead_parse(big, HTTPHEAD_MAX - 1, &h, &status, err, sizeof err), HTTPHEAD_MORE);
    ASSERT_EQ(httphead_parse(big, HTTPHEAD_MAX + 10, &h, &status, err, sizeof err), HTTPHEAD_ERROR);
    ASSERT_EQ(status, 414);
    /* fields that never end within the limit: 431 */
    n = (size_t)sprintf(big, "GET /stream HTTP/1.1\r\nX: ");
    memset(big + n, 'b', HTTPHEAD_MAX + 10 - n);
    ASSERT_EQ(httphead_parse(big, HTTPHEAD_MAX + 10, &h, &status, err, sizeof err), HTTPHEAD_ERROR);
    ASSERT_EQ(status, 431);
    /* a head ending exactly at the limit is taken */
    n = (size_t)sprintf(big, "GET /stream HTTP/1.1\r\nHost: a\r\nX: ");
    memset(big + n, 'c', HTTPHEAD_MAX - n - 4);
    memcpy(big + HTTPHEAD_MAX - 4, "\r\n\r\n", 4);
    ASSERT_EQ(httphead_parse(big, HTTPHEAD_MAX, &h, &status, err, sizeof err), HTTPHEAD_DONE);
    ASSERT_EQ(h.len, HTTPHEAD_MAX);
    /* too many fields: 431 */
    n = (size_t)sprintf(big, "GET /stream HTTP/1.1\r\n");
    for (int i = 0; i <= HTTPHEAD_FIELDS; i++) n += (size_t)sprintf(big + n, "X%d: v\r\n", i);
    n += (size_t)sprintf(big + n, "\r\n");
    ASSERT_EQ(httphead_parse(big, n, &h, &status, err, sizeof err), HTTPHEAD_ERROR);
    ASSERT_EQ(status, 431);
    ASSERT_CONTAINS(err, "too many header fields");
    free(big);
}

int main(void)
{
    RUN(test_complete);
    RUN(test_more);
    RUN(test_refused);
    RUN(test_limits);
    return test_summary();
}
