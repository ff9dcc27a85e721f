#include "router.h"

#include <string.h>

#include "api_filters.h"
#include "buf.h"
#include "api_tokens.h"
#include "api_tweets.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "stream.h"
#include "util.h"

struct route {
    const char *method;
    const char *pattern;
    router_handler handler;
};

/* One line per endpoint; the handlers' headers say what each answers. */
static const struct route routes[] = {
    {"GET", "/stream", stream_get},
    {"GET", "/api/health", health_get},
    {"GET", "/api/metrics", metrics_get},
    {"GET", "/api/filters", api_filters_list},
    {"POST", "/api/filters", api_filters_create},
    {"GET", "/api/filters/{id}", api_filters_get},
    {"PUT", "/api/filters/{id}", api_filters_put},
    {"DELETE", "/api/filters/{id}", api_filters_delete},
    {"GET", "/api/tweets", api_tweets_get},
    {"POST", "/api/tokens", api_tokens_create},
    {"POST", "/api/tokens/refresh", api_tokens_refresh},
};

/* Does pattern match path? Captures go to req when req is not NULL. No I/O. */
static int router_match(const char *pattern, const char *path, http_req *req)
{
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t n = strcspn(s, "/");
            if (close == NULL || n == 0) return 0;
            if (req) {
                char name[64];
                size_t nl = (size_t)(close - p - 1);
                if (nl >= sizeof name) nl = sizeof name - 1;
                memcpy(name, p + 1, nl);
                name[nl] = '\0';
                http_set_path_arg(req, name, s, n);
            }
            p = close + 1;
            s += n;
            continue;
        }
        if (*p != *s) return 0;
        p++;
        s++;
    }
    /* A single trailing slash is tolerated ("/api/filters/"). */
    if (*p == '\0' && s[0] == '/' && s[1] == '\0') return 1;
    return *p == '\0' && *s == '\0';
}

void router_dispatch(http_req *req)
{
    const char *path = http_path(req), *method = http_method(req);
    const char *why = http_req_invalid(req);
    buf allow = BUF_INIT;

    if (http_uri_length(req) > HTTP_URI_MAX) {
        http_error(req, 414, "uri_too_long",
                   "the request URI is %zu bytes, over the limit of %d (a longer ?q= belongs in a saved filter: "
                   "POST /api/filters)", http_uri_length(req), HTTP_URI_MAX);
        return;
    }
    if (why) {
        http_error(req, 400, "bad_request", "%s", why);
        return;
    }
    if (http_is_direct(req) && strcmp(path, "/stream") != 0) {
        http_error(req, 404, "not_found", "only /stream is served on this port; %s is served through the web server",
                   path);
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        if (!router_match(routes[i].pattern, path, NULL)) continue;
        /* HEAD is GET without the body (http_reply leaves it out) */
        if (strcmp(routes[i].method, method) == 0 || (http_is_head(req) && strcmp(routes[i].method, "GET") == 0)) {
            router_match(routes[i].pattern, path, req);
            routes[i].handler(req);
            if (!http_replied(req)) {
                log_error("http.no_answer", "method=%s path=%s", method, path);
                http_error(req, 500, "internal", "the handler gave no answer");
            }
            buf_free(&allow);
            return;
        }
        if (!strstr(allow.data ? allow.data : "", routes[i].method))
            buf_printf(&allow, "%s%s%s", allow.len ? ", " : "", routes[i].method,
                       strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
    }
    if (allow.len && strcmp(method, "OPTIONS") == 0) {
        http_preflight(req, allow.data);
    } else if (allow.len) {
        buf h = BUF_INIT;
        buf_printf(&h, "Allow: %s\r\n", allow.data);
        http_error_headers(req, 405, h.data, "method_not_allowed", "%s is not allowed on %s (allowed: %s)",
                           method, path, allow.data);
        buf_free(&h);
    } else {
        http_error(req, 404, "not_found", "no such resource: %s", path);
    }
    buf_free(&allow);
}
