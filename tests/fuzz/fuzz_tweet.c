/* fuzz_tweet — libFuzzer target for tweet_normalize (and so jdoc and utf8).
 *
 *   make fuzz FUZZ_SECONDS=60        (clang: -fsanitize=fuzzer,address,undefined)
 *
 * Beyond "no crash, no leak, no UB", it checks the contract: a reject leaves
 * out as it was and gives a one-line reason; an accepted line becomes one
 * line of valid UTF-8 that normalises to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tweet.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf out = BUF_INIT, again = BUF_INIT;
    char err[256];

    buf_appends(&out, "1-0 ");
    err[0] = '\0';
    if (tweet_normalize((const char *)data, size, 1 << 20, &out, err, sizeof err) < 0) {
        if (out.len != 4 || memcmp(out.data, "1-0 ", 4) != 0) abort();
        if (err[0] == '\0' || strchr(err, '\n') || strchr(err, '\r')) abort();
    } else {
        const char *c = out.data + 4;
        size_t n = out.len - 4;
        if (n < 2 || c[0] != '{' || c[n - 1] != '}') abort();
        if (utf8_validate(c, n, NULL) < 0) abort();
        if (memchr(c, '\n', n) || memchr(c, '\r', n) || memchr(c, '\0', n)) abort();
        if (tweet_normalize(c, n, 0, &again, err, sizeof err) < 0) abort();
        if (again.len != n || memcmp(again.data, c, n) != 0) abort();
    }
    buf_free(&out);
    buf_free(&again);
    return 0;
}
