/* tweet_props — the contract every tweet-normalising fuzz target checks
 * (fuzz_tweet, fuzz_jetstream, fuzz_mastodon), whatever the format:
 *   - a reject leaves out as it was and gives a one-line reason;
 *   - a skip (not a post) leaves out as it was and says what it was, on one line;
 *   - an accepted line becomes one line of valid UTF-8 without NUL, whose
 *     tweet_info points at its id, and that normalises to itself, byte for
 *     byte, on a fresh normaliser (canonical input needs no state);
 *   - every member of its urls[] is an http:// or https:// URL.
 * Any breach aborts, so libFuzzer reports it. */
#ifndef BIRDFEED_TWEET_PROPS_H
#define BIRDFEED_TWEET_PROPS_H

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tweet.h"
#include "utf8.h"

/* Does every member of the canonical tweet c's urls[] start with http://
 * or https://? (A quote inside a JSON string is escaped, so the first
 * `"urls":[` is the key.) */
static int tweet_props_urls_web(const char *c, size_t cn)
{
    static const char key[] = "\"urls\":[";
    const char *end = c + cn, *u = memmem(c, cn, key, sizeof key - 1);
    if (u == NULL) return 0;
    u += sizeof key - 1;
    while (u < end && *u != ']') {
        size_t left = (size_t)(end - u);
        if (!(left > 8 && memcmp(u, "\"http://", 8) == 0) && !(left > 9 && memcmp(u, "\"https://", 9) == 0)) return 0;
        for (u++; u < end && *u != '"'; u++)
            if (*u == '\\') u++;
        u++;
        if (u < end && *u == ',') u++;
    }
    return u < end;
}

static void tweet_props_check(tweet_norm *n, const char *line, size_t len)
{
    buf out = BUF_INIT, again = BUF_INIT;
    char err[256];
    tweet_info info;

    buf_appends(&out, "1-0 ");
    err[0] = '\0';
    int rc = tweet_norm_line(n, line, len, 1 << 20, &out, &info, err, sizeof err);
    if (rc != 0) {
        if (rc != -1 && rc != TWEET_SKIPPED) abort();
        if (out.len != 4 || memcmp(out.data, "1-0 ", 4) != 0) abort();
        if (err[0] == '\0' || strchr(err, '\n') || strchr(err, '\r')) abort();
        if (utf8_validate(err, strlen(err), NULL) < 0) abort();
    } else {
        const char *c = out.data + 4;
        size_t cn = out.len - 4;
        if (cn < 2 || c[0] != '{' || c[cn - 1] != '}') abort();
        if (utf8_validate(c, cn, NULL) < 0) abort();
        if (memchr(c, '\n', cn) || memchr(c, '\r', cn) || memchr(c, '\0', cn)) abort();
        if (info.network == NULL || info.id_off != 4 + 7 || info.id_len == 0 ||
            info.id_off + info.id_len + 1 >= out.len || out.data[info.id_off + info.id_len] != '"')
            abort();
        if (tweet_normalize(c, cn, 0, &again, err, sizeof err) != 0) abort();
        if (again.len != cn || memcmp(again.data, c, cn) != 0) abort();
        if (!tweet_props_urls_web(c, cn)) abort();
    }
    buf_free(&out);
    buf_free(&again);
}

#endif
