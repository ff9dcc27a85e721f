/* jwt — signed reader tokens: JSON Web Tokens (RFC 7519) signed with HS256.
 *
 * A reader token lets a browser read a private deployment (auth-reads=1):
 * streams, GET /api/filters, /api/tweets — never changes. It carries
 *   exp      expiry, seconds since the epoch (required)
 *   nbf      not valid before (optional)
 *   iat      issued at (set when signing; refresh keeps the lifetime exp-iat)
 *   filters  optional scope: ["7","9"] — only these saved filters (never empty)
 * Other claims are ignored.
 *
 * Verification is strict: the header must say "alg":"HS256" — "none", HS384,
 * RS256 and every other alg are refused before any signature is computed —
 * "typ" (when present) must be "JWT", a "crit" header is refused (no
 * extension is understood), base64url must be canonical and unpadded, the
 * signature is compared in constant time (CRYPTO_memcmp), and only then are
 * the claims read. exp and nbf allow JWT_LEEWAY_S of clock difference.
 *
 * Built on OpenSSL (HMAC-SHA256, base64, CRYPTO_memcmp) and json-c rather
 * than Debian's libjwt 1.10, which, checked on bookworm, verifies an HS384
 * or HS512 token with the same key as readily as HS256, never looks at exp
 * or nbf, parses with a second JSON library (jansson), and whose <jwt.h> and
 * jwt_ symbols would collide with this module. What is left by hand is the
 * compact form around them: splitting at the dots and the base64url alphabet.
 *
 * The key object (jwt_key) reads the secret from a file — its bytes without
 * trailing whitespace, at least JWT_KEY_MIN of them (RFC 7518 §3.2), a
 * warning when group or others may read it — and reloads it on request
 * (SIGHUP): rotating the key revokes every token signed with the old one.
 * Thread-safe: any number of threads may sign and verify while another
 * reloads. The secret and tokens are never logged. */
#ifndef BIRDFEED_JWT_H
#define BIRDFEED_JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_LEEWAY_S 30          /* clock difference allowed for exp and nbf */
#define JWT_MAX_LEN 4096         /* longer tokens are refused unread (cookies hold ~4 KiB) */
#define JWT_MAX_FILTERS 64       /* filters in one token's scope */
#define JWT_KEY_MIN 32           /* HS256 keys: at least the hash size */
#define JWT_KEY_MAX 4096

typedef struct jwt_claims {
    int64_t exp;                 /* required, > 0 */
    int64_t nbf;                 /* 0: absent */
    int64_t iat;                 /* 0: absent */
    char **filters;              /* NULL: every filter, the unfiltered stream and q=; else nfilters ≥ 1 ids */
    size_t nfilters;
} jwt_claims;

/* Sign c with key[0..keylen) into a new compact token "h.p.s" (*out, caller
 * frees). A filter id must be 1-20 decimal digits; a non-NULL filters needs
 * nfilters ≥ 1. Returns 0, or -1 with the reason in err. No I/O. */
int jwt_sign(const void *key, size_t keylen, const jwt_claims *c, char **out, char *err, size_t errlen);

/* Verify token (NUL-terminated) with key at time now (seconds since the
 * epoch). On success returns 0 and fills *out (free with jwt_claims_free);
 * on failure returns -1, leaves *out empty and says why in err ("the token
 * expired", "alg RS256 is not accepted") without quoting the token. No I/O. */
int jwt_verify(const void *key, size_t keylen, const char *token, int64_t now, jwt_claims *out, char *err,
               size_t errlen);

/* Release what c holds and zero it. c may be NULL. */
void jwt_claims_free(jwt_claims *c);

/* Does c allow reading saved filter id? 1 yes (unscoped, or id in the
 * scope), 0 no. id NULL means "no filter" (everything, or a q= search):
 * only an unscoped token allows that. */
int jwt_claims_allow(const jwt_claims *c, const char *id);

/* Copy src's scope (filters) into dst (which must be empty). */
void jwt_claims_copy_scope(jwt_claims *dst, const jwt_claims *src);

/* Is id a well-formed filter id for a scope (1-20 decimal digits)? 1 / 0. */
int jwt_filter_id_ok(const char *id);

/* ---- the signing key, read from a file ---------------------------------- */
typedef struct jwt_key jwt_key;

/* Load the secret from path. Returns the key, or NULL with the reason in err
 * (unreadable, too short: "jwt.key: 12 bytes; HS256 needs at least 32"). */
jwt_key *jwt_key_new(const char *path, char *err, size_t errlen);
void jwt_key_free(jwt_key *k);                         /* k may be NULL */

/* Read the file again; on failure the old secret stays in force and -1 is
 * returned with the reason in err; 0 on success. */
int jwt_key_reload(jwt_key *k, char *err, size_t errlen);

/* jwt_sign / jwt_verify with the current secret. */
int jwt_key_sign(jwt_key *k, const jwt_claims *c, char **out, char *err, size_t errlen);
int jwt_key_verify(jwt_key *k, const char *token, int64_t now, jwt_claims *out, char *err, size_t errlen);

#endif
