/* fuzz_store — libFuzzer target for what lib/store does with hostile input:
 * a stream entry turned into a row with its words, and a
 * search whose words and filter phrases come from the input, run for real
 * against an in-memory SQLite archive.
 *
 *   make fuzz FUZZ_TARGETS=store FUZZ_SECONDS=60
 *
 * Input: "<query>\n<filter phrases, comma-separated>\n<tweet JSON>".
 * Checks: a row's words are lib/token's tokens, single-space separated,
 * sorted and unique, without ASCII punctuation or upper case inside a token;
 * a parsed row has an id and a text; a query that
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
    const char *row = "{\"id\":\"1\",\"text\":\"alpha bravo #Charlie caf\\u00e9 \\u4eca\\u65e5\",\"user\":{\"screen_name\":\"u\"},"
                      "\"lang\":\"en\",\"hashtags\":[\"Charlie\"],\"mentions\":[\"delta\"]}";
    store_row r;
    db = store_open("sqlite::memory:", err, sizeof err);
    if (db == NULL || store_migrate(db, 0, NULL, err, sizeof err) < 0 ||
        store_row_parse(&r, "1000-1", row, strlen(row), err, sizeof err) < 0 ||
        store_insert(db, &r, 1, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_store: setting up: %s\n", err);
        abort();
    }
    store_row_free(&r);
}

/* A row's words: tokens separated by single spaces, sorted, each once;
 * ASCII inside a token only [a-z0-9_] (after a leading # or @), so the
 * engines' tokenizers keep each token whole. */
static void check_words(const buf *w)
{
    const char *p = w->data, *prev = NULL;
    size_t prevlen = 0;
    if (w->len == 0) return;
    if (p[0] == ' ' || p[w->len - 1] == ' ') abort();
    while (*p) {
        size_t n = strcspn(p, " ");
        if (n == 0) abort();
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                              (i == 0 && n > 1 && (c == '#' || c == '@'))))
                abort();
        }
        if (prev) {
            int c = memcmp(prev, p, prevlen < n ? prevlen : n);
            if (c > 0 || (c == 0 && prevlen >= n)) abort();   /* sorted, no repeats */
        }
        prev = p;
        prevlen = n;
        p += n;
        if (*p == ' ') p++;
    }
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
    if (json) {
        store_row r;
        if (store_row_parse(&r, "1000-2", json, strlen(json), err, sizeof err) == 0) {
            if (r.tweet_id == NULL || r.text == NULL || r.words.data == NULL) abort();
            check_words(&r.words);
            store_row_free(&r);
        }
    }

    const char *phrases[16];
    size_t n = 0;
    for (char *p = phr, *tok; p && n < 16 && (tok = strtok_r(p, ",", &p)) != NULL;) phrases[n++] = tok;
    /* Two or more phrases: two filters (their halves), so the pages merge. */
    size_t h = n >= 2 ? (n + 1) / 2 : n;
    store_filter f[2] = {{.phrases = phrases, .nphrases = h}, {.phrases = phrases + h, .nphrases = n - h}};
    store_query sq = {.q = q, .filters = f, .nfilters = n == 0 ? 0 : n == 1 ? 1 : 2, .limit = 5, .has_before = 1,
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
