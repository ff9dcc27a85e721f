#include "redisconn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus.h"
#include "log.h"
#include "readsrv.h"
#include "sentinel.h"
#include "util.h"

#define CMD_TIMEOUT_MS 2000
#define ROLE_EVERY_MS 1000        /* redis-read replica: ROLE asked again after this long */

struct redisconn {
    const config *cfg;
    redisContext *c;              /* the master */
    redisContext *rd;             /* the read server, when redis-read is set */
    bus_peer rd_peer;
    uint64_t rd_checked_ms;       /* when rd's ROLE was last known */
    char err[512];
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
    if (rc->rd) redisFree(rc->rd);
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

static void read_drop(redisconn *rc)
{
    redisFree(rc->rd);
    rc->rd = NULL;
}

/* redis-read 'replica': is rd still a replica? Asked at most once a second. */
static void read_recheck(redisconn *rc)
{
    sentinel_role role;
    char why[256];
    if (readsrv_mode(rc->cfg) != READSRV_REPLICA || now_ms() - rc->rd_checked_ms < ROLE_EVERY_MS) return;
    redisReply *r = redisCommand(rc->rd, "ROLE");
    int ok = r && sentinel_parse_role(r, &role, why, sizeof why) == 0 && role.kind == SENTINEL_ROLE_REPLICA;
    if (r) freeReplyObject(r);
    rc->rd_checked_ms = now_ms();
    if (ok) return;
    log_info("http.read_server_left", "server=%s why=\"%s\"", rc->rd_peer.addr,
             r == NULL ? rc->rd->errstr : "no longer a replica");
    read_drop(rc);
}

/* The read server's connection, connected (again) now; NULL (rc->err). */
static redisContext *read_get(redisconn *rc)
{
    if (rc->cfg->redis_read == NULL) return redisconn_get(rc);
    if (rc->rd && rc->rd->err) read_drop(rc);
    if (rc->rd) read_recheck(rc);
    if (rc->rd == NULL) {
        rc->rd = readsrv_connect(rc->cfg, CMD_TIMEOUT_MS, &rc->rd_peer, rc->err, sizeof rc->err);
        rc->rd_checked_ms = now_ms();
        if (rc->rd == NULL) log_warn("http.read_server_down", "err=\"%s\"", rc->err);
    }
    return rc->rd;
}

/* One command on the master's connection, or (read) the read server's,
 * connecting again and retrying once if the connection had dropped. An
 * error reply from a separate read server drops that connection: the next
 * read connects anew. */
static redisReply *run(redisconn *rc, int read, const char *fmt, va_list ap)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        redisContext *c = read ? read_get(rc) : redisconn_get(rc);
        redisReply *rep;
        va_list aq;
        if (c == NULL) return NULL;
        va_copy(aq, ap);
        rep = redisvCommand(c, fmt, aq);
        va_end(aq);
        if (rep) {
            if (rep->type == REDIS_REPLY_ERROR && read && c == rc->rd) {
                snprintf(rc->err, sizeof rc->err, "Redis at %s: %s", rc->rd_peer.addr, rep->str);
                read_drop(rc);
            }
            return rep;
        }
        snprintf(rc->err, sizeof rc->err, "Redis: %s", c->errstr);
    }
    return NULL;
}

redisReply *redisconn_command(redisconn *rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = run(rc, 0, fmt, ap);
    va_end(ap);
    return rep;
}

redisReply *redisconn_read(redisconn *rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = run(rc, 1, fmt, ap);
    va_end(ap);
    return rep;
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
