/* seen — a bounded FIFO set of recent ids. See seen.h.
 *
 * A ring of max slots in arrival order, chained into a power-of-two bucket
 * table; adding to a full ring first unlinks and frees the oldest slot. */
#include "seen.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct slot {
    char *key;                /* NULL: empty */
    size_t n;
    uint32_t hash;
    int32_t next;             /* next slot in the bucket's chain, -1 at the end */
} slot;

struct seen {
    slot *ring;
    size_t max, head, count;  /* head: where the next id goes (the oldest when full) */
    int32_t *bucket;
    size_t mask;
};

seen *seen_new(size_t max)
{
    seen *s = xcalloc(1, sizeof *s);
    size_t nb = 16;
    if (max == 0) max = 1;
    while (nb < max) nb *= 2;
    s->max = max;
    s->ring = xcalloc(max, sizeof *s->ring);
    s->bucket = xmalloc(nb * sizeof *s->bucket);
    for (size_t i = 0; i < nb; i++) s->bucket[i] = -1;
    s->mask = nb - 1;
    return s;
}

void seen_free(seen *s)
{
    if (s == NULL) return;
    for (size_t i = 0; i < s->max; i++) free(s->ring[i].key);
    free(s->ring);
    free(s->bucket);
    free(s);
}

int seen_add(seen *s, const char *key, size_t n)
{
    uint32_t h = hash_fnv1a32(key, n);
    if (n > SEEN_KEY_MAX) return 0;
    for (int32_t i = s->bucket[h & s->mask]; i >= 0; i = s->ring[i].next)
        if (s->ring[i].hash == h && s->ring[i].n == n && memcmp(s->ring[i].key, key, n) == 0) return 1;
    slot *o = &s->ring[s->head];
    if (o->key) {               /* full: the oldest goes */
        int32_t *link = &s->bucket[o->hash & s->mask];
        while (*link != (int32_t)s->head) link = &s->ring[*link].next;
        *link = o->next;
        free(o->key);
        s->count--;
    }
    o->key = xmalloc(n ? n : 1);
    if (n) memcpy(o->key, key, n);
    o->n = n;
    o->hash = h;
    o->next = s->bucket[h & s->mask];
    s->bucket[h & s->mask] = (int32_t)s->head;
    s->head = (s->head + 1) % s->max;
    s->count++;
    return 0;
}

size_t seen_count(const seen *s)
{
    return s->count;
}
