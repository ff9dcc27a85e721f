/* mastodon — Mastodon statuses and streaming events into a post. See mastodon.h.
 *
 * The id is the status's `uri`, unique across servers (the numeric `id` is
 * only unique on the server that answered, and collides with Twitter's
 * ids). `in_reply_to_id` is not kept: Mastodon gives the parent's local
 * numeric id, never its `uri`. */
#include "mastodon.h"

#include <stdio.h>
#include <string.h>

#include "html.h"
#include "utf8.h"

#define PAYLOAD_MAX_DEPTH 32

static int is(post_str v, const char *lit)
{
    size_t n = strlen(lit);
    return v.s && v.n == n && memcmp(v.s, lit, n) == 0;
}

static int has(const jdoc *d, int node, const char *key)
{
    return jdoc_get(d, node, key) >= 0;
}

int mastodon_is(const jdoc *d)
{
    if (jdoc_kind(d, jdoc_get(d, 0, "event")) == JDOC_STRING && has(d, 0, "payload")) return 1;
    if (jdoc_kind(d, jdoc_get(d, 0, "account")) != JDOC_OBJECT) return 0;
    return (has(d, 0, "uri") && has(d, 0, "content")) || (has(d, 0, "type") && !has(d, 0, "content"));
}

static int skip(post *p, const char *what)
{
    snprintf(p->err, p->errlen, "%s", what);
    return POST_SKIPPED;
}

static void on_link(const char *href, size_t n, void *ctx)
{
    post *p = ctx;
    if (memchr(href, '\0', n) == NULL && utf8_validate(href, n, NULL) == 0) post_url_add(p, href, n);
}

/* The author of status node s: its account's acct (required), display name
 * and followers. */
static int author(post *p, int s, const char *what, post_str *acct, int fill)
{
    char name[64];
    int account = jdoc_get(p->d, s, "account");
    snprintf(name, sizeof name, "%saccount", what);
    if (jdoc_kind(p->d, account) != JDOC_OBJECT)
        return account < 0 || jdoc_kind(p->d, account) == JDOC_NULL
                   ? post_reject(p, "no %s", name)
                   : post_reject(p, "%s: expected an object, found %s", name, post_kind_name(jdoc_kind(p->d, account)));
    snprintf(name, sizeof name, "%saccount.acct", what);
    if (post_get_str(p, jdoc_get(p->d, account, "acct"), name, acct) < 0) return -1;
    if (acct->s == NULL || acct->n == 0) return post_reject(p, "no %s", name);
    if (!fill) return 0;
    if (post_get_str(p, jdoc_get(p->d, account, "display_name"), "account.display_name", &p->name) < 0) return -1;
    if (p->name.s && p->name.n == 0) p->name.s = NULL;
    return post_get_count(p, jdoc_get(p->d, account, "followers_count"), "account.followers_count", &p->followers,
                          &p->has_followers);
}

static int read_status(post *p, int root)
{
    const jdoc *d = p->d;
    int src = root, present;
    post_str visibility, content, rt_user = {NULL, 0}, lang, url;
    char err[128];

    if (post_get_id(p, jdoc_get(d, root, "uri"), "uri", &p->id) < 0) return -1;
    if (p->id.s == NULL) return post_reject(p, "no uri");
    p->network = (post_str){"mastodon", 8};
    if (post_get_str(p, jdoc_get(d, root, "visibility"), "visibility", &visibility) < 0) return -1;
    if (visibility.s && !is(visibility, "public") && !is(visibility, "unlisted"))
        return skip(p, "a Mastodon status that is not public");
    if (author(p, root, "", &p->screen_name, 1) < 0) return -1;
    if (post_get_date(p, jdoc_get(d, root, "created_at"), "created_at") < 0) return -1;

    int reblog = jdoc_get(d, root, "reblog");
    if (post_expect_object(p, reblog, "reblog") < 0) return -1;
    const char *in = "";
    if (jdoc_kind(d, reblog) == JDOC_OBJECT) {
        src = reblog;
        in = "reblog.";
        if (post_get_id(p, jdoc_get(d, reblog, "uri"), "reblog.uri", &p->retweeted_id) < 0) return -1;
        if (p->retweeted_id.s == NULL) return post_reject(p, "no reblog.uri");
        if (author(p, reblog, "reblog.", &rt_user, 0) < 0) return -1;
    }

    /* text: what a reader sees of the HTML */
    char what[64];
    snprintf(what, sizeof what, "%scontent", in);
    if (post_get_str(p, jdoc_get(d, src, "content"), what, &content) < 0) return -1;
    if (content.s == NULL) return post_reject(p, "no %s", what);
    if (rt_user.s) {
        buf_appends(&p->own_text, "RT @");
        buf_append(&p->own_text, rt_user.s, rt_user.n);
        buf_appends(&p->own_text, ": ");
        post_list_add(&p->mentions, rt_user.s, rt_user.n, '@');
    }
    if (html_to_text(content.s, content.n, &p->own_text, on_link, p, err, sizeof err) < 0)
        return post_reject(p, "%s: %s", what, err);
    p->text = (post_str){p->own_text.data ? p->own_text.data : "", p->own_text.len};

    snprintf(what, sizeof what, "%slanguage", in);
    if (post_get_str(p, jdoc_get(d, src, "language"), what, &lang) < 0) return -1;
    if (lang.s == NULL && src != root && post_get_str(p, jdoc_get(d, root, "language"), "language", &lang) < 0) return -1;
    p->lang = lang;

    snprintf(what, sizeof what, "%stags", in);
    if (post_list_from(p, &p->hashtags, jdoc_get(d, src, "tags"), what, "name", NULL, '#') < 0) return -1;
    snprintf(what, sizeof what, "%smentions", in);
    if (post_list_from(p, &p->mentions, jdoc_get(d, src, "mentions"), what, "acct", NULL, '@') < 0) return -1;
    snprintf(what, sizeof what, "%sreblogs_count", in);
    if (post_get_count(p, jdoc_get(d, src, "reblogs_count"), what, &p->retweets, &present) < 0) return -1;

    /* a quote (Mastodon 4.4): quote.quoted_status.uri, when the quote is shown */
    int quote = jdoc_get(d, src, "quote");
    snprintf(what, sizeof what, "%squote", in);
    if (post_expect_object(p, quote, what) < 0) return -1;
    int quoted = jdoc_get(d, quote, "quoted_status");
    snprintf(what, sizeof what, "%squote.quoted_status", in);
    if (post_expect_object(p, quoted, what) < 0) return -1;
    snprintf(what, sizeof what, "%squote.quoted_status.uri", in);
    if (post_get_id(p, jdoc_get(d, quoted, "uri"), what, &p->quoted_id) < 0) return -1;

    if (post_get_str(p, jdoc_get(d, root, "url"), "url", &url) < 0) return -1;
    if (url.s == NULL && src != root && post_get_str(p, jdoc_get(d, src, "url"), "reblog.url", &url) < 0) return -1;
    if (url.s && !post_is_web_url(url.s, url.n))
        return post_reject(p, "url: expected an http:// or https:// URL without spaces");
    p->url = url;
    return 0;
}

int mastodon_read(post *p, jdoc *payload)
{
    const jdoc *d = p->d;
    post_str event;
    char err[256];

    if (jdoc_kind(d, jdoc_get(d, 0, "event")) != JDOC_STRING) {
        if (!has(d, 0, "content") && has(d, 0, "type")) return skip(p, "a Mastodon notification");
        return read_status(p, 0);
    }
    if (post_get_str(p, jdoc_get(d, 0, "event"), "event", &event) < 0) return -1;
    if (is(event, "delete")) return skip(p, "a Mastodon delete");
    if (is(event, "status.update")) return skip(p, "a Mastodon status.update (an edit)");
    if (!is(event, "update")) {
        static const char *const known[] = {"notification", "conversation", "filters_changed", "announcement",
                                            "announcement.reaction", "announcement.delete", "encrypted_message",
                                            "notifications_merged"};
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (is(event, known[i])) {
                snprintf(p->err, p->errlen, "a Mastodon %s event", known[i]);
                return POST_SKIPPED;
            }
        return skip(p, "a Mastodon streaming event other than update");
    }
    int pl = jdoc_get(d, 0, "payload");
    if (jdoc_kind(d, pl) == JDOC_STRING) {
        size_t n;
        const char *s = jdoc_str(d, pl, &n);
        if (jdoc_parse(payload, s, n, PAYLOAD_MAX_DEPTH, err, sizeof err) < 0)
            return post_reject(p, "payload: %s", err);
        p->d = payload;
        if (jdoc_kind(payload, 0) != JDOC_OBJECT)
            return post_reject(p, "payload: expected a status object, found %s", post_kind_name(jdoc_kind(payload, 0)));
        return read_status(p, 0);
    }
    if (jdoc_kind(d, pl) != JDOC_OBJECT)
        return post_reject(p, "payload: expected a status, found %s", post_kind_name(jdoc_kind(d, pl)));
    return read_status(p, pl);
}
