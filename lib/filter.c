#include "filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "token.h"
#include "utf8.h"
#include "util.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void filter_limits_from_config(filter_limits *lim, const config *cfg)
{
    lim->name_max = (size_t)cfg->filter_name_max;
    lim->phrases_max = (size_t)cfg->filter_phrases_max;
    lim->phrase_max = (size_t)cfg->filter_phrase_max;
}

void filter_free(filter *f)
{
    if (f == NULL) return;
    free(f->name);
    for (size_t i = 0; i < f->ntrack; i++) free(f->track[i]);
    free(f->track);
    for (size_t i = 0; i < f->nlang; i++) free(f->lang[i]);
    free(f->lang);
    memset(f, 0, sizeof *f);
}

void filter_move(filter *dst, filter *src)
{
    if (dst == src) return;
    filter_free(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

/* Parse a whole JSON document; NULL with the reason on failure. */
static json_object *parse_json(const char *s, size_t len, char *err, size_t errlen)
{
    json_tokener *tok = json_tokener_new_ex(32);
    json_object *o = NULL;

    if (len > (size_t)INT32_MAX) {
        seterr(err, errlen, "body: too large");
        goto fail;
    }
    o = json_tokener_parse_ex(tok, s, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    if (o == NULL || je != json_tokener_success) {
        if (je == json_tokener_continue) je = json_tokener_error_parse_eof;
        seterr(err, errlen, "body: not JSON: %s at byte %zu", json_tokener_error_desc(je),
               json_tokener_get_parse_end(tok));
        json_object_put(o);
        o = NULL;
        goto fail;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            seterr(err, errlen, "body: not JSON: trailing data at byte %zu", i);
            json_object_put(o);
            o = NULL;
            goto fail;
        }
    }
    /* json-c takes trailing commas and single quotes, and turns a lone
     * surrogate escape ("\ud800") into U+FFFD: the strict reader refuses
     * those and anything else RFC 8259 does. Invalid UTF-8 is left to the
     * field checks, whose messages name the field (see strict_utf8). */
    jdoc *strict = jdoc_new();
    char why[160];
    if (jdoc_parse(strict, s, len, 32, why, sizeof why) < 0 && strncmp(why, "invalid UTF-8", 13) != 0) {
        seterr(err, errlen, "body: %s", why);
        json_object_put(o);
        o = NULL;
    }
    jdoc_free(strict);
fail:
    json_tokener_free(tok);
    return o;
}

/* s[0..n) is UTF-8 without NUL. */
static int text_ok(const char *s, size_t n)
{
    return memchr(s, '\0', n) == NULL && utf8_validate(s, n, NULL) == 0;
}

static int is_space(unsigned char c)
{
    return c == ' ' || (c < 0x20) || c == 0x7F;
}

/* Trim, collapse whitespace and control characters to one space, fold case.
 * Returns a new string of *outlen bytes. */
static char *normalize_phrase(const char *s, size_t n, size_t *outlen)
{
    char *out = xmalloc(n + 1);
    size_t j = 0;
    int pending = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_space(c)) {
            pending = j > 0;
            continue;
        }
        if (pending) out[j++] = ' ';
        pending = 0;
        out[j++] = (char)c;
    }
    out[j] = '\0';
    token_fold(out, j, out);
    *outlen = j;
    return out;
}

static void count_token(const char *tok, size_t len, char sign, void *ctx)
{
    (void)tok;
    (void)len;
    (void)sign;
    (*(size_t *)ctx)++;
}

/* Validate and normalise one phrase; label is "track[3]" or "q". Returns a
 * new string, or NULL with the reason. */
static char *check_phrase(const char *s, size_t n, const filter_limits *lim, const char *label, char *err,
                          size_t errlen)
{
    size_t len, terms = 0;
    char *p;

    if (!text_ok(s, n)) {
        seterr(err, errlen, "%s: not valid UTF-8 text", label);
        return NULL;
    }
    p = normalize_phrase(s, n, &len);
    if (len == 0) {
        seterr(err, errlen, "%s: phrase is empty", label);
        goto fail;
    }
    if (lim && len > lim->phrase_max) {
        seterr(err, errlen, "%s: phrase longer than %zu bytes", label, lim->phrase_max);
        goto fail;
    }
    token_scan(p, len, count_token, &terms);
    if (terms == 0) {
        seterr(err, errlen, "%s: phrase has no words (only punctuation)", label);
        goto fail;
    }
    return p;
fail:
    free(p);
    return NULL;
}

static int contains(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0) return 1;
    return 0;
}

static int parse_track(json_object *arr, const filter_limits *lim, filter *f, char *err, size_t errlen)
{
    if (!json_object_is_type(arr, json_type_array)) {
        seterr(err, errlen, "track: must be an array of phrases");
        return -1;
    }
    size_t n = json_object_array_length(arr);
    if (n == 0) {
        seterr(err, errlen, "track: must hold at least one phrase");
        return -1;
    }
    if (lim && n > lim->phrases_max) {
        seterr(err, errlen, "track: more than %zu phrases", lim->phrases_max);
        return -1;
    }
    f->track = xcalloc(n, sizeof *f->track);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        char label[32];
        snprintf(label, sizeof label, "track[%zu]", i);
        if (!json_object_is_type(e, json_type_string)) {
            seterr(err, errlen, "%s: must be a string", label);
            return -1;
        }
        char *p = check_phrase(json_object_get_string(e), (size_t)json_object_get_string_len(e), lim, label,
                               err, errlen);
        if (p == NULL) return -1;
        if (contains(f->track, f->ntrack, p))
            free(p);
        else
            f->track[f->ntrack++] = p;
    }
    return 0;
}

/* A language code: 2–3 letters, optionally followed by -subtags of 1–8
 * letters/digits ("en", "pt-br", "zh-hant", "und"). */
static int lang_ok(const char *s, size_t n)
{
    size_t i = 0, seg = 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) i++;
    if (i < 2 || i > 3) return 0;
    while (i < n) {
        if (s[i] != '-') return 0;
        i++;
        seg = 0;
        while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                         (s[i] >= '0' && s[i] <= '9'))) {
            i++;
            seg++;
        }
        if (seg < 1 || seg > 8) return 0;
    }
    return 1;
}

static int parse_lang(json_object *arr, filter *f, char *err, size_t errlen)
{
    if (arr == NULL || json_object_is_type(arr, json_type_null)) return 0;
    if (!json_object_is_type(arr, json_type_array)) {
        seterr(err, errlen, "lang: must be an array of language codes like [\"en\", \"pt-br\"]");
        return -1;
    }
    size_t n = json_object_array_length(arr);
    if (n > FILTER_LANGS_MAX) {
        seterr(err, errlen, "lang: more than %d language codes", FILTER_LANGS_MAX);
        return -1;
    }
    if (n) f->lang = xcalloc(n, sizeof *f->lang);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        const char *s = json_object_get_string(e);
        size_t len = json_object_is_type(e, json_type_string) ? (size_t)json_object_get_string_len(e) : 0;
        if (!json_object_is_type(e, json_type_string) || !lang_ok(s, len)) {
            seterr(err, errlen, "lang[%zu]: must be a language code like \"en\" or \"pt-br\"", i);
            return -1;
        }
        char *c = xstrndup(s, len);
        token_fold(c, len, c);
        if (contains(f->lang, f->nlang, c))
            free(c);
        else
            f->lang[f->nlang++] = c;
    }
    return 0;
}

static int parse_name(json_object *o, const filter_limits *lim, filter *f, char *err, size_t errlen)
{
    size_t max = lim ? lim->name_max : (size_t)-1;
    const char *s = json_object_get_string(o);
    size_t n = json_object_is_type(o, json_type_string) ? (size_t)json_object_get_string_len(o) : 0;

    if (json_object_is_type(o, json_type_string)) {
        while (n && is_space((unsigned char)*s)) {
            s++;
            n--;
        }
        while (n && is_space((unsigned char)s[n - 1])) n--;
    }
    if (!json_object_is_type(o, json_type_string) || n == 0 || n > max || !text_ok(s, n)) {
        if (lim)
            seterr(err, errlen, "name: must be 1–%zu bytes of UTF-8", lim->name_max);
        else
            seterr(err, errlen, "name: must be a non-empty UTF-8 string");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) {
            seterr(err, errlen, "name: must not contain control characters");
            return -1;
        }
    }
    f->name = xstrndup(s, n);
    return 0;
}

/* A stored id: 1–20 decimal digits, as filters:seq hands them out. */
static int stored_id_ok(const char *s, size_t n)
{
    if (n == 0 || n > 20 || s[0] == '0') return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* A stored time: a non-empty run of printable ASCII ("2026-01-02T03:04:05Z"). */
static int stored_time_ok(const char *s, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\') return 0;
    return 1;
}

static int parse_meta(json_object *obj, filter *f, char *err, size_t errlen)
{
    json_object *v;
    const char *s;

    if (!json_object_object_get_ex(obj, "id", &v) || !json_object_is_type(v, json_type_string) ||
        !stored_id_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
        seterr(err, errlen, "id: missing or invalid");
        return -1;
    }
    strlcpy_safe(f->id, json_object_get_string(v), sizeof f->id);
    if (!json_object_object_get_ex(obj, "version", &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 1) {
        seterr(err, errlen, "version: missing or invalid");
        return -1;
    }
    f->version = json_object_get_int64(v);
    static const char *const times[] = {"created_at", "updated_at"};
    for (size_t i = 0; i < 2; i++) {
        if (!json_object_object_get_ex(obj, times[i], &v) || !json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) >= FILTER_TIME_MAX ||
            !stored_time_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
            seterr(err, errlen, "%s: missing or invalid", times[i]);
            return -1;
        }
        s = json_object_get_string(v);
        strlcpy_safe(i == 0 ? f->created_at : f->updated_at, s, FILTER_TIME_MAX);
    }
    return 0;
}

static int parse_object(json_object *obj, const filter_limits *lim, int stored, filter *out, char *err,
                        size_t errlen)
{
    json_object *v;
    filter f;

    memset(&f, 0, sizeof f);
    if (!json_object_is_type(obj, json_type_object)) {
        seterr(err, errlen, "body: must be a JSON object with name and track");
        goto fail;
    }
    json_object_object_foreach(obj, key, val) {
        (void)val;
        if (strcmp(key, "name") && strcmp(key, "track") && strcmp(key, "lang") && strcmp(key, "id") &&
            strcmp(key, "version") && strcmp(key, "created_at") && strcmp(key, "updated_at")) {
            buf k = BUF_INIT;
            size_t klen = strlen(key);
            if (klen > 40) klen = 40;
            while (klen < strlen(key) && klen > 0 && ((unsigned char)key[klen] & 0xC0) == 0x80) klen--;
            int printable = 1;
            for (size_t i = 0; i < klen; i++)
                if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f) printable = 0;
            if (printable && utf8_validate(key, klen, NULL) == 0)
                buf_append(&k, key, klen);
            else
                buf_appends(&k, "(a name with control characters or invalid UTF-8)");
            seterr(err, errlen, "%s: unknown field (a filter has name, track and lang)", k.data);
            buf_free(&k);
            goto fail;
        }
    }
    if (!json_object_object_get_ex(obj, "name", &v)) {
        seterr(err, errlen, "name: missing");
        goto fail;
    }
    if (parse_name(v, lim, &f, err, errlen) < 0) goto fail;
    if (!json_object_object_get_ex(obj, "track", &v)) {
        seterr(err, errlen, "track: missing (an array of phrases)");
        goto fail;
    }
    if (parse_track(v, lim, &f, err, errlen) < 0) goto fail;
    v = NULL;
    json_object_object_get_ex(obj, "lang", &v);
    if (parse_lang(v, &f, err, errlen) < 0) goto fail;
    if (stored && parse_meta(obj, &f, err, errlen) < 0) goto fail;
    *out = f;
    return 0;
fail:
    filter_free(&f);
    memset(out, 0, sizeof *out);
    return -1;
}

/* After the fields passed: invalid UTF-8 left anywhere else (an ignored
 * field) still makes the body invalid. 0 ok, -1 with f freed. */
static int strict_utf8(const char *s, size_t len, filter *f, char *err, size_t errlen)
{
    size_t bad;
    if (utf8_validate(s, len, &bad) == 0) return 0;
    seterr(err, errlen, "body: invalid UTF-8 at byte %zu", bad);
    filter_free(f);
    return -1;
}

int filter_parse(const char *json, size_t len, const filter_limits *lim, filter *out, char *err, size_t errlen)
{
    json_object *o = parse_json(json, len, err, errlen);
    if (o == NULL) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    int r = parse_object(o, lim, 0, out, err, errlen);
    json_object_put(o);
    if (r == 0) r = strict_utf8(json, len, out, err, errlen);
    return r;
}

int filter_load(const char *json, size_t len, filter *out, char *err, size_t errlen)
{
    json_object *o = parse_json(json, len, err, errlen);
    if (o == NULL) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    int r = parse_object(o, NULL, 1, out, err, errlen);
    json_object_put(o);
    return r;
}

int filter_from_query(const char *q, size_t len, const filter_limits *lim, filter *out, char *err, size_t errlen)
{
    filter f;
    size_t start = 0, nphr = 1;

    memset(&f, 0, sizeof f);
    for (size_t i = 0; i < len; i++) nphr += q[i] == ',';
    if (nphr > lim->phrases_max) {
        seterr(err, errlen, "q: more than %zu phrases", lim->phrases_max);
        goto fail;
    }
    f.track = xcalloc(nphr, sizeof *f.track);
    for (size_t i = 0; i <= len; i++) {
        if (i < len && q[i] != ',') continue;
        char label[32];
        if (nphr == 1)
            snprintf(label, sizeof label, "q");
        else
            snprintf(label, sizeof label, "q (phrase %zu)", f.ntrack + 1);
        char *p = check_phrase(q + start, i - start, lim, label, err, errlen);
        if (p == NULL) goto fail;
        if (contains(f.track, f.ntrack, p))
            free(p);
        else
            f.track[f.ntrack++] = p;
        start = i + 1;
    }
    f.name = xstrdup("q");
    *out = f;
    return 0;
fail:
    filter_free(&f);
    memset(out, 0, sizeof *out);
    return -1;
}

void filter_to_json(const filter *f, buf *out)
{
    buf_appendc(out, '{');
    if (f->id[0]) {
        buf_appends(out, "\"id\":");
        buf_append_json_str(out, f->id, strlen(f->id));
        buf_appendc(out, ',');
    }
    buf_appends(out, "\"name\":");
    buf_append_json_str(out, f->name ? f->name : "", f->name ? strlen(f->name) : 0);
    buf_appends(out, ",\"track\":[");
    for (size_t i = 0; i < f->ntrack; i++) {
        if (i) buf_appendc(out, ',');
        buf_append_json_str(out, f->track[i], strlen(f->track[i]));
    }
    buf_appendc(out, ']');
    if (f->nlang) {
        buf_appends(out, ",\"lang\":[");
        for (size_t i = 0; i < f->nlang; i++) {
            if (i) buf_appendc(out, ',');
            buf_append_json_str(out, f->lang[i], strlen(f->lang[i]));
        }
        buf_appendc(out, ']');
    }
    if (f->version > 0) buf_printf(out, ",\"version\":%lld", f->version);
    if (f->created_at[0]) {
        buf_appends(out, ",\"created_at\":");
        buf_append_json_str(out, f->created_at, strlen(f->created_at));
    }
    if (f->updated_at[0]) {
        buf_appends(out, ",\"updated_at\":");
        buf_append_json_str(out, f->updated_at, strlen(f->updated_at));
    }
    buf_appendc(out, '}');
}

void filter_name_key(const char *name, buf *out)
{
    size_t n = strlen(name);
    while (n && is_space((unsigned char)*name)) {
        name++;
        n--;
    }
    while (n && is_space((unsigned char)name[n - 1])) n--;
    buf_reset(out);
    buf_reserve(out, n + 1);
    token_fold(name, n, out->data);
    out->len = n;
    out->data[n] = '\0';
}

int filter_notice_parse(const char *msg, size_t len, filter_notice *n, char *err, size_t errlen)
{
    json_object *o = parse_json(msg, len, err, errlen), *op, *v;
    int r = -1;

    memset(n, 0, sizeof *n);
    if (o == NULL) return -1;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "op", &op) ||
        !json_object_is_type(op, json_type_string)) {
        seterr(err, errlen, "notice: no op");
        goto fail;
    }
    if (strcmp(json_object_get_string(op), "put") == 0) {
        if (!json_object_object_get_ex(o, "filter", &v)) {
            seterr(err, errlen, "notice: put without filter");
            goto fail;
        }
        n->op = FILTER_NOTICE_PUT;
        r = parse_object(v, NULL, 1, &n->filter, err, errlen);
    } else if (strcmp(json_object_get_string(op), "del") == 0) {
        if (!json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_string) ||
            !stored_id_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
            seterr(err, errlen, "notice: del without id");
            goto fail;
        }
        n->op = FILTER_NOTICE_DEL;
        strlcpy_safe(n->filter.id, json_object_get_string(v), sizeof n->filter.id);
        r = 0;
    } else {
        seterr(err, errlen, "notice: unknown op");
    }
fail:
    json_object_put(o);
    return r;
}
