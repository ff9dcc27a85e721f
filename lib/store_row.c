/* store_row — a stream entry made ready for the archive: its stream id
 * checked against the archive's range, its canonical tweet read (jdoc), and
 * the words search uses. No I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "store.h"
#include "store_engine.h"
#include "utf8.h"
#include "util.h"

/* Non-ASCII code points that separate words: Latin-1 punctuation and
 * symbols, general punctuation, symbols, arrows, dingbats, CJK punctuation,
 * variation selectors, specials, emoji. Everything else above ASCII (letters
 * and digits of every script, combining marks) belongs to words. */
static int is_separator(uint32_t cp)
{
    static const uint32_t ranges[][2] = {
        {0x0080, 0x00BF}, {0x00D7, 0x00D7}, {0x00F7, 0x00F7}, {0x2000, 0x2BFF}, {0x2E00, 0x2E7F},
        {0x3000, 0x303F}, {0xFE00, 0xFE0F}, {0xFE30, 0xFE4F}, {0xFEFF, 0xFEFF}, {0xFF00, 0xFF0F},
        {0xFF1A, 0xFF20}, {0xFFF0, 0xFFFF}, {0x1F000, 0x1FAFF}, {0xE0000, 0xE007F},
    };
    for (size_t i = 0; i < ARRAY_LEN(ranges); i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1]) return 1;
    return 0;
}

/* Scripts written without spaces between words (Chinese, Japanese kana and
 * kanji): each character is a word of its own, so a search for 今日 finds
 * text that holds 今 and 日 on both engines alike. */
static int is_unspaced(uint32_t cp)
{
    static const uint32_t ranges[][2] = {
        {0x3040, 0x30FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}, {0xFF66, 0xFF9F},
        {0x20000, 0x3FFFF},
    };
    for (size_t i = 0; i < ARRAY_LEN(ranges); i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1]) return 1;
    return 0;
}

size_t store_words(buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, words = 0;
    int in_word = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        int word;
        if (len == 0) {
            len = 1;
            word = 0;
        } else if (cp < 0x80) {
            word = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
        } else {
            word = !is_separator(cp);
        }
        if (word && cp >= 0x80 && is_unspaced(cp)) in_word = 0;   /* a word by itself */
        if (word) {
            if (!in_word) {
                if (out->len > 0 && out->data[out->len - 1] != ' ') buf_appendc(out, ' ');
                words++;
                in_word = 1;
            }
            if (cp >= 'A' && cp <= 'Z') buf_appendc(out, (char)(cp - 'A' + 'a'));
            else buf_append(out, p + i, len);
            if (cp >= 0x80 && is_unspaced(cp)) in_word = 0;
        } else {
            in_word = 0;
        }
        i += len;
    }
    return words;
}

/* A string member of obj (an id may also be a non-negative integer, kept
 * digit for digit), copied; NULL when absent or of another kind. -1 when it
 * holds a NUL character, which SQL text cannot carry. */
static int json_str(const jdoc *d, int obj, const char *key, char **out)
{
    int v = jdoc_get(d, obj, key);
    size_t n;
    const char *s = jdoc_kind(d, v) == JDOC_STRING || (jdoc_kind(d, v) == JDOC_NUMBER && strcmp(key, "id") == 0)
                        ? jdoc_str(d, v, &n) : NULL;
    *out = NULL;
    if (s == NULL) return 0;
    if (memchr(s, '\0', n)) return -1;
    *out = xstrndup(s, n);
    return 0;
}

static void json_words(buf *words, const jdoc *d, const char *key)
{
    int a = jdoc_get(d, 0, key);
    if (jdoc_kind(d, a) != JDOC_ARRAY) return;
    for (int e = jdoc_child(d, a); e >= 0; e = jdoc_next(d, e)) {
        size_t n;
        const char *w = jdoc_kind(d, e) == JDOC_STRING ? jdoc_str(d, e, &n) : NULL;
        if (w) store_words(words, w, n);
    }
}

int store_row_parse(store_row *row, const char *id, const char *json, size_t json_len, char *err, size_t errlen)
{
    jdoc *d = jdoc_new();
    char why[200];

    memset(row, 0, sizeof *row);
    if (bus_id_parse(id, strlen(id), &row->sid) < 0) {
        store_err(err, errlen, "stream id '%.60s' is not <ms>-<seq>", id);
        goto fail;
    }
    if (row->sid.ms >= STORE_MS_LIMIT || row->sid.seq >= STORE_SEQ_LIMIT) {
        store_err(err, errlen, "stream id '%.60s' is out of the archive's range (ms < 2^43, seq < 2^20)", id);
        goto fail;
    }
    bus_id_format(row->sid, row->id);
    if (jdoc_parse(d, json, json_len, 32, why, sizeof why) < 0) {
        store_err(err, errlen, "%s", why);
        goto fail;
    }
    if (jdoc_kind(d, 0) != JDOC_OBJECT) {
        store_err(err, errlen, "not a JSON object");
        goto fail;
    }
    if (json_str(d, 0, "id", &row->tweet_id) < 0 || json_str(d, 0, "text", &row->text) < 0 ||
        json_str(d, jdoc_get(d, 0, "user"), "screen_name", &row->author) < 0 ||
        json_str(d, 0, "lang", &row->lang) < 0 || json_str(d, 0, "created_at", &row->created_at) < 0) {
        store_err(err, errlen, "a field contains a NUL character");
        goto fail;
    }
    if (row->tweet_id == NULL) {
        store_err(err, errlen, "no id");
        goto fail;
    }
    if (row->text == NULL) {
        store_err(err, errlen, "no text");
        goto fail;
    }
    store_words(&row->words, row->text, strlen(row->text));
    json_words(&row->words, d, "hashtags");
    json_words(&row->words, d, "mentions");
    if (row->author) store_words(&row->words, row->author, strlen(row->author));
    if (row->words.data == NULL) buf_appends(&row->words, "");
    row->json = json;
    row->json_len = json_len;
    jdoc_free(d);
    return 0;
fail:
    jdoc_free(d);
    store_row_free(row);
    return -1;
}

void store_row_free(store_row *row)
{
    if (row == NULL) return;
    free(row->tweet_id);
    free(row->author);
    free(row->lang);
    free(row->created_at);
    free(row->text);
    buf_free(&row->words);
    memset(row, 0, sizeof *row);
}
