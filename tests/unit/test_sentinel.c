/* Unit tests for lib/sentinel (URL, replies, notices) and the parts of
 * lib/bus that need no server: replies are RESP bytes fed to hiredis's
 * reader, as a Sentinel or Redis 7 sends them. */
#include <hiredis/hiredis.h>

#include "buf.h"
#include "bus.h"
#include "resp.h"
#include "sentinel.h"
#include "test.h"

#define RESP(s) resp_n(s, sizeof(s) - 1)

static void bulk(buf *b, const char *s)
{
    buf_printf(b, "$%zu\r\n%s\r\n", strlen(s), s);
}

/* One replica as SENTINEL replicas describes it (the fields birdfeed reads
 * among the ones Redis 7 sends). */
static void replica_entry(buf *b, const char *ip, const char *port, const char *flags, const char *link,
                          const char *role, const char *offset)
{
    const char *kv[] = {"name", "x",     "ip", ip, "port", port, "runid", "", "flags", flags,
                        "master-link-status", link, "role-reported", role, "slave-repl-offset", offset,
                        "slave-priority", "100"};
    buf_printf(b, "*%zu\r\n", sizeof kv / sizeof kv[0]);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) bulk(b, kv[i]);
}

/* ---- URLs ---- */

static void test_url_one_sentinel_default_port(void)
{
    sentinel_url u;
    char err[300];
    ASSERT_EQ(sentinel_url_parse("redis+sentinel://s1/bf", &u, err, sizeof err), 0);
    ASSERT_EQ(u.n, 1);
    ASSERT_STREQ(u.sentinels[0].host, "s1");
    ASSERT_EQ(u.sentinels[0].port, 26379);
    ASSERT_STREQ(u.master, "bf");
    ASSERT_STREQ(u.password, "");
    ASSERT_EQ(u.db, 0);
}

static void test_url_full(void)
{
    sentinel_url u;
    char err[300], a[300];
    ASSERT_EQ(sentinel_url_parse("redis+sentinel://:s3cret@127.0.0.2:26380,[::1]:26381,host-c/main-1/7", &u, err,
                                 sizeof err), 0);
    ASSERT_EQ(u.n, 3);
    ASSERT_STREQ(sentinel_addr_format(&u.sentinels[0], a, sizeof a), "127.0.0.2:26380");
    ASSERT_STREQ(u.sentinels[1].host, "::1");
    ASSERT_STREQ(sentinel_addr_format(&u.sentinels[1], a, sizeof a), "[::1]:26381");
    ASSERT_STREQ(sentinel_addr_format(&u.sentinels[2], a, sizeof a), "host-c:26379");
    ASSERT_STREQ(u.master, "main-1");
    ASSERT_STREQ(u.password, "s3cret");
    ASSERT_EQ(u.db, 7);
    ASSERT_EQ(sentinel_url_parse("redis+sentinel://[::1]/bf/", &u, err, sizeof err), 0);   /* trailing slash */
    ASSERT_EQ(u.sentinels[0].port, 26379);
    ASSERT_EQ(u.db, 0);
    ASSERT(sentinel_url_is("redis+sentinel://x/y"));
    ASSERT(!sentinel_url_is("redis://x"));
    ASSERT(!sentinel_url_is(NULL));
}

/* Each malformed URL is refused with a reason that names what is wrong. */
static void test_url_errors(void)
{
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"redis://h:1/bf", "must start with redis+sentinel://"},
        {"redis+sentinel://", "no Sentinel address"},
        {"redis+sentinel:///bf", "no Sentinel address"},
        {"redis+sentinel://h1:26379", "no master name"},
        {"redis+sentinel://h1:26379/", "no master name"},
        {"redis+sentinel://h1:26379//0", "no master name"},
        {"redis+sentinel://h1,,h2/bf", "Sentinel address 2 is empty"},
        {"redis+sentinel://h1,/bf", "Sentinel address 2 is empty"},
        {"redis+sentinel://h1:0/bf", "port of Sentinel address 1 must be 1..65535"},
        {"redis+sentinel://h1:65536/bf", "port of Sentinel address 1 must be 1..65535"},
        {"redis+sentinel://h1:/bf", "port of Sentinel address 1 must be 1..65535"},
        {"redis+sentinel://h1,h2:x/bf", "port of Sentinel address 2 must be 1..65535, got 'x'"},
        {"redis+sentinel://:1/bf", "Sentinel address 1 has no host"},
        {"redis+sentinel://[::1/bf", "no ']'"},
        {"redis+sentinel://[::1]x/bf", "only ':PORT' may follow ']'"},
        {"redis+sentinel://[]:1/bf", "has no host"},
        {"redis+sentinel://::1:26379/bf", "IPv6 address in brackets"},
        {"redis+sentinel://user:pw@h/bf", "user names are not supported"},
        {"redis+sentinel://:@h/bf", "empty password"},
        {"redis+sentinel://h/bf/x", "database after the master name must be a number"},
        {"redis+sentinel://h/bf/1/2", "database after the master name must be a number"},
        {"redis+sentinel://h/b f", "may not contain spaces"},
        {"redis+sentinel://h/bf?db=1", "'?'"},
        {"redis+sentinel://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q/bf", "more than 16 Sentinel addresses"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sentinel_url u;
        char err[400] = "";
        if (sentinel_url_parse(bad[i].url, &u, err, sizeof err) == 0) TEST_FAIL("accepted %s", bad[i].url);
        ASSERT_CONTAINS(err, bad[i].why);
        /* bus_url_check (what the config uses) gives the same answer. */
        char err2[400] = "";
        ASSERT_EQ(bus_url_check(bad[i].url, err2, sizeof err2), -1);
    }
}

static void test_bus_url_check(void)
{
    char err[300];
    ASSERT_EQ(bus_url_check("redis://127.0.0.1:6379/0", err, sizeof err), 0);
    ASSERT_EQ(bus_url_check("unix:/run/redis.sock?db=2", err, sizeof err), 0);
    ASSERT_EQ(bus_url_check("redis+sentinel://a:1,b:2/bf/1", err, sizeof err), 0);
    ASSERT_EQ(bus_url_check("http://x", err, sizeof err), -1);
    ASSERT_CONTAINS(err, "must start with redis://");
    ASSERT_EQ(bus_url_check("", err, sizeof err), -1);
}

/* ---- SENTINEL get-master-addr-by-name ---- */

static void test_master_reply(void)
{
    sentinel_addr a;
    char err[200];
    redisReply *r = RESP("*2\r\n$9\r\n127.0.0.2\r\n$5\r\n17001\r\n");
    ASSERT_EQ(sentinel_parse_master(r, &a, err, sizeof err), 0);
    ASSERT_STREQ(a.host, "127.0.0.2");
    ASSERT_EQ(a.port, 17001);
    freeReplyObject(r);

    r = RESP("*-1\r\n");   /* a master the Sentinel does not know */
    ASSERT_EQ(sentinel_parse_master(r, &a, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "knows no master by that name");
    freeReplyObject(r);

    r = RESP("-IDONTKNOW I have not enough information to reply.\r\n");
    ASSERT_EQ(sentinel_parse_master(r, &a, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "IDONTKNOW");
    freeReplyObject(r);

    static const char *const shapes[] = {
        "*1\r\n$9\r\n127.0.0.2\r\n",                      /* no port */
        "*2\r\n$9\r\n127.0.0.2\r\n$5\r\n99999\r\n",       /* port out of range */
        "*2\r\n$9\r\n127.0.0.2\r\n$2\r\nxx\r\n",          /* port not a number */
        "*2\r\n$0\r\n\r\n$4\r\n6379\r\n",                 /* empty host */
        "+OK\r\n",
        ":1\r\n",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        r = resp(shapes[i]);
        ASSERT(r != NULL);
        ASSERT_EQ(sentinel_parse_master(r, &a, err, sizeof err), -1);
        freeReplyObject(r);
    }
    ASSERT_EQ(sentinel_parse_master(NULL, &a, err, sizeof err), -1);
}

/* ---- SENTINEL replicas ---- */

static void test_replicas_reply(void)
{
    buf b = BUF_INIT;
    sentinel_replica v[4];
    size_t n;
    char err[200];
    buf_appends(&b, "*5\r\n");
    replica_entry(&b, "127.0.0.3", "17002", "slave", "ok", "slave", "54975");
    replica_entry(&b, "127.0.0.2", "17001", "s_down,slave,disconnected", "err", "slave", "0");
    replica_entry(&b, "127.0.0.4", "17003", "slave", "err", "slave", "100");      /* link to master down */
    replica_entry(&b, "127.0.0.5", "17004", "slave", "ok", "master", "100");      /* an old master back, not yet converted */
    buf_appends(&b, "*2\r\n$4\r\nname\r\n$1\r\nx\r\n");                          /* no ip/port: skipped */
    redisReply *r = resp_n(b.data, b.len);
    ASSERT(r != NULL);
    ASSERT_EQ(sentinel_parse_replicas(r, v, 4, &n, err, sizeof err), 0);
    ASSERT_EQ(n, 4);
    ASSERT_STREQ(v[0].addr.host, "127.0.0.3");
    ASSERT_EQ(v[0].addr.port, 17002);
    ASSERT_EQ(v[0].usable, 1);
    ASSERT_EQ(v[0].offset, 54975);
    ASSERT_EQ(v[1].usable, 0);
    ASSERT_EQ(v[2].usable, 0);
    ASSERT_EQ(v[3].usable, 0);
    /* max bounds what is filled */
    ASSERT_EQ(sentinel_parse_replicas(r, v, 1, &n, err, sizeof err), 0);
    ASSERT_EQ(n, 1);
    freeReplyObject(r);
    buf_free(&b);

    r = RESP("*0\r\n");
    ASSERT_EQ(sentinel_parse_replicas(r, v, 4, &n, err, sizeof err), 0);
    ASSERT_EQ(n, 0);
    freeReplyObject(r);
    r = RESP("-ERR No such master with that name\r\n");
    ASSERT_EQ(sentinel_parse_replicas(r, v, 4, &n, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "No such master");
    freeReplyObject(r);
}

/* ---- ROLE ---- */

static void test_role_master(void)
{
    sentinel_role role;
    char err[200];
    redisReply *r = RESP("*3\r\n$6\r\nmaster\r\n:55629\r\n*2\r\n*3\r\n$9\r\n127.0.0.3\r\n$5\r\n17002\r\n$5\r\n55629\r\n"
                         "*3\r\n$9\r\n127.0.0.4\r\n$5\r\n17003\r\n$5\r\n55000\r\n");
    ASSERT_EQ(sentinel_parse_role(r, &role, err, sizeof err), 0);
    ASSERT_EQ(role.kind, SENTINEL_ROLE_MASTER);
    ASSERT_STREQ(sentinel_role_name(role.kind), "master");
    ASSERT_EQ(role.offset, 55629);
    ASSERT_EQ(role.nreplicas, 2);
    ASSERT_STREQ(role.replicas[1].addr.host, "127.0.0.4");
    ASSERT_EQ(role.replicas[1].addr.port, 17003);
    ASSERT_EQ(role.replicas[1].offset, 55000);
    freeReplyObject(r);
    r = RESP("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    ASSERT_EQ(sentinel_parse_role(r, &role, err, sizeof err), 0);
    ASSERT_EQ(role.nreplicas, 0);
    freeReplyObject(r);
}

static void test_role_replica(void)
{
    sentinel_role role;
    char err[200];
    redisReply *r = RESP("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.2\r\n:17001\r\n$9\r\nconnected\r\n:1582\r\n");
    ASSERT_EQ(sentinel_parse_role(r, &role, err, sizeof err), 0);
    ASSERT_EQ(role.kind, SENTINEL_ROLE_REPLICA);
    ASSERT_STREQ(sentinel_role_name(role.kind), "replica");
    ASSERT_STREQ(role.master.host, "127.0.0.2");
    ASSERT_EQ(role.master.port, 17001);
    ASSERT_EQ(role.link_up, 1);
    ASSERT_EQ(role.offset, 1582);
    freeReplyObject(r);
    r = RESP("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.2\r\n:17001\r\n$4\r\nsync\r\n:-1\r\n");
    ASSERT_EQ(sentinel_parse_role(r, &role, err, sizeof err), 0);
    ASSERT_EQ(role.link_up, 0);
    ASSERT_STREQ(role.state, "sync");
    freeReplyObject(r);
}

static void test_role_other(void)
{
    sentinel_role role;
    char err[200];
    redisReply *r = RESP("*2\r\n$8\r\nsentinel\r\n*1\r\n$2\r\nbf\r\n");
    ASSERT_EQ(sentinel_parse_role(r, &role, err, sizeof err), 0);
    ASSERT_EQ(role.kind, SENTINEL_ROLE_SENTINEL);
    freeReplyObject(r);
    static const char *const bad[] = {
        "*0\r\n",
        "*1\r\n$7\r\nunknown\r\n",
        "*3\r\n$6\r\nmaster\r\n:1\r\n:2\r\n",                                     /* replicas not an array */
        "*3\r\n$6\r\nmaster\r\n:1\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",         /* replica of 2 fields */
        "*4\r\n$5\r\nslave\r\n$1\r\na\r\n:1\r\n$9\r\nconnected\r\n",             /* too short */
        "*5\r\n$5\r\nslave\r\n$1\r\na\r\n:0\r\n$9\r\nconnected\r\n:1\r\n",       /* port 0 */
        "-NOPERM this user has no permissions to run the 'role' command\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = resp(bad[i]);
        ASSERT(r != NULL);
        if (sentinel_parse_role(r, &role, err, sizeof err) == 0) TEST_FAIL("accepted ROLE reply %zu", i);
        freeReplyObject(r);
    }
}

/* ---- +switch-master ---- */

static void test_switch_notice(void)
{
    sentinel_addr a;
    const char *m = "bf 127.0.0.2 17001 127.0.0.4 17003";
    ASSERT_EQ(sentinel_parse_switch(m, strlen(m), "bf", &a), 0);
    ASSERT_STREQ(a.host, "127.0.0.4");
    ASSERT_EQ(a.port, 17003);
    ASSERT_EQ(sentinel_parse_switch(m, strlen(m), "other", &a), -1);
    ASSERT_EQ(sentinel_parse_switch(m, strlen(m), "b", &a), -1);
    static const char *const bad[] = {"bf 1 2 3", "bf 1 2 3 4 5", "bf  1 2 3 4", "bf 1 2 h 0", "bf 1 2 h x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sentinel_parse_switch(bad[i], strlen(bad[i]), "bf", &a) == 0) TEST_FAIL("accepted '%s'", bad[i]);
}

/* ---- failover errors ---- */

static void test_failover_replies(void)
{
    static const struct {
        const char *bytes;
        int want;
    } cases[] = {
        {"-READONLY You can't write against a read only replica.\r\n", 1},
        {"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n", 1},
        {"-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n", 1},
        {"-READONLYX no\r\n", 0},
        {"-ERR unknown command\r\n", 0},
        {"-LOADING Redis is loading the dataset in memory\r\n", 0},
        {"+OK\r\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        redisReply *r = resp(cases[i].bytes);
        ASSERT(r != NULL);
        ASSERT_EQ(bus_reply_failover(r), cases[i].want);
        freeReplyObject(r);
    }
    ASSERT_EQ(bus_reply_failover(NULL), 0);
}

int main(void)
{
    RUN(test_url_one_sentinel_default_port);
    RUN(test_url_full);
    RUN(test_url_errors);
    RUN(test_bus_url_check);
    RUN(test_master_reply);
    RUN(test_replicas_reply);
    RUN(test_role_master);
    RUN(test_role_replica);
    RUN(test_role_other);
    RUN(test_switch_notice);
    RUN(test_failover_replies);
    return test_summary();
}
