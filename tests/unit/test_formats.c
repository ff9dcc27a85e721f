/* Unit tests for the input formats beyond Twitter's basics: Twitter text as
 * a reader sees it, Bluesky Jetstream events (lib/jetstream), Mastodon
 * statuses and streaming events (lib/mastodon, lib/html), the Jetstream
 * handle cache (lib/handles) and the one rule for lines that are not posts. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "handles.h"
#include "html.h"
#include "seen.h"
#include "tweet.h"
#include "util.h"
#include "test.h"

#define MAX_LINE 1048576

static char err[256];
static tweet_norm *nz;            /* the normaliser the current test feeds */

/* Normalise s with nz: 0 / TWEET_SKIPPED / -1 into *rc; the canonical text (caller frees) or NULL. */
static char *feed(const char *s, int *rc)
{
    buf out = BUF_INIT;
    err[0] = '\0';
    *rc = tweet_norm_line(nz, s, strlen(s), MAX_LINE, &out, NULL, err, sizeof err);
    if (*rc != 0) {
        if (out.len != 0) {
            fprintf(stderr, "out not empty after a reject or skip\n");
            abort();
        }
        buf_free(&out);
        return NULL;
    }
    return buf_detach(&out, NULL);
}

/* s becomes want, and want (canonical) normalises to itself. */
#define ASSERT_NORM(s, want) do { \
        int rc_; char *got_ = feed(s, &rc_); \
        if (got_ == NULL) TEST_FAIL("not a post (%d): %s\n  input: %s", rc_, err, s); \
        if (strcmp(got_, want) != 0) { fprintf(stderr, "  got:  %s\n  want: %s\n", got_, want); free(got_); TEST_FAIL("mismatch"); } \
        free(got_); \
        got_ = feed(want, &rc_); \
        if (got_ == NULL) TEST_FAIL("canonical form refused: %s", err); \
        if (strcmp(got_, want) != 0) { fprintf(stderr, "  got:  %s\n  want: %s\n", got_, want); free(got_); TEST_FAIL("not idempotent"); } \
        free(got_); \
    } while (0)
#define ASSERT_SKIP(s, what) do { \
        int rc_; char *got_ = feed(s, &rc_); \
        if (rc_ != TWEET_SKIPPED) { free(got_); TEST_FAIL("not skipped (%d, %s): %s", rc_, err, s); } \
        ASSERT_STREQ(err, what); \
    } while (0)
#define ASSERT_REJECT(s, why) do { \
        int rc_; char *got_ = feed(s, &rc_); \
        if (rc_ != -1) { free(got_); TEST_FAIL("not rejected (%d, %s): %s", rc_, err, s); } \
        ASSERT_CONTAINS(err, why); \
        ASSERT(strchr(err, '\n') == NULL); \
    } while (0)

/* ---- Twitter text as a reader sees it ---- */

static void test_twitter_text(void)
{
    nz = tweet_norm_new(0);
    /* v1.1 text is decoded; canonical text is kept as it is */
    ASSERT_NORM("{\"id_str\":\"1\",\"text\":\"fish &amp; chips &lt;3 &gt;_&lt; &amp;amp; &quot;x&quot; & co\","
                "\"user\":{\"screen_name\":\"a\"},\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\"}",
                "{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"fish & chips <3 >_< &amp; &quot;x&quot; & co\","
                "\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2018-10-10T20:19:24Z\",\"hashtags\":[],\"mentions\":[],"
                "\"urls\":[],\"retweet_count\":0,\"url\":\"https://twitter.com/a/status/1\"}");
    ASSERT_NORM("{\"id\":\"2\",\"network\":\"twitter\",\"text\":\"&amp; stays\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2018-10-10T20:19:24Z\"}",
                "{\"id\":\"2\",\"network\":\"twitter\",\"text\":\"&amp; stays\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2018-10-10T20:19:24Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0}");
    /* a retweet: the original's full text after "RT @user: ", its entities after the retweeted user */
    ASSERT_NORM("{\"id_str\":\"300\",\"text\":\"RT @bob: a long story about fish &amp; ch\\u2026\","
                "\"user\":{\"screen_name\":\"carol\"},\"created_at\":\"Tue May 14 08:00:00 +0000 2024\",\"retweet_count\":9,"
                "\"entities\":{\"user_mentions\":[{\"screen_name\":\"bob\"}],\"hashtags\":[]},"
                "\"retweeted_status\":{\"id_str\":\"100\",\"text\":\"a long story about fish &amp; ch\\u2026\",\"truncated\":true,"
                "\"user\":{\"screen_name\":\"bob\"},\"entities\":{\"hashtags\":[{\"text\":\"short\"}]},"
                "\"extended_tweet\":{\"full_text\":\"a long story about fish &amp; chips #food @dan\","
                "\"entities\":{\"hashtags\":[{\"text\":\"food\"}],\"user_mentions\":[{\"screen_name\":\"dan\"}],\"urls\":[]}}},"
                "\"in_reply_to_status_id_str\":null,\"quoted_status_id_str\":\"77\"}",
                "{\"id\":\"300\",\"network\":\"twitter\",\"text\":\"RT @bob: a long story about fish & chips #food @dan\","
                "\"user\":{\"screen_name\":\"carol\"},\"created_at\":\"2024-05-14T08:00:00Z\",\"hashtags\":[\"food\"],"
                "\"mentions\":[\"bob\",\"dan\"],\"urls\":[],\"retweet_count\":9,\"retweeted_id\":\"100\",\"quoted_id\":\"77\","
                "\"url\":\"https://twitter.com/carol/status/300\"}");
    /* a reply (v1.1 numeric ids too) */
    ASSERT_NORM("{\"id_str\":\"5\",\"text\":\"@a yes\",\"user\":{\"screen_name\":\"b\"},"
                "\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\",\"in_reply_to_status_id\":4,\"quoted_status_id\":3}",
                "{\"id\":\"5\",\"network\":\"twitter\",\"text\":\"@a yes\",\"user\":{\"screen_name\":\"b\"},"
                "\"created_at\":\"2018-10-10T20:19:24Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0,"
                "\"in_reply_to_id\":\"4\",\"quoted_id\":\"3\",\"url\":\"https://twitter.com/b/status/5\"}");
    /* v2: the retweeted tweet from includes.tweets, its author from includes.users */
    ASSERT_NORM("{\"data\":{\"id\":\"20\",\"text\":\"RT @orig: cut sh\\u2026\",\"author_id\":\"1\",\"created_at\":\"2024-01-01T00:00:00.000Z\","
                "\"referenced_tweets\":[{\"type\":\"retweeted\",\"id\":\"10\"},{\"type\":\"replied_to\",\"id\":\"9\"}]},"
                "\"includes\":{\"users\":[{\"id\":\"1\",\"username\":\"rt\"},{\"id\":\"2\",\"username\":\"orig\"}],"
                "\"tweets\":[{\"id\":\"10\",\"author_id\":\"2\",\"text\":\"cut short &lt; here\","
                "\"note_tweet\":{\"text\":\"cut short &lt; here, the whole of it\",\"entities\":{\"hashtags\":[{\"tag\":\"whole\"}]}}}]}}",
                "{\"id\":\"20\",\"network\":\"twitter\",\"text\":\"RT @orig: cut short < here, the whole of it\","
                "\"user\":{\"screen_name\":\"rt\"},\"created_at\":\"2024-01-01T00:00:00Z\",\"hashtags\":[\"whole\"],"
                "\"mentions\":[\"orig\"],\"urls\":[],\"retweet_count\":0,\"retweeted_id\":\"10\",\"in_reply_to_id\":\"9\","
                "\"url\":\"https://twitter.com/rt/status/20\"}");
    /* canonical fields of every network, and what is refused in them */
    ASSERT_NORM("{\"id\":\"https://m.example/users/a/statuses/1\",\"network\":\"mastodon\",\"text\":\"t\","
                "\"user\":{\"screen_name\":\"a@m.example\"},\"created_at\":\"2024-05-01T12:00:00Z\",\"url\":\"https://m.example/@a/1\","
                "\"in_reply_to_id\":\"x\"}",
                "{\"id\":\"https://m.example/users/a/statuses/1\",\"network\":\"mastodon\",\"text\":\"t\","
                "\"user\":{\"screen_name\":\"a@m.example\"},\"created_at\":\"2024-05-01T12:00:00Z\",\"hashtags\":[],\"mentions\":[],"
                "\"urls\":[],\"retweet_count\":0,\"in_reply_to_id\":\"x\",\"url\":\"https://m.example/@a/1\"}");
    ASSERT_REJECT("{\"id\":\"1\",\"network\":\"myspace\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                  "\"created_at\":\"2024-05-01T12:00:00Z\"}", "network: expected \"twitter\", \"bluesky\" or \"mastodon\"");
    ASSERT_REJECT("{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                  "\"created_at\":\"2024-05-01T12:00:00Z\",\"url\":\"javascript:alert(1)\"}", "url: expected an http");
    ASSERT_REJECT("{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                  "\"created_at\":\"2024-05-01T12:00:00Z\",\"in_reply_to_id\":[]}", "in_reply_to_id: expected a string");
    tweet_norm_free(nz);
}

/* ---- Bluesky Jetstream ---- */

#define JS_DID "did:plc:eygmaihciaxprqvxpfvl6flk"
#define JS_POST(rkey, record) "{\"did\":\"" JS_DID "\",\"time_us\":1725911162329308,\"kind\":\"commit\"," \
    "\"commit\":{\"rev\":\"3l3qo2vutsw2b\",\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\"," \
    "\"rkey\":\"" rkey "\",\"record\":" record ",\"cid\":\"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi\"}}"
#define JS_ID(rkey) "at://" JS_DID "/app.bsky.feed.post/" rkey
#define JS_URL(rkey) "https://bsky.app/profile/" JS_DID "/post/" rkey

static void test_jetstream_post(void)
{
    nz = tweet_norm_new(16);
    /* facets are byte ranges of the UTF-8 text: "café " makes them differ from character counts */
    ASSERT_NORM(JS_POST("3l3qo2vuowo2b",
                        "{\"$type\":\"app.bsky.feed.post\",\"text\":\"caf\xc3\xa9 @alice.bsky.social #Birds https://ex.com/a\","
                        "\"createdAt\":\"2024-09-09T21:46:02.102+02:00\",\"langs\":[\"fr\",\"en\"],"
                        "\"facets\":[{\"index\":{\"byteStart\":6,\"byteEnd\":24},\"features\":[{\"$type\":"
                        "\"app.bsky.richtext.facet#mention\",\"did\":\"did:plc:alice\"}]},"
                        "{\"index\":{\"byteStart\":25,\"byteEnd\":31},\"features\":[{\"$type\":\"app.bsky.richtext.facet#tag\","
                        "\"tag\":\"Birds\"}]},{\"index\":{\"byteStart\":32,\"byteEnd\":48},\"features\":[{\"$type\":"
                        "\"app.bsky.richtext.facet#link\",\"uri\":\"https://ex.com/a\"},{\"$type\":\"app.bsky.richtext.facet#new\"}]}]}"),
                "{\"id\":\"" JS_ID("3l3qo2vuowo2b") "\",\"network\":\"bluesky\","
                "\"text\":\"caf\xc3\xa9 @alice.bsky.social #Birds https://ex.com/a\",\"user\":{\"screen_name\":\"" JS_DID "\"},"
                "\"created_at\":\"2024-09-09T19:46:02Z\",\"lang\":\"fr\",\"hashtags\":[\"Birds\"],\"mentions\":[\"alice.bsky.social\"],"
                "\"urls\":[\"https://ex.com/a\"],\"retweet_count\":0,\"url\":\"" JS_URL("3l3qo2vuowo2b") "\"}");
    /* a reply that quotes a post (with media); text kept exactly, control characters and all */
    ASSERT_NORM(JS_POST("3kb",
                        "{\"text\":\"line one\\nline \\\"two\\\"\",\"createdAt\":\"2024-09-09T19:46:02Z\","
                        "\"reply\":{\"root\":{\"uri\":\"at://did:plc:r/app.bsky.feed.post/1\",\"cid\":\"c\"},"
                        "\"parent\":{\"uri\":\"at://did:plc:p/app.bsky.feed.post/2\",\"cid\":\"c\"}},"
                        "\"embed\":{\"$type\":\"app.bsky.embed.recordWithMedia\",\"media\":{\"$type\":\"app.bsky.embed.images\"},"
                        "\"record\":{\"record\":{\"uri\":\"at://did:plc:q/app.bsky.feed.post/3\",\"cid\":\"c\"}}}}"),
                "{\"id\":\"" JS_ID("3kb") "\",\"network\":\"bluesky\",\"text\":\"line one\\nline \\\"two\\\"\","
                "\"user\":{\"screen_name\":\"" JS_DID "\"},\"created_at\":\"2024-09-09T19:46:02Z\",\"hashtags\":[],\"mentions\":[],"
                "\"urls\":[],\"retweet_count\":0,\"in_reply_to_id\":\"at://did:plc:p/app.bsky.feed.post/2\","
                "\"quoted_id\":\"at://did:plc:q/app.bsky.feed.post/3\",\"url\":\"" JS_URL("3kb") "\"}");
    /* an embedded feed generator is not a quoted post; an empty text (images only) is a post */
    ASSERT_NORM(JS_POST("3kc", "{\"text\":\"\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"embed\":{\"$type\":\"app.bsky.embed.record\","
                               "\"record\":{\"uri\":\"at://did:plc:g/app.bsky.feed.generator/whats-hot\",\"cid\":\"c\"}}}"),
                "{\"id\":\"" JS_ID("3kc") "\",\"network\":\"bluesky\",\"text\":\"\",\"user\":{\"screen_name\":\"" JS_DID "\"},"
                "\"created_at\":\"2024-09-09T19:46:02Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0,"
                "\"url\":\"" JS_URL("3kc") "\"}");
    /* broken mention ranges (some clients count characters): the DID; a createdAt that is no date: time_us */
    ASSERT_NORM(JS_POST("3kd", "{\"text\":\"h\xc3\xa9 @bob\",\"createdAt\":\"yesterday\",\"facets\":["
                               "{\"index\":{\"byteStart\":3,\"byteEnd\":6},\"features\":[{\"$type\":\"app.bsky.richtext.facet#mention\",\"did\":\"did:plc:b1\"}]},"
                               "{\"index\":{\"byteStart\":4,\"byteEnd\":99},\"features\":[{\"$type\":\"app.bsky.richtext.facet#mention\",\"did\":\"did:plc:b2\"}]},"
                               "{\"index\":{\"byteStart\":0,\"byteEnd\":2},\"features\":[{\"$type\":\"app.bsky.richtext.facet#mention\",\"did\":\"did:plc:b3\"}]},"
                               "{\"index\":{\"byteStart\":4,\"byteEnd\":7},\"features\":[{\"$type\":\"app.bsky.richtext.facet#mention\",\"did\":\"did:plc:b4\"}]}]}"),
                "{\"id\":\"" JS_ID("3kd") "\",\"network\":\"bluesky\",\"text\":\"h\xc3\xa9 @bob\",\"user\":{\"screen_name\":\"" JS_DID "\"},"
                "\"created_at\":\"2024-09-09T19:46:02Z\",\"hashtags\":[],\"mentions\":[\"did:plc:b1\",\"did:plc:b2\",\"did:plc:b3\",\"bo\"],"
                "\"urls\":[],\"retweet_count\":0,\"url\":\"" JS_URL("3kd") "\"}");
    /* a range at the very end of the integers is just another broken one
     * (no arithmetic overflows on it: UBSan runs this) */
    ASSERT_NORM(JS_POST("3ke", "{\"text\":\"@bob\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"facets\":["
                               "{\"index\":{\"byteStart\":9223372036854775807,\"byteEnd\":9223372036854775807},"
                               "\"features\":[{\"$type\":\"app.bsky.richtext.facet#mention\",\"did\":\"did:plc:b1\"}]}]}"),
                "{\"id\":\"" JS_ID("3ke") "\",\"network\":\"bluesky\",\"text\":\"@bob\",\"user\":{\"screen_name\":\"" JS_DID "\"},"
                "\"created_at\":\"2024-09-09T19:46:02Z\",\"hashtags\":[],\"mentions\":[\"did:plc:b1\"],"
                "\"urls\":[],\"retweet_count\":0,\"url\":\"" JS_URL("3ke") "\"}");
    tweet_norm_free(nz);
}

static void test_jetstream_handles(void)
{
    const char *post = JS_POST("3ke", "{\"text\":\"hi\",\"createdAt\":\"2024-09-09T19:46:02Z\"}");
    const char *with_did = "{\"id\":\"" JS_ID("3ke") "\",\"network\":\"bluesky\",\"text\":\"hi\",\"user\":{\"screen_name\":\"" JS_DID "\"},"
                           "\"created_at\":\"2024-09-09T19:46:02Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0,"
                           "\"url\":\"" JS_URL("3ke") "\"}";
    const char *with_handle = "{\"id\":\"" JS_ID("3ke") "\",\"network\":\"bluesky\",\"text\":\"hi\",\"user\":{\"screen_name\":\"jay.bsky.team\"},"
                              "\"created_at\":\"2024-09-09T19:46:02Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0,"
                              "\"url\":\"" JS_URL("3ke") "\"}";
    nz = tweet_norm_new(16);
    ASSERT_NORM(post, with_did);
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1725516665234703,\"kind\":\"identity\",\"identity\":{\"did\":\"" JS_DID "\","
                "\"handle\":\"jay.bsky.team\",\"seq\":1409752997,\"time\":\"2024-09-05T06:11:04.870Z\"}}",
                "a Jetstream identity event");
    ASSERT_EQ(tweet_norm_handles(nz), 1);
    ASSERT_NORM(post, with_handle);
    /* an identity event without a valid handle, or an account gone inactive, makes it forget */
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"identity\",\"identity\":{\"did\":\"" JS_DID "\",\"handle\":\"handle.invalid\"}}",
                "a Jetstream identity event");
    ASSERT_NORM(post, with_did);
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"identity\",\"identity\":{\"did\":\"" JS_DID "\",\"handle\":\"jay.bsky.team\"}}",
                "a Jetstream identity event");
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1725516665333808,\"kind\":\"account\",\"account\":{\"active\":false,"
                "\"did\":\"" JS_DID "\",\"seq\":1409753013,\"status\":\"deactivated\",\"time\":\"2024-09-05T06:11:04.870Z\"}}",
                "a Jetstream account event");
    ASSERT_EQ(tweet_norm_handles(nz), 0);
    ASSERT_NORM(post, with_did);
    tweet_norm_free(nz);
    /* a normaliser without a cache never names a handle */
    nz = tweet_norm_new(0);
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"identity\",\"identity\":{\"did\":\"" JS_DID "\",\"handle\":\"jay.bsky.team\"}}",
                "a Jetstream identity event");
    ASSERT_NORM(post, with_did);
    tweet_norm_free(nz);
}

static void test_jetstream_skips_and_rejects(void)
{
    buf b = BUF_INIT, out = BUF_INIT;
    tweet_info info;
    nz = tweet_norm_new(4);
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1725911162329308,\"kind\":\"commit\",\"commit\":{\"rev\":\"3l3q\","
                "\"operation\":\"create\",\"collection\":\"app.bsky.feed.like\",\"rkey\":\"3l3q\",\"record\":{\"$type\":"
                "\"app.bsky.feed.like\",\"createdAt\":\"2024-09-09T19:46:02.102Z\",\"subject\":{\"cid\":\"c\","
                "\"uri\":\"at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3pte3p2e325\"}},\"cid\":\"c\"}}",
                "a Bluesky like");
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"create\","
                "\"collection\":\"app.bsky.feed.repost\",\"rkey\":\"r\",\"record\":{}}}", "a Bluesky repost");
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"create\","
                "\"collection\":\"app.bsky.graph.follow\",\"rkey\":\"r\",\"record\":{}}}", "a Bluesky follow");
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"create\","
                "\"collection\":\"app.bsky.graph.block\",\"rkey\":\"r\",\"record\":{}}}", "a Bluesky block");
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"update\","
                "\"collection\":\"app.bsky.actor.profile\",\"rkey\":\"self\",\"record\":{}}}",
                "a Jetstream commit to app.bsky.actor.profile");
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"update\","
                "\"collection\":\"x\\ny\",\"rkey\":\"self\"}}", "a Jetstream commit to another collection");
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1725911162329308,\"kind\":\"commit\",\"commit\":{\"rev\":\"3l3q\","
                "\"operation\":\"delete\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"3l3qo2vuowo2b\"}}",
                "a Bluesky post delete");
    ASSERT_SKIP("{\"did\":\"" JS_DID "\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"update\","
                "\"collection\":\"app.bsky.feed.post\",\"rkey\":\"3l\",\"record\":{\"text\":\"x\"}}}", "a Bluesky post update");
    /* time_us is reported for skipped events too (pull resumes from it) */
    const char *del = "{\"did\":\"" JS_DID "\",\"time_us\":1725911162329399,\"kind\":\"commit\",\"commit\":{"
                      "\"operation\":\"delete\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"3l\"}}";
    ASSERT_EQ(tweet_norm_line(nz, del, strlen(del), 0, &out, &info, err, sizeof err), TWEET_SKIPPED);
    ASSERT_EQ(info.time_us, 1725911162329399ULL);
    ASSERT(info.network == NULL);

    ASSERT_REJECT("{\"did\":\"plc:x\",\"kind\":\"commit\"}", "did: not a DID");
    ASSERT_REJECT("{\"did\":\"did:plc:\",\"kind\":\"commit\"}", "did: not a DID");
    ASSERT_REJECT("{\"did\":\"did:plc:a/b\",\"kind\":\"commit\"}", "did: not a DID");
    ASSERT_REJECT("{\"did\":\"" JS_DID "\",\"kind\":\"label\"}", "kind: expected \"commit\", \"identity\" or \"account\"");
    ASSERT_REJECT("{\"did\":\"" JS_DID "\",\"time_us\":\"soon\",\"kind\":\"commit\"}", "time_us: expected a non-negative integer");
    ASSERT_REJECT("{\"did\":\"" JS_DID "\",\"kind\":\"commit\"}", "no commit");
    ASSERT_REJECT("{\"did\":\"" JS_DID "\",\"kind\":\"commit\",\"commit\":[]}", "commit: expected an object, found an array");
    ASSERT_REJECT("{\"did\":\"" JS_DID "\",\"kind\":\"commit\",\"commit\":{\"collection\":\"app.bsky.feed.post\"}}",
                  "no commit.operation");
    ASSERT_REJECT(JS_POST("a/b", "{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\"}"), "commit.rkey: not a record key");
    ASSERT_REJECT(JS_POST("..", "{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\"}"), "commit.rkey: not a record key");
    ASSERT_REJECT(JS_POST("3k", "\"text\""), "commit.record: expected an object, found a string");
    ASSERT_REJECT(JS_POST("3k", "{\"createdAt\":\"2024-09-09T19:46:02Z\"}"), "no text (commit.record.text)");
    ASSERT_REJECT(JS_POST("3k", "{\"text\":7}"), "commit.record.text: expected a string, found a number");
    ASSERT_REJECT(JS_POST("3k", "{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"langs\":\"en\"}"),
                  "commit.record.langs: expected an array, found a string");
    ASSERT_REJECT(JS_POST("3k", "{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"langs\":[3]}"),
                  "commit.record.langs[0]: expected a string, found a number");
    ASSERT_REJECT(JS_POST("3k", "{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"facets\":{}}"),
                  "commit.record.facets: expected an array, found an object");
    ASSERT_REJECT(JS_POST("3k", "{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"facets\":[{\"index\":{\"byteStart\":\"0\"}}]}"),
                  "commit.record.facets[0].index.byteStart: expected a non-negative integer, found a string");
    ASSERT_REJECT(JS_POST("3k", "{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"facets\":[{\"index\":{},"
                                "\"features\":[{\"$type\":\"app.bsky.richtext.facet#tag\",\"tag\":[]}]}]}"),
                  "commit.record.facets[0].features[0].tag: expected a string, found an array");
    ASSERT_REJECT(JS_POST("3k", "{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"reply\":{\"parent\":{\"uri\":5.5}}}"),
                  "commit.record.reply.parent.uri: expected a string or a non-negative integer");
    ASSERT_REJECT(JS_POST("3k", "{\"text\":\"t\\u0000\",\"createdAt\":\"2024-09-09T19:46:02Z\"}"),
                  "commit.record.text: contains a NUL character");
    /* no createdAt and no time_us: no date at all */
    ASSERT_REJECT("{\"did\":\"" JS_DID "\",\"kind\":\"commit\",\"commit\":{\"operation\":\"create\",\"collection\":"
                  "\"app.bsky.feed.post\",\"rkey\":\"3k\",\"record\":{\"text\":\"t\"}}}", "no commit.record.createdAt");
    /* an AT URI longer than TWEET_ID_MAX */
    buf_appends(&b, "{\"did\":\"did:web:");
    for (int i = 0; i < 240; i++) buf_appendc(&b, 'a');
    buf_appends(&b, "\",\"kind\":\"commit\",\"commit\":{\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\","
                    "\"rkey\":\"3k\",\"record\":{\"text\":\"t\",\"createdAt\":\"2024-09-09T19:46:02Z\"}}}");
    ASSERT_REJECT(b.data, "the post's AT URI would be longer than 256 bytes");
    buf_free(&b);
    buf_free(&out);
    tweet_norm_free(nz);
}

/* ---- Mastodon ---- */

#define M_ACCOUNT "\"account\":{\"id\":\"23634\",\"username\":\"noiob\",\"acct\":\"noiob@awoo.space\",\"display_name\":\"\\u202a\\u202c\"," \
    "\"url\":\"https://awoo.space/@noiob\",\"followers_count\":547}"
#define M_STATUS(content, more) "{\"id\":\"103270115826048975\",\"created_at\":\"2019-12-08T03:48:33.901Z\"," \
    "\"in_reply_to_id\":\"103270115826040000\",\"in_reply_to_account_id\":null,\"sensitive\":false,\"spoiler_text\":\"\"," \
    "\"visibility\":\"public\",\"language\":\"en\",\"uri\":\"https://mastodon.social/users/Gargron/statuses/103270115826048975\"," \
    "\"url\":\"https://mastodon.social/@Gargron/103270115826048975\",\"replies_count\":5,\"reblogs_count\":6," \
    "\"favourites_count\":11,\"content\":\"" content "\",\"reblog\":null,\"account\":{\"id\":\"1\",\"username\":\"Gargron\"," \
    "\"acct\":\"Gargron\",\"display_name\":\"Eugen \\ud83d\\udc18\",\"followers_count\":322930},\"media_attachments\":[]," \
    more "\"emojis\":[],\"card\":null,\"poll\":null}"
#define M_WANT_HEAD "{\"id\":\"https://mastodon.social/users/Gargron/statuses/103270115826048975\",\"network\":\"mastodon\","
#define M_WANT_USER "\"user\":{\"screen_name\":\"Gargron\",\"name\":\"Eugen \xf0\x9f\x90\x98\",\"followers_count\":322930}," \
    "\"created_at\":\"2019-12-08T03:48:33Z\",\"lang\":\"en\","
#define M_WANT_URL "\"url\":\"https://mastodon.social/@Gargron/103270115826048975\"}"

static void test_mastodon_status(void)
{
    nz = tweet_norm_new(0);
    ASSERT_NORM(M_STATUS("<p>Fish &amp; chips &lt;3 <a href=\\\"https://mastodon.social/tags/food\\\" class=\\\"mention hashtag\\\" "
                         "rel=\\\"tag\\\">#<span>food</span></a> with <span class=\\\"h-card\\\" translate=\\\"no\\\"><a "
                         "href=\\\"https://awoo.space/@noiob\\\" class=\\\"u-url mention\\\">@<span>noiob</span></a></span></p>"
                         "<p>Read <a href=\\\"https://example.com/fish-and-chips/history?x=1&amp;y=2\\\" target=\\\"_blank\\\" "
                         "rel=\\\"nofollow noopener noreferrer\\\" translate=\\\"no\\\"><span class=\\\"invisible\\\">https://</span>"
                         "<span class=\\\"ellipsis\\\">example.com/fish-and-chips/h</span><span class=\\\"invisible\\\">istory?x=1&amp;y=2"
                         "</span></a><br />or don&#39;t.</p>",
                         "\"mentions\":[{\"id\":\"23634\",\"username\":\"noiob\",\"url\":\"https://awoo.space/@noiob\",\"acct\":\"noiob@awoo.space\"}],"
                         "\"tags\":[{\"name\":\"food\",\"url\":\"https://mastodon.social/tags/food\"}],"),
                M_WANT_HEAD "\"text\":\"Fish & chips <3 #food with @noiob\\n\\nRead https://example.com/fish-and-chips/history?x=1&y=2\\n"
                "or don't.\"," M_WANT_USER "\"hashtags\":[\"food\"],\"mentions\":[\"noiob@awoo.space\"],"
                "\"urls\":[\"https://example.com/fish-and-chips/history?x=1&y=2\"],\"retweet_count\":6," M_WANT_URL);
    /* a quote (Mastodon 4.4) */
    ASSERT_NORM(M_STATUS("<p>this</p>", "\"mentions\":[],\"tags\":[],\"quote\":{\"state\":\"accepted\",\"quoted_status\":"
                         "{\"uri\":\"https://other.example/users/x/statuses/9\",\"content\":\"q\"}},"),
                M_WANT_HEAD "\"text\":\"this\"," M_WANT_USER "\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":6,"
                "\"quoted_id\":\"https://other.example/users/x/statuses/9\"," M_WANT_URL);
    /* a boost: a retweet of the boosted status, by the booster */
    ASSERT_NORM("{\"id\":\"103270115826048976\",\"created_at\":\"2019-12-08T04:00:00.000Z\",\"visibility\":\"public\",\"language\":null,"
                "\"uri\":\"https://awoo.space/users/noiob/statuses/103270115826048976/activity\",\"url\":null,\"reblogs_count\":0,"
                "\"content\":\"\",\"tags\":[],\"mentions\":[]," M_ACCOUNT ",\"reblog\":" M_STATUS("<p>hi #birds</p>",
                "\"mentions\":[],\"tags\":[{\"name\":\"birds\"}],") "}",
                "{\"id\":\"https://awoo.space/users/noiob/statuses/103270115826048976/activity\",\"network\":\"mastodon\","
                "\"text\":\"RT @Gargron: hi #birds\",\"user\":{\"screen_name\":\"noiob@awoo.space\",\"name\":\"\xe2\x80\xaa\xe2\x80\xac\","
                "\"followers_count\":547},\"created_at\":\"2019-12-08T04:00:00Z\",\"lang\":\"en\",\"hashtags\":[\"birds\"],"
                "\"mentions\":[\"Gargron\"],\"urls\":[],\"retweet_count\":6,"
                "\"retweeted_id\":\"https://mastodon.social/users/Gargron/statuses/103270115826048975\"," M_WANT_URL);
    tweet_norm_free(nz);
}

/* ---- urls[]: http(s) only, in every format ---- */

/* The urls of the canonical form of line s, as its JSON array's text. */
static void assert_urls(const char *s, const char *want)
{
    int rc;
    char *got = feed(s, &rc);
    if (got == NULL) TEST_FAIL("not a post (%d): %s\n  input: %s", rc, err, s);
    const char *u = strstr(got, "\"urls\":[");
    ASSERT(u != NULL);
    u += 7;
    size_t n = (size_t)(strchr(u, ']') - u) + 1;
    if (strlen(want) != n || memcmp(u, want, n) != 0) {
        fprintf(stderr, "  got:  %.*s\n  want: %s\n", (int)n, u, want);
        free(got);
        TEST_FAIL("urls");
    }
    /* and the canonical form keeps them */
    char *again = feed(got, &rc);
    if (again == NULL || strcmp(again, got) != 0) TEST_FAIL("not idempotent: %s", got);
    free(again);
    free(got);
}

#define URLS_KEPT "[\"https://ok.example/a\",\"http://ok.example/b?c=1\"]"

static void test_urls_web_only(void)
{
    nz = tweet_norm_new(16);
    /* Twitter v1.1: entities.urls[].expanded_url (else url) */
    assert_urls("{\"id_str\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\","
                "\"entities\":{\"urls\":[{\"expanded_url\":\"javascript:alert(1)\",\"url\":\"https://t.co/x\"},"
                "{\"expanded_url\":\"https://ok.example/a\"},{\"url\":\"mailto:a@b.example\"},{\"expanded_url\":\"data:text/html,x\"},"
                "{\"expanded_url\":\"http://ok.example/b?c=1\"},{\"expanded_url\":\"/relative\"}]}}", URLS_KEPT);
    /* Twitter v2: data.entities.urls */
    assert_urls("{\"data\":{\"id\":\"2\",\"text\":\"t\",\"author_id\":\"1\",\"created_at\":\"2024-01-01T00:00:00.000Z\","
                "\"entities\":{\"urls\":[{\"expanded_url\":\"vbscript:x\"},{\"expanded_url\":\"https://ok.example/a\"},"
                "{\"expanded_url\":\"https://\"},{\"expanded_url\":\"http://ok.example/b?c=1\"}]}},"
                "\"includes\":{\"users\":[{\"id\":\"1\",\"username\":\"u\"}]}}", URLS_KEPT);
    /* canonical input */
    assert_urls("{\"id\":\"3\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\",\"urls\":[\"javascript:alert(1)\",\"JavaScript:alert(1)\","
                "\"https://ok.example/a\",\"mailto:a@b.example\",\"/tags/relative\",\"data:text/html,x\",\"https://\","
                "\"http://with space.example\",\"ftp://files.example/x\",\"http://ok.example/b?c=1\",\"\"]}", URLS_KEPT);
    assert_urls("{\"id\":\"3\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\",\"urls\":[\"javascript:alert(1)\"]}", "[]");
    /* a wrong type is still refused, not dropped */
    ASSERT_REJECT("{\"id\":\"3\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                  "\"created_at\":\"2024-05-01T12:00:00Z\",\"urls\":[\"javascript:x\",1]}", "urls[1]: expected a string");
    /* Bluesky Jetstream: #link facets' uri */
    assert_urls(JS_POST("3u", "{\"text\":\"links here\",\"createdAt\":\"2024-09-09T19:46:02Z\",\"facets\":["
                              "{\"index\":{\"byteStart\":0,\"byteEnd\":5},\"features\":[{\"$type\":\"app.bsky.richtext.facet#link\","
                              "\"uri\":\"javascript:alert(1)\"},{\"$type\":\"app.bsky.richtext.facet#link\",\"uri\":\"https://ok.example/a\"}]},"
                              "{\"index\":{\"byteStart\":6,\"byteEnd\":10},\"features\":[{\"$type\":\"app.bsky.richtext.facet#link\","
                              "\"uri\":\"at://did:plc:x/app.bsky.feed.post/1\"},{\"$type\":\"app.bsky.richtext.facet#link\","
                              "\"uri\":\"http://ok.example/b?c=1\"}]}]}"),
                URLS_KEPT);
    /* Mastodon: hrefs of links in content (the links' text stays in the text) */
    int rc;
    char *got = feed(M_STATUS("<p><a href=\\\"javascript:alert(1)\\\">click</a> <a href=\\\"https://ok.example/a\\\">a</a> "
                              "<a href=\\\"mailto:a@b.example\\\">mail</a> <a href=\\\"/relative\\\">rel</a> "
                              "<a href=\\\"http://ok.example/b?c=1\\\">b</a></p>", "\"mentions\":[],\"tags\":[],"), &rc);
    if (got == NULL) TEST_FAIL("mastodon status refused: %s", err);
    ASSERT_CONTAINS(got, "\"text\":\"click a mail rel b\"");
    ASSERT_CONTAINS(got, "\"urls\":" URLS_KEPT);
    free(got);
    tweet_norm_free(nz);
}

static void test_mastodon_stream(void)
{
    buf b = BUF_INIT;
    nz = tweet_norm_new(0);
    /* the WebSocket streaming form: the status as a JSON string */
    buf_appends(&b, "{\"stream\":[\"public\"],\"event\":\"update\",\"payload\":");
    const char *status = M_STATUS("<p>streamed</p>", "\"mentions\":[],\"tags\":[],");
    buf_append_json_str(&b, status, strlen(status));
    buf_appendc(&b, '}');
    const char *want = M_WANT_HEAD "\"text\":\"streamed\"," M_WANT_USER "\"hashtags\":[],\"mentions\":[],\"urls\":[],"
                       "\"retweet_count\":6," M_WANT_URL;
    ASSERT_NORM(b.data, want);
    /* or as an object */
    ASSERT_NORM("{\"event\":\"update\",\"payload\":" M_STATUS("<p>streamed</p>", "\"mentions\":[],\"tags\":[],") "}", want);
    ASSERT_SKIP("{\"stream\":[\"public\"],\"event\":\"delete\",\"payload\":\"103270115826048975\"}", "a Mastodon delete");
    ASSERT_SKIP("{\"stream\":[\"public\"],\"event\":\"status.update\",\"payload\":\"{}\"}", "a Mastodon status.update (an edit)");
    ASSERT_SKIP("{\"event\":\"notification\",\"payload\":\"{}\"}", "a Mastodon notification event");
    ASSERT_SKIP("{\"event\":\"filters_changed\",\"payload\":null}", "a Mastodon filters_changed event");
    ASSERT_SKIP("{\"event\":\"x\\ny\",\"payload\":null}", "a Mastodon streaming event other than update");
    /* notifications (a follow, a favourite) and statuses that are not public */
    ASSERT_SKIP("{\"id\":\"34975861\",\"type\":\"follow\",\"created_at\":\"2019-11-23T07:49:02.064Z\"," M_ACCOUNT "}",
                "a Mastodon notification");
    ASSERT_SKIP("{\"id\":\"34975535\",\"type\":\"favourite\",\"created_at\":\"2019-11-23T07:29:18.903Z\"," M_ACCOUNT
                ",\"status\":{\"uri\":\"u\"}}", "a Mastodon notification");
    ASSERT_SKIP("{\"uri\":\"https://m.example/s/1\",\"visibility\":\"direct\",\"content\":\"<p>secret</p>\"," M_ACCOUNT "}",
                "a Mastodon status that is not public");

    ASSERT_REJECT("{\"event\":\"update\",\"payload\":\"{\\\"uri\\\":\"}", "payload: not JSON: unexpected end of input at byte 7");
    ASSERT_REJECT("{\"event\":\"update\",\"payload\":\"[1]\"}", "payload: expected a status object, found an array");
    ASSERT_REJECT("{\"event\":\"update\",\"payload\":5}", "payload: expected a status, found a number");
    ASSERT_REJECT("{\"event\":\"update\",\"payload\":\"{\\\"uri\\\":\\\"u\\\",\\\"content\\\":\\\"\\\"}\"}", "no account");
    ASSERT_REJECT("{\"uri\":\"https://m.example/s/1\",\"content\":\"x\",\"account\":{\"acct\":\"\"}}", "no account.acct");
    ASSERT_REJECT("{\"uri\":\"https://m.example/s/1\",\"content\":\"x\"," M_ACCOUNT "}", "no created_at");
    ASSERT_REJECT("{\"uri\":\"https://m.example/s/1\",\"content\":7,\"created_at\":\"2019-12-08T03:48:33.901Z\"," M_ACCOUNT "}",
                  "content: expected a string, found a number");
    ASSERT_REJECT("{\"uri\":7.5,\"content\":\"x\"," M_ACCOUNT "}", "uri: expected a string or a non-negative integer");
    ASSERT_REJECT("{\"uri\":\"https://m.example/s/1\",\"content\":\"x\",\"created_at\":\"2019-12-08T03:48:33.901Z\","
                  "\"url\":\"javascript:alert(1)\"," M_ACCOUNT "}", "url: expected an http");
    ASSERT_REJECT("{\"uri\":\"https://m.example/s/1\",\"content\":\"x\",\"created_at\":\"2019-12-08T03:48:33.901Z\","
                  "\"tags\":[{\"name\":1}]," M_ACCOUNT "}", "tags[0]: expected a string, found a number");
    ASSERT_REJECT("{\"uri\":\"https://m.example/s/1\",\"content\":\"x\",\"created_at\":\"2019-12-08T03:48:33.901Z\","
                  "\"reblog\":{\"content\":\"x\"}," M_ACCOUNT "}", "no reblog.uri");
    buf_reset(&b);
    buf_appends(&b, "{\"uri\":\"https://m.example/s/1\",\"created_at\":\"2019-12-08T03:48:33.901Z\"," M_ACCOUNT ",\"content\":\"");
    for (int i = 0; i <= HTML_TAGS_MAX; i++) buf_appends(&b, "<b>");
    buf_appends(&b, "\"}");
    ASSERT_REJECT(b.data, "content: more than 4096 HTML tags");
    buf_free(&b);
    tweet_norm_free(nz);
}

/* ---- the text a reader sees ---- */

static void link_to(const char *href, size_t n, void *ctx)
{
    buf *b = ctx;
    buf_append(b, href, n);
    buf_appendc(b, '|');
}

static void test_html(void)
{
    static const struct { const char *in, *text, *links; } cases[] = {
        {"", "", ""},
        {"plain &amp; simple", "plain & simple", ""},
        {"<p>one</p><p>two</p>", "one\n\ntwo", ""},
        {"<p>a<br>b<br/>c<br /></p>", "a\nb\nc", ""},
        {"<p>a</p>\n<p>b</p>\n", "a\n\nb", ""},
        {"<ul><li>x</li><li>y</li></ul><p>z</p>", "x\ny\n\nz", ""},
        {"<p>x&nbsp;y &eacute; &#128038; &#x1F426;</p>", "x\xc2\xa0y \xc3\xa9 \xf0\x9f\x90\xa6 \xf0\x9f\x90\xa6", ""},
        {"<script>alert(1)</script>ok<style>p{}</style>", "ok", ""},
        {"<a href=\"https://a.example/\">a</a> <a href=\"https://b.example/t/x\" class=\"mention hashtag\" rel=\"tag\">#x</a> "
         "<a href=\"https://c.example/@u\" class=\"u-url mention\">@u</a> <a href=\"https://d.example/\" rel=\"tag\">d</a>",
         "a #x @u d", "https://a.example/|"},
        /* stray end tags, even of the root, do not hide what follows */
        {"</p></div></body></html>after <b>bold", "after bold", ""},
        {"a<p>b</p>c", "a\n\nb\n\nc", ""},
        {"<!-- hidden --><p>shown</p>", "shown", ""},
        {"broken <a href=\"x\" <b>tags", "broken tags", "x|"},
    };
    buf out = BUF_INIT, links = BUF_INIT;
    char e[128];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        buf_reset(&out);
        buf_reset(&links);
        buf_appends(&out, "kept:");
        ASSERT_EQ(html_to_text(cases[i].in, strlen(cases[i].in), &out, link_to, &links, e, sizeof e), 0);
        if (strcmp(out.data + 5, cases[i].text) != 0)
            TEST_FAIL("case %zu: got [%s], want [%s]", i, out.data + 5, cases[i].text);
        if (strcmp(links.data ? links.data : "", cases[i].links) != 0)
            TEST_FAIL("case %zu: links [%s], want [%s]", i, links.data ? links.data : "", cases[i].links);
    }
    buf_free(&out);
    buf_free(&links);
    /* found by fuzz_mastodon: markup without text into an empty buffer (no memory yet) */
    buf empty = BUF_INIT;
    ASSERT_EQ(html_to_text("<br><p></p>", 11, &empty, NULL, NULL, e, sizeof e), 0);
    ASSERT_EQ(empty.len, 0);
    buf_free(&empty);
    /* more than HTML_TAGS_MAX tags: refused, out as it was */
    buf_appends(&out, "kept");
    for (int i = 0; i <= HTML_TAGS_MAX; i++) buf_appends(&links, "<i>");
    ASSERT_EQ(html_to_text(links.data, links.len, &out, NULL, NULL, e, sizeof e), -1);
    ASSERT_STREQ(e, "more than 4096 HTML tags");
    ASSERT_STREQ(out.data, "kept");
    buf_free(&out);
    buf_free(&links);
}

/* ---- the handle cache ---- */

static void test_handles(void)
{
    handles *h = handles_new(3);
    size_t n;
    const char *v;
    char did[32], name[32];

    ASSERT(handles_get(h, "did:plc:a", 9, &n) == NULL);
    handles_put(h, "did:plc:a", 9, "a.example", 9);
    handles_put(h, "did:plc:b", 9, "b.example", 9);
    handles_put(h, "did:plc:c", 9, "c.example", 9);
    ASSERT_EQ(handles_count(h), 3);
    v = handles_get(h, "did:plc:b", 9, &n);
    ASSERT(v && n == 9 && memcmp(v, "b.example", 9) == 0);
    /* replace */
    handles_put(h, "did:plc:b", 9, "bee.example", 11);
    v = handles_get(h, "did:plc:b", 9, &n);
    ASSERT(v && n == 11 && memcmp(v, "bee.example", 11) == 0);
    ASSERT_EQ(handles_count(h), 3);
    /* full: a fourth pushes one out, never more than three */
    handles_put(h, "did:plc:d", 9, "d.example", 9);
    ASSERT_EQ(handles_count(h), 3);
    ASSERT(handles_get(h, "did:plc:d", 9, &n) != NULL);
    /* forget, and too long a handle forgets too */
    handles_del(h, "did:plc:d", 9);
    ASSERT(handles_get(h, "did:plc:d", 9, &n) == NULL);
    ASSERT_EQ(handles_count(h), 2);
    handles_del(h, "did:plc:zz", 10);
    char longname[HANDLES_HANDLE_MAX + 2];
    memset(longname, 'x', sizeof longname);
    v = handles_get(h, "did:plc:b", 9, &n);
    if (v) {
        handles_put(h, "did:plc:b", 9, longname, sizeof longname);
        ASSERT(handles_get(h, "did:plc:b", 9, &n) == NULL);
    }
    handles_free(h);
    handles_free(NULL);

    /* many more DIDs than room: the count stays at the bound, and a DID
     * looked up often survives the sweeps */
    h = handles_new(100);
    handles_put(h, "did:plc:hot", 11, "hot.example", 11);
    for (int i = 0; i < 10000; i++) {
        int dl = snprintf(did, sizeof did, "did:plc:%d", i), nl = snprintf(name, sizeof name, "h%d.example", i);
        handles_put(h, did, (size_t)dl, name, (size_t)nl);
        ASSERT(handles_get(h, "did:plc:hot", 11, &n) != NULL);
        ASSERT(handles_count(h) <= 100);
    }
    ASSERT_EQ(handles_count(h), 100);
    v = handles_get(h, "did:plc:9999", 12, &n);
    ASSERT(v && n == 13 && memcmp(v, "h9999.example", 13) == 0);
    handles_free(h);
}

/* ---- the set of recent ids (pull's duplicate filter) ---- */

static void test_seen(void)
{
    seen *s = seen_new(3);
    char k[16];
    ASSERT_EQ(seen_add(s, "a", 1), 0);
    ASSERT_EQ(seen_add(s, "a", 1), 1);
    ASSERT_EQ(seen_add(s, "b", 1), 0);
    ASSERT_EQ(seen_add(s, "", 0), 0);
    ASSERT_EQ(seen_add(s, "", 0), 1);
    ASSERT_EQ(seen_count(s), 3);
    /* full: the oldest ("a") goes first, the others stay */
    ASSERT_EQ(seen_add(s, "c", 1), 0);
    ASSERT_EQ(seen_count(s), 3);
    ASSERT_EQ(seen_add(s, "b", 1), 1);
    ASSERT_EQ(seen_add(s, "a", 1), 0);     /* forgotten, so new again (and "b" goes) */
    ASSERT_EQ(seen_add(s, "c", 1), 1);
    ASSERT_EQ(seen_add(s, "b", 1), 0);
    seen_free(s);
    seen_free(NULL);
    /* many more than room: exactly the last max are held */
    s = seen_new(1000);
    for (int i = 0; i < 50000; i++) ASSERT_EQ(seen_add(s, k, (size_t)snprintf(k, sizeof k, "id%d", i)), 0);
    ASSERT_EQ(seen_count(s), 1000);
    for (int i = 49000; i < 50000; i++) ASSERT_EQ(seen_add(s, k, (size_t)snprintf(k, sizeof k, "id%d", i)), 1);
    ASSERT_EQ(seen_add(s, "id48999", 7), 0);
    seen_free(s);
}

/* ---- the recorded samples (tests/samples/README.md) ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    buf b = BUF_INIT;
    char chunk[65536];
    size_t n;
    if (f == NULL) return NULL;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    fclose(f);
    return buf_detach(&b, len);
}

static void check_sample(const char *name, int posts, int skipped)
{
    char path[256];
    size_t n, m;
    snprintf(path, sizeof path, "tests/samples/%s.ndjson", name);
    char *in = slurp(path, &n);
    if (in == NULL) TEST_FAIL("%s: cannot read (run from the top of the repository)", path);
    snprintf(path, sizeof path, "tests/samples/%s.canonical", name);
    char *want = slurp(path, &m);
    if (want == NULL) TEST_FAIL("%s: cannot read", path);
    buf got = BUF_INIT;
    int np = 0, ns = 0, line = 0;
    tweet_norm *t = tweet_norm_new(TWEET_HANDLES_DEFAULT);
    for (char *p = in, *nl; p < in + n; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(in + n - p));
        if (nl == NULL) nl = in + n;
        line++;
        int rc = tweet_norm_line(t, p, (size_t)(nl - p), MAX_LINE, &got, NULL, err, sizeof err);
        if (rc < 0) TEST_FAIL("%s:%d: rejected: %s", name, line, err);
        if (rc == TWEET_SKIPPED) ns++;
        else {
            np++;
            buf_appendc(&got, '\n');
        }
    }
    tweet_norm_free(t);
    ASSERT_EQ(np, posts);
    ASSERT_EQ(ns, skipped);
    ASSERT_STREQ(got.data, want);
    buf_free(&got);
    free(in);
    free(want);
}

static void test_samples(void)
{
    check_sample("twitter", 6, 3);
    check_sample("jetstream", 4, 9);
    check_sample("mastodon", 3, 4);
}

int main(void)
{
    RUN(test_twitter_text);
    RUN(test_jetstream_post);
    RUN(test_jetstream_handles);
    RUN(test_jetstream_skips_and_rejects);
    RUN(test_mastodon_status);
    RUN(test_mastodon_stream);
    RUN(test_urls_web_only);
    RUN(test_html);
    RUN(test_handles);
    RUN(test_seen);
    RUN(test_samples);
    return test_summary();
}
