/* fuzz_jwt — libFuzzer target for lib/jwt: reader tokens.
 *
 *   make fuzz FUZZ_TARGETS=jwt FUZZ_SECONDS=60
 *
 * The first byte picks what is fuzzed, the rest is the input:
 *   0  jwt_verify on the input as a token (with a fixed key): never crashes;
 *      whatever it accepts has exp > 0 and a well-formed scope.
 *   1  the input is "HEADER\nPAYLOAD" (JSON texts), base64url-encoded and
 *      signed here with the key, so the fuzzer reaches the header and claims
 *      rules: an accepted token had alg HS256 in its header; its claims,
 *      signed again by jwt_sign, verify to the same claims. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char KEY[] = "fuzz-key-fuzz-key-fuzz-key-fuzz-key";
#define NOW 1767225600

static void check_claims(const jwt_claims *c)
{
    if (c->exp <= 0) abort();
    if (c->filters && (c->nfilters == 0 || c->nfilters > JWT_MAX_FILTERS)) abort();
    for (size_t i = 0; c->filters && i < c->nfilters; i++)
        if (!jwt_filter_id_ok(c->filters[i])) abort();
}

static void b64u(buf *out, const void *in, size_t n)
{
    unsigned char *tmp = malloc(4 * ((n + 2) / 3) + 1);
    int w = EVP_EncodeBlock(tmp, in, (int)n);
    for (int i = 0; i < w; i++) {
        if (tmp[i] == '=') break;
        buf_appendc(out, tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : (char)tmp[i]);
    }
    free(tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jwt_claims c, again;
    char err[256];
    buf t = BUF_INIT;

    if (size < 1 || size > 8192) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] % 2 == 0) {
        char *s = strndup(in, n);
        if (jwt_verify(KEY, sizeof KEY - 1, s, NOW, &c, err, sizeof err) == 0) {
            check_claims(&c);
            jwt_claims_free(&c);
        }
        free(s);
        return 0;
    }
    const char *nl = memchr(in, '\n', n);
    if (nl == NULL) return 0;
    unsigned char mac[32];
    unsigned int maclen = sizeof mac;
    b64u(&t, in, (size_t)(nl - in));
    buf_appendc(&t, '.');
    b64u(&t, nl + 1, n - (size_t)(nl + 1 - in));
    HMAC(EVP_sha256(), KEY, sizeof KEY - 1, (unsigned char *)t.data, t.len, mac, &maclen);
    buf_appendc(&t, '.');
    b64u(&t, mac, maclen);
    if (jwt_verify(KEY, sizeof KEY - 1, t.data, NOW, &c, err, sizeof err) == 0) {
        check_claims(&c);
        if (memmem(in, (size_t)(nl - in), "HS256", 5) == NULL) abort();
        char *tok;
        if (jwt_sign(KEY, sizeof KEY - 1, &c, &tok, err, sizeof err) != 0) abort();
        if (jwt_verify(KEY, sizeof KEY - 1, tok, NOW, &again, err, sizeof err) != 0) abort();
        if (again.exp != c.exp || again.nbf != c.nbf || again.iat != c.iat || again.nfilters != c.nfilters) abort();
        for (size_t i = 0; i < c.nfilters; i++)
            if (strcmp(again.filters[i], c.filters[i]) != 0) abort();
        free(tok);
        jwt_claims_free(&again);
        jwt_claims_free(&c);
    }
    buf_free(&t);
    return 0;
}
