/* match_bench — P6 of the README's Performance section: the matcher's cost per tweet with 10 000
 * filters. Prints µs per tweet.
 *
 *   build/tests/bench/match_bench [FILTERS] [TWEETS]
 *
 * Filters draw 1–4 phrases of 1–3 terms from a 20 000-word vocabulary
 * (skewed towards frequent words, about a third of terms are hashtags or
 * mentions); tweets are ~600-byte canonical JSON with ~25 words of text drawn
 * from the same skewed vocabulary, two hashtags and a mention. The figure
 * is CPU time per tweet (the matcher's own cost, which a busy shared machine
 * does not inflate); wall-clock time is printed too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "filter.h"
#include "match.h"
#include "util.h"

#define VOCAB 20000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* A word index, skewed: small indices are much more frequent. */
static uint32_t word(void)
{
    double u = (double)(rnd() % 1000000) / 1000000.0;
    return (uint32_t)(u * u * u * VOCAB);
}

/* CPU time of this process in µs: the matcher's own cost, whatever else
 * the machine runs meanwhile. */
static uint64_t cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void append_word(buf *b, uint32_t w)
{
    static const char *const syl[] = {"ka", "lo", "mi", "ne", "ru", "ta", "shi", "vo", "ze", "pa", "qu", "dor"};
    do {
        buf_appends(b, syl[w % 12]);
        w /= 12;
    } while (w);
}

int main(int argc, char **argv)
{
    long nfilters = argc > 1 ? atol(argv[1]) : 10000;
    long ntweets = argc > 2 ? atol(argv[2]) : 20000;
    filter_limits lim = {100, 400, 60};
    matcher *m = match_new();
    buf b = BUF_INIT;
    char err[256], key[32];

    if (nfilters < 1 || ntweets < 1) {
        fprintf(stderr, "usage: match_bench [FILTERS] [TWEETS]\n");
        return 2;
    }
    uint64_t t0 = now_us();
    for (long i = 0; i < nfilters; i++) {
        buf_reset(&b);
        buf_printf(&b, "{\"name\":\"f%ld\",\"track\":[", i);
        int nph = 1 + (int)(rnd() % 4);
        for (int p = 0; p < nph; p++) {
            buf_appends(&b, p ? ",\"" : "\"");
            int nt = 1 + (int)(rnd() % 3);
            for (int t = 0; t < nt; t++) {
                if (t) buf_appendc(&b, ' ');
                uint32_t r = rnd() % 6;
                if (r == 0) buf_appendc(&b, '#');
                if (r == 1) buf_appendc(&b, '@');
                /* Filters ask for rarer words than tweets mostly use. */
                append_word(&b, (word() + rnd() % 2000) % VOCAB);
            }
            buf_appendc(&b, '"');
        }
        buf_appends(&b, "]");
        if (rnd() % 10 == 0) buf_appends(&b, ",\"lang\":[\"en\"]");
        buf_appendc(&b, '}');
        filter f;
        if (filter_parse(b.data, b.len, &lim, &f, err, sizeof err) != 0) {
            fprintf(stderr, "match_bench: generated filter invalid: %s: %s\n", err, b.data);
            return 1;
        }
        snprintf(key, sizeof key, "%ld", i);
        match_put(m, key, &f);
        filter_free(&f);
    }
    uint64_t t1 = now_us();

    /* A pool of distinct tweets, reused round-robin. */
    enum { POOL = 1000 };
    char *tweets[POOL];
    size_t lens[POOL], total = 0;
    for (int i = 0; i < POOL; i++) {
        buf_reset(&b);
        buf_printf(&b, "{\"id\":\"17000000000%03d-0\",\"text\":\"", i);
        for (int w = 0; w < 25; w++) {
            if (w) buf_appendc(&b, w % 7 == 0 ? ',' : ' ');
            if (w % 9 == 4) buf_appendc(&b, ' ');
            append_word(&b, word());
        }
        buf_appends(&b, " https://t.co/abcdefgh\",\"user\":{\"screen_name\":\"");
        append_word(&b, word());
        buf_appends(&b, "\",\"name\":\"Some Body\",\"followers_count\":1234},\"created_at\":\"2026-01-02T03:04:05Z\","
                        "\"lang\":\"en\",\"hashtags\":[\"");
        append_word(&b, word());
        buf_appends(&b, "\",\"");
        append_word(&b, word());
        buf_appends(&b, "\"],\"mentions\":[\"");
        append_word(&b, word());
        buf_appends(&b, "\"],\"urls\":[\"https://example.org/some/long/path\"],\"retweet_count\":3}");
        total += b.len;
        tweets[i] = buf_detach(&b, &lens[i]);
    }

    match_result res = MATCH_RESULT_INIT;
    size_t matched = 0;
    for (int i = 0; i < POOL; i++) match_tweet(m, tweets[i], lens[i], &res);   /* warm up */
    uint64_t t2 = now_us(), c2 = cpu_us();
    for (long i = 0; i < ntweets; i++) {
        if (match_tweet(m, tweets[i % POOL], lens[i % POOL], &res) != 0) {
            fprintf(stderr, "match_bench: tweet rejected\n");
            return 1;
        }
        matched += res.n;
    }
    uint64_t t3 = now_us(), c3 = cpu_us();

    printf("match_bench: %ld filters compiled in %.1f ms; %ld tweets (avg %zu B) matched, "
           "avg %.2f filters per tweet\n",
           nfilters, (double)(t1 - t0) / 1000.0, ntweets, total / POOL, (double)matched / (double)ntweets);
    printf("match_bench: wall clock %.2f us/tweet (includes time other processes took the CPU)\n",
           (double)(t3 - t2) / (double)ntweets);
    printf("match_bench: %.2f us/tweet of CPU time (P6 target <= 20 us)\n", (double)(c3 - c2) / (double)ntweets);

    for (int i = 0; i < POOL; i++) free(tweets[i]);
    match_result_free(&res);
    match_free(m);
    buf_free(&b);
    return 0;
}
