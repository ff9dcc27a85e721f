#include "ring.h"

#include <pthread.h>
#include <stdlib.h>

#include "util.h"

struct ring {
    frame **f;
    size_t cap, head, count, bytes, max_bytes;
    int whole;
    bus_id floor;
    pthread_mutex_t mu;
    ring_info info;            /* under mu */
};

/* Copy the state into the summary other threads read. */
static void publish(ring *r)
{
    pthread_mutex_lock(&r->mu);
    r->info.whole = r->whole;
    r->info.floor = r->floor;
    r->info.count = r->count;
    r->info.oldest = r->count ? ring_at(r, 0)->id : r->floor;
    r->info.newest = ring_newest(r);
    pthread_mutex_unlock(&r->mu);
}

ring *ring_new(size_t cap, size_t max_bytes)
{
    ring *r = xcalloc(1, sizeof *r);
    r->cap = cap ? cap : 1;
    r->max_bytes = max_bytes;
    r->f = xcalloc(r->cap, sizeof *r->f);
    r->whole = 1;
    pthread_mutex_init(&r->mu, NULL);
    publish(r);
    return r;
}

static void pop(ring *r)
{
    frame *f = r->f[r->head];
    r->floor = f->id;
    r->whole = 0;
    r->bytes -= f->len;
    r->head = (r->head + 1) % r->cap;
    r->count--;
    frame_unref(f);
}

void ring_free(ring *r)
{
    if (r == NULL) return;
    while (r->count) pop(r);
    free(r->f);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void ring_push(ring *r, frame *f)
{
    while (r->count > 0 && (r->count == r->cap || r->bytes + f->len > r->max_bytes)) pop(r);
    r->f[(r->head + r->count) % r->cap] = frame_ref(f);
    r->count++;
    r->bytes += f->len;
    publish(r);
}

void ring_clear(ring *r, bus_id floor)
{
    while (r->count) pop(r);
    r->floor = floor;
    r->whole = 0;
    publish(r);
}

void ring_mark_partial(ring *r)
{
    if (!r->whole || r->count == 0) return;
    r->whole = 0;
    r->floor = bus_id_prev(ring_at(r, 0)->id);
    publish(r);
}

size_t ring_count(const ring *r) { return r->count; }
size_t ring_cap(const ring *r) { return r->cap; }
frame *ring_at(const ring *r, size_t i) { return r->f[(r->head + i) % r->cap]; }
bus_id ring_newest(const ring *r) { return r->count ? ring_at(r, r->count - 1)->id : r->floor; }
int ring_whole(const ring *r) { return r->whole; }
bus_id ring_floor(const ring *r) { return r->floor; }

void ring_info_get(ring *r, ring_info *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->info;
    pthread_mutex_unlock(&r->mu);
}
