/* Unit tests for lib/jwt: known tokens from RFC 7515 (the example RFC 7519
 * §3.1 shows) and from libjwt (another implementation), tokens built here
 * by hand following RFC 7519 §7.1 (base64url by this file's own encoder,
 * HMAC-SHA256 from OpenSSL), refusals of every other alg, exp/nbf with the
 * leeway, scopes, and the key file (trailing whitespace, minimum length,
 * reload). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwt.h"
#include "log.h"
#include "test.h"

/* RFC 7515 Appendix A.1: the JWK "k" of the HS256 example, decoded. */
static const unsigned char RFC_KEY[64] = {
    0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc, 0x83, 0x7e, 0x06, 0x65, 0x77, 0x7b, 0xa6, 0x8f,
    0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54, 0xc9, 0x28, 0xa9, 0x0f, 0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf,
    0xd3, 0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47, 0xef, 0x96, 0x8a, 0xb4, 0xc3, 0x77, 0x62, 0x3d, 0x22,
    0x3d, 0x2e, 0x21, 0x72, 0x05, 0x2e, 0x4f, 0x08, 0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3};
static const char RFC_TOKEN[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
#define RFC_EXP 1300819380

/* Made with libjwt 1.10 (jwt_encode_str) and this key. */
static const char KEY[] = "birdfeed-unit-test-key-0123456789abcdef";
#define KEYLEN (sizeof KEY - 1)
static const char LIBJWT_SCOPED[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsImZpbHRlcnMiOlsiNyIsIjkiXSwiaWF0IjoxNzY3MjI1NjAwfQ"
    ".cdzvvXEAUrWCuq_zBSvZvhcMK6HMTIh3FDbfqhaiQ7Q";
static const char LIBJWT_PLAIN[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDB9.TxEPddX9G1kvQIBoDREZr06aG_wya-pDh2xI5KcGCys";
static const char LIBJWT_HS384[] =
    "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDB9"
    ".6XD4V9fNU2o7b7jTHfdXkEB69LzHqFKKX5UmI9UdyxscwLnVtcZA3btW1ZzpTsZB";
static const char LIBJWT_HS512[] =
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDB9"
    ".vsZaTmknSJv89MgWFac2jQ3RtOwiaTsL0j3ETF21g_omcc8VLEDT6jipCXQYALbav3jAmEgGcPigZEQFmZaVrw";
static const char LIBJWT_NONE[] = "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.";
#define NOW 1767225600 /* 2026-01-01 */

/* ---- RFC 7519 §7.1 by hand ---------------------------------------------------- */
static void b64u(const unsigned char *in, size_t n, char *out)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = A[v >> 18 & 63];
        out[o++] = A[v >> 12 & 63];
        if (i + 1 < n) out[o++] = A[v >> 6 & 63];
        if (i + 2 < n) out[o++] = A[v & 63];
    }
    out[o] = '\0';
}

/* header.payload.signature for the given JSON texts, signed with key. */
static char *handmade(const void *key, size_t keylen, const char *header, const char *payload)
{
    static char tok[8192];
    unsigned char mac[32];
    unsigned int maclen = sizeof mac;
    b64u((const unsigned char *)header, strlen(header), tok);
    size_t n = strlen(tok);
    tok[n++] = '.';
    b64u((const unsigned char *)payload, strlen(payload), tok + n);
    n = strlen(tok);
    HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)tok, n, mac, &maclen);
    tok[n++] = '.';
    b64u(mac, maclen, tok + n);
    return tok;
}
#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static int verify(const char *tok, int64_t now, jwt_claims *c, char *err)
{
    return jwt_verify(KEY, KEYLEN, tok, now, c, err, 256);
}

/* ---- tests ---------------------------------------------------------------------- */
static void test_rfc_example(void)
{
    jwt_claims c;
    char err[256];
    ASSERT_EQ(jwt_verify(RFC_KEY, sizeof RFC_KEY, RFC_TOKEN, RFC_EXP - 10, &c, err, sizeof err), 0);
    ASSERT_EQ(c.exp, RFC_EXP);
    ASSERT(c.filters == NULL);
    jwt_claims_free(&c);
    /* Within the leeway, then past it. */
    ASSERT_EQ(jwt_verify(RFC_KEY, sizeof RFC_KEY, RFC_TOKEN, RFC_EXP + JWT_LEEWAY_S - 1, &c, err, sizeof err), 0);
    jwt_claims_free(&c);
    ASSERT_EQ(jwt_verify(RFC_KEY, sizeof RFC_KEY, RFC_TOKEN, RFC_EXP + JWT_LEEWAY_S, &c, err, sizeof err), -1);
    ASSERT_STREQ(err, "the token expired");
    ASSERT(c.filters == NULL && c.exp == 0);
}

static void test_libjwt_tokens(void)
{
    jwt_claims c;
    char err[256];
    ASSERT_EQ(verify(LIBJWT_SCOPED, NOW, &c, err), 0);
    ASSERT_EQ(c.exp, 4102444800LL);
    ASSERT_EQ(c.iat, 1767225600LL);
    ASSERT_EQ(c.nfilters, 2);
    ASSERT_STREQ(c.filters[0], "7");
    ASSERT_STREQ(c.filters[1], "9");
    jwt_claims_free(&c);
    ASSERT_EQ(verify(LIBJWT_PLAIN, NOW, &c, err), 0);
    ASSERT(c.filters == NULL);
    jwt_claims_free(&c);
    /* libjwt itself accepts these with the same key; birdfeed does not. */
    ASSERT_EQ(verify(LIBJWT_HS384, NOW, &c, err), -1);
    ASSERT_STREQ(err, "alg HS384 is not accepted (only HS256)");
    ASSERT_EQ(verify(LIBJWT_HS512, NOW, &c, err), -1);
    ASSERT_STREQ(err, "alg HS512 is not accepted (only HS256)");
    ASSERT_EQ(verify(LIBJWT_NONE, NOW, &c, err), -1);
    ASSERT_CONTAINS(err, "not a signed JWT");
    /* "none" with something in the signature place. */
    ASSERT_EQ(verify("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.AAAA", NOW, &c, err), -1);
    ASSERT_STREQ(err, "alg none is not accepted (only HS256)");
    /* A wrong key. */
    ASSERT_EQ(jwt_verify("another-key-of-enough-length-0123456789", 39, LIBJWT_PLAIN, NOW, &c, err, sizeof err), -1);
    ASSERT_STREQ(err, "the signature does not match");
}

static void test_sign_roundtrip(void)
{
    char *ids[] = {"7", "12345678901234567890"};
    jwt_claims in = {.exp = NOW + 600, .iat = NOW, .nbf = NOW - 5, .filters = ids, .nfilters = 2}, out;
    char *tok, err[256];
    ASSERT_EQ(jwt_sign(KEY, KEYLEN, &in, &tok, err, sizeof err), 0);
    ASSERT(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0);
    ASSERT_EQ(verify(tok, NOW, &out, err), 0);
    ASSERT_EQ(out.exp, NOW + 600);
    ASSERT_EQ(out.iat, NOW);
    ASSERT_EQ(out.nbf, NOW - 5);
    ASSERT_EQ(out.nfilters, 2);
    ASSERT_STREQ(out.filters[1], "12345678901234567890");
    jwt_claims_free(&out);
    /* Flip one character anywhere: refused. */
    for (size_t i = 0; tok[i]; i++) {
        if (tok[i] == '.') continue;
        char save = tok[i];
        tok[i] = tok[i] == 'A' ? 'B' : 'A';
        ASSERT_EQ(verify(tok, NOW, &out, err), -1);
        tok[i] = save;
    }
    /* Truncated or extended. */
    size_t n = strlen(tok);
    tok[n - 1] = '\0';
    ASSERT_EQ(verify(tok, NOW, &out, err), -1);
    free(tok);
    /* The hand-made procedure and jwt_sign agree byte for byte. */
    jwt_claims plain = {.exp = 4102444800LL};
    ASSERT_EQ(jwt_sign(KEY, KEYLEN, &plain, &tok, err, sizeof err), 0);
    ASSERT_STREQ(tok, handmade(KEY, KEYLEN, HS256, "{\"exp\":4102444800}"));
    ASSERT_STREQ(tok, LIBJWT_PLAIN);
    free(tok);
}

static void test_sign_refusals(void)
{
    char *tok = NULL, err[256];
    char *bad[] = {"7", "x9"};
    jwt_claims c = {.exp = NOW + 60};
    ASSERT_EQ(jwt_sign("short", 5, &c, &tok, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "at least 32");
    c.filters = bad;
    c.nfilters = 0;
    ASSERT_EQ(jwt_sign(KEY, KEYLEN, &c, &tok, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "1 to 64");
    c.nfilters = 2;
    ASSERT_EQ(jwt_sign(KEY, KEYLEN, &c, &tok, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "filters[1]");
    c.filters = NULL;
    c.nfilters = 0;
    c.exp = 0;
    ASSERT_EQ(jwt_sign(KEY, KEYLEN, &c, &tok, err, sizeof err), -1);
    ASSERT(tok == NULL);
}

static void test_header_rules(void)
{
    jwt_claims c;
    char err[256];
    const char *p = "{\"exp\":4102444800}";
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"HS256\"}", p), NOW, &c, err), 0);   /* typ optional */
    jwt_claims_free(&c);
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"HS256\",\"typ\":\"jwt\"}", p), NOW, &c, err), 0);
    jwt_claims_free(&c);
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"hs256\"}", p), NOW, &c, err), -1);
    ASSERT_STREQ(err, "alg hs256 is not accepted (only HS256)");
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"none\"}", p), NOW, &c, err), -1);
    ASSERT_STREQ(err, "alg none is not accepted (only HS256)");
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"RS256\"}", p), NOW, &c, err), -1);
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"<script>\"}", p), NOW, &c, err), -1);
    ASSERT_STREQ(err, "alg (unprintable) is not accepted (only HS256)");
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"typ\":\"JWT\"}", p), NOW, &c, err), -1);
    ASSERT_STREQ(err, "the header names no alg");
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":[\"HS256\"]}", p), NOW, &c, err), -1);
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"HS256\",\"typ\":\"JOSE+JSON\"}", p), NOW, &c, err), -1);
    ASSERT_STREQ(err, "typ is not JWT");
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", p), NOW, &c, err), -1);
    ASSERT_CONTAINS(err, "crit");
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "[\"HS256\"]", p), NOW, &c, err), -1);
    ASSERT_STREQ(err, "the header is not a JSON object");
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"HS256\"} x", p), NOW, &c, err), -1);
    ASSERT_EQ(verify(handmade(KEY, KEYLEN, "{\"alg\":\"HS256\",}", p), NOW, &c, err), -1);
}

static void test_claims_rules(void)
{
    jwt_claims c;
    char err[256];
    char payload[512];
#define TRY(json) verify(handmade(KEY, KEYLEN, HS256, json), NOW, &c, err)
    ASSERT_EQ(TRY("{\"iat\":1}"), -1);
    ASSERT_STREQ(err, "the token has no exp (an expiry is required)");
    ASSERT_EQ(TRY("{\"exp\":\"4102444800\"}"), -1);
    ASSERT_CONTAINS(err, "exp is not a NumericDate");
    ASSERT_EQ(TRY("{\"exp\":-5}"), -1);
    ASSERT_EQ(TRY("{\"exp\":0}"), -1);
    ASSERT_EQ(TRY("{\"exp\":1e300}"), -1);
    ASSERT_EQ(TRY("{\"exp\":4102444800.9}"), 0);         /* fractions allowed, dropped */
    ASSERT_EQ(c.exp, 4102444800LL);
    jwt_claims_free(&c);
    ASSERT_EQ(TRY("{\"exp\":4102444800,\"nbf\":\"soon\"}"), -1);
    ASSERT_CONTAINS(err, "nbf");
    snprintf(payload, sizeof payload, "{\"exp\":4102444800,\"nbf\":%d}", NOW + JWT_LEEWAY_S + 1);
    ASSERT_EQ(TRY(payload), -1);
    ASSERT_STREQ(err, "the token is not valid yet (nbf)");
    snprintf(payload, sizeof payload, "{\"exp\":4102444800,\"nbf\":%d}", NOW + JWT_LEEWAY_S);
    ASSERT_EQ(TRY(payload), 0);
    jwt_claims_free(&c);
    snprintf(payload, sizeof payload, "{\"exp\":%d}", NOW - JWT_LEEWAY_S);
    ASSERT_EQ(TRY(payload), -1);
    ASSERT_STREQ(err, "the token expired");
    ASSERT_EQ(TRY("{\"exp\":4102444800,\"filters\":[]}"), -1);
    ASSERT_CONTAINS(err, "filters must be a list of 1 to 64");
    ASSERT_EQ(TRY("{\"exp\":4102444800,\"filters\":\"7\"}"), -1);
    ASSERT_EQ(TRY("{\"exp\":4102444800,\"filters\":[7]}"), -1);
    ASSERT_STREQ(err, "filters[0] is not a filter id (a string of decimal digits)");
    ASSERT_EQ(TRY("{\"exp\":4102444800,\"filters\":[\"7\",\"7a\"]}"), -1);
    ASSERT_STREQ(err, "filters[1] is not a filter id (a string of decimal digits)");
    ASSERT(c.filters == NULL);                           /* nothing leaks out of a refusal */
    ASSERT_EQ(TRY("{\"exp\":4102444800,\"filters\":[\"\"]}"), -1);
    ASSERT_EQ(TRY("{\"exp\":4102444800,\"filters\":[\"123456789012345678901\"]}"), -1);
    ASSERT_EQ(TRY("{\"exp\":4102444800,\"sub\":\"reader\",\"aud\":[\"x\"],\"filters\":[\"3\"]}"), 0);
    ASSERT_EQ(c.nfilters, 1);
    jwt_claims_free(&c);
    /* 65 filters: over the limit. */
    size_t n = (size_t)snprintf(payload, sizeof payload, "{\"exp\":4102444800,\"filters\":[");
    for (int i = 0; i < 65; i++) n += (size_t)snprintf(payload + n, sizeof payload - n, "%s\"%d\"", i ? "," : "", i);
    snprintf(payload + n, sizeof payload - n, "]}");
    ASSERT_EQ(TRY(payload), -1);
    ASSERT_EQ(TRY("[4102444800]"), -1);
    ASSERT_STREQ(err, "the claims are not a base64url JSON object");
#undef TRY
}

static void test_encoding_rules(void)
{
    jwt_claims c;
    char err[256], tok[8192];
    /* Padding, the standard alphabet, a stray bit in the last character. */
    snprintf(tok, sizeof tok, "%s", LIBJWT_PLAIN);
    char *sig = strrchr(tok, '.') + 1;
    strcat(tok, "=");
    ASSERT_EQ(verify(tok, NOW, &c, err), -1);
    snprintf(tok, sizeof tok, "%s", LIBJWT_PLAIN);
    sig[strlen(sig) - 1] = 't';                          /* 's' then 't': same bytes but one stray bit */
    ASSERT_EQ(verify(tok, NOW, &c, err), -1);
    ASSERT_CONTAINS(err, "signature");
    snprintf(tok, sizeof tok, "%s", LIBJWT_SCOPED);
    *strchr(strrchr(tok, '.'), '_') = '/';            /* the standard alphabet */
    ASSERT_EQ(verify(tok, NOW, &c, err), -1);
    /* Shape. */
    ASSERT_EQ(verify("", NOW, &c, err), -1);
    ASSERT_STREQ(err, "the token is empty");
    ASSERT_EQ(verify(NULL, NOW, &c, err), -1);
    ASSERT_EQ(verify("a.b", NOW, &c, err), -1);
    ASSERT_EQ(verify("a.b.c.d", NOW, &c, err), -1);
    ASSERT_EQ(verify("...", NOW, &c, err), -1);
    ASSERT_EQ(verify(".eyJleHAiOjF9.AAAA", NOW, &c, err), -1);
    memset(tok, 'A', JWT_MAX_LEN + 1);
    tok[10] = tok[20] = '.';
    tok[JWT_MAX_LEN + 1] = '\0';
    ASSERT_EQ(verify(tok, NOW, &c, err), -1);
    ASSERT_CONTAINS(err, "longer than 4096");
    /* A short key is refused for verifying too. */
    ASSERT_EQ(jwt_verify("k", 1, LIBJWT_PLAIN, NOW, &c, err, sizeof err), -1);
    /* Errors never quote the token. */
    ASSERT(strstr(err, "eyJ") == NULL);
}

static void test_scope(void)
{
    char *ids[] = {"7", "9"};
    jwt_claims open = {.exp = 1}, scoped = {.exp = 1, .filters = ids, .nfilters = 2}, copy = {0};
    ASSERT_EQ(jwt_claims_allow(&open, NULL), 1);
    ASSERT_EQ(jwt_claims_allow(&open, "123"), 1);
    ASSERT_EQ(jwt_claims_allow(&scoped, NULL), 0);
    ASSERT_EQ(jwt_claims_allow(&scoped, "9"), 1);
    ASSERT_EQ(jwt_claims_allow(&scoped, "8"), 0);
    ASSERT_EQ(jwt_claims_allow(&scoped, "79"), 0);
    jwt_claims_copy_scope(&copy, &scoped);
    ASSERT_EQ(copy.nfilters, 2);
    ASSERT_STREQ(copy.filters[0], "7");
    jwt_claims_free(&copy);
    jwt_claims_copy_scope(&copy, &open);
    ASSERT(copy.filters == NULL);
    ASSERT_EQ(jwt_filter_id_ok("0"), 1);
    ASSERT_EQ(jwt_filter_id_ok("-1"), 0);
    ASSERT_EQ(jwt_filter_id_ok(NULL), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) abort();
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void test_key_file(void)
{
    char dir[] = "/tmp/birdfeed-jwt-XXXXXX", path[128], logp[128], err[256], *tok, *tok2;
    jwt_claims c = {.exp = 4102444800LL}, out;
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/jwt.key", dir);
    snprintf(logp, sizeof logp, "%s/log", dir);
    log_open(logp);
    write_file(path, "birdfeed-unit-test-key-0123456789abcdef \n\t\n", 0600);
    jwt_key *k = jwt_key_new(path, err, sizeof err);
    ASSERT(k != NULL);
    /* Trailing whitespace is not part of the key: the libjwt token verifies. */
    ASSERT_EQ(jwt_key_verify(k, LIBJWT_PLAIN, NOW, &out, err, sizeof err), 0);
    jwt_claims_free(&out);
    ASSERT_EQ(jwt_key_sign(k, &c, &tok, err, sizeof err), 0);
    ASSERT_STREQ(tok, LIBJWT_PLAIN);
    /* Rotate: tokens of the old key are refused, new ones accepted. */
    write_file(path, "a-completely-different-secret-of-48-bytes-000000", 0644);
    ASSERT_EQ(jwt_key_reload(k, err, sizeof err), 0);
    ASSERT_EQ(jwt_key_verify(k, tok, NOW, &out, err, sizeof err), -1);
    ASSERT_STREQ(err, "the signature does not match");
    ASSERT_EQ(jwt_key_sign(k, &c, &tok2, err, sizeof err), 0);
    ASSERT_EQ(jwt_key_verify(k, tok2, NOW, &out, err, sizeof err), 0);
    jwt_claims_free(&out);
    /* A failed reload keeps the key in force. */
    write_file(path, "too-short\n", 0600);
    ASSERT_EQ(jwt_key_reload(k, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "9 bytes; an HS256 key needs at least 32");
    ASSERT_EQ(jwt_key_verify(k, tok2, NOW, &out, err, sizeof err), 0);
    jwt_claims_free(&out);
    unlink(path);
    ASSERT_EQ(jwt_key_reload(k, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "No such file");
    jwt_key_free(k);
    ASSERT(jwt_key_new(path, err, sizeof err) == NULL);
    /* The readable file was warned about; no secret reached the log. */
    log_open(NULL);
    FILE *f = fopen(logp, "r");
    char logbuf[4096] = "";
    ASSERT(f != NULL);
    size_t r = fread(logbuf, 1, sizeof logbuf - 1, f);
    logbuf[r] = '\0';
    fclose(f);
    ASSERT_CONTAINS(logbuf, "event=jwt.file_readable");
    ASSERT_CONTAINS(logbuf, "mode=644");
    ASSERT(strstr(logbuf, "secret") == NULL || strstr(logbuf, "different-secret") == NULL);
    ASSERT(strstr(logbuf, "unit-test-key") == NULL);
    free(tok);
    free(tok2);
    unlink(logp);
    rmdir(dir);
}

int main(void)
{
    RUN(test_rfc_example);
    RUN(test_libjwt_tokens);
    RUN(test_sign_roundtrip);
    RUN(test_sign_refusals);
    RUN(test_header_rules);
    RUN(test_claims_rules);
    RUN(test_encoding_rules);
    RUN(test_scope);
    RUN(test_key_file);
    return test_summary();
}
