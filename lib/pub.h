/* pub — the atomic publish of a tweet: one Lua script, loaded once and
 * called with EVALSHA, that XADDs a canonical tweet to <prefix>tweets
 * (MAXLEN ~ history) and PUBLISHes "<id> <json>" on <prefix>live, returning
 * the stream id. Calls are pipelined: the caller queues tweets, sends them
 * in one write and collects the replies later, so Redis works while the
 * caller prepares the next batch.
 *
 * Delivery guarantee. Every queued tweet is reported exactly once through
 * the callback, with one of:
 *   PUB_OK           it is in the stream (and was published) under r->id;
 *   PUB_FAILED       it is not in the stream (Redis refused it, or Redis
 *                    stayed unreachable before it could be sent);
 *   PUB_UNCONFIRMED  Redis stayed unreachable while its reply was
 *                    outstanding: it may or may not be in the stream.
 * When a connection drops with replies outstanding, pub reconnects with
 * backoff, reloads the script, reads the stream after the newest id it
 * knew before sending (the last confirmed id) and matches the outstanding
 * tweets in send order against the entries there: those found are reported
 * PUB_OK with the id they got (r->recovered = 1), the others are sent
 * again. So nothing is published twice and nothing reported PUB_OK is
 * missing, provided Redis kept what it executed (AOF with appendfsync
 * always, or no restart) and the entries were not trimmed away (history
 * larger than what other publishers add during the outage). An identical
 * tweet published by another process into that same window can be taken
 * for ours; it is then in the stream once rather than twice. */
#ifndef BIRDFEED_PUB_H
#define BIRDFEED_PUB_H

#include <signal.h>
#include <stddef.h>

typedef struct pub pub;

typedef struct pub_opts {
    const char *redis_url;        /* bus_connect URL */
    const char *prefix;           /* key prefix ("birdfeed:") */
    long long history;            /* MAXLEN ~ for the stream */
    int backoff_max_ms;           /* longest wait between reconnects */
    int retries;                  /* failed attempts in a row before giving up */
    int timeout_ms;               /* connect and reply timeout; 0: none */
    volatile sig_atomic_t *stop;  /* when non-zero, stop retrying; may be NULL */
} pub_opts;

enum pub_status { PUB_OK, PUB_FAILED, PUB_UNCONFIRMED };

typedef struct pub_result {
    enum pub_status status;
    unsigned long long tag;  /* what the caller passed to pub_add */
    const char *id;          /* PUB_OK: the stream id ("<ms>-<seq>") */
    const char *error;       /* otherwise: why */
    const char *json;        /* the canonical tweet as queued */
    size_t len;
    int recovered;           /* PUB_OK found in the stream after its reply was lost */
} pub_result;

/* Called once per queued tweet; r and its strings are valid only during the call. */
typedef void (*pub_done_fn)(void *ctx, const pub_result *r);

/* The Lua script, for tools that want to run the same one (benchmarks). */
const char *pub_script(void);

/* Connect (retrying with backoff, opts->retries times) and load the script.
 * opts' strings are copied. Returns the publisher, or NULL with the reason
 * in err when Redis stayed unreachable. Free with pub_free. */
pub *pub_open(const pub_opts *opts, char *err, size_t errlen);
void pub_free(pub *p);   /* p may be NULL; tweets not yet collected are dropped unreported */

/* Queue one canonical tweet (copied). tag comes back in its result. */
void pub_add(pub *p, const char *json, size_t len, unsigned long long tag);
size_t pub_queued(const pub *p);     /* queued, not yet sent */
size_t pub_inflight(const pub *p);   /* sent, reply not yet read */

/* Send what is queued (without waiting), then read replies (recovering from lost
 * connections as described above) until at most keep tweets are in flight,
 * calling done for each finished tweet. Returns 0, or -1 when Redis stayed
 * unreachable: then every tweet still held has been reported (FAILED or
 * UNCONFIRMED), err says why, and the publisher reports every later tweet
 * FAILED at once. */
int pub_collect(pub *p, size_t keep, pub_done_fn done, void *ctx, char *err, size_t errlen);

/* Publisher statistics: reconnects made and tweets found in the stream after
 * their reply was lost. */
void pub_stats(const pub *p, unsigned long *reconnects, unsigned long *recovered);

/* A tweet's text as pub_match_next compares it. */
typedef struct pub_text {
    const char *p;
    size_t n;
} pub_text;

/* Recovery matching, exposed for tests (no I/O). pending[0..n) are the texts
 * of the tweets whose replies were lost, in send order; *from is the first
 * one not yet matched. If text[0..len) (a stream entry after the last
 * confirmed id) equals pending[k] for some k >= *from, return the smallest
 * such k and set *from = k + 1 (pending[*from..k) were not executed);
 * otherwise return -1 (another publisher's entry). */
long pub_match_next(const pub_text *pending, size_t n, size_t *from, const char *text, size_t len);

#endif
