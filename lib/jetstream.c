/* jetstream — Bluesky Jetstream events into a post. See jetstream.h.
 *
 * The record of a post (app.bsky.feed.post) gives the text, createdAt,
 * langs, facets (byte ranges of the UTF-8 text with a tag, a link or a
 * mentioned DID), reply.parent and embed (a quoted post). */
#include "jetstream.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define POST_COLLECTION "app.bsky.feed.post"

static int is(post_str v, const char *lit)
{
    size_t n = strlen(lit);
    return v.s && v.n == n && memcmp(v.s, lit, n) == 0;
}

int jetstream_is(const jdoc *d)
{
    return jdoc_get(d, 0, "did") >= 0 && jdoc_kind(d, jdoc_get(d, 0, "kind")) == JDOC_STRING;
}

static int skip(post *p, const char *what)
{
    snprintf(p->err, p->errlen, "%s", what);
    return POST_SKIPPED;
}

/* did:METHOD:ID with the characters DIDs may hold. */
static int valid_did(post_str v)
{
    size_t i = 4;
    if (v.n < 7 || memcmp(v.s, "did:", 4) != 0) return 0;
    while (i < v.n && v.s[i] >= 'a' && v.s[i] <= 'z') i++;
    if (i == 4 || i >= v.n - 1 || v.s[i] != ':') return 0;
    for (i++; i < v.n; i++) {
        char c = v.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '%' || c == '-'))
            return 0;
    }
    return v.s[v.n - 1] != ':';
}

/* A record key: 1..512 of [A-Za-z0-9._:~-], not "." or "..". */
static int valid_rkey(post_str v)
{
    if (v.n == 0 || v.n > 512 || is(v, ".") || is(v, "..")) return 0;
    for (size_t i = 0; i < v.n; i++) {
        char c = v.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '~' || c == '-'))
            return 0;
    }
    return 1;
}

/* A handle as an identity event may tell it: a DNS name, not "handle.invalid". */
static int valid_handle(post_str v)
{
    if (v.n == 0 || v.n > HANDLES_HANDLE_MAX || is(v, "handle.invalid") || memchr(v.s, '.', v.n) == NULL) return 0;
    for (size_t i = 0; i < v.n; i++) {
        char c = v.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static int identity(post *p, handles *cache, post_str did)
{
    int ident = jdoc_get(p->d, 0, "identity");
    post_str handle, idid;
    if (post_expect_object(p, ident, "identity") < 0 ||
        post_get_str(p, jdoc_get(p->d, ident, "did"), "identity.did", &idid) < 0 ||
        post_get_str(p, jdoc_get(p->d, ident, "handle"), "identity.handle", &handle) < 0)
        return -1;
    if (idid.s) did = idid;
    if (cache && valid_did(did)) {
        if (handle.s && valid_handle(handle)) handles_put(cache, did.s, did.n, handle.s, handle.n);
        else handles_del(cache, did.s, did.n);
    }
    return skip(p, "a Jetstream identity event");
}

static int account(post *p, handles *cache, post_str did)
{
    int acct = jdoc_get(p->d, 0, "account");
    if (post_expect_object(p, acct, "account") < 0) return -1;
    if (cache && jdoc_kind(p->d, jdoc_get(p->d, acct, "active")) == JDOC_FALSE) handles_del(cache, did.s, did.n);
    return skip(p, "a Jetstream account event");
}

/* What a commit that is not a new post was, for the skip message. */
static int other_commit(post *p, post_str collection, post_str op)
{
    static const struct { const char *nsid, *what; } known[] = {
        {"app.bsky.feed.like", "a Bluesky like"},     {"app.bsky.feed.repost", "a Bluesky repost"},
        {"app.bsky.graph.follow", "a Bluesky follow"}, {"app.bsky.graph.block", "a Bluesky block"},
    };
    if (is(collection, POST_COLLECTION)) {
        snprintf(p->err, p->errlen, "a Bluesky post %s", is(op, "delete") ? "delete" : is(op, "update") ? "update"
                                                                                          : "operation");
        return POST_SKIPPED;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (is(collection, known[i].nsid)) return skip(p, known[i].what);
    for (size_t i = 0; i < collection.n; i++) {
        char c = collection.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return skip(p, "a Jetstream commit to another collection");
    }
    snprintf(p->err, p->errlen, "a Jetstream commit to %.*s", (int)(collection.n > 100 ? 100 : collection.n),
             collection.s);
    return POST_SKIPPED;
}

/* A mention facet's handle: the text it covers, "@handle" (not a broken
 * range, which some clients write), else what the cache knows, else the DID. */
static void mention(post *p, handles *cache, long long start, long long end, post_str did)
{
    if (start >= 0 && end - start > 1 && (size_t)end <= p->text.n && p->text.s[start] == '@') {   /* both ≤ 2^63-1 */
        const char *s = p->text.s + start + 1;
        size_t n = (size_t)(end - start - 1);
        if (utf8_validate(s, n, NULL) == 0) {   /* also fails when the range ends inside a character */
            post_list_add(&p->mentions, s, n, '@');
            return;
        }
    }
    size_t hlen;
    const char *h = cache ? handles_get(cache, did.s, did.n, &hlen) : NULL;
    if (h) post_list_add(&p->mentions, h, hlen, '@');
    else post_list_add(&p->mentions, did.s, did.n, '@');
}

static int facets(post *p, handles *cache, int record)
{
    int arr = jdoc_get(p->d, record, "facets"), i = 0;
    jdoc_type t = jdoc_kind(p->d, arr);
    char what[96];

    if (t == JDOC_NONE || t == JDOC_NULL) return 0;
    if (t != JDOC_ARRAY) return post_reject(p, "commit.record.facets: expected an array, found %s", post_kind_name(t));
    for (int f = jdoc_child(p->d, arr); f >= 0; f = jdoc_next(p->d, f), i++) {
        long long start, end;
        int has_start, has_end, j = 0;
        snprintf(what, sizeof what, "commit.record.facets[%d]", i);
        if (jdoc_kind(p->d, f) != JDOC_OBJECT)
            return post_reject(p, "%s: expected an object, found %s", what, post_kind_name(jdoc_kind(p->d, f)));
        int index = jdoc_get(p->d, f, "index");
        snprintf(what, sizeof what, "commit.record.facets[%d].index", i);
        if (post_expect_object(p, index, what) < 0) return -1;
        snprintf(what, sizeof what, "commit.record.facets[%d].index.byteStart", i);
        if (post_get_count(p, jdoc_get(p->d, index, "byteStart"), what, &start, &has_start) < 0) return -1;
        snprintf(what, sizeof what, "commit.record.facets[%d].index.byteEnd", i);
        if (post_get_count(p, jdoc_get(p->d, index, "byteEnd"), what, &end, &has_end) < 0) return -1;
        if (!has_start || !has_end) start = end = -1;
        int feats = jdoc_get(p->d, f, "features");
        snprintf(what, sizeof what, "commit.record.facets[%d].features", i);
        t = jdoc_kind(p->d, feats);
        if (t != JDOC_NONE && t != JDOC_NULL && t != JDOC_ARRAY)
            return post_reject(p, "%s: expected an array, found %s", what, post_kind_name(t));
        for (int ft = jdoc_child(p->d, feats); ft >= 0; ft = jdoc_next(p->d, ft), j++) {
            post_str type, v;
            snprintf(what, sizeof what, "commit.record.facets[%d].features[%d]", i, j);
            if (jdoc_kind(p->d, ft) != JDOC_OBJECT)
                return post_reject(p, "%s: expected an object, found %s", what, post_kind_name(jdoc_kind(p->d, ft)));
            snprintf(what, sizeof what, "commit.record.facets[%d].features[%d].$type", i, j);
            if (post_get_str(p, jdoc_get(p->d, ft, "$type"), what, &type) < 0) return -1;
            const char *field = is(type, "app.bsky.richtext.facet#tag")       ? "tag"
                                : is(type, "app.bsky.richtext.facet#link")    ? "uri"
                                : is(type, "app.bsky.richtext.facet#mention") ? "did"
                                                                              : NULL;
            if (field == NULL) continue;
            snprintf(what, sizeof what, "commit.record.facets[%d].features[%d].%s", i, j, field);
            if (post_get_str(p, jdoc_get(p->d, ft, field), what, &v) < 0) return -1;
            if (v.s == NULL || v.n == 0) continue;
            if (field[0] == 't') post_list_add(&p->hashtags, v.s, v.n, '#');
            else if (field[0] == 'u') post_url_add(p, v.s, v.n);
            else mention(p, cache, start, end, v);
        }
    }
    return 0;
}

/* reply.parent.uri and the quoted post of embed (app.bsky.embed.record, or
 * the record of app.bsky.embed.recordWithMedia), when it is a post. */
static int related(post *p, int record)
{
    int reply = jdoc_get(p->d, record, "reply"), embed = jdoc_get(p->d, record, "embed");
    post_str type, uri;
    if (post_expect_object(p, reply, "commit.record.reply") < 0 ||
        post_expect_object(p, jdoc_get(p->d, reply, "parent"), "commit.record.reply.parent") < 0 ||
        post_get_id(p, jdoc_get(p->d, jdoc_get(p->d, reply, "parent"), "uri"), "commit.record.reply.parent.uri",
                    &p->in_reply_to_id) < 0)
        return -1;
    if (post_expect_object(p, embed, "commit.record.embed") < 0 ||
        post_get_str(p, jdoc_get(p->d, embed, "$type"), "commit.record.embed.$type", &type) < 0)
        return -1;
    int rec = jdoc_get(p->d, embed, "record");
    if (is(type, "app.bsky.embed.recordWithMedia")) rec = jdoc_get(p->d, rec, "record");
    else if (!is(type, "app.bsky.embed.record")) return 0;
    if (post_expect_object(p, rec, "commit.record.embed.record") < 0 ||
        post_get_id(p, jdoc_get(p->d, rec, "uri"), "commit.record.embed.record.uri", &uri) < 0)
        return -1;
    if (uri.s && uri.n > 5 && memcmp(uri.s, "at://", 5) == 0) {
        const char *c = memchr(uri.s + 5, '/', uri.n - 5);
        size_t rest = c ? uri.n - (size_t)(c - uri.s) : 0;
        if (rest > sizeof POST_COLLECTION && memcmp(c + 1, POST_COLLECTION "/", sizeof POST_COLLECTION) == 0)
            p->quoted_id = uri;
    }
    return 0;
}

static int new_post(post *p, handles *cache, post_str did, int commit, uint64_t time_us)
{
    post_str rkey, created;
    int record = jdoc_get(p->d, commit, "record");

    if (post_get_str(p, jdoc_get(p->d, commit, "rkey"), "commit.rkey", &rkey) < 0) return -1;
    if (rkey.s == NULL) return post_reject(p, "no commit.rkey");
    if (!valid_rkey(rkey)) return post_reject(p, "commit.rkey: not a record key");
    if (5 + did.n + 1 + sizeof POST_COLLECTION + rkey.n > POST_ID_MAX)
        return post_reject(p, "the post's AT URI would be longer than %d bytes", POST_ID_MAX);
    buf_printf(&p->own_id, "at://%.*s/" POST_COLLECTION "/%.*s", (int)did.n, did.s, (int)rkey.n, rkey.s);
    p->id = (post_str){p->own_id.data, p->own_id.len};
    buf_printf(&p->own_url, "https://bsky.app/profile/%.*s/post/%.*s", (int)did.n, did.s, (int)rkey.n, rkey.s);
    p->url = (post_str){p->own_url.data, p->own_url.len};
    p->network = (post_str){"bluesky", 7};

    if (jdoc_kind(p->d, record) != JDOC_OBJECT)
        return record < 0 ? post_reject(p, "no commit.record")
                          : post_reject(p, "commit.record: expected an object, found %s",
                                        post_kind_name(jdoc_kind(p->d, record)));
    if (post_get_str(p, jdoc_get(p->d, record, "text"), "commit.record.text", &p->text) < 0) return -1;
    if (p->text.s == NULL) return post_reject(p, "no text (commit.record.text)");

    size_t hlen;
    const char *h = cache ? handles_get(cache, did.s, did.n, &hlen) : NULL;
    p->screen_name = h ? (post_str){h, hlen} : did;

    /* createdAt is what the client says; a record whose date is not one
     * still is a post, dated when Jetstream saw it */
    if (post_get_str(p, jdoc_get(p->d, record, "createdAt"), "commit.record.createdAt", &created) < 0) return -1;
    if (created.s == NULL || post_parse_date(created.s, created.n, p->created_at) < 0) {
        if (time_us == 0 || post_date_from_epoch((long long)(time_us / 1000000), p->created_at) < 0)
            return post_reject(p, created.s ? "commit.record.createdAt: not a date like \"2024-09-09T19:46:02.102Z\""
                                            : "no commit.record.createdAt");
    }

    int langs = jdoc_get(p->d, record, "langs");
    jdoc_type lt = jdoc_kind(p->d, langs);
    if (lt != JDOC_NONE && lt != JDOC_NULL && lt != JDOC_ARRAY)
        return post_reject(p, "commit.record.langs: expected an array, found %s", post_kind_name(lt));
    if (post_get_str(p, jdoc_child(p->d, langs), "commit.record.langs[0]", &p->lang) < 0) return -1;

    if (facets(p, cache, record) < 0 || related(p, record) < 0) return -1;
    return 0;
}

int jetstream_read(post *p, handles *cache, uint64_t *time_us)
{
    post_str did, kind, op, collection;
    long long t;
    int present;

    *time_us = 0;
    if (post_get_count(p, jdoc_get(p->d, 0, "time_us"), "time_us", &t, &present) < 0) return -1;
    *time_us = (uint64_t)t;
    if (post_get_str(p, jdoc_get(p->d, 0, "did"), "did", &did) < 0 ||
        post_get_str(p, jdoc_get(p->d, 0, "kind"), "kind", &kind) < 0)
        return -1;
    if (did.s == NULL || !valid_did(did)) return post_reject(p, "did: not a DID like \"did:plc:…\"");
    if (is(kind, "identity")) return identity(p, cache, did);
    if (is(kind, "account")) return account(p, cache, did);
    if (!is(kind, "commit")) return post_reject(p, "kind: expected \"commit\", \"identity\" or \"account\"");

    int commit = jdoc_get(p->d, 0, "commit");
    if (jdoc_kind(p->d, commit) != JDOC_OBJECT)
        return commit < 0 ? post_reject(p, "no commit")
                          : post_reject(p, "commit: expected an object, found %s",
                                        post_kind_name(jdoc_kind(p->d, commit)));
    if (post_get_str(p, jdoc_get(p->d, commit, "operation"), "commit.operation", &op) < 0 ||
        post_get_str(p, jdoc_get(p->d, commit, "collection"), "commit.collection", &collection) < 0)
        return -1;
    if (op.s == NULL) return post_reject(p, "no commit.operation");
    if (collection.s == NULL) return post_reject(p, "no commit.collection");
    if (!is(collection, POST_COLLECTION) || !is(op, "create")) return other_commit(p, collection, op);
    return new_post(p, cache, did, commit, *time_us);
}
