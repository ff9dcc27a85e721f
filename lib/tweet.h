/* tweet — input lines to birdfeed's canonical tweet. No I/O.
 *
 * Canonical form: one compact JSON object on one line, keys in this order:
 *   {"id":"…","text":"…","user":{"screen_name":"…","name":"…","followers_count":N},
 *    "created_at":"2024-05-01T12:00:00Z","lang":"en","hashtags":["…"],
 *    "mentions":["…"],"urls":["…"],"retweet_count":N,"retweeted_id":"…",
 *    "sent_us":N}
 * `user.name`, `user.followers_count`, `lang` and `retweeted_id` appear only
 * when known; `sent_us` (µs since the epoch, put there by a publisher to
 * measure latency) only when the input carried it. Hashtags and mentions are
 * stored without their sign. */
#ifndef BIRDFEED_TWEET_H
#define BIRDFEED_TWEET_H

#include <stddef.h>

#include "buf.h"

/* Normalise one input line — a Twitter API v1.1 status object, a v2 object
 * ({"data":…,"includes":{"users":[…]}}) or a canonical tweet — and append its
 * canonical JSON (no newline) to out. The README's "Canonical tweet" section
 * says which input field feeds which canonical one.
 * Returns 0, or -1 with a one-line reason in err (e.g. "not JSON: unexpected
 * end of input at byte 17", "no id", "no text", "invalid UTF-8 at byte 40",
 * "line longer than 1048576 bytes") and out unchanged. Byte offsets are
 * 0-based. Also rejected: not an object, nesting deeper than 32 levels, a
 * \u escape that is a lone surrogate, no user screen name or created_at,
 * a field of the wrong type ("retweet_count: expected a non-negative
 * integer, found a string"), a NUL character in a field that is kept.
 * max_len bounds the input line (0: no bound). err may be NULL when errlen
 * is 0. Thread-safe; no I/O; allocates only temporarily. */
int tweet_normalize(const char *line, size_t len, size_t max_len, buf *out, char *err, size_t errlen);

#endif
