#include "api_filters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "buf.h"
#include "filter.h"
#include "filterdb.h"
#include "log.h"
#include "redisconn.h"
#include "util.h"

/* Answer a failed store call. */
static void store_error(http_req *req, int rc, const char *err)
{
    switch (rc) {
    case FILTERDB_NOT_FOUND: http_error(req, 404, "not_found", "%s", err); break;
    case FILTERDB_DUPLICATE: http_error(req, 409, "duplicate_name", "%s", err); break;
    case FILTERDB_FULL: http_error(req, 409, "too_many_filters", "%s", err); break;
    case FILTERDB_PRECONDITION: http_error(req, 412, "precondition_failed", "%s", err); break;
    default:
        http_error_headers(req, 503, "Retry-After: 2\r\n", "redis_unavailable", "filters are unavailable: %s", err);
        break;
    }
}

static void etag_header(buf *h, long long version)
{
    buf_printf(h, "ETag: \"%lld\"\r\n", version);
}

/* Answer status with f as JSON, its ETag and the header lines already in h. */
static void reply_filter(http_req *req, int status, const filter *f, buf *h)
{
    buf b = BUF_INIT;
    etag_header(h, f->version);
    filter_to_json(f, &b);
    http_reply_json(req, status, b.data, h->data);
    buf_free(&b);
}

/* The expected version from If-Match: -1 when absent or "*", the version for
 * one ETag. Returns 0, or -1 after answering (412 for an ETag that cannot be
 * ours, 400 for several). */
static int if_match(http_req *req, long long *version)
{
    const char *h = http_header(req, "If-Match");
    const char *why;
    char tmp[32];

    *version = -1;
    if (h == NULL) return 0;
    while (*h == ' ') h++;
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ') n--;
    if (n == 1 && h[0] == '*') return 0;
    if (memchr(h, ',', n)) {
        http_error(req, 400, "bad_request", "If-Match: give one ETag (as returned by GET), not a list");
        return -1;
    }
    /* If-Match compares strongly: a weak tag (W/"3") never matches. */
    if (n < 3 || h[0] != '"' || h[n - 1] != '"' || n - 2 >= sizeof tmp) goto no_match;
    memcpy(tmp, h + 1, n - 2);
    tmp[n - 2] = '\0';
    if (parse_ll(tmp, 1, (long long)1 << 62, version, &why) < 0) goto no_match;
    return 0;
no_match:
    http_error(req, 412, "precondition_failed", "If-Match does not match the filter's ETag");
    return -1;
}

/* Read and validate the body of a POST/PUT into f. 0 ok, -1 answered. */
static int read_filter(http_req *req, filter *f)
{
    buf body = BUF_INIT;
    filter_limits lim;
    char err[512];
    int rc = -1;

    if (http_read_json(req, &body) < 0) goto done;
    filter_limits_from_config(&lim, http_config(req));
    if (filter_parse(body.data ? body.data : "", body.len, &lim, f, err, sizeof err) < 0) {
        http_error(req, 400, "invalid_filter", "%s", err);
        goto done;
    }
    rc = 0;
done:
    buf_free(&body);
    return rc;
}

void api_filters_list(http_req *req)
{
    filterdb db = redisconn_filterdb(http_redis(req));
    filter *v = NULL;
    size_t n = 0;
    char err[512];
    buf b = BUF_INIT;

    authz_grant g;
    if (authz_require(req, AUTHZ_READ, &g) < 0) return;
    int rc = filterdb_list(&db, &v, &n, err, sizeof err);
    if (rc != FILTERDB_OK) {
        store_error(req, rc, err);
        authz_grant_free(&g);
        return;
    }
    buf_appends(&b, "{\"filters\":[");
    for (size_t i = 0, shown = 0; i < n; i++) {
        if (authz_grant_allows(&g, v[i].id)) {      /* a scoped reader token sees its filters only */
            if (shown++) buf_appendc(&b, ',');
            filter_to_json(&v[i], &b);
        }
        filter_free(&v[i]);
    }
    authz_grant_free(&g);
    buf_appends(&b, "]}");
    http_reply_json(req, 200, b.data, NULL);
    free(v);
    buf_free(&b);
}

void api_filters_create(http_req *req)
{
    filterdb db = redisconn_filterdb(http_redis(req));
    filter f;
    char err[512];
    buf h = BUF_INIT;

    memset(&f, 0, sizeof f);
    if (authz_require(req, AUTHZ_WRITE, NULL) < 0 || read_filter(req, &f) < 0) goto done;
    int rc = filterdb_create(&db, &f, err, sizeof err);
    if (rc != FILTERDB_OK) {
        store_error(req, rc, err);
        goto done;
    }
    /* Location: the request's own URI (whatever the mount point) + "/id". */
    const char *uri = http_env(req, "REQUEST_URI");
    size_t n = uri ? strcspn(uri, "?") : 0;
    while (n && uri[n - 1] == '/') n--;
    buf_appends(&h, "Location: ");
    if (n)
        buf_append(&h, uri, n);
    else
        buf_appends(&h, "/api/filters");
    buf_printf(&h, "/%s\r\n", f.id);
    reply_filter(req, 201, &f, &h);
    log_info("filters.created", "id=%s version=%lld", f.id, f.version);
done:
    filter_free(&f);
    buf_free(&h);
}

void api_filters_get(http_req *req)
{
    filterdb db = redisconn_filterdb(http_redis(req));
    filter f;
    char err[512], tag[32];
    buf h = BUF_INIT;

    authz_grant g;
    if (authz_require(req, AUTHZ_READ, &g) < 0) return;
    int allowed = authz_grant_allows(&g, http_path_arg(req, "id"));
    authz_grant_free(&g);
    if (!allowed) {
        http_error(req, 403, "forbidden", "filter %.32s is outside this token's scope", http_path_arg(req, "id"));
        return;
    }
    int rc = filterdb_get(&db, http_path_arg(req, "id"), &f, err, sizeof err);
    if (rc != FILTERDB_OK) {
        store_error(req, rc, err);
        return;
    }
    snprintf(tag, sizeof tag, "\"%lld\"", f.version);
    const char *inm = http_header(req, "If-None-Match");
    if (inm && (strstr(inm, tag) || strcmp(inm, "*") == 0)) {
        etag_header(&h, f.version);
        buf_appends(&h, "Cache-Control: no-cache\r\n");
        http_reply(req, 304, NULL, h.data, NULL, 0);
    } else {
        reply_filter(req, 200, &f, &h);
    }
    filter_free(&f);
    buf_free(&h);
}

void api_filters_put(http_req *req)
{
    filterdb db = redisconn_filterdb(http_redis(req));
    filter f;
    long long version;
    char err[512];
    buf h = BUF_INIT;

    memset(&f, 0, sizeof f);
    /* everything the headers decide (the token, If-Match) before the body */
    if (authz_require(req, AUTHZ_WRITE, NULL) < 0 || if_match(req, &version) < 0 || read_filter(req, &f) < 0) goto done;
    const char *id = http_path_arg(req, "id");
    int rc = filterdb_replace(&db, id, version, &f, err, sizeof err);
    if (rc != FILTERDB_OK) {
        store_error(req, rc, err);
        goto done;
    }
    reply_filter(req, 200, &f, &h);
    log_info("filters.replaced", "id=%s version=%lld", f.id, f.version);
done:
    filter_free(&f);
    buf_free(&h);
}

void api_filters_delete(http_req *req)
{
    filterdb db = redisconn_filterdb(http_redis(req));
    long long version;
    char err[512];

    if (authz_require(req, AUTHZ_WRITE, NULL) < 0 || if_match(req, &version) < 0) return;
    const char *id = http_path_arg(req, "id");
    int rc = filterdb_delete(&db, id, version, err, sizeof err);
    if (rc != FILTERDB_OK) {
        store_error(req, rc, err);
        return;
    }
    http_reply(req, 204, NULL, "Cache-Control: no-store\r\n", NULL, 0);
    log_info("filters.deleted", "id=%s", id);
}
