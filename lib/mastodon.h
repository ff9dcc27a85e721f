/* mastodon — Mastodon Status objects (what the REST API returns and the
 * streaming API's `update` events carry) and streaming events read into a
 * post (lib/post.h). No I/O.
 *
 * Shapes: a Status has `uri`, `account` and `content`; a streaming event,
 * as Mastodon's WebSocket streaming sends it, is {"event":NAME,"payload":…}
 * with the Status as a JSON string (or an object); a Notification has
 * `type` and `account` and no `content`. An `update` event's Status is a
 * post; `delete`, `status.update` and every other event, notifications and
 * statuses that are not public or unlisted (followers-only, direct) are
 * skipped. A boost (`reblog`) is a retweet of the boosted status. */
#ifndef BIRDFEED_MASTODON_H
#define BIRDFEED_MASTODON_H

#include "post.h"

/* Does the object at node 0 of d look like one of the shapes above? */
int mastodon_is(const jdoc *d);

/* Read node 0 of p->d into p. payload is a spare document for a streaming
 * event whose payload is a JSON string: p->d then points at it. Returns 0
 * (a post), POST_SKIPPED (what it was in p->err), or -1 with the reason in
 * p->err. */
int mastodon_read(post *p, jdoc *payload);

#endif
