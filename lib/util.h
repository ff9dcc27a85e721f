/* util — allocation that never returns NULL, bounded number parsing, the
 * clocks and sleep every part of birdfeed uses, small helpers.
 *
 * Out-of-memory policy (decided once, here): every allocation in birdfeed goes
 * through x*alloc, which prints a message and aborts when the system has no
 * memory left. Callers never check for NULL. */
#ifndef BIRDFEED_UTIL_H
#define BIRDFEED_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* malloc, calloc (zeroed), realloc: never NULL (n == 0 gets a valid
 * 1-byte block); the caller frees with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);              /* s must not be NULL */
char *xstrndup(const char *s, size_t n);   /* copies at most n bytes, NUL-terminates */

/* Parse the whole of s as a decimal integer in [min, max] (OpenBSD strtonum
 * style). Returns 0 and sets *out, or -1 with a reason ("not a number",
 * "too small", "too large") in *errstr. */
int parse_ll(const char *s, long long min, long long max, long long *out, const char **errstr);
/* The whole of s[0..n) (not NUL-terminated, at most 23 bytes) as a decimal
 * int in [min, max], as parse_ll reads it: 0 and *out, or -1. For ports, db
 * numbers and other small numbers cut out of a longer text. */
int parse_int_n(const char *s, size_t n, int min, int max, int *out);

/* Compare two byte strings in time that depends only on their lengths.
 * Returns 1 when equal. */
int secure_equal(const void *a, size_t alen, const void *b, size_t blen);

/* The clocks. now_*: CLOCK_MONOTONIC, for intervals, deadlines and timeouts
 * (never jumps); wall_*: CLOCK_REALTIME, for timestamps shown to people or
 * compared across hosts (stream ids, sent_us). Never fail. */
uint64_t now_us(void);       /* monotonic, µs */
uint64_t now_ms(void);       /* monotonic, ms */
uint64_t wall_us(void);      /* µs since the epoch */
uint64_t wall_ms(void);      /* ms since the epoch */

/* Sleep ms milliseconds (sleep_us: µs). A signal caught meanwhile ends the
 * sleep early, so loops that sleep can check their stop flags at once.
 * Values <= 0 return at once. */
void sleep_ms(long long ms);
void sleep_us(long long us);

/* Copy src into dst[0..size) like strlcpy: truncated, always NUL-terminated
 * (nothing is written when size is 0). Returns dst. */
char *strlcpy_safe(char *dst, const char *src, size_t size);

/* The 64-bit FNV-1a hash of s[0..n): birdfeed's one hash for its own hash
 * tables (the matcher's terms, the handle cache, pull's seen ids, ...).
 * Not for anything an attacker must not steer (they can pick colliding
 * keys): tables keep their own bound. Inline, as the matcher hashes every
 * word of every tweet with it. */
static inline uint64_t hash_fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}
/* The same hash folded to 32 bits (both halves count), for 32-bit tables. */
static inline uint32_t hash_fnv1a32(const char *s, size_t n)
{
    uint64_t h = hash_fnv1a(s, n);
    return (uint32_t)(h ^ (h >> 32));
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
