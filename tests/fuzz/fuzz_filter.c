/* fuzz_filter — libFuzzer target for lib/filter (parsing, validation,
 * normalising) and the compiled matcher it feeds (lib/match).
 *
 *   make fuzz FUZZ_SECONDS=60        (clang: -fsanitize=fuzzer,address,undefined)
 *
 * The first byte picks the entry point, the second scales the limits, the
 * rest is the input:
 *   0  filter_parse (an API body)      1  filter_load (a stored filter)
 *   2  filter_from_query (?q=)         3  filter_notice_parse (control)
 * Every accepted filter keeps to the limits, holds NUL-free valid UTF-8,
 * serialises to JSON that parses back to the same JSON (normalising is
 * idempotent), compiles into a matcher, and matches a tweet whose text is
 * one of its phrases. A reject leaves the filter empty and gives a one-line
 * reason. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "filter.h"
#include "match.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s)
{
    if (s == NULL) abort();
    if (utf8_validate(s, strlen(s), NULL) < 0) abort();
}

static void check_empty(const filter *f, const char *err)
{
    if (f->name || f->track || f->ntrack || f->lang || f->nlang || f->id[0] || f->version) abort();
    if (err[0] == '\0' || strchr(err, '\n')) abort();
}

/* A tweet whose text is phrase and whose language the filter takes. */
static void check_matches(const filter *f)
{
    const char *phrase = f->track[0];
    if (strpbrk(phrase, "#@")) return;   /* signed terms only match hashtags / mentions */
    matcher *m = match_new();
    match_result res = MATCH_RESULT_INIT;
    buf tw = BUF_INIT;
    int slot = match_put(m, "k", f);
    if (slot < 0 || match_slot(m, "k") != slot || match_count(m) != 1) abort();
    buf_appends(&tw, "{\"id\":\"1\",\"text\":");
    buf_append_json_str(&tw, phrase, strlen(phrase));
    buf_appends(&tw, ",\"user\":{\"screen_name\":\"birdfeed_fuzz\"},\"lang\":");
    buf_append_json_str(&tw, f->nlang ? f->lang[0] : "en", strlen(f->nlang ? f->lang[0] : "en"));
    buf_appends(&tw, ",\"hashtags\":[],\"mentions\":[],\"urls\":[]}");
    if (match_tweet(m, tw.data, tw.len, &res) < 0) abort();
    if (!match_result_has(&res, slot)) abort();
    if (match_del(m, "k") != slot || match_count(m) != 0) abort();
    match_result_free(&res);
    buf_free(&tw);
    match_free(m);
}

static void check_filter(const filter *f, const filter_limits *lim, int stored)
{
    char err[256] = "";
    buf js = BUF_INIT, again = BUF_INIT;
    filter g;

    check_text(f->name);
    if (f->ntrack == 0 || f->track == NULL) abort();
    if (lim && f->ntrack > lim->phrases_max) abort();
    if (lim && f->name && strcmp(f->name, "q") && strlen(f->name) > lim->name_max) abort();
    for (size_t i = 0; i < f->ntrack; i++) {
        check_text(f->track[i]);
        if (f->track[i][0] == '\0') abort();
        if (lim && strlen(f->track[i]) > lim->phrase_max) abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->track[i], f->track[j]) == 0) abort();
    }
    for (size_t i = 0; i < f->nlang; i++) check_text(f->lang[i]);
    filter_to_json(f, &js);
    check_text(js.data);
    int rc = stored ? filter_load(js.data, js.len, &g, err, sizeof err)
                    : filter_parse(js.data, js.len, lim, &g, err, sizeof err);
    if (rc < 0) abort();
    filter_to_json(&g, &again);
    if (again.len != js.len || memcmp(again.data, js.data, js.len) != 0) abort();
    check_matches(f);
    filter_free(&g);
    buf_free(&js);
    buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const char *s = (const char *)data + 2;
    size_t n = size - 2;
    /* Default limits (name 100, 400 phrases of 60 bytes) or small ones, so
     * the fuzzer reaches every limit check cheaply. */
    filter_limits lim = {100, 400, 60};
    if (data[1] & 1) {
        lim.name_max = 1 + data[1] % 16;
        lim.phrases_max = 1 + (data[1] >> 4);
        lim.phrase_max = 1 + (data[1] >> 2) % 16;
    }
    char err[256] = "";
    filter f;
    filter_notice note;

    switch (data[0] % 4) {
    case 0:
        if (filter_parse(s, n, &lim, &f, err, sizeof err) < 0) {
            check_empty(&f, err);
        } else {
            check_filter(&f, &lim, 0);
            filter_free(&f);
        }
        break;
    case 1:
        if (filter_load(s, n, &f, err, sizeof err) < 0) {
            check_empty(&f, err);
        } else {
            check_filter(&f, NULL, 1);
            filter_free(&f);
        }
        break;
    case 2:
        if (filter_from_query(s, n, &lim, &f, err, sizeof err) < 0) {
            check_empty(&f, err);
        } else {
            check_filter(&f, &lim, 0);
            filter_free(&f);
        }
        break;
    default:
        if (filter_notice_parse(s, n, &note, err, sizeof err) < 0) {
            check_empty(&note.filter, err);
        } else {
            if (note.op == FILTER_NOTICE_PUT) check_filter(&note.filter, NULL, 1);
            else if (note.filter.id[0] == '\0') abort();
            filter_free(&note.filter);
        }
        break;
    }
    return 0;
}
