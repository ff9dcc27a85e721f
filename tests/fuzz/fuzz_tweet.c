/* fuzz_tweet — libFuzzer target for tweet_normalize (and so jdoc and utf8),
 * one line of any format a call.
 *
 *   make fuzz FUZZ_SECONDS=60        (clang: -fsanitize=fuzzer,address,undefined)
 *
 * Beyond "no crash, no leak, no UB", it checks the contract of
 * tweet_props.h: rejects and skips leave out as it was with a one-line
 * reason; an accepted line becomes one line of valid UTF-8 that normalises
 * to itself. */
#include <stdint.h>

#include "tweet_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tweet_norm *n = tweet_norm_new(0);
    tweet_props_check(n, (const char *)data, size);
    tweet_norm_free(n);
    return 0;
}
