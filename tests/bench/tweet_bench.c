/* tweet_bench — how fast the normaliser (tweet_norm_line, as ingest runs it)
 * goes on one core, per input format.
 *
 *   tweet_bench               built-in synthetic inputs: v1.1 objects, Bluesky Jetstream
 *                             post events, Mastodon statuses (streaming `update` events),
 *                             then canonical tweets
 *   tweet_bench FILE…         every line of each file (e.g. from `birdfeed gen`)
 *
 * Prints tweets/s and MB/s per input set; each set runs for about a second.
 * Figures, never pass/fail: speed is measured here, not asserted in tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tweet.h"
#include "util.h"

#define MAX_LINE 1048576

typedef struct lines {
    char **s;
    size_t *n;
    size_t count, cap, bytes;
} lines;

static void lines_add(lines *l, const char *s, size_t n)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->s = xrealloc(l->s, l->cap * sizeof *l->s);
        l->n = xrealloc(l->n, l->cap * sizeof *l->n);
    }
    l->s[l->count] = xstrndup(s, n);
    l->n[l->count++] = n;
    l->bytes += n;
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->count; i++) free(l->s[i]);
    free(l->s);
    free(l->n);
}

/* A full v1.1 status object like the streaming API sends (about 2.5 KB). */
static void synth_v11(buf *b, unsigned i)
{
    static const char *const words[] = {"sparrow", "dawn", "chorus", "river", "heron", "feeder", "rain",
                                        "garden", "kestrel", "спасибо", "鳥", "café"};
    buf_printf(b, "{\"created_at\":\"Wed May 01 %02u:%02u:%02u +0000 2024\",\"id\":%llu,\"id_str\":\"%llu\",\"text\":\"",
               i / 3600 % 24, i / 60 % 60, i % 60, 1785459115741413376ULL + i, 1785459115741413376ULL + i);
    for (unsigned w = 0; w < 14; w++) buf_printf(b, "%s%s", w ? " " : "", words[(i * 7 + w * 3) % 12]);
    buf_printf(b, " @user%u #birds%u https://t.co/abc%u\",\"truncated\":false,"
                  "\"source\":\"<a href=\\\"https://birdfeed.example\\\" rel=\\\"nofollow\\\">bench</a>\","
                  "\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,\"in_reply_to_user_id\":null,"
                  "\"in_reply_to_user_id_str\":null,\"in_reply_to_screen_name\":null,"
                  "\"user\":{\"id\":%u,\"id_str\":\"%u\",\"name\":\"Bench User %u\",\"screen_name\":\"bench%u\","
                  "\"location\":\"Somewhere\",\"url\":\"https://example.com\",\"description\":\"A synthetic account "
                  "that exists only to measure how quickly birdfeed normalises status objects.\",\"protected\":false,"
                  "\"verified\":false,\"followers_count\":%u,\"friends_count\":12,\"listed_count\":3,"
                  "\"favourites_count\":31,\"statuses_count\":3658,\"created_at\":\"Wed May 23 06:01:13 +0000 2007\","
                  "\"utc_offset\":null,\"time_zone\":null,\"geo_enabled\":false,\"lang\":null,"
                  "\"contributors_enabled\":false,\"is_translator\":false,\"profile_background_color\":\"C0DEED\","
                  "\"profile_background_image_url_https\":\"https://img.example/bg.png\",\"profile_background_tile\":false,"
                  "\"profile_link_color\":\"1DA1F2\",\"profile_sidebar_border_color\":\"C0DEED\","
                  "\"profile_sidebar_fill_color\":\"DDEEF6\",\"profile_text_color\":\"333333\","
                  "\"profile_use_background_image\":true,\"profile_image_url_https\":\"https://img.example/p/%u.jpg\","
                  "\"profile_banner_url\":\"https://img.example/b/%u\",\"default_profile\":false,"
                  "\"default_profile_image\":false,\"following\":null,\"follow_request_sent\":null,\"notifications\":null},"
                  "\"geo\":null,\"coordinates\":null,\"place\":null,\"contributors\":null,\"is_quote_status\":false,"
                  "\"quote_count\":0,\"reply_count\":2,\"retweet_count\":%u,\"favorite_count\":296,"
                  "\"entities\":{\"hashtags\":[{\"text\":\"birds%u\",\"indices\":[100,107]}],\"symbols\":[],"
                  "\"user_mentions\":[{\"screen_name\":\"user%u\",\"name\":\"User\",\"id\":%u,\"id_str\":\"%u\","
                  "\"indices\":[90,99]}],\"urls\":[{\"url\":\"https://t.co/abc%u\",\"expanded_url\":"
                  "\"https://example.org/post/%u\",\"display_url\":\"example.org/post/%u\",\"indices\":[108,131]}]},"
                  "\"favorited\":false,\"retweeted\":false,\"possibly_sensitive\":false,\"filter_level\":\"low\","
                  "\"lang\":\"en\",\"timestamp_ms\":\"%llu\"}",
               i % 97, i % 31, i % 53, i % 5000, i % 5000, i % 5000, i % 5000, i * 37 % 100000, i % 5000, i % 5000,
               i % 50, i % 31, i % 97, i % 97, i % 97, i % 53, i, i, 1714521600000ULL + i);
}

/* A Jetstream commit creating a post, with facets (a tag, a mention, a link), a reply and langs (about 1.1 KB). */
static void synth_jetstream(buf *b, unsigned i)
{
    static const char *const words[] = {"sparrow", "dawn", "chorus", "river", "heron", "feeder", "rain",
                                        "garden", "kestrel", "спасибо", "鳥", "café"};
    buf t = BUF_INIT;
    for (unsigned w = 0; w < 12; w++) buf_printf(&t, "%s%s", w ? " " : "", words[(i * 7 + w * 3) % 12]);
    size_t tag = t.len + 1;
    buf_printf(&t, " #birds%u", i % 50);
    size_t mention = t.len + 1;
    buf_printf(&t, " @user%u.bsky.social", i % 97);
    size_t link = t.len + 1;
    buf_printf(&t, " https://example.org/post/%u", i % 5000);
    buf_printf(b, "{\"did\":\"did:plc:bench%019u\",\"time_us\":%llu,\"kind\":\"commit\",\"commit\":{\"rev\":\"3l3qo2vutsw2b\","
                  "\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"3l3qo%08u\",\"record\":{"
                  "\"$type\":\"app.bsky.feed.post\",\"text\":\"%s\",\"createdAt\":\"2024-09-09T%02u:%02u:%02u.102Z\",\"langs\":[\"en\"],"
                  "\"facets\":[{\"$type\":\"app.bsky.richtext.facet\",\"index\":{\"byteStart\":%zu,\"byteEnd\":%zu},"
                  "\"features\":[{\"$type\":\"app.bsky.richtext.facet#tag\",\"tag\":\"birds%u\"}]},"
                  "{\"$type\":\"app.bsky.richtext.facet\",\"index\":{\"byteStart\":%zu,\"byteEnd\":%zu},"
                  "\"features\":[{\"$type\":\"app.bsky.richtext.facet#mention\",\"did\":\"did:plc:user%019u\"}]},"
                  "{\"$type\":\"app.bsky.richtext.facet\",\"index\":{\"byteStart\":%zu,\"byteEnd\":%zu},"
                  "\"features\":[{\"$type\":\"app.bsky.richtext.facet#link\",\"uri\":\"https://example.org/post/%u\"}]}],"
                  "\"reply\":{\"root\":{\"uri\":\"at://did:plc:root/app.bsky.feed.post/3k%u\",\"cid\":\"bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4\"},"
                  "\"parent\":{\"uri\":\"at://did:plc:parent/app.bsky.feed.post/3k%u\",\"cid\":\"bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4\"}}},"
                  "\"cid\":\"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi\"}}",
               i % 3000, 1725911162329308ULL + i * 1000ULL, i, t.data, i / 3600 % 24, i / 60 % 60, i % 60, tag, tag + 7 + (i % 50 >= 10),
               i % 50, mention, link - 1, i % 97, link, t.len, i % 5000, i, i);
    buf_free(&t);
}

/* A Mastodon streaming `update` event: a Status with its account, HTML content with a
 * hashtag link, a mention and a long link, as a JSON string (about 2.6 KB). */
static void synth_mastodon(buf *b, unsigned i)
{
    buf st = BUF_INIT;
    buf_printf(&st, "{\"id\":\"1132%014u\",\"created_at\":\"2024-11-0%uT%02u:%02u:%02u.000Z\",\"in_reply_to_id\":null,"
                    "\"in_reply_to_account_id\":null,\"sensitive\":false,\"spoiler_text\":\"\",\"visibility\":\"public\","
                    "\"language\":\"en\",\"uri\":\"https://mastodon.example/users/bench%u/statuses/1132%014u\","
                    "\"url\":\"https://mastodon.example/@bench%u/1132%014u\",\"replies_count\":0,\"reblogs_count\":%u,"
                    "\"favourites_count\":3,\"edited_at\":null,\"content\":\"<p>dawn chorus by the river, a heron at the "
                    "feeder &amp; rain in the garden <a href=\\\"https://mastodon.example/tags/birds%u\\\" class=\\\"mention "
                    "hashtag\\\" rel=\\\"tag\\\">#<span>birds%u</span></a> with <span class=\\\"h-card\\\" translate=\\\"no\\\">"
                    "<a href=\\\"https://other.example/@user%u\\\" class=\\\"u-url mention\\\">@<span>user%u</span></a></span>"
                    "</p><p>more: <a href=\\\"https://example.org/post/%u/a-long-path\\\" target=\\\"_blank\\\" "
                    "rel=\\\"nofollow noopener noreferrer\\\" translate=\\\"no\\\"><span class=\\\"invisible\\\">https://"
                    "</span><span class=\\\"ellipsis\\\">example.org/post/%u/a-lo</span><span class=\\\"invisible\\\">"
                    "ng-path</span></a></p>\",\"reblog\":null,\"application\":{\"name\":\"Web\",\"website\":null},"
                    "\"account\":{\"id\":\"%u\",\"username\":\"bench%u\",\"acct\":\"bench%u\",\"display_name\":\"Bench "
                    "User %u\",\"locked\":false,\"bot\":false,\"discoverable\":true,\"group\":false,"
                    "\"created_at\":\"2022-11-01T00:00:00.000Z\",\"note\":\"<p>A synthetic account.</p>\","
                    "\"url\":\"https://mastodon.example/@bench%u\",\"avatar\":\"https://files.mastodon.example/a/%u.png\","
                    "\"header\":\"https://files.mastodon.example/h/%u.png\",\"followers_count\":%u,\"following_count\":12,"
                    "\"statuses_count\":3658,\"last_status_at\":\"2024-11-01\",\"emojis\":[],\"fields\":[]},"
                    "\"media_attachments\":[],\"mentions\":[{\"id\":\"%u\",\"username\":\"user%u\","
                    "\"url\":\"https://other.example/@user%u\",\"acct\":\"user%u@other.example\"}],"
                    "\"tags\":[{\"name\":\"birds%u\",\"url\":\"https://mastodon.example/tags/birds%u\"}],"
                    "\"emojis\":[],\"card\":null,\"poll\":null}",
               i, 1 + i / 86400 % 9, i / 3600 % 24, i / 60 % 60, i % 60, i % 3000, i, i % 3000, i, i % 31, i % 50, i % 50,
               i % 97, i % 97, i % 5000, i % 5000, i % 3000, i % 3000, i % 3000, i % 3000, i % 3000, i % 3000, i % 3000,
               i * 37 % 100000, i % 97, i % 97, i % 97, i % 97, i % 50, i % 50);
    buf_appends(b, "{\"stream\":[\"public\"],\"event\":\"update\",\"payload\":");
    buf_append_json_str(b, st.data, st.len);
    buf_appendc(b, '}');
    buf_free(&st);
}

/* Make input i with synth into l; it must be a post. Its canonical form
 * goes to canon (may be NULL). -1 after saying why on stderr. */
static int add_synth(lines *l, buf *b, void (*synth)(buf *, unsigned), unsigned i, buf *canon)
{
    buf c = BUF_INIT;
    char err[256];
    buf_reset(b);
    synth(b, i);
    lines_add(l, b->data, b->len);
    int rc = tweet_normalize(b->data, b->len, MAX_LINE, &c, err, sizeof err);
    if (rc != 0) fprintf(stderr, "tweet_bench: synthetic input %u not a post: %s\n", i, err);
    if (canon) {
        buf_free(canon);
        *canon = c;
    } else
        buf_free(&c);
    return rc == 0 ? 0 : -1;
}

static double run(const char *name, const lines *in)
{
    buf out = BUF_INIT;
    tweet_norm *norm = tweet_norm_new(TWEET_HANDLES_DEFAULT);
    char err[256];
    size_t done = 0, rejected = 0, bytes = 0;
    uint64_t t0 = now_us(), t;

    if (in->count == 0) {
        printf("%-24s no lines\n", name);
        return 0;
    }
    do {
        for (size_t i = 0; i < in->count; i++) {
            buf_reset(&out);
            if (tweet_norm_line(norm, in->s[i], in->n[i], MAX_LINE, &out, NULL, err, sizeof err) != 0) rejected++;
            bytes += in->n[i];
        }
        done += in->count;
        t = now_us() - t0;
    } while (t < 1000000);
    double rate = (double)done / ((double)t / 1e6);
    printf("%-24s %9.0f tweets/s  %7.1f MB/s  (%zu lines, avg %zu B, %zu not posts per pass)\n", name, rate,
           (double)bytes / (double)t, in->count, in->bytes / in->count, rejected / (done / in->count));
    buf_free(&out);
    tweet_norm_free(norm);
    return rate;
}

static int load(const char *path, lines *l)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    while ((n = getline(&line, &cap, f)) > 0 && l->count < 200000) {
        if (line[n - 1] == '\n') n--;
        lines_add(l, line, (size_t)n);
    }
    free(line);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int a = 1; a < argc; a++) {
            lines l = {0};
            if (load(argv[a], &l) < 0) return 1;
            run(argv[a], &l);
            lines_free(&l);
        }
        return 0;
    }
    lines v11 = {0}, js = {0}, masto = {0}, canon = {0};
    buf b = BUF_INIT, c = BUF_INIT;
    for (unsigned i = 0; i < 2000; i++) {
        if (add_synth(&v11, &b, synth_v11, i, &c) < 0 || add_synth(&js, &b, synth_jetstream, i, NULL) < 0 ||
            add_synth(&masto, &b, synth_mastodon, i, NULL) < 0)
            return 1;
        lines_add(&canon, c.data, c.len);
    }
    run("v1.1 (built-in)", &v11);
    run("jetstream (built-in)", &js);
    run("mastodon (built-in)", &masto);
    run("canonical (built-in)", &canon);
    buf_free(&b);
    buf_free(&c);
    lines_free(&v11);
    lines_free(&js);
    lines_free(&masto);
    lines_free(&canon);
    return 0;
}
