/* token — how filters and tweets are cut into words. No I/O.
 *
 * One tokeniser serves both sides, so a filter's terms and a tweet's tokens
 * always agree:
 *   - a token is a run of word characters: ASCII letters and digits, '_', and
 *     any non-ASCII letter or digit (UTF-8); ASCII punctuation, spaces and
 *     Unicode punctuation/space blocks separate tokens; an emoji or pictograph
 *     is a token on its own;
 *   - a token directly after '#' or '@' (itself at the start or after a
 *     non-word character) carries that sign;
 *   - tokens are case-folded: ASCII, Latin-1, Latin Extended-A, Greek and
 *     Cyrillic letters are lowercased (folding never changes byte length).
 * Invalid UTF-8 bytes separate tokens (lib/utf8.h validates). */
#ifndef BIRDFEED_TOKEN_H
#define BIRDFEED_TOKEN_H

#include <stddef.h>

/* Called once per token: tok[0..len) is folded (not NUL-terminated, valid
 * only during the call); sign is '#', '@' or 0. */
typedef void (*token_fn)(const char *tok, size_t len, char sign, void *ctx);

/* Cut s[0..n) into tokens, calling fn for each, in order. Returns how many. */
size_t token_scan(const char *s, size_t n, token_fn fn, void *ctx);

/* Case-fold s[0..n) into out (which has room for n bytes; may equal s).
 * Returns n. */
size_t token_fold(const char *s, size_t n, char *out);

#endif
