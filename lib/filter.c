#include "filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Parse a whole JSON body strictly (RFC 8259: no trailing commas, single
 * quotes, lone surrogate escapes or invalid UTF-8, nothing after the value)
 * into d. 0 ok; -1 with "body: <why> at byte N" in err. */
static int parse_body(jdoc *d, const char *s, size_t len, char *err, size_t errlen)
{
    char why[160];
    if (jdoc_parse(d, s, len, 32, why, sizeof why) == 0) return 0;
    seterr(err, errlen, "body: %s", why);
    return -1;
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
    buf folded = BUF_INIT;
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
    token_fold(&folded, out, j);
    buf_appends(&folded, "");   /* a NUL-terminated string even when empty */
    free(out);
    return buf_detach(&folded, outlen);
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
    token_scan(p, len, TOKEN_QUERY, count_token, &terms);
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

static int parse_track(const jdoc *d, int arr, const filter_limits *lim, filter *f, char *err, size_t errlen)
{
    if (jdoc_kind(d, arr) != JDOC_ARRAY) {
        seterr(err, errlen, "track: must be an array of phrases");
        return -1;
    }
    size_t n = 0;
    for (int e = jdoc_child(d, arr); e >= 0; e = jdoc_next(d, e)) n++;
    if (n == 0) {
        seterr(err, errlen, "track: must hold at least one phrase");
        return -1;
    }
    if (lim && n > lim->phrases_max) {
        seterr(err, errlen, "track: more than %zu phrases", lim->phrases_max);
        return -1;
    }
    f->track = xcalloc(n, sizeof *f->track);
    size_t i = 0;
    for (int e = jdoc_child(d, arr); e >= 0; e = jdoc_next(d, e), i++) {
        char label[32];
        size_t len;
        snprintf(label, sizeof label, "track[%zu]", i);
        if (jdoc_kind(d, e) != JDOC_STRING) {
            seterr(err, errlen, "%s: must be a string", label);
            return -1;
        }
        const char *s = jdoc_str(d, e, &len);
        char *p = check_phrase(s, len, lim, label, err, errlen);
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

static int parse_lang(const jdoc *d, int arr, filter *f, char *err, size_t errlen)
{
    jdoc_type t = jdoc_kind(d, arr);
    if (t == JDOC_NONE || t == JDOC_NULL) return 0;
    if (t != JDOC_ARRAY) {
        seterr(err, errlen, "lang: must be an array of language codes like [\"en\", \"pt-br\"]");
        return -1;
    }
    size_t n = 0;
    for (int e = jdoc_child(d, arr); e >= 0; e = jdoc_next(d, e)) n++;
    if (n > FILTER_LANGS_MAX) {
        seterr(err, errlen, "lang: more than %d language codes", FILTER_LANGS_MAX);
        return -1;
    }
    if (n) f->lang = xcalloc(n, sizeof *f->lang);
    size_t i = 0;
    for (int e = jdoc_child(d, arr); e >= 0; e = jdoc_next(d, e), i++) {
        size_t len = 0;
        const char *s = jdoc_kind(d, e) == JDOC_STRING ? jdoc_str(d, e, &len) : NULL;
        if (s == NULL || !lang_ok(s, len)) {
            seterr(err, errlen, "lang[%zu]: must be a language code like \"en\" or \"pt-br\"", i);
            return -1;
        }
        char *c = xstrndup(s, len);
        for (char *p = c; *p; p++)   /* lang_ok: ASCII letters, digits and '-' */
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
        if (contains(f->lang, f->nlang, c))
            free(c);
        else
            f->lang[f->nlang++] = c;
    }
    return 0;
}

static int parse_name(const jdoc *d, int node, const filter_limits *lim, filter *f, char *err, size_t errlen)
{
    size_t max = lim ? lim->name_max : (size_t)-1;
    size_t n = 0;
    const char *s = jdoc_kind(d, node) == JDOC_STRING ? jdoc_str(d, node, &n) : NULL;

    if (s) {
        while (n && is_space((unsigned char)*s)) {
            s++;
            n--;
        }
        while (n && is_space((unsigned char)s[n - 1])) n--;
    }
    if (s == NULL || n == 0 || n > max || !text_ok(s, n)) {
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

/* The member key of obj; the last one when the key is repeated, as json-c
 * and JavaScript's JSON.parse take it. -1 when absent. */
static int member(const jdoc *d, int obj, const char *key)
{
    size_t klen = strlen(key), n;
    int found = -1;
    for (int m = jdoc_child(d, obj); m >= 0; m = jdoc_next(d, m)) {
        const char *k = jdoc_key(d, m, &n);
        if (k && n == klen && memcmp(k, key, n) == 0) found = m;
    }
    return found;
}

/* A string member of obj that passes ok() and fits in out[0..size): copied
 * with its NUL. 0 ok, -1 missing or invalid. */
static int meta_str(const jdoc *d, int obj, const char *key, int (*ok)(const char *, size_t), char *out,
                    size_t size)
{
    int v = member(d, obj, key);
    size_t n = 0;
    const char *s = jdoc_kind(d, v) == JDOC_STRING ? jdoc_str(d, v, &n) : NULL;
    if (s == NULL || n >= size || !ok(s, n)) return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int parse_meta(const jdoc *d, int obj, filter *f, char *err, size_t errlen)
{
    static const char *const times[] = {"created_at", "updated_at"};
    char num[24];
    const char *why;
    size_t n = 0;

    if (meta_str(d, obj, "id", stored_id_ok, f->id, sizeof f->id) < 0) {
        seterr(err, errlen, "id: missing or invalid");
        return -1;
    }
    int v = member(d, obj, "version");
    const char *s = jdoc_kind(d, v) == JDOC_NUMBER ? jdoc_str(d, v, &n) : NULL;
    if (s && n < sizeof num) {   /* the number's text: an integer >= 1, nothing else */
        memcpy(num, s, n);
        num[n] = '\0';
    }
    if (s == NULL || n >= sizeof num || parse_ll(num, 1, INT64_MAX, &f->version, &why) < 0) {
        seterr(err, errlen, "version: missing or invalid");
        return -1;
    }
    for (size_t i = 0; i < 2; i++) {
        if (meta_str(d, obj, times[i], stored_time_ok, i == 0 ? f->created_at : f->updated_at, FILTER_TIME_MAX) < 0) {
            seterr(err, errlen, "%s: missing or invalid", times[i]);
            return -1;
        }
    }
    return 0;
}

static int known_field(const char *k, size_t n)
{
    static const char *const names[] = {"name", "track", "lang", "id", "version", "created_at", "updated_at"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (strlen(names[i]) == n && memcmp(names[i], k, n) == 0) return 1;
    return 0;
}

static int parse_object(const jdoc *d, int obj, const filter_limits *lim, int stored, filter *out, char *err,
                        size_t errlen)
{
    filter f;

    memset(&f, 0, sizeof f);
    if (jdoc_kind(d, obj) != JDOC_OBJECT) {
        seterr(err, errlen, "body: must be a JSON object with name and track");
        goto fail;
    }
    for (int m = jdoc_child(d, obj); m >= 0; m = jdoc_next(d, m)) {
        size_t klen, shown;
        const char *key = jdoc_key(d, m, &klen);
        if (known_field(key, klen)) continue;
        /* Quote at most 40 bytes of the name, cut on a character boundary,
         * unless it holds control characters (the message goes into logs). */
        shown = klen > 40 ? 40 : klen;
        while (shown < klen && shown > 0 && ((unsigned char)key[shown] & 0xC0) == 0x80) shown--;
        int printable = 1;
        for (size_t i = 0; i < shown; i++)
            if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f) printable = 0;
        if (printable)
            seterr(err, errlen, "%.*s: unknown field (a filter has name, track and lang)", (int)shown, key);
        else
            seterr(err, errlen, "(a name with control characters): unknown field (a filter has name, track and lang)");
        goto fail;
    }
    int v = member(d, obj, "name");
    if (v < 0) {
        seterr(err, errlen, "name: missing");
        goto fail;
    }
    if (parse_name(d, v, lim, &f, err, errlen) < 0) goto fail;
    v = member(d, obj, "track");
    if (v < 0) {
        seterr(err, errlen, "track: missing (an array of phrases)");
        goto fail;
    }
    if (parse_track(d, v, lim, &f, err, errlen) < 0) goto fail;
    if (parse_lang(d, member(d, obj, "lang"), &f, err, errlen) < 0) goto fail;
    if (stored && parse_meta(d, obj, &f, err, errlen) < 0) goto fail;
    *out = f;
    return 0;
fail:
    filter_free(&f);
    memset(out, 0, sizeof *out);
    return -1;
}

/* Parse json[0..len) as a filter (stored: with its id, version and times). */
static int parse_filter(const char *json, size_t len, const filter_limits *lim, int stored, filter *out, char *err,
                        size_t errlen)
{
    jdoc *d = jdoc_new();
    int r = -1;
    memset(out, 0, sizeof *out);
    if (parse_body(d, json, len, err, errlen) == 0) r = parse_object(d, 0, lim, stored, out, err, errlen);
    jdoc_free(d);
    return r;
}

int filter_parse(const char *json, size_t len, const filter_limits *lim, filter *out, char *err, size_t errlen)
{
    return parse_filter(json, len, lim, 0, out, err, errlen);
}

int filter_load(const char *json, size_t len, filter *out, char *err, size_t errlen)
{
    return parse_filter(json, len, NULL, 1, out, err, errlen);
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
    token_fold(out, name, n);
    buf_appends(out, "");   /* NUL-terminated even when empty */
}

int filter_notice_parse(const char *msg, size_t len, filter_notice *n, char *err, size_t errlen)
{
    jdoc *d = jdoc_new();
    int r = -1, op, v;
    size_t oplen = 0;
    const char *ops;

    memset(n, 0, sizeof *n);
    if (parse_body(d, msg, len, err, errlen) < 0) goto done;
    op = member(d, 0, "op");
    ops = jdoc_kind(d, op) == JDOC_STRING ? jdoc_str(d, op, &oplen) : NULL;
    if (ops == NULL) {
        seterr(err, errlen, "notice: no op");
        goto done;
    }
    if (oplen == 3 && memcmp(ops, "put", 3) == 0) {
        v = member(d, 0, "filter");
        if (v < 0) {
            seterr(err, errlen, "notice: put without filter");
            goto done;
        }
        n->op = FILTER_NOTICE_PUT;
        r = parse_object(d, v, NULL, 1, &n->filter, err, errlen);
    } else if (oplen == 3 && memcmp(ops, "del", 3) == 0) {
        n->op = FILTER_NOTICE_DEL;
        if (meta_str(d, 0, "id", stored_id_ok, n->filter.id, sizeof n->filter.id) < 0) {
            seterr(err, errlen, "notice: del without id");
            goto done;
        }
        r = 0;
    } else {
        seterr(err, errlen, "notice: unknown op");
    }
done:
    jdoc_free(d);
    return r;
}
