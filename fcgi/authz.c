#include "authz.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "buf.h"
#include "log.h"
#include "util.h"

struct authz {
    const config *cfg;
    auth *tokens;
    jwt_key *key;        /* NULL: no jwt-secret-file, no reader tokens */
};

authz *authz_new(const config *cfg, char *err, size_t errlen)
{
    auth *tokens = auth_new(cfg->tokens_file, err, errlen);
    jwt_key *key = NULL;
    if (tokens == NULL) return NULL;
    if (cfg->jwt_secret_file && (key = jwt_key_new(cfg->jwt_secret_file, err, errlen)) == NULL) {
        auth_free(tokens);
        return NULL;
    }
    if (cfg->tokens_file == NULL)
        log_warn("auth.no_tokens_file", "hint=\"set tokens-file: without it no request may change filters\"");
    if (cfg->auth_reads && key == NULL)
        log_info("auth.no_reader_tokens", "hint=\"set jwt-secret-file so browsers can read with reader tokens\"");
    authz *a = xcalloc(1, sizeof *a);
    a->cfg = cfg;
    a->tokens = tokens;
    a->key = key;
    return a;
}

int authz_reload(authz *a, char *err, size_t errlen)
{
    if (auth_reload(a->tokens, err, errlen) < 0) return -1;
    return a->key ? jwt_key_reload(a->key, err, errlen) : 0;
}

void authz_free(authz *a)
{
    if (a == NULL) return;
    auth_free(a->tokens);
    jwt_key_free(a->key);
    free(a);
}

int authz_readers_on(const authz *a)
{
    return a->key != NULL;
}

int authz_sign(authz *a, const jwt_claims *c, char **out, char *err, size_t errlen)
{
    if (a->key == NULL) {
        snprintf(err, errlen, "reader tokens are off (no jwt-secret-file)");
        return -1;
    }
    return jwt_key_sign(a->key, c, out, err, errlen);
}

void authz_grant_free(authz_grant *g)
{
    if (g) jwt_claims_free(&g->claims);
}

int authz_grant_allows(const authz_grant *g, const char *id)
{
    return !g->reader || jwt_claims_allow(&g->claims, id);
}

/* ---- where a token comes from -------------------------------------------------- */

enum source { SRC_NONE, SRC_HEADER, SRC_QUERY, SRC_COOKIE };
static const char *const source_names[] = {"none", "header", "query", "cookie"};

/* The token of a "Bearer <token>" header into *tok (a copy), or NULL when
 * the header is not of that form. */
static char *bearer(const char *h)
{
    while (*h == ' ' || *h == '\t') h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t')) return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t') h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t')) n--;
    return n ? xstrndup(h, n) : NULL;
}

/* The value of cookie AUTHZ_COOKIE in a Cookie header (a copy), or NULL. */
static char *cookie(const char *h)
{
    const size_t nl = sizeof AUTHZ_COOKIE - 1;
    while (h && *h) {
        while (*h == ' ' || *h == '\t' || *h == ';') h++;
        size_t n = strcspn(h, ";");
        if (n > nl && strncmp(h, AUTHZ_COOKIE "=", nl + 1) == 0) {
            const char *v = h + nl + 1;
            size_t vl = n - nl - 1;
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {   /* a quoted cookie-value */
                v++;
                vl -= 2;
            }
            return vl ? xstrndup(v, vl) : NULL;
        }
        h += n;
    }
    return NULL;
}

/* The credential req carries: the Authorization header, else the
 * access_token parameter, else the cookie — the first one present. *raw is
 * the header's whole value (for the tokens file), *tok the token (a copy,
 * NULL when the header is not "Bearer …"). */
static enum source find_token(http_req *req, const char **raw, char **tok)
{
    const char *h = http_header(req, "Authorization"), *q;
    *raw = h;
    *tok = NULL;
    if (h) {
        *tok = bearer(h);
        return SRC_HEADER;
    }
    if ((q = query_get(http_query(req), "access_token")) != NULL) {
        *tok = q[0] ? xstrdup(q) : NULL;
        return SRC_QUERY;
    }
    if ((*tok = cookie(http_header(req, "Cookie"))) != NULL) return SRC_COOKIE;
    return SRC_NONE;
}

/* 401. why says what was wrong with the token of src (SRC_NONE: there was
 * none; then a write is told it needs the header). */
static void deny(http_req *req, enum authz_need need, enum source src, const char *reason, const char *why)
{
    if (src == SRC_NONE && need == AUTHZ_WRITE)
        http_error_headers(req, 401, "WWW-Authenticate: Bearer realm=\"birdfeed\"\r\n", "unauthorized",
                           "this request needs a bearer token (Authorization: Bearer <token>)");
    else if (src == SRC_NONE)
        http_error_headers(req, 401, "WWW-Authenticate: Bearer realm=\"birdfeed\"\r\n", "unauthorized",
                           "this request needs a token: Authorization: Bearer <token>, ?access_token= or the "
                           AUTHZ_COOKIE " cookie");
    else
        http_error_headers(req, 401, "WWW-Authenticate: Bearer realm=\"birdfeed\", error=\"invalid_token\"\r\n",
                           "unauthorized", "the token (%s) is not valid: %s", source_names[src], why);
    log_info("auth.denied", "method=%s path=%s source=%s reason=%s", http_method(req), http_path(req),
             source_names[src], reason);
}

static int verify(const authz *a, const char *tok, jwt_claims *c, char *why, size_t whylen)
{
    if (a->key == NULL) {
        snprintf(why, whylen, "not a known token, and reader tokens are off");
        return -1;
    }
    return jwt_key_verify(a->key, tok, (int64_t)time(NULL), c, why, whylen);
}

int authz_require(http_req *req, enum authz_need need, authz_grant *g)
{
    authz *a = http_proc(req)->authz;
    const char *raw;
    char *tok = NULL, why[160];
    jwt_claims c = {0};
    int rc = -1;

    if (g) memset(g, 0, sizeof *g);
    if (need == AUTHZ_READ && !a->cfg->auth_reads) return 0;
    enum source src = find_token(req, &raw, &tok);
    /* Tokens of the tokens file count in the header only (never in URLs or cookies). */
    if (src == SRC_HEADER && auth_check(a->tokens, raw)) {
        rc = 0;
        goto done;
    }
    if (need == AUTHZ_WRITE) {
        if (src == SRC_HEADER && tok && a->key && verify(a, tok, &c, why, sizeof why) == 0) {
            http_error(req, 403, "forbidden", "a reader token may only read; changes need a token of the tokens file");
            log_info("auth.denied", "method=%s path=%s source=header reason=reader_token", http_method(req),
                     http_path(req));
        } else {
            deny(req, need, src == SRC_HEADER ? SRC_HEADER : SRC_NONE, src == SRC_HEADER ? "invalid_token" : "no_token",
                 "it is not a token of the tokens file");
        }
        goto done;
    }
    if (src == SRC_NONE || tok == NULL) {
        deny(req, need, src, src == SRC_NONE ? "no_token" : "invalid_token", "empty or not \"Bearer <token>\"");
        goto done;
    }
    if (verify(a, tok, &c, why, sizeof why) < 0) {
        deny(req, need, src, strstr(why, "expired") ? "expired" : "invalid_token", why);
        goto done;
    }
    if (g == NULL && c.filters) {
        http_error(req, 403, "forbidden", "this token is limited to some filters, and this request reads no filter");
        goto done;
    }
    log_debug("auth.reader", "method=%s path=%s source=%s scoped=%zu exp=%lld", http_method(req), http_path(req),
              source_names[src], c.nfilters, (long long)c.exp);
    if (g) {
        g->reader = 1;
        g->claims = c;
        memset(&c, 0, sizeof c);
    }
    rc = 0;
done:
    jwt_claims_free(&c);
    if (tok) {
        explicit_bzero(tok, strlen(tok));
        free(tok);
    }
    return rc;
}

int authz_reader_token(http_req *req, jwt_claims *c)
{
    authz *a = http_proc(req)->authz;
    const char *raw;
    char *tok = NULL, why[160];
    int rc = -1;

    memset(c, 0, sizeof *c);
    enum source src = find_token(req, &raw, &tok);
    if (src == SRC_HEADER && auth_check(a->tokens, raw)) {
        http_error(req, 403, "forbidden", "only a reader token can be refreshed (make one with POST /api/tokens)");
    } else if (src == SRC_NONE || tok == NULL) {
        deny(req, AUTHZ_READ, src, src == SRC_NONE ? "no_token" : "invalid_token", "empty or not \"Bearer <token>\"");
    } else if (verify(a, tok, c, why, sizeof why) < 0) {
        deny(req, AUTHZ_READ, src, strstr(why, "expired") ? "expired" : "invalid_token", why);
    } else {
        rc = 0;
    }
    if (tok) {
        explicit_bzero(tok, strlen(tok));
        free(tok);
    }
    return rc;
}

/* ---- scope -------------------------------------------------------------------------- */

static void scope_list(const jwt_claims *c, buf *out)
{
    for (size_t i = 0; i < c->nfilters && i < 8; i++) buf_printf(out, "%s%s", i ? ", " : "", c->filters[i]);
    if (c->nfilters > 8) buf_appends(out, ", …");
}

int authz_scope(http_req *req, const authz_grant *g, enum authz_target t)
{
    const query *q = http_query(req);
    size_t nf = query_count(q, "filter"), ids = 0;
    buf scope = BUF_INIT;
    int rc = -1;

    if (g == NULL || !g->reader) return 0;
    /* A stream ends at exp (the hub's token-expired): opening one after it,
     * inside the verifier's leeway, would end at once and again at each
     * reconnect. */
    if (t == AUTHZ_STREAM && g->claims.exp <= (int64_t)time(NULL)) {
        http_error_headers(req, 401, "WWW-Authenticate: Bearer realm=\"birdfeed\", error=\"invalid_token\"\r\n",
                           "unauthorized", "the token expired (get a fresh one: POST /api/tokens/refresh)");
        log_info("auth.denied", "method=%s path=%s reason=expired_stream", http_method(req), http_path(req));
        return -1;
    }
    if (g->claims.filters == NULL) return 0;
    scope_list(&g->claims, &scope);
    if (t == AUTHZ_STREAM && query_count(q, "q")) {
        http_error(req, 403, "forbidden", "this token reads only filters %s: no q= searches", scope.data);
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        const char *v = query_get_nth(q, "filter", i);
        while (*v) {
            size_t len = strcspn(v, ",");
            char id[32];
            if (len && len < sizeof id) {
                memcpy(id, v, len);
                id[len] = '\0';
                if (!jwt_claims_allow(&g->claims, id)) {
                    http_error(req, 403, "forbidden", "filter %s is outside this token's scope (filters %s)", id,
                               scope.data);
                    goto done;
                }
                ids++;
            } else if (len) {
                http_error(req, 403, "forbidden", "a filter id this long is outside this token's scope");
                goto done;
            }
            v += len + (v[len] == ',');
        }
    }
    if (ids == 0) {
        http_error(req, 403, "forbidden", "this token reads only filters %s: name one with filter=", scope.data);
        goto done;
    }
    rc = 0;
done:
    buf_free(&scope);
    return rc;
}
