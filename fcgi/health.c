#include "health.h"

#include <string.h>
#include <unistd.h>

#include "api_tweets.h"
#include "buf.h"
#include "hub.h"

/* ,"responder":{…}: this process's streams and hub counters. */
static void append_responder(const proc *p, buf *b)
{
    hub *h = p->hub;
    hub_stats st;
    feed_stats fs;
    hub_stats_get(h, &st);
    feed_stats_get(hub_feed(h), &fs);
    buf_printf(b,
               ",\"responder\":{\"pid\":%d,\"streams\":%zu,\"redis_subscribed\":%s,\"streams_opened\":%llu,"
               "\"events_queued\":%llu,\"bytes_written\":%llu,\"slow_cutoffs\":%llu,\"heartbeats\":%llu,"
               "\"redis_connects\":%llu,\"ring_frames\":%llu}",
               (int)getpid(), hub_streams(h), fs.up ? "true" : "false", st.streams_opened, st.events_queued,
               st.bytes_written, st.slow_cutoffs, st.heartbeats, fs.connects, st.ring_frames);
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

    if (ok && db >= 0) {
        buf_appends(&body, "{\"status\":\"ok\",\"redis\":\"ok\",\"archive\":");
        buf_appends(&body, db == 0 ? "\"ok\"" : "\"not configured\"");
        append_responder(http_proc(req), &body);
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
        append_responder(http_proc(req), &body);
        buf_appends(&body, ",\"error\":{\"code\":");
        buf_append_json_str(&body, code, strlen(code));
        buf_appends(&body, ",\"message\":");
        buf_append_json_str(&body, msg, strlen(msg));
        buf_appends(&body, "}}");
        http_reply_json(req, 503, body.data, "Retry-After: 2\r\n");
    }
    if (rep) freeReplyObject(rep);
    buf_free(&body);
}
