/* filterset — a responder process's filters for its streams: the one
 * compiled matcher (lib/match.h) kept current from `control` notices, and
 * each stream's selection (`?filter=ID…`, `?q=words`) as matcher slots.
 *
 * A selection's rule: its saved filters pick (a tweet any of them matches),
 * its q phrases narrow (a tweet any of them matches), both must hold; a part
 * the selection lacks holds for every tweet. So `?filter=1,2&q=a,b` is
 * (1 or 2) and (a or b), as /api/tweets and the archive's search take it.
 *
 * Flow: an acceptor thread turns a request into a selection
 * (filterset_select; unknown ids are fetched from Redis once, so a filter
 * created through another process is usable at once); the hub matches each
 * live tweet once (filterset_match) and keeps the slot list with the tweet's
 * frame; a client then only tests membership (filterset_wants). A `control`
 * delete (filterset_notice) tells the hub which slot ended, so it can send
 * `event: filter-deleted` and close those streams.
 *
 * Slots stay reserved while a selection refers to them, so a slot is never
 * reused under a live stream; ids once deleted are remembered and refused.
 * Thread-safe: one mutex; matching holds it for one tweet. */
#ifndef BIRDFEED_FILTERSET_H
#define BIRDFEED_FILTERSET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "filter.h"
#include "filterdb.h"

typedef struct filterset filterset;
typedef struct filterset_sel filterset_sel;

/* An empty set using lim for ad-hoc ?q= filters. Never NULL. */
filterset *filterset_new(const filter_limits *lim);
void filterset_free(filterset *fs);                    /* fs may be NULL */

/* Apply one `control` message. When it deletes a filter some selection
 * uses, *ended is its slot (else -1) and ended_id its id. 0 ok, -1 when msg
 * is not a notice. */
int filterset_notice(filterset *fs, const char *msg, size_t len, int *ended, char ended_id[FILTER_ID_MAX]);

/* Called for a filter that was deleted while selections use its slot. */
typedef void (*filterset_ended_fn)(int slot, const char *id, void *arg);

/* Make the saved filters equal to v[0..n) (all of them, e.g. from
 * filterdb_list after a resubscribe: notices may have been missed). For each
 * filter that disappeared and is in use, ended() is called (with the lock
 * held: it must not call back into fs). */
void filterset_sync(filterset *fs, const filter *v, size_t n, filterset_ended_fn ended, void *arg);

/* Filters in the matcher now: saved ones and the ad-hoc ?q= filters of
 * live selections. Any thread; fs may be NULL (0). */
size_t filterset_count(filterset *fs);

/* Match the canonical tweet json once. Returns the sorted slots it matched
 * (caller frees; NULL when none, *n = 0). Costs nothing when no selection
 * exists. */
uint32_t *filterset_match(filterset *fs, const char *json, size_t len, size_t *n);

/* A selection from a request: ids[0..nids) saved filter ids and/or q (its
 * comma-separated phrases narrow them; may be NULL). With neither, returns NULL with status 0
 * (everything). Otherwise the selection (caller releases it), or NULL with
 * status 404 (unknown filter), 400 (invalid q) or 503 (Redis needed to look
 * an id up and unreachable), and the reason in err. db may be NULL (then
 * unknown ids are 404). */
filterset_sel *filterset_select(filterset *fs, const char *const *ids, size_t nids, const char *q,
                                const filterdb *db, int *status, char *err, size_t errlen);
/* Give a selection back (its slots may then be reused). sel may be NULL. */
void filterset_release(filterset *fs, filterset_sel *sel);

/* Does a tweet with these sorted slots go to sel, by the selection's rule
 * (any saved filter and any q phrase)? NULL sel: everything. Reads only sel:
 * any thread. */
int filterset_wants(const filterset_sel *sel, const uint32_t *slots, size_t n);
/* Which of sel's filters a tweet with these sorted slots matched: appends
 * `"filters":["7",…],"q":["rust lang",…]` to out — the ids of its saved
 * filters and its q phrases (each q phrase has a slot of its own).
 * Returns how many. Reads only sel: any thread; sel may be NULL (none). */
size_t filterset_sel_matched(const filterset_sel *sel, const uint32_t *slots, size_t n, buf *out);
/* The same for a tweet of the history, matched by sel's own filters (as
 * filterset_sel_matches: only the thread that made sel). */
size_t filterset_sel_matched_tweet(filterset_sel *sel, const char *json, size_t len, buf *out);
/* Does sel use slot? */
int filterset_sel_has(const filterset_sel *sel, int slot);

/* Does sel match this tweet (the rule of filterset_wants), by the filters as
 * they were when sel was made?
 * For scanning history before the stream is handed to the hub: only the
 * thread that made sel may call it. 1 yes, 0 no. */
int filterset_sel_matches(filterset_sel *sel, const char *json, size_t len);

#endif
