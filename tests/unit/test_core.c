/* Unit tests for the shared core: util, buf, config. */
#include <stdlib.h>

#include "buf.h"
#include "bus.h"
#include "config.h"
#include "resp.h"
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

/* A small number cut out of a longer text. */
static void test_parse_int_n(void)
{
    int v = -1;
    ASSERT_EQ(parse_int_n("6379/2", 4, 1, 65535, &v), 0);
    ASSERT_EQ(v, 6379);
    ASSERT_EQ(parse_int_n("65536", 5, 1, 65535, &v), -1);
    ASSERT_EQ(parse_int_n("0", 1, 1, 65535, &v), -1);
    ASSERT_EQ(parse_int_n("12x", 3, 0, 100, &v), -1);
    ASSERT_EQ(parse_int_n("", 0, 0, 100, &v), -1);
    ASSERT_EQ(parse_int_n("000000000000000000000001", 24, 0, 100, &v), -1);   /* over 23 bytes */
    ASSERT_EQ(parse_int_n("00000000000000000000001", 23, 0, 100, &v), 0);
    ASSERT_EQ(v, 1);
}

/* The published FNV-1a 64 test vectors. */
static void test_hash_fnv1a(void)
{
    ASSERT_EQ(hash_fnv1a("", 0), 0xcbf29ce484222325ULL);
    ASSERT_EQ(hash_fnv1a("a", 1), 0xaf63dc4c8601ec8cULL);
    ASSERT_EQ(hash_fnv1a("foobar", 6), 0x85944171f73967e8ULL);
    ASSERT_EQ(hash_fnv1a("foobar", 3), hash_fnv1a("foo", 3));
    ASSERT_EQ(hash_fnv1a32("a", 1), 0xaf63dc4cU ^ 0x8601ec8cU);             /* both halves folded */
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

static void test_bus_url(void)
{
    bus_url u;
    char err[256];
    ASSERT_EQ(bus_url_parse("redis://127.0.0.1:6380/2", &u, err, sizeof err), 0);
    ASSERT_STREQ(u.host, "127.0.0.1");
    ASSERT_EQ(u.port, 6380);
    ASSERT_EQ(u.db, 2);
    ASSERT_EQ(bus_url_parse("redis://:s3cret@localhost", &u, err, sizeof err), 0);
    ASSERT_STREQ(u.password, "s3cret");
    ASSERT_STREQ(u.host, "localhost");
    ASSERT_EQ(u.port, 6379);
    ASSERT_EQ(u.db, 0);
    ASSERT_EQ(bus_url_parse("redis://[::1]:7000/1", &u, err, sizeof err), 0);
    ASSERT_STREQ(u.host, "::1");
    ASSERT_EQ(u.port, 7000);
    ASSERT_EQ(bus_url_parse("unix:/run/redis.sock?db=3", &u, err, sizeof err), 0);
    ASSERT(u.is_unix);
    ASSERT_STREQ(u.path, "/run/redis.sock");
    ASSERT_EQ(u.db, 3);
    ASSERT_EQ(bus_url_parse("http://x", &u, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "redis://");
    ASSERT_EQ(bus_url_parse("redis://h:99999", &u, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "port");
    ASSERT_EQ(bus_url_parse("redis://h/x", &u, err, sizeof err), -1);
    ASSERT_EQ(bus_url_parse("unix:relative", &u, err, sizeof err), -1);
    ASSERT_EQ(bus_url_parse("redis://:pw@", &u, err, sizeof err), -1);
}

static void test_bus_id(void)
{
    bus_id a, b;
    char s[BUS_ID_MAX];
    ASSERT_EQ(bus_id_parse("1700000000000-5", 15, &a), 0);
    ASSERT_EQ(a.ms, 1700000000000LL);
    ASSERT_EQ(a.seq, 5);
    ASSERT_STREQ(bus_id_format(a, s), "1700000000000-5");
    ASSERT_EQ(bus_id_parse("12", 2, &b), 0);
    ASSERT_EQ(b.seq, 0);
    ASSERT(bus_id_cmp(a, b) > 0);
    ASSERT_EQ(bus_id_cmp(bus_id_prev(bus_id_next(a)), a), 0);
    ASSERT_EQ(bus_id_parse("1-", 2, &a), -1);
    ASSERT_EQ(bus_id_parse("-1", 2, &a), -1);
    ASSERT_EQ(bus_id_parse("1-2-3", 5, &a), -1);
    ASSERT_EQ(bus_id_parse("99999999999999999999-1", 22, &a), -1);
    ASSERT_EQ(bus_id_parse("", 0, &a), -1);
}

static void test_bus_entry_parse(void)
{
    bus_id id;
    const char *json;
    size_t len;
    redisReply *r = resp("*2\r\n$5\r\n7-123\r\n*4\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nt\r\n$8\r\n{\"id\":1}\r\n");
    ASSERT(r != NULL);
    ASSERT_EQ(bus_entry_parse(r, &id, &json, &len), 0);
    ASSERT_EQ(id.ms, 7);
    ASSERT_EQ(id.seq, 123);
    ASSERT_EQ(len, 8);
    ASSERT(memcmp(json, "{\"id\":1}", 8) == 0);
    freeReplyObject(r);
    r = resp("*2\r\n$3\r\n1-1\r\n*2\r\n$2\r\ntt\r\n$1\r\nx\r\n");   /* no `t` field */
    ASSERT_EQ(bus_entry_parse(r, &id, &json, &len), -1);
    id.ms = id.seq = 0;
    ASSERT_EQ(bus_entry_id(r, &id), 0);                                         /* yet an id to move past */
    ASSERT(id.ms == 1 && id.seq == 1);
    freeReplyObject(r);
    r = resp("*2\r\n$3\r\nbad\r\n*2\r\n$1\r\nt\r\n$1\r\nx\r\n");     /* bad id */
    ASSERT_EQ(bus_entry_parse(r, &id, &json, &len), -1);
    ASSERT_EQ(bus_entry_id(r, &id), -1);
    freeReplyObject(r);
    r = resp("*2\r\n$3\r\n2-5\r\n*-1\r\n");                               /* trimmed: nil fields */
    ASSERT_EQ(bus_entry_parse(r, &id, &json, &len), -1);
    ASSERT_EQ(bus_entry_id(r, &id), 0);
    ASSERT(id.ms == 2 && id.seq == 5);
    freeReplyObject(r);
    r = resp("$3\r\n1-1\r\n");                                             /* not an entry */
    ASSERT_EQ(bus_entry_id(r, &id), -1);
    freeReplyObject(r);
    ASSERT_EQ(bus_entry_parse(NULL, &id, &json, &len), -1);
    ASSERT_EQ(bus_entry_id(NULL, &id), -1);
}

int main(void)
{
    RUN(test_bus_entry_parse);
    RUN(test_bus_url);
    RUN(test_bus_id);
    RUN(test_parse_ll);
    RUN(test_secure_equal);
    RUN(test_hash_fnv1a);
    RUN(test_parse_int_n);
    RUN(test_buf);
    RUN(test_config_precedence);
    return test_summary();
}
