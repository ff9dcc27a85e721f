#include "http.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "log.h"
#include "utf8.h"
#include "util.h"

struct http_ctx {
    const proc *p;
    redisconn *redis;
    store *archive;
};

struct path_arg {
    char *name;
    char *value;
};

struct http_req {
    http_ctx *ctx;
    FCGX_Request *r;
    const char *method;
    buf path;
    query q;
    char invalid[256];
    struct path_arg args[4];
    size_t nargs;
    char hname[128];
    int replied;
    int detached;
    int body_read;
};

http_ctx *http_ctx_new(const proc *p)
{
    http_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->p = p;
    ctx->redis = redisconn_new(p->cfg);
    return ctx;
}

void http_ctx_free(http_ctx *ctx)
{
    if (ctx == NULL) return;
    redisconn_free(ctx->redis);
    store_close(ctx->archive);
    free(ctx);
}

http_req *http_req_new(http_ctx *ctx, FCGX_Request *r)
{
    http_req *req = xcalloc(1, sizeof *req);
    char why[200];
    req->ctx = ctx;
    req->r = r;
    req->method = FCGX_GetParam("REQUEST_METHOD", r->envp);
    if (req->method == NULL) req->method = "GET";
    if (query_mount_path(FCGX_GetParam("SCRIPT_NAME", r->envp), FCGX_GetParam("PATH_INFO", r->envp),
                         FCGX_GetParam("REQUEST_URI", r->envp), FCGX_GetParam("DOCUMENT_URI", r->envp),
                         &req->path, why, sizeof why) < 0) {
        snprintf(req->invalid, sizeof req->invalid, "%s", why);
        buf_appends(&req->path, "/");
    }
    const char *qs = FCGX_GetParam("QUERY_STRING", r->envp);
    if (qs == NULL) {
        /* Some servers pass the query only inside REQUEST_URI. */
        const char *uri = FCGX_GetParam("REQUEST_URI", r->envp);
        const char *qm = uri ? strchr(uri, '?') : NULL;
        qs = qm ? qm + 1 : "";
    }
    if (req->invalid[0] == '\0' && query_parse(qs, strcspn(qs, "#"), &req->q, why, sizeof why) < 0)
        snprintf(req->invalid, sizeof req->invalid, "query string: %s", why);
    return req;
}

void http_req_free(http_req *req)
{
    if (req == NULL) return;
    buf_free(&req->path);
    query_free(&req->q);
    for (size_t i = 0; i < req->nargs; i++) {
        free(req->args[i].name);
        free(req->args[i].value);
    }
    free(req);
}

const char *http_req_invalid(const http_req *req) { return req->invalid[0] ? req->invalid : NULL; }
const proc *http_proc(const http_req *req) { return req->ctx->p; }
const config *http_config(const http_req *req) { return req->ctx->p->cfg; }
const char *http_method(const http_req *req) { return req->method; }
const char *http_path(const http_req *req) { return req->path.data; }
const query *http_query(const http_req *req) { return &req->q; }
const char *http_param(const http_req *req, const char *key) { return query_get(&req->q, key); }
FCGX_Request *http_fcgx(http_req *req) { return req->r; }
void http_detach(http_req *req) { req->detached = 1; req->replied = 1; }
int http_detached(const http_req *req) { return req->detached; }
int http_replied(const http_req *req) { return req->replied; }

const char *http_env(const http_req *req, const char *name)
{
    return FCGX_GetParam(name, req->r->envp);
}

const char *http_header(const http_req *req, const char *name)
{
    char key[128];
    size_t j = 0;
    if (strcasecmp(name, "Content-Type") == 0) return http_env(req, "CONTENT_TYPE");
    if (strcasecmp(name, "Content-Length") == 0) return http_env(req, "CONTENT_LENGTH");
    j = (size_t)snprintf(key, sizeof key, "HTTP_");
    for (const char *p = name; *p && j + 1 < sizeof key; p++)
        key[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    key[j] = '\0';
    return http_env(req, key);
}

const char *http_path_arg(const http_req *req, const char *name)
{
    for (size_t i = 0; i < req->nargs; i++)
        if (strcmp(req->args[i].name, name) == 0) return req->args[i].value;
    return NULL;
}

void http_set_path_arg(http_req *req, const char *name, const char *value, size_t len)
{
    if (req->nargs == ARRAY_LEN(req->args)) return;
    req->args[req->nargs].name = xstrdup(name);
    req->args[req->nargs].value = xstrndup(value, len);
    req->nargs++;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* The request's Origin when cors_origins allows it (a comma-separated list;
 * "*" allows any), else NULL. Only a plain ASCII origin is ever echoed: a
 * control byte in a response header would make the web server drop it all. */
static const char *cors_origin(const http_req *req)
{
    const char *allow = http_config(req)->cors_origins;
    const char *origin = http_header(req, "Origin");
    if (allow == NULL || origin == NULL || *origin == '\0') return NULL;
    size_t olen = strlen(origin);
    if (olen > 512) return NULL;
    for (size_t i = 0; i < olen; i++)
        if ((unsigned char)origin[i] <= 0x20 || (unsigned char)origin[i] >= 0x7f) return NULL;
    for (const char *p = allow; *p;) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t m = n;
        while (m && *s == ' ') { s++; m--; }
        while (m && s[m - 1] == ' ') m--;
        if ((m == 1 && *s == '*') || (m == olen && memcmp(s, origin, m) == 0)) return origin;
        p += n;
        if (*p == ',') p++;
    }
    return NULL;
}

/* CORS: echo an allowed Origin back, and let scripts read the headers the API sets. */
void http_cors_headers(const http_req *req, buf *h)
{
    const char *origin = cors_origin(req);
    if (origin)
        buf_printf(h, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                   "Access-Control-Expose-Headers: ETag, Location, Retry-After\r\n", origin);
}

void http_preflight(http_req *req, const char *methods)
{
    buf h = BUF_INIT;
    buf_printf(&h, "Allow: OPTIONS, %s\r\n", methods);
    if (cors_origin(req))
        buf_printf(&h, "Access-Control-Allow-Methods: %s\r\n"
                   "Access-Control-Allow-Headers: Authorization, Content-Type, If-Match, Last-Event-ID\r\n"
                   "Access-Control-Max-Age: 600\r\n", methods);
    http_reply(req, 204, NULL, h.data, NULL, 0);
    buf_free(&h);
}

void http_reply(http_req *req, int status, const char *ctype, const char *extra_headers,
                const char *body, size_t len)
{
    buf h = BUF_INIT;
    if (req->replied) {
        log_warn("http.reply_twice", "path=%s status=%d", req->path.data, status);
        return;
    }
    req->replied = 1;
    counters_http_status(req->ctx->p->counters, status);
    if (!req->body_read) http_drain_body(req);
    buf_printf(&h, "Status: %d %s\r\n", status, http_status_text(status));
    if (ctype) buf_printf(&h, "Content-Type: %s\r\n", ctype);
    if (status != 204 && status != 304) buf_printf(&h, "Content-Length: %zu\r\n", len);
    buf_appends(&h, "X-Content-Type-Options: nosniff\r\n");
    http_cors_headers(req, &h);
    if (extra_headers) buf_appends(&h, extra_headers);
    buf_appends(&h, "\r\n");
    FCGX_PutStr(h.data, (int)h.len, req->r->out);
    if (len && strcmp(req->method, "HEAD") != 0 && status != 204 && status != 304)
        FCGX_PutStr(body, (int)len, req->r->out);
    buf_free(&h);
    log_debug("http.reply", "method=%s path=%s status=%d bytes=%zu", req->method, req->path.data, status, len);
}

void http_reply_json(http_req *req, int status, const char *json, const char *extra_headers)
{
    buf h = BUF_INIT;
    buf_appends(&h, "Cache-Control: no-store\r\n");
    if (extra_headers) buf_appends(&h, extra_headers);
    http_reply(req, status, "application/json; charset=utf-8", h.data, json, strlen(json));
    buf_free(&h);
}

static void error_v(http_req *req, int status, const char *extra, const char *code, const char *fmt, va_list ap)
{
    buf msg = BUF_INIT, body = BUF_INIT;
    buf_vprintf(&msg, fmt, ap);
    /* Messages may quote client input: keep only valid UTF-8 in the JSON. */
    if (utf8_validate(msg.data, msg.len, NULL) < 0) {
        for (size_t i = 0; i < msg.len; i++)
            if ((unsigned char)msg.data[i] >= 0x80) msg.data[i] = '?';
    }
    buf_appends(&body, "{\"error\":{\"code\":");
    buf_append_json_str(&body, code, strlen(code));
    buf_appends(&body, ",\"message\":");
    buf_append_json_str(&body, msg.data, msg.len);
    buf_appends(&body, "}}");
    http_reply_json(req, status, body.data, extra);
    buf_free(&msg);
    buf_free(&body);
}

void http_error(http_req *req, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_v(req, status, NULL, code, fmt, ap);
    va_end(ap);
}

void http_error_headers(http_req *req, int status, const char *extra_headers, const char *code,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_v(req, status, extra_headers, code, fmt, ap);
    va_end(ap);
}

void http_drain_body(http_req *req)
{
    char tmp[4096];
    req->body_read = 1;
    while (FCGX_GetStr(tmp, sizeof tmp, req->r->in) > 0) {
    }
}

int http_read_body(http_req *req, buf *out)
{
    long long max = http_config(req)->max_body;
    const char *cl = http_header(req, "Content-Length");
    long long declared = -1;
    const char *why;
    char tmp[8192];
    size_t got = 0;
    int n;

    if (cl && *cl && parse_ll(cl, 0, (long long)1 << 62, &declared, &why) < 0) {
        http_error(req, 400, "bad_request", "Content-Length '%s' is %s", cl, why);
        return -1;
    }
    if (declared > max) {
        http_error(req, 413, "too_large", "request body of %lld bytes is over the limit of %lld bytes", declared, max);
        return -1;
    }
    req->body_read = 1;
    while ((n = FCGX_GetStr(tmp, sizeof tmp, req->r->in)) > 0) {
        got += (size_t)n;
        if ((long long)got > max) {
            http_drain_body(req);
            http_error(req, 413, "too_large", "request body is over the limit of %lld bytes", max);
            return -1;
        }
        buf_append(out, tmp, (size_t)n);
    }
    return 0;
}

int http_read_json(http_req *req, buf *out)
{
    const char *ct = http_header(req, "Content-Type");
    size_t n = ct ? strcspn(ct, ";") : 0;
    while (n && ct[n - 1] == ' ') n--;
    if (ct == NULL || n != 16 || strncasecmp(ct, "application/json", 16) != 0) {
        http_error(req, 415, "unsupported_media_type", "the body must be JSON (Content-Type: application/json), got %s",
                   ct ? ct : "no Content-Type");
        return -1;
    }
    return http_read_body(req, out);
}

redisconn *http_redis(http_req *req) { return req->ctx->redis; }
store *http_store(http_req *req) { return req->ctx->archive; }

void http_set_store(http_req *req, store *s)
{
    if (req->ctx->archive != s) store_close(req->ctx->archive);
    req->ctx->archive = s;
}
