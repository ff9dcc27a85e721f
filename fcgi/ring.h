/* ring — the most recent tweet frames of a responder process, oldest first,
 * so that preloads and resumes are served from memory when they can be.
 *
 * It holds at most cap frames and max_bytes bytes of them; pushing beyond
 * either drops the oldest. `floor` says what it holds: every tweet with an
 * id above floor (or, while `whole`, every tweet of the stream). A summary
 * (ring_info) is published under a lock at each change, for acceptor
 * threads deciding where a new stream's history comes from.
 *
 * Threads: ring_info_get from any thread; everything else from the one
 * thread that owns the ring (the hub's). Holds one reference per frame. */
#ifndef BIRDFEED_RING_H
#define BIRDFEED_RING_H

#include <stddef.h>

#include "bus.h"
#include "frame.h"

typedef struct ring ring;

/* What the ring holds. whole: the whole stream; otherwise every tweet with
 * id > floor. count: frames held; oldest/newest: their ids (both the floor
 * when empty). */
typedef struct ring_info {
    int whole;
    bus_id floor;
    bus_id oldest;
    bus_id newest;
    size_t count;
} ring_info;

/* An empty ring that holds the whole (so far empty) stream, for at most cap
 * frames (≥ 1) of at most max_bytes in all. Never NULL. */
ring *ring_new(size_t cap, size_t max_bytes);
/* Drop every frame and free the ring. r may be NULL. */
void ring_free(ring *r);

/* Append the tweet frame f (ids must grow), taking a reference; the oldest
 * frames go when it is full (the floor rises to the last id dropped). */
void ring_push(ring *r, frame *f);
/* Drop every frame: the ring now holds every tweet with id > floor (none yet). */
void ring_clear(ring *r, bus_id floor);
/* The stream may hold tweets older than the ring's oldest: no longer whole,
 * the floor is just below the oldest frame. */
void ring_mark_partial(ring *r);

/* Frames held now. */
size_t ring_count(const ring *r);
/* Frames it may hold. */
size_t ring_cap(const ring *r);
/* Frame i, 0 = the oldest (i < ring_count). Borrowed. */
frame *ring_at(const ring *r, size_t i);
/* The id of the newest frame, or the floor when empty. */
bus_id ring_newest(const ring *r);
/* 1 while the ring holds the whole stream. */
int ring_whole(const ring *r);
/* Every tweet with an id above this is held (when not whole). */
bus_id ring_floor(const ring *r);

/* Any thread: the summary as of the last change. */
void ring_info_get(ring *r, ring_info *out);

#endif
