#include "token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

/* Lowercase of one code point, for the scripts where the mapping keeps the
 * UTF-8 length (all of them here encode in two bytes both ways). */
static uint32_t fold_cp(uint32_t c)
{
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c >= 0x100 && c <= 0x137) return c | 1;
    if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177) return c | 1;
    if (c == 0x178) return 0xFF;
    if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
    if (c == 0x3C2) return 0x3C3; /* final sigma compares as sigma */
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x460 && c <= 0x481) return c | 1;
    if (c >= 0x48A && c <= 0x4BF) return c | 1;
    return c;
}

size_t token_fold(const char *s, size_t n, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;

    while (i < n) {
        if (p[i] < 0x80) {
            out[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : (char)p[i];
            i++;
            continue;
        }
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (l == 0) {
            out[i] = (char)p[i];
            i++;
            continue;
        }
        uint32_t f = fold_cp(cp);
        if (f != cp && l == 2) {
            utf8_encode(f, out + i);
        } else if (out != s) {
            memcpy(out + i, s + i, l);
        }
        i += l;
    }
    return n;
}

enum cls { C_SEP, C_WORD, C_SYMBOL };

static enum cls classify(uint32_t c)
{
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            return C_WORD;
        return C_SEP;
    }
    /* Latin-1 punctuation and symbols, but not ª µ º. */
    if (c <= 0xBF) return (c == 0xAA || c == 0xB5 || c == 0xBA) ? C_WORD : C_SEP;
    if (c == 0xD7 || c == 0xF7) return C_SEP;
    if (c >= 0x2000 && c <= 0x206F) return C_SEP;   /* general punctuation, spaces */
    if (c >= 0x20A0 && c <= 0x20CF) return C_SEP;   /* currency */
    if (c >= 0x2190 && c <= 0x23FF) return C_SEP;   /* arrows, math, technical */
    if (c >= 0x2500 && c <= 0x25FF) return C_SEP;   /* box drawing, shapes */
    if (c >= 0x2E00 && c <= 0x2E7F) return C_SEP;   /* supplemental punctuation */
    if (c >= 0x3000 && c <= 0x3003) return C_SEP;   /* ideographic space and punctuation */
    if (c >= 0x3008 && c <= 0x3020) return C_SEP;   /* CJK brackets */
    if (c >= 0xFE00 && c <= 0xFE0F) return C_SEP;   /* variation selectors */
    if (c >= 0xFE30 && c <= 0xFE4F) return C_SEP;
    if (c == 0xFEFF) return C_SEP;
    if ((c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
        (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65))
        return C_SEP;                                /* fullwidth punctuation */
    if (c == 0x200D) return C_SEP;
    if (c >= 0x1F3FB && c <= 0x1F3FF) return C_SEP; /* skin-tone modifiers */
    if ((c >= 0x2600 && c <= 0x27BF) || (c >= 0x1F000 && c <= 0x1FAFF)) return C_SYMBOL;
    return C_WORD;
}

size_t token_scan(const char *s, size_t n, token_fn fn, void *ctx)
{
    const unsigned char *p = (const unsigned char *)s;
    char stackbuf[256];
    size_t i = 0, count = 0;
    uint32_t cp = 0;
    int prev_word = 0;          /* the character before i was a word character */
    char sign = 0;              /* '#'/'@' directly before i, itself after a non-word char */

    while (i < n) {
        size_t l = utf8_decode(s + i, n - i, &cp);
        enum cls k = l ? classify(cp) : C_SEP;
        if (l == 0) l = 1;
        if (k == C_SEP) {
            sign = (!prev_word && (cp == '#' || cp == '@') && p[i] < 0x80) ? (char)p[i] : 0;
            prev_word = 0;
            i += l;
            continue;
        }
        size_t start = i, end = i + l;
        if (k == C_WORD) {
            while (end < n) {
                size_t l2 = utf8_decode(s + end, n - end, &cp);
                if (l2 == 0 || classify(cp) != C_WORD) break;
                end += l2;
            }
        }
        size_t len = end - start;
        char *tmp = len <= sizeof stackbuf ? stackbuf : xmalloc(len);
        token_fold(s + start, len, tmp);
        fn(tmp, len, k == C_WORD ? sign : 0, ctx);
        if (tmp != stackbuf) free(tmp);
        count++;
        sign = 0;
        prev_word = 1;
        i = end;
    }
    return count;
}
