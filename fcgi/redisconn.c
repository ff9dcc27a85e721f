#include "redisconn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus.h"
#include "log.h"
#include "util.h"

#define CMD_TIMEOUT_MS 2000

struct redisconn {
    const config *cfg;
    redisContext *c;
    char err[256];
};

redisconn *redisconn_new(const config *cfg)
{
    redisconn *rc = xcalloc(1, sizeof *rc);
    rc->cfg = cfg;
    return rc;
}

void redisconn_free(redisconn *rc)
{
    if (rc == NULL) return;
    if (rc->c) redisFree(rc->c);
    free(rc);
}

redisContext *redisconn_get(redisconn *rc)
{
    if (rc->c && rc->c->err) {
        redisFree(rc->c);
        rc->c = NULL;
    }
    if (rc->c == NULL) {
        rc->c = bus_connect(rc->cfg->redis_url, CMD_TIMEOUT_MS, rc->err, sizeof rc->err);
        if (rc->c == NULL) log_warn("http.redis_down", "err=\"%s\"", rc->err);
    }
    return rc->c;
}

redisReply *redisconn_command(redisconn *rc, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        redisContext *c = redisconn_get(rc);
        redisReply *rep;
        va_list ap;
        if (c == NULL) return NULL;
        va_start(ap, fmt);
        rep = redisvCommand(c, fmt, ap);
        va_end(ap);
        if (rep) return rep;
        snprintf(rc->err, sizeof rc->err, "Redis: %s", c->errstr);
    }
    return NULL;
}

const char *redisconn_error(const redisconn *rc)
{
    return rc->err[0] ? rc->err : "Redis unreachable";
}

/* filterdb's command function: reads are retried once after a reconnect;
 * writes are not (they may have applied). */
static redisReply *filterdb_cmd_fn(void *arg, int idempotent, int argc, const char **argv, const size_t *argvlen)
{
    redisconn *rc = arg;
    for (int attempt = 0; attempt < (idempotent ? 2 : 1); attempt++) {
        redisContext *c = redisconn_get(rc);
        if (c == NULL) return NULL;
        redisReply *r = redisCommandArgv(c, argc, argv, argvlen);
        if (r) return r;
        log_warn("filters.redis_failed", "err=\"%s\"", c->errstr);
    }
    return NULL;
}

filterdb redisconn_filterdb(redisconn *rc)
{
    filterdb db = {filterdb_cmd_fn, rc, rc->cfg->prefix, rc->cfg->filters_max};
    return db;
}
