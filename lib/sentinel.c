#include "sentinel.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "util.h"

#define SCHEME "redis+sentinel://"
#define SCHEME_LEN (sizeof SCHEME - 1)

/* ---- the URL ---------------------------------------------------------------- */

int sentinel_url_is(const char *url)
{
    return url != NULL && strncmp(url, SCHEME, SCHEME_LEN) == 0;
}

/* One "host[:port]" or "[v6][:port]" of the list, s[0..n), the k-th (1-based). */
static int parse_addr(const char *url, const char *s, size_t n, size_t k, sentinel_addr *a, char *err, size_t errlen)
{
    const char *host = s, *port = NULL;
    size_t hlen;
    if (n == 0) {
        snprintf(err, errlen, "Sentinel URL '%s': Sentinel address %zu is empty", url, k);
        return -1;
    }
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (rb == NULL) {
            snprintf(err, errlen, "Sentinel URL '%s': Sentinel address %zu has no ']' after its IPv6 address", url, k);
            return -1;
        }
        host = s + 1;
        hlen = (size_t)(rb - host);
        if (rb + 1 < s + n) {
            if (rb[1] != ':') {
                snprintf(err, errlen, "Sentinel URL '%s': Sentinel address %zu: only ':PORT' may follow ']'", url, k);
                return -1;
            }
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        hlen = colon ? (size_t)(colon - s) : n;
        if (colon) {
            port = colon + 1;
            if (memchr(port, ':', (size_t)(s + n - port))) {
                snprintf(err, errlen, "Sentinel URL '%s': Sentinel address %zu: write an IPv6 address in brackets, "
                         "as [::1]:26379", url, k);
                return -1;
            }
        }
    }
    if (hlen == 0) {
        snprintf(err, errlen, "Sentinel URL '%s': Sentinel address %zu has no host", url, k);
        return -1;
    }
    if (hlen >= sizeof a->host) {
        snprintf(err, errlen, "Sentinel URL '%s': Sentinel address %zu: host name too long", url, k);
        return -1;
    }
    for (size_t i = 0; i < hlen; i++)
        if ((unsigned char)host[i] <= ' ' || host[i] == '@' || host[i] == '/') {
            snprintf(err, errlen, "Sentinel URL '%s': Sentinel address %zu: invalid character in the host", url, k);
            return -1;
        }
    memcpy(a->host, host, hlen);
    a->host[hlen] = '\0';
    a->port = SENTINEL_DEFAULT_PORT;
    if (port && parse_int_n(port, (size_t)(s + n - port), 1, 65535, &a->port) < 0) {
        snprintf(err, errlen, "Sentinel URL '%s': the port of Sentinel address %zu must be 1..65535, got '%.*s'", url,
                 k, (int)(s + n - port), port);
        return -1;
    }
    return 0;
}

int sentinel_url_parse(const char *url, sentinel_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (!sentinel_url_is(url)) {
        snprintf(err, errlen, "Sentinel URL '%s': must start with " SCHEME, url ? url : "");
        return -1;
    }
    const char *p = url + SCHEME_LEN;
    const char *slash = strchr(p, '/');
    const char *hosts_end = slash ? slash : p + strlen(p);

    /* [:password@] — the last '@' before the path. */
    const char *at = NULL;
    for (const char *q = p; q < hosts_end; q++)
        if (*q == '@') at = q;
    if (at) {
        if (p[0] != ':') {
            snprintf(err, errlen, "Sentinel URL '%s': user names are not supported; write the password as "
                     SCHEME ":PASSWORD@…", url);
            return -1;
        }
        size_t pwlen = (size_t)(at - p - 1);
        if (pwlen == 0) {
            snprintf(err, errlen, "Sentinel URL '%s': empty password before '@'", url);
            return -1;
        }
        if (pwlen >= sizeof u->password) {
            snprintf(err, errlen, "Sentinel URL '%s': password too long", url);
            return -1;
        }
        memcpy(u->password, p + 1, pwlen);
        p = at + 1;
    }

    /* host1:port1,host2:port2,… */
    if (p == hosts_end) {
        snprintf(err, errlen, "Sentinel URL '%s': no Sentinel address before the master name", url);
        return -1;
    }
    for (const char *s = p; s <= hosts_end;) {
        const char *comma = memchr(s, ',', (size_t)(hosts_end - s));
        const char *e = comma ? comma : hosts_end;
        if (u->n == SENTINEL_MAX) {
            snprintf(err, errlen, "Sentinel URL '%s': more than %d Sentinel addresses", url, SENTINEL_MAX);
            return -1;
        }
        if (parse_addr(url, s, (size_t)(e - s), u->n + 1, &u->sentinels[u->n], err, errlen) < 0) return -1;
        u->n++;
        if (comma == NULL) break;
        s = comma + 1;
    }

    /* /MASTERNAME[/db] */
    if (slash == NULL || slash[1] == '\0' || slash[1] == '/') {
        snprintf(err, errlen, "Sentinel URL '%s': no master name: end the URL with /MASTERNAME (the name the "
                 "Sentinels monitor)", url);
        return -1;
    }
    const char *name = slash + 1;
    const char *name_end = strchr(name, '/');
    size_t nlen = name_end ? (size_t)(name_end - name) : strlen(name);
    if (nlen >= sizeof u->master) {
        snprintf(err, errlen, "Sentinel URL '%s': master name too long (at most %zu bytes)", url,
                 sizeof u->master - 1);
        return -1;
    }
    for (size_t i = 0; i < nlen; i++)
        if ((unsigned char)name[i] <= ' ' || name[i] == '?' || name[i] == '#' || name[i] == 0x7f) {
            snprintf(err, errlen, "Sentinel URL '%s': the master name may not contain spaces, control characters, "
                     "'?' or '#'", url);
            return -1;
        }
    memcpy(u->master, name, nlen);
    u->master[nlen] = '\0';
    if (name_end && name_end[1] != '\0' && parse_int_n(name_end + 1, strlen(name_end + 1), 0, 1000000, &u->db) < 0) {
        snprintf(err, errlen, "Sentinel URL '%s': the database after the master name must be a number 0..1000000, "
                 "got '%s'", url, name_end + 1);
        return -1;
    }
    return 0;
}

char *sentinel_addr_format(const sentinel_addr *a, char *out, size_t n)
{
    if (strchr(a->host, ':')) snprintf(out, n, "[%s]:%d", a->host, a->port);
    else snprintf(out, n, "%s:%d", a->host, a->port);
    return out;
}

/* ---- replies ------------------------------------------------------------------- */

static int reply_error(const redisReply *r, char *err, size_t errlen)
{
    if (r == NULL) snprintf(err, errlen, "no reply");
    else if (r->type == REDIS_REPLY_ERROR) snprintf(err, errlen, "%s", r->str);
    else snprintf(err, errlen, "unexpected reply (type %d)", r->type);
    return -1;
}

static int is_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* host (a string) and port (a string or an integer) into a. 0 ok, -1 not. */
static int addr_from(const redisReply *host, const redisReply *port, sentinel_addr *a)
{
    if (!is_str(host) || host->len == 0 || host->len >= sizeof a->host) return -1;
    if (port == NULL) return -1;
    if (port->type == REDIS_REPLY_INTEGER) {
        if (port->integer < 1 || port->integer > 65535) return -1;
        a->port = (int)port->integer;
    } else if (!is_str(port) || parse_int_n(port->str, port->len, 1, 65535, &a->port) < 0) {
        return -1;
    }
    memcpy(a->host, host->str, host->len);
    a->host[host->len] = '\0';
    return 0;
}

static long long num_of(const redisReply *r)
{
    long long v;
    const char *why;
    char tmp[24];
    if (r == NULL) return -1;
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (!is_str(r) || r->len == 0 || r->len >= sizeof tmp) return -1;
    memcpy(tmp, r->str, r->len);
    tmp[r->len] = '\0';
    return parse_ll(tmp, 0, (long long)(~0ULL >> 1), &v, &why) == 0 ? v : -1;
}

int sentinel_parse_master(const redisReply *r, sentinel_addr *out, char *err, size_t errlen)
{
    if (r && r->type == REDIS_REPLY_NIL) {
        snprintf(err, errlen, "knows no master by that name");
        return -1;
    }
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) return reply_error(r, err, errlen);
    if (r->elements != 2 || addr_from(r->element[0], r->element[1], out) < 0) {
        snprintf(err, errlen, "unexpected reply: not [host, port]");
        return -1;
    }
    return 0;
}

/* The value of field name in a flat [field, value, …] array, or NULL. */
static const redisReply *field(const redisReply *flat, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + 1 < flat->elements; i += 2) {
        const redisReply *f = flat->element[i];
        if (is_str(f) && f->len == n && memcmp(f->str, name, n) == 0) return flat->element[i + 1];
    }
    return NULL;
}

static int field_is(const redisReply *flat, const char *name, const char *want)
{
    const redisReply *v = field(flat, name);
    return is_str(v) && v->len == strlen(want) && memcmp(v->str, want, v->len) == 0;
}

/* Is word one of the comma-separated flags in v? */
static int has_flag(const redisReply *v, const char *word)
{
    size_t wl = strlen(word);
    if (!is_str(v)) return 0;
    for (const char *s = v->str, *end = v->str + v->len; s < end;) {
        const char *c = memchr(s, ',', (size_t)(end - s));
        const char *e = c ? c : end;
        if ((size_t)(e - s) == wl && memcmp(s, word, wl) == 0) return 1;
        s = e + 1;
    }
    return 0;
}

int sentinel_parse_replicas(const redisReply *r, sentinel_replica *out, size_t max, size_t *n, char *err,
                            size_t errlen)
{
    *n = 0;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) return reply_error(r, err, errlen);
    for (size_t i = 0; i < r->elements && *n < max; i++) {
        const redisReply *e = r->element[i];
        sentinel_replica *s = &out[*n];
        if (e->type != REDIS_REPLY_ARRAY || addr_from(field(e, "ip"), field(e, "port"), &s->addr) < 0) continue;
        const redisReply *flags = field(e, "flags");
        s->usable = is_str(flags) && !has_flag(flags, "s_down") && !has_flag(flags, "o_down") &&
                    !has_flag(flags, "disconnected") && field_is(e, "master-link-status", "ok") &&
                    field_is(e, "role-reported", "slave");
        s->offset = num_of(field(e, "slave-repl-offset"));
        (*n)++;
    }
    return 0;
}

const char *sentinel_role_name(enum sentinel_role_kind k)
{
    switch (k) {
    case SENTINEL_ROLE_MASTER: return "master";
    case SENTINEL_ROLE_REPLICA: return "replica";
    case SENTINEL_ROLE_SENTINEL: return "sentinel";
    }
    return "unknown";
}

int sentinel_parse_role(const redisReply *r, sentinel_role *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->offset = -1;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) return reply_error(r, err, errlen);
    if (r->elements < 1 || !is_str(r->element[0])) goto bad;
    const char *kind = r->element[0]->str;
    if (strcmp(kind, "master") == 0) {
        if (r->elements != 3 || r->element[2]->type != REDIS_REPLY_ARRAY) goto bad;
        out->kind = SENTINEL_ROLE_MASTER;
        out->offset = num_of(r->element[1]);
        const redisReply *list = r->element[2];
        for (size_t i = 0; i < list->elements && out->nreplicas < SENTINEL_REPLICAS_MAX; i++) {
            const redisReply *e = list->element[i];
            sentinel_replica *s = &out->replicas[out->nreplicas];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 3 || addr_from(e->element[0], e->element[1], &s->addr) < 0)
                goto bad;
            s->usable = 1;
            s->offset = num_of(e->element[2]);
            out->nreplicas++;
        }
        return 0;
    }
    if (strcmp(kind, "slave") == 0 || strcmp(kind, "replica") == 0) {
        if (r->elements != 5 || addr_from(r->element[1], r->element[2], &out->master) < 0 || !is_str(r->element[3]))
            goto bad;
        out->kind = SENTINEL_ROLE_REPLICA;
        strlcpy_safe(out->state, r->element[3]->str, sizeof out->state);
        out->link_up = strcmp(out->state, "connected") == 0;
        out->offset = num_of(r->element[4]);
        return 0;
    }
    if (strcmp(kind, "sentinel") == 0) {
        out->kind = SENTINEL_ROLE_SENTINEL;
        return 0;
    }
bad:
    snprintf(err, errlen, "unexpected ROLE reply");
    return -1;
}

int sentinel_parse_switch(const char *msg, size_t len, const char *master, sentinel_addr *out)
{
    /* NAME oldhost oldport newhost newport */
    const char *w[5];
    size_t wl[5], k = 0;
    const char *s = msg, *end = msg + len;
    while (s < end && k < 5) {
        const char *sp = memchr(s, ' ', (size_t)(end - s));
        const char *e = sp ? sp : end;
        if (e == s) return -1;
        w[k] = s;
        wl[k++] = (size_t)(e - s);
        s = sp ? sp + 1 : end;
    }
    if (k != 5 || s != end) return -1;
    if (wl[0] != strlen(master) || memcmp(w[0], master, wl[0]) != 0) return -1;
    if (wl[3] == 0 || wl[3] >= sizeof out->host || parse_int_n(w[4], wl[4], 1, 65535, &out->port) < 0) return -1;
    memcpy(out->host, w[3], wl[3]);
    out->host[wl[3]] = '\0';
    return 0;
}

/* ---- asking the Sentinels ---------------------------------------------------------- */

/* The Sentinel that answered last (an index into the URL's list); the next
 * question starts there, as the Sentinel client guidelines advise. */
static atomic_int preferred;

static redisContext *connect_to(const sentinel_addr *a, char *err, size_t errlen)
{
    struct timeval tv = {SENTINEL_TIMEOUT_MS / 1000, (SENTINEL_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(a->host, a->port, tv);
    if (c == NULL) {
        snprintf(err, errlen, "cannot allocate a connection");
        return NULL;
    }
    if (c->err) {
        snprintf(err, errlen, "%s", c->errstr);
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

/* Append "; host:port: why" to the summary in err. */
static void note(char *err, size_t errlen, const sentinel_addr *a, const char *why)
{
    char where[300];
    size_t used = strlen(err);
    if (used + 1 >= errlen) return;
    snprintf(err + used, errlen - used, "%s%s: %s", used ? "; " : "", sentinel_addr_format(a, where, sizeof where), why);
}

typedef int (*ask_fn)(redisContext *c, const sentinel_url *u, void *out, char *why, size_t whylen);

/* Ask each Sentinel in turn until ask succeeds. With keep, the connection
 * that succeeded is handed to the caller instead of being closed. what names
 * the question for the error message. */
static int ask_in_turn(const sentinel_url *u, ask_fn ask, void *out, redisContext **keep, const char *what, char *err,
                       size_t errlen)
{
    char summary[1024] = "";
    size_t start = (size_t)atomic_load_explicit(&preferred, memory_order_relaxed) % u->n;
    for (size_t i = 0; i < u->n; i++) {
        size_t k = (start + i) % u->n;
        char why[256];
        redisContext *c = connect_to(&u->sentinels[k], why, sizeof why);
        if (c == NULL) {
            note(summary, sizeof summary, &u->sentinels[k], why);
            continue;
        }
        int rc = ask(c, u, out, why, sizeof why);
        if (rc == 0) {
            atomic_store_explicit(&preferred, (int)k, memory_order_relaxed);
            if (keep) *keep = c;
            else redisFree(c);
            return 0;
        }
        redisFree(c);
        note(summary, sizeof summary, &u->sentinels[k], why);
    }
    snprintf(err, errlen, "no Sentinel %s '%s' (%s)", what, u->master, summary);
    return -1;
}

/* SENTINEL sub master, its reply into *r. 0 ok, -1 the connection failed (why). */
static int ask_one(redisContext *c, const char *sub, const char *master, char *why, size_t whylen, redisReply **r)
{
    *r = redisCommand(c, "SENTINEL %s %s", sub, master);
    if (*r == NULL) {
        snprintf(why, whylen, "%s", c->errstr[0] ? c->errstr : "connection lost");
        return -1;
    }
    return 0;
}

static int ask_master(redisContext *c, const sentinel_url *u, void *out, char *why, size_t whylen)
{
    redisReply *r;
    if (ask_one(c, "get-master-addr-by-name", u->master, why, whylen, &r) < 0) return -1;
    int rc = sentinel_parse_master(r, out, why, whylen);
    freeReplyObject(r);
    return rc;
}

int sentinel_get_master(const sentinel_url *u, sentinel_addr *out, char *err, size_t errlen)
{
    return ask_in_turn(u, ask_master, out, NULL, "could name the master", err, errlen);
}

struct replicas_out {
    sentinel_replica *v;
    size_t max, *n;
};

static int ask_replicas(redisContext *c, const sentinel_url *u, void *out, char *why, size_t whylen)
{
    struct replicas_out *o = out;
    redisReply *r;
    if (ask_one(c, "replicas", u->master, why, whylen, &r) < 0) return -1;
    int rc = sentinel_parse_replicas(r, o->v, o->max, o->n, why, whylen);
    freeReplyObject(r);
    return rc;
}

int sentinel_get_replicas(const sentinel_url *u, sentinel_replica *out, size_t max, size_t *n, char *err,
                          size_t errlen)
{
    struct replicas_out o = {out, max, n};
    *n = 0;
    return ask_in_turn(u, ask_replicas, &o, NULL, "could list the replicas of", err, errlen);
}

static int ask_watch(redisContext *c, const sentinel_url *u, void *out, char *why, size_t whylen)
{
    (void)u;
    (void)out;
    redisReply *r = redisCommand(c, "SUBSCRIBE +switch-master");
    int rc = r && r->type == REDIS_REPLY_ARRAY ? 0 : -1;
    if (r == NULL) snprintf(why, whylen, "%s", c->errstr[0] ? c->errstr : "connection lost");
    else if (rc < 0) reply_error(r, why, whylen);
    freeReplyObject(r);
    return rc;
}

redisContext *sentinel_watch(const sentinel_url *u, char *err, size_t errlen)
{
    redisContext *c = NULL;
    struct timeval none = {0, 0};
    if (ask_in_turn(u, ask_watch, NULL, &c, "answered to watch for failovers of", err, errlen) < 0) return NULL;
    redisSetTimeout(c, none);
    return c;
}
