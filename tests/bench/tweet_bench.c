/* tweet_bench — how fast tweet_normalize runs on one core.
 *
 *   tweet_bench               built-in synthetic tweets: v1.1 objects, then canonical ones
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

static double run(const char *name, const lines *in)
{
    buf out = BUF_INIT;
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
            if (tweet_normalize(in->s[i], in->n[i], MAX_LINE, &out, err, sizeof err) < 0) rejected++;
            bytes += in->n[i];
        }
        done += in->count;
        t = now_us() - t0;
    } while (t < 1000000);
    double rate = (double)done / ((double)t / 1e6);
    printf("%-24s %9.0f tweets/s  %7.1f MB/s  (%zu lines, avg %zu B, %zu rejected per pass)\n", name, rate,
           (double)bytes / (double)t, in->count, in->bytes / in->count, rejected / (done / in->count));
    buf_free(&out);
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
    lines v11 = {0}, canon = {0};
    buf b = BUF_INIT, c = BUF_INIT;
    char err[256];
    for (unsigned i = 0; i < 2000; i++) {
        buf_reset(&b);
        buf_reset(&c);
        synth_v11(&b, i);
        lines_add(&v11, b.data, b.len);
        if (tweet_normalize(b.data, b.len, MAX_LINE, &c, err, sizeof err) < 0) {
            fprintf(stderr, "tweet_bench: synthetic tweet rejected: %s\n", err);
            return 1;
        }
        lines_add(&canon, c.data, c.len);
    }
    run("v1.1 (built-in)", &v11);
    run("canonical (built-in)", &canon);
    buf_free(&b);
    buf_free(&c);
    lines_free(&v11);
    lines_free(&canon);
    return 0;
}
