/* store_row — a stream entry made ready for the archive: its stream id
 * checked against the archive's range, its canonical tweet read (jdoc), and
 * the words search uses, cut by lib/token exactly as live matching cuts the
 * tweet. No I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "store.h"
#include "store_engine.h"
#include "token.h"
#include "util.h"

/* The tokens of one tweet, each spelled with its sign. */
typedef struct words {
    char **v;
    size_t n, cap;
} words;

static void add_word(const char *tok, size_t len, char sign, void *arg)
{
    words *w = arg;
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->v = xrealloc(w->v, w->cap * sizeof *w->v);
    }
    w->v[w->n++] = sign ? xstrndup(tok - 1, len + 1) : xstrndup(tok, len);   /* tok[-1] is the sign */
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The words of the tweet in d: its tokens (token_tweet) sorted, without
 * repeats, separated by one space, appended to out (NUL-terminated, maybe
 * empty). The engines index them as they are. */
static void tweet_words(const jdoc *d, buf *out)
{
    words w = {NULL, 0, 0};
    token_tweet(d, add_word, &w);
    if (w.n > 1) qsort(w.v, w.n, sizeof *w.v, cmp_str);
    for (size_t i = 0; i < w.n; i++) {
        if (i == 0 || strcmp(w.v[i], w.v[i - 1]) != 0) {
            if (out->len) buf_appendc(out, ' ');
            buf_appends(out, w.v[i]);
        }
    }
    for (size_t i = 0; i < w.n; i++) free(w.v[i]);
    free(w.v);
    buf_appends(out, "");
}

int store_row_words(const char *json, size_t len, buf *out)
{
    jdoc *d = jdoc_new();
    char why[8];
    int rc = jdoc_parse(d, json, len, 32, why, sizeof why) == 0 && jdoc_kind(d, 0) == JDOC_OBJECT ? 0 : -1;
    if (rc == 0) tweet_words(d, out);
    jdoc_free(d);
    return rc;
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
    tweet_words(d, &row->words);
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
