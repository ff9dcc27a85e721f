/* fuzz_store — libFuzzer target for what lib/store does with hostile input:
 * the searchable words of any text, a stream entry turned into a row, and a
 * search whose words and filter phrases come from the input, run for real
 * against an in-memory SQLite archive.
 *
 *   make fuzz FUZZ_TARGETS=store FUZZ_SECONDS=60
 *
 * Input: "<query>\n<filter phrases, comma-separated>\n<tweet JSON>".
 * Checks: words are single-space separated runs without ASCII punctuation or
 * upper case; a parsed row has an id and a text; a query that
 * store_query_check accepts never makes the database fail (the full-text
 * query is built from words only, whatever the input). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static store *db;

static void open_db(void)
{
    char err[512];
    int applied;
    const char *row = "{\"id\":\"1\",\"text\":\"alpha bravo #Charlie caf\\u00e9 \\u4eca\\u65e5\",\"user\":{\"screen_name\":\"u\"},"
                      "\"lang\":\"en\",\"hashtags\":[\"Charlie\"],\"mentions\":[\"delta\"]}";
    store_row r;
    db = store_open("sqlite::memory:", err, sizeof err);
    if (db == NULL || store_migrate(db, 0, &applied, err, sizeof err) < 0 ||
        store_row_parse(&r, "1000-1", row, strlen(row), err, sizeof err) < 0 ||
        store_insert(db, &r, 1, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_store: setting up: %s\n", err);
        abort();
    }
    store_row_free(&r);
}

static void check_words(const char *s, size_t n)
{
    buf w = BUF_INIT;
    size_t count = store_words(&w, s, n);
    if (count == 0 && w.len != 0) abort();
    if (w.len) {
        if (w.data[0] == ' ' || w.data[w.len - 1] == ' ') abort();
        size_t spaces = 0;
        for (size_t i = 0; i < w.len; i++) {
            unsigned char c = (unsigned char)w.data[i];
            if (c == ' ') {
                if (w.data[i + 1] == ' ') abort();
                spaces++;
            } else if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                abort();
            }
        }
        if (spaces + 1 != count) abort();
    }
    buf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = xstrndup((const char *)data, size), err[512];
    char *q = in, *phr = strchr(in, '\n'), *json = NULL;
    if (db == NULL) open_db();
    if (phr) {
        *phr++ = '\0';
        json = strchr(phr, '\n');
        if (json) *json++ = '\0';
    }
    check_words((const char *)data, size);

    if (json) {
        store_row r;
        if (store_row_parse(&r, "1000-2", json, strlen(json), err, sizeof err) == 0) {
            if (r.tweet_id == NULL || r.text == NULL || r.words.data == NULL) abort();
            store_row_free(&r);
        }
    }

    const char *phrases[16];
    size_t n = 0;
    for (char *p = phr, *tok; p && n < 16 && (tok = strtok_r(p, ",", &p)) != NULL;) phrases[n++] = tok;
    store_query sq = {.q = q, .phrases = phrases, .nphrases = n, .limit = 5, .has_before = 1,
                      .before = {size, size}};
    if (store_query_check(&sq, err, sizeof err) == 0) {
        store_result res;
        if (store_search(db, &sq, &res, err, sizeof err) < 0) {
            fprintf(stderr, "fuzz_store: an accepted query failed: %s\n", err);
            abort();
        }
        store_result_free(&res);
    }
    free(in);
    return 0;
}
