/* birdfeed ingest — read tweets (one JSON object a line) from files or stdin,
 * normalise them and publish them into Redis (lib/pub.h), pipelined. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "bus.h"
#include "cli.h"
#include "lines.h"
#include "log.h"
#include "pub.h"
#include "statpub.h"
#include "tweet.h"
#include "util.h"

static const char ingest_help[] =
    "Read posts, one JSON object a line (Twitter API v1.1 or v2, Bluesky Jetstream events,\n"
    "Mastodon statuses or streaming events, or birdfeed's canonical form; the format is\n"
    "told line by line by its shape), from each FILE in turn or from standard input (no\n"
    "FILE, or '-'), normalise them and publish each into Redis: added to the stream\n"
    "<prefix>tweets (trimmed to about --history entries) and announced on <prefix>live, in\n"
    "one atomic step, pipelined. Lines that are valid but not posts (deletes, likes,\n"
    "follows, identity events, notices) are skipped and counted, nothing more. Rejected\n"
    "lines are reported as FILE:LINE: reason. A tweet read from a slow pipe is\n"
    "published at once. Progress goes to stderr when it is a terminal, and one summary\n"
    "line at the end. Ctrl-C or SIGTERM stops reading, publishes what was taken in, says\n"
    "where it stopped, prints the summary and exits.\n\n"
    "If Redis goes away, ingest reconnects with backoff and, for tweets whose replies were\n"
    "lost, looks them up in the stream before sending them again: every line read is\n"
    "either published once or reported.\n\n"
    "While it runs, its totals (ingested, rejected, reconnects) are written every 2 s to\n"
    "the Redis hash <prefix>metrics:ingest:<host>:<pid>, for GET /api/metrics.\n\n"
    "Exit status: 0 all ingested (or skipped), 1 some lines rejected, 2 usage error,\n"
    "3 Redis unreachable (after --retries attempts) or unusable.";

#define READ_CHUNK (1u << 20)
#define TAG_LINE_BITS 44
#define TAG_LINE_MASK ((1ull << TAG_LINE_BITS) - 1)
#define MAX_FILES (1u << 19)

struct ingest_opts {
    long long batch;
    long long rate;        /* tweets per second, 0: as fast as possible */
    const char *dead;      /* dead-letter file */
    long long max_errors;  /* -1: no limit */
    int dry;
    long long retries;
};

static const struct ingest_opts ingest_defaults = {
    .batch = 512, .rate = 0, .dead = NULL, .max_errors = -1, .dry = 0, .retries = 10,
};

static const cli_option ingest_options[] = {
    CLI_OPT_INT("batch", 0, "N", struct ingest_opts, batch, 1, 100000, "tweets per pipelined batch (default 512)"),
    CLI_OPT_INT("rate", 0, "N", struct ingest_opts, rate, 0, 100000000,
                "publish at most N tweets per second (replay in real time)"),
    CLI_OPT_RETRIES(struct ingest_opts, retries),
    CLI_OPT_TEXT("dead-letter", 0, "FILE", struct ingest_opts, dead, 1, 0, "append rejected lines to FILE, verbatim"),
    CLI_OPT_INT("max-errors", 0, "N", struct ingest_opts, max_errors, 0, 1000000000000LL,
                "stop reading once more than N lines were rejected"),
    CLI_OPT_FLAG("dry-run", 0, struct ingest_opts, dry, "validate and normalise only; do not connect to Redis"),
    CLI_OPT_END,
};

struct ingest {
    const struct ingest_opts *o;
    const config *cfg;
    pub *pub;
    statpub *stats;        /* figures for GET /api/metrics */
    FILE *dead;
    const char *const *paths;  /* the inputs ("-" for stdin) */
    char **names;          /* display names of the inputs ("stdin" for -) */
    size_t nnames;
    unsigned long long ingested, rejected, unconfirmed;
    unsigned long long skipped;    /* valid lines that are not posts (deletes, likes, …) */
    tweet_norm *norm;              /* keeps Jetstream's handles across lines */
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

static void clear_progress(struct ingest *in)
{
    if (in->progress && in->last_progress_us) fputs("\r\033[K", stderr);
}

static void show_progress(struct ingest *in, int force)
{
    if (!in->progress) return;
    uint64_t now = now_us();
    if (!force && now - in->last_progress_us < 250000) return;
    in->last_progress_us = now;
    double secs = (double)(now - in->start_us) / 1e6;
    fprintf(stderr, "\r\033[Kingested %llu, skipped %llu, rejected %llu, %.0f/s", in->ingested, in->skipped, in->rejected,
            secs > 0 ? (double)in->ingested / secs : 0.0);
}

/* This process's totals for GET /api/metrics (fcgi/metrics.c reads these
 * fields from <prefix>metrics:ingest:<host>:<pid>). */
static void report_stats(struct ingest *in)
{
    unsigned long reconnects = 0, recovered = 0;
    if (in->stats == NULL) return;
    if (in->pub) pub_stats(in->pub, &reconnects, &recovered);
    unsigned long long v[] = {in->ingested, in->rejected, reconnects};
    statpub_set(in->stats, v);
}

static void note_reject(struct ingest *in)
{
    in->rejected++;
    report_stats(in);
    if (in->o->max_errors >= 0 && in->rejected > (unsigned long long)in->o->max_errors && !in->stop_reading) {
        clear_progress(in);
        fprintf(stderr, "birdfeed ingest: stopping: more than %lld lines rejected (--max-errors)\n", in->o->max_errors);
        in->stop_reading = 1;
    }
}

static void dead_letter(struct ingest *in, const char *p, size_t n, int end_line)
{
    if (in->dead == NULL) return;
    fwrite(p, 1, n, in->dead);
    if (end_line) fputc('\n', in->dead);
}

static void on_published(void *ctx, const pub_result *r)
{
    struct ingest *in = ctx;
    const char *name = in->names[r->tag >> TAG_LINE_BITS];
    unsigned long long line = r->tag & TAG_LINE_MASK;
    switch (r->status) {
    case PUB_OK:
        in->ingested++;
        return;
    case PUB_FAILED:
        clear_progress(in);
        fprintf(stderr, "%s:%llu: not published: %s\n", name, line, r->error);
        dead_letter(in, r->json, r->len, 1);
        note_reject(in);
        return;
    case PUB_UNCONFIRMED:
        clear_progress(in);
        fprintf(stderr, "%s:%llu: not confirmed (it may or may not be in the stream): %s\n", name, line, r->error);
        in->unconfirmed++;
        return;
    }
}

/* Publish everything queued and wait for its replies (keep = 0), or only
 * until at most keep tweets are in flight. */
static void collect(struct ingest *in, size_t keep)
{
    if (in->pub == NULL || in->unreachable) return;
    if (pub_queued(in->pub) == 0 && pub_inflight(in->pub) <= keep) return;
    char err[512];
    if (pub_collect(in->pub, keep, on_published, in, err, sizeof err) < 0) {
        clear_progress(in);
        fprintf(stderr, "birdfeed ingest: %s\n", err);
        in->unreachable = 1;
        in->stop_reading = 1;
    }
    report_stats(in);
    show_progress(in, 0);
}

/* --rate: hold the next tweet until its time; what is ready goes out
 * before we sleep. */
static void pace(struct ingest *in)
{
    if (in->o->rate <= 0) return;
    uint64_t due = in->start_us + (uint64_t)((double)in->accepted * 1e6 / (double)in->o->rate);
    uint64_t now = now_us();
    if (due <= now + 200) return;
    /* Send what is queued; read replies only as far as needed to keep the
     * pipeline at most a batch deep, so pacing adds no round trips. */
    collect(in, (size_t)in->o->batch);
    now = now_us();
    while (due > now && !interrupted) {
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

static void one_line(struct ingest *in, size_t file, unsigned long long line, const char *p, size_t n)
{
    size_t len = n;
    if (len && p[len - 1] == '\r') len--;
    if (blank(p, len)) return;
    buf_reset(&in->canon);
    int rc = tweet_norm_line(in->norm, p, len, (size_t)in->cfg->max_line, &in->canon, NULL, in->err, sizeof in->err);
    if (rc == TWEET_SKIPPED) {     /* not a post: counted, neither reported nor dead-lettered */
        in->skipped++;
        return;
    }
    if (rc < 0) {
        clear_progress(in);
        fprintf(stderr, "%s:%llu: %s\n", in->names[file], line, in->err);
        dead_letter(in, p, n, 1);
        note_reject(in);
        return;
    }
    pace(in);
    in->accepted++;
    if (in->o->dry) return;
    pub_add(in->pub, in->canon.data, in->canon.len, ((unsigned long long)file << TAG_LINE_BITS) | line);
    if (pub_queued(in->pub) >= (size_t)in->o->batch) collect(in, (size_t)in->o->batch);
}

static void long_line(struct ingest *in, size_t file, const lines_item *it)
{
    if (it->first) {
        clear_progress(in);
        fprintf(stderr, "%s:%llu: line longer than %lld bytes\n", in->names[file], it->lineno, in->cfg->max_line);
        note_reject(in);
    }
    dead_letter(in, it->p, it->n, it->last);
}

/* Read one input to its end (or until told to stop), line by line. */
static int ingest_fd(struct ingest *in, int fd, size_t file, lines *lr)
{
    lines_item it;
    lines_init(lr, (size_t)in->cfg->max_line, READ_CHUNK);
    while (!in->stop_reading) {
        if (interrupted) {
            /* Stop at once; say where, so the rest can be ingested later. */
            clear_progress(in);
            fprintf(stderr, "birdfeed ingest: interrupted: %s ingested up to line %llu", in->names[file], lr->lineno);
            if (lr->end > lr->start || lr->skipping)
                fprintf(stderr, "; %zu bytes read after it were not ingested", lr->end - lr->start);
            fputc('\n', stderr);
            if (lr->skipping) dead_letter(in, "", 0, 1);
            break;
        }
        enum lines_kind k = lines_next(lr, &it);
        if (k == LINES_END) break;
        if (k == LINES_LINE) {
            one_line(in, file, it.lineno, it.p, it.n);
            continue;
        }
        if (k == LINES_LONG) {
            long_line(in, file, &it);
            continue;
        }
        /* LINES_AGAIN: if input would block, publish what we have first. */
        if (in->pub && (pub_queued(in->pub) || pub_inflight(in->pub))) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, 0) == 0) collect(in, 0);
            if (in->stop_reading) break;
        }
        size_t room;
        char *p = lines_space(lr, &room);
        ssize_t got = read(fd, p, room > READ_CHUNK ? READ_CHUNK : room);
        if (got < 0) {
            if (errno == EINTR) continue;
            clear_progress(in);
            fprintf(stderr, "birdfeed ingest: %s: read error: %s\n", in->names[file], strerror(errno));
            lines_free(lr);
            return -1;
        }
        if (got == 0) lines_eof(lr);
        else lines_commit(lr, (size_t)got);
    }
    lines_free(lr);
    return 0;
}

/* Check the inputs exist and are files before anything is published; name
 * them for messages. 0 ok, -1 after printing why. */
static int open_inputs(struct ingest *in, int argc, char **argv)
{
    static const char *const stdin_only[] = {"-"};
    int rc = 0;
    in->nnames = argc > 0 ? (size_t)argc : 1;
    if (in->nnames > MAX_FILES) {
        fprintf(stderr, "birdfeed ingest: too many files (at most %u)\n", MAX_FILES);
        return -1;
    }
    in->paths = argc > 0 ? (const char *const *)argv : stdin_only;
    in->names = xcalloc(in->nnames, sizeof *in->names);
    for (size_t i = 0; i < in->nnames; i++) {
        const char *f = argc > 0 ? argv[i] : "-";
        struct stat st;
        in->names[i] = xstrdup(strcmp(f, "-") == 0 ? "stdin" : f);
        if (strcmp(f, "-") == 0) continue;
        if (access(f, R_OK) < 0 || stat(f, &st) < 0) {
            fprintf(stderr, "birdfeed ingest: %s: %s\n", f, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "birdfeed ingest: %s: is a directory\n", f);
            rc = -1;
        }
    }
    if (rc == 0 && in->o->dead) {
        in->dead = fopen(in->o->dead, "a");
        if (in->dead == NULL) {
            fprintf(stderr, "birdfeed ingest: --dead-letter %s: %s\n", in->o->dead, strerror(errno));
            rc = -1;
        }
    }
    return rc;
}

/* Connect the publisher and the metrics hash. 0 ok, -1 after printing why. */
static int start_publishing(struct ingest *in)
{
    static const char *const stat_fields[] = {"ingested", "rejected", "reconnects"};
    char err[512], key[512];
    pub_opts po = {
        .redis_url = in->cfg->redis_url,
        .prefix = in->cfg->prefix,
        .history = in->cfg->history,
        .backoff_max_ms = (int)in->cfg->backoff_max_ms,
        .retries = (int)in->o->retries,
        .timeout_ms = 10000,
        .stop = &interrupted,
    };
    in->pub = pub_open(&po, err, sizeof err);
    if (in->pub == NULL) {
        fprintf(stderr, "birdfeed ingest: %s\n", err);
        return -1;
    }
    statpub_key(key, sizeof key, in->cfg->prefix, BUS_KEY_METRICS_INGEST);
    in->stats = statpub_start(in->cfg->redis_url, key, stat_fields, ARRAY_LEN(stat_fields), NULL, NULL);
    return 0;
}

/* Every input in turn, until the end or told to stop. */
static void read_inputs(struct ingest *in)
{
    lines lr;
    for (size_t i = 0; i < in->nnames && !in->stop_reading && !interrupted; i++) {
        const char *path = in->paths[i];
        int fd = 0;
        if (strcmp(path, "-") != 0) {
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                clear_progress(in);
                fprintf(stderr, "birdfeed ingest: %s: %s\n", path, strerror(errno));
                note_reject(in);
                continue;
            }
        }
        if (ingest_fd(in, fd, i, &lr) < 0) note_reject(in);
        if (fd != 0) close(fd);
    }
    collect(in, 0);
}

/* The summary line on stderr; returns the exit code. */
static int summarise(struct ingest *in)
{
    double secs = (double)(now_us() - in->start_us) / 1e6;
    if (secs <= 0) secs = 1e-6;
    clear_progress(in);
    if (in->o->dry)
        fprintf(stderr, "valid %llu, skipped %llu, rejected %llu in %.2f s (%.0f/s); dry run, nothing published\n",
                in->accepted, in->skipped, in->rejected, secs, (double)in->accepted / secs);
    else
        fprintf(stderr, "ingested %llu, skipped %llu, rejected %llu in %.2f s (%.0f/s)%s\n", in->ingested,
                in->skipped, in->rejected, secs, (double)in->ingested / secs, interrupted ? "; interrupted" : "");
    if (in->unconfirmed) fprintf(stderr, "%llu tweets not confirmed (Redis unreachable)\n", in->unconfirmed);
    if (in->pub) {
        unsigned long reconnects, recovered;
        pub_stats(in->pub, &reconnects, &recovered);
        if (reconnects)
            log_info("ingest.reconnects", "reconnects=%lu found_after_lost_reply=%lu", reconnects, recovered);
    }
    return in->unreachable ? CLI_EXIT_UNREACHABLE : in->rejected ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}

static int ingest_run(void *opts, config *cfg, int argc, char **argv)
{
    struct ingest in = {.o = opts, .cfg = cfg};
    int rc;

    if (open_inputs(&in, argc, argv) < 0) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;     /* no SA_RESTART: a blocked read returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!in.o->dry && start_publishing(&in) < 0) {
        rc = CLI_EXIT_UNREACHABLE;
        goto out;
    }
    in.norm = tweet_norm_new(TWEET_HANDLES_DEFAULT);
    in.progress = isatty(2);
    in.start_us = now_us();
    read_inputs(&in);
    rc = summarise(&in);
out:
    if (in.dead && fclose(in.dead) != 0) {
        fprintf(stderr, "birdfeed ingest: --dead-letter %s: %s\n", in.o->dead, strerror(errno));
        if (rc == CLI_EXIT_OK) rc = CLI_EXIT_PARTIAL;
    }
    statpub_stop(in.stats);
    pub_free(in.pub);
    for (size_t i = 0; in.names && i < in.nnames; i++) free(in.names[i]);
    free(in.names);
    buf_free(&in.canon);
    tweet_norm_free(in.norm);
    return rc;
}

const cli_command cli_cmd_ingest = {
    .name = "ingest", .summary = "publish tweets (NDJSON files or stdin) into Redis", .max_operands = -1,
    .synopsis = "[options] [FILE…]", .description = ingest_help,
    CLI_OPTIONS(struct ingest_opts, ingest_options, &ingest_defaults), .run = ingest_run,
};
