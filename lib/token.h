/* token — birdfeed's one tokeniser: how tweets, filter phrases and searches
 * are cut into the words they are compared by. Live matching (lib/match.c)
 * and the archive (lib/store*.c: the words it indexes and the terms it asks
 * for) both use it, so `/stream?q=` and `/api/tweets?q=` agree. No I/O.
 *
 * The rules (the README's "Query language" section says them for users):
 *   - A word is a run of letters, digits, combining marks and '_' (any
 *     script): `foo_bar` and `cafe_fan` are one word each. Other punctuation,
 *     symbols and spaces separate words. Invalid UTF-8 separates too.
 *   - An emoji or pictograph (Unicode's Extended_Pictographic; a flag's two
 *     regional indicators together) is a word of its own; skin-tone
 *     modifiers, variation selectors and joiners are dropped.
 *   - Case is folded in every script (Unicode simple case folding: `É`→`é`,
 *     `Σ` and final `ς`→`σ`, Cyrillic `Д`→`д`), then composed (NFC).
 *   - Diacritics are optional for the one who searches: a text word also
 *     yields its form without diacritics (marks that decompose off a letter,
 *     `ß`→`ss`, `æ`→`ae`, `ø`→`o`, `ł`→`l`…, fullwidth letters and
 *     ligatures as plain ones), so `cafe` finds `café`; a query word is taken
 *     as typed, so `café` finds `café` but not `cafe`.
 *   - A word directly after `#` or `@` (or fullwidth `＃`/`＠`), the sign
 *     itself at the start or after a non-word character, carries the sign.
 *     In a text it yields the word with and without its sign; in a query the
 *     sign stays: `#alpha` matches only the hashtag, `alpha` both.
 *   - Chinese, Japanese and Korean (Han, kana, Hangul), Thai, Lao, Myanmar
 *     and Khmer are written without spaces between words: a run of their
 *     letters yields each character (with its marks: Thai `กี` is one) and
 *     each pair of adjacent characters; a query run of one character asks
 *     for that character, a longer one for all its adjacent pairs. So `日`
 *     is found inside `今日は`, `今日` only where 今 and 日 stand together,
 *     `กาแฟ` inside `ชอบกาแฟ`. Their digits are words as other digits are.
 *     (A signed run, `#東京`, is also one word with its sign.)
 *   - A word longer than TOKEN_MAX bytes is no word at all, on both sides.
 * Case folding and normalisation come from ICU (libicu); the cutting itself
 * is birdfeed's own, because no library cuts by these rules (ICU's word
 * break iterator neither keeps signs nor pairs CJK characters, and costs far
 * more per tweet than the matcher's budget; its dictionary cut of Thai would
 * also make a search depend on the dictionary's idea of a word). */
#ifndef BIRDFEED_TOKEN_H
#define BIRDFEED_TOKEN_H

#include <stddef.h>

#include "buf.h"
#include "jdoc.h"

#define TOKEN_MAX 255   /* bytes in one token (without its sign) */

/* The version of these rules. The archive records which version cut its
 * `words` (table token_version) and `birdfeed migrate` recomputes every
 * row's words when it is not this one, so old rows are found as live
 * matching finds them; the filter name index (lib/filterdb.h, keys made
 * with token_fold) records it too and is rebuilt by the first write that
 * finds another. Add 1 (and a line below) in the same commit as ANY change
 * to what token_tweet, token_scan's TOKEN_TEXT side or token_fold gives for
 * some input — a rule, a fold, a new script, ICU's data if it shows.
 *   1  the rules the archive first used (its migration 3)
 *   2  CJK runs NFC-composed (kana + combining marks, conjoining jamo,
 *      compatibility ideographs); U+0345 composes with its vowel, not ι
 *   3  Thai, Lao, Myanmar and Khmer cut into characters and pairs (a run
 *      was one word: nothing inside a sentence could be found) */
#define TOKEN_VERSION 3

/* Which side of a comparison is being cut. */
enum token_side {
    TOKEN_TEXT,    /* a tweet: every form a search may name */
    TOKEN_QUERY    /* a filter phrase or a search: the terms it asks for */
};

/* Called once per token. tok[0..len) is the folded word (not NUL-
 * terminated, valid only during the call); sign is '#', '@' or 0, and
 * tok[-1] holds it (0 when none), so tok - 1 spells "sign+word" in one piece
 * of len + 1 bytes. */
typedef void (*token_fn)(const char *tok, size_t len, char sign, void *ctx);

/* Cut s[0..n) (any bytes) into tokens for side, calling fn for each, in
 * text order (a word's forms one after another; the same token may come
 * more than once). Returns how many calls were made. */
size_t token_scan(const char *s, size_t n, enum token_side side, token_fn fn, void *ctx);

/* The tokens of a canonical tweet parsed into d (node 0, lib/tweet.h): its
 * text, each hashtag (as if written "#tag"), each mention ("@name") and the
 * author's screen name ("@name"), cut as TOKEN_TEXT. Returns how many calls
 * were made (0 when node 0 is not an object). */
size_t token_tweet(const jdoc *d, token_fn fn, void *ctx);

/* Append s[0..n) to out with every letter case-folded as tokens are (other
 * characters and invalid bytes copied as they are). The length may change. */
void token_fold(buf *out, const char *s, size_t n);

#endif
