/* Unit tests for lib/query: query strings and mount-relative paths. */
#include <stdlib.h>

#include "buf.h"
#include "query.h"
#include "test.h"

static void test_parse_basic(void)
{
    query q = QUERY_INIT;
    char err[128];
    const char *s = "a=1&b=x%20y+z&a=2&flag&empty=&c=%E2%82%AC";
    ASSERT_EQ(query_parse(s, strlen(s), &q, err, sizeof err), 0);
    ASSERT_EQ(q.n, 6);
    ASSERT_STREQ(query_get(&q, "a"), "1");
    ASSERT_STREQ(query_get_nth(&q, "a", 1), "2");
    ASSERT(query_get_nth(&q, "a", 2) == NULL);
    ASSERT_EQ(query_count(&q, "a"), 2);
    ASSERT_STREQ(query_get(&q, "b"), "x y z");
    ASSERT_STREQ(query_get(&q, "flag"), "");
    ASSERT_STREQ(query_get(&q, "empty"), "");
    ASSERT_STREQ(query_get(&q, "c"), "\xE2\x82\xAC");
    ASSERT(query_get(&q, "missing") == NULL);
    static const char *const allowed[] = {"a", "b", "flag", "empty", NULL};
    ASSERT_STREQ(query_unknown_key(&q, allowed), "c");
    query_free(&q);
    ASSERT_EQ(query_parse("", 0, &q, err, sizeof err), 0);
    ASSERT_EQ(q.n, 0);
    ASSERT_EQ(query_parse("&&a=1&", 6, &q, err, sizeof err), 0);
    ASSERT_EQ(q.n, 1);
    query_free(&q);
}

static void test_parse_rejects(void)
{
    query q = QUERY_INIT;
    char err[128];
    ASSERT_EQ(query_parse("a=%ZZ", 5, &q, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "parameter 'a'");
    ASSERT_CONTAINS(err, "malformed percent escape");
    ASSERT_EQ(q.n, 0);
    ASSERT_EQ(query_parse("a=%4", 4, &q, err, sizeof err), -1);
    ASSERT_EQ(query_parse("a=%", 3, &q, err, sizeof err), -1);
    ASSERT_EQ(query_parse("q=a%00b", 7, &q, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "NUL");
    ASSERT_EQ(query_parse("q=%C3%28", 8, &q, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "invalid UTF-8");
    ASSERT_EQ(query_parse("q=%ED%A0%80", 11, &q, err, sizeof err), -1);   /* surrogate */
    ASSERT_EQ(query_parse("q=%C0%AF", 8, &q, err, sizeof err), -1);       /* overlong */
    ASSERT_EQ(query_parse("=1", 2, &q, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "empty parameter name");
    ASSERT_EQ(query_parse("ok=1&b\xff=2", 10, &q, err, sizeof err), -1);
    ASSERT_EQ(q.n, 0);
}

/* Decoded values must be UTF-8 (lib/utf8.h decides what is valid). */
static void test_utf8(void)
{
    buf b = BUF_INIT;
    char err[128];
    ASSERT_EQ(query_decode("plain", 5, 1, &b, err, sizeof err), 0);
    ASSERT_EQ(query_decode("%F0%9F%90%A6", 12, 1, &b, err, sizeof err), 0);      /* U+1F426 bird */
    ASSERT_STREQ(b.data, "plain\xF0\x9F\x90\xA6");
    ASSERT_EQ(query_decode("%F0%9F%90", 9, 1, &b, err, sizeof err), -1);          /* truncated */
    ASSERT_STREQ(err, "invalid UTF-8");
    ASSERT_EQ(query_decode("%F4%90%80%80", 12, 1, &b, err, sizeof err), -1);      /* > U+10FFFF */
    ASSERT_EQ(query_decode("%ED%A0%80", 9, 1, &b, err, sizeof err), -1);          /* a surrogate */
    ASSERT_EQ(query_decode("%C0%AF", 6, 1, &b, err, sizeof err), -1);             /* overlong */
    ASSERT_EQ(query_decode("%80", 3, 1, &b, err, sizeof err), -1);
    ASSERT_STREQ(b.data, "plain\xF0\x9F\x90\xA6");   /* failures leave out as it was */
    buf_free(&b);
}

static char *mount(const char *sn, const char *pi, const char *ru, const char *du)
{
    static char out[256];
    buf b = BUF_INIT;
    char err[128];
    if (query_mount_path(sn, pi, ru, du, &b, err, sizeof err) < 0) snprintf(out, sizeof out, "ERR %s", err);
    else snprintf(out, sizeof out, "%s", b.data);
    buf_free(&b);
    return out;
}

static void test_mount_path(void)
{
    /* nginx with fastcgi_params: SCRIPT_NAME is the whole path. */
    ASSERT_STREQ(mount("/stream", "", "/stream?preload=5", "/stream"), "/stream");
    ASSERT_STREQ(mount("/birdfeed/api/filters/7", NULL, "/birdfeed/api/filters/7", "/birdfeed/api/filters/7"),
                 "/api/filters/7");
    /* lighttpd / Apache: the mount point in SCRIPT_NAME, the rest in PATH_INFO. */
    ASSERT_STREQ(mount("/birdfeed", "/api/health", "/birdfeed/api/health", NULL), "/api/health");
    ASSERT_STREQ(mount("/bf/stream", NULL, "/bf/stream?x=1", NULL), "/stream");
    ASSERT_STREQ(mount("/app", "/stream", NULL, NULL), "/stream");
    /* Apache mod_proxy_fcgi without SCRIPT_NAME: only REQUEST_URI (encoded). */
    ASSERT_STREQ(mount(NULL, NULL, "/x/api/filters/a%20b?q=1", NULL), "/api/filters/a b");
    ASSERT_STREQ(mount("", "", "/deep/mount/stream/", ""), "/stream");
    /* "/api" must be a whole segment. */
    ASSERT_STREQ(mount("/apiary/api/health", NULL, NULL, NULL), "/api/health");
    ASSERT_STREQ(mount("/apiary", NULL, NULL, NULL), "/apiary");
    ASSERT_STREQ(mount("/api", NULL, NULL, NULL), "/api");
    ASSERT_STREQ(mount("/streams", NULL, NULL, NULL), "/streams");
    ASSERT_STREQ(mount(NULL, NULL, NULL, NULL), "/");
    ASSERT_STREQ(mount(NULL, NULL, "/a%ZZ", NULL), "ERR request path: malformed percent escape at byte 2");
}

/* Found by fuzz_query: servers hand SCRIPT_NAME / PATH_INFO over decoded, so
 * "/api/%FF" arrives as a raw 0xFF byte, which must not reach a JSON error. */
static void test_mount_path_invalid_utf8(void)
{
    buf out = BUF_INIT;
    char err[128];
    ASSERT_EQ(query_mount_path("/api/filters/\xff", NULL, "/api/filters/%FF", NULL, &out, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "invalid UTF-8");
    ASSERT_EQ(query_mount_path("/x", "/api/\xc0\xaf", NULL, NULL, &out, err, sizeof err), -1);
    ASSERT_EQ(query_mount_path(NULL, NULL, NULL, "/stream\xed\xa0\x80", &out, err, sizeof err), -1);
    ASSERT_EQ(out.len, 0);
    ASSERT_EQ(query_mount_path("/api/filters/caf\xc3\xa9", NULL, NULL, NULL, &out, err, sizeof err), 0);
    ASSERT_STREQ(out.data, "/api/filters/caf\xc3\xa9");
    buf_free(&out);
}

/* Found by fuzz_query: a raw parameter name was quoted in the error as it
 * came, CR/LF and broken UTF-8 included. */
static void test_error_quotes_clean_names(void)
{
    query q = QUERY_INIT;
    char err[160];
    const char *s = "ok=1&a\nb%00=1";
    ASSERT_EQ(query_parse(s, strlen(s), &q, err, sizeof err), -1);
    ASSERT_STREQ(err, "parameter name at byte 5: NUL byte not allowed");
    s = "\xff%00=1";
    ASSERT_EQ(query_parse(s, strlen(s), &q, err, sizeof err), -1);
    ASSERT_STREQ(err, "parameter name at byte 0: NUL byte not allowed");
    s = "a%0Ab=%00";
    ASSERT_EQ(query_parse(s, strlen(s), &q, err, sizeof err), -1);
    ASSERT_STREQ(err, "parameter at byte 0: NUL byte not allowed");
    /* A long name is cut on a character boundary (é is two bytes). */
    s = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9xx%00=1";
    ASSERT_EQ(query_parse(s, strlen(s), &q, err, sizeof err), -1);
    ASSERT_STREQ(err, "parameter name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…': NUL byte not allowed");
    ASSERT_EQ(q.n, 0);
}

int main(void)
{
    RUN(test_parse_basic);
    RUN(test_parse_rejects);
    RUN(test_utf8);
    RUN(test_mount_path);
    RUN(test_mount_path_invalid_utf8);
    RUN(test_error_quotes_clean_names);
    return test_summary();
}
