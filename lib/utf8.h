/* utf8 — birdfeed's one UTF-8 decoder, validator and encoder (RFC 3629,
 * Unicode table 3-7). No I/O.
 *
 * Valid means: no overlong forms, no UTF-16 surrogates (U+D800..U+DFFF) and
 * nothing above U+10FFFF. NUL bytes are valid UTF-8; callers that cannot
 * carry them check for them separately. Every module that reads UTF-8
 * (tokens, query strings, JSON, the archive) goes through utf8_decode or
 * utf8_validate, so all agree on what is valid. */
#ifndef BIRDFEED_UTF8_H
#define BIRDFEED_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode the character at s[0..n) (n >= 1): returns its length in bytes
 * (1..4) and stores the code point in *cp, or returns 0 (and leaves *cp
 * alone) when the bytes there are invalid or truncated. Inline: tokenising
 * calls it once per character. */
static inline size_t utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;   /* allowed range of the second byte */
    size_t len;
    uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) return 0;                 /* continuation byte, or overlong C0/C1 */
    if (c < 0xE0) {
        len = 2;
        v = c & 0x1Fu;
    } else if (c < 0xF0) {
        len = 3;
        v = c & 0x0Fu;
        if (c == 0xE0) lo = 0xA0;           /* overlong */
        else if (c == 0xED) hi = 0x9F;      /* surrogates */
    } else if (c < 0xF5) {
        len = 4;
        v = c & 0x07u;
        if (c == 0xF0) lo = 0x90;           /* overlong */
        else if (c == 0xF4) hi = 0x8F;      /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    v = (v << 6) | (p[1] & 0x3Fu);
    for (size_t i = 2; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3Fu);
    }
    *cp = v;
    return len;
}

/* Check that s[0..len) is valid UTF-8. Returns 0, or -1 and stores in *bad
 * (when bad is not NULL) the offset of the first byte of the first invalid
 * or truncated sequence. s may be NULL when len is 0. */
int utf8_validate(const char *s, size_t len, size_t *bad);

/* Encode the code point cp into out (room for 4 bytes). Returns the number
 * of bytes written (1..4), or 0 when cp is a surrogate or above U+10FFFF. */
size_t utf8_encode(uint32_t cp, char *out);

#endif
