#include "jwt.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "log.h"
#include "secretfile.h"
#include "util.h"

#define SIG_LEN 32                       /* HMAC-SHA256 */
#define NUMERIC_DATE_MAX 100000000000LL  /* year 5138: anything beyond is a mistake */

static const char JWT_HEADER[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* ---- base64url (RFC 4648 §5), unpadded, through OpenSSL's base64 ----------- */

static void b64url_append(buf *out, const void *in, size_t n)
{
    size_t room = 4 * ((n + 2) / 3) + 1, start;
    buf_reserve(out, room);
    start = out->len;
    int w = EVP_EncodeBlock((unsigned char *)out->data + start, in, (int)n);
    for (int i = 0; i < w; i++) {
        char *c = out->data + start + i;
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
    }
    while (w > 0 && out->data[start + (size_t)w - 1] == '=') w--;
    out->len = start + (size_t)w;
    out->data[out->len] = '\0';
}

static int b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Decode in[0..n) into out (replacing its contents). Only the canonical
 * spelling is accepted: URL alphabet, no padding, no stray bits. 0 / -1. */
static int b64url_decode(const char *in, size_t n, buf *out)
{
    buf std = BUF_INIT, again = BUF_INIT;
    size_t pad = (4 - n % 4) % 4;
    int rc = -1;

    buf_reset(out);
    if (n % 4 == 1) return -1;
    for (size_t i = 0; i < n; i++)
        if (!b64url_char((unsigned char)in[i])) return -1;
    buf_reserve(&std, n + pad + 1);
    for (size_t i = 0; i < n; i++) buf_appendc(&std, in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i]);
    for (size_t i = 0; i < pad; i++) buf_appendc(&std, '=');
    buf_reserve(out, (std.len / 4) * 3 + 1);
    int w = std.len ? EVP_DecodeBlock((unsigned char *)out->data, (const unsigned char *)std.data, (int)std.len) : 0;
    if (w < 0 || (size_t)w < pad) goto done;
    out->len = (size_t)w - pad;
    out->data[out->len] = '\0';
    /* Stray bits in the last character would give a second spelling of the
     * same bytes: encode again and insist on the same text. */
    b64url_append(&again, out->data, out->len);
    if (again.len != n || memcmp(again.data, in, n) != 0) goto done;
    rc = 0;
done:
    buf_free(&std);
    buf_free(&again);
    if (rc < 0) buf_reset(out);
    return rc;
}

/* ---- claims ------------------------------------------------------------------ */

int jwt_filter_id_ok(const char *id)
{
    size_t n = 0;
    if (id == NULL) return 0;
    for (; id[n]; n++)
        if (id[n] < '0' || id[n] > '9') return 0;
    return n >= 1 && n <= 20;
}

void jwt_claims_free(jwt_claims *c)
{
    if (c == NULL) return;
    for (size_t i = 0; i < c->nfilters; i++) free(c->filters[i]);
    free(c->filters);
    memset(c, 0, sizeof *c);
}

int jwt_claims_allow(const jwt_claims *c, const char *id)
{
    if (c->filters == NULL) return 1;
    if (id == NULL) return 0;
    for (size_t i = 0; i < c->nfilters; i++)
        if (strcmp(c->filters[i], id) == 0) return 1;
    return 0;
}

void jwt_claims_copy_scope(jwt_claims *dst, const jwt_claims *src)
{
    if (src->filters == NULL) return;
    dst->filters = xcalloc(src->nfilters, sizeof *dst->filters);
    for (size_t i = 0; i < src->nfilters; i++) dst->filters[i] = xstrdup(src->filters[i]);
    dst->nfilters = src->nfilters;
}

/* A NumericDate (RFC 7519 §2): a JSON number of seconds; fractions dropped. */
static int numeric_date(json_object *o, int64_t *out)
{
    if (json_object_is_type(o, json_type_int)) {
        int64_t v = json_object_get_int64(o);
        if (v < 0 || v > NUMERIC_DATE_MAX) return -1;
        *out = v;
        return 0;
    }
    if (json_object_is_type(o, json_type_double)) {
        double d = json_object_get_double(o);
        if (!isfinite(d) || d < 0 || d > (double)NUMERIC_DATE_MAX) return -1;
        *out = (int64_t)floor(d);
        return 0;
    }
    return -1;
}

static json_object *parse_object(const char *s, size_t n)
{
    json_tokener *tok = json_tokener_new_ex(16);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    if (o && (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != n ||
              !json_object_is_type(o, json_type_object))) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static int read_claims(json_object *o, jwt_claims *c, char *err, size_t errlen)
{
    json_object *v;

    if (!json_object_object_get_ex(o, "exp", &v)) {
        snprintf(err, errlen, "the token has no exp (an expiry is required)");
        return -1;
    }
    if (numeric_date(v, &c->exp) < 0 || c->exp == 0) {
        snprintf(err, errlen, "exp is not a NumericDate (seconds since 1970)");
        return -1;
    }
    if (json_object_object_get_ex(o, "nbf", &v) && numeric_date(v, &c->nbf) < 0) {
        snprintf(err, errlen, "nbf is not a NumericDate (seconds since 1970)");
        return -1;
    }
    if (json_object_object_get_ex(o, "iat", &v) && numeric_date(v, &c->iat) < 0) {
        snprintf(err, errlen, "iat is not a NumericDate (seconds since 1970)");
        return -1;
    }
    if (json_object_object_get_ex(o, "filters", &v)) {
        size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
        if (!json_object_is_type(v, json_type_array) || n == 0 || n > JWT_MAX_FILTERS) {
            snprintf(err, errlen, "filters must be a list of 1 to %d filter ids", JWT_MAX_FILTERS);
            return -1;
        }
        c->filters = xcalloc(n, sizeof *c->filters);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(v, i);
            if (!json_object_is_type(e, json_type_string) || !jwt_filter_id_ok(json_object_get_string(e))) {
                snprintf(err, errlen, "filters[%zu] is not a filter id (a string of decimal digits)", i);
                return -1;
            }
            c->filters[c->nfilters++] = xstrdup(json_object_get_string(e));
        }
    }
    return 0;
}

/* ---- signing and verifying ----------------------------------------------------- */

static void mac(const void *key, size_t keylen, const char *data, size_t n, unsigned char out[SIG_LEN])
{
    unsigned int len = SIG_LEN;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, n, out, &len);
}

int jwt_sign(const void *key, size_t keylen, const jwt_claims *c, char **out, char *err, size_t errlen)
{
    unsigned char sig[SIG_LEN];
    buf t = BUF_INIT;

    if (keylen < JWT_KEY_MIN) {
        snprintf(err, errlen, "the key is %zu bytes; HS256 needs at least %d", keylen, JWT_KEY_MIN);
        return -1;
    }
    if (c->exp <= 0 || c->exp > NUMERIC_DATE_MAX || c->nbf < 0 || c->iat < 0) {
        snprintf(err, errlen, "exp must be a time in seconds since 1970");
        return -1;
    }
    if (c->filters && (c->nfilters == 0 || c->nfilters > JWT_MAX_FILTERS)) {
        snprintf(err, errlen, "a scope needs 1 to %d filter ids", JWT_MAX_FILTERS);
        return -1;
    }
    for (size_t i = 0; c->filters && i < c->nfilters; i++) {
        if (!jwt_filter_id_ok(c->filters[i])) {
            snprintf(err, errlen, "filters[%zu] is not a filter id (decimal digits)", i);
            return -1;
        }
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "exp", json_object_new_int64(c->exp));
    if (c->iat) json_object_object_add(o, "iat", json_object_new_int64(c->iat));
    if (c->nbf) json_object_object_add(o, "nbf", json_object_new_int64(c->nbf));
    if (c->filters) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < c->nfilters; i++) json_object_array_add(a, json_object_new_string(c->filters[i]));
        json_object_object_add(o, "filters", a);
    }
    size_t plen;
    const char *payload = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &plen);
    b64url_append(&t, JWT_HEADER, sizeof JWT_HEADER - 1);
    buf_appendc(&t, '.');
    b64url_append(&t, payload, plen);
    json_object_put(o);
    mac(key, keylen, t.data, t.len, sig);
    buf_appendc(&t, '.');
    b64url_append(&t, sig, SIG_LEN);
    explicit_bzero(sig, sizeof sig);
    *out = buf_detach(&t, NULL);
    return 0;
}

/* The header: {"alg":"HS256"} with an optional "typ":"JWT"; no "crit". */
static int check_header(const buf *h, char *err, size_t errlen)
{
    json_object *o = parse_object(h->data, h->len), *v;
    int rc = -1;

    if (o == NULL) {
        snprintf(err, errlen, "the header is not a JSON object");
        return -1;
    }
    if (!json_object_object_get_ex(o, "alg", &v) || !json_object_is_type(v, json_type_string)) {
        snprintf(err, errlen, "the header names no alg");
        goto done;
    }
    const char *alg = json_object_get_string(v);
    if (strcmp(alg, "HS256") != 0) {
        int plain = strlen(alg) <= 12;
        for (const char *p = alg; plain && *p; p++) plain = isalnum((unsigned char)*p);
        snprintf(err, errlen, "alg %s is not accepted (only HS256)", plain ? alg : "(unprintable)");
        goto done;
    }
    if (json_object_object_get_ex(o, "typ", &v) &&
        (!json_object_is_type(v, json_type_string) || strcasecmp(json_object_get_string(v), "JWT") != 0)) {
        snprintf(err, errlen, "typ is not JWT");
        goto done;
    }
    if (json_object_object_get_ex(o, "crit", &v)) {
        snprintf(err, errlen, "the header has crit extensions, none of which are understood");
        goto done;
    }
    rc = 0;
done:
    json_object_put(o);
    return rc;
}

int jwt_verify(const void *key, size_t keylen, const char *token, int64_t now, jwt_claims *out, char *err,
               size_t errlen)
{
    buf part = BUF_INIT;
    unsigned char want[SIG_LEN];
    const char *d1, *d2;
    json_object *o = NULL;
    size_t n;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (keylen < JWT_KEY_MIN) {
        snprintf(err, errlen, "no usable key (HS256 needs at least %d bytes)", JWT_KEY_MIN);
        return -1;
    }
    n = token ? strnlen(token, JWT_MAX_LEN + 1) : 0;
    if (n == 0 || n > JWT_MAX_LEN) {
        snprintf(err, errlen, n ? "the token is longer than %d bytes" : "the token is empty", JWT_MAX_LEN);
        return -1;
    }
    d1 = memchr(token, '.', n);
    d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - token)) != NULL || d2 + 1 == token + n) {
        snprintf(err, errlen, "not a signed JWT (header.payload.signature)");
        return -1;
    }
    if (b64url_decode(token, (size_t)(d1 - token), &part) < 0) {
        snprintf(err, errlen, "the header is not base64url");
        goto done;
    }
    if (check_header(&part, err, errlen) < 0) goto done;
    if (b64url_decode(d2 + 1, n - (size_t)(d2 + 1 - token), &part) < 0 || part.len != SIG_LEN) {
        snprintf(err, errlen, "the signature is not a base64url HS256 signature");
        goto done;
    }
    mac(key, keylen, token, (size_t)(d2 - token), want);
    if (CRYPTO_memcmp(want, part.data, SIG_LEN) != 0) {
        snprintf(err, errlen, "the signature does not match");
        goto done;
    }
    /* Signed by us: now the claims may be read. */
    if (b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &part) < 0 || (o = parse_object(part.data, part.len)) == NULL) {
        snprintf(err, errlen, "the claims are not a base64url JSON object");
        goto done;
    }
    if (read_claims(o, out, err, errlen) < 0) goto done;
    if (now >= out->exp + JWT_LEEWAY_S) {
        snprintf(err, errlen, "the token expired");
        goto done;
    }
    if (out->nbf && now + JWT_LEEWAY_S < out->nbf) {
        snprintf(err, errlen, "the token is not valid yet (nbf)");
        goto done;
    }
    rc = 0;
done:
    explicit_bzero(want, sizeof want);
    json_object_put(o);
    buf_free(&part);
    if (rc < 0) jwt_claims_free(out);
    return rc;
}

/* ---- the key ---------------------------------------------------------------------- */

struct jwt_key {
    pthread_rwlock_t lock;
    char *path;
    unsigned char *secret;
    size_t len;
};

static int key_load(jwt_key *k, char *err, size_t errlen)
{
    buf text = BUF_INIT;
    unsigned char *old;
    size_t oldlen;
    int rc = -1;

    if (secretfile_read(k->path, JWT_KEY_MAX, "jwt.file_readable", &text, err, errlen) < 0) goto done;
    while (text.len && isspace((unsigned char)text.data[text.len - 1])) text.len--;
    if (text.len < JWT_KEY_MIN) {
        snprintf(err, errlen, "%s: %zu bytes; an HS256 key needs at least %d (e.g. head -c 48 /dev/urandom | base64)",
                 k->path, text.len, JWT_KEY_MIN);
        goto done;
    }
    unsigned char *s = xmalloc(text.len);
    memcpy(s, text.data, text.len);
    pthread_rwlock_wrlock(&k->lock);
    old = k->secret;
    oldlen = k->len;
    k->secret = s;
    k->len = text.len;
    pthread_rwlock_unlock(&k->lock);
    if (old) explicit_bzero(old, oldlen);
    free(old);
    log_info("jwt.key_loaded", "file=%s bytes=%zu", k->path, text.len);
    rc = 0;
done:
    if (text.data) explicit_bzero(text.data, text.cap);
    buf_free(&text);
    return rc;
}

jwt_key *jwt_key_new(const char *path, char *err, size_t errlen)
{
    jwt_key *k = xcalloc(1, sizeof *k);
    pthread_rwlock_init(&k->lock, NULL);
    k->path = xstrdup(path);
    if (key_load(k, err, errlen) < 0) {
        jwt_key_free(k);
        return NULL;
    }
    return k;
}

void jwt_key_free(jwt_key *k)
{
    if (k == NULL) return;
    if (k->secret) explicit_bzero(k->secret, k->len);
    free(k->secret);
    free(k->path);
    pthread_rwlock_destroy(&k->lock);
    free(k);
}

int jwt_key_reload(jwt_key *k, char *err, size_t errlen)
{
    return key_load(k, err, errlen);
}

int jwt_key_sign(jwt_key *k, const jwt_claims *c, char **out, char *err, size_t errlen)
{
    pthread_rwlock_rdlock(&k->lock);
    int rc = jwt_sign(k->secret, k->len, c, out, err, errlen);
    pthread_rwlock_unlock(&k->lock);
    return rc;
}

int jwt_key_verify(jwt_key *k, const char *token, int64_t now, jwt_claims *out, char *err, size_t errlen)
{
    pthread_rwlock_rdlock(&k->lock);
    int rc = jwt_verify(k->secret, k->len, token, now, out, err, errlen);
    pthread_rwlock_unlock(&k->lock);
    return rc;
}
