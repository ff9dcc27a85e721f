#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int query_decode(const char *s, size_t len, int plus_is_space, buf *out, char *err, size_t errlen)
{
    size_t start = out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(err, errlen, "malformed percent escape at byte %zu", i);
                goto fail;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == 0) {
            snprintf(err, errlen, "NUL byte not allowed");
            goto fail;
        }
        buf_appendc(out, (char)c);
    }
    if (utf8_validate(out->data ? out->data + start : "", out->len - start, NULL) < 0) {
        snprintf(err, errlen, "invalid UTF-8");
        goto fail;
    }
    return 0;
fail:
    out->len = start;
    if (out->data) out->data[start] = '\0';
    return -1;
}

/* Can s[0..n) be quoted in an error message (which ends up in JSON bodies
 * and log lines)? Valid UTF-8 without control characters. */
static int quotable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return utf8_validate(s, n, NULL) == 0;
}

/* The parameter name for an error message: at most 40 bytes, cut on a
 * character boundary, or "at byte N" when it cannot be quoted. */
static void name_for_error(const char *k, size_t klen, size_t at, char *out, size_t outlen)
{
    size_t n = klen > 40 ? 40 : klen;
    while (n < klen && n > 0 && ((unsigned char)k[n] & 0xC0) == 0x80) n--;
    if (n > 0 && quotable(k, n))
        snprintf(out, outlen, "'%.*s%s'", (int)n, k, n < klen ? "…" : "");
    else
        snprintf(out, outlen, "at byte %zu", at);
}

int query_parse(const char *s, size_t len, query *q, char *err, size_t errlen)
{
    char name[64];
    buf kb = BUF_INIT, vb = BUF_INIT;
    size_t cap = 0;
    char why[128];
    size_t i = 0;

    q->params = NULL;
    q->n = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&' && s[end] != ';') end++;
        if (end > i) {
            const char *eq = memchr(s + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (s + i)) : end - i;
            buf_reset(&kb);
            buf_reset(&vb);
            if (query_decode(s + i, klen, 1, &kb, why, sizeof why) < 0) {
                name_for_error(s + i, klen, i, name, sizeof name);
                snprintf(err, errlen, "parameter name %s: %s", name, why);
                goto fail;
            }
            if (kb.len == 0) {
                snprintf(err, errlen, "empty parameter name at byte %zu", i);
                goto fail;
            }
            if (eq && query_decode(eq + 1, (size_t)(s + end - eq - 1), 1, &vb, why, sizeof why) < 0) {
                name_for_error(kb.data, kb.len, i, name, sizeof name);
                snprintf(err, errlen, "parameter %s: %s", name, why);
                goto fail;
            }
            if (q->n == cap) {
                cap = cap ? cap * 2 : 4;
                q->params = xrealloc(q->params, cap * sizeof *q->params);
            }
            q->params[q->n].key = xstrdup(kb.data);
            q->params[q->n].value = xstrdup(vb.data ? vb.data : "");
            q->n++;
        }
        i = end + 1;
    }
    buf_free(&kb);
    buf_free(&vb);
    return 0;
fail:
    buf_free(&kb);
    buf_free(&vb);
    query_free(q);
    return -1;
}

void query_free(query *q)
{
    if (q == NULL) return;
    for (size_t i = 0; i < q->n; i++) {
        free(q->params[i].key);
        free(q->params[i].value);
    }
    free(q->params);
    q->params = NULL;
    q->n = 0;
}

const char *query_get_nth(const query *q, const char *key, size_t i)
{
    for (size_t k = 0; k < q->n; k++)
        if (strcmp(q->params[k].key, key) == 0 && i-- == 0) return q->params[k].value;
    return NULL;
}

const char *query_get(const query *q, const char *key)
{
    return query_get_nth(q, key, 0);
}

size_t query_count(const query *q, const char *key)
{
    size_t n = 0;
    for (size_t k = 0; k < q->n; k++)
        if (strcmp(q->params[k].key, key) == 0) n++;
    return n;
}

const char *query_unknown_key(const query *q, const char *const *allowed)
{
    for (size_t k = 0; k < q->n; k++) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, q->params[k].key) != 0) a++;
        if (*a == NULL) return q->params[k].key;
    }
    return NULL;
}

/* Offset of the route part of path: its first "/api" segment, else a final
 * "/stream" segment; -1 when neither is there. */
static long route_offset(const char *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (p[i] == '/' && memcmp(p + i, "/api", 4) == 0 && (i + 4 == n || p[i + 4] == '/')) return (long)i;
    size_t e = n;
    if (e > 0 && p[e - 1] == '/') e--;
    if (e >= 7 && memcmp(p + e - 7, "/stream", 7) == 0) return (long)(e - 7);
    return -1;
}

int query_mount_path(const char *script_name, const char *path_info,
                     const char *request_uri, const char *document_uri,
                     buf *out, char *err, size_t errlen)
{
    buf cand[3] = {BUF_INIT, BUF_INIT, BUF_INIT};
    char why[128];
    int rc = 0;

    if (script_name) buf_appends(&cand[0], script_name);
    if (path_info) buf_appends(&cand[0], path_info);
    if (document_uri) buf_appends(&cand[1], document_uri);
    if (request_uri && *request_uri) {
        size_t n = strcspn(request_uri, "?#");
        if (query_decode(request_uri, n, 0, &cand[2], why, sizeof why) < 0 && cand[0].len == 0 && cand[1].len == 0) {
            snprintf(err, errlen, "request path: %s", why);
            rc = -1;
            goto done;
        }
    }
    for (int k = 0; k < 3; k++) {
        /* Web servers pass SCRIPT_NAME and PATH_INFO already decoded: any byte may be there. */
        if (utf8_validate(cand[k].data ? cand[k].data : "", cand[k].len, NULL) < 0) {
            snprintf(err, errlen, "request path: invalid UTF-8");
            rc = -1;
            goto done;
        }
    }
    for (int k = 0; k < 3; k++) {
        long off = route_offset(cand[k].data ? cand[k].data : "", cand[k].len);
        if (off >= 0) {
            if (memcmp(cand[k].data + off, "/api", 4) == 0)
                buf_append(out, cand[k].data + off, cand[k].len - (size_t)off);
            else
                buf_appends(out, "/stream");   /* also "/stream/" */
            goto done;
        }
    }
    for (int k = 0; k < 3; k++)
        if (cand[k].len) {
            buf_append(out, cand[k].data, cand[k].len);
            goto done;
        }
    buf_appendc(out, '/');
done:
    for (int k = 0; k < 3; k++) buf_free(&cand[k]);
    return rc;
}
