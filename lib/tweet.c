/* tweet — input lines to birdfeed's canonical tweet. See tweet.h.
 *
 * One parse (jdoc), the shape of the root object picks the format reader,
 * which fills a post (lib/post.h); post_write then writes the canonical
 * JSON straight to out. On a reject or a skip, out is cut back to where it
 * was. Shapes, checked in this order:
 *   `did` and a string `kind`                        Jetstream (lib/jetstream.h)
 *   a canonical tweet's `network`                    canonical (lib/twitter.h)
 *   `event` + `payload`, or `account` with `uri` and
 *   `content` (or with `type` and no `content`)      Mastodon (lib/mastodon.h)
 *   anything else                                    Twitter v1.1 / v2 / canonical */
#include "tweet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handles.h"
#include "jdoc.h"
#include "jetstream.h"
#include "mastodon.h"
#include "post.h"
#include "twitter.h"
#include "util.h"

#define TWEET_MAX_DEPTH 32      /* real v1.1 objects nest about 10 deep */

_Static_assert(TWEET_ID_MAX == POST_ID_MAX, "one id bound");
_Static_assert(TWEET_SKIPPED == POST_SKIPPED, "one skip code");

struct tweet_norm {
    jdoc *doc, *payload;
    post post;
    handles *handles;         /* NULL: none kept */
};

tweet_norm *tweet_norm_new(size_t handles_max)
{
    tweet_norm *n = xcalloc(1, sizeof *n);
    n->doc = jdoc_new();
    n->payload = jdoc_new();
    if (handles_max) n->handles = handles_new(handles_max);
    return n;
}

void tweet_norm_free(tweet_norm *n)
{
    if (n == NULL) return;
    jdoc_free(n->doc);
    jdoc_free(n->payload);
    post_free(&n->post);
    handles_free(n->handles);
    free(n);
}

size_t tweet_norm_handles(const tweet_norm *n)
{
    return n->handles ? handles_count(n->handles) : 0;
}

static int read_line(tweet_norm *n, post *p, uint64_t *time_us)
{
    const jdoc *d = n->doc;
    jdoc_type t = jdoc_kind(d, 0);
    if (t != JDOC_OBJECT) return post_reject(p, "not an object: found %s", post_kind_name(t));
    if (jetstream_is(d)) return jetstream_read(p, n->handles, time_us);
    if (jdoc_get(d, 0, "network") < 0 && mastodon_is(d)) return mastodon_read(p, n->payload);
    return twitter_read(p);
}

int tweet_norm_line(tweet_norm *n, const char *line, size_t len, size_t max_len, buf *out, tweet_info *info,
                    char *err, size_t errlen)
{
    char scratch[1];
    size_t start = out->len;
    uint64_t time_us = 0;
    post *p = &n->post;
    int rc;

    if (errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    if (info) memset(info, 0, sizeof *info);
    post_reset(p, n->doc, err, errlen);
    if (max_len && len > max_len) return post_reject(p, "line longer than %zu bytes", max_len);
    rc = jdoc_parse(n->doc, line, len, TWEET_MAX_DEPTH, err, errlen);
    if (rc == 0) rc = read_line(n, p, &time_us);
    if (info) info->time_us = time_us;
    if (rc != 0) {
        out->len = start;
        if (out->data) out->data[start] = '\0';
        return rc;
    }
    post_write(p, out);
    if (info) {
        info->network = p->network.s;
        info->id_off = start + 7;      /* {"id":" */
        const char *q = out->data + info->id_off;
        while (*q != '"') q += *q == '\\' ? 2 : 1;
        info->id_len = (size_t)(q - (out->data + info->id_off));
    }
    return 0;
}

int tweet_normalize(const char *line, size_t len, size_t max_len, buf *out, char *err, size_t errlen)
{
    tweet_norm *n = tweet_norm_new(0);
    int rc = tweet_norm_line(n, line, len, max_len, out, NULL, err, errlen);
    tweet_norm_free(n);
    return rc;
}
