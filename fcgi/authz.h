/* authz — the one place that decides whether a request may read or write.
 *
 * Writes (changing filters, minting reader tokens) need
 * "Authorization: Bearer <token>" with a token of the tokens file
 * (lib/auth.h). Reads (streams, GET /api/filters…, /api/tweets) need a
 * credential only with auth-reads: a token of the tokens file, or a reader
 * token (a JWT signed with the key of jwt-secret-file, lib/jwt.h), taken
 * from the Authorization header, else the access_token query parameter,
 * else the birdfeed_token cookie — the first one present is the one judged.
 * A reader token grants reads only, until its exp, and when it carries a
 * filters scope only those saved filters: the unfiltered stream, q= on a
 * stream, other filters are 403 (authz_scope). Missing or invalid
 * credentials get 401 with WWW-Authenticate: Bearer; nothing logged or
 * answered ever quotes a token. */
#ifndef BIRDFEED_AUTHZ_H
#define BIRDFEED_AUTHZ_H

#include <stddef.h>

#include "config.h"
#include "http.h"
#include "jwt.h"

#define AUTHZ_COOKIE "birdfeed_token"

typedef struct authz authz;

/* The process's credentials from cfg (which must outlive it): the tokens of
 * tokens-file (none: no request may write) and the key of jwt-secret-file
 * (none: no reader tokens). NULL with the reason in err when a file cannot
 * be read, a line is not a token or the key is too short. */
authz *authz_new(const config *cfg, char *err, size_t errlen);
/* SIGHUP: read the credentials again; on failure the old ones stay in force
 * and -1 is returned with the reason in err. 0 ok. Any thread. */
int authz_reload(authz *a, char *err, size_t errlen);
void authz_free(authz *a);                 /* a may be NULL */

enum authz_need {
    AUTHZ_READ,      /* streams, GET /api/filters…, /api/tweets */
    AUTHZ_WRITE      /* POST/PUT/DELETE /api/filters…, POST /api/tokens */
};

/* Who a request is, once authz_require let it through. */
typedef struct authz_grant {
    int reader;          /* 1: a reader token: reads only, until claims.exp, maybe scoped */
    jwt_claims claims;   /* the reader token's claims (reader only) */
} authz_grant;

/* May req do what need says? 0 yes, with *g saying who it is (free it with
 * authz_grant_free; g may be NULL for AUTHZ_WRITE, and for AUTHZ_READ where
 * nothing is scoped: then a scoped reader token is refused); -1 after
 * answering 401 (no or an invalid credential) or 403 (a reader token asking
 * to write). Any thread. */
int authz_require(http_req *req, enum authz_need need, authz_grant *g);

/* What a reader's scope is checked against: a stream (saved filters only:
 * no q=, not the unfiltered stream) or an archive search (filter= required,
 * q= allowed within it). */
enum authz_target { AUTHZ_STREAM, AUTHZ_TWEETS };
/* Does g's scope cover the filter= and q= parameters of req? 0 yes (always
 * for an unscoped grant); -1 after answering 403 saying why — or 401 for a
 * stream whose reader token's exp has passed (it would end at once). */
int authz_scope(http_req *req, const authz_grant *g, enum authz_target t);
/* May g read saved filter id? 1 yes, 0 no. */
int authz_grant_allows(const authz_grant *g, const char *id);
void authz_grant_free(authz_grant *g);     /* g may be NULL */

/* Are reader tokens on (a key was configured)? 1 / 0. */
int authz_readers_on(const authz *a);
/* The reader token req carries (header, else query, else cookie), verified,
 * into *c (jwt_claims_free it): 0; or -1 after answering 401 (none, invalid
 * or expired) or 403 (a token of the tokens file: not a reader token). */
int authz_reader_token(http_req *req, jwt_claims *c);
/* Sign c with the process's key into *out (caller frees). 0; -1 with the
 * reason in err (reader tokens off, bad claims). Any thread. */
int authz_sign(authz *a, const jwt_claims *c, char **out, char *err, size_t errlen);

#endif
