/* Unit tests for the tweet normaliser (lib/tweet), its JSON reader (lib/jdoc)
 * and UTF-8 validation (lib/utf8). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jdoc.h"
#include "tweet.h"
#include "utf8.h"
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
                "{\"id\":\"1050118621198921728\",\"text\":\"Hello #World from @alice https://t.co/x\","
                "\"user\":{\"screen_name\":\"birdfeed\",\"name\":\"Bird Feed\",\"followers_count\":6129794},"
                "\"created_at\":\"2018-10-10T20:19:24Z\",\"lang\":\"en\",\"hashtags\":[\"World\"],"
                "\"mentions\":[\"alice\"],\"urls\":[\"https://example.com/a\",\"https://t.co/y\"],"
                "\"retweet_count\":161}");
}

static void test_v11_extended(void)
{
    ASSERT_NORM("{\"created_at\":\"Thu Feb 29 23:59:59 -0130 2024\",\"id_str\":\"7\",\"text\":\"short… https://t.co/z\","
                "\"truncated\":true,\"entities\":{\"hashtags\":[{\"text\":\"short\"}]},"
                "\"extended_tweet\":{\"full_text\":\"the long text #longer\",\"entities\":{\"hashtags\":[{\"text\":\"longer\"}],"
                "\"user_mentions\":[],\"urls\":[]}},\"user\":{\"screen_name\":\"x\"}}",
                "{\"id\":\"7\",\"text\":\"the long text #longer\",\"user\":{\"screen_name\":\"x\"},"
                "\"created_at\":\"2024-03-01T01:29:59Z\",\"hashtags\":[\"longer\"],\"mentions\":[],\"urls\":[],"
                "\"retweet_count\":0}");
    /* full_text (tweet_mode=extended) wins over text */
    ASSERT_NORM("{\"id_str\":\"8\",\"full_text\":\"full\",\"text\":\"trunc\",\"user\":{\"screen_name\":\"x\"},"
                "\"created_at\":\"Mon Jan 01 00:00:00 +0000 2024\"}",
                "{\"id\":\"8\",\"text\":\"full\",\"user\":{\"screen_name\":\"x\"},\"created_at\":\"2024-01-01T00:00:00Z\","
                "\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0}");
}

static void test_v11_retweet(void)
{
    ASSERT_NORM("{\"id_str\":\"200\",\"text\":\"RT @bob: original\",\"user\":{\"screen_name\":\"carol\",\"followers_count\":3},"
                "\"created_at\":\"Tue May 14 08:00:00 +0000 2024\",\"retweet_count\":5,"
                "\"retweeted_status\":{\"id\":100,\"id_str\":\"100\",\"text\":\"original\",\"user\":{\"screen_name\":\"bob\"}},"
                "\"entities\":{\"user_mentions\":[{\"screen_name\":\"bob\"}]},\"lang\":\"en\"}",
                "{\"id\":\"200\",\"text\":\"RT @bob: original\",\"user\":{\"screen_name\":\"carol\",\"followers_count\":3},"
                "\"created_at\":\"2024-05-14T08:00:00Z\",\"lang\":\"en\",\"hashtags\":[],\"mentions\":[\"bob\"],\"urls\":[],"
                "\"retweet_count\":5,\"retweeted_id\":\"100\"}");
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
                "{\"id\":\"1460323737035677698\",\"text\":\"Hi #V2 @dev https://t.co/q\","
                "\"user\":{\"screen_name\":\"developer\",\"name\":\"Dev Eloper\",\"followers_count\":77},"
                "\"created_at\":\"2021-11-15T19:08:05Z\",\"lang\":\"en\",\"hashtags\":[\"V2\"],\"mentions\":[\"dev\"],"
                "\"urls\":[\"https://example.org/\"],\"retweet_count\":12,\"retweeted_id\":\"6\"}");
    ASSERT_REJECT("{\"data\":{\"id\":\"1\",\"text\":\"t\",\"author_id\":\"42\",\"created_at\":\"2021-11-15T19:08:05Z\"}}",
                  "author_id 42 not in includes.users");
    ASSERT_REJECT("{\"data\":[{\"id\":\"1\"}]}", "data: expected one tweet object");
}

static void test_canonical_round_trip(void)
{
    const char *c = "{\"id\":\"1\",\"text\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xa6 \\\"q\\\" \\\\ \\n\","
                    "\"user\":{\"screen_name\":\"a\",\"name\":\"\xd0\x90\xd0\xbd\xd1\x8f\",\"followers_count\":0},"
                    "\"created_at\":\"2024-05-01T12:00:00Z\",\"lang\":\"ja\",\"hashtags\":[\"x\",\"y\"],"
                    "\"mentions\":[\"m\"],\"urls\":[\"https://e.com/?a=1&b=2\"],\"retweet_count\":3,"
                    "\"retweeted_id\":\"2\",\"sent_us\":1714564800000000}";
    ASSERT_NORM(c, c);
    /* keys in any order, whitespace, escapes that need not be there, signs on tags */
    ASSERT_NORM(" { \"sent_us\" : 5 , \"text\" : \"\\u0041\\u00e9\\ud83d\\udc26\\/\", \"id\":\"9\", "
                "\"created_at\":\"2024-05-01T14:00:00+02:00\", \"user\":{\"screen_name\":\"a\"},"
                "\"hashtags\":[\"#tag\"],\"mentions\":[\"@who\"]}\r",
                "{\"id\":\"9\",\"text\":\"A\xc3\xa9\xf0\x9f\x90\xa6/\",\"user\":{\"screen_name\":\"a\"},"
                "\"created_at\":\"2024-05-01T12:00:00Z\",\"hashtags\":[\"tag\"],\"mentions\":[\"who\"],\"urls\":[],"
                "\"retweet_count\":0,\"sent_us\":5}");
}

static void test_rejects(void)
{
    ASSERT_REJECT("", "not JSON: empty input");
    ASSERT_REJECT("hello", "not JSON: expected a value, found 'h' at byte 0");
    ASSERT_REJECT("{\"id\":\"1\",", "not JSON: unexpected end of input at byte 10");
    ASSERT_REJECT("[1,2]", "not an object: found an array");
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
                  "\"retweet_count\":99999999999999999999}", "retweet_count: integer too large");
}

int main(void)
{
    RUN(test_v11_plain);
    RUN(test_v11_extended);
    RUN(test_v11_retweet);
    RUN(test_v2);
    RUN(test_canonical_round_trip);
    RUN(test_rejects);
    return test_summary();
}
