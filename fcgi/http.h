/* http — one FastCGI request as an HTTP request/response for REST handlers.
 *
 * An acceptor thread wraps each accepted FCGX_Request in an http_req (the
 * direct thread, direct.h, a request that came without a web server); the
 * router (router.h) calls a handler with it. Handlers read the method, the
 * path relative to the mount point, query parameters, headers and a bounded
 * body, and answer exactly once with http_reply* / http_error. Responses go
 * through libfcgi's blocking stream (a direct connection's: blocking sends,
 * as long as its send timeout). JSON errors have the shape
 * {"error":{"code":"…","message":"…"}}, the same for every endpoint.
 *
 * Each acceptor thread owns one http_ctx: the process context (proc.h), a
 * Redis command connection (redisconn.h) and an archive connection of its
 * own. Nothing here is shared between threads. */
#ifndef BIRDFEED_HTTP_H
#define BIRDFEED_HTTP_H

#include <stddef.h>

#include <fcgiapp.h>

#include "buf.h"
#include "config.h"
#include "proc.h"
#include "query.h"
#include "redisconn.h"
#include "store.h"

typedef struct http_ctx http_ctx;
typedef struct http_req http_req;

/* One acceptor thread's context over the process context p (which must
 * outlive it). Never NULL. Free with http_ctx_free, on the same thread. */
http_ctx *http_ctx_new(const proc *p);
/* Close the thread's connections and free ctx. ctx may be NULL. */
void http_ctx_free(http_ctx *ctx);

/* Wrap an accepted request. Never NULL. The path and query are parsed here;
 * when they are malformed, http_req_invalid() says why (the router answers 400). */
http_req *http_req_new(http_ctx *ctx, FCGX_Request *r);
/* Wrap a request that came without a web server (direct.h): its parameters
 * envp ("NAME=value" strings, NULL-terminated, as a web server would pass
 * them; the caller's, kept until http_req_free) on connection fd, which the
 * answer is written to as HTTP/1.1 with Connection: close. Never NULL. */
http_req *http_req_new_direct(http_ctx *ctx, int fd, char **envp);
/* 1 for a request of http_req_new_direct. */
int http_is_direct(const http_req *req);
/* Free the wrapper (not the FCGX_Request). req may be NULL. */
void http_req_free(http_req *req);
/* Why the path or query is malformed, or NULL when well-formed. */
const char *http_req_invalid(const http_req *req);

/* The longest request URI (path and query) birdfeed answers; longer ones get
 * 414. It must stay below what every web server in front accepts by
 * default, with room for the other request headers: nginx (a request line
 * of 8 KB: large_client_header_buffers), Apache (LimitRequestLine 8190) and
 * lighttpd (8 KB for the request line and every header together:
 * server.max-request-field-size) all pass a 4 KB URI with 4 KB of headers. */
#define HTTP_URI_MAX 4096
/* The length of the request URI (REQUEST_URI, else path + "?" + query). */
size_t http_uri_length(const http_req *req);

/* The process context the request is served in (never NULL). */
const proc *http_proc(const http_req *req);
/* The settings (http_proc(req)->cfg). */
const config *http_config(const http_req *req);
/* "GET", "POST"… (never NULL: "GET" when the web server passed none). */
const char *http_method(const http_req *req);
/* The path relative to the mount point ("/api/health"), never NULL. */
const char *http_path(const http_req *req);
/* The decoded query parameters (empty when the query is invalid). */
const query *http_query(const http_req *req);
/* The first value of query parameter key, or NULL. Owned by the request. */
const char *http_param(const http_req *req, const char *key);
/* A request header by its HTTP name ("Last-Event-ID", "Content-Type",
 * "Authorization"), or NULL. Owned by the request. */
const char *http_header(const http_req *req, const char *name);
/* A raw FastCGI parameter ("REMOTE_ADDR"), or NULL. */
const char *http_env(const http_req *req, const char *name);
/* A path argument captured by the router ("id" for "/api/filters/{id}"), or
 * NULL. Owned by the request. */
const char *http_path_arg(const http_req *req, const char *name);
/* For the router: name = value[0..len) (copied; at most 4 arguments). */
void http_set_path_arg(http_req *req, const char *name, const char *value, size_t len);

/* Read the whole body into out (appended). 0 ok; -1 after answering 413
 * (over max-body: from Content-Length before anything is read, else as
 * soon as it is), 408 (not all there within body-timeout-ms) or 400. A body
 * nobody reads is never waited for: http_finish leaves it to the closer. */
int http_read_body(http_req *req, buf *out);
/* Like http_read_body, but first insists on Content-Type application/json
 * (415, before reading anything). */
int http_read_json(http_req *req, buf *out);

/* Answer with status, Content-Type ctype, extra header lines (each ending in
 * "\r\n", may be NULL) and body[0..len). The first answer wins; later calls
 * are ignored (and logged). */
void http_reply(http_req *req, int status, const char *ctype, const char *extra_headers,
                const char *body, size_t len);
/* Headers only, without Content-Length: what a GET of a resource of no
 * known length (a stream) answers, for HEAD. */
void http_reply_unsized(http_req *req, int status, const char *ctype, const char *extra_headers);
/* Append the CGI header block of an answer to out: "Status: …", Content-Type
 * (ctype may be NULL), Content-Length (length < 0: none, as for a stream),
 * nosniff, CORS, extra_headers (may be NULL) and the blank line. */
void http_head(const http_req *req, buf *out, int status, const char *ctype, long long length,
               const char *extra_headers);
/* 1 for a HEAD request: answered like GET, without the body. */
int http_is_head(const http_req *req);
/* 200/201… with a JSON body (a NUL-terminated string), Cache-Control:
 * no-store and extra_headers (may be NULL). */
void http_reply_json(http_req *req, int status, const char *json, const char *extra_headers);
/* A JSON error: {"error":{"code":code,"message":<formatted>}}, no-store.
 * Bytes of the message that are not valid UTF-8 become '?'. */
void http_error(http_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* http_error with extra header lines (each ending in "\r\n", may be NULL). */
void http_error_headers(http_req *req, int status, const char *extra_headers, const char *code,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Answer an OPTIONS request (a CORS preflight) on a resource that takes the
 * comma-separated methods: 204 with Allow, plus the Access-Control-* headers
 * when the Origin is in cors_origins. */
void http_preflight(http_req *req, const char *methods);
/* 1 once an answer went out (or the request was detached). */
int http_replied(const http_req *req);

/* After the handler: end the request on the acceptor without waiting for
 * the peer. A kept FastCGI connection (keep-conn) whose body is all read
 * stays for the next request; any other is handed to the process's closer
 * (closer.h), which reads off what still comes and closes it, so that a
 * slow or stalled body never holds this thread. r may then accept again. */
void http_finish(http_req *req);

/* The stream handler takes the connection over: returns its fd, now the
 * caller's, with the FastCGI request id its answer is written under
 * (*request_id: 0 for a direct connection, whose bytes go out as they
 * are). The acceptor then neither answers, finishes nor closes it, and
 * the request's headers and parameters are gone (http_env gives NULL). */
int http_take_connection(http_req *req, unsigned *request_id);

/* This thread's Redis command connection (redisconn.h). Never NULL. */
redisconn *http_redis(http_req *req);
/* This thread's archive connection (lib/store.h), NULL until
 * http_set_store; the thread's http_ctx closes it when the thread ends. */
store *http_store(http_req *req);
/* Keep s (may be NULL) as this thread's archive connection, closing the one
 * kept before. */
void http_set_store(http_req *req, store *s);

#endif
