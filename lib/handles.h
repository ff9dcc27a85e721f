/* handles — a bounded cache of Bluesky handles by DID, filled from Jetstream
 * `identity` events so posts can name their author by handle. No I/O.
 *
 * Memory is bounded: at most `max` entries, each holding a DID of at most
 * HANDLES_DID_MAX bytes and a handle of at most HANDLES_HANDLE_MAX bytes
 * (longer ones are not kept), so about max × 560 bytes at worst and
 * max × 100 for typical did:plc DIDs and short handles. When full, an
 * entry no post has asked for since the sweep last passed it goes first
 * (CLOCK, an approximation of least recently used). Not thread-safe. */
#ifndef BIRDFEED_HANDLES_H
#define BIRDFEED_HANDLES_H

#include <stddef.h>

#define HANDLES_DID_MAX 256
#define HANDLES_HANDLE_MAX 253    /* a DNS name */

typedef struct handles handles;

/* A cache of at most max entries (1 ≤ max < 2^31; 0 counts as 1). Never NULL. */
handles *handles_new(size_t max);
void handles_free(handles *h);   /* h may be NULL */

/* Remember that did has handle (replacing what it had). Too long a DID or
 * handle forgets did instead. */
void handles_put(handles *h, const char *did, size_t dlen, const char *handle, size_t hlen);
/* Forget did (no-op when unknown). */
void handles_del(handles *h, const char *did, size_t dlen);
/* did's handle (*hlen its length; not NUL-terminated, valid until the next
 * put or del), or NULL when unknown. */
const char *handles_get(handles *h, const char *did, size_t dlen, size_t *hlen);
/* Entries held. */
size_t handles_count(const handles *h);

#endif
