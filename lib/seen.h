/* seen — a bounded set of the ids most recently added, to drop what a
 * source sends twice (a Jetstream cursor replays the events at and after
 * it). No I/O.
 *
 * Memory is bounded: at most `max` ids (each at most SEEN_KEY_MAX bytes;
 * longer ones are never held, so never found); when full, adding one
 * forgets the oldest (first in, first out). Not thread-safe. */
#ifndef BIRDFEED_SEEN_H
#define BIRDFEED_SEEN_H

#include <stddef.h>

#define SEEN_KEY_MAX 1024

typedef struct seen seen;

/* A set of at most max ids (1 ≤ max < 2^31; 0 counts as 1). Never NULL. */
seen *seen_new(size_t max);
void seen_free(seen *s);   /* s may be NULL */

/* 1 when key[0..n) is among the ids held; else add it (forgetting the
 * oldest when full) and return 0. */
int seen_add(seen *s, const char *key, size_t n);
/* Ids held. */
size_t seen_count(const seen *s);

#endif
