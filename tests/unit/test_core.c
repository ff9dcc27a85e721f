/* Unit tests for the shared core: util, buf, config. */
#include <stdlib.h>

#include "buf.h"
#include "config.h"
#include "util.h"
#include "test.h"

static void test_parse_ll(void)
{
    long long v;
    const char *why;
    ASSERT_EQ(parse_ll("42", 0, 100, &v, &why), 0);
    ASSERT_EQ(v, 42);
    ASSERT_EQ(parse_ll("-1", 0, 100, &v, &why), -1);
    ASSERT_STREQ(why, "too small");
    ASSERT_EQ(parse_ll("101", 0, 100, &v, &why), -1);
    ASSERT_STREQ(why, "too large");
    ASSERT_EQ(parse_ll("99999999999999999999999", 0, 100, &v, &why), -1);
    ASSERT_STREQ(why, "too large");
    ASSERT_EQ(parse_ll("12x", 0, 100, &v, &why), -1);
    ASSERT_STREQ(why, "not a number");
    ASSERT_EQ(parse_ll("", 0, 100, &v, &why), -1);
    ASSERT_EQ(parse_ll(" 1", 0, 100, &v, &why), -1);
}

static void test_secure_equal(void)
{
    ASSERT(secure_equal("abc", 3, "abc", 3));
    ASSERT(!secure_equal("abc", 3, "abd", 3));
    ASSERT(!secure_equal("abc", 3, "abcd", 4));
    ASSERT(!secure_equal("", 0, "a", 1));
}

static void test_buf(void)
{
    buf b = BUF_INIT;
    buf_appends(&b, "hello");
    buf_printf(&b, " %d", 42);
    ASSERT_STREQ(b.data, "hello 42");
    buf_consume(&b, 6);
    ASSERT_STREQ(b.data, "42");
    buf_reset(&b);
    buf_append_json_str(&b, "a\"b\\c\n\x01", 7);
    ASSERT_STREQ(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    for (int i = 0; i < 10000; i++) buf_appendc(&b, 'x');
    ASSERT_EQ(b.len, 10000 + 17);
    size_t len;
    char *p = buf_detach(&b, &len);
    ASSERT_EQ(len, 10017);
    ASSERT_EQ(b.len, 0);
    free(p);
    buf_free(&b);
}

static void test_config_precedence(void)
{
    config cfg;
    char err[256];
    config_init(&cfg);
    ASSERT_STREQ(cfg.redis_url, "redis://127.0.0.1:6379/0");
    ASSERT_EQ(cfg.history, 100000);
    ASSERT_EQ(cfg.heartbeat_ms, 15000);
    ASSERT_EQ(config_set(&cfg, "history", "500", err, sizeof err), 0);
    setenv("BIRDFEED_HISTORY", "700", 1);
    setenv("BIRDFEED_PREFIX", "t:", 1);
    setenv("BIRDFEED_REDIS", "unix:/tmp/r.sock", 1);
    ASSERT_EQ(config_load_env(&cfg, err, sizeof err), 0);
    ASSERT_EQ(cfg.history, 500);              /* the flag wins */
    ASSERT_STREQ(cfg.prefix, "t:");           /* env beats default */
    ASSERT_STREQ(cfg.redis_url, "unix:/tmp/r.sock");
    setenv("BIRDFEED_MAX_CLIENTS", "lots", 1);
    ASSERT_EQ(config_load_env(&cfg, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "max-clients");
    ASSERT_CONTAINS(err, "BIRDFEED_MAX_CLIENTS");
    unsetenv("BIRDFEED_MAX_CLIENTS");
    ASSERT_EQ(config_set(&cfg, "history", "0", err, sizeof err), -1);
    ASSERT_CONTAINS(err, "too small");
    ASSERT_EQ(config_set(&cfg, "nope", "1", err, sizeof err), -1);
    ASSERT_EQ(config_set(&cfg, "log-level", "loud", err, sizeof err), -1);
    ASSERT_EQ(config_set(&cfg, "auth-reads", "yes", err, sizeof err), 0);
    ASSERT_EQ(cfg.auth_reads, 1);
    unsetenv("BIRDFEED_HISTORY");
    unsetenv("BIRDFEED_PREFIX");
    unsetenv("BIRDFEED_REDIS");
    config_free(&cfg);
}

int main(void)
{
    RUN(test_parse_ll);
    RUN(test_secure_equal);
    RUN(test_buf);
    RUN(test_config_precedence);
    return test_summary();
}
