/* intake — lines to Redis, shared by ingest and pull. See intake.h. */
#include "intake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "bus.h"
#include "log.h"
#include "pub.h"
#include "seen.h"
#include "statpub.h"
#include "util.h"

#define TAG_LINE_BITS 44
#define TAG_LINE_MASK ((1ull << TAG_LINE_BITS) - 1)
#define MAX_SOURCES (1u << 20)

struct intake {
    const char *cmd;
    const intake_opts *o;
    const config *cfg;
    volatile sig_atomic_t *stop;
    pub *pub;
    statpub *stats;        /* figures for GET /api/metrics */
    FILE *dead;
    char **names;          /* sources, for messages */
    size_t nnames;
    tweet_norm *norm;      /* keeps Jetstream's handles across lines */
    seen *recent;          /* ids published lately (pull), or NULL */
    unsigned long long ingested, rejected, unconfirmed, skipped, duplicates;
    unsigned long long accepted;   /* normalised (for pacing and --dry-run) */
    int unreachable;
    int stop_reading;
    int progress;          /* stderr is a terminal */
    uint64_t start_us, last_progress_us;
    buf canon;
    char err[512];
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

volatile sig_atomic_t *intake_catch_signals(void)
{
    cli_catch_signals(on_signal, 0);
    return &interrupted;
}

intake *intake_new(const char *cmd, const intake_opts *o, const config *cfg, volatile sig_atomic_t *stop)
{
    intake *in = xcalloc(1, sizeof *in);
    in->cmd = cmd;
    in->o = o;
    in->cfg = cfg;
    in->stop = stop;
    in->norm = tweet_norm_new(TWEET_HANDLES_DEFAULT);
    in->progress = isatty(2);
    in->start_us = now_us();
    return in;
}

void intake_free(intake *in)
{
    if (in == NULL) return;
    if (in->dead && fclose(in->dead) != 0)
        fprintf(stderr, "birdfeed %s: --dead-letter %s: %s\n", in->cmd, in->o->dead, strerror(errno));
    statpub_stop(in->stats);
    pub_free(in->pub);
    for (size_t i = 0; i < in->nnames; i++) free(in->names[i]);
    free(in->names);
    buf_free(&in->canon);
    tweet_norm_free(in->norm);
    seen_free(in->recent);
    free(in);
}

void intake_dedup(intake *in, size_t max)
{
    seen_free(in->recent);
    in->recent = max ? seen_new(max) : NULL;
}

int intake_open_dead_letter(intake *in)
{
    if (in->o->dead == NULL) return 0;
    in->dead = fopen(in->o->dead, "a");
    if (in->dead) return 0;
    fprintf(stderr, "birdfeed %s: --dead-letter %s: %s\n", in->cmd, in->o->dead, strerror(errno));
    return -1;
}

int intake_start(intake *in)
{
    static const char *const stat_fields[] = {"ingested", "rejected", "reconnects", "skipped"};
    char err[512], key[512];
    in->start_us = now_us();
    if (in->o->dry) return 0;
    pub_opts po = {
        .redis_url = in->cfg->redis_url,
        .prefix = in->cfg->prefix,
        .history = in->cfg->history,
        .backoff_max_ms = (int)in->cfg->backoff_max_ms,
        .retries = (int)in->o->retries,
        .timeout_ms = 10000,
        .stop = in->stop,
        .wait_replicas = (int)in->o->wait_replicas,
        .wait_timeout_ms = (int)in->o->wait_timeout_ms,
    };
    in->pub = pub_open(&po, err, sizeof err);
    if (in->pub == NULL) {
        fprintf(stderr, "birdfeed %s: %s\n", in->cmd, err);
        return -1;
    }
    statpub_key(key, sizeof key, in->cfg->prefix, BUS_KEY_METRICS_INGEST, in->cfg->node);
    in->stats = statpub_start(in->cfg->redis_url, key, stat_fields, ARRAY_LEN(stat_fields), NULL, NULL);
    return 0;
}

size_t intake_source(intake *in, const char *name)
{
    if (in->nnames >= MAX_SOURCES) return MAX_SOURCES - 1;
    in->names = xrealloc(in->names, (in->nnames + 1) * sizeof *in->names);
    in->names[in->nnames] = xstrdup(name);
    return in->nnames++;
}

void intake_clear_progress(intake *in)
{
    if (in->progress && in->last_progress_us) fputs("\r\033[K", stderr);
}

static void show_progress(intake *in)
{
    if (!in->progress) return;
    uint64_t now = now_us();
    if (now - in->last_progress_us < 250000) return;
    in->last_progress_us = now;
    double secs = (double)(now - in->start_us) / 1e6;
    fprintf(stderr, "\r\033[Kingested %llu, skipped %llu, rejected %llu, %.0f/s", in->ingested, in->skipped,
            in->rejected, secs > 0 ? (double)in->ingested / secs : 0.0);
}

/* This process's totals for GET /api/metrics (fcgi/metrics.c reads these
 * fields from <prefix>metrics:ingest:<node>:<pid>). */
static void report_stats(intake *in)
{
    unsigned long reconnects = 0, recovered = 0;
    if (in->stats == NULL) return;
    if (in->pub) pub_stats(in->pub, &reconnects, &recovered);
    unsigned long long v[] = {in->ingested, in->rejected, reconnects, in->skipped};   /* as stat_fields */
    statpub_set(in->stats, v);
}

static void note_reject(intake *in)
{
    in->rejected++;
    report_stats(in);
    if (in->o->max_errors >= 0 && in->rejected > (unsigned long long)in->o->max_errors && !in->stop_reading) {
        intake_clear_progress(in);
        fprintf(stderr, "birdfeed %s: stopping: more than %lld lines rejected (--max-errors)\n", in->cmd,
                in->o->max_errors);
        in->stop_reading = 1;
    }
}

void intake_count_error(intake *in)
{
    note_reject(in);
}

static void dead_letter(intake *in, const char *p, size_t n, int end_line)
{
    if (in->dead == NULL) return;
    fwrite(p, 1, n, in->dead);
    if (end_line) fputc('\n', in->dead);
}

void intake_end_dead_letter(intake *in)
{
    dead_letter(in, "", 0, 1);
}

static void on_published(void *ctx, const pub_result *r)
{
    intake *in = ctx;
    const char *name = in->names[r->tag >> TAG_LINE_BITS];
    unsigned long long line = r->tag & TAG_LINE_MASK;
    switch (r->status) {
    case PUB_OK:
        in->ingested++;
        return;
    case PUB_FAILED:
        intake_clear_progress(in);
        fprintf(stderr, "%s:%llu: not published: %s\n", name, line, r->error);
        dead_letter(in, r->json, r->len, 1);
        note_reject(in);
        return;
    case PUB_UNCONFIRMED:
        intake_clear_progress(in);
        fprintf(stderr, "%s:%llu: not confirmed: %s\n", name, line, r->error);
        in->unconfirmed++;
        return;
    }
}

/* Publish everything queued and wait for its replies (keep = 0), or only
 * until at most keep tweets are in flight. */
static void collect(intake *in, size_t keep)
{
    if (in->pub == NULL || in->unreachable) return;
    if (pub_queued(in->pub) == 0 && pub_inflight(in->pub) <= keep) return;
    char err[512];
    if (pub_collect(in->pub, keep, on_published, in, err, sizeof err) < 0) {
        intake_clear_progress(in);
        fprintf(stderr, "birdfeed %s: %s\n", in->cmd, err);
        in->unreachable = 1;
        in->stop_reading = 1;
    }
    report_stats(in);
    show_progress(in);
}

void intake_flush(intake *in)
{
    collect(in, 0);
}

int intake_pending(const intake *in)
{
    return in->pub && (pub_queued(in->pub) || pub_inflight(in->pub));
}

int intake_stopped(const intake *in)
{
    return in->stop_reading;
}

/* --rate: hold the next tweet until its time; what is ready goes out
 * before we sleep. */
static void pace(intake *in)
{
    if (in->o->rate <= 0) return;
    uint64_t due = in->start_us + (uint64_t)((double)in->accepted * 1e6 / (double)in->o->rate);
    uint64_t now = now_us();
    if (due <= now + 200) return;
    /* Send what is queued; read replies only as far as needed to keep the
     * pipeline at most a batch deep, so pacing adds no round trips. */
    collect(in, (size_t)in->o->batch);
    now = now_us();
    while (due > now && !*in->stop) {
        sleep_us((long long)(due - now));
        now = now_us();
    }
}

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return 0;
    return 1;
}

void intake_reject(intake *in, size_t source, unsigned long long line, const char *why, const char *p, size_t n)
{
    intake_clear_progress(in);
    fprintf(stderr, "%s:%llu: %s\n", in->names[source], line, why);
    dead_letter(in, p, n, 1);
    note_reject(in);
}

int intake_line(intake *in, size_t source, unsigned long long line, const char *p, size_t n, tweet_info *info)
{
    tweet_info local;
    size_t len = n;
    if (info == NULL) info = &local;
    memset(info, 0, sizeof *info);
    if (len && p[len - 1] == '\r') len--;
    if (blank(p, len)) return TWEET_SKIPPED;
    buf_reset(&in->canon);
    int rc = tweet_norm_line(in->norm, p, len, (size_t)in->cfg->max_line, &in->canon, info, in->err, sizeof in->err);
    if (rc == TWEET_SKIPPED) {     /* not a post: counted, neither reported nor dead-lettered */
        in->skipped++;
        return rc;
    }
    if (rc < 0) {
        intake_reject(in, source, line, in->err, p, n);
        return -1;
    }
    if (in->recent && seen_add(in->recent, in->canon.data + info->id_off, info->id_len)) {
        in->duplicates++;          /* published lately (a replay after a reconnect) */
        return INTAKE_DUPLICATE;
    }
    pace(in);
    in->accepted++;
    if (in->o->dry) return 0;
    pub_add(in->pub, in->canon.data, in->canon.len, ((unsigned long long)source << TAG_LINE_BITS) | (line & TAG_LINE_MASK));
    if (pub_queued(in->pub) >= (size_t)in->o->batch) collect(in, (size_t)in->o->batch);
    return 0;
}

void intake_long_line(intake *in, size_t source, const lines_item *it)
{
    if (it->first) {
        intake_clear_progress(in);
        fprintf(stderr, "%s:%llu: line longer than %lld bytes\n", in->names[source], it->lineno, in->cfg->max_line);
        note_reject(in);
    }
    dead_letter(in, it->p, it->n, it->last);
}

int intake_finish(intake *in, const char *extra)
{
    collect(in, 0);
    double secs = (double)(now_us() - in->start_us) / 1e6;
    if (secs <= 0) secs = 1e-6;
    intake_clear_progress(in);
    if (in->o->dry)
        fprintf(stderr, "valid %llu, skipped %llu, rejected %llu in %.2f s (%.0f/s); dry run, nothing published",
                in->accepted, in->skipped, in->rejected, secs, (double)in->accepted / secs);
    else
        fprintf(stderr, "ingested %llu, skipped %llu, rejected %llu in %.2f s (%.0f/s)", in->ingested, in->skipped,
                in->rejected, secs, (double)in->ingested / secs);
    if (in->recent) fprintf(stderr, "; %llu duplicates dropped", in->duplicates);
    fprintf(stderr, "%s%s\n", extra ? extra : "", *in->stop ? "; interrupted" : "");
    if (in->unconfirmed) fprintf(stderr, "%llu tweets not confirmed\n", in->unconfirmed);
    if (in->pub) {
        unsigned long reconnects, recovered;
        pub_stats(in->pub, &reconnects, &recovered);
        if (reconnects)
            log_info("ingest.reconnects", "reconnects=%lu found_after_lost_reply=%lu", reconnects, recovered);
    }
    int rc = in->unreachable ? CLI_EXIT_UNREACHABLE : in->rejected ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
    if (in->dead) {
        if (fclose(in->dead) != 0) {
            fprintf(stderr, "birdfeed %s: --dead-letter %s: %s\n", in->cmd, in->o->dead, strerror(errno));
            if (rc == CLI_EXIT_OK) rc = CLI_EXIT_PARTIAL;
        }
        in->dead = NULL;
    }
    return rc;
}
