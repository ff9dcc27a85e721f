/* fuzz_httphead — libFuzzer target for lib/httphead, the request heads of
 * the stream-listen port (bytes from anyone who reaches it).
 *
 *   make fuzz FUZZ_SECONDS=60        (clang: -fsanitize=fuzzer,address,undefined)
 *
 * Checks the contract: a parse never reads past the input; a complete head
 * has a token method, a target starting with '/', HTTP/1.0 or 1.1, fields
 * whose names are tokens and whose values hold no CR, LF or NUL, all inside
 * the head's h.len bytes, which end in a blank line; an error has a status
 * from the documented set and a reason; feeding the input byte by byte
 * gives "more" on every proper prefix of a complete head and the same
 * result at the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httphead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void check_span(const char *base, size_t hlen, httphead_span sp)
{
    if (sp.len > 0 && (sp.p < base || sp.p + sp.len > base + hlen)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes: ASan catches any read past it */
    char *s = malloc(size ? size : 1);
    httphead h, h2;
    int status = 0, status2 = 0, rc, rc2;
    char err[128], err2[128];

    memcpy(s, data, size);
    err[0] = '\0';
    rc = httphead_parse(s, size, &h, &status, err, sizeof err);
    if (rc == HTTPHEAD_DONE) {
        if (h.len < 4 || h.len > size || h.len > HTTPHEAD_MAX || s[h.len - 1] != '\n') abort();
        if (h.method.len == 0 || h.target.len == 0 || h.target.p[0] != '/') abort();
        if (h.minor != 0 && h.minor != 1) abort();
        check_span(s, h.len, h.method);
        check_span(s, h.len, h.target);
        for (size_t i = 0; i < h.method.len; i++)
            if (!is_tchar((unsigned char)h.method.p[i])) abort();
        if (h.nf > HTTPHEAD_FIELDS) abort();
        for (size_t i = 0; i < h.nf; i++) {
            check_span(s, h.len, h.f[i].name);
            check_span(s, h.len, h.f[i].value);
            if (h.f[i].name.len == 0) abort();
            for (size_t k = 0; k < h.f[i].name.len; k++)
                if (!is_tchar((unsigned char)h.f[i].name.p[k])) abort();
            for (size_t k = 0; k < h.f[i].value.len; k++) {
                char c = h.f[i].value.p[k];
                if (c == '\r' || c == '\n' || c == '\0') abort();
            }
        }
    } else if (rc == HTTPHEAD_ERROR) {
        if (status != 400 && status != 414 && status != 431 && status != 505) abort();
        if (err[0] == '\0') abort();
    } else if (rc != HTTPHEAD_MORE) {
        abort();
    }
    /* prefixes: never an error before the full result's error, never done before h.len */
    size_t end = rc == HTTPHEAD_DONE ? h.len : size;
    for (size_t n = 0; n < end && n < 2048; n++) {
        rc2 = httphead_parse(s, n, &h2, &status2, err2, sizeof err2);
        if (rc2 == HTTPHEAD_DONE) abort();
        if (rc == HTTPHEAD_DONE && rc2 != HTTPHEAD_MORE) abort();
    }
    free(s);
    return 0;
}
