/* post — the canonical tweet being built, and the shared field readers. See post.h. */
#include "post.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void post_reset(post *p, const jdoc *d, char *err, size_t errlen)
{
    buf keep[6] = {p->hashtags, p->mentions, p->urls, p->own_id, p->own_text, p->own_url};
    memset(p, 0, sizeof *p);
    p->d = d;
    p->err = err;
    p->errlen = errlen;
    p->hashtags = keep[0];
    p->mentions = keep[1];
    p->urls = keep[2];
    p->own_id = keep[3];
    p->own_text = keep[4];
    p->own_url = keep[5];
    buf_reset(&p->hashtags);
    buf_reset(&p->mentions);
    buf_reset(&p->urls);
    buf_reset(&p->own_id);
    buf_reset(&p->own_text);
    buf_reset(&p->own_url);
}

void post_free(post *p)
{
    if (p == NULL) return;
    buf_free(&p->hashtags);
    buf_free(&p->mentions);
    buf_free(&p->urls);
    buf_free(&p->own_id);
    buf_free(&p->own_text);
    buf_free(&p->own_url);
}

int post_reject(post *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

const char *post_kind_name(jdoc_type t)
{
    switch (t) {
    case JDOC_NULL: return "null";
    case JDOC_FALSE: case JDOC_TRUE: return "a boolean";
    case JDOC_NUMBER: return "a number";
    case JDOC_STRING: return "a string";
    case JDOC_ARRAY: return "an array";
    case JDOC_OBJECT: return "an object";
    default: return "nothing";
    }
}

/* Strings must not carry NUL characters (C consumers and SQL archives cannot hold them). */
int post_get_str(post *p, int node, const char *what, post_str *v)
{
    jdoc_type t = jdoc_kind(p->d, node);
    v->s = NULL;
    v->n = 0;
    if (t == JDOC_NONE || t == JDOC_NULL) return 0;
    if (t != JDOC_STRING) return post_reject(p, "%s: expected a string, found %s", what, post_kind_name(t));
    v->s = jdoc_str(p->d, node, &v->n);
    if (memchr(v->s, '\0', v->n))
        return post_reject(p, "%s: contains a NUL character (\\u0000) at byte %zu", what, jdoc_offset(p->d, node));
    return 0;
}

int post_get_count(post *p, int node, const char *what, long long *v, int *present)
{
    jdoc_type t = jdoc_kind(p->d, node);
    size_t n, i;
    const char *s;
    unsigned long long x = 0;

    *present = 0;
    *v = 0;
    if (t == JDOC_NONE || t == JDOC_NULL) return 0;
    if (t != JDOC_NUMBER)
        return post_reject(p, "%s: expected a non-negative integer, found %s", what, post_kind_name(t));
    s = jdoc_str(p->d, node, &n);
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return post_reject(p, "%s: expected a non-negative integer, found %.*s", what, (int)(n > 32 ? 32 : n), s);
        x = x * 10 + (unsigned)(s[i] - '0');
        if (x > (unsigned long long)INT64_MAX) return post_reject(p, "%s: integer too large", what);
    }
    *v = (long long)x;
    *present = 1;
    return 0;
}

/* Ids above 2^53 or 2^63 lose nothing: numbers are kept as their digits. */
int post_get_id(post *p, int node, const char *what, post_str *v)
{
    jdoc_type t = jdoc_kind(p->d, node);
    if (t == JDOC_NUMBER) {
        v->s = jdoc_str(p->d, node, &v->n);
        for (size_t i = 0; i < v->n; i++)
            if (v->s[i] < '0' || v->s[i] > '9')
                return post_reject(p, "%s: expected a string or a non-negative integer, found %.*s", what,
                                   (int)(v->n > 32 ? 32 : v->n), v->s);
    } else if (post_get_str(p, node, what, v) < 0)
        return -1;
    if (v->s == NULL) return 0;
    if (v->n == 0) return post_reject(p, "%s: empty", what);
    if (v->n > POST_ID_MAX) return post_reject(p, "%s: longer than %d bytes", what, POST_ID_MAX);
    for (size_t i = 0; i < v->n; i++)
        if ((unsigned char)v->s[i] < 0x20 || v->s[i] == 0x7f)
            return post_reject(p, "%s: contains a control character", what);
    return 0;
}

int post_expect_object(post *p, int node, const char *what)
{
    jdoc_type t = jdoc_kind(p->d, node);
    if (t == JDOC_NONE || t == JDOC_NULL || t == JDOC_OBJECT) return 0;
    return post_reject(p, "%s: expected an object, found %s", what, post_kind_name(t));
}

/* ---- dates ---- */

static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dim[m - 1];
}

int post_parse_date(const char *s, size_t n, char out[24])
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int y, mo = 0, d, h, mi, sec, oh = 0, om = 0, sign = 0;

    if (n == 30 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[13] == ':' && s[16] == ':' &&
        s[19] == ' ' && s[25] == ' ' && (s[20] == '+' || s[20] == '-')) {
        for (int i = 0; i < 12; i++)
            if (memcmp(s + 4, months + 3 * i, 3) == 0) mo = i + 1;
        if (mo == 0 || num(s + 8, 2, &d) || num(s + 11, 2, &h) || num(s + 14, 2, &mi) ||
            num(s + 17, 2, &sec) || num(s + 21, 2, &oh) || num(s + 23, 2, &om) || num(s + 26, 4, &y))
            return -1;
        sign = s[20] == '-' ? -1 : 1;
    } else if (n >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':') {
        size_t i = 19;
        if (num(s, 4, &y) || num(s + 5, 2, &mo) || num(s + 8, 2, &d) || num(s + 11, 2, &h) ||
            num(s + 14, 2, &mi) || num(s + 17, 2, &sec))
            return -1;
        if (s[i] == '.') {
            i++;
            if (i >= n || s[i] < '0' || s[i] > '9') return -1;
            while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        }
        if (i + 1 == n && s[i] == 'Z') {
            sign = 0;
        } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
            if (num(s + i + 1, 2, &oh) || num(s + i + 4, 2, &om)) return -1;
            sign = s[i] == '-' ? -1 : 1;
        } else if (i + 5 == n && (s[i] == '+' || s[i] == '-')) {
            if (num(s + i + 1, 2, &oh) || num(s + i + 3, 2, &om)) return -1;
            sign = s[i] == '-' ? -1 : 1;
        } else
            return -1;
    } else
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 ||
        oh > 23 || om > 59)
        return -1;
    long long t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return post_date_from_epoch(t - sign * (oh * 3600 + om * 60), out);
}

int post_date_from_epoch(long long t, char out[24])
{
    long long days = (t >= 0 ? t : t - 86399) / 86400, rem = t - days * 86400, yy;
    int mo, d;
    if (t < -62167219200LL || t > 253402300799LL) return -1;   /* 0000-01-01 .. 9999-12-31 */
    civil_from_days(days, &yy, &mo, &d);
    /* "YYYY-MM-DDTHH:MM:SSZ" by hand: this runs once per tweet */
    int v[6] = {(int)yy, mo, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60)};
    static const unsigned char at[6] = {0, 5, 8, 11, 14, 17}, width[6] = {4, 2, 2, 2, 2, 2};
    memcpy(out, "0000-00-00T00:00:00Z", 21);
    for (int k = 0; k < 6; k++)
        for (int j = at[k] + width[k] - 1, x = v[k]; j >= at[k]; j--, x /= 10) out[j] = (char)('0' + x % 10);
    return 0;
}

int post_get_date(post *p, int node, const char *what)
{
    post_str v;
    if (post_get_str(p, node, what, &v) < 0) return -1;
    if (v.s == NULL) return post_reject(p, "no %s", what);
    if (post_parse_date(v.s, v.n, p->created_at) < 0)
        return post_reject(p, "%s: not a date like \"Wed Oct 10 20:19:24 +0000 2018\" or \"2018-10-10T20:19:24Z\"",
                           what);
    return 0;
}

/* ---- lists ---- */

void post_list_add(buf *list, const char *s, size_t n, char sign)
{
    while (sign && n > 0 && s[0] == sign) {   /* all of them, or a second pass would strip more */
        s++;
        n--;
    }
    if (n == 0) return;
    if (list->len) buf_appendc(list, ',');
    buf_append_json_str(list, s, n);
}

int post_list_from(post *p, buf *list, int arr, const char *what, const char *field, const char *alt, char sign)
{
    jdoc_type t = jdoc_kind(p->d, arr);
    char name[96];
    int i = 0;

    if (t == JDOC_NONE || t == JDOC_NULL) return 0;
    if (t != JDOC_ARRAY) return post_reject(p, "%s: expected an array, found %s", what, post_kind_name(t));
    for (int e = jdoc_child(p->d, arr); e >= 0; e = jdoc_next(p->d, e), i++) {
        jdoc_type et = jdoc_kind(p->d, e);
        int vnode = e;
        post_str v;
        snprintf(name, sizeof name, "%s[%d]", what, i);
        if (field == NULL) {
            if (et != JDOC_STRING) return post_reject(p, "%s: expected a string, found %s", name, post_kind_name(et));
        } else {
            if (et != JDOC_OBJECT) return post_reject(p, "%s: expected an object, found %s", name, post_kind_name(et));
            vnode = jdoc_get(p->d, e, field);
            if (alt && (jdoc_kind(p->d, vnode) == JDOC_NONE || jdoc_kind(p->d, vnode) == JDOC_NULL))
                vnode = jdoc_get(p->d, e, alt);
        }
        if (post_get_str(p, vnode, name, &v) < 0) return -1;
        if (v.s == NULL) continue;
        if (list == &p->urls)
            post_url_add(p, v.s, v.n);
        else
            post_list_add(list, v.s, v.n, sign);
    }
    return 0;
}

void post_url_add(post *p, const char *s, size_t n)
{
    if (post_is_web_url(s, n)) post_list_add(&p->urls, s, n, 0);
}

int post_is_web_url(const char *s, size_t n)
{
    size_t scheme = n >= 8 && memcmp(s, "https://", 8) == 0 ? 8 : n >= 7 && memcmp(s, "http://", 7) == 0 ? 7 : 0;
    if (scheme == 0 || n == scheme) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

/* ---- the canonical form ---- */

static void append_u64(buf *b, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(b, tmp + i, sizeof tmp - i);
}

static void opt_str(buf *out, const char *key, post_str v)
{
    if (v.s == NULL) return;
    buf_appends(out, key);
    buf_append_json_str(out, v.s, v.n);
}

/* key (ending in '[') + the list's members + ']' */
static void list(buf *out, const char *key, const buf *members)
{
    buf_appends(out, key);
    buf_append(out, members->data, members->len);
    buf_appendc(out, ']');
}

void post_write(const post *p, buf *out)
{
    buf_reserve(out, 160 + p->text.n + p->hashtags.len + p->mentions.len + p->urls.len);
    buf_appends(out, "{\"id\":");
    buf_append_json_str(out, p->id.s, p->id.n);
    buf_appends(out, ",\"network\":");
    buf_append_json_str(out, p->network.s, p->network.n);
    buf_appends(out, ",\"text\":");
    buf_append_json_str(out, p->text.s, p->text.n);
    buf_appends(out, ",\"user\":{\"screen_name\":");
    buf_append_json_str(out, p->screen_name.s, p->screen_name.n);
    opt_str(out, ",\"name\":", p->name);
    if (p->has_followers) {
        buf_appends(out, ",\"followers_count\":");
        append_u64(out, (unsigned long long)p->followers);
    }
    buf_appends(out, "},\"created_at\":\"");
    buf_append(out, p->created_at, 20);
    buf_appendc(out, '"');
    if (p->lang.s && p->lang.n) opt_str(out, ",\"lang\":", p->lang);
    list(out, ",\"hashtags\":[", &p->hashtags);
    list(out, ",\"mentions\":[", &p->mentions);
    list(out, ",\"urls\":[", &p->urls);
    buf_appends(out, ",\"retweet_count\":");
    append_u64(out, (unsigned long long)p->retweets);
    opt_str(out, ",\"retweeted_id\":", p->retweeted_id);
    opt_str(out, ",\"in_reply_to_id\":", p->in_reply_to_id);
    opt_str(out, ",\"quoted_id\":", p->quoted_id);
    opt_str(out, ",\"url\":", p->url);
    if (p->has_sent_us) {
        buf_appends(out, ",\"sent_us\":");
        append_u64(out, (unsigned long long)p->sent_us);
    }
    buf_appendc(out, '}');
}
