/* fuzz_token — libFuzzer target for lib/token, the one tokeniser of live
 * filters and the archive.
 *
 *   make fuzz FUZZ_TARGETS=token FUZZ_SECONDS=60
 *
 * The input is any bytes, cut as a text and as a query. Checks: every token
 * is valid UTF-8 of 1..TOKEN_MAX bytes with no ASCII but [a-z0-9_], its
 * sign is 0, '#' or '@' and stands in tok[-1]; and every term the input
 * asks for as a query is among the tokens it yields as a text (a tweet
 * that says exactly what a filter asks for is always found, live and in
 * the archive) — also when the query is first folded as a filter phrase or
 * a `q` is (token_fold). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "utf8.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct toks {
    char **v;         /* sign byte (maybe 0), then the word */
    size_t *len;      /* bytes of v[i], the sign byte included */
    size_t n;
} toks;

static void check(const char *tok, size_t len, char sign, void *ctx)
{
    toks *t = ctx;
    if (len == 0 || len > TOKEN_MAX || utf8_validate(tok, len, NULL) < 0) abort();
    if (tok[-1] != sign || (sign != 0 && sign != '#' && sign != '@')) abort();
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) abort();
    }
    t->v = xrealloc(t->v, (t->n + 1) * sizeof *t->v);
    t->len = xrealloc(t->len, (t->n + 1) * sizeof *t->len);
    t->v[t->n] = xmalloc(len + 1);
    memcpy(t->v[t->n], tok - 1, len + 1);
    t->len[t->n++] = len + 1;
}

static int has(const toks *t, const char *key, size_t n)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->len[i] == n && memcmp(t->v[i], key, n) == 0) return 1;
    return 0;
}

static void free_toks(toks *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->v[i]);
    free(t->v);
    free(t->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    toks text = {NULL, NULL, 0}, query = {NULL, NULL, 0};
    if (size > 4096) return 0;
    token_scan((const char *)data, size, TOKEN_TEXT, check, &text);
    token_scan((const char *)data, size, TOKEN_QUERY, check, &query);
    for (size_t i = 0; i < query.n; i++)
        if (!has(&text, query.v[i], query.len[i])) abort();
    buf folded = BUF_INIT;
    toks fq = {NULL, NULL, 0};
    token_fold(&folded, (const char *)data, size);
    token_scan(folded.data ? folded.data : "", folded.len, TOKEN_QUERY, check, &fq);
    for (size_t i = 0; i < fq.n; i++)
        if (!has(&text, fq.v[i], fq.len[i])) abort();
    buf_free(&folded);
    free_toks(&fq);
    free_toks(&text);
    free_toks(&query);
    return 0;
}
