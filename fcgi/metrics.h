/* metrics — this responder process's counters and gauges, their
 * publication in Redis, and GET /api/metrics for the whole deployment.
 *
 * The hub counts what happens on streams (hub_stats_get: streams opened,
 * events, bytes, slow clients cut off, heartbeats, Redis subscriptions);
 * this module counts what the acceptor threads decide (streams refused, REST
 * answers by status class) in C11 atomics, bumped relaxed from any thread.
 * Gauges (streams open, subscribed, filters in the matcher, ring size) are
 * read from the hub and the filter set when published.
 *
 * Aggregation across processes and hosts needs no shared file or memory
 * (DESIGN §9): a thread of each process (lib/statpub.h) writes its figures
 * every 2 s into the hash <prefix>metrics:proc:<host>:<pid>, which expires
 * after 6 s unless refreshed (a clean exit deletes it).
 * GET /api/metrics, in any process, SCANs those hashes and sums them, adds
 * what Redis itself knows (stream length, newest entry's age, the consumer
 * groups' lag, saved filters, `birdfeed ingest` processes' totals) and
 * answers in the Prometheus text format 0.0.4. */
#ifndef BIRDFEED_METRICS_H
#define BIRDFEED_METRICS_H

#include "config.h"
#include "http.h"
#include "hub.h"

enum metrics_counter {
    METRICS_STREAMS_REFUSED_FULL,  /* 503: --max-clients reached */
    METRICS_STREAMS_REFUSED_REDIS, /* 503: Redis unreachable */
    METRICS_HTTP_1XX,              /* answers by status class (http_reply) … */
    METRICS_HTTP_2XX,
    METRICS_HTTP_3XX,
    METRICS_HTTP_4XX,
    METRICS_HTTP_5XX,
    METRICS_COUNTERS
};

/* Any thread: add n to a counter. */
void metrics_count(enum metrics_counter which, unsigned long long n);
/* Any thread: one answer with this HTTP status (counted by class). */
void metrics_http_status(int status);
/* Any thread: a counter's value now. */
unsigned long long metrics_value(enum metrics_counter which);

/* Start publishing this process's figures (gauges read from h, which must
 * outlive metrics_stop) from a thread of its own, with its own Redis
 * connection; the first publication happens at once. cfg must outlive it.
 * Call once per process, after fork. */
void metrics_start(const config *cfg, hub *h);
/* Stop that thread and delete this process's hash. No-op when not started. */
void metrics_stop(void);

/* GET /api/metrics: the deployment's figures (Prometheus text), or 503 with
 * Retry-After when Redis is unreachable. */
void metrics_get(http_req *req);

#endif
