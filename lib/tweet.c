/* tweet — input lines to birdfeed's canonical tweet. See tweet.h.
 *
 * One parse (jdoc), then the fields are looked up in canonical order and
 * written straight to out; on a reject, out is cut back to where it was.
 * The three input forms share one reading: v1.1 and canonical objects differ
 * only in where lists and the retweet id live, v2 keeps the tweet in `data`
 * and the author in `includes.users`. */
#include "tweet.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jdoc.h"

#define TWEET_MAX_DEPTH 32      /* real v1.1 objects nest about 10 deep */
#define TWEET_ID_MAX 64         /* bytes in an id */

typedef struct ctx {
    const jdoc *d;
    buf *out;
    char *err;
    size_t errlen;
} ctx;

typedef struct str {
    const char *s;          /* NULL when absent */
    size_t n;
} str;

__attribute__((format(printf, 2, 3)))
static int reject(ctx *c, const char *fmt, ...)
{
    va_list ap;
    if (c->errlen == 0) return -1;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *kind_name(jdoc_type t)
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

/* An optional string field: absent and null give s = NULL. A string must not
 * carry NUL characters (C consumers and SQL archives cannot hold them). */
static int get_str(ctx *c, int node, const char *what, str *v)
{
    jdoc_type t = jdoc_kind(c->d, node);
    v->s = NULL;
    v->n = 0;
    if (t == JDOC_NONE || t == JDOC_NULL) return 0;
    if (t != JDOC_STRING) return reject(c, "%s: expected a string, found %s", what, kind_name(t));
    v->s = jdoc_str(c->d, node, &v->n);
    if (memchr(v->s, '\0', v->n))
        return reject(c, "%s: contains a NUL character (\\u0000) at byte %zu", what, jdoc_offset(c->d, node));
    return 0;
}

/* An optional non-negative integer field (absent/null: *present = 0). */
static int get_count(ctx *c, int node, const char *what, long long *v, int *present)
{
    jdoc_type t = jdoc_kind(c->d, node);
    size_t n, i;
    const char *s;
    unsigned long long x = 0;

    *present = 0;
    *v = 0;
    if (t == JDOC_NONE || t == JDOC_NULL) return 0;
    if (t != JDOC_NUMBER) return reject(c, "%s: expected a non-negative integer, found %s", what, kind_name(t));
    s = jdoc_str(c->d, node, &n);
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return reject(c, "%s: expected a non-negative integer, found %.*s", what, (int)(n > 32 ? 32 : n), s);
        x = x * 10 + (unsigned)(s[i] - '0');
        if (x > (unsigned long long)INT64_MAX) return reject(c, "%s: integer too large", what);
    }
    *v = (long long)x;
    *present = 1;
    return 0;
}

/* An id: a string, or a non-negative integer kept digit for digit (ids above
 * 2^53 or 2^63 lose nothing). Absent/null: v->s = NULL. */
static int get_id(ctx *c, int node, const char *what, str *v)
{
    jdoc_type t = jdoc_kind(c->d, node);
    if (t == JDOC_NUMBER) {
        v->s = jdoc_str(c->d, node, &v->n);
        for (size_t i = 0; i < v->n; i++)
            if (v->s[i] < '0' || v->s[i] > '9')
                return reject(c, "%s: expected a string or a non-negative integer, found %.*s", what,
                              (int)(v->n > 32 ? 32 : v->n), v->s);
    } else if (get_str(c, node, what, v) < 0)
        return -1;
    if (v->s == NULL) return 0;
    if (v->n == 0) return reject(c, "%s: empty", what);
    if (v->n > TWEET_ID_MAX) return reject(c, "%s: longer than %d bytes", what, TWEET_ID_MAX);
    for (size_t i = 0; i < v->n; i++)
        if ((unsigned char)v->s[i] < 0x20 || v->s[i] == 0x7f)
            return reject(c, "%s: contains a control character", what);
    return 0;
}

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

/* "Wed Oct 10 20:19:24 +0000 2018" (v1.1) or ISO 8601 with a zone
 * ("2018-10-10T20:19:24Z", "2018-10-10T20:19:24.000Z", "…+02:00") →
 * "2018-10-10T20:19:24Z" in out (room for 32 bytes). */
static int parse_date(const char *s, size_t n, char *out)
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
    t -= sign * (oh * 3600 + om * 60);
    long long days = (t >= 0 ? t : t - 86399) / 86400, rem = t - days * 86400, yy;
    civil_from_days(days, &yy, &mo, &d);
    if (yy < 0 || yy > 9999) return -1;
    /* "YYYY-MM-DDTHH:MM:SSZ" by hand: this runs once per tweet */
    int v[6] = {(int)yy, mo, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60)};
    static const unsigned char at[6] = {0, 5, 8, 11, 14, 17}, width[6] = {4, 2, 2, 2, 2, 2};
    memcpy(out, "0000-00-00T00:00:00Z", 21);
    for (int k = 0; k < 6; k++)
        for (int j = at[k] + width[k] - 1, x = v[k]; j >= at[k]; j--, x /= 10) out[j] = (char)('0' + x % 10);
    return 0;
}

/* ---- lists ---- */

/* Append ,"name":[…] from either a canonical array of strings (canon >= 0)
 * or an entities array of objects whose field `field` (else `alt`) holds the
 * value. `sign` ('#' or '@', or 0) is dropped from the front of each value. */
static int emit_list(ctx *c, const char *key, const char *what, int canon, int ents, const char *field,
                     const char *alt, char sign)
{
    jdoc_type t;
    int src = canon >= 0 ? canon : ents, i = 0, first = 1;
    char name[96];

    buf_appends(c->out, key);   /* ,"name": */
    buf_appendc(c->out, '[');
    t = jdoc_kind(c->d, src);
    if (t != JDOC_NONE && t != JDOC_NULL && t != JDOC_ARRAY)
        return reject(c, "%s: expected an array, found %s", what, kind_name(t));
    for (int e = jdoc_child(c->d, src); e >= 0; e = jdoc_next(c->d, e), i++) {
        jdoc_type et = jdoc_kind(c->d, e);
        int vnode = e;
        str v;
        if (canon >= 0) {
            if (et != JDOC_STRING) goto wrong;
        } else {
            if (et != JDOC_OBJECT) goto wrong;
            vnode = jdoc_get(c->d, e, field);
            if (alt && (jdoc_kind(c->d, vnode) == JDOC_NONE || jdoc_kind(c->d, vnode) == JDOC_NULL))
                vnode = jdoc_get(c->d, e, alt);
            et = jdoc_kind(c->d, vnode);
            if (et == JDOC_NONE || et == JDOC_NULL) continue;
            if (et != JDOC_STRING) goto wrong;
        }
        v.s = jdoc_str(c->d, vnode, &v.n);
        if (memchr(v.s, '\0', v.n)) {
            snprintf(name, sizeof name, "%s[%d]", what, i);
            return get_str(c, vnode, name, &v);   /* names the NUL */
        }
        while (sign && v.n > 0 && v.s[0] == sign) {   /* all of them, or a second pass would strip more */
            v.s++;
            v.n--;
        }
        if (v.n == 0) continue;
        if (!first) buf_appendc(c->out, ',');
        first = 0;
        buf_append_json_str(c->out, v.s, v.n);
        continue;
    wrong:
        snprintf(name, sizeof name, "%s[%d]", what, i);
        return reject(c, "%s: expected %s, found %s", name, canon >= 0 || vnode != e ? "a string" : "an object",
                      kind_name(et));
    }
    buf_appendc(c->out, ']');
    return 0;
}

/* ---- the three forms ---- */

/* The author of a v2 tweet: the includes.users entry whose id is author_id. */
static int v2_author(ctx *c, int root, int data)
{
    str author;
    int users = jdoc_get(c->d, jdoc_get(c->d, root, "includes"), "users");

    if (get_id(c, jdoc_get(c->d, data, "author_id"), "data.author_id", &author) < 0) return -1;
    if (author.s == NULL) return reject(c, "no user: data.author_id missing");
    for (int u = jdoc_child(c->d, users); u >= 0; u = jdoc_next(c->d, u)) {
        str id;
        if (get_id(c, jdoc_get(c->d, u, "id"), "includes.users[].id", &id) < 0) return -1;
        if (id.s && id.n == author.n && memcmp(id.s, author.s, id.n) == 0) return u;
    }
    return reject(c, "no user: author_id %.*s not in includes.users", (int)author.n, author.s);
}

/* The id of the retweeted tweet, if any. */
static int retweeted(ctx *c, int root, int t, int v2, str *rid)
{
    rid->s = NULL;
    if (v2) {
        int refs = jdoc_get(c->d, t, "referenced_tweets");
        for (int r = jdoc_child(c->d, refs); r >= 0; r = jdoc_next(c->d, r)) {
            str type;
            if (get_str(c, jdoc_get(c->d, r, "type"), "data.referenced_tweets[].type", &type) < 0) return -1;
            if (type.s && type.n == 9 && memcmp(type.s, "retweeted", 9) == 0)
                return get_id(c, jdoc_get(c->d, r, "id"), "data.referenced_tweets[].id", rid);
        }
        return 0;
    }
    int rs = jdoc_get(c->d, root, "retweeted_status");
    if (rs >= 0 && jdoc_kind(c->d, rs) != JDOC_NULL) {
        if (jdoc_kind(c->d, rs) != JDOC_OBJECT)
            return reject(c, "retweeted_status: expected an object, found %s", kind_name(jdoc_kind(c->d, rs)));
        if (get_id(c, jdoc_get(c->d, rs, "id_str"), "retweeted_status.id_str", rid) < 0) return -1;
        if (rid->s == NULL && get_id(c, jdoc_get(c->d, rs, "id"), "retweeted_status.id", rid) < 0) return -1;
        if (rid->s == NULL) return reject(c, "retweeted_status: no id");
        return 0;
    }
    return get_id(c, jdoc_get(c->d, root, "retweeted_id"), "retweeted_id", rid);
}

static int expect_object(ctx *c, int node, const char *what)
{
    jdoc_type t = jdoc_kind(c->d, node);
    if (t == JDOC_NONE || t == JDOC_NULL || t == JDOC_OBJECT) return 0;
    return reject(c, "%s: expected an object, found %s", what, kind_name(t));
}

static int normalize(ctx *c)
{
    const jdoc *d = c->d;
    int root = 0, t, user, ents, ext, note = -1, v2 = 0, present;
    str id, text, screen, name, created, lang, rid;
    long long followers, retweets, sent;
    char iso[32];

    if (jdoc_kind(d, root) != JDOC_OBJECT) return reject(c, "not an object: found %s", kind_name(jdoc_kind(d, root)));
    t = root;
    int data = jdoc_get(d, root, "data");
    if (data >= 0) {
        if (jdoc_kind(d, data) != JDOC_OBJECT)
            return reject(c, "data: expected one tweet object, found %s", kind_name(jdoc_kind(d, data)));
        t = data;
        v2 = 1;
    }

    /* id */
    if (get_id(c, jdoc_get(d, t, "id_str"), "id_str", &id) < 0) return -1;
    if (id.s == NULL && get_id(c, jdoc_get(d, t, "id"), "id", &id) < 0) return -1;
    if (id.s == NULL) {
        /* streaming APIs interleave control messages with tweets: name them */
        static const char *const notices[] = {"delete", "limit", "scrub_geo", "status_withheld", "user_withheld",
                                              "disconnect", "warning", "errors", "event"};
        for (size_t i = 0; i < sizeof notices / sizeof notices[0]; i++)
            if (jdoc_get(d, root, notices[i]) >= 0)
                return reject(c, "no id (a \"%s\" message, not a tweet)", notices[i]);
        return reject(c, "no id");
    }

    /* text: extended_tweet.full_text > full_text > text (v2: note_tweet.text > text) */
    ext = jdoc_get(d, t, v2 ? "note_tweet" : "extended_tweet");
    if (expect_object(c, ext, v2 ? "note_tweet" : "extended_tweet") < 0) return -1;
    if (get_str(c, jdoc_get(d, ext, v2 ? "text" : "full_text"), v2 ? "note_tweet.text" : "extended_tweet.full_text",
                &text) < 0)
        return -1;
    if (text.s == NULL && !v2 && get_str(c, jdoc_get(d, t, "full_text"), "full_text", &text) < 0) return -1;
    if (text.s == NULL && get_str(c, jdoc_get(d, t, "text"), "text", &text) < 0) return -1;
    if (text.s == NULL) return reject(c, "no text");
    if (ext >= 0) note = ext;

    /* user */
    if (v2) {
        if ((user = v2_author(c, root, t)) < 0) return -1;
    } else {
        user = jdoc_get(d, t, "user");
        if (user < 0 || jdoc_kind(d, user) == JDOC_NULL) return reject(c, "no user");
        if (expect_object(c, user, "user") < 0) return -1;
    }
    if (get_str(c, jdoc_get(d, user, v2 ? "username" : "screen_name"), v2 ? "user.username" : "user.screen_name",
                &screen) < 0)
        return -1;
    if (screen.s == NULL || screen.n == 0) return reject(c, v2 ? "no user.username" : "no user.screen_name");
    if (get_str(c, jdoc_get(d, user, "name"), "user.name", &name) < 0) return -1;
    if (get_count(c, jdoc_get(d, v2 ? jdoc_get(d, user, "public_metrics") : user, "followers_count"),
                  "user.followers_count", &followers, &present) < 0)
        return -1;

    /* created_at */
    if (get_str(c, jdoc_get(d, t, "created_at"), "created_at", &created) < 0) return -1;
    if (created.s == NULL) return reject(c, "no created_at");
    if (parse_date(created.s, created.n, iso) < 0)
        return reject(c, "created_at: not a date like \"Wed Oct 10 20:19:24 +0000 2018\" or "
                         "\"2018-10-10T20:19:24Z\"");

    if (get_str(c, jdoc_get(d, t, "lang"), "lang", &lang) < 0) return -1;

    buf_appends(c->out, "{\"id\":");
    buf_append_json_str(c->out, id.s, id.n);
    buf_appends(c->out, ",\"text\":");
    buf_append_json_str(c->out, text.s, text.n);
    buf_appends(c->out, ",\"user\":{\"screen_name\":");
    buf_append_json_str(c->out, screen.s, screen.n);
    if (name.s) {
        buf_appends(c->out, ",\"name\":");
        buf_append_json_str(c->out, name.s, name.n);
    }
    if (present) {
        buf_appends(c->out, ",\"followers_count\":");
        append_u64(c->out, (unsigned long long)followers);
    }
    buf_appends(c->out, "},\"created_at\":\"");
    buf_append(c->out, iso, 20);
    buf_appendc(c->out, '"');
    if (lang.s && lang.n) {
        buf_appends(c->out, ",\"lang\":");
        buf_append_json_str(c->out, lang.s, lang.n);
    }

    /* hashtags, mentions, urls: canonical arrays, else entities (the
     * extended tweet's when the text came from there) */
    ents = jdoc_get(d, note >= 0 && jdoc_get(d, note, "entities") >= 0 ? note : t, "entities");
    if (expect_object(c, ents, "entities") < 0) return -1;
    if (emit_list(c, ",\"hashtags\":", "hashtags", jdoc_get(d, t, "hashtags"), jdoc_get(d, ents, "hashtags"),
                  v2 ? "tag" : "text", NULL, '#') < 0 ||
        emit_list(c, ",\"mentions\":", "mentions", jdoc_get(d, t, "mentions"),
                  jdoc_get(d, ents, v2 ? "mentions" : "user_mentions"), v2 ? "username" : "screen_name", NULL,
                  '@') < 0 ||
        emit_list(c, ",\"urls\":", "urls", jdoc_get(d, t, "urls"), jdoc_get(d, ents, "urls"), "expanded_url", "url",
                  0) < 0)
        return -1;

    if (get_count(c, jdoc_get(d, v2 ? jdoc_get(d, t, "public_metrics") : t, "retweet_count"), "retweet_count",
                  &retweets, &present) < 0)
        return -1;
    buf_appends(c->out, ",\"retweet_count\":");
    append_u64(c->out, (unsigned long long)retweets);

    if (retweeted(c, root, t, v2, &rid) < 0) return -1;
    if (rid.s) {
        buf_appends(c->out, ",\"retweeted_id\":");
        buf_append_json_str(c->out, rid.s, rid.n);
    }

    if (get_count(c, jdoc_get(d, root, "sent_us"), "sent_us", &sent, &present) < 0) return -1;
    if (present) {
        buf_appends(c->out, ",\"sent_us\":");
        append_u64(c->out, (unsigned long long)sent);
    }
    buf_appendc(c->out, '}');
    return 0;
}

int tweet_normalize(const char *line, size_t len, size_t max_len, buf *out, char *err, size_t errlen)
{
    char scratch[1];
    size_t start = out->len;
    ctx c = {NULL, out, errlen ? err : scratch, errlen ? errlen : sizeof scratch};
    int rc;

    if (max_len && len > max_len) return reject(&c, "line longer than %zu bytes", max_len);
    jdoc *d = jdoc_new();
    c.d = d;
    rc = jdoc_parse(d, line, len, TWEET_MAX_DEPTH, c.err, c.errlen);
    if (rc == 0) rc = normalize(&c);
    jdoc_free(d);
    if (rc < 0) {
        out->len = start;
        if (out->data) out->data[start] = '\0';
    }
    return rc;
}
