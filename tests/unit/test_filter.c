/* Unit tests for filter parsing, validation and normalising (the tokeniser: test_token.c). */
#include <stdlib.h>

#include "buf.h"
#include "config.h"
#include "auth.h"
#include "filter.h"
#include "match.h"
#include "token.h"
#include "test.h"

static const filter_limits LIM = {100, 400, 60};

static int parse(const char *json, filter *f, char *err)
{
    return filter_parse(json, strlen(json), &LIM, f, err, 256);
}

static void expect_error(const char *json, const char *want)
{
    filter f;
    char err[256] = "";
    if (parse(json, &f, err) != -1) TEST_FAIL("accepted %s", json);
    ASSERT_STREQ(err, want);
    ASSERT_EQ(f.ntrack, 0);
    ASSERT(f.name == NULL);
}

static void test_parse_normalises(void)
{
    filter f;
    char err[256];
    ASSERT_EQ(parse("{\"name\":\"  Rust news \",\"track\":[\"  Rust   LANG \",\"#RustLang\",\"rust lang\"],"
                    "\"lang\":[\"EN\",\"pt-BR\",\"en\"]}", &f, err), 0);
    ASSERT_STREQ(f.name, "Rust news");
    ASSERT_EQ(f.ntrack, 2);
    ASSERT_STREQ(f.track[0], "rust lang");
    ASSERT_STREQ(f.track[1], "#rustlang");
    ASSERT_EQ(f.nlang, 2);
    ASSERT_STREQ(f.lang[0], "en");
    ASSERT_STREQ(f.lang[1], "pt-br");
    buf b = BUF_INIT;
    filter_to_json(&f, &b);
    ASSERT_STREQ(b.data, "{\"name\":\"Rust news\",\"track\":[\"rust lang\",\"#rustlang\"],\"lang\":[\"en\",\"pt-br\"]}");
    filter_free(&f);
    buf_free(&b);
}

static void test_parse_non_ascii(void)
{
    filter f;
    char err[256];
    ASSERT_EQ(parse("{\"name\":\"Städte\",\"track\":[\"MÜNCHEN Straße\",\"ΑΘΗΝΑ\",\"Москва\"]}", &f, err), 0);
    ASSERT_STREQ(f.track[0], "münchen straße");
    ASSERT_STREQ(f.track[1], "αθηνα");
    ASSERT_STREQ(f.track[2], "москва");
    filter_free(&f);
}

static void test_validation_messages(void)
{
    expect_error("[1]", "body: must be a JSON object with name and track");
    expect_error("{\"name\":", "body: not JSON: unexpected end of input at byte 8");
    expect_error("{\"name\":\"a\",\"track\":[\"x\"]} x",
                 "body: not JSON: expected the end after the value, found 'x' at byte 27");
    expect_error("{\"track\":[\"x\"]}", "name: missing");
    expect_error("{\"name\":\"\",\"track\":[\"x\"]}", "name: must be 1–100 bytes of UTF-8");
    expect_error("{\"name\":\"   \",\"track\":[\"x\"]}", "name: must be 1–100 bytes of UTF-8");
    expect_error("{\"name\":7,\"track\":[\"x\"]}", "name: must be 1–100 bytes of UTF-8");
    expect_error("{\"name\":\"a\\u0000b\",\"track\":[\"x\"]}", "name: must be 1–100 bytes of UTF-8");
    expect_error("{\"name\":\"a\\nb\",\"track\":[\"x\"]}", "name: must not contain control characters");
    expect_error("{\"name\":\"\xff\",\"track\":[\"x\"]}", "body: invalid UTF-8 at byte 9");
    expect_error("{\"name\":\"a\"}", "track: missing (an array of phrases)");
    expect_error("{\"name\":\"a\",\"track\":\"x\"}", "track: must be an array of phrases");
    expect_error("{\"name\":\"a\",\"track\":[]}", "track: must hold at least one phrase");
    expect_error("{\"name\":\"a\",\"track\":[\"ok\",3]}", "track[1]: must be a string");
    expect_error("{\"name\":\"a\",\"track\":[\"ok\",\"  \"]}", "track[1]: phrase is empty");
    expect_error("{\"name\":\"a\",\"track\":[\"ok\",\"?!\"]}", "track[1]: phrase has no words (only punctuation)");
    expect_error("{\"name\":\"a\",\"track\":[\"a\",\"b\",\"c\",\"0123456789012345678901234567890123456789012345678901234567890\"]}",
                 "track[3]: phrase longer than 60 bytes");
    expect_error("{\"name\":\"a\",\"track\":[\"x\"],\"lang\":\"en\"}",
                 "lang: must be an array of language codes like [\"en\", \"pt-br\"]");
    expect_error("{\"name\":\"a\",\"track\":[\"x\"],\"lang\":[\"english\"]}",
                 "lang[0]: must be a language code like \"en\" or \"pt-br\"");
    expect_error("{\"name\":\"a\",\"track\":[\"x\"],\"lang\":[\"en\",5]}",
                 "lang[1]: must be a language code like \"en\" or \"pt-br\"");
    expect_error("{\"name\":\"a\",\"track\":[\"x\"],\"colour\":1}",
                 "colour: unknown field (a filter has name, track and lang)");
}

static void test_limits(void)
{
    filter_limits small = {5, 2, 10};
    filter f;
    char err[256];
    const char *j = "{\"name\":\"abcdef\",\"track\":[\"x\"]}";
    ASSERT_EQ(filter_parse(j, strlen(j), &small, &f, err, sizeof err), -1);
    ASSERT_STREQ(err, "name: must be 1–5 bytes of UTF-8");
    j = "{\"name\":\"a\",\"track\":[\"x\",\"y\",\"z\"]}";
    ASSERT_EQ(filter_parse(j, strlen(j), &small, &f, err, sizeof err), -1);
    ASSERT_STREQ(err, "track: more than 2 phrases");
    /* The limit applies after collapsing spaces. */
    j = "{\"name\":\"a\",\"track\":[\"abcd      efgh\"]}";
    ASSERT_EQ(filter_parse(j, strlen(j), &small, &f, err, sizeof err), 0);
    ASSERT_STREQ(f.track[0], "abcd efgh");
    filter_free(&f);
    config cfg;
    config_init(&cfg);
    filter_limits l;
    filter_limits_from_config(&l, &cfg);
    ASSERT_EQ(l.name_max, 100);
    ASSERT_EQ(l.phrases_max, 400);
    ASSERT_EQ(l.phrase_max, 60);
    config_free(&cfg);
}

static void test_meta_roundtrip(void)
{
    filter f, g;
    char err[256];
    buf b = BUF_INIT;
    const char *j = "{\"id\":\"7\",\"name\":\"n\",\"track\":[\"a b\"],\"version\":3,"
                    "\"created_at\":\"2026-01-02T03:04:05Z\",\"updated_at\":\"2026-01-02T03:04:06Z\"}";
    ASSERT_EQ(filter_load(j, strlen(j), &f, err, sizeof err), 0);
    ASSERT_STREQ(f.id, "7");
    ASSERT_EQ(f.version, 3);
    filter_to_json(&f, &b);
    ASSERT_STREQ(b.data, j);
    /* What GET returns can be PUT back: metadata is accepted and ignored. */
    ASSERT_EQ(parse(j, &g, err), 0);
    ASSERT_STREQ(g.id, "");
    ASSERT_EQ(g.version, 0);
    filter_free(&g);
    filter_free(&f);
    ASSERT_EQ(filter_load("{\"name\":\"n\",\"track\":[\"a\"]}", 26, &f, err, sizeof err), -1);
    ASSERT_STREQ(err, "id: missing or invalid");
    buf_free(&b);
}

static void test_query(void)
{
    filter f;
    char err[256];
    ASSERT_EQ(filter_from_query(" Rust  Lang,#Go ", 16, &LIM, &f, err, sizeof err), 0);
    ASSERT_STREQ(f.name, "q");
    ASSERT_EQ(f.ntrack, 2);
    ASSERT_STREQ(f.track[0], "rust lang");
    ASSERT_STREQ(f.track[1], "#go");
    filter_free(&f);
    ASSERT_EQ(filter_from_query("", 0, &LIM, &f, err, sizeof err), -1);
    ASSERT_STREQ(err, "q: phrase is empty");
    ASSERT_EQ(filter_from_query("a,,b", 4, &LIM, &f, err, sizeof err), -1);
    ASSERT_STREQ(err, "q (phrase 2): phrase is empty");
}

static void test_notice(void)
{
    filter_notice n;
    char err[256];
    const char *put = "{\"op\":\"put\",\"filter\":{\"id\":\"3\",\"name\":\"n\",\"track\":[\"a\"],\"version\":1,"
                      "\"created_at\":\"t\",\"updated_at\":\"t\"}}";
    ASSERT_EQ(filter_notice_parse(put, strlen(put), &n, err, sizeof err), 0);
    ASSERT_EQ(n.op, FILTER_NOTICE_PUT);
    ASSERT_STREQ(n.filter.id, "3");
    filter_free(&n.filter);
    ASSERT_EQ(filter_notice_parse("{\"op\":\"del\",\"id\":\"9\"}", 21, &n, err, sizeof err), 0);
    ASSERT_EQ(n.op, FILTER_NOTICE_DEL);
    ASSERT_STREQ(n.filter.id, "9");
    ASSERT_EQ(filter_notice_parse("{\"op\":\"zap\"}", 12, &n, err, sizeof err), -1);
    ASSERT_EQ(filter_notice_parse("nope", 4, &n, err, sizeof err), -1);
}

/* Found by fuzz_filter: a stored filter with an empty time (or an id that
 * no counter hands out) loaded, then serialised to JSON that no longer
 * loads; an id with CR/LF would have reached Location headers. */
static void test_load_checks_meta(void)
{
    filter f;
    char err[256];
    static const char *const bad[] = {
        "{\"id\":\"7\",\"name\":\"n\",\"track\":[\"a\"],\"version\":1,\"created_at\":\"\",\"updated_at\":\"t\"}",
        "{\"id\":\"7\",\"name\":\"n\",\"track\":[\"a\"],\"version\":1,\"created_at\":\"t\",\"updated_at\":\"a\\nb\"}",
        "{\"id\":\"7\\r\\nX: y\",\"name\":\"n\",\"track\":[\"a\"],\"version\":1,\"created_at\":\"t\",\"updated_at\":\"t\"}",
        "{\"id\":\"07\",\"name\":\"n\",\"track\":[\"a\"],\"version\":1,\"created_at\":\"t\",\"updated_at\":\"t\"}",
        "{\"id\":\"x\",\"name\":\"n\",\"track\":[\"a\"],\"version\":1,\"created_at\":\"t\",\"updated_at\":\"t\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ASSERT_EQ(filter_load(bad[i], strlen(bad[i]), &f, err, sizeof err), -1);
        ASSERT(strstr(err, "id:") || strstr(err, "_at:"));
    }
    filter_notice n;
    const char *del = "{\"op\":\"del\",\"id\":\"1\\r\\n\"}";
    ASSERT_EQ(filter_notice_parse(del, strlen(del), &n, err, sizeof err), -1);
    ASSERT_STREQ(err, "notice: del without id");
    /* Found by fuzz_filter: an unknown key was quoted with its newline. */
    const char *body = "{\"a\\nb\":1,\"name\":\"n\",\"track\":[\"a\"]}";
    filter_limits lim = {100, 400, 60};
    ASSERT_EQ(filter_parse(body, strlen(body), &lim, &f, err, sizeof err), -1);
    ASSERT(strchr(err, '\n') == NULL);
    ASSERT_CONTAINS(err, "unknown field");
    /* Found by hostile_http: json-c took trailing commas and turned a lone
     * surrogate into U+FFFD; both are 400s. */
    static const char *const lax[] = {
        "{\"name\":\"a\",\"track\":[\"a\"],}",
        "{\"name\":\"a\",\"track\":[\"a\",]}",
        "{'name':'a','track':['a']}",
        "{\"name\":\"a\\ud800\",\"track\":[\"a\"]}",
        "{\"name\":\"a\",\"track\":[\"\\udc26x\"]}",
        "{\"name\":\"a\",\"track\":[\"a\"],\"created_at\":\"\xff\"}",
        "{\"name\":\"a\",\"track\":[\"a\"],\"created_at\":\"\xff\",}",
    };
    for (size_t i = 0; i < sizeof lax / sizeof *lax; i++) {
        ASSERT_EQ(filter_parse(lax[i], strlen(lax[i]), &lim, &f, err, sizeof err), -1);
        ASSERT_CONTAINS(err, "body: ");
    }
}

static void test_name_key(void)
{
    buf b = BUF_INIT;
    filter_name_key("  Rust NEWS Ü ", &b);
    ASSERT_STREQ(b.data, "rust news ü");
    buf_free(&b);
}

/* Mutated and random inputs never crash a parser (run under the sanitizer
 * build this also catches reads out of bounds and leaks). */
static void test_hostile_input(void)
{
    static const char *const seeds[] = {
        "{\"name\":\"Rust\",\"track\":[\"rust lang\",\"#go\"],\"lang\":[\"en\"]}",
        "{\"op\":\"put\",\"filter\":{\"id\":\"3\",\"name\":\"n\",\"track\":[\"a\"],\"version\":1,"
        "\"created_at\":\"t\",\"updated_at\":\"t\"}}",
        "{\"id\":\"1\",\"text\":\"Über #tag @m 🔥\",\"user\":{\"screen_name\":\"a\"},\"hashtags\":[\"x\"],"
        "\"mentions\":[\"y\"],\"lang\":\"en\"}",
    };
    static const char alphabet[] = "{}[]\":,\\ #@abc019\x00\xc3\xa9\xff\xf0\x9f\x94\xa5\n";
    uint64_t rng = 42;
    matcher *m = match_new();
    filter f;
    match_result r = MATCH_RESULT_INIT;
    char err[256];
    char in[512];
    int accepted = 0, refused = 0;

    ASSERT_EQ(filter_parse(seeds[0], strlen(seeds[0]), &LIM, &f, err, sizeof err), 0);
    match_put(m, "1", &f);
    filter_free(&f);
    for (int iter = 0; iter < 20000; iter++) {
        const char *seed = seeds[iter % 3];
        size_t n = strlen(seed);
        memcpy(in, seed, n);
        for (int k = 0; k < 1 + iter % 4; k++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            size_t pos = (size_t)(rng % (n + 1));
            char c = alphabet[(rng >> 20) % (sizeof alphabet - 1)];
            switch ((rng >> 40) % 3) {
            case 0: if (pos < n) in[pos] = c; break;                        /* replace */
            case 1: if (n < sizeof in - 1) { memmove(in + pos + 1, in + pos, n - pos); in[pos] = c; n++; } break;
            default: if (pos < n) { memmove(in + pos, in + pos + 1, n - pos - 1); n--; } break;
            }
        }
        if (filter_parse(in, n, &LIM, &f, err, sizeof err) == 0) {
            filter_free(&f);
            accepted++;
        } else {
            ASSERT(err[0] != '\0');      /* a refusal always says why */
            refused++;
        }
        if (filter_load(in, n, &f, err, sizeof err) == 0) filter_free(&f);
        filter_notice n2;
        if (filter_notice_parse(in, n, &n2, err, sizeof err) == 0) filter_free(&n2.filter);
        if (filter_from_query(in, n, &LIM, &f, err, sizeof err) == 0) filter_free(&f);
        match_tweet(m, in, n, &r);
        char **toks;
        size_t nt;
        if (auth_parse(in, n, &toks, &nt, err, sizeof err) == 0) {
            for (size_t i = 0; i < nt; i++) free(toks[i]);
            free(toks);
        }
    }
    ASSERT(accepted > 100);
    ASSERT(refused > 100);
    match_result_free(&r);
    match_free(m);
}

int main(void)
{
    RUN(test_parse_normalises);
    RUN(test_parse_non_ascii);
    RUN(test_validation_messages);
    RUN(test_limits);
    RUN(test_meta_roundtrip);
    RUN(test_query);
    RUN(test_notice);
    RUN(test_load_checks_meta);
    RUN(test_name_key);
    RUN(test_hostile_input);
    return test_summary();
}
