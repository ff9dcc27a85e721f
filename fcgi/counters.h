/* counters — what a responder process's acceptor threads count: streams
 * refused and HTTP answers by status class. Below http (which counts each
 * answer) and metrics (which publishes them); the hub and the feed keep
 * their own counters (hub_stats, feed_stats).
 *
 * Threads: any thread adds and reads (C11 atomics, relaxed: each value is
 * exact, the set is not one snapshot). */
#ifndef BIRDFEED_COUNTERS_H
#define BIRDFEED_COUNTERS_H

enum counter {
    COUNTER_STREAMS_REFUSED_FULL,  /* /stream refused: --max-clients reached */
    COUNTER_STREAMS_REFUSED_REDIS, /* /stream refused: Redis unreachable */
    COUNTER_HTTP_1XX,              /* answers by status class (http_reply) … */
    COUNTER_HTTP_2XX,
    COUNTER_HTTP_3XX,
    COUNTER_HTTP_4XX,
    COUNTER_HTTP_5XX,
    COUNTERS
};

typedef struct counters counters;

/* Every counter at 0. Never NULL; free with counters_free. */
counters *counters_new(void);
void counters_free(counters *c);              /* c may be NULL */
/* Any thread: add n to a counter. */
void counters_add(counters *c, enum counter which, unsigned long long n);
/* Any thread: one answer with this HTTP status (counted by class; other
 * values are ignored). */
void counters_http_status(counters *c, int status);
/* Any thread: a counter's value now (0 for an unknown one). */
unsigned long long counters_get(const counters *c, enum counter which);

#endif
