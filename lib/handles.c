/* handles — bounded DID → handle cache. See handles.h.
 *
 * A fixed array of entries chained into a power-of-two bucket table; each
 * entry's DID and handle share one allocation. Freed entries go on a free
 * list; when none is free, a CLOCK hand sweeps the array, clearing
 * "looked up" bits, and takes the first entry without one. */
#include "handles.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct entry {
    char *key;                /* did bytes, then handle bytes; NULL when free */
    uint32_t hash;
    uint16_t dlen, hlen;
    int32_t next;             /* next in the bucket's chain, or in the free list */
    uint8_t ref;              /* looked up (or told again) since the hand last passed */
} entry;

struct handles {
    entry *e;
    size_t max, used;         /* entries ever taken (≤ max) */
    size_t count;
    int32_t *bucket;          /* -1: empty */
    size_t mask;
    int32_t free_list;
    size_t hand;
};

handles *handles_new(size_t max)
{
    handles *h = xcalloc(1, sizeof *h);
    size_t nb = 16;
    if (max == 0) max = 1;
    while (nb < max) nb *= 2;
    h->max = max;
    h->e = xcalloc(max, sizeof *h->e);
    h->bucket = xmalloc(nb * sizeof *h->bucket);
    for (size_t i = 0; i < nb; i++) h->bucket[i] = -1;
    h->mask = nb - 1;
    h->free_list = -1;
    return h;
}

void handles_free(handles *h)
{
    if (h == NULL) return;
    for (size_t i = 0; i < h->used; i++) free(h->e[i].key);
    free(h->e);
    free(h->bucket);
    free(h);
}

static int32_t find(const handles *h, const char *did, size_t dlen, uint32_t hash)
{
    for (int32_t i = h->bucket[hash & h->mask]; i >= 0; i = h->e[i].next) {
        const entry *e = &h->e[i];
        if (e->hash == hash && e->dlen == dlen && memcmp(e->key, did, dlen) == 0) return i;
    }
    return -1;
}

/* Take entry i out of its chain and free its memory. */
static void drop(handles *h, int32_t i)
{
    entry *e = &h->e[i];
    int32_t *link = &h->bucket[e->hash & h->mask];
    while (*link != i) link = &h->e[*link].next;
    *link = e->next;
    free(e->key);
    e->key = NULL;
    h->count--;
}

void handles_del(handles *h, const char *did, size_t dlen)
{
    if (dlen > HANDLES_DID_MAX) return;
    int32_t i = find(h, did, dlen, hash_fnv1a32(did, dlen));
    if (i < 0) return;
    drop(h, i);
    h->e[i].next = h->free_list;
    h->free_list = i;
}

/* An entry to fill: a free one, a new one, or the one the hand evicts. */
static int32_t take(handles *h)
{
    int32_t i;
    if (h->free_list >= 0) {
        i = h->free_list;
        h->free_list = h->e[i].next;
        return i;
    }
    if (h->used < h->max) return (int32_t)h->used++;
    for (;;) {
        entry *e = &h->e[h->hand];
        i = (int32_t)h->hand;
        h->hand = (h->hand + 1) % h->max;
        if (!e->ref) break;
        e->ref = 0;
    }
    drop(h, i);
    return i;
}

void handles_put(handles *h, const char *did, size_t dlen, const char *handle, size_t hlen)
{
    if (dlen > HANDLES_DID_MAX || hlen > HANDLES_HANDLE_MAX || hlen == 0) {
        handles_del(h, did, dlen);
        return;
    }
    uint32_t hash = hash_fnv1a32(did, dlen);
    int32_t i = find(h, did, dlen, hash);
    if (i >= 0) {
        entry *e = &h->e[i];
        if (e->hlen == hlen && memcmp(e->key + dlen, handle, hlen) == 0) {
            e->ref = 1;
            return;
        }
        e->key = xrealloc(e->key, dlen + hlen);
        memcpy(e->key + dlen, handle, hlen);
        e->hlen = (uint16_t)hlen;
        e->ref = 1;
        return;
    }
    i = take(h);
    entry *e = &h->e[i];
    e->key = xmalloc(dlen + hlen);
    memcpy(e->key, did, dlen);
    memcpy(e->key + dlen, handle, hlen);
    e->hash = hash;
    e->dlen = (uint16_t)dlen;
    e->hlen = (uint16_t)hlen;
    e->ref = 0;               /* a new entry goes first unless a post asks for it */
    e->next = h->bucket[hash & h->mask];
    h->bucket[hash & h->mask] = i;
    h->count++;
}

const char *handles_get(handles *h, const char *did, size_t dlen, size_t *hlen)
{
    if (dlen > HANDLES_DID_MAX) return NULL;
    int32_t i = find(h, did, dlen, hash_fnv1a32(did, dlen));
    if (i < 0) return NULL;
    h->e[i].ref = 1;
    *hlen = h->e[i].hlen;
    return h->e[i].key + dlen;
}

size_t handles_count(const handles *h)
{
    return h->count;
}
