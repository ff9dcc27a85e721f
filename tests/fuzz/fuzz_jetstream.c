/* fuzz_jetstream — libFuzzer target for Bluesky Jetstream events (lib/jetstream,
 * lib/handles) through tweet_norm_line.
 *
 *   make fuzz FUZZ_TARGETS=jetstream FUZZ_SECONDS=60
 *
 * The input is cut into lines, fed in order to one normaliser whose handle
 * cache holds only 3 DIDs, so identity events, posts that name a handle and
 * evictions meet within one input. Every line must keep the contract of
 * tweet_props.h (reject / skip / one canonical line that normalises to
 * itself), and the cache never holds more than its bound. */
#include <stdint.h>

#include "tweet_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tweet_norm *n = tweet_norm_new(3);
    const char *s = (const char *)data, *end = s + size;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        tweet_props_check(n, s, len);
        if (tweet_norm_handles(n) > 3) abort();
        s += len + 1;
    }
    tweet_norm_free(n);
    return 0;
}
