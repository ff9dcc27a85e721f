/* twitter — Twitter API v1.1 status objects, API v2 objects
 * ({"data":…,"includes":…}) and canonical tweets (which use v1.1's field
 * names) read into a post (lib/post.h). No I/O.
 *
 * Which of the three: `data` → v2; `network` → canonical; else v1.1 when
 * the object has `id_str`, `entities`, `extended_tweet`, `full_text` or
 * `retweeted_status`, or its `created_at` is in v1.1's form; otherwise
 * canonical (a canonical line from before networks were named: twitter).
 * Only API objects have their text decoded (&amp; &lt; &gt;) and a
 * retweet's text rebuilt in full: canonical text is already plain. */
#ifndef BIRDFEED_TWITTER_H
#define BIRDFEED_TWITTER_H

#include "post.h"

/* Read the object at node 0 of p->d into p. Returns 0 (a post), POST_SKIPPED
 * for the streaming APIs' notices (delete, limit, scrub_geo, status_withheld,
 * user_withheld, disconnect, warning, user events, errors), or -1 with the
 * reason in p->err. */
int twitter_read(post *p);

#endif
