/* http — one FastCGI request as an HTTP request/response for REST handlers.
 *
 * An acceptor thread wraps each accepted FCGX_Request in an http_req; the
 * router (router.h) calls a handler with it. Handlers read the method, the
 * path relative to the mount point, query parameters, headers and a bounded
 * body, and answer exactly once with http_reply* / http_error. Responses go
 * through libfcgi's blocking stream. JSON errors have the shape
 * {"error":{"code":"…","message":"…"}} (DESIGN §5).
 *
 * Each acceptor thread owns one http_ctx: the configuration and a Redis
 * command connection of its own, connected lazily and reconnected after an
 * error. Nothing here is shared between threads. */
#ifndef BIRDFEED_HTTP_H
#define BIRDFEED_HTTP_H

#include <stddef.h>

#include <fcgiapp.h>
#include <hiredis/hiredis.h>

#include "buf.h"
#include "config.h"
#include "query.h"

typedef struct http_ctx http_ctx;
typedef struct http_req http_req;

/* A per-thread context over cfg (which must outlive it). Free with http_ctx_free. */
http_ctx *http_ctx_new(const config *cfg);
void http_ctx_free(http_ctx *ctx);                 /* ctx may be NULL */

/* Wrap an accepted request. Never NULL. The path and query are parsed here;
 * when they are malformed, http_req_invalid() says why (the router answers 400). */
http_req *http_req_new(http_ctx *ctx, FCGX_Request *r);
/* Free the wrapper (not the FCGX_Request). req may be NULL. */
void http_req_free(http_req *req);
const char *http_req_invalid(const http_req *req); /* NULL when well-formed */

const config *http_config(const http_req *req);
const char *http_method(const http_req *req);      /* "GET"…, never NULL */
const char *http_path(const http_req *req);        /* "/api/health", relative to the mount point */
const query *http_query(const http_req *req);      /* decoded parameters (empty when invalid) */
const char *http_param(const http_req *req, const char *key);   /* first value or NULL */
/* A request header by its HTTP name ("Last-Event-ID", "Content-Type",
 * "Authorization"), or NULL. Owned by the request. */
const char *http_header(const http_req *req, const char *name);
/* A raw FastCGI parameter ("REMOTE_ADDR"), or NULL. */
const char *http_env(const http_req *req, const char *name);
/* A path argument captured by the router ("id" for "/api/filters/{id}"), or NULL. */
const char *http_path_arg(const http_req *req, const char *name);
void http_set_path_arg(http_req *req, const char *name, const char *value, size_t len);

/* Read the whole body into out (appended). 0 ok; -1 when it is larger than
 * max_body (413 already answered) or cannot be read (400 answered). */
int http_read_body(http_req *req, buf *out);
/* Like http_read_body, but first insists on Content-Type application/json
 * (415 otherwise). */
int http_read_json(http_req *req, buf *out);
/* Read and discard the rest of the request body. */
void http_drain_body(http_req *req);

/* Answer with status, Content-Type ctype, extra header lines (each ending in
 * "\r\n", may be NULL) and body[0..len). The first answer wins; later calls
 * are ignored (and logged). */
void http_reply(http_req *req, int status, const char *ctype, const char *extra_headers,
                const char *body, size_t len);
/* 200/201… with a JSON body (a NUL-terminated string). */
void http_reply_json(http_req *req, int status, const char *json, const char *extra_headers);
/* A JSON error: {"error":{"code":code,"message":<formatted>}}, no-store. */
void http_error(http_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void http_error_headers(http_req *req, int status, const char *extra_headers, const char *code,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Append CORS header lines when the request's Origin is in cors-origins. */
void http_cors_headers(const http_req *req, buf *out);
/* Answer an OPTIONS request (a CORS preflight) on a resource that takes the
 * comma-separated methods: 204 with Allow, plus the Access-Control-* headers
 * when the Origin is in cors_origins. */
void http_preflight(http_req *req, const char *methods);
int http_replied(const http_req *req);             /* 1 once an answer went out */
const char *http_status_text(int status);

/* The FastCGI request itself, for the stream handler that takes the
 * connection over. After http_detach(), the acceptor neither finishes nor
 * closes it: the caller owns the fd. */
FCGX_Request *http_fcgx(http_req *req);
void http_detach(http_req *req);
int http_detached(const http_req *req);

/* This thread's Redis command connection, connected (or reconnected) on
 * demand. NULL when Redis cannot be reached; the reason is in http_redis_error. */
redisContext *http_redis(http_req *req);
/* Run one command (hiredis format: pass values with %s/%b), reconnecting and
 * retrying once if the connection had dropped. Returns the reply (caller frees
 * with freeReplyObject; it may be a REDIS_REPLY_ERROR) or NULL when Redis is
 * unreachable (reason in http_redis_error). */
redisReply *http_redis_command(http_req *req, const char *fmt, ...);
const char *http_redis_error(const http_req *req);

#endif
