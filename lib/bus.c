#include "bus.h"

#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "sentinel.h"
#include "util.h"

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
            if (strncmp(q, "?db=", 4) != 0 || parse_int_n(q + 4, strlen(q + 4), 0, 1000000, &u->db) < 0) {
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
    if (colon && parse_int_n(colon + 1, (size_t)(hend - colon - 1), 1, 65535, &u->port) < 0) {
        snprintf(err, errlen, "Redis URL '%s': port must be 1..65535", url);
        return -1;
    }
    if (slash && slash[1] != '\0' && parse_int_n(slash + 1, strlen(slash + 1), 0, 1000000, &u->db) < 0) {
        snprintf(err, errlen, "Redis URL '%s': database must be a number", url);
        return -1;
    }
    return 0;
toolong:
    snprintf(err, errlen, "Redis URL: host name too long");
    return -1;
}

int bus_url_check(const char *url, char *err, size_t errlen)
{
    if (sentinel_url_is(url)) {
        sentinel_url su;
        return sentinel_url_parse(url, &su, err, errlen);
    }
    bus_url u;
    return bus_url_parse(url, &u, err, errlen);
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

/* ROLE into *role. 0 ok, -1 (err). */
static int ask_role(redisContext *c, const char *where, sentinel_role *role, char *err, size_t errlen)
{
    char why[200];
    redisReply *r = redisCommand(c, "ROLE");
    if (r == NULL) {
        snprintf(err, errlen, "Redis at %s: ROLE: %s", where, c->errstr);
        return -1;
    }
    int rc = sentinel_parse_role(r, role, why, sizeof why);
    freeReplyObject(r);
    if (rc < 0) snprintf(err, errlen, "Redis at %s: ROLE: %s", where, why);
    return rc;
}

/* The one place a connection is opened: TCP (host, port) or a unix socket
 * (path), then keepalive, AUTH and SELECT. */
static redisContext *open_server(const char *host, int port, const char *path, const char *password, int db,
                                 int timeout_ms, char *where, size_t wherelen, char *err, size_t errlen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c;
    if (path) {
        snprintf(where, wherelen, "%s", path);
        c = timeout_ms ? redisConnectUnixWithTimeout(path, tv) : redisConnectUnix(path);
    } else {
        sentinel_addr a;
        strlcpy_safe(a.host, host, sizeof a.host);
        a.port = port;
        sentinel_addr_format(&a, where, wherelen);
        c = timeout_ms ? redisConnectWithTimeout(host, port, tv) : redisConnect(host, port);
    }
    if (c == NULL) {
        snprintf(err, errlen, "Redis: cannot allocate a connection");
        return NULL;
    }
    if (c->err) {
        snprintf(err, errlen, "Redis at %s: %s", where, c->errstr);
        redisFree(c);
        return NULL;
    }
    if (timeout_ms) redisSetTimeout(c, tv);
    if (!path) redisEnableKeepAlive(c);
    if ((password[0] && run_ok(c, err, errlen, "AUTH", "AUTH %s", password) < 0) ||
        (db && run_ok(c, err, errlen, "SELECT", "SELECT %d", db) < 0)) {
        redisFree(c);
        return NULL;
    }
    return c;
}

static void fill_peer(bus_peer *peer, const char *where, int role)
{
    if (peer == NULL) return;
    strlcpy_safe(peer->addr, where, sizeof peer->addr);
    peer->role = role;
}

/* The master named by the Sentinels of a redis+sentinel:// URL. */
static redisContext *connect_sentinel_master(const char *url, int timeout_ms, bus_peer *peer, char *err,
                                             size_t errlen)
{
    sentinel_url su;
    sentinel_addr a;
    sentinel_role role;
    char where[300];
    if (sentinel_url_parse(url, &su, err, errlen) < 0) return NULL;
    if (sentinel_get_master(&su, &a, err, errlen) < 0) return NULL;
    redisContext *c = open_server(a.host, a.port, NULL, su.password, su.db, timeout_ms, where, sizeof where, err, errlen);
    if (c == NULL) return NULL;
    if (ask_role(c, where, &role, err, errlen) < 0) goto fail;
    if (role.kind != SENTINEL_ROLE_MASTER) {
        snprintf(err, errlen, "Redis at %s, named master of '%s' by the Sentinels, says it is a %s (failover under way?)",
                 where, su.master, sentinel_role_name(role.kind));
        goto fail;
    }
    fill_peer(peer, where, SENTINEL_ROLE_MASTER);
    return c;
fail:
    redisFree(c);
    return NULL;
}

redisContext *bus_connect_peer(const char *url, int timeout_ms, bus_peer *peer, char *err, size_t errlen)
{
    bus_url u;
    char where[300];
    if (sentinel_url_is(url)) return connect_sentinel_master(url, timeout_ms, peer, err, errlen);
    if (bus_url_parse(url, &u, err, errlen) < 0) return NULL;
    redisContext *c = open_server(u.host, u.port, u.is_unix ? u.path : NULL, u.password, u.db, timeout_ms, where,
                                  sizeof where, err, errlen);
    if (c == NULL || peer == NULL) return c;
    sentinel_role role;
    if (ask_role(c, where, &role, err, errlen) < 0) {
        redisFree(c);
        return NULL;
    }
    fill_peer(peer, where, (int)role.kind);
    return c;
}

redisContext *bus_connect(const char *url, int timeout_ms, char *err, size_t errlen)
{
    return bus_connect_peer(url, timeout_ms, NULL, err, errlen);
}

/* The addresses host resolves to (host may be an address), as text. */
static size_t resolve(const char *host, char out[][INET6_ADDRSTRLEN], size_t max)
{
    struct addrinfo hints, *res = NULL;
    size_t n = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0) return 0;
    for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        const void *a = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                      : ai->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                                                  : NULL;
        if (a && inet_ntop(ai->ai_family, a, out[n], INET6_ADDRSTRLEN)) n++;
    }
    freeaddrinfo(res);
    return n;
}

/* Is the replica at host on node? */
static int on_node(const char *host, char node_addrs[][INET6_ADDRSTRLEN], size_t nnode, const char *node)
{
    char ha[8][INET6_ADDRSTRLEN];
    if (node == NULL || node[0] == '\0') return 0;
    if (strcmp(host, node) == 0) return 1;
    size_t nh = resolve(host, ha, ARRAY_LEN(ha));
    for (size_t i = 0; i < nh; i++)
        for (size_t j = 0; j < nnode; j++)
            if (strcmp(ha[i], node_addrs[j]) == 0) return 1;
    return 0;
}

static int replica_cmp(const void *a, const void *b)
{
    const sentinel_replica *x = a, *y = b;
    int c = strcmp(x->addr.host, y->addr.host);
    return c ? c : x->addr.port - y->addr.port;
}

redisContext *bus_connect_replica(const char *url, const char *node, int timeout_ms, bus_peer *peer, char *err,
                                  size_t errlen)
{
    sentinel_url su;
    sentinel_replica all[SENTINEL_REPLICAS_MAX], order[SENTINEL_REPLICAS_MAX];
    size_t n, k = 0;
    char node_addrs[8][INET6_ADDRSTRLEN], tried[1024] = "";

    if (!sentinel_url_is(url)) {
        snprintf(err, errlen, "reading from 'replica' needs a redis+sentinel:// URL, got '%s'", url);
        return NULL;
    }
    if (sentinel_url_parse(url, &su, err, errlen) < 0) return NULL;
    if (sentinel_get_replicas(&su, all, ARRAY_LEN(all), &n, err, errlen) < 0) return NULL;
    /* Stable order, then the ones on this node, then the others rotated by
     * a hash of the node name. */
    qsort(all, n, sizeof *all, replica_cmp);
    size_t nnode = node && node[0] ? resolve(node, node_addrs, ARRAY_LEN(node_addrs)) : 0;
    unsigned h = hash_fnv1a32(node ? node : "", node ? strlen(node) : 0);
    sentinel_replica others[SENTINEL_REPLICAS_MAX];
    size_t nothers = 0;
    for (size_t i = 0; i < n; i++) {
        if (!all[i].usable) continue;
        if (on_node(all[i].addr.host, node_addrs, nnode, node)) order[k++] = all[i];
        else others[nothers++] = all[i];
    }
    for (size_t j = 0; j < nothers; j++) order[k++] = others[(j + h) % nothers];
    for (size_t i = 0; i < k; i++) {
        char where[300], why[700];
        sentinel_role role;
        size_t used = strlen(tried);
        redisContext *c = open_server(order[i].addr.host, order[i].addr.port, NULL, su.password, su.db, timeout_ms,
                                      where, sizeof where, why, sizeof why);
        if (c && ask_role(c, where, &role, why, sizeof why) == 0) {
            if (role.kind == SENTINEL_ROLE_REPLICA && role.link_up) {
                fill_peer(peer, where, SENTINEL_ROLE_REPLICA);
                return c;
            }
            snprintf(why, sizeof why, "%s is a %s%s%s", where, sentinel_role_name(role.kind),
                     role.kind == SENTINEL_ROLE_REPLICA ? " with its link to the master " : "",
                     role.kind == SENTINEL_ROLE_REPLICA ? role.state : "");
        }
        if (c) redisFree(c);
        snprintf(tried + used, sizeof tried - used, "%s%s", used ? "; " : "", why);
    }
    snprintf(err, errlen, "no replica of '%s' to read from (%zu listed by the Sentinels, %zu up%s%s)", su.master, n,
             k, k ? ": " : "", tried);
    return NULL;
}

int bus_master_addr(const char *url, char *out, size_t n)
{
    sentinel_url su;
    sentinel_addr a;
    char err[512];
    if (!sentinel_url_is(url) || sentinel_url_parse(url, &su, err, sizeof err) < 0 ||
        sentinel_get_master(&su, &a, err, sizeof err) < 0)
        return -1;
    sentinel_addr_format(&a, out, n);
    return 0;
}

int bus_master_moved(const char *url, const bus_peer *peer)
{
    char where[300];
    if (peer == NULL || peer->addr[0] == '\0' || bus_master_addr(url, where, sizeof where) < 0) return 0;
    return strcmp(where, peer->addr) != 0;
}

redisContext *bus_watch_open(const char *url, char *err, size_t errlen)
{
    sentinel_url su;
    if (!sentinel_url_is(url) || sentinel_url_parse(url, &su, err, errlen) < 0) return NULL;
    return sentinel_watch(&su, err, errlen);
}

int bus_watch_read(redisContext *w, const char *url)
{
    sentinel_url su;
    char err[256];
    int moved = 0;
    if (sentinel_url_parse(url, &su, err, sizeof err) < 0 || redisBufferRead(w) != REDIS_OK) return -1;
    for (;;) {
        redisReply *r = NULL;
        sentinel_addr to;
        if (redisGetReplyFromReader(w, (void **)&r) != REDIS_OK) return -1;
        if (r == NULL) return moved;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING &&
            sentinel_parse_switch(r->element[2]->str, r->element[2]->len, su.master, &to) == 0)
            moved = 1;
        freeReplyObject(r);
    }
}

int bus_reply_failover(const redisReply *r)
{
    static const char *const words[] = {"READONLY", "MASTERDOWN", "UNBLOCKED"};
    if (r == NULL || r->type != REDIS_REPLY_ERROR) return 0;
    for (size_t i = 0; i < ARRAY_LEN(words); i++) {
        size_t l = strlen(words[i]);
        if (strncmp(r->str, words[i], l) == 0 && (r->str[l] == ' ' || r->str[l] == '\0')) return 1;
    }
    return 0;
}

int bus_entry_id(const redisReply *e, bus_id *id)
{
    if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING)
        return -1;
    return bus_id_parse(e->element[0]->str, e->element[0]->len, id);
}

int bus_entry_parse(const redisReply *e, bus_id *id, const char **json, size_t *len)
{
    if (bus_entry_id(e, id) < 0 || e->element[1]->type != REDIS_REPLY_ARRAY) return -1;
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
