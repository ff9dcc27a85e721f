/* pub — the atomic publish of birdfeed's Redis layout (lib/bus.h): one Lua
 * script, loaded once and called with EVALSHA, that XADDs a canonical tweet
 * to <prefix>tweets (MAXLEN ~ history) and PUBLISHes "<id> <json>" on
 * <prefix>live, returning the stream id. Calls are pipelined: the caller
 * queues tweets, sends them in one write and collects the replies later, so
 * Redis works while the caller prepares the next batch.
 *
 * Delivery guarantee. Every queued tweet is reported exactly once through
 * the callback, with one of:
 *   PUB_OK           it is in the stream (and was published) under r->id;
 *                    with wait_replicas N, also on N replicas (WAIT said so);
 *   PUB_FAILED       it is not in the stream (Redis refused it, or Redis
 *                    stayed unreachable before it could be sent);
 *   PUB_UNCONFIRMED  Redis stayed unreachable while its reply was
 *                    outstanding: it may or may not be in the stream; or,
 *                    with wait_replicas, it is in the master's stream but
 *                    fewer than N replicas acknowledged it within
 *                    wait_timeout_ms.
 * Replication (wait_replicas N > 0): after each batch pub sends WAIT N; a
 * tweet counts only once a WAIT after it answers N or more. A WAIT that
 * comes back short is sent again (a slow replica is not a loss) until
 * wait_timeout_ms have passed without enough replicas; then pub gives up.
 *
 * Recovery. When a connection drops with tweets unconfirmed, or the server
 * answers READONLY (it is no longer the master: a failover), pub reconnects
 * with backoff through bus_connect (which, for a redis+sentinel:// URL, asks
 * the Sentinels for the master anew), reloads the script and reads the
 * stream after the last confirmed id. Each entry there whose tweet id
 * (lib/tweet.h: the canonical form's leading "id") is that of an
 * unconfirmed tweet counts as that tweet, with the id it has there (r->recovered
 * = 1); the others are sent again. So a tweet is in the stream once even
 * when its batch is resent to a new master, and nothing reported PUB_OK is
 * missing, provided the server kept what it executed: with wait_replicas,
 * Sentinel promotes the replica with the most data, which holds everything
 * WAIT confirmed; without it, a single Redis must not lose what it executed
 * (AOF with appendfsync always, or no restart). The entries must also not
 * be trimmed away meanwhile (history larger than what other publishers add
 * during the outage). A tweet with the same id published by another process
 * into that window is taken for ours: it is then in the stream once. */
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
    int wait_replicas;            /* WAIT for this many replicas before a tweet counts (0: don't) */
    int wait_timeout_ms;          /* give up after WAIT came back short for this long */
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
size_t pub_inflight(const pub *p);   /* sent, not yet reported (reply or WAIT outstanding) */

/* Send what is queued, then read replies (recovering from lost
 * connections as described above) until at most keep tweets are in flight,
 * calling done for each finished tweet. Returns 0, or -1 when Redis stayed
 * unreachable or, with wait_replicas, the replicas did not confirm within
 * wait_timeout_ms: then every tweet still held has been reported (FAILED or
 * UNCONFIRMED), err says why, and the publisher reports every later tweet
 * FAILED at once. */
int pub_collect(pub *p, size_t keep, pub_done_fn done, void *ctx, char *err, size_t errlen);

/* Publisher statistics: reconnects made and tweets found in the stream after
 * their reply was lost. */
void pub_stats(const pub *p, unsigned long *reconnects, unsigned long *recovered);

/* Recovery matching, exposed for tests (no I/O). */

/* The tweet id of a canonical tweet: the text of its leading "id" string
 * (still JSON-escaped), into *id and *n. 0 ok, -1 when json does not start
 * with {"id":"…". */
int pub_tweet_id(const char *json, size_t len, const char **id, size_t *n);

/* The unconfirmed tweets pending[0..n) (canonical texts, in send order, not
 * copied: they must outlive the matcher), each to be taken once. */
typedef struct pub_text {
    const char *p;
    size_t n;
} pub_text;
typedef struct pub_matcher pub_matcher;
pub_matcher *pub_matcher_new(const pub_text *pending, size_t n);
/* If text[0..len) (a stream entry after the last confirmed id) has the tweet
 * id of a pending tweet not taken yet, take the first such and return its
 * index; otherwise -1 (another publisher's entry, or one taken already). */
long pub_matcher_take(pub_matcher *m, const char *text, size_t len);
void pub_matcher_free(pub_matcher *m);   /* m may be NULL */

#endif
