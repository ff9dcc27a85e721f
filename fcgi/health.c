#include "health.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_tweets.h"
#include "buf.h"
#include "hub.h"
#include "util.h"

static void append_str_or_null(buf *b, const char *s)
{
    if (s && *s) buf_append_json_str(b, s, strlen(s));
    else buf_appends(b, "null");
}

/* ,"feed":{…}: where this process's feed reads from (master: the master's
 * ROLE answer for the lag, NULL when it could not be asked). */
static void append_feed(const feed_stats *fs, const sentinel_role *master, buf *b)
{
    long long lag;
    buf_appends(b, ",\"feed\":{\"read_from\":");
    buf_append_json_str(b, fs->mode, strlen(fs->mode));
    buf_appends(b, ",\"server\":");
    append_str_or_null(b, fs->server);
    buf_appends(b, ",\"role\":");
    append_str_or_null(b, fs->role >= 0 ? sentinel_role_name((enum sentinel_role_kind)fs->role) : NULL);
    buf_appends(b, ",\"replica_of\":");
    append_str_or_null(b, fs->replica_of);
    buf_appends(b, ",\"link\":");
    append_str_or_null(b, fs->link);
    if (fs->server[0] && feed_lag(fs->server, fs->role, master, &lag) == 0) buf_printf(b, ",\"lag_bytes\":%lld", lag);
    else buf_appends(b, ",\"lag_bytes\":null");
    buf_printf(b, ",\"failovers\":%llu}", fs->failovers);
}

/* ,"responder":{…}: this process's streams, hub counters and feed. */
static void append_responder(const proc *p, const sentinel_role *master, buf *b)
{
    hub *h = p->hub;
    hub_stats st;
    feed_stats fs;
    hub_stats_get(h, &st);
    feed_stats_get(hub_feed(h), &fs);
    buf_printf(b,
               ",\"responder\":{\"pid\":%d,\"streams\":%zu,\"redis_subscribed\":%s,\"streams_opened\":%llu,"
               "\"events_queued\":%llu,\"bytes_written\":%llu,\"slow_cutoffs\":%llu,\"heartbeats\":%llu,"
               "\"redis_connects\":%llu,\"ring_frames\":%llu",
               (int)getpid(), hub_streams(h), fs.up ? "true" : "false", st.streams_opened, st.events_queued,
               st.bytes_written, st.slow_cutoffs, st.heartbeats, fs.connects, st.ring_frames);
    append_feed(&fs, master, b);
    buf_appendc(b, '}');
}

/* The master's ROLE (its replicas' acknowledged offsets) into *out. 0 ok, -1 not asked. */
static int master_role(http_req *req, sentinel_role *out)
{
    char why[200];
    redisReply *r = redisconn_command(http_redis(req), "ROLE");
    int rc = r ? sentinel_parse_role(r, out, why, sizeof why) : -1;
    if (r) freeReplyObject(r);
    return rc;
}

void health_get(http_req *req)
{
    redisReply *rep = redisconn_command(http_redis(req), "PING");
    buf body = BUF_INIT;
    char db_err[512];
    int ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
    const char *why = ok ? NULL : rep ? (rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected PING reply")
                                      : redisconn_error(http_redis(req));
    /* The archive counts only when one is configured (1: none). */
    int db = api_tweets_db_check(req, db_err, sizeof db_err);
    sentinel_role *master = xmalloc(sizeof *master);
    if (!ok || master_role(req, master) < 0) {
        free(master);
        master = NULL;
    }

    if (ok && db >= 0) {
        buf_appends(&body, "{\"status\":\"ok\",\"redis\":\"ok\",\"archive\":");
        buf_appends(&body, db == 0 ? "\"ok\"" : "\"not configured\"");
        append_responder(http_proc(req), master, &body);
        buf_appendc(&body, '}');
        http_reply_json(req, 200, body.data, NULL);
    } else {
        const char *code = ok ? "archive_unavailable" : "redis_unavailable", *msg = ok ? db_err : why;
        buf_appends(&body, "{\"status\":\"unavailable\",\"redis\":");
        if (ok) buf_appends(&body, "\"ok\"");
        else buf_append_json_str(&body, why, strlen(why));
        buf_appends(&body, ",\"archive\":");
        if (db < 0) buf_append_json_str(&body, db_err, strlen(db_err));
        else buf_appends(&body, db == 0 ? "\"ok\"" : "\"not configured\"");
        append_responder(http_proc(req), master, &body);
        buf_appends(&body, ",\"error\":{\"code\":");
        buf_append_json_str(&body, code, strlen(code));
        buf_appends(&body, ",\"message\":");
        buf_append_json_str(&body, msg, strlen(msg));
        buf_appends(&body, "}}");
        http_reply_json(req, 503, body.data, "Retry-After: 2\r\n");
    }
    if (rep) freeReplyObject(rep);
    free(master);
    buf_free(&body);
}
