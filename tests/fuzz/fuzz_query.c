/* fuzz_query — libFuzzer target for lib/query: query strings, percent
 * decoding and mount-relative paths.
 *
 *   make fuzz FUZZ_SECONDS=60        (clang: -fsanitize=fuzzer,address,undefined)
 *
 * The first byte picks what is fuzzed, the rest is the input:
 *   0  query_parse: every key and value it returns is non-empty-keyed, NUL-free
 *      valid UTF-8; percent-encoding them all again and parsing gives the same
 *      pairs in the same order; a reject leaves the query empty with a reason.
 *   1  query_decode: output is valid UTF-8 without NUL; re-encoded it decodes
 *      to itself; a reject appends nothing.
 *   2  query_mount_path: the four FastCGI parameters separated by NUL bytes;
 *      the result is valid UTF-8 and NUL-free, or a reason is given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "query.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void encode(buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        buf_appendc(out, '%');
        buf_appendc(out, hex[*p >> 4]);
        buf_appendc(out, hex[*p & 15]);
    }
}

static void check_text(const char *s, size_t n)
{
    if (utf8_validate(s, n, NULL) < 0) abort();
    if (memchr(s, '\0', n)) abort();
}

static void check_reject(const char *err)
{
    if (err[0] == '\0' || strchr(err, '\n')) abort();
}

static void fuzz_parse(const char *s, size_t n)
{
    query q = QUERY_INIT, again = QUERY_INIT;
    buf re = BUF_INIT;
    char err[256] = "";
    if (query_parse(s, n, &q, err, sizeof err) < 0) {
        if (q.n != 0 || q.params != NULL) abort();
        check_reject(err);
        return;
    }
    for (size_t i = 0; i < q.n; i++) {
        if (q.params[i].key[0] == '\0') abort();
        check_text(q.params[i].key, strlen(q.params[i].key));
        check_text(q.params[i].value, strlen(q.params[i].value));
        if (i) buf_appendc(&re, '&');
        encode(&re, q.params[i].key);
        buf_appendc(&re, '=');
        encode(&re, q.params[i].value);
        if (query_get(&q, q.params[i].key) == NULL) abort();
        if (query_count(&q, q.params[i].key) == 0) abort();
    }
    if (query_parse(re.data, re.len, &again, err, sizeof err) < 0) abort();
    if (again.n != q.n) abort();
    for (size_t i = 0; i < q.n; i++)
        if (strcmp(again.params[i].key, q.params[i].key) || strcmp(again.params[i].value, q.params[i].value))
            abort();
    query_free(&q);
    query_free(&again);
    buf_free(&re);
}

static void fuzz_decode(const char *s, size_t n, int plus)
{
    buf out = BUF_INIT, re = BUF_INIT, back = BUF_INIT;
    char err[256] = "";
    buf_appends(&out, "x");
    if (query_decode(s, n, plus, &out, err, sizeof err) < 0) {
        if (out.len != 1 || out.data[0] != 'x' || out.data[1] != '\0') abort();
        check_reject(err);
    } else {
        check_text(out.data + 1, out.len - 1);
        encode(&re, out.data + 1);
        if (query_decode(re.data ? re.data : "", re.len, plus, &back, err, sizeof err) < 0) abort();
        if (back.len != out.len - 1 || memcmp(back.data ? back.data : "", out.data + 1, back.len) != 0) abort();
    }
    buf_free(&out);
    buf_free(&re);
    buf_free(&back);
}

static void fuzz_mount(const char *s, size_t n)
{
    char *f[4] = {NULL, NULL, NULL, NULL};
    size_t start = 0;
    for (int k = 0; k < 4 && start <= n; k++) {
        const char *end = memchr(s + start, '\0', n - start);
        size_t len = end ? (size_t)(end - (s + start)) : n - start;
        f[k] = malloc(len + 1);
        memcpy(f[k], s + start, len);
        f[k][len] = '\0';
        start += len + 1;
    }
    buf out = BUF_INIT;
    char err[256] = "";
    if (query_mount_path(f[0], f[1], f[2], f[3], &out, err, sizeof err) < 0)
        check_reject(err);
    else
        check_text(out.data ? out.data : "", out.len);
    buf_free(&out);
    for (int k = 0; k < 4; k++) free(f[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: fuzz_parse(s, n); break;
    case 1: fuzz_decode(s, n, 1); break;
    case 2: fuzz_decode(s, n, 0); break;
    default: fuzz_mount(s, n); break;
    }
    return 0;
}
