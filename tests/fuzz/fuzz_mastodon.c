/* fuzz_mastodon — libFuzzer target for Mastodon statuses and streaming events
 * (lib/mastodon, lib/html on libxml2) through tweet_norm_line.
 *
 *   make fuzz FUZZ_TARGETS=mastodon FUZZ_SECONDS=60
 *
 * The whole input is one line and must keep the contract of tweet_props.h.
 * Then the same bytes are read as a status's HTML content: html_to_text
 * either refuses (too many tags, out as it was) or appends valid UTF-8
 * without NUL, and every link it reports is valid UTF-8 too. */
#include <stdint.h>

#include "html.h"
#include "tweet_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_link(const char *href, size_t n, void *ctx)
{
    (void)ctx;
    if (n == 0 || utf8_validate(href, n, NULL) < 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tweet_norm *n = tweet_norm_new(0);
    tweet_props_check(n, (const char *)data, size);
    tweet_norm_free(n);

    /* html_to_text takes valid UTF-8 without NUL (what a JSON string gives it) */
    if (utf8_validate((const char *)data, size, NULL) < 0 || memchr(data, '\0', size)) return 0;
    buf out = BUF_INIT;
    char err[128];
    buf_appends(&out, "x");
    if (html_to_text((const char *)data, size, &out, check_link, NULL, err, sizeof err) < 0) {
        if (out.len != 1) abort();
    } else if (utf8_validate(out.data, out.len, NULL) < 0 || memchr(out.data, '\0', out.len))
        abort();
    buf_free(&out);
    return 0;
}
