/* Unit tests for the tweet normaliser (lib/tweet), its JSON reader (lib/jdoc)
 * and UTF-8 validation (lib/utf8). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jdoc.h"
#include "tweet.h"
#include "utf8.h"
#include "util.h"
#include "test.h"

#define MAX_LINE 1048576

/* Normalise s; on success return the canonical text (static buffer per call
 * site is not needed: the caller frees). On failure return NULL and leave
 * the reason in err. */
static char err[256];

static char *norm(const char *s)
{
    buf out = BUF_INIT;
    err[0] = '\0';
    if (tweet_normalize(s, strlen(s), MAX_LINE, &out, err, sizeof err) < 0) {
        if (out.len != 0) {
            fprintf(stderr, "out not empty after reject\n");
            abort();
        }
        buf_free(&out);
        return NULL;
    }
    return buf_detach(&out, NULL);
}

/* Expect s to normalise to want, and want to normalise to itself. */
#define ASSERT_NORM(s, want) do { \
        char *got_ = norm(s); \
        if (got_ == NULL) TEST_FAIL("rejected: %s\n  input: %s", err, s); \
        int same_ = strcmp(got_, want) == 0; \
        if (!same_) { fprintf(stderr, "  got:  %s\n  want: %s\n", got_, want); free(got_); TEST_FAIL("mismatch"); } \
        free(got_); \
        got_ = norm(want); \
        if (got_ == NULL) TEST_FAIL("canonical form rejected: %s", err); \
        same_ = strcmp(got_, want) == 0; \
        if (!same_) { fprintf(stderr, "  got:  %s\n  want: %s\n", got_, want); free(got_); TEST_FAIL("not idempotent"); } \
        free(got_); \
    } while (0)

/* Expect s (length n) to be rejected with a reason containing why. */
#define ASSERT_REJECT_N(s, n, why) do { \
        buf o_ = BUF_INIT; \
        buf_appends(&o_, "keep"); \
        int rc_ = tweet_normalize(s, n, MAX_LINE, &o_, err, sizeof err); \
        int kept_ = o_.len == 4 && memcmp(o_.data, "keep", 4) == 0; \
        buf_free(&o_); \
        if (rc_ != -1) TEST_FAIL("accepted: %.*s", (int)(n), s); \
        if (!kept_) TEST_FAIL("out changed on reject"); \
        ASSERT_CONTAINS(err, why); \
        ASSERT(strchr(err, '\n') == NULL); \
    } while (0)
#define ASSERT_REJECT(s, why) ASSERT_REJECT_N(s, strlen(s), why)

/* Expect s to be skipped (valid, not a post) as what. */
#define ASSERT_SKIP(s, what) do { \
        buf o_ = BUF_INIT; \
        buf_appends(&o_, "keep"); \
        int rc_ = tweet_normalize(s, strlen(s), MAX_LINE, &o_, err, sizeof err); \
        int kept_ = o_.len == 4 && memcmp(o_.data, "keep", 4) == 0; \
        buf_free(&o_); \
        if (rc_ != TWEET_SKIPPED) TEST_FAIL("not skipped (%d, %s): %s", rc_, err, s); \
        if (!kept_) TEST_FAIL("out changed on skip"); \
        ASSERT_STREQ(err, what); \
    } while (0)

static void test_v11_plain(void)
{
    ASSERT_NORM("{\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\",\"id\":1050118621198921728,"
                "\"id_str\":\"1050118621198921728\",\"text\":\"Hello #World from @alice https://t.co/x\","
                "\"truncated\":false,\"entities\":{\"hashtags\":[{\"text\":\"World\",\"indices\":[6,12]}],"
                "\"symbols\":[],\"user_mentions\":[{\"screen_name\":\"alice\",\"id\":1,\"indices\":[18,24]}],"
                "\"urls\":[{\"url\":\"https://t.co/x\",\"expanded_url\":\"https://example.com/a\"},"
                "{\"url\":\"https://t.co/y\",\"expanded_url\":null}]},"
                "\"user\":{\"id\":6253282,\"id_str\":\"6253282\",\"name\":\"Bird Feed\",\"screen_name\":\"birdfeed\","
                "\"followers_count\":6129794,\"lang\":null,\"verified\":true},\"geo\":null,\"retweet_count\":161,"
                "\"favorite_count\":296,\"lang\":\"en\",\"timestamp_ms\":\"1539202764000\"}",
                "{\"id\":\"1050118621198921728\",\"network\":\"twitter\",\"text\":\"Hello #World from @alice https://t.co/x\","
                "\"user\":{\"screen_name\":\"birdfeed\",\"name\":\"Bird Feed\",\"followers_count\":6129794},"
                "\"created_at\":\"2018-10-10T20:19:24Z\",\"lang\":\"en\",\"hashtags\":[\"World\"],"
                "\"mentions\":[\"alice\"],\"urls\":[\"https://example.com/a\",\"https://t.co/y\"],"
                "\"retweet_count\":161,\"url\":\"https://twitter.com/birdfeed/status/1050118621198921728\"}");
}

static void test_v11_extended(void)
{
    ASSERT_NORM("{\"created_at\":\"Thu Feb 29 23:59:59 -0130 2024\",\"id_str\":\"7\",\"text\":\"short… https://t.co/z\","
                "\"truncated\":true,\"entities\":{\"hashtags\":[{\"text\":\"short\"}]},"
                "\"extended_tweet\":{\"full_text\":\"the long text #longer\",\"entities\":{\"hashtags\":[{\"text\":\"longer\"}],"
                "\"user_mentions\":[],\"urls\":[]}},\"user\":{\"screen_name\":\"x\"}}",
                "{\"id\":\"7\",\"network\":\"twitter\",\"text\":\"the long text #longer\",\"user\":{\"screen_name\":\"x\"},"
                "\"created_at\":\"2024-03-01T01:29:59Z\",\"hashtags\":[\"longer\"],\"mentions\":[],\"urls\":[],"
                "\"retweet_count\":0,\"url\":\"https://twitter.com/x/status/7\"}");
    /* full_text (tweet_mode=extended) wins over text */
    ASSERT_NORM("{\"id_str\":\"8\",\"full_text\":\"full\",\"text\":\"trunc\",\"user\":{\"screen_name\":\"x\"},"
                "\"created_at\":\"Mon Jan 01 00:00:00 +0000 2024\"}",
                "{\"id\":\"8\",\"network\":\"twitter\",\"text\":\"full\",\"user\":{\"screen_name\":\"x\"},\"created_at\":\"2024-01-01T00:00:00Z\","
                "\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0,\"url\":\"https://twitter.com/x/status/8\"}");
}

static void test_v11_retweet(void)
{
    ASSERT_NORM("{\"id_str\":\"200\",\"text\":\"RT @bob: original\",\"user\":{\"screen_name\":\"carol\",\"followers_count\":3},"
                "\"created_at\":\"Tue May 14 08:00:00 +0000 2024\",\"retweet_count\":5,"
                "\"retweeted_status\":{\"id\":100,\"id_str\":\"100\",\"text\":\"original\",\"user\":{\"screen_name\":\"bob\"}},"
                "\"entities\":{\"user_mentions\":[{\"screen_name\":\"bob\"}]},\"lang\":\"en\"}",
                "{\"id\":\"200\",\"network\":\"twitter\",\"text\":\"RT @bob: original\",\"user\":{\"screen_name\":\"carol\",\"followers_count\":3},"
                "\"created_at\":\"2024-05-14T08:00:00Z\",\"lang\":\"en\",\"hashtags\":[],\"mentions\":[\"bob\"],\"urls\":[],"
                "\"retweet_count\":5,\"retweeted_id\":\"100\",\"url\":\"https://twitter.com/carol/status/200\"}");
}

static void test_v2(void)
{
    ASSERT_NORM("{\"data\":{\"id\":\"1460323737035677698\",\"text\":\"Hi #V2 @dev https://t.co/q\",\"author_id\":\"42\","
                "\"created_at\":\"2021-11-15T19:08:05.000Z\",\"lang\":\"en\","
                "\"entities\":{\"hashtags\":[{\"start\":3,\"end\":6,\"tag\":\"V2\"}],\"mentions\":[{\"username\":\"dev\",\"id\":\"9\"}],"
                "\"urls\":[{\"url\":\"https://t.co/q\",\"expanded_url\":\"https://example.org/\"}]},"
                "\"public_metrics\":{\"retweet_count\":12,\"reply_count\":1},"
                "\"referenced_tweets\":[{\"type\":\"quoted\",\"id\":\"5\"},{\"type\":\"retweeted\",\"id\":\"6\"}]},"
                "\"includes\":{\"users\":[{\"id\":\"41\",\"username\":\"other\"},"
                "{\"id\":\"42\",\"name\":\"Dev Eloper\",\"username\":\"developer\",\"public_metrics\":{\"followers_count\":77}}]}}",
                "{\"id\":\"1460323737035677698\",\"network\":\"twitter\",\"text\":\"Hi #V2 @dev https://t.co/q\","
                "\"user\":{\"screen_name\":\"developer\",\"name\":\"Dev Eloper\",\"followers_count\":77},"
                "\"created_at\":\"2021-11-15T19:08:05Z\",\"lang\":\"en\",\"hashtags\":[\"V2\"],\"mentions\":[\"dev\"],"
                "\"urls\":[\"https://example.org/\"],\"retweet_count\":12,\"retweeted_id\":\"6\",\"quoted_id\":\"5\","
                "\"url\":\"https://twitter.com/developer/status/1460323737035677698\"}");
    ASSERT_REJECT("{\"data\":{\"id\":\"1\",\"text\":\"t\",\"author_id\":\"42\",\"created_at\":\"2021-11-15T19:08:05Z\"}}",
                  "author_id 42 not in includes.users");
    ASSERT_REJECT("{\"data\":[{\"id\":\"1\"}]}", "data: expected one tweet object");
}

static void test_canonical_round_trip(void)
{
    const char *c = "{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xa6 \\\"q\\\" \\\\ \\n\","
                    "\"user\":{\"screen_name\":\"a\",\"name\":\"\xd0\x90\xd0\xbd\xd1\x8f\",\"followers_count\":0},"
                    "\"created_at\":\"2024-05-01T12:00:00Z\",\"lang\":\"ja\",\"hashtags\":[\"x\",\"y\"],"
                    "\"mentions\":[\"m\"],\"urls\":[\"https://e.com/?a=1&b=2\"],\"retweet_count\":3,"
                    "\"retweeted_id\":\"2\",\"sent_us\":1714564800000000}";
    ASSERT_NORM(c, c);
    /* keys in any order, whitespace, escapes that need not be there, signs on tags */
    ASSERT_NORM(" { \"sent_us\" : 5 , \"text\" : \"\\u0041\\u00e9\\ud83d\\udc26\\/\", \"id\":\"9\", "
                "\"created_at\":\"2024-05-01T14:00:00+02:00\", \"user\":{\"screen_name\":\"a\"},"
                "\"hashtags\":[\"#tag\"],\"mentions\":[\"@who\"]}\r",
                "{\"id\":\"9\",\"network\":\"twitter\",\"text\":\"A\xc3\xa9\xf0\x9f\x90\xa6/\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\",\"hashtags\":[\"tag\"],\"mentions\":[\"who\"],\"urls\":[],"
                "\"retweet_count\":0,\"sent_us\":5}");
}

/* Found by fuzz_tweet: "@@who" must not become "@who" on one pass and "who" on the next. */
static void test_repeated_signs(void)
{
    ASSERT_NORM("{\"id\":\"9\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                "\"hashtags\":[\"##x\",\"#\"],\"mentions\":[\"@@who\",\"@\"]}",
                "{\"id\":\"9\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                "\"hashtags\":[\"x\"],\"mentions\":[\"who\"],\"urls\":[],\"retweet_count\":0}");
}

static void test_rejects(void)
{
    ASSERT_REJECT("", "not JSON: empty input");
    ASSERT_REJECT("hello", "not JSON: expected a value, found 'h' at byte 0");
    ASSERT_REJECT("{\"id\":\"1\",", "not JSON: unexpected end of input at byte 10");
    ASSERT_REJECT("[1,2]", "not an object: found an array");
    /* the streaming APIs' notices are not posts: skipped, not rejected */
    ASSERT_SKIP("{\"delete\":{\"status\":{\"id\":1,\"id_str\":\"1\",\"user_id\":3}}}", "a Twitter \"delete\" message");
    ASSERT_SKIP("{\"limit\":{\"track\":12}}", "a Twitter \"limit\" message");
    ASSERT_SKIP("{\"errors\":[{\"title\":\"x\"}]}", "a Twitter \"errors\" message");
    ASSERT_SKIP("{\"event\":\"favorite\",\"source\":{},\"target\":{}}", "a Twitter \"event\" message");
    ASSERT_REJECT("\"str\"", "not an object: found a string");
    ASSERT_REJECT("{\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\"}", "no id");
    ASSERT_REJECT("{\"id\":\"1\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\"}", "no text");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":null,\"user\":{\"screen_name\":\"a\"}}", "no text");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"created_at\":\"2024-05-01T12:00:00Z\"}", "no user");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"name\":\"n\"}}", "no user.screen_name");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"}}", "no created_at");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"yesterday\"}",
                  "created_at: not a date");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-02-30T00:00:00Z\"}",
                  "created_at: not a date");
    /* wrong types */
    ASSERT_REJECT("{\"id\":\"1\",\"text\":5}", "text: expected a string, found a number");
    ASSERT_REJECT("{\"id\":true,\"text\":\"t\"}", "id: expected a string, found a boolean");
    ASSERT_REJECT("{\"id\":-3,\"text\":\"t\"}", "id: expected a string or a non-negative integer");
    ASSERT_REJECT("{\"id\":1.5,\"text\":\"t\"}", "id: expected a string or a non-negative integer");
    ASSERT_REJECT("{\"id\":\"\",\"text\":\"t\"}", "id: empty");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":[]}", "user: expected an object, found an array");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\",\"followers_count\":\"many\"},"
                  "\"created_at\":\"2024-05-01T12:00:00Z\"}",
                  "user.followers_count: expected a non-negative integer, found a string");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"retweet_count\":-1}", "retweet_count: expected a non-negative integer, found -1");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"hashtags\":\"x\"}", "hashtags: expected an array, found a string");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"hashtags\":[\"a\",7]}", "hashtags[1]: expected a string, found a number");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"entities\":{\"urls\":[{\"expanded_url\":3}]}}", "urls[0]: expected a string, found a number");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"sent_us\":1e6}", "sent_us: expected a non-negative integer");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"entities\":{\"hashtags\":[{\"text\":\"ok\"},5]}}", "hashtags[1]: expected an object, found a number");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"mentions\":[\"x\\u0000\"]}", "mentions[0]: contains a NUL character");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"entities\":\"none\"}", "entities: expected an object, found a string");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                  "\"retweet_count\":99999999999999999999}", "retweet_count: integer too large");
}

static void test_utf8(void)
{
    size_t bad = 99;
    char enc[4];
    ASSERT_EQ(utf8_validate("", 0, &bad), 0);
    ASSERT_EQ(utf8_validate("plain ascii, long enough for the fast path", 43, &bad), 0);
    ASSERT_EQ(utf8_validate("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x90\xa6 \xf4\x8f\xbf\xbf \xef\xbf\xbf", 19, &bad), 0);
#define BAD(s, at) do { bad = 99; ASSERT_EQ(utf8_validate(s, sizeof(s) - 1, &bad), -1); ASSERT_EQ(bad, at); } while (0)
    BAD("abc\x80", 3);                      /* lone continuation byte */
    BAD("\xc0\x80", 0);                     /* overlong NUL */
    BAD("a\xc1\xbf", 1);                    /* overlong */
    BAD("ab\xe0\x80\x80", 2);               /* overlong 3-byte */
    BAD("abcdefghij\xf0\x80\x80\x80", 10);  /* overlong 4-byte, after the fast path */
    BAD("\xed\xa0\x80", 0);                 /* surrogate U+D800 */
    BAD("x\xed\xbf\xbf", 1);                /* surrogate U+DFFF */
    BAD("\xf4\x90\x80\x80", 0);             /* U+110000 */
    BAD("\xf5\x80\x80\x80", 0);
    BAD("\xff", 0);
    BAD("ok \xe6\x97", 3);                  /* truncated at the end */
    BAD("ok \xe6\x41\x41", 3);              /* bad continuation */
#undef BAD
    ASSERT_EQ(utf8_encode(0x41, enc), 1);
    ASSERT_EQ(utf8_encode(0xE9, enc), 2);
    ASSERT_EQ(memcmp(enc, "\xc3\xa9", 2), 0);
    ASSERT_EQ(utf8_encode(0x65E5, enc), 3);
    ASSERT_EQ(utf8_encode(0x1F426, enc), 4);
    ASSERT_EQ(memcmp(enc, "\xf0\x9f\x90\xa6", 4), 0);
    ASSERT_EQ(utf8_encode(0xD800, enc), 0);
    ASSERT_EQ(utf8_encode(0x110000, enc), 0);
}

/* The decoder agrees with the validator and the encoder. */
static void test_utf8_decode(void)
{
    uint32_t cp = 7;
    ASSERT_EQ(utf8_decode("A", 1, &cp), 1);
    ASSERT_EQ(cp, 'A');
    ASSERT_EQ(utf8_decode("\xc3\xa9x", 3, &cp), 2);
    ASSERT_EQ(cp, 0xE9);
    ASSERT_EQ(utf8_decode("\xe6\x97\xa5", 3, &cp), 3);
    ASSERT_EQ(cp, 0x65E5);
    ASSERT_EQ(utf8_decode("\xf0\x9f\x90\xa6", 4, &cp), 4);
    ASSERT_EQ(cp, 0x1F426);
    ASSERT_EQ(utf8_decode("\xf4\x8f\xbf\xbf", 4, &cp), 4);
    ASSERT_EQ(cp, 0x10FFFF);
    cp = 7;
    ASSERT_EQ(utf8_decode("\xe6\x97\xa5", 2, &cp), 0);   /* truncated by n */
    ASSERT_EQ(utf8_decode("\xc0\x80", 2, &cp), 0);
    ASSERT_EQ(utf8_decode("\xe0\x9f\xbf", 3, &cp), 0);    /* overlong */
    ASSERT_EQ(utf8_decode("\xed\xa0\x80", 3, &cp), 0);    /* surrogate */
    ASSERT_EQ(utf8_decode("\xf4\x90\x80\x80", 4, &cp), 0);
    ASSERT_EQ(utf8_decode("\xbf", 1, &cp), 0);
    ASSERT_EQ(cp, 7);                                    /* untouched on failure */
    /* Every code point round-trips through encode and decode. */
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        char enc[4];
        size_t n = utf8_encode(c, enc);
        if (c >= 0xD800 && c <= 0xDFFF) {
            ASSERT_EQ(n, 0);
            continue;
        }
        ASSERT_EQ(utf8_decode(enc, n, &cp), n);
        ASSERT_EQ(cp, c);
        ASSERT_EQ(utf8_validate(enc, n, NULL), 0);
    }
}

static void test_jdoc(void)
{
    jdoc *d = jdoc_new();
    char e[128];
    size_t n;
    const char *s;
    const char *doc = "\xEF\xBB\xBF {\"a\":{\"b\":[1,-2.5e+3,\"x\\ty\",true,false,null]},\"a\":0,\"k\\u00e9y\":\"v\"}";

    ASSERT_EQ(jdoc_parse(d, doc, strlen(doc), 8, e, sizeof e), 0);
    int b = jdoc_get(d, jdoc_get(d, 0, "a"), "b");
    ASSERT_EQ(jdoc_kind(d, b), JDOC_ARRAY);
    int el = jdoc_child(d, b);
    s = jdoc_str(d, el, &n);
    ASSERT(n == 1 && s[0] == '1');
    el = jdoc_next(d, el);
    s = jdoc_str(d, el, &n);
    ASSERT(n == 7 && memcmp(s, "-2.5e+3", 7) == 0);
    el = jdoc_next(d, el);
    s = jdoc_str(d, el, &n);
    ASSERT(n == 3 && memcmp(s, "x\ty", 3) == 0);
    ASSERT_EQ(jdoc_kind(d, jdoc_next(d, el)), JDOC_TRUE);
    ASSERT_EQ(jdoc_kind(d, jdoc_next(d, jdoc_next(d, jdoc_next(d, el)))), JDOC_NULL);
    ASSERT_EQ(jdoc_kind(d, jdoc_get(d, 0, "a")), JDOC_OBJECT);   /* the first of repeated keys */
    ASSERT_EQ(jdoc_kind(d, jdoc_get(d, 0, "k\xc3\xa9y")), JDOC_STRING);
    ASSERT_EQ(jdoc_get(d, 0, "missing"), -1);
    ASSERT_EQ(jdoc_get(d, -1, "a"), -1);
    ASSERT_EQ(jdoc_kind(d, -1), JDOC_NONE);
    ASSERT(jdoc_str(d, -1, &n) == NULL);
    ASSERT_EQ(jdoc_child(d, -1), -1);

#define BADJ(text, want) do { ASSERT_EQ(jdoc_parse(d, text, strlen(text), 8, e, sizeof e), -1); \
        ASSERT_CONTAINS(e, want); } while (0)
    BADJ("01", "expected the end after the value, found '1' at byte 1");
    BADJ("1.", "unexpected end of input at byte 2");
    BADJ("-", "unexpected end of input at byte 1");
    BADJ("-x", "expected a digit, found 'x' at byte 1");
    BADJ("1e", "unexpected end of input at byte 2");
    BADJ(".5", "expected a value, found '.' at byte 0");
    BADJ("+1", "found '+'");
    BADJ("tru", "expected a value");
    BADJ("nul", "expected a value");
    BADJ("[1,]", "expected a value, found ']' at byte 3");
    BADJ("{\"a\" 1}", "expected ':', found '1' at byte 5");
    BADJ("{\"a\":1,}", "expected a string key, found '}' at byte 7");
    BADJ("{a:1}", "expected a string key, found 'a' at byte 1");
    BADJ("[1 2]", "expected ',' or ']', found '2' at byte 3");
    BADJ("\"abc", "unexpected end of input in a string at byte 4");
    BADJ("\"a\\qb\"", "invalid escape '\\q' at byte 2");
    BADJ("\"a\\u12G4\"", "invalid \\u escape at byte 2");
    BADJ("\"a\\u12", "unexpected end of input at byte 6");
    BADJ("\"tab\there\"", "control character 0x09 in a string at byte 4");
    BADJ("{} {}", "expected the end after the value, found '{' at byte 3");
    BADJ("   ", "empty input at byte 3");
    BADJ("[[[[[[[[[1]]]]]]]]]", "nesting deeper than 8 levels at byte 8");
#undef BADJ
    /* the depth limit is capped, so a careless caller cannot overflow the stack */
    {
        size_t deep = 100000;
        char *many = malloc(deep);
        memset(many, '[', deep);
        ASSERT_EQ(jdoc_parse(d, many, deep, 1 << 30, e, sizeof e), -1);
        ASSERT_CONTAINS(e, "nesting deeper than 512 levels at byte 512");
        free(many);
    }
    /* eight levels are fine */
    ASSERT_EQ(jdoc_parse(d, "[[[[[[[[1]]]]]]]]", 17, 8, e, sizeof e), 0);
    jdoc_free(d);
    jdoc_free(NULL);
}

#define T_USER "\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\""
#define T_TAIL ",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0}"

static void test_invalid_utf8(void)
{
    /* raw bytes: in the text, in a key, in a field the normaliser ignores, truncated at the end */
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"caf\xe9\"," T_USER "}", "invalid UTF-8 at byte 21");
    ASSERT_REJECT("{\"id\":\"1\",\"te\xc0\xafxt\":\"t\"}", "invalid UTF-8 at byte 13");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"ignored\":\"\xed\xa0\x80\"," T_USER "}", "invalid UTF-8 at byte 32");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\"," T_USER ",\"x\":\"\xf0\x9f\x90", "invalid UTF-8 at byte 89");
    ASSERT_REJECT("\xff{}", "invalid UTF-8 at byte 0");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8 at byte 18");
}

static void test_escapes(void)
{
    /* lone surrogates, wherever they are */
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"a\\ud83d\"," T_USER "}", "lone surrogate \\uD83D at byte 19");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"a\\uDC26b\"," T_USER "}", "lone surrogate \\uDC26");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"\\ud83d\\u0041\"," T_USER "}", "lone surrogate \\uD83D");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"\\udc26\\ud83d\"," T_USER "}", "lone surrogate \\uDC26");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"other\":\"\\ud800\"," T_USER "}", "lone surrogate \\uD800");
    /* a proper pair decodes to one 4-byte character */
    ASSERT_NORM("{\"id\":\"1\",\"text\":\"\\ud83d\\udc26\\u00e9\\u65e5\"," T_USER "}",
                "{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"\xf0\x9f\x90\xa6\xc3\xa9\xe6\x97\xa5\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\"" T_TAIL);
    /* NUL: rejected where it would reach the output, harmless elsewhere */
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"a\\u0000b\"," T_USER "}", "text: contains a NUL character");
    ASSERT_REJECT("{\"id\":\"1\\u0000\",\"text\":\"t\"," T_USER "}", "id: contains a NUL character");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\\u0000\"}}", "user.screen_name: contains a NUL");
    ASSERT_NORM("{\"id\":\"1\",\"text\":\"t\",\"source\":\"\\u0000\"," T_USER "}",
                "{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\"" T_TAIL);
    /* control characters and quotes come out escaped, "/" plain */
    ASSERT_NORM("{\"id\":\"1\",\"text\":\"\\u0001\\\"\\\\\\/\\b\\f\\n\\r\\t\\u001f\"," T_USER "}",
                "{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"\\u0001\\\"\\\\/\\b\\f\\n\\r\\t\\u001f\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\"" T_TAIL);
}

static void test_nesting(void)
{
    buf b = BUF_INIT;
    /* far too deep: rejected, without exhausting the stack */
    for (int i = 0; i < 100000; i++) buf_appendc(&b, '[');
    ASSERT_REJECT_N(b.data, b.len, "nesting deeper than 32 levels at byte 32");
    buf_reset(&b);
    /* deep inside an ignored field: 32 levels in all are fine, 33 are not */
    buf_appends(&b, "{\"id\":\"1\",\"text\":\"t\"," T_USER ",\"x\":");
    for (int i = 0; i < 31; i++) buf_appendc(&b, '[');
    for (int i = 0; i < 31; i++) buf_appendc(&b, ']');
    buf_appendc(&b, '}');
    char *got = norm(b.data);
    ASSERT(got != NULL);
    free(got);
    buf_reset(&b);
    buf_appends(&b, "{\"id\":\"1\",\"text\":\"t\"," T_USER ",\"x\":");
    for (int i = 0; i < 32; i++) buf_appends(&b, "{\"k\":");
    buf_appends(&b, "1");
    for (int i = 0; i < 32; i++) buf_appendc(&b, '}');
    buf_appendc(&b, '}');
    ASSERT_REJECT_N(b.data, b.len, "nesting deeper than 32 levels");
    buf_free(&b);
}

static void test_huge_and_truncated(void)
{
    buf b = BUF_INIT, out = BUF_INIT;
    /* a 600 KB text passes a 1 MiB limit, fails a 100 KB one, passes with no limit (0) */
    buf_appends(&b, "{\"id\":\"1\",\"text\":\"");
    for (int i = 0; i < 60000; i++) buf_appends(&b, "0123456789");
    buf_appends(&b, "\"," T_USER "}");
    char *got = norm(b.data);
    ASSERT(got != NULL);
    ASSERT_EQ(strlen(got), 600000 + strlen("{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"\",\"user\":{\"screen_name\":\"a\"},"
                                           "\"created_at\":\"2024-05-01T12:00:00Z\"" T_TAIL));
    free(got);
    ASSERT_EQ(tweet_normalize(b.data, b.len, 100000, &out, err, sizeof err), -1);
    ASSERT_STREQ(err, "line longer than 100000 bytes");
    ASSERT_EQ(out.len, 0);
    ASSERT_EQ(tweet_normalize(b.data, b.len, 0, &out, err, sizeof err), 0);
    buf_free(&out);

    /* every proper prefix of a valid v1.1 object is rejected, as not JSON or as invalid UTF-8
     * (a cut through a multi-byte character) */
    buf_reset(&b);
    buf_appends(&b, "{\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\",\"id\":1,\"id_str\":\"1\","
                    "\"text\":\"caf\xc3\xa9 \xe6\x97\xa5\\u00e9 \\ud83d\\udc26 #x\",\"user\":{\"screen_name\":\"s\","
                    "\"followers_count\":1},\"entities\":{\"hashtags\":[{\"text\":\"x\",\"indices\":[1,2]}]},"
                    "\"retweet_count\":0,\"lang\":\"en\",\"x\":[true,false,null,-1.5e3]}");
    got = norm(b.data);
    ASSERT(got != NULL);
    free(got);
    for (size_t n = 0; n < b.len; n++) {
        buf o = BUF_INIT;
        if (tweet_normalize(b.data, n, MAX_LINE, &o, err, sizeof err) != -1) TEST_FAIL("prefix %zu accepted", n);
        if (strncmp(err, "not JSON: ", 10) != 0 && strncmp(err, "invalid UTF-8", 13) != 0 &&
            strncmp(err, "invalid \\u escape", 17) != 0)
            TEST_FAIL("prefix %zu: unexpected reason: %s", n, err);
        ASSERT_EQ(o.len, 0);
        buf_free(&o);
    }
    buf_free(&b);
}

static void test_ids(void)
{
    /* numeric ids keep every digit, beyond 2^53 and 2^64 */
    ASSERT_NORM("{\"id\":1050118621198921728,\"text\":\"t\"," T_USER "}",
                "{\"id\":\"1050118621198921728\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\"" T_TAIL);
    ASSERT_NORM("{\"id\":184467440737095516160,\"text\":\"t\"," T_USER "}",
                "{\"id\":\"184467440737095516160\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\"" T_TAIL);
    /* id_str wins over a numeric id that a double has already rounded */
    ASSERT_NORM("{\"id\":1050118621198921700,\"id_str\":\"1050118621198921728\",\"text\":\"t\"," T_USER "}",
                "{\"id\":\"1050118621198921728\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0,"
                "\"url\":\"https://twitter.com/a/status/1050118621198921728\"}");
    ASSERT_NORM("{\"id\":\"1\",\"text\":\"t\"," T_USER ",\"retweeted_status\":{\"id\":99999999999999999999}}",
                "{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"2024-05-01T12:00:00Z\","
                "\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0,\"retweeted_id\":\"99999999999999999999\","
                "\"url\":\"https://twitter.com/a/status/1\"}");
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\"," T_USER ",\"retweeted_status\":{\"text\":\"x\"}}", "retweeted_status: no id");
    /* ids of TWEET_ID_MAX bytes fit (AT URIs and Mastodon URIs are long), one more does not */
    {
        char id[TWEET_ID_MAX + 2], in[2048], want[2048];
        memset(id, 'x', sizeof id);
        memcpy(id, "at://did:plc:", 13);
        id[TWEET_ID_MAX] = '\0';
        snprintf(in, sizeof in, "{\"id\":\"%s\",\"network\":\"bluesky\",\"text\":\"t\"," T_USER ",\"retweeted_id\":\"%s\","
                 "\"in_reply_to_id\":\"%s\",\"quoted_id\":\"%s\"}", id, id, id, id);
        snprintf(want, sizeof want, "{\"id\":\"%s\",\"network\":\"bluesky\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                 "\"created_at\":\"2024-05-01T12:00:00Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0,"
                 "\"retweeted_id\":\"%s\",\"in_reply_to_id\":\"%s\",\"quoted_id\":\"%s\"}", id, id, id, id);
        ASSERT_NORM(in, want);
        id[TWEET_ID_MAX] = 'x';
        id[TWEET_ID_MAX + 1] = '\0';
        snprintf(in, sizeof in, "{\"id\":\"%s\",\"text\":\"t\"}", id);
        ASSERT_REJECT(in, "id: longer than 256 bytes");
        snprintf(in, sizeof in, "{\"id\":\"1\",\"text\":\"t\"," T_USER ",\"quoted_id\":\"%s\"}", id);
        ASSERT_REJECT(in, "quoted_id: longer than 256 bytes");
    }
    ASSERT_REJECT("{\"id\":\"a\\nb\",\"text\":\"t\"}", "id: contains a control character");
    ASSERT_REJECT("{\"id\":1e5,\"text\":\"t\"}", "id: expected a string or a non-negative integer, found 1e5");
}

static void test_dates(void)
{
    static const struct { const char *in, *out; } ok[] = {
        {"Wed Oct 10 20:19:24 +0000 2018", "2018-10-10T20:19:24Z"},
        {"Sun Dec 31 23:30:00 -0100 2023", "2024-01-01T00:30:00Z"},
        {"Mon Jan 01 04:00:00 +0530 2024", "2023-12-31T22:30:00Z"},
        {"2021-11-15T19:08:05.000Z", "2021-11-15T19:08:05Z"},
        {"2021-11-15T19:08:05.123456Z", "2021-11-15T19:08:05Z"},
        {"2024-02-29T23:00:00-02:00", "2024-03-01T01:00:00Z"},
        {"2000-03-01T00:30:00+0100", "2000-02-29T23:30:00Z"},
    };
    static const char *const bad[] = {
        "Wed Foo 10 20:19:24 +0000 2018", "Wed Oct 32 20:19:24 +0000 2018", "Wed Oct 10 24:00:00 +0000 2018",
        "2023-02-29T00:00:00Z", "2021-11-15T19:08:05", "2021-11-15 19:08:05Z", "2021-11-15T19:08:05.Z",
        "2021-13-01T00:00:00Z", "2021-11-15T19:08:60Z", "1636999685", "", "2021-11-15T19:08:05+1:00",
    };
    char in[256], want[512];
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        snprintf(in, sizeof in, "{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                 "\"created_at\":\"%s\"}", ok[i].in);
        snprintf(want, sizeof want, "{\"id\":\"1\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"%s\""
                 T_TAIL, ok[i].out);
        ASSERT_NORM(in, want);
    }
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        snprintf(in, sizeof in, "{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":\"%s\"}",
                 bad[i]);
        ASSERT_REJECT(in, "created_at: not a date");
    }
    ASSERT_REJECT("{\"id\":\"1\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},\"created_at\":1636999685}",
                  "created_at: expected a string, found a number");
}

static void test_non_ascii(void)
{
    ASSERT_NORM("{\"id_str\":\"5\",\"text\":\"\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf\xe9\xb3\xa5 #\xe9\x87\x8e\xe9\xb3\xa5 "
                "\xd0\xbf\xd1\x82\xd0\xb8\xd1\x86\xd1\x8b \xf0\x9f\x90\xa6\",\"user\":{\"screen_name\":\"s\","
                "\"name\":\"\xe4\xbd\x90\xe8\x97\xa4\"},\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\",\"lang\":\"ja\","
                "\"entities\":{\"hashtags\":[{\"text\":\"\xe9\x87\x8e\xe9\xb3\xa5\"}]}}",
                "{\"id\":\"5\",\"network\":\"twitter\",\"text\":\"\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf\xe9\xb3\xa5 #\xe9\x87\x8e\xe9\xb3\xa5 "
                "\xd0\xbf\xd1\x82\xd0\xb8\xd1\x86\xd1\x8b \xf0\x9f\x90\xa6\",\"user\":{\"screen_name\":\"s\","
                "\"name\":\"\xe4\xbd\x90\xe8\x97\xa4\"},\"created_at\":\"2018-10-10T20:19:24Z\",\"lang\":\"ja\","
                "\"hashtags\":[\"\xe9\x87\x8e\xe9\xb3\xa5\"],\"mentions\":[],\"urls\":[],\"retweet_count\":0,"
                "\"url\":\"https://twitter.com/s/status/5\"}");
}

static void *thread_main(void *arg)
{
    const char *in = "{\"id_str\":\"7\",\"text\":\"same \\u00e9\",\"user\":{\"screen_name\":\"x\"},"
                     "\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\",\"retweet_count\":3}";
    const char *want = "{\"id\":\"7\",\"network\":\"twitter\",\"text\":\"same \xc3\xa9\",\"user\":{\"screen_name\":\"x\"},"
                       "\"created_at\":\"2018-10-10T20:19:24Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],"
                       "\"retweet_count\":3,\"url\":\"https://twitter.com/x/status/7\"}";
    buf out = BUF_INIT;
    char e[128];
    long bad = 0;
    for (int i = 0; i < 20000; i++) {
        buf_reset(&out);
        if (tweet_normalize(in, strlen(in), MAX_LINE, &out, e, sizeof e) < 0 || strcmp(out.data, want) != 0) bad++;
        if (tweet_normalize("{\"id\":", 6, MAX_LINE, &out, e, sizeof e) == 0) bad++;
    }
    buf_free(&out);
    *(long *)arg = bad;
    return NULL;
}

static void test_threads(void)
{
    pthread_t th[4];
    long bad[4];
    for (int i = 0; i < 4; i++) ASSERT_EQ(pthread_create(&th[i], NULL, thread_main, &bad[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(bad[i], 0);
    }
}

static void test_appends(void)
{
    /* out keeps what it held: canonical JSON is appended */
    buf out = BUF_INIT;
    const char *in = "{\"id\":\"1\",\"text\":\"t\"," T_USER "}";
    buf_appends(&out, "1-0 ");
    ASSERT_EQ(tweet_normalize(in, strlen(in), MAX_LINE, &out, err, sizeof err), 0);
    ASSERT_STREQ(out.data, "1-0 {\"id\":\"1\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"a\"},"
                           "\"created_at\":\"2024-05-01T12:00:00Z\"" T_TAIL);
    /* a zero-sized err buffer is allowed */
    ASSERT_EQ(tweet_normalize("x", 1, MAX_LINE, &out, NULL, 0), -1);
    buf_free(&out);
}

int main(void)
{
    RUN(test_v11_plain);
    RUN(test_v11_extended);
    RUN(test_v11_retweet);
    RUN(test_v2);
    RUN(test_canonical_round_trip);
    RUN(test_rejects);
    RUN(test_repeated_signs);
    RUN(test_utf8);
    RUN(test_utf8_decode);
    RUN(test_jdoc);
    RUN(test_invalid_utf8);
    RUN(test_escapes);
    RUN(test_nesting);
    RUN(test_huge_and_truncated);
    RUN(test_ids);
    RUN(test_dates);
    RUN(test_non_ascii);
    RUN(test_threads);
    RUN(test_appends);
    return test_summary();
}
