/* tweet — input lines to birdfeed's canonical tweet. No I/O.
 *
 * Canonical form: one compact JSON object on one line, keys in this order:
 *   {"id":"…","network":"twitter","text":"…",
 *    "user":{"screen_name":"…","name":"…","followers_count":N},
 *    "created_at":"2024-05-01T12:00:00Z","lang":"en","hashtags":["…"],
 *    "mentions":["…"],"urls":["…"],"retweet_count":N,"retweeted_id":"…",
 *    "in_reply_to_id":"…","quoted_id":"…","url":"https://…","sent_us":N}
 * `network` is twitter, bluesky or mastodon. `user.name`,
 * `user.followers_count`, `lang`, `retweeted_id`, `in_reply_to_id`,
 * `quoted_id` and `url` appear only when known; `sent_us` (µs since the
 * epoch, put there by a publisher to measure latency) only when the input
 * carried it. Hashtags and mentions are stored without their sign.
 *
 * The input format is found per line by its shape (lib/twitter.h,
 * lib/jetstream.h, lib/mastodon.h say how): Twitter API v1.1 and v2
 * objects, canonical tweets, Bluesky Jetstream events, Mastodon statuses
 * and Mastodon streaming events. A line that is valid but not a post (a
 * delete, a like, a follow, an identity event, a Twitter notice…) is
 * skipped, not rejected. */
#ifndef BIRDFEED_TWEET_H
#define BIRDFEED_TWEET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TWEET_ID_MAX 256        /* bytes in an id, everywhere ids are kept */
#define TWEET_SKIPPED 1         /* tweet_normalize's answer for "not a post" */
#define TWEET_HANDLES_DEFAULT 100000   /* Jetstream handle cache entries (≤ ~520 B each) */

/* What one line was, besides its canonical JSON. */
typedef struct tweet_info {
    const char *network;        /* a post's network ("twitter", …; static), else NULL */
    uint64_t time_us;           /* a Jetstream event's time_us (posts and skipped events), else 0 */
    size_t id_off, id_len;      /* a post: its id in out, JSON-escaped, without the quotes */
} tweet_info;

/* A normaliser for a stream of lines: keeps its parse buffers warm across
 * lines and remembers Bluesky handles that Jetstream `identity` events tell
 * (at most handles_max DIDs, least recently told forgotten first; 0: none
 * kept, posts then carry the DID). Not thread-safe: one per thread. Never
 * NULL; free with tweet_norm_free (NULL allowed). */
typedef struct tweet_norm tweet_norm;
tweet_norm *tweet_norm_new(size_t handles_max);
void tweet_norm_free(tweet_norm *n);
/* How many handles the normaliser holds. */
size_t tweet_norm_handles(const tweet_norm *n);

/* Normalise one input line and append its canonical JSON (no newline) to
 * out. The README's "Canonical tweet" section says which input field feeds
 * which canonical one.
 * Returns 0 (a post); TWEET_SKIPPED when the line is valid but not a post,
 * with what it was in err ("a Bluesky like", "a Twitter \"delete\"
 * message") and out unchanged; or -1 with a one-line reason in err (e.g.
 * "not JSON: unexpected end of input at byte 17", "no id", "no text",
 * "invalid UTF-8 at byte 40", "line longer than 1048576 bytes") and out
 * unchanged. Byte offsets are 0-based. Also rejected: not an object, nesting
 * deeper than 32 levels, a \u escape that is a lone surrogate, no user
 * screen name or created_at, a field of the wrong type ("retweet_count:
 * expected a non-negative integer, found a string"), a NUL character in a
 * field that is kept, an id longer than TWEET_ID_MAX bytes.
 * max_len bounds the input line (0: no bound). info may be NULL. err may be
 * NULL when errlen is 0. */
int tweet_norm_line(tweet_norm *n, const char *line, size_t len, size_t max_len, buf *out, tweet_info *info,
                    char *err, size_t errlen);

/* tweet_norm_line on a normaliser of its own, without a handle cache.
 * Thread-safe; allocates only temporarily. */
int tweet_normalize(const char *line, size_t len, size_t max_len, buf *out, char *err, size_t errlen);

#endif
