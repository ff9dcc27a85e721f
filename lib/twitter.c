/* twitter — Twitter API objects and canonical tweets into a post. See twitter.h.
 *
 * v1.1 and canonical objects differ only in where lists and the ids of
 * related tweets live; v2 keeps the tweet in `data`, its author in
 * `includes.users` and the tweets it refers to in `includes.tweets`. */
#include "twitter.h"

#include <stdio.h>
#include <string.h>

enum form { FORM_V11, FORM_V2, FORM_CANONICAL };

/* Streaming APIs interleave control messages with tweets: name them. */
static int notice(post *p)
{
    static const char *const keys[] = {"delete", "limit", "scrub_geo", "status_withheld", "user_withheld",
                                       "disconnect", "warning", "event", "friends", "errors"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (jdoc_get(p->d, 0, keys[i]) >= 0) {
            post_reject(p, "a Twitter \"%s\" message", keys[i]);
            return POST_SKIPPED;
        }
    return post_reject(p, "no id");
}

static int is_key(const jdoc *d, int node, const char *key)
{
    jdoc_type t = jdoc_kind(d, jdoc_get(d, node, key));
    return t != JDOC_NONE && t != JDOC_NULL;
}

static enum form form_of(const jdoc *d)
{
    static const char *const v11[] = {"id_str", "entities", "extended_tweet", "full_text", "retweeted_status"};
    size_t n;
    const char *created;

    if (jdoc_get(d, 0, "data") >= 0) return FORM_V2;
    if (jdoc_get(d, 0, "network") >= 0) return FORM_CANONICAL;
    for (size_t i = 0; i < sizeof v11 / sizeof v11[0]; i++)
        if (is_key(d, 0, v11[i])) return FORM_V11;
    int c = jdoc_get(d, 0, "created_at");
    if (jdoc_kind(d, c) == JDOC_STRING && (created = jdoc_str(d, c, &n)) && n == 30 && created[3] == ' ')
        return FORM_V11;
    return FORM_CANONICAL;
}

/* The text of API objects as a reader sees it: the API escapes &, < and >. */
static void decode_into(buf *out, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '&') continue;
        char c = 0;
        size_t len = 0;
        if (n - i >= 5 && memcmp(s + i, "&amp;", 5) == 0) c = '&', len = 5;
        else if (n - i >= 4 && memcmp(s + i, "&lt;", 4) == 0) c = '<', len = 4;
        else if (n - i >= 4 && memcmp(s + i, "&gt;", 4) == 0) c = '>', len = 4;
        if (c == 0) continue;
        buf_append(out, s + run, i - run);
        buf_appendc(out, c);
        i += len - 1;
        run = i + 1;
    }
    buf_append(out, s + run, n - run);
}

/* p->text = "RT @rt_user: " (when rt_user) + text, decoded. */
static void set_text(post *p, post_str text, post_str rt_user)
{
    if (rt_user.s == NULL && memchr(text.s, '&', text.n) == NULL) {
        p->text = text;
        return;
    }
    if (rt_user.s) {
        buf_appends(&p->own_text, "RT @");
        buf_append(&p->own_text, rt_user.s, rt_user.n);
        buf_appends(&p->own_text, ": ");
    }
    decode_into(&p->own_text, text.s, text.n);
    p->text.s = p->own_text.data;
    p->text.n = p->own_text.len;
}

/* The user object of v2 user id `author` in includes.users, or -1 (with the
 * reason when required). */
static int v2_user(post *p, post_str author, int required)
{
    int users = jdoc_get(p->d, jdoc_get(p->d, 0, "includes"), "users");
    for (int u = jdoc_child(p->d, users); u >= 0; u = jdoc_next(p->d, u)) {
        post_str id;
        if (post_get_id(p, jdoc_get(p->d, u, "id"), "includes.users[].id", &id) < 0) return -1;
        if (id.s && id.n == author.n && memcmp(id.s, author.s, id.n) == 0) return u;
    }
    if (required) post_reject(p, "no user: author_id %.*s not in includes.users", (int)author.n, author.s);
    return -1;
}

/* A v2 tweet's referenced_tweets: the id of the one of `type`. */
static int v2_ref(post *p, int t, const char *type, post_str *id)
{
    int refs = jdoc_get(p->d, t, "referenced_tweets");
    size_t tn = strlen(type);
    id->s = NULL;
    for (int r = jdoc_child(p->d, refs); r >= 0; r = jdoc_next(p->d, r)) {
        post_str ty;
        if (post_get_str(p, jdoc_get(p->d, r, "type"), "data.referenced_tweets[].type", &ty) < 0) return -1;
        if (ty.s && ty.n == tn && memcmp(ty.s, type, tn) == 0)
            return post_get_id(p, jdoc_get(p->d, r, "id"), "data.referenced_tweets[].id", id);
    }
    return 0;
}

/* The id of object node (id_str, else id); `what` names it. */
static int object_id(post *p, int node, const char *what, post_str *id)
{
    char name[64];
    snprintf(name, sizeof name, "%s%sid_str", what, *what ? "." : "");
    if (post_get_id(p, jdoc_get(p->d, node, "id_str"), name, id) < 0) return -1;
    snprintf(name, sizeof name, "%s%sid", what, *what ? "." : "");
    if (id->s == NULL && post_get_id(p, jdoc_get(p->d, node, "id"), name, id) < 0) return -1;
    return 0;
}

/* v2: the retweeted tweet in includes.tweets, and its author's username, or -1. */
static int v2_retweeted(post *p, post_str rid, post_str *rt_user)
{
    int tweets = jdoc_get(p->d, jdoc_get(p->d, 0, "includes"), "tweets");
    for (int t = jdoc_child(p->d, tweets); t >= 0; t = jdoc_next(p->d, t)) {
        post_str id, author;
        if (jdoc_kind(p->d, t) != JDOC_OBJECT) continue;
        if (post_get_id(p, jdoc_get(p->d, t, "id"), "includes.tweets[].id", &id) < 0) return -2;
        if (id.s == NULL || id.n != rid.n || memcmp(id.s, rid.s, id.n) != 0) continue;
        if (post_get_id(p, jdoc_get(p->d, t, "author_id"), "includes.tweets[].author_id", &author) < 0) return -2;
        if (author.s == NULL) return -1;
        int u = v2_user(p, author, 0);
        if (u < 0) return -1;
        if (post_get_str(p, jdoc_get(p->d, u, "username"), "includes.users[].username", rt_user) < 0) return -2;
        return rt_user->s && rt_user->n ? t : -1;
    }
    return -1;
}

static int all_digits(post_str s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.s[i] < '0' || s.s[i] > '9') return 0;
    return 1;
}

static int valid_screen_name(post_str s)
{
    if (s.n == 0 || s.n > 50) return 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

static int read_network(post *p)
{
    static const char *const known[] = {"twitter", "bluesky", "mastodon"};
    post_str v;
    if (post_get_str(p, jdoc_get(p->d, 0, "network"), "network", &v) < 0) return -1;
    if (v.s == NULL) {
        p->network = (post_str){"twitter", 7};
        return 0;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (v.n == strlen(known[i]) && memcmp(v.s, known[i], v.n) == 0) {
            p->network = (post_str){known[i], v.n};
            return 0;
        }
    return post_reject(p, "network: expected \"twitter\", \"bluesky\" or \"mastodon\"");
}

int twitter_read(post *p)
{
    const jdoc *d = p->d;
    enum form form = form_of(d);
    int t = 0, src, user, ents, ext, note = -1, present;
    post_str text, rt_user = {NULL, 0};

    if (form == FORM_V2) {
        t = jdoc_get(d, 0, "data");
        if (jdoc_kind(d, t) != JDOC_OBJECT)
            return post_reject(p, "data: expected one tweet object, found %s", post_kind_name(jdoc_kind(d, t)));
    }

    /* id */
    if (object_id(p, t, form == FORM_V2 ? "data" : "", &p->id) < 0) return -1;
    if (p->id.s == NULL) return notice(p);
    if (form == FORM_CANONICAL) {
        if (read_network(p) < 0) return -1;
    } else
        p->network = (post_str){"twitter", 7};

    /* related tweets; a retweet's text and entities come from the original */
    src = t;
    if (form == FORM_V11) {
        int rs = jdoc_get(d, 0, "retweeted_status");
        if (post_expect_object(p, rs, "retweeted_status") < 0) return -1;
        if (jdoc_kind(d, rs) == JDOC_OBJECT) {
            if (object_id(p, rs, "retweeted_status", &p->retweeted_id) < 0) return -1;
            if (p->retweeted_id.s == NULL) return post_reject(p, "retweeted_status: no id");
            int ru = jdoc_get(d, rs, "user");
            if (post_expect_object(p, ru, "retweeted_status.user") < 0 ||
                post_get_str(p, jdoc_get(d, ru, "screen_name"), "retweeted_status.user.screen_name", &rt_user) < 0)
                return -1;
            if (rt_user.s && rt_user.n) src = rs;
            else rt_user.s = NULL;
        }
        if (post_get_id(p, jdoc_get(d, 0, "in_reply_to_status_id_str"), "in_reply_to_status_id_str",
                        &p->in_reply_to_id) < 0)
            return -1;
        if (p->in_reply_to_id.s == NULL && post_get_id(p, jdoc_get(d, 0, "in_reply_to_status_id"),
                                                      "in_reply_to_status_id", &p->in_reply_to_id) < 0)
            return -1;
        if (post_get_id(p, jdoc_get(d, 0, "quoted_status_id_str"), "quoted_status_id_str", &p->quoted_id) < 0)
            return -1;
        if (p->quoted_id.s == NULL &&
            post_get_id(p, jdoc_get(d, 0, "quoted_status_id"), "quoted_status_id", &p->quoted_id) < 0)
            return -1;
    } else if (form == FORM_V2) {
        if (v2_ref(p, t, "retweeted", &p->retweeted_id) < 0 || v2_ref(p, t, "replied_to", &p->in_reply_to_id) < 0 ||
            v2_ref(p, t, "quoted", &p->quoted_id) < 0)
            return -1;
        if (p->retweeted_id.s) {
            int rt = v2_retweeted(p, p->retweeted_id, &rt_user);
            if (rt == -2) return -1;
            if (rt >= 0) src = rt;
            else rt_user.s = NULL;
        }
    } else {
        if (post_get_id(p, jdoc_get(d, 0, "retweeted_id"), "retweeted_id", &p->retweeted_id) < 0 ||
            post_get_id(p, jdoc_get(d, 0, "in_reply_to_id"), "in_reply_to_id", &p->in_reply_to_id) < 0 ||
            post_get_id(p, jdoc_get(d, 0, "quoted_id"), "quoted_id", &p->quoted_id) < 0)
            return -1;
    }

    /* text: extended_tweet.full_text > full_text > text (v2: note_tweet.text > text) */
    const char *ext_key = form == FORM_V2 ? "note_tweet" : "extended_tweet";
    const char *in = src == t ? "" : form == FORM_V2 ? "includes.tweets[]." : "retweeted_status.";
    char what[64];
    ext = form == FORM_CANONICAL ? -1 : jdoc_get(d, src, ext_key);
    snprintf(what, sizeof what, "%s%s", in, ext_key);
    if (post_expect_object(p, ext, what) < 0) return -1;
    snprintf(what, sizeof what, "%s%s.%s", in, ext_key, form == FORM_V2 ? "text" : "full_text");
    if (post_get_str(p, jdoc_get(d, ext, form == FORM_V2 ? "text" : "full_text"), what, &text) < 0) return -1;
    snprintf(what, sizeof what, "%sfull_text", in);
    if (text.s == NULL && form == FORM_V11 && post_get_str(p, jdoc_get(d, src, "full_text"), what, &text) < 0)
        return -1;
    snprintf(what, sizeof what, "%stext", in);
    if (text.s == NULL && post_get_str(p, jdoc_get(d, src, "text"), what, &text) < 0) return -1;
    if (text.s == NULL) return post_reject(p, "no text");
    if (ext >= 0) note = ext;
    if (form == FORM_CANONICAL) p->text = text;
    else set_text(p, text, rt_user);

    /* user */
    if (form == FORM_V2) {
        post_str author;
        if (post_get_id(p, jdoc_get(d, t, "author_id"), "data.author_id", &author) < 0) return -1;
        if (author.s == NULL) return post_reject(p, "no user: data.author_id missing");
        if ((user = v2_user(p, author, 1)) < 0) return -1;
    } else {
        user = jdoc_get(d, 0, "user");
        if (user < 0 || jdoc_kind(d, user) == JDOC_NULL) return post_reject(p, "no user");
        if (post_expect_object(p, user, "user") < 0) return -1;
    }
    if (post_get_str(p, jdoc_get(d, user, form == FORM_V2 ? "username" : "screen_name"),
                     form == FORM_V2 ? "user.username" : "user.screen_name", &p->screen_name) < 0)
        return -1;
    if (p->screen_name.s == NULL || p->screen_name.n == 0)
        return post_reject(p, form == FORM_V2 ? "no user.username" : "no user.screen_name");
    if (post_get_str(p, jdoc_get(d, user, "name"), "user.name", &p->name) < 0) return -1;
    if (post_get_count(p, jdoc_get(d, form == FORM_V2 ? jdoc_get(d, user, "public_metrics") : user, "followers_count"),
                       "user.followers_count", &p->followers, &p->has_followers) < 0)
        return -1;

    if (post_get_date(p, jdoc_get(d, t, "created_at"), "created_at") < 0) return -1;
    if (post_get_str(p, jdoc_get(d, t, "lang"), "lang", &p->lang) < 0) return -1;

    /* hashtags, mentions, urls: canonical arrays, else entities (the
     * extended tweet's when the text came from there; a retweet's: the
     * original's, after the retweeted user) */
    if (form == FORM_CANONICAL) {
        if (post_list_from(p, &p->hashtags, jdoc_get(d, 0, "hashtags"), "hashtags", NULL, NULL, '#') < 0 ||
            post_list_from(p, &p->mentions, jdoc_get(d, 0, "mentions"), "mentions", NULL, NULL, '@') < 0 ||
            post_list_from(p, &p->urls, jdoc_get(d, 0, "urls"), "urls", NULL, NULL, 0) < 0)
            return -1;
    } else {
        ents = jdoc_get(d, note >= 0 && jdoc_get(d, note, "entities") >= 0 ? note : src, "entities");
        if (post_expect_object(p, ents, "entities") < 0) return -1;
        if (rt_user.s) post_list_add(&p->mentions, rt_user.s, rt_user.n, '@');
        if (post_list_from(p, &p->hashtags, jdoc_get(d, ents, "hashtags"), "hashtags", form == FORM_V2 ? "tag" : "text",
                           NULL, '#') < 0 ||
            post_list_from(p, &p->mentions, jdoc_get(d, ents, form == FORM_V2 ? "mentions" : "user_mentions"),
                           "mentions", form == FORM_V2 ? "username" : "screen_name", NULL, '@') < 0 ||
            post_list_from(p, &p->urls, jdoc_get(d, ents, "urls"), "urls", "expanded_url", "url", 0) < 0)
            return -1;
    }

    if (post_get_count(p, jdoc_get(d, form == FORM_V2 ? jdoc_get(d, t, "public_metrics") : t, "retweet_count"),
                       "retweet_count", &p->retweets, &present) < 0)
        return -1;

    /* the post's page */
    if (form == FORM_CANONICAL) {
        if (post_get_str(p, jdoc_get(d, 0, "url"), "url", &p->url) < 0) return -1;
        if (p->url.s && !post_is_web_url(p->url.s, p->url.n))
            return post_reject(p, "url: expected an http:// or https:// URL without spaces");
    } else if (valid_screen_name(p->screen_name) && all_digits(p->id)) {
        buf_appends(&p->own_url, "https://twitter.com/");
        buf_append(&p->own_url, p->screen_name.s, p->screen_name.n);
        buf_appends(&p->own_url, "/status/");
        buf_append(&p->own_url, p->id.s, p->id.n);
        p->url = (post_str){p->own_url.data, p->own_url.len};
    }

    return post_get_count(p, jdoc_get(d, 0, "sent_us"), "sent_us", &p->sent_us, &p->has_sent_us);
}
