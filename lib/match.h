/* match — the compiled matcher: every filter of a process in one
 * inverted index, term → phrases. No I/O.
 *
 * A tweet (canonical JSON, lib/tweet.h) is tokenised once (token_tweet: its
 * text, hashtags, mentions and author, cut as a text); a phrase is cut as a
 * query (lib/token.h has the rules). A phrase matches when all of its terms
 * occur among the tweet's tokens; a filter when any of its phrases does and its
 * `lang` list (if any) holds the tweet's language, case aside ("en" also
 * takes "en-GB"; lib/store.c's searches take languages the same way).
 * The result is a set of slots; a stream then only tests membership.
 *
 * Filters live in slots (small integers, reused after a delete) and are
 * found by a key: the filter id for saved filters, anything else (e.g.
 * "q:rust lang") for ad-hoc ones. A caller that deletes a filter must drop
 * every reference to its slot before the next match_put, which may reuse it.
 *
 * Not thread-safe: one matcher per thread (a responder keeps one in its hub
 * thread and feeds it from `control` notices). */
#ifndef BIRDFEED_MATCH_H
#define BIRDFEED_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"

typedef struct matcher matcher;

/* The filters one tweet matched: a bitset over slots plus the list of them.
 * Zero-initialise (MATCH_RESULT_INIT), reuse across tweets, free with
 * match_result_free. */
typedef struct match_result {
    uint64_t *bits;
    size_t nwords;
    uint32_t *slots;          /* matched slots, in no particular order */
    size_t n;
    size_t cap;
} match_result;

#define MATCH_RESULT_INIT {NULL, 0, NULL, 0, 0}

/* A new, empty matcher. Never NULL. */
matcher *match_new(void);
void match_free(matcher *m);                           /* m may be NULL */

/* Compile f under key (copied), replacing what key held before (the slot
 * stays the same on a replace). Returns the slot (≥ 0). f is not kept. */
int match_put(matcher *m, const char *key, const filter *f);
/* Remove key's filter. Returns the slot it had, or -1 when key is unknown. */
int match_del(matcher *m, const char *key);
/* The slot of key, or -1. */
int match_slot(const matcher *m, const char *key);
/* How many filters are compiled in. */
size_t match_count(const matcher *m);
/* Remove every filter. */
void match_clear(matcher *m);

/* Tokenise the canonical tweet json[0..len) once and fill res with the slots
 * of every matching filter. Returns 0, or -1 when json is not a tweet object
 * (res is then empty). */
int match_tweet(matcher *m, const char *json, size_t len, match_result *res);

/* Does res hold slot? (slot < 0 never.) */
static inline int match_result_has(const match_result *res, int slot)
{
    return slot >= 0 && (size_t)slot / 64 < res->nwords && ((res->bits[slot / 64] >> (slot % 64)) & 1);
}
void match_result_free(match_result *res);             /* res may be NULL */

#endif
