/* jetstream — Bluesky Jetstream v1 events (JSON, as Jetstream's WebSocket
 * sends them, one a line in a capture) read into a post (lib/post.h). No I/O.
 *
 * An event is an object with `did`, `time_us` and `kind`. A commit that
 * creates an app.bsky.feed.post record is a post; every other event (other
 * collections — likes, reposts, follows, blocks, profiles —, updates and
 * deletes of posts, `identity` and `account` events) is skipped. An
 * `identity` event that carries a handle teaches the cache (lib/handles.h)
 * that DID's handle; one without, or an `account` event that says the
 * account is no longer active, makes it forget. */
#ifndef BIRDFEED_JETSTREAM_H
#define BIRDFEED_JETSTREAM_H

#include <stdint.h>

#include "handles.h"
#include "post.h"

/* Does the object at node 0 of d look like a Jetstream event (`did` and `kind`)? */
int jetstream_is(const jdoc *d);

/* Read the event at node 0 of p->d into p; cache may be NULL (no handles
 * remembered: posts carry their author's DID). *time_us gets the event's
 * time_us (0 when absent). Returns 0 (a post), POST_SKIPPED (what it was in
 * p->err), or -1 with the reason in p->err. */
int jetstream_read(post *p, handles *cache, uint64_t *time_us);

#endif
