/* utf8 — strict UTF-8 validation and encoding (RFC 3629, Unicode table 3-7).
 *
 * Valid means: no overlong forms, no UTF-16 surrogates (U+D800..U+DFFF) and
 * nothing above U+10FFFF. NUL bytes are valid UTF-8; callers that cannot
 * carry them check for them separately. */
#ifndef BIRDFEED_UTF8_H
#define BIRDFEED_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Check that s[0..len) is valid UTF-8. Returns 0, or -1 and stores in *bad
 * (when bad is not NULL) the offset of the first byte of the first invalid
 * or truncated sequence. s may be NULL when len is 0. */
int utf8_validate(const char *s, size_t len, size_t *bad);

/* Encode the code point cp into out (room for 4 bytes). Returns the number
 * of bytes written (1..4), or 0 when cp is a surrogate or above U+10FFFF. */
size_t utf8_encode(uint32_t cp, char *out);

/* Length in bytes of the valid sequence starting at s[0] (with n bytes
 * available), or 0 when it is invalid or truncated. n must be at least 1. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
