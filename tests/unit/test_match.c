/* Unit tests for the compiled matcher (the rules in lib/match.h and lib/token.h). */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "filter.h"
#include "match.h"
#include "test.h"

static const filter_limits LIM = {100, 400, 60};

/* Add a filter from JSON under key; returns its slot. */
static int put(matcher *m, const char *key, const char *json)
{
    filter f;
    char err[256];
    if (filter_parse(json, strlen(json), &LIM, &f, err, sizeof err) != 0) {
        fprintf(stderr, "bad filter %s: %s\n", json, err);
        abort();
    }
    int slot = match_put(m, key, &f);
    filter_free(&f);
    return slot;
}

/* Match a tweet built from parts; returns whether slot matched. */
static int hits(matcher *m, int slot, const char *tweet)
{
    match_result r = MATCH_RESULT_INIT;
    if (match_tweet(m, tweet, strlen(tweet), &r) != 0) {
        fprintf(stderr, "not a tweet: %s\n", tweet);
        abort();
    }
    int h = match_result_has(&r, slot);
    match_result_free(&r);
    return h;
}

#define TW(text) "{\"id\":\"1\",\"text\":\"" text "\",\"user\":{\"screen_name\":\"Alice\"},\"lang\":\"en\"," \
                 "\"hashtags\":[],\"mentions\":[]}"

static void test_phrase_and_or(void)
{
    matcher *m = match_new();
    int s = put(m, "1", "{\"name\":\"a\",\"track\":[\"red apple\",\"banana\"]}");
    ASSERT(hits(m, s, TW("a red and shiny apple")));       /* AND, any order */
    ASSERT(hits(m, s, TW("apple that is red")));
    ASSERT(!hits(m, s, TW("a red car")));                   /* one term missing */
    ASSERT(hits(m, s, TW("banana split")));                 /* OR of phrases */
    ASSERT(!hits(m, s, TW("bananas")));                     /* whole tokens only */
    ASSERT(!hits(m, s, TW("nothing here")));
    match_free(m);
}

static void test_case_and_punctuation(void)
{
    matcher *m = match_new();
    int s = put(m, "1", "{\"name\":\"a\",\"track\":[\"Breaking NEWS\"]}");
    ASSERT(hits(m, s, TW("BREAKING: news, from somewhere!")));
    ASSERT(hits(m, s, TW("breaking...News?")));
    match_free(m);
}

static void test_hashtags_mentions(void)
{
    matcher *m = match_new();
    int bare = put(m, "bare", "{\"name\":\"bare\",\"track\":[\"alpha\"]}");
    int tag = put(m, "tag", "{\"name\":\"tag\",\"track\":[\"#alpha\"]}");
    int ment = put(m, "ment", "{\"name\":\"ment\",\"track\":[\"@bob\"]}");
    const char *with_tag = "{\"id\":\"1\",\"text\":\"look at this\",\"user\":{\"screen_name\":\"x\"},"
                           "\"hashtags\":[\"Alpha\"],\"mentions\":[\"Bob\"]}";
    ASSERT(hits(m, bare, with_tag));
    ASSERT(hits(m, tag, with_tag));
    ASSERT(hits(m, ment, with_tag));
    /* The signed term matches only the hashtag, not the plain word. */
    ASSERT(hits(m, bare, TW("alpha release")));
    ASSERT(!hits(m, tag, TW("alpha release")));
    ASSERT(!hits(m, ment, TW("bob said")));
    /* A sign written in the text counts too (hashtags list may be empty). */
    ASSERT(hits(m, tag, TW("new #Alpha build")));
    ASSERT(hits(m, ment, TW("hi @BOB!")));
    match_free(m);
}

static void test_screen_name(void)
{
    matcher *m = match_new();
    int s1 = put(m, "1", "{\"name\":\"a\",\"track\":[\"alice\"]}");
    int s2 = put(m, "2", "{\"name\":\"b\",\"track\":[\"@alice hello\"]}");
    ASSERT(hits(m, s1, TW("no mention of her")));
    ASSERT(hits(m, s2, TW("Hello world")));
    ASSERT(!hits(m, s2, TW("goodbye")));
    match_free(m);
}

static void test_lang(void)
{
    matcher *m = match_new();
    int s = put(m, "1", "{\"name\":\"a\",\"track\":[\"futbol\"],\"lang\":[\"es\",\"pt\"]}");
    ASSERT(!hits(m, s, TW("futbol")));
    ASSERT(hits(m, s, "{\"id\":\"1\",\"text\":\"futbol\",\"user\":{\"screen_name\":\"x\"},\"lang\":\"es\"}"));
    ASSERT(hits(m, s, "{\"id\":\"1\",\"text\":\"futbol\",\"user\":{\"screen_name\":\"x\"},\"lang\":\"pt-BR\"}"));
    ASSERT(!hits(m, s, "{\"id\":\"1\",\"text\":\"futbol\",\"user\":{\"screen_name\":\"x\"},\"lang\":\"ptx\"}"));
    ASSERT(!hits(m, s, "{\"id\":\"1\",\"text\":\"futbol\",\"user\":{\"screen_name\":\"x\"}}"));
    /* A language tag of any length (BCP 47 allows long ones), as the archive
     * compares it. */
    ASSERT(hits(m, s, "{\"id\":\"1\",\"text\":\"futbol\",\"user\":{\"screen_name\":\"x\"},"
                      "\"lang\":\"PT-BR-x-some-private-use\"}"));
    match_free(m);
}

static void test_non_ascii(void)
{
    matcher *m = match_new();
    int s1 = put(m, "1", "{\"name\":\"a\",\"track\":[\"münchen straße\"]}");
    int s2 = put(m, "2", "{\"name\":\"b\",\"track\":[\"МОСКВА\"]}");
    int s3 = put(m, "3", "{\"name\":\"c\",\"track\":[\"🔥\"]}");
    int s4 = put(m, "4", "{\"name\":\"d\",\"track\":[\"#ÉTÉ\"]}");
    ASSERT(hits(m, s1, TW("Neue STRASSE? Nein: Straße in MÜNCHEN")));
    ASSERT(hits(m, s2, TW("Привет, москва!")));
    ASSERT(!hits(m, s2, TW("Москвабад")));
    ASSERT(hits(m, s3, TW("this is🔥")));
    ASSERT(hits(m, s4, "{\"id\":\"1\",\"text\":\"x\",\"user\":{\"screen_name\":\"x\"},\"hashtags\":[\"Été\"]}"));
    match_free(m);
}

/* The rules of lib/token.h as the matcher applies them. */
static void test_token_rules(void)
{
    matcher *m = match_new();
    int foo = put(m, "1", "{\"name\":\"a\",\"track\":[\"foo\"]}");
    int fan = put(m, "2", "{\"name\":\"b\",\"track\":[\"cafe_fan\"]}");
    int cafe = put(m, "3", "{\"name\":\"c\",\"track\":[\"cafe\"]}");
    int accent = put(m, "4", "{\"name\":\"d\",\"track\":[\"café\"]}");
    int one = put(m, "5", "{\"name\":\"e\",\"track\":[\"日\"]}");
    int two = put(m, "6", "{\"name\":\"f\",\"track\":[\"今日\"]}");
    int sigma = put(m, "7", "{\"name\":\"g\",\"track\":[\"οδος\"]}");
    ASSERT(!hits(m, foo, TW("foo_bar")));                    /* '_' joins */
    ASSERT(hits(m, foo, TW("foo-bar")));
    ASSERT(hits(m, fan, "{\"id\":\"1\",\"text\":\"x\",\"user\":{\"screen_name\":\"Cafe_Fan\"}}"));
    ASSERT(!hits(m, cafe, "{\"id\":\"1\",\"text\":\"x\",\"user\":{\"screen_name\":\"Cafe_Fan\"}}"));
    ASSERT(hits(m, cafe, TW("CAFÉ au lait")));             /* without the accent: both */
    ASSERT(hits(m, cafe, TW("cafe au lait")));
    ASSERT(hits(m, accent, TW("Café au lait")));           /* with it: only accented */
    ASSERT(!hits(m, accent, TW("cafe au lait")));
    ASSERT(hits(m, one, TW("今日は")));                     /* one character inside a run */
    ASSERT(hits(m, two, TW("今日は晴れ")));
    ASSERT(!hits(m, two, TW("今は日曜")));                  /* not scattered */
    ASSERT(hits(m, sigma, TW("ΟΔΟΣ")));                     /* final sigma, tonos */
    ASSERT(hits(m, sigma, TW("οδός")));
    match_free(m);
}

static void test_replace_delete_reuse(void)
{
    matcher *m = match_new();
    int s = put(m, "7", "{\"name\":\"a\",\"track\":[\"cats\"]}");
    ASSERT_EQ(match_slot(m, "7"), s);
    ASSERT(hits(m, s, TW("cats")));
    ASSERT_EQ(put(m, "7", "{\"name\":\"a\",\"track\":[\"dogs\"]}"), s);   /* replace keeps the slot */
    ASSERT(!hits(m, s, TW("cats")));
    ASSERT(hits(m, s, TW("dogs")));
    ASSERT_EQ(match_count(m), 1);
    ASSERT_EQ(match_del(m, "7"), s);
    ASSERT_EQ(match_del(m, "7"), -1);
    ASSERT_EQ(match_slot(m, "7"), -1);
    ASSERT_EQ(match_count(m), 0);
    ASSERT(!hits(m, s, TW("dogs")));
    int s2 = put(m, "8", "{\"name\":\"b\",\"track\":[\"birds\"]}");
    ASSERT_EQ(s2, s);                                                  /* slot reused */
    ASSERT(!hits(m, s2, TW("dogs")));
    ASSERT(hits(m, s2, TW("birds")));
    match_clear(m);
    ASSERT_EQ(match_count(m), 0);
    ASSERT(!hits(m, s2, TW("birds")));
    match_free(m);
}

static void test_repeated_terms(void)
{
    matcher *m = match_new();
    /* A term repeated in a phrase, or in the tweet, counts once. */
    int s = put(m, "1", "{\"name\":\"a\",\"track\":[\"go go gadget\"]}");
    ASSERT(!hits(m, s, TW("go go go")));
    ASSERT(hits(m, s, TW("gadget go")));
    match_free(m);
}

static void test_bad_tweet(void)
{
    matcher *m = match_new();
    match_result r = MATCH_RESULT_INIT;
    put(m, "1", "{\"name\":\"a\",\"track\":[\"x\"]}");
    ASSERT_EQ(match_tweet(m, "not json", 8, &r), -1);
    ASSERT_EQ(r.n, 0);
    ASSERT_EQ(match_tweet(m, "[1,2]", 5, &r), -1);
    ASSERT_EQ(match_tweet(m, "{\"text\":5,\"hashtags\":{},\"user\":[]}", 34, &r), 0);
    ASSERT_EQ(r.n, 0);
    match_result_free(&r);
    match_free(m);
}

/* 10 000 filters loaded and matched: each filter i tracks "w<i> common" and
 * "#tag<i>"; a tweet naming a few of them matches exactly those. */
static void test_ten_thousand(void)
{
    matcher *m = match_new();
    char json[200], key[16];
    int slots[10000];
    for (int i = 0; i < 10000; i++) {
        snprintf(json, sizeof json, "{\"name\":\"f%d\",\"track\":[\"w%d common\",\"#tag%d\"]}", i, i, i);
        snprintf(key, sizeof key, "%d", i);
        slots[i] = put(m, key, json);
    }
    ASSERT_EQ(match_count(m), 10000);
    const char *t = "{\"id\":\"1\",\"text\":\"common w17 w4242 and w9999 but not w5\",\"user\":{\"screen_name\":\"x\"},"
                    "\"hashtags\":[\"tag5\",\"Tag123\"]}";
    match_result r = MATCH_RESULT_INIT;
    ASSERT_EQ(match_tweet(m, t, strlen(t), &r), 0);
    ASSERT_EQ(r.n, 5);            /* 17, 4242, 9999, 5 (phrases), 5, 123 (hashtags) */
    ASSERT(match_result_has(&r, slots[17]));
    ASSERT(match_result_has(&r, slots[4242]));
    ASSERT(match_result_has(&r, slots[9999]));
    ASSERT(match_result_has(&r, slots[5]));
    ASSERT(match_result_has(&r, slots[123]));
    ASSERT(!match_result_has(&r, slots[18]));
    /* Delete half of them; the rest still match. */
    for (int i = 0; i < 10000; i += 2) {
        snprintf(key, sizeof key, "%d", i);
        ASSERT_EQ(match_del(m, key), slots[i]);
    }
    ASSERT_EQ(match_tweet(m, t, strlen(t), &r), 0);
    ASSERT_EQ(r.n, 4);            /* 17, 9999, 5, 123 */
    ASSERT(!match_result_has(&r, slots[4242]));
    ASSERT(match_result_has(&r, slots[9999]));
    match_result_free(&r);
    match_free(m);
}

int main(void)
{
    RUN(test_phrase_and_or);
    RUN(test_case_and_punctuation);
    RUN(test_hashtags_mentions);
    RUN(test_screen_name);
    RUN(test_lang);
    RUN(test_non_ascii);
    RUN(test_token_rules);
    RUN(test_replace_delete_reuse);
    RUN(test_repeated_terms);
    RUN(test_bad_tweet);
    RUN(test_ten_thousand);
    return test_summary();
}
