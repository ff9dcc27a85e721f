/* authz — the one place that decides whether a request may read or write.
 *
 * Writes (changing filters) need "Authorization: Bearer <token>" with a
 * token of the tokens file (lib/auth.h); reads (streams, GET /api/filters,
 * /api/tweets) need one too only with auth-reads. A request that may not
 * gets 401 with WWW-Authenticate: Bearer, and the answer is logged without
 * the token. */
#ifndef BIRDFEED_AUTHZ_H
#define BIRDFEED_AUTHZ_H

#include <stddef.h>

#include "config.h"
#include "http.h"

typedef struct authz authz;

/* The process's credentials from cfg (which must outlive it): the tokens of
 * tokens-file (none: no request may write). NULL with the reason in err when
 * the file cannot be read or a line is not a token. */
authz *authz_new(const config *cfg, char *err, size_t errlen);
/* SIGHUP: read the credentials again; on failure the old ones stay in force
 * and -1 is returned with the reason in err. 0 ok. Any thread. */
int authz_reload(authz *a, char *err, size_t errlen);
void authz_free(authz *a);                 /* a may be NULL */

enum authz_need {
    AUTHZ_READ,      /* streams, GET /api/filters…, /api/tweets */
    AUTHZ_WRITE      /* POST/PUT/DELETE /api/filters… */
};

/* May req (served in a process whose proc->authz decides) do what need
 * says? 0 yes; -1 after answering 401. Any thread. */
int authz_require(http_req *req, enum authz_need need);

#endif
