/* api_tokens — reader tokens over HTTP (authz.h verifies them, lib/jwt.h
 * makes them).
 *
 *   POST /api/tokens          a token of the tokens file; body {"ttl":N,"filters":["7",…]}
 *                             (filters optional, never empty) → 201 {"token":…,"expires_at":…}
 *   POST /api/tokens/refresh  a valid reader token (header, ?access_token= or the cookie)
 *                             → 200 {"token":…,"expires_at":…} with the same scope and
 *                             lifetime, and Set-Cookie: birdfeed_token=…; HttpOnly;
 *                             SameSite=Strict; Path=/ (Secure over HTTPS)
 * Without jwt-secret-file both answer 404 (reader tokens off). expires_at is
 * ISO 8601 UTC. Nothing logged carries a token. */
#ifndef BIRDFEED_API_TOKENS_H
#define BIRDFEED_API_TOKENS_H

#include "http.h"

#define API_TOKENS_TTL_MAX (366LL * 24 * 3600)    /* a year */
#define API_TOKENS_TTL_DEFAULT 3600               /* refreshing a token that has no iat */

/* POST /api/tokens: mint a reader token. */
void api_tokens_create(http_req *req);
/* POST /api/tokens/refresh: a fresh reader token for the one presented, also as the cookie. */
void api_tokens_refresh(http_req *req);

#endif
