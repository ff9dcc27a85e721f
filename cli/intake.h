/* intake — the publishing half that `birdfeed ingest` (files) and
 * `birdfeed pull` (remote sources) share: each line a source gives goes
 * through the normaliser (lib/tweet.h) into Redis (lib/pub.h), in pipelined
 * batches, paced by --rate; rejects are reported as SOURCE:LINE: reason and
 * written to --dead-letter; --max-errors stops the reading; valid lines that
 * are not posts are skipped and counted; progress on a terminal, totals in
 * the metrics hash, one summary line at the end. With a duplicate filter on
 * (pull), a post whose id was published lately is dropped and counted.
 *
 * The guarantee of lib/pub holds: every line given is published once or
 * reported; with --wait-replicas N, a post counts only once N replicas hold
 * it, so a failover of the master (followed through a redis+sentinel://
 * URL) loses none of them. */
#ifndef BIRDFEED_INTAKE_H
#define BIRDFEED_INTAKE_H

#include <signal.h>
#include <stddef.h>

#include "cli.h"
#include "lines.h"
#include "tweet.h"

/* The options both commands take (rows: INTAKE_OPTION_ROWS). */
typedef struct intake_opts {
    long long batch;
    long long rate;        /* tweets per second, 0: as fast as possible */
    const char *dead;      /* dead-letter file */
    long long max_errors;  /* -1: no limit */
    int dry;
    long long retries;
    long long wait_replicas;    /* WAIT for this many replicas before a post counts (0: don't) */
    long long wait_timeout_ms;  /* give up after this long without enough replicas */
} intake_opts;

#define INTAKE_DEFAULTS {.batch = 512, .rate = 0, .dead = NULL, .max_errors = -1, .dry = 0, .retries = 10, \
                         .wait_replicas = 0, .wait_timeout_ms = 10000}

/* The option table rows for an intake_opts field f of options struct T. */
#define INTAKE_OPTION_ROWS(T, f) \
    CLI_OPT_INT("batch", 0, "N", T, f.batch, 1, 100000, "tweets per pipelined batch (default 512)"), \
    CLI_OPT_INT("rate", 0, "N", T, f.rate, 0, 100000000, "publish at most N tweets per second (replay in real time)"), \
    CLI_OPT_RETRIES(T, f.retries), \
    CLI_OPT_TEXT("dead-letter", 0, "FILE", T, f.dead, 1, 0, "append rejected lines to FILE, verbatim"), \
    CLI_OPT_INT("max-errors", 0, "N", T, f.max_errors, 0, 1000000000000LL, \
                "stop reading once more than N lines were rejected"), \
    CLI_OPT_FLAG("dry-run", 0, T, f.dry, "validate and normalise only; do not connect to Redis"), \
    CLI_OPT_INT("wait-replicas", 0, "N", T, f.wait_replicas, 0, 100, \
                "count a post only once N replicas acknowledged it (Redis WAIT; default 0)"), \
    CLI_OPT_INT("wait-timeout", 0, "MS", T, f.wait_timeout_ms, 1, 3600000, \
                "with --wait-replicas: give up after this long with fewer replicas (default 10000)")

typedef struct intake intake;

/* Catch SIGINT and SIGTERM (without SA_RESTART, so a blocked read or wait
 * returns) and ignore SIGPIPE. Returns the flag the two signals set. */
volatile sig_atomic_t *intake_catch_signals(void);

/* A new intake for command `cmd` ("ingest", in messages), reading sources
 * named in messages; stop is the flag SIGINT/SIGTERM set (pacing and
 * Redis retries end early on it). Nothing is opened yet. Never NULL. */
intake *intake_new(const char *cmd, const intake_opts *o, const config *cfg, volatile sig_atomic_t *stop);
void intake_free(intake *in);   /* in may be NULL */

/* Drop posts whose id is among the last max published (0: off, the default). */
void intake_dedup(intake *in, size_t max);
/* Open the dead-letter file. 0, or -1 after printing why (a usage error). */
int intake_open_dead_letter(intake *in);
/* Connect to Redis (unless --dry-run) and start the metrics hash. 0, or -1
 * after printing why (Redis unreachable). Starts the clock of the summary. */
int intake_start(intake *in);
/* A source's name for messages ("stdin", a file, a URL); returns its number
 * for intake_line. Copied. At most 2^20 sources. */
size_t intake_source(intake *in, const char *name);

/* One line (or record) p[0..n) of source at line number `line` (a CR before
 * the end is dropped; blank lines are ignored). Returns 0 (a post, queued or
 * published), TWEET_SKIPPED, 1 + TWEET_SKIPPED for a duplicate dropped, or
 * -1 (rejected and reported). info (may be NULL) gets what tweet.h says. */
int intake_line(intake *in, size_t source, unsigned long long line, const char *p, size_t n, tweet_info *info);
#define INTAKE_DUPLICATE (1 + TWEET_SKIPPED)
/* A piece of an over-long line (lib/lines.h LINES_LONG): reported once, written through to the dead letters. */
void intake_long_line(intake *in, size_t source, const lines_item *it);
/* A record rejected before it was a line ("event longer than …"): reported
 * with its reason, p[0..n) dead-lettered (n may be 0). */
void intake_reject(intake *in, size_t source, unsigned long long line, const char *why, const char *p, size_t n);
/* A dead-letter line cut short (the input stopped inside a long line): end it. */
void intake_end_dead_letter(intake *in);

/* Publish what is queued and wait for its replies. */
void intake_flush(intake *in);
/* Is something queued or waiting for Redis? */
int intake_pending(const intake *in);
/* Must reading stop (--max-errors passed, Redis unreachable)? */
int intake_stopped(const intake *in);
/* Clear the progress line before printing a message of one's own. */
void intake_clear_progress(intake *in);
/* Count a read error of a source as a reject (reported by the caller). */
void intake_count_error(intake *in);

/* Flush, print the summary line ("ingested N, skipped S, rejected R in T s
 * (X/s)", then `extra` when not NULL, e.g. "; 2 reconnects") and return the
 * exit code: 0, 1 (something rejected), 3 (Redis unreachable). */
int intake_finish(intake *in, const char *extra);

#endif
