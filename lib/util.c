#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void oom(size_t n)
{
    fprintf(stderr, "birdfeed: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

int parse_int_n(const char *s, size_t n, int min, int max, int *out)
{
    char tmp[24];
    long long v;
    const char *why;
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (parse_ll(tmp, min, max, &v, &why) < 0) return -1;
    *out = (int)v;
    return 0;
}

int parse_ll(const char *s, long long min, long long max, long long *out, const char **errstr)
{
    char *end;
    long long v;

    if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9'))) {
        *errstr = "not a number";
        return -1;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0') {
        *errstr = "not a number";
        return -1;
    }
    if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
        *errstr = "too small";
        return -1;
    }
    if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
        *errstr = "too large";
        return -1;
    }
    *out = v;
    *errstr = NULL;
    return 0;
}

int secure_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const volatile unsigned char *pa = a, *pb = b;
    unsigned char diff = (unsigned char)(alen != blen);
    size_t i;

    /* Walk the candidate's length whatever happens, so timing reveals only it. */
    for (i = 0; i < alen; i++)
        diff |= pa[i] ^ (i < blen ? pb[i] : 0);
    return diff == 0;
}

static uint64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t now_us(void) { return clock_us(CLOCK_MONOTONIC); }
uint64_t now_ms(void) { return clock_us(CLOCK_MONOTONIC) / 1000u; }
uint64_t wall_us(void) { return clock_us(CLOCK_REALTIME); }
uint64_t wall_ms(void) { return clock_us(CLOCK_REALTIME) / 1000u; }

void sleep_us(long long us)
{
    if (us <= 0) return;
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    nanosleep(&ts, NULL);   /* EINTR: a signal ends the sleep early, as documented */
}

void sleep_ms(long long ms)
{
    if (ms > 0) sleep_us(ms * 1000);
}

char *strlcpy_safe(char *dst, const char *src, size_t size)
{
    if (size == 0) return dst;
    snprintf(dst, size, "%s", src);
    return dst;
}
