/* birdfeed ingest — read posts (one JSON object a line) from files or stdin
 * and hand each line to the intake (cli/intake.h), which normalises and
 * publishes them into Redis, pipelined. */
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

#include "cli.h"
#include "intake.h"
#include "lines.h"

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
    "either published once or reported. With a redis+sentinel:// URL it follows a failover\n"
    "to the new master the same way: posts whose fate is unknown are looked up there by\n"
    "post id, and only the missing ones are sent again.\n\n"
    "--wait-replicas N: a post counts as ingested only once N replicas hold it (Redis WAIT\n"
    "after each batch), so a failover loses none of them. A WAIT that finds fewer replicas\n"
    "is asked again; after --wait-timeout ms without enough, ingest stops, lists the posts\n"
    "not confirmed (FILE:LINE: not confirmed: …) and exits 3.\n\n"
    "While it runs, its totals (ingested, rejected, reconnects) are written every 2 s to\n"
    "the Redis hash <prefix>metrics:ingest:<node>:<pid>, for GET /api/metrics.\n\n"
    "Exit status: 0 all ingested (or skipped), 1 some lines rejected, 2 usage error,\n"
    "3 Redis unreachable (after --retries attempts) or unusable.";

#define READ_CHUNK (1u << 20)
#define MAX_FILES (1u << 19)

struct ingest_opts {
    intake_opts in;
};

static const struct ingest_opts ingest_defaults = {.in = INTAKE_DEFAULTS};

static const cli_option ingest_options[] = {
    INTAKE_OPTION_ROWS(struct ingest_opts, in),
    CLI_OPT_END,
};

struct ingest {
    intake *in;
    const config *cfg;
    const char *const *paths;  /* the inputs ("-" for stdin) */
    size_t npaths;
};

/* Set by SIGINT/SIGTERM (intake_catch_signals). */
static volatile sig_atomic_t *stop_flag;

/* Read one input to its end (or until told to stop), line by line. */
static int ingest_fd(struct ingest *g, int fd, size_t file)
{
    lines lr;
    lines_item it;
    lines_init(&lr, (size_t)g->cfg->max_line, READ_CHUNK);
    while (!intake_stopped(g->in)) {
        if (*stop_flag) {
            /* Stop at once; say where, so the rest can be ingested later. */
            intake_clear_progress(g->in);
            fprintf(stderr, "birdfeed ingest: interrupted: %s ingested up to line %llu",
                    strcmp(g->paths[file], "-") == 0 ? "stdin" : g->paths[file], lr.lineno);
            if (lr.end > lr.start || lr.skipping)
                fprintf(stderr, "; %zu bytes read after it were not ingested", lr.end - lr.start);
            fputc('\n', stderr);
            if (lr.skipping) intake_end_dead_letter(g->in);
            break;
        }
        enum lines_kind k = lines_next(&lr, &it);
        if (k == LINES_END) break;
        if (k == LINES_LINE) {
            intake_line(g->in, file, it.lineno, it.p, it.n, NULL);
            continue;
        }
        if (k == LINES_LONG) {
            intake_long_line(g->in, file, &it);
            continue;
        }
        /* LINES_AGAIN: if input would block, publish what we have first. */
        if (intake_pending(g->in)) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, 0) == 0) intake_flush(g->in);
            if (intake_stopped(g->in)) break;
        }
        size_t room;
        char *p = lines_space(&lr, &room);
        ssize_t got = read(fd, p, room > READ_CHUNK ? READ_CHUNK : room);
        if (got < 0) {
            if (errno == EINTR) continue;
            intake_clear_progress(g->in);
            fprintf(stderr, "birdfeed ingest: %s: read error: %s\n", g->paths[file], strerror(errno));
            lines_free(&lr);
            return -1;
        }
        if (got == 0) lines_eof(&lr);
        else lines_commit(&lr, (size_t)got);
    }
    lines_free(&lr);
    return 0;
}

/* Check the inputs exist and are files before anything is published; name
 * them for messages. 0 ok, -1 after printing why. */
static int open_inputs(struct ingest *g, int argc, char **argv)
{
    static const char *const stdin_only[] = {"-"};
    int rc = 0;
    g->npaths = argc > 0 ? (size_t)argc : 1;
    if (g->npaths > MAX_FILES) {
        fprintf(stderr, "birdfeed ingest: too many files (at most %u)\n", MAX_FILES);
        return -1;
    }
    g->paths = argc > 0 ? (const char *const *)argv : stdin_only;
    for (size_t i = 0; i < g->npaths; i++) {
        const char *f = g->paths[i];
        struct stat st;
        intake_source(g->in, strcmp(f, "-") == 0 ? "stdin" : f);
        if (strcmp(f, "-") == 0) continue;
        if (access(f, R_OK) < 0 || stat(f, &st) < 0) {
            fprintf(stderr, "birdfeed ingest: %s: %s\n", f, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "birdfeed ingest: %s: is a directory\n", f);
            rc = -1;
        }
    }
    if (rc == 0) rc = intake_open_dead_letter(g->in);
    return rc;
}

/* Every input in turn, until the end or told to stop. */
static void read_inputs(struct ingest *g)
{
    for (size_t i = 0; i < g->npaths && !intake_stopped(g->in) && !*stop_flag; i++) {
        const char *path = g->paths[i];
        int fd = 0;
        if (strcmp(path, "-") != 0) {
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                intake_clear_progress(g->in);
                fprintf(stderr, "birdfeed ingest: %s: %s\n", path, strerror(errno));
                intake_count_error(g->in);
                continue;
            }
        }
        if (ingest_fd(g, fd, i) < 0) intake_count_error(g->in);
        if (fd != 0) close(fd);
    }
}

static int ingest_run(void *opts, config *cfg, int argc, char **argv)
{
    const struct ingest_opts *o = opts;
    stop_flag = intake_catch_signals();
    struct ingest g = {.in = intake_new("ingest", &o->in, cfg, stop_flag), .cfg = cfg};
    int rc;

    if (open_inputs(&g, argc, argv) < 0) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (intake_start(g.in) < 0) {
        rc = CLI_EXIT_UNREACHABLE;
        goto out;
    }
    read_inputs(&g);
    rc = intake_finish(g.in, NULL);
out:
    intake_free(g.in);
    return rc;
}

const cli_command cli_cmd_ingest = {
    .name = "ingest", .summary = "publish tweets (NDJSON files or stdin) into Redis", .max_operands = -1,
    .synopsis = "[options] [FILE…]", .description = ingest_help,
    CLI_OPTIONS(struct ingest_opts, ingest_options, &ingest_defaults), .run = ingest_run,
};
