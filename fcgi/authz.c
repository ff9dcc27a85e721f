#include "authz.h"

#include <stdlib.h>

#include "auth.h"
#include "log.h"
#include "util.h"

struct authz {
    const config *cfg;
    auth *tokens;
};

authz *authz_new(const config *cfg, char *err, size_t errlen)
{
    auth *tokens = auth_new(cfg->tokens_file, err, errlen);
    if (tokens == NULL) return NULL;
    if (cfg->tokens_file == NULL)
        log_warn("auth.no_tokens_file", "hint=\"set tokens-file: without it no request may change filters\"");
    authz *a = xcalloc(1, sizeof *a);
    a->cfg = cfg;
    a->tokens = tokens;
    return a;
}

int authz_reload(authz *a, char *err, size_t errlen)
{
    return auth_reload(a->tokens, err, errlen);
}

void authz_free(authz *a)
{
    if (a == NULL) return;
    auth_free(a->tokens);
    free(a);
}

int authz_require(http_req *req, enum authz_need need)
{
    const authz *a = http_proc(req)->authz;
    const char *h;

    if (need == AUTHZ_READ && !a->cfg->auth_reads) return 0;
    h = http_header(req, "Authorization");
    if (auth_check(a->tokens, h)) return 0;
    if (h == NULL)
        http_error_headers(req, 401, "WWW-Authenticate: Bearer realm=\"birdfeed\"\r\n", "unauthorized",
                           "this request needs a bearer token (Authorization: Bearer <token>)");
    else
        http_error_headers(req, 401, "WWW-Authenticate: Bearer realm=\"birdfeed\", error=\"invalid_token\"\r\n",
                           "unauthorized", "the bearer token is not valid");
    log_info("auth.denied", "method=%s path=%s reason=%s", http_method(req), http_path(req),
             h ? "invalid_token" : "no_token");
    return -1;
}
