/* Unit tests for lib/token: every rule of the query language on both sides
 * (a tweet's text, a query's terms), the tokens of a canonical tweet, and
 * case folding. The live/archive agreement over real servers is
 * tests/integration/query_agreement.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "test.h"
#include "token.h"

static void collect(const char *tok, size_t len, char sign, void *ctx)
{
    buf *b = ctx;
    if (tok[-1] != sign) TEST_FAIL("tok[-1] is %d, sign %d", tok[-1], sign);
    if (b->len) buf_appendc(b, '|');
    if (sign) buf_appendc(b, sign);
    buf_append(b, tok, len);
}

/* The tokens of s as "a|b|#c", for one side. */
static const char *cut(enum token_side side, const char *s)
{
    static buf b;
    buf_reset(&b);
    buf_appends(&b, "");
    size_t calls = token_scan(s, strlen(s), side, collect, &b);
    size_t bars = 0;
    for (size_t i = 0; i < b.len; i++) bars += b.data[i] == '|';
    if (calls != (b.len ? bars + 1 : 0)) TEST_FAIL("token_scan returned %zu for %zu tokens", calls, bars + 1);
    return b.data;
}
#define TEXT(s) cut(TOKEN_TEXT, s)
#define QUERY(s) cut(TOKEN_QUERY, s)

static void test_words_and_separators(void)
{
    ASSERT_STREQ(TEXT("Hello, World! rust-lang x.y don't"), "hello|world|rust|lang|x|y|don|t");
    ASSERT_STREQ(TEXT("snake_case cafe_fan 42x __"), "snake_case|cafe_fan|42x|__");   /* '_' joins */
    ASSERT_STREQ(TEXT("bad\xff" "byte\xc3"), "bad|byte");                          /* invalid bytes separate */
    ASSERT_STREQ(TEXT("co\xc2\xad" "operate"), "cooperate");                     /* a soft hyphen joins */
    ASSERT_STREQ(TEXT("zero\xe2\x80\x8bwidth"), "zero|width");                   /* U+200B separates */
    ASSERT_STREQ(TEXT("   \t\n,.;"), "");
    ASSERT_STREQ(QUERY("\"*NEAR(a b):^ OR"), "near|a|b|or");                      /* no search syntax */
    char lng[400];
    memset(lng, 'a', sizeof lng);
    lng[TOKEN_MAX] = '\0';
    ASSERT_EQ(strlen(TEXT(lng)), TOKEN_MAX);                                     /* the longest token */
    lng[TOKEN_MAX] = 'a';
    lng[TOKEN_MAX + 1] = '\0';
    ASSERT_STREQ(TEXT(lng), "");                                                 /* one byte more: none */
    ASSERT_STREQ(QUERY(lng), "");
}

static void test_signs(void)
{
    ASSERT_STREQ(TEXT("#Rust @Alice a#b x@y.z"), "rust|#rust|alice|@alice|a|b|x|y|z");
    ASSERT_STREQ(QUERY("#Rust @Alice alpha"), "#rust|@alice|alpha");
    ASSERT_STREQ(TEXT("##double # @ x"), "double|#double|x");
    ASSERT_STREQ(QUERY("(#tag)"), "#tag");                                       /* after punctuation */
    ASSERT_STREQ(TEXT("\xef\xbc\x83tag \xef\xbc\xa0me"), "tag|#tag|me|@me");     /* fullwidth ＃ ＠ */
    ASSERT_STREQ(TEXT("#\xf0\x9f\x90\xa6 #"), "\xf0\x9f\x90\xa6");              /* no signed emoji */
    ASSERT_STREQ(TEXT("\xf0\x9f\x90\xa6#tag"), "\xf0\x9f\x90\xa6|tag|#tag");     /* after an emoji */
}

static void test_case_folding(void)
{
    ASSERT_STREQ(TEXT("ÜBER МОСКВА Ǆ"), "über|uber|москва|ǆ|dz");
    ASSERT_STREQ(QUERY("ÜBER МОСКВА"), "über|москва");
    /* Final sigma folds to sigma; tonos is a diacritic. */
    ASSERT_STREQ(TEXT("ΟΔΟΣ οδός"), "οδοσ|οδόσ|οδοσ");
    ASSERT_STREQ(QUERY("ΟΔΟΣ"), "οδοσ");
    ASSERT_STREQ(QUERY("Οδός"), "οδόσ");
    ASSERT_STREQ(TEXT("İstanbul"), "İstanbul|istanbul");          /* İ has no simple folding; plain, it is i */
    /* The iota subscript mark (U+0345) composes with its vowel instead of
     * folding to ι, so polytonic Greek folds alike composed or not: ᾀ is
     * ἀ + U+0345, and ᾈ folds to ᾀ. */
    ASSERT_STREQ(TEXT("\xe1\xbe\x80"), "\xe1\xbe\x80|α");
    ASSERT_STREQ(TEXT("\xe1\xbc\x80\xcd\x85"), "\xe1\xbe\x80|α");
    ASSERT_STREQ(TEXT("\xce\xb1\xcc\x93\xcd\x85"), "\xe1\xbe\x80|α");
    ASSERT_STREQ(TEXT("\xe1\xbe\x88"), "\xe1\xbe\x80|α");
    ASSERT_STREQ(QUERY("\xe1\xbc\x80\xcd\x85"), "\xe1\xbe\x80");
    buf f = BUF_INIT;
    token_fold(&f, "\xe1\xbc\x88\xcd\x85 x\xcd\x85", 10);          /* as a filter phrase is folded */
    ASSERT_EQ(f.len, 10);
    ASSERT(memcmp(f.data, "\xe1\xbc\x80\xcd\x85 x\xcd\x85", 10) == 0);
    buf_free(&f);
}

static void test_diacritics(void)
{
    ASSERT_STREQ(TEXT("Café CAFÉ cafe"), "café|cafe|café|cafe|cafe");
    ASSERT_STREQ(QUERY("café cafe"), "café|cafe");                              /* as typed */
    ASSERT_STREQ(TEXT("cafe\xcc\x81"), "café|cafe");                             /* NFD comes out NFC */
    ASSERT_STREQ(QUERY("cafe\xcc\x81"), "café");
    ASSERT_STREQ(TEXT("Straße Æsir Øl Łódź"), "straße|strasse|æsir|aesir|øl|ol|łódź|lodz");
    ASSERT_STREQ(TEXT("ＡＢＣ ﬁne"), "ａｂｃ|abc|ﬁne|fine");                      /* fullwidth, ligature */
    ASSERT_STREQ(TEXT("Tiếng Việt"), "tiếng|tieng|việt|viet");
    ASSERT_STREQ(TEXT("\xd9\x83\xd9\x8e\xd8\xaa\xd9\x8e\xd8\xa8\xd9\x8e"),      /* Arabic with harakat */
                 "\xd9\x83\xd9\x8e\xd8\xaa\xd9\x8e\xd8\xa8\xd9\x8e|\xd9\x83\xd8\xaa\xd8\xa8");
    ASSERT_STREQ(TEXT("किताब"), "किताब");                                          /* vowel signs stay */
    ASSERT_STREQ(TEXT("#Café"), "café|#café|cafe|#cafe");
    ASSERT_STREQ(TEXT("\xf0\x9f\x84\x84"), "\xf0\x9f\x84\x84|3");      /* 🄄 is "3,": no ',' (fuzz_token) */
}

static void test_emoji(void)
{
    ASSERT_STREQ(TEXT("fire\xf0\x9f\x94\xa5\xf0\x9f\x94\xa5go"), "fire|\xf0\x9f\x94\xa5|\xf0\x9f\x94\xa5|go");
    ASSERT_STREQ(TEXT("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"), "\xf0\x9f\x91\x8d");              /* skin tone dropped */
    ASSERT_STREQ(TEXT("\xe2\x9d\xa4\xef\xb8\x8f"), "\xe2\x9d\xa4");                         /* VS16 dropped */
    ASSERT_STREQ(TEXT("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"), "\xf0\x9f\x91\xa8|\xf0\x9f\x91\xa9");   /* ZWJ */
    ASSERT_STREQ(TEXT("\xf0\x9f\x87\xab\xf0\x9f\x87\xb7!"), "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7");            /* a flag */
    ASSERT_STREQ(QUERY("\xf0\x9f\x90\xa6"), "\xf0\x9f\x90\xa6");
    ASSERT_STREQ(TEXT("a\xe2\x80\xa6" "b \xe2\x86\x92 c"), "a|b|c");                        /* … → are not emoji */
}

static void test_cjk(void)
{
    ASSERT_STREQ(TEXT("今日は晴れ"), "今|日|今日|は|日は|晴|は晴|れ|晴れ");
    ASSERT_STREQ(QUERY("今日"), "今日");
    ASSERT_STREQ(QUERY("日"), "日");
    ASSERT_STREQ(QUERY("今日は"), "今日|日は");
    ASSERT_STREQ(TEXT("iPhone買った2024年"), "iphone|買|っ|買っ|た|った|2024|年");
    ASSERT_STREQ(TEXT("#東京"), "東|京|東京|#東京");
    ASSERT_STREQ(QUERY("#東京"), "#東京");
    ASSERT_STREQ(TEXT("\xef\xbc\x83東京"), "東|京|東京|#東京");                              /* ＃東京 */
    ASSERT_STREQ(TEXT("서울에서"), "서|울|서울|에|울에|서|에서");
    ASSERT_STREQ(QUERY("서울"), "서울");
    ASSERT_STREQ(TEXT("東京、大阪"), "東|京|東京|大|阪|大阪");                                /* 、 separates */
    /* Composed (NFC) as every other word is, so a decomposed text finds and
     * is found by what is typed composed: か + U+3099 is が, conjoining jamo
     * ᄒ ᅡ ᆫ are 한 (also 하 + ᆫ), a compatibility ideograph U+F900 is 豈. */
    ASSERT_STREQ(TEXT("\xe3\x81\x8b\xe3\x82\x99\xe3\x81\x8d"), "が|き|がき");
    ASSERT_STREQ(QUERY("\xe3\x81\x8b\xe3\x82\x99"), "が");
    ASSERT_STREQ(TEXT("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab\xea\xb5\xad"), "한|국|한국");
    ASSERT_STREQ(TEXT("\xed\x95\x98\xe1\x86\xab\xea\xb5\xad"), "한|국|한국");
    ASSERT_STREQ(QUERY("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab\xea\xb5\xad"), "한국");
    ASSERT_STREQ(TEXT("\xef\xa4\x80"), "豈");
    ASSERT_STREQ(TEXT("#\xe3\x81\x8b\xe3\x82\x99"), "が|#が");
    ASSERT_STREQ(QUERY("#\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"), "#한");
}

/* Thai, Lao, Myanmar and Khmer leave spaces out too: cut as CJK is, a
 * character with its marks (vowel signs, tone marks, a Khmer coeng) as one. */
static void test_southeast_asian(void)
{
    ASSERT_STREQ(TEXT("ชอบกาแฟ"), "ช|อ|ชอ|บ|อบ|ก|บก|า|กา|แ|าแ|ฟ|แฟ");         /* "likes coffee" */
    ASSERT_STREQ(QUERY("กาแฟ"), "กา|าแ|แฟ");
    ASSERT_STREQ(TEXT("ดีมาก"), "ดี|ม|ดีม|า|มา|ก|าก");                           /* ดี: ด + U+0E35 */
    ASSERT_STREQ(QUERY("ดี"), "ดี");
    ASSERT_STREQ(TEXT("ปี๒๕๖๙"), "ปี|๒๕๖๙");                                     /* Thai digits: a number */
    ASSERT_STREQ(TEXT("#กาแฟ"), "ก|า|กา|แ|าแ|ฟ|แฟ|#กาแฟ");
    ASSERT_STREQ(TEXT("ខ្មែរ"), "ខ្|មែ|ខ្មែ|រ|មែរ");                              /* Khmer */
    ASSERT_STREQ(TEXT("ລາວ"), "ລ|າ|ລາ|ວ|າວ");                                     /* Lao */
    ASSERT_STREQ(TEXT("မြန်မာ"), "မြ|န်|မြန်|မာ|န်မာ");                                  /* Myanmar: ာ is a mark */
    ASSERT_STREQ(TEXT("Bangkok กรุงเทพ 2026"), "bangkok|ก|รุ|กรุ|ง|รุง|เ|งเ|ท|เท|พ|ทพ|2026");
}

static void text_tokens(const char *tok, size_t len, char sign, void *ctx)
{
    collect(tok, len, sign, ctx);
}

static void test_tweet(void)
{
    const char *json = "{\"id\":\"1\",\"text\":\"Hi #There café\",\"user\":{\"screen_name\":\"Cafe_Fan\"},"
                       "\"hashtags\":[\"There\",\"#東京\"],\"mentions\":[\"bob\"],\"lang\":\"en\"}";
    jdoc *d = jdoc_new();
    buf b = BUF_INIT;
    char err[128];
    ASSERT_EQ(jdoc_parse(d, json, strlen(json), 32, err, sizeof err), 0);
    buf_appends(&b, "");
    size_t n = token_tweet(d, text_tokens, &b);
    ASSERT_STREQ(b.data, "hi|there|#there|café|cafe|there|#there|東|京|東京|#東京|bob|@bob|cafe_fan|@cafe_fan");
    ASSERT_EQ(n, 15);
    /* Handles of other networks are cut like text, the sign on the first word. */
    const char *fed = "{\"id\":\"2\",\"text\":\"x\",\"user\":{\"screen_name\":\"alice.bsky.social\"},"
                      "\"mentions\":[\"bob@mastodon.social\"]}";
    ASSERT_EQ(jdoc_parse(d, fed, strlen(fed), 32, err, sizeof err), 0);
    buf_reset(&b);
    buf_appends(&b, "");
    token_tweet(d, text_tokens, &b);
    ASSERT_STREQ(b.data, "x|bob|@bob|mastodon|social|alice|@alice|bsky|social");
    ASSERT_STREQ(QUERY("@alice.bsky.social"), "@alice|bsky|social");
    ASSERT_STREQ(QUERY("@bob@mastodon.social"), "@bob|mastodon|social");
    ASSERT_EQ(jdoc_parse(d, "[1]", 3, 32, err, sizeof err), 0);
    ASSERT_EQ(token_tweet(d, text_tokens, &b), 0);
    buf_free(&b);
    jdoc_free(d);
}

static void test_fold(void)
{
    buf b = BUF_INIT;
    token_fold(&b, "ÀB Σ ς ǅ x\xff", strlen("ÀB Σ ς ǅ x\xff"));
    ASSERT_STREQ(b.data, "àb σ σ ǆ x\xff");
    buf_reset(&b);
    token_fold(&b, "\xc8\xba", 2);                      /* Ⱥ (2 bytes) folds to ⱥ (3 bytes) */
    ASSERT_STREQ(b.data, "\xe2\xb1\xa5");
    buf_free(&b);
}

/* Random bytes: every token is valid UTF-8, not empty, at most TOKEN_MAX
 * bytes, without ASCII space or punctuation other than its sign. */
static void check_token(const char *tok, size_t len, char sign, void *ctx)
{
    (void)ctx;
    if (len == 0 || len > TOKEN_MAX) TEST_FAIL("token of %zu bytes", len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            TEST_FAIL("byte 0x%02x in a token", c);
    }
    if (sign != 0 && sign != '#' && sign != '@') TEST_FAIL("sign %d", sign);
}

static void test_random_bytes(void)
{
    static const char pool[] = "aZ_9 #@.\xc3\xa9\xcc\x81\xe6\x97\xa5\xf0\x9f\x90\xa6\xe2\x80\x8d\xef\xb8\x8f\xff\xce\xa3";
    uint64_t rng = 7;
    char in[300];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(iter % (int)sizeof in);
        for (size_t i = 0; i < n; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            in[i] = pool[rng % (sizeof pool - 1)];
        }
        token_scan(in, n, iter & 1 ? TOKEN_TEXT : TOKEN_QUERY, check_token, NULL);
    }
}

int main(void)
{
    RUN(test_words_and_separators);
    RUN(test_signs);
    RUN(test_case_folding);
    RUN(test_diacritics);
    RUN(test_emoji);
    RUN(test_cjk);
    RUN(test_southeast_asian);
    RUN(test_tweet);
    RUN(test_fold);
    RUN(test_random_bytes);
    return test_summary();
}
