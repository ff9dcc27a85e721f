#include "bus.h"

#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "util.h"

static int parse_port_db(const char *s, size_t n, long long min, long long max, int *out)
{
    char tmp[32];
    long long v;
    const char *why;
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (parse_ll(tmp, min, max, &v, &why) < 0) return -1;
    *out = (int)v;
    return 0;
}

int bus_url_parse(const char *url, bus_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    u->port = 6379;
    if (url == NULL || *url == '\0') {
        snprintf(err, errlen, "empty Redis URL");
        return -1;
    }
    if (strncmp(url, "unix:", 5) == 0) {
        const char *p = url + 5, *q;
        if (strncmp(p, "//", 2) == 0) p += 2;
        q = strchr(p, '?');
        size_t plen = q ? (size_t)(q - p) : strlen(p);
        if (plen == 0 || p[0] != '/' || plen >= sizeof u->path) {
            snprintf(err, errlen, "Redis URL '%s': unix: needs an absolute socket path", url);
            return -1;
        }
        memcpy(u->path, p, plen);
        u->is_unix = 1;
        if (q) {
            if (strncmp(q, "?db=", 4) != 0 || parse_port_db(q + 4, strlen(q + 4), 0, 1000000, &u->db) < 0) {
                snprintf(err, errlen, "Redis URL '%s': the only query allowed is ?db=N", url);
                return -1;
            }
        }
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "Redis URL '%s': must start with redis:// or unix:", url);
        return -1;
    }
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        size_t pwlen = (size_t)(at - pw);
        if (pwlen >= sizeof u->password) {
            snprintf(err, errlen, "Redis URL: password too long");
            return -1;
        }
        memcpy(u->password, pw, pwlen);
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *hend = slash ? slash : p + strlen(p);
    const char *colon = NULL;
    if (*p == '[') {                             /* [::1]:6379 */
        const char *rb = memchr(p, ']', (size_t)(hend - p));
        if (rb == NULL) {
            snprintf(err, errlen, "Redis URL '%s': unterminated [IPv6] host", url);
            return -1;
        }
        if (rb + 1 < hend && rb[1] == ':') colon = rb + 1;
        else if (rb + 1 != hend) {
            snprintf(err, errlen, "Redis URL '%s': junk after ]", url);
            return -1;
        }
        if ((size_t)(rb - p - 1) >= sizeof u->host) goto toolong;
        memcpy(u->host, p + 1, (size_t)(rb - p - 1));
    } else {
        colon = memchr(p, ':', (size_t)(hend - p));
        const char *e = colon ? colon : hend;
        if ((size_t)(e - p) >= sizeof u->host) goto toolong;
        memcpy(u->host, p, (size_t)(e - p));
    }
    if (u->host[0] == '\0') {
        snprintf(err, errlen, "Redis URL '%s': no host", url);
        return -1;
    }
    if (colon && parse_port_db(colon + 1, (size_t)(hend - colon - 1), 1, 65535, &u->port) < 0) {
        snprintf(err, errlen, "Redis URL '%s': port must be 1..65535", url);
        return -1;
    }
    if (slash && slash[1] != '\0' && parse_port_db(slash + 1, strlen(slash + 1), 0, 1000000, &u->db) < 0) {
        snprintf(err, errlen, "Redis URL '%s': database must be a number", url);
        return -1;
    }
    return 0;
toolong:
    snprintf(err, errlen, "Redis URL: host name too long");
    return -1;
}

static int run_ok(redisContext *c, char *err, size_t errlen, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        snprintf(err, errlen, "Redis %s: %s", what, c->errstr);
        return -1;
    }
    int bad = r->type == REDIS_REPLY_ERROR;
    if (bad) snprintf(err, errlen, "Redis %s: %s", what, r->str);
    freeReplyObject(r);
    return bad ? -1 : 0;
}

static int setup(redisContext *c, const bus_url *u, char *err, size_t errlen)
{
    if (u->password[0] && run_ok(c, err, errlen, "AUTH", "AUTH %s", u->password) < 0) return -1;
    if (u->db && run_ok(c, err, errlen, "SELECT", "SELECT %d", u->db) < 0) return -1;
    return 0;
}

redisContext *bus_connect(const char *url, int timeout_ms, char *err, size_t errlen)
{
    bus_url u;
    redisContext *c;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

    if (bus_url_parse(url, &u, err, errlen) < 0) return NULL;
    if (u.is_unix)
        c = timeout_ms ? redisConnectUnixWithTimeout(u.path, tv) : redisConnectUnix(u.path);
    else
        c = timeout_ms ? redisConnectWithTimeout(u.host, u.port, tv) : redisConnect(u.host, u.port);
    if (c == NULL) {
        snprintf(err, errlen, "Redis: cannot allocate a connection");
        return NULL;
    }
    if (c->err) {
        if (u.is_unix) snprintf(err, errlen, "Redis at %s: %s", u.path, c->errstr);
        else snprintf(err, errlen, "Redis at %s:%d: %s", u.host, u.port, c->errstr);
        redisFree(c);
        return NULL;
    }
    if (timeout_ms) redisSetTimeout(c, tv);
    if (!u.is_unix) redisEnableKeepAlive(c);
    if (setup(c, &u, err, errlen) < 0) {
        redisFree(c);
        return NULL;
    }
    return c;
}

int bus_after_reconnect(redisContext *c, const char *url, char *err, size_t errlen)
{
    bus_url u;
    if (bus_url_parse(url, &u, err, errlen) < 0) return -1;
    if (!u.is_unix) redisEnableKeepAlive(c);
    return setup(c, &u, err, errlen);
}

int bus_entry_parse(const redisReply *e, bus_id *id, const char **json, size_t *len)
{
    if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return -1;
    if (bus_id_parse(e->element[0]->str, e->element[0]->len, id) < 0) return -1;
    const redisReply *f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && f->element[i]->len == 1 && f->element[i]->str[0] == 't' &&
            f->element[i + 1]->type == REDIS_REPLY_STRING) {
            *json = f->element[i + 1]->str;
            *len = f->element[i + 1]->len;
            return 0;
        }
    return -1;
}

char *bus_key(char *out, size_t n, const char *prefix, const char *name)
{
    snprintf(out, n, "%s%s", prefix, name);
    return out;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int bus_id_parse(const char *s, size_t n, bus_id *id)
{
    const char *dash = memchr(s, '-', n);
    if (dash == NULL) {
        id->seq = 0;
        return parse_u64(s, n, &id->ms);
    }
    if (parse_u64(s, (size_t)(dash - s), &id->ms) < 0) return -1;
    return parse_u64(dash + 1, n - (size_t)(dash - s) - 1, &id->seq);
}

int bus_id_cmp(bus_id a, bus_id b)
{
    if (a.ms != b.ms) return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
    return 0;
}

char *bus_id_format(bus_id id, char out[BUS_ID_MAX])
{
    snprintf(out, BUS_ID_MAX, "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
    return out;
}

bus_id bus_id_next(bus_id id)
{
    if (id.seq == UINT64_MAX) {
        id.ms++;
        id.seq = 0;
    } else {
        id.seq++;
    }
    return id;
}

bus_id bus_id_prev(bus_id id)
{
    if (id.seq == 0) {
        if (id.ms > 0) {
            id.ms--;
            id.seq = UINT64_MAX;
        }
    } else {
        id.seq--;
    }
    return id;
}
