#include "api_tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "authz.h"
#include "buf.h"
#include "jdoc.h"
#include "log.h"
#include "util.h"

static int reader_tokens_on(http_req *req)
{
    if (authz_readers_on(http_proc(req)->authz)) return 1;
    http_error(req, 404, "reader_tokens_off", "reader tokens are off here (the responder has no jwt-secret-file)");
    return 0;
}

/* {"ttl":N,"filters":[…]} into *ttl and c->filters. 0 ok; -1 after a 400. */
static int read_request(http_req *req, long long *ttl, jwt_claims *c)
{
    buf body = BUF_INIT;
    jdoc *d = jdoc_new();
    char err[256];
    int rc = -1;

    if (http_read_json(req, &body) < 0) goto done;
    if (jdoc_parse(d, body.data ? body.data : "", body.len, 4, err, sizeof err) < 0) {
        http_error(req, 400, "bad_request", "body: %s", err);
        goto done;
    }
    if (jdoc_kind(d, 0) != JDOC_OBJECT) {
        http_error(req, 400, "bad_request", "body: a JSON object {\"ttl\":SECONDS,\"filters\":[\"ID\",…]} is expected");
        goto done;
    }
    for (int m = jdoc_child(d, 0); m >= 0; m = jdoc_next(d, m)) {
        size_t kl;
        const char *k = jdoc_key(d, m, &kl);
        if (!(kl == 3 && memcmp(k, "ttl", 3) == 0) && !(kl == 7 && memcmp(k, "filters", 7) == 0)) {
            http_error(req, 400, "bad_request", "body: unknown key (allowed: ttl, filters)");
            goto done;
        }
    }
    int t = jdoc_get(d, 0, "ttl");
    size_t tl;
    const char *ts = jdoc_str(d, t, &tl);
    const char *why;
    char tbuf[32];
    if (jdoc_kind(d, t) != JDOC_NUMBER || tl >= sizeof tbuf) {
        http_error(req, 400, "bad_request", "ttl: a number of seconds is required (1..%lld)", API_TOKENS_TTL_MAX);
        goto done;
    }
    memcpy(tbuf, ts, tl);
    tbuf[tl] = '\0';
    if (parse_ll(tbuf, 1, API_TOKENS_TTL_MAX, ttl, &why) < 0) {
        http_error(req, 400, "bad_request", "ttl: '%s' is %s (allowed 1..%lld seconds)", tbuf, why, API_TOKENS_TTL_MAX);
        goto done;
    }
    int f = jdoc_get(d, 0, "filters");
    if (f >= 0) {
        size_t n = 0;
        if (jdoc_kind(d, f) != JDOC_ARRAY) {
            http_error(req, 400, "bad_request", "filters: a list of filter ids is expected");
            goto done;
        }
        for (int e = jdoc_child(d, f); e >= 0; e = jdoc_next(d, e)) n++;
        if (n == 0 || n > JWT_MAX_FILTERS) {
            if (n)
                http_error(req, 400, "bad_request", "filters: too many filter ids (at most %d)", JWT_MAX_FILTERS);
            else
                http_error(req, 400, "bad_request", "filters: an empty list would allow nothing; leave it out for "
                                                    "a token that reads every filter");
            goto done;
        }
        c->filters = xcalloc(n, sizeof *c->filters);
        for (int e = jdoc_child(d, f); e >= 0; e = jdoc_next(d, e)) {
            size_t il;
            const char *id = jdoc_str(d, e, &il);
            char *copy = jdoc_kind(d, e) == JDOC_STRING ? xstrndup(id, il) : NULL;
            if (copy == NULL || strlen(copy) != il || !jwt_filter_id_ok(copy)) {
                free(copy);
                http_error(req, 400, "bad_request", "filters[%zu]: a filter id is a string of decimal digits",
                           c->nfilters);
                goto done;
            }
            c->filters[c->nfilters++] = copy;
        }
    }
    rc = 0;
done:
    jdoc_free(d);
    buf_free(&body);
    return rc;
}

/* Sign c and answer status with {"token","expires_at"} (and the cookie when
 * cookie is set). */
static void answer(http_req *req, int status, const jwt_claims *c, long long ttl, int cookie)
{
    char *tok = NULL, err[256], when[32];
    buf body = BUF_INIT, h = BUF_INIT;
    time_t exp = (time_t)c->exp;
    struct tm tm;

    if (authz_sign(http_proc(req)->authz, c, &tok, err, sizeof err) < 0) {
        log_error("tokens.sign_failed", "err=\"%s\"", err);
        http_error(req, 500, "internal", "the token could not be signed");
        return;
    }
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&exp, &tm));
    buf_printf(&body, "{\"token\":\"%s\",\"expires_at\":\"%s\"}", tok, when);
    if (cookie) {
        const char *https = http_env(req, "HTTPS"), *scheme = http_env(req, "REQUEST_SCHEME");
        int secure = (https && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0)) ||
                     (scheme && strcasecmp(scheme, "https") == 0);
        buf_printf(&h, "Set-Cookie: " AUTHZ_COOKIE "=%s; Max-Age=%lld; Path=/; HttpOnly; SameSite=Strict%s\r\n", tok,
                   ttl, secure ? "; Secure" : "");
    }
    http_reply_json(req, status, body.data, h.len ? h.data : NULL);
    log_info(cookie ? "tokens.refreshed" : "tokens.created", "expires_at=%s scoped=%zu", when, c->nfilters);
    explicit_bzero(tok, strlen(tok));
    explicit_bzero(body.data, body.len);
    if (h.data) explicit_bzero(h.data, h.len);
    free(tok);
    buf_free(&body);
    buf_free(&h);
}

void api_tokens_create(http_req *req)
{
    jwt_claims c = {0};
    long long ttl;

    if (authz_require(req, AUTHZ_WRITE, NULL) < 0) return;
    if (!reader_tokens_on(req) || read_request(req, &ttl, &c) < 0) goto done;
    c.iat = (int64_t)time(NULL);
    c.exp = c.iat + ttl;
    answer(req, 201, &c, ttl, 0);
done:
    jwt_claims_free(&c);
}

void api_tokens_refresh(http_req *req)
{
    jwt_claims old, fresh = {0};
    long long ttl;

    if (!reader_tokens_on(req)) return;
    if (authz_reader_token(req, &old) < 0) return;
    /* The same lifetime as the token presented, the same scope. */
    ttl = old.iat > 0 && old.exp > old.iat ? old.exp - old.iat : API_TOKENS_TTL_DEFAULT;
    if (ttl > API_TOKENS_TTL_MAX) ttl = API_TOKENS_TTL_MAX;
    fresh.iat = (int64_t)time(NULL);
    fresh.exp = fresh.iat + ttl;
    jwt_claims_copy_scope(&fresh, &old);
    answer(req, 200, &fresh, ttl, 1);
    jwt_claims_free(&old);
    jwt_claims_free(&fresh);
}
