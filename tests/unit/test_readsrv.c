/* Unit tests for where a responder reads from: the redis-read setting
 * (config), its cross-check with redis (fcgi/readsrv) and the lag the
 * feed reports from a master's ROLE answer (fcgi/feed's feed_lag), fed as
 * RESP bytes through hiredis's reader. */
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "feed.h"
#include "readsrv.h"
#include "resp.h"
#include "test.h"

static void test_setting(void)
{
    config cfg;
    char err[512];
    config_init(&cfg);
    ASSERT(cfg.redis_read == NULL);
    ASSERT_EQ(readsrv_mode(&cfg), READSRV_MASTER);
    ASSERT_EQ(config_set(&cfg, "redis-read", "replica", err, sizeof err), 0);
    ASSERT_EQ(readsrv_mode(&cfg), READSRV_REPLICA);
    ASSERT_STREQ(readsrv_mode_name(readsrv_mode(&cfg)), "replica");
    ASSERT_EQ(config_set(&cfg, "redis-read", "redis://10.0.0.2:6380/0", err, sizeof err), 0);
    ASSERT_EQ(readsrv_mode(&cfg), READSRV_URL);
    ASSERT_EQ(config_set(&cfg, "redis-read", "unix:/run/redis/replica.sock", err, sizeof err), 0);
    ASSERT_EQ(config_set(&cfg, "redis-read", "redis+sentinel://h:26379/bf", err, sizeof err), -1);
    ASSERT_CONTAINS(err, "say 'replica'");
    ASSERT_EQ(config_set(&cfg, "redis-read", "replicas", err, sizeof err), -1);
    ASSERT_CONTAINS(err, "redis-read takes 'replica' or one server's URL");
    ASSERT_EQ(config_set(&cfg, "redis-read", "redis://h:99999", err, sizeof err), -1);
    config_free(&cfg);
}

static void test_check(void)
{
    config cfg;
    char err[512];
    config_init(&cfg);
    ASSERT_EQ(readsrv_check(&cfg, err, sizeof err), 0);
    ASSERT_EQ(config_set(&cfg, "redis-read", "replica", err, sizeof err), 0);
    ASSERT_EQ(readsrv_check(&cfg, err, sizeof err), -1);       /* redis is one server */
    ASSERT_CONTAINS(err, "needs a redis+sentinel:// redis URL");
    ASSERT_EQ(config_set(&cfg, "redis", "redis+sentinel://127.0.0.2,127.0.0.3/bf", err, sizeof err), 0);
    ASSERT_EQ(readsrv_check(&cfg, err, sizeof err), 0);
    ASSERT_EQ(config_set(&cfg, "redis", "redis://127.0.0.2:6379/0", err, sizeof err), 0);
    ASSERT_EQ(config_set(&cfg, "redis-read", "redis://127.0.0.3:6379/0", err, sizeof err), 0);
    ASSERT_EQ(readsrv_check(&cfg, err, sizeof err), 0);        /* an explicit replica needs no Sentinel */
    config_free(&cfg);
}

static void test_lag(void)
{
    /* ROLE on a master with two replicas */
    redisReply *r = resp("*3\r\n$6\r\nmaster\r\n:5000\r\n*2\r\n"
                         "*3\r\n$9\r\n127.0.0.3\r\n$4\r\n6380\r\n$4\r\n4200\r\n"
                         "*3\r\n$9\r\n127.0.0.4\r\n$4\r\n6381\r\n$4\r\n5000\r\n");
    sentinel_role *m = malloc(sizeof *m);
    char why[128];
    long long lag = -7;
    ASSERT(r != NULL);
    ASSERT_EQ(sentinel_parse_role(r, m, why, sizeof why), 0);
    ASSERT_EQ(feed_lag("127.0.0.3:6380", SENTINEL_ROLE_REPLICA, m, &lag), 0);
    ASSERT_EQ(lag, 800);
    ASSERT_EQ(feed_lag("127.0.0.4:6381", SENTINEL_ROLE_REPLICA, m, &lag), 0);
    ASSERT_EQ(lag, 0);
    ASSERT_EQ(feed_lag("127.0.0.5:6380", SENTINEL_ROLE_REPLICA, m, &lag), -1);   /* not listed: not connected */
    ASSERT_EQ(feed_lag("127.0.0.3:6380", -1, m, &lag), -1);                      /* not connected */
    ASSERT_EQ(feed_lag("127.0.0.3:6380", SENTINEL_ROLE_REPLICA, NULL, &lag), -1);
    lag = -7;
    ASSERT_EQ(feed_lag("127.0.0.2:6379", SENTINEL_ROLE_MASTER, NULL, &lag), 0);  /* reading a master */
    ASSERT_EQ(lag, 0);
    freeReplyObject(r);
    /* the "master" asked is a replica itself: no lag to tell */
    r = resp("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.2\r\n:6379\r\n$9\r\nconnected\r\n:4100\r\n");
    ASSERT_EQ(sentinel_parse_role(r, m, why, sizeof why), 0);
    ASSERT_EQ(feed_lag("127.0.0.3:6380", SENTINEL_ROLE_REPLICA, m, &lag), -1);
    freeReplyObject(r);
    free(m);
}

int main(void)
{
    RUN(test_setting);
    RUN(test_check);
    RUN(test_lag);
    return test_summary();
}
