/* util — allocation that never returns NULL, bounded number parsing, small helpers.
 *
 * Out-of-memory policy (decided once, here): every allocation in birdfeed goes
 * through x*alloc, which prints a message and aborts when the system has no
 * memory left. Callers never check for NULL. */
#ifndef BIRDFEED_UTIL_H
#define BIRDFEED_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);              /* s must not be NULL */
char *xstrndup(const char *s, size_t n);   /* copies at most n bytes, NUL-terminates */

/* Parse the whole of s as a decimal integer in [min, max] (OpenBSD strtonum
 * style). Returns 0 and sets *out, or -1 with a reason ("not a number",
 * "too small", "too large") in *errstr. */
int parse_ll(const char *s, long long min, long long max, long long *out, const char **errstr);

/* Compare two byte strings in time that depends only on their lengths.
 * Returns 1 when equal. */
int secure_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Monotonic and wall clocks in microseconds / milliseconds. */
uint64_t now_us(void);       /* CLOCK_MONOTONIC */
uint64_t wall_ms(void);      /* CLOCK_REALTIME, ms since the epoch */
uint64_t wall_us(void);      /* CLOCK_REALTIME, µs since the epoch */

/* snprintf into buf that never overflows; returns buf. */
char *strlcpy_safe(char *dst, const char *src, size_t size);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
