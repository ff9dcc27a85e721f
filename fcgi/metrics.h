/* metrics — this responder process's figures published in Redis, and
 * GET /api/metrics for the whole deployment.
 *
 * A process's figures are the hub's (hub_stats: streams opened, events,
 * bytes, slow clients cut off, heartbeats), the feed's (Redis
 * subscriptions), the acceptors' (counters.h: streams refused, answers by
 * status class) and gauges (streams open, subscribed, filters in the
 * matcher, ring size), all read from the process context when published.
 *
 * Aggregation across processes and hosts needs no shared file or memory: a
 * thread of each process (lib/statpub.h) writes its figures every 2 s into
 * the hash <prefix>metrics:proc:<node>:<pid>, which expires after 6 s
 * unless refreshed (a clean exit deletes it). GET /api/metrics, in any
 * process, SCANs those hashes and sums them, adds what Redis itself knows
 * (stream length, newest entry's age, the consumer groups' lag, saved
 * filters, `birdfeed ingest` processes' totals) and answers in the
 * Prometheus text format 0.0.4. */
#ifndef BIRDFEED_METRICS_H
#define BIRDFEED_METRICS_H

#include "http.h"
#include "proc.h"
#include "statpub.h"

/* Start publishing p's figures from a thread of its own, with its own Redis
 * connection; the first publication happens at once. p and what it points
 * to must outlive the publisher: stop it with statpub_stop (which deletes
 * the hash) before freeing them. Once per process, after fork. Never NULL. */
statpub *metrics_publish_start(const proc *p);

/* GET /api/metrics: the deployment's figures (Prometheus text), or 503 with
 * Retry-After when Redis is unreachable. */
void metrics_get(http_req *req);

#endif
