#include "health.h"

#include <string.h>

#include "buf.h"

void health_get(http_req *req)
{
    redisReply *rep = http_redis_command(req, "PING");
    buf body = BUF_INIT;
    int ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
    const char *why = ok ? NULL : rep ? (rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected PING reply")
                                      : http_redis_error(req);

    if (ok) {
        buf_appends(&body, "{\"status\":\"ok\",\"redis\":\"ok\"}");
        http_reply_json(req, 200, body.data, NULL);
    } else {
        buf_appends(&body, "{\"status\":\"unavailable\",\"redis\":");
        buf_append_json_str(&body, why, strlen(why));
        buf_appends(&body, ",\"error\":{\"code\":\"redis_unavailable\",\"message\":");
        buf_append_json_str(&body, why, strlen(why));
        buf_appends(&body, "}}");
        http_reply_json(req, 503, body.data, "Retry-After: 2\r\n");
    }
    if (rep) freeReplyObject(rep);
    buf_free(&body);
}
