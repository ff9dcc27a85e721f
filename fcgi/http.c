#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "closer.h"
#include "counters.h"
#include "log.h"
#include "utf8.h"
#include "util.h"

#define BODY_LINGER_MS 100    /* keep-conn: how long the rest of an unread body may take */

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
    FCGX_Request *r;           /* NULL for a direct connection */
    char **envp;               /* the request's parameters, "NAME=value" */
    int fd;                    /* the connection */
    const char *method;
    buf path;
    query q;
    char invalid[256];
    struct path_arg args[4];
    size_t nargs;
    char hname[128];
    int replied;
    int detached;
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

/* A request over parameters envp on connection fd (r: its FastCGI request,
 * or NULL). */
static http_req *req_new(http_ctx *ctx, FCGX_Request *r, char **envp, int fd)
{
    http_req *req = xcalloc(1, sizeof *req);
    char why[200];
    req->ctx = ctx;
    req->r = r;
    req->envp = envp;
    req->fd = fd;
    req->method = http_env(req, "REQUEST_METHOD");
    if (req->method == NULL) req->method = "GET";
    if (query_mount_path(http_env(req, "SCRIPT_NAME"), http_env(req, "PATH_INFO"), http_env(req, "REQUEST_URI"),
                         http_env(req, "DOCUMENT_URI"), &req->path, why, sizeof why) < 0) {
        snprintf(req->invalid, sizeof req->invalid, "%s", why);
        buf_appends(&req->path, "/");
    }
    const char *qs = http_env(req, "QUERY_STRING");
    if (qs == NULL) {
        /* Some servers pass the query only inside REQUEST_URI. */
        const char *uri = http_env(req, "REQUEST_URI");
        const char *qm = uri ? strchr(uri, '?') : NULL;
        qs = qm ? qm + 1 : "";
    }
    if (req->invalid[0] == '\0' && query_parse(qs, strcspn(qs, "#"), &req->q, why, sizeof why) < 0)
        snprintf(req->invalid, sizeof req->invalid, "query string: %s", why);
    return req;
}

http_req *http_req_new(http_ctx *ctx, FCGX_Request *r)
{
    return req_new(ctx, r, r->envp, r->ipcFd);
}

http_req *http_req_new_direct(http_ctx *ctx, int fd, char **envp)
{
    return req_new(ctx, NULL, envp, fd);
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

size_t http_uri_length(const http_req *req)
{
    const char *uri = http_env(req, "REQUEST_URI"), *qs;
    size_t n;
    if (uri) return strlen(uri);
    qs = http_env(req, "QUERY_STRING");
    n = strlen(req->path.data);
    return qs && *qs ? n + 1 + strlen(qs) : n;
}
const proc *http_proc(const http_req *req) { return req->ctx->p; }
const config *http_config(const http_req *req) { return req->ctx->p->cfg; }
const char *http_method(const http_req *req) { return req->method; }
const char *http_path(const http_req *req) { return req->path.data; }
const query *http_query(const http_req *req) { return &req->q; }
const char *http_param(const http_req *req, const char *key) { return query_get(&req->q, key); }
int http_replied(const http_req *req) { return req->replied; }
int http_is_direct(const http_req *req) { return req->r == NULL; }

int http_take_connection(http_req *req, unsigned *request_id)
{
    int fd = req->fd;
    *request_id = 0;
    if (req->r) {
        *request_id = (unsigned)req->r->requestId;
        FCGX_Free(req->r, 0);          /* libfcgi's buffers go; the fd stays open, now the caller's */
    }
    req->envp = NULL;                  /* a FastCGI request's parameters went with them */
    req->detached = 1;
    req->replied = 1;
    return fd;
}

const char *http_env(const http_req *req, const char *name)
{
    return req->envp ? FCGX_GetParam(name, req->envp) : NULL;
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

/* The reason phrase of status ("Not Found"), "Unknown" for others. */
static const char *http_status_text(int status)
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
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* The request's Origin when cors_origins allows it (a comma-separated list;
 * "*" allows any), else NULL; *named (may be NULL) says whether the list
 * names it rather than allowing it by "*". Only a plain ASCII origin is ever
 * echoed: a control byte in a response header would make the web server
 * drop it all. */
static const char *cors_origin(const http_req *req, int *named)
{
    int star = 0;
    if (named) *named = 0;
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
        if (m == olen && memcmp(s, origin, m) == 0) {
            if (named) *named = 1;
            return origin;
        }
        if (m == 1 && *s == '*') star = 1;
        p += n;
        if (*p == ',') p++;
    }
    return star ? origin : NULL;
}

/* CORS header lines when the request's Origin is in cors-origins: echo it
 * back, and let scripts read the headers the API sets. On the stream-listen
 * port, an origin the list names may also send credentials (an EventSource
 * with withCredentials, for the reader-token cookie: the port is another
 * origin than the page's); one allowed only by "*" may not. */
static void http_cors_headers(const http_req *req, buf *h)
{
    int named;
    const char *origin = cors_origin(req, &named);
    if (origin == NULL) return;
    buf_printf(h, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
               "Access-Control-Expose-Headers: ETag, Location, Retry-After\r\n", origin);
    if (named && http_is_direct(req)) buf_appends(h, "Access-Control-Allow-Credentials: true\r\n");
}

void http_preflight(http_req *req, const char *methods)
{
    buf h = BUF_INIT;
    buf_printf(&h, "Allow: OPTIONS, %s\r\n", methods);
    if (cors_origin(req, NULL))
        buf_printf(&h, "Access-Control-Allow-Methods: %s\r\n"
                   "Access-Control-Allow-Headers: Authorization, Content-Type, If-Match, Last-Event-ID\r\n"
                   "Access-Control-Max-Age: 600\r\n", methods);
    http_reply(req, 204, NULL, h.data, NULL, 0);
    buf_free(&h);
}

void http_head(const http_req *req, buf *out, int status, const char *ctype, long long length,
               const char *extra_headers)
{
    if (http_is_direct(req))       /* no web server to turn Status: into a status line; the close ends the answer */
        buf_printf(out, "HTTP/1.1 %d %s\r\nConnection: close\r\n", status, http_status_text(status));
    else
        buf_printf(out, "Status: %d %s\r\n", status, http_status_text(status));
    if (ctype) buf_printf(out, "Content-Type: %s\r\n", ctype);
    if (length >= 0 && status != 204 && status != 304) buf_printf(out, "Content-Length: %lld\r\n", length);
    buf_appends(out, "X-Content-Type-Options: nosniff\r\n");
    http_cors_headers(req, out);
    if (extra_headers) buf_appends(out, extra_headers);
    buf_appends(out, "\r\n");
}

int http_is_head(const http_req *req)
{
    return strcmp(req->method, "HEAD") == 0;
}

/* Write data[0..len) of the answer: into libfcgi's stream, or to a direct
 * connection (blocking, as long as its send timeout lets it). */
static void put(http_req *req, const char *data, size_t len)
{
    if (req->r) {
        FCGX_PutStr(data, (int)len, req->r->out);
        return;
    }
    while (len > 0) {
        ssize_t n = send(req->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;              /* gone or not reading: the close ends it */
        data += n;
        len -= (size_t)n;
    }
}

/* The one answer: headers (with a length unless sized is 0), then the body
 * unless the request is HEAD or the status has none. */
static void reply(http_req *req, int status, const char *ctype, const char *extra_headers, const char *body,
                  size_t len, int sized)
{
    buf h = BUF_INIT;
    if (req->replied) {
        log_warn("http.reply_twice", "path=%s status=%d", req->path.data, status);
        return;
    }
    req->replied = 1;
    counters_http_status(req->ctx->p->counters, status);
    http_head(req, &h, status, ctype, sized ? (long long)len : -1, extra_headers);
    put(req, h.data, h.len);
    if (len && !http_is_head(req) && status != 204 && status != 304) put(req, body, len);
    buf_free(&h);
    log_debug("http.reply", "method=%s path=%s status=%d bytes=%zu", req->method, req->path.data, status, len);
}

void http_reply(http_req *req, int status, const char *ctype, const char *extra_headers,
                const char *body, size_t len)
{
    reply(req, status, ctype, extra_headers, body, len, 1);
}

void http_reply_unsized(http_req *req, int status, const char *ctype, const char *extra_headers)
{
    reply(req, status, ctype, extra_headers, NULL, 0, 0);
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

/* Set how long one read of the connection may block (0: for ever). */
static void read_timeout(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Bytes of the request body libfcgi holds already (its stream buffer). */
static size_t body_buffered(const FCGX_Stream *in)
{
    return (size_t)(in->stop - in->rdNext);
}

int http_read_body(http_req *req, buf *out)
{
    const config *cfg = http_config(req);
    FCGX_Stream *in;
    const char *cl = http_header(req, "Content-Length");
    long long declared = -1;
    uint64_t deadline = now_ms() + (uint64_t)cfg->body_timeout_ms;
    const char *why;
    char tmp[8192];
    size_t got = 0;

    if (req->r == NULL) {       /* the router sends no request with a body to a direct connection */
        http_error(req, 400, "bad_request", "no request body is read here");
        return -1;
    }
    in = req->r->in;
    if (cl && *cl && parse_ll(cl, 0, (long long)1 << 62, &declared, &why) < 0) {
        http_error(req, 400, "bad_request", "Content-Length '%s' is %s", cl, why);
        return -1;
    }
    if (declared > cfg->max_body) {
        http_error(req, 413, "too_large", "request body of %lld bytes is over the limit of %lld bytes", declared,
                   cfg->max_body);
        return -1;
    }
    for (;;) {
        size_t n = body_buffered(in);
        int k;
        if (n == 0) {
            /* libfcgi reads on (records it holds first, then the socket):
             * no read may block past the deadline */
            uint64_t now = now_ms();
            if (FCGX_HasSeenEOF(in)) break;
            if (now >= deadline) goto timeout;
            read_timeout(req->r->ipcFd, (int)(deadline - now));
            n = 1;
        }
        k = FCGX_GetStr(tmp, (int)(n < sizeof tmp ? n : sizeof tmp), in);
        if (k <= 0) break;
        got += (size_t)k;
        if ((long long)got > cfg->max_body) {
            http_error(req, 413, "too_large", "request body is over the limit of %lld bytes", cfg->max_body);
            return -1;
        }
        buf_append(out, tmp, (size_t)k);
    }
    if (FCGX_GetError(in) == EAGAIN || FCGX_GetError(in) == EWOULDBLOCK) goto timeout;
    if (FCGX_GetError(in) != 0) {
        http_error(req, 400, "bad_request", "the request body could not be read");
        return -1;
    }
    return 0;
timeout:
    http_error(req, 408, "request_timeout", "the request body did not arrive within %lld ms", cfg->body_timeout_ms);
    return -1;
}

/* Read the rest of the body if it comes at once (within BODY_LINGER_MS).
 * 1 when the body is complete (its end seen, no error), 0 otherwise. */
static int body_complete_now(http_req *req)
{
    FCGX_Stream *in = req->r->in;
    uint64_t deadline = now_ms() + BODY_LINGER_MS;
    char tmp[4096];
    for (;;) {
        size_t n = body_buffered(in);
        uint64_t now = now_ms();
        if (n == 0) {
            if (FCGX_HasSeenEOF(in)) return FCGX_GetError(in) == 0;
            if (now >= deadline) return 0;
            read_timeout(req->r->ipcFd, (int)(deadline - now));
            n = 1;
        }
        if (FCGX_GetStr(tmp, (int)(n < sizeof tmp ? n : sizeof tmp), in) <= 0)
            return FCGX_HasSeenEOF(in) && FCGX_GetError(in) == 0;
    }
}

void http_finish(http_req *req)
{
    FCGX_Request *r = req->r;
    int listen_sock, flags, fd;

    if (r == NULL) {                          /* a direct connection: answered, or the hub's */
        if (!req->detached) closer_add(req->ctx->p->closer, req->fd);
        return;
    }
    listen_sock = r->listen_sock;
    flags = r->flags;
    if (req->detached) {                      /* the hub has the connection */
        FCGX_InitRequest(r, listen_sock, flags);
        return;
    }
    if (r->keepConnection && body_complete_now(req)) {
        read_timeout(r->ipcFd, 0);
        FCGX_Finish_r(r);                     /* kept: the next request comes on it */
        return;
    }
    FCGX_FClose(r->err);                      /* the end of the answer (FCGI_END_REQUEST) */
    FCGX_FClose(r->out);
    fd = r->ipcFd;
    FCGX_Free(r, 0);                          /* libfcgi's buffers; the fd stays open */
    FCGX_InitRequest(r, listen_sock, flags);
    if (fd >= 0) closer_add(req->ctx->p->closer, fd);
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
