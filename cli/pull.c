/* birdfeed pull — read a remote source of posts and ingest it as `birdfeed
 * ingest` does (cli/intake.h: same normalising, batching, pacing, dead
 * letters, exit codes), reconnecting with backoff when it closes or stalls.
 *
 * Sources (cli/source.h): Server-Sent Events (a Mastodon streaming URL,
 * another birdfeed's /stream), NDJSON over HTTP(S), Bluesky Jetstream over
 * WebSocket. What a reconnect can promise differs: Jetstream resumes from
 * `cursor=` the last time_us read (it replays from there: the posts seen
 * twice are dropped by id); an SSE stream whose events carry ids resumes
 * with Last-Event-ID; a Mastodon stream and plain NDJSON cannot resume:
 * each reconnect is a gap, counted and said. A post is never published
 * twice: the ids of the last --dedup posts are remembered. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "buf.h"
#include "cli.h"
#include "intake.h"
#include "log.h"
#include "secretfile.h"
#include "source.h"
#include "util.h"

static const char pull_help[] =
    "Read posts from URL and publish them into Redis as `birdfeed ingest` does (same\n"
    "normalising, batching, --rate, --dead-letter, --max-errors, summary and exit codes).\n"
    "URL is one of:\n"
    "  http(s)://…   Server-Sent Events (Content-Type text/event-stream: a Mastodon\n"
    "                /api/v1/streaming/… URL, whose `update` events carry statuses and\n"
    "                `delete`/`status.update` are skipped; or any SSE stream of JSON\n"
    "                posts), else NDJSON, one post a line;\n"
    "  ws(s)://…     Bluesky Jetstream (…/subscribe?wantedCollections=app.bsky.feed.post).\n"
    "When the source closes, fails or stalls (nothing, not even a heartbeat, for\n"
    "--stall-ms), pull reconnects after a backoff with jitter. Jetstream resumes with\n"
    "cursor= the last time_us read (posts it sends again are dropped by id); an SSE stream\n"
    "with event ids resumes with Last-Event-ID; a Mastodon stream or NDJSON cannot resume,\n"
    "so each reconnect leaves a gap, which is counted and reported. No post is published\n"
    "twice: the ids of the last --dedup posts are remembered. Rejected records are\n"
    "reported as SOURCE:N: reason (N counts records from the start). SIGINT or SIGTERM\n"
    "stops: what was read is published, the summary printed.\n\n"
    "--bearer-file sends its contents as `Authorization: Bearer`; the token is never\n"
    "printed or logged. --cacert names the CA certificates for https:// and wss://.\n\n"
    "Exit status: 0 all ingested (or skipped), 1 some records rejected, 2 usage error,\n"
    "3 Redis or the source unreachable (after --retries attempts in a row), or the source\n"
    "refused (HTTP 4xx).";

struct pull_opts {
    intake_opts in;
    const char *cacert;
    const char *bearer_file;
    long long stall_ms;
    long long dedup;
    int once;
};

static const struct pull_opts pull_defaults = {.in = INTAKE_DEFAULTS, .stall_ms = 60000, .dedup = 100000};

static const cli_option pull_options[] = {
    INTAKE_OPTION_ROWS(struct pull_opts, in),
    CLI_OPT_TEXT("cacert", 0, "FILE", struct pull_opts, cacert, 1, 0, "CA certificates for https:// and wss://"),
    CLI_OPT_TEXT("bearer-file", 0, "FILE", struct pull_opts, bearer_file, 1, 0,
                 "send the token in FILE as Authorization: Bearer (never printed)"),
    CLI_OPT_INT("stall-ms", 0, "MS", struct pull_opts, stall_ms, 100, 86400000,
                "reconnect when nothing arrives for MS (default 60000)"),
    CLI_OPT_INT("dedup", 0, "N", struct pull_opts, dedup, 1, 10000000,
                "remember the ids of the last N posts, to publish none twice (default 100000)"),
    CLI_OPT_FLAG("once", 0, struct pull_opts, once, "stop when the source ends its answer (no reconnect)"),
    CLI_OPT_END,
};

enum transport { T_HTTP, T_WS };

struct pull {
    const struct pull_opts *o;
    const config *cfg;
    intake *in;
    enum transport transport;
    char *name;                   /* the URL for messages: no credentials, no query */
    unsigned long long records;   /* records read, all connections */
    uint64_t cursor;              /* Jetstream: the last time_us read */
    unsigned long reconnects, gaps;
    char *last_event_id;          /* SSE: resume after it (whole, owned; NULL: none yet) */
    buf wrap, url;
};

/* Set by SIGINT/SIGTERM (intake_catch_signals). */
static volatile sig_atomic_t *stop_flag;

/* Mastodon's streaming event types: their data is wrapped as Mastodon's
 * WebSocket form, {"event":…,"payload":…}, which the normaliser reads. */
static int mastodon_event(const char *e)
{
    static const char *const names[] = {"update", "delete", "status.update", "notification", "conversation",
                                        "filters_changed", "announcement", "announcement.reaction",
                                        "announcement.delete", "encrypted_message", "notifications_merged"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (strcmp(e, names[i]) == 0) return 1;
    return 0;
}

static int on_record(void *ctx, const char *event, const char *p, size_t n)
{
    struct pull *pl = ctx;
    tweet_info info;
    pl->records++;
    if (event && mastodon_event(event)) {
        buf_reset(&pl->wrap);
        buf_appends(&pl->wrap, "{\"event\":");
        buf_append_json_str(&pl->wrap, event, strlen(event));
        buf_appends(&pl->wrap, ",\"payload\":");
        buf_append_json_str(&pl->wrap, p, n);
        buf_appendc(&pl->wrap, '}');
        p = pl->wrap.data;
        n = pl->wrap.len;
    }
    intake_line(pl->in, 0, pl->records, p, n, &info);
    if (info.time_us > pl->cursor) pl->cursor = info.time_us;
    return intake_stopped(pl->in) ? -1 : 0;
}

static void on_refused(void *ctx, const char *why)
{
    struct pull *pl = ctx;
    intake_reject(pl->in, 0, ++pl->records, why, "", 0);
}

static void on_idle(void *ctx)
{
    struct pull *pl = ctx;
    if (intake_pending(pl->in)) intake_flush(pl->in);
}

/* The URL for the next connection: Jetstream's with cursor= the last
 * time_us read (replacing one the URL had). */
static const char *next_url(struct pull *pl, const char *url)
{
    if (pl->transport != T_WS || pl->cursor == 0) return url;
    buf_reset(&pl->url);
    const char *q = strchr(url, '?');
    buf_append(&pl->url, url, q ? (size_t)(q - url) : strlen(url));
    char sep = '?';
    for (const char *s = q ? q + 1 : NULL; s && *s;) {
        size_t len = strcspn(s, "&");
        if (!(len >= 7 && strncmp(s, "cursor=", 7) == 0)) {
            buf_appendc(&pl->url, sep);
            buf_append(&pl->url, s, len);
            sep = '&';
        }
        s += len + (s[len] == '&');
    }
    buf_printf(&pl->url, "%ccursor=%llu", sep, (unsigned long long)pl->cursor);
    return pl->url.data;
}

static const char *end_name(source_end e)
{
    switch (e) {
    case SOURCE_CLOSED: return "the source ended the connection";
    case SOURCE_STALLED: return "the connection stalled";
    default: return "the connection failed";
    }
}

/* Connect, read, reconnect, until stopped or the source is given up on.
 * Returns the exit code so far (0, or 3). */
static int pull_loop(struct pull *pl, const char *url, const source_opts *so)
{
    source_sink sink = {on_record, on_refused, on_idle, pl};
    source_result r;
    source_opts opts = *so;
    backoff b;
    long long failures = 0;

    backoff_init(&b, 250, (int)pl->cfg->backoff_max_ms);
    while (!*stop_flag && !intake_stopped(pl->in)) {
        const char *u = next_url(pl, url);
        opts.last_event_id = pl->last_event_id;
        if (pl->transport == T_WS) source_ws_once(&opts, u, &sink, &r);
        else source_http_once(&opts, u, &sink, &r);
        if (r.last_event_id) {
            free(pl->last_event_id);
            pl->last_event_id = r.last_event_id;
        }
        if (r.end == SOURCE_STOPPED) break;
        intake_clear_progress(pl->in);
        if (r.end == SOURCE_REFUSED) {
            fprintf(stderr, "birdfeed pull: %s: %s\n", pl->name, r.err);
            return CLI_EXIT_UNREACHABLE;
        }
        if (r.end == SOURCE_CLOSED && pl->o->once) break;
        if (r.received) {
            failures = 0;
            backoff_reset(&b);
        } else if (++failures > pl->o->in.retries) {
            fprintf(stderr, "birdfeed pull: %s: unreachable after %lld attempts: %s\n", pl->name, failures, r.err);
            return CLI_EXIT_UNREACHABLE;
        }
        int wait = backoff_next(&b);
        if (r.received || pl->reconnects) {
            pl->reconnects++;
            if (pl->transport == T_WS)
                fprintf(stderr, "birdfeed pull: %s: %s%s%s; reconnecting in %d ms, resuming at cursor %llu\n",
                        pl->name, end_name(r.end), r.err[0] ? ": " : "", r.err, wait, (unsigned long long)pl->cursor);
            else if (pl->last_event_id)   /* (a long id shown cut: it may be up to --max-line bytes) */
                fprintf(stderr, "birdfeed pull: %s: %s%s%s; reconnecting in %d ms, resuming after event %.80s%s\n",
                        pl->name, end_name(r.end), r.err[0] ? ": " : "", r.err, wait, pl->last_event_id,
                        strlen(pl->last_event_id) > 80 ? "…" : "");
            else {
                if (r.received) pl->gaps++;
                fprintf(stderr, "birdfeed pull: %s: %s%s%s; reconnecting in %d ms%s\n", pl->name, end_name(r.end),
                        r.err[0] ? ": " : "", r.err, wait,
                        r.received ? "; this source cannot resume: what it sends meanwhile is lost (a gap)" : "");
            }
        } else
            fprintf(stderr, "birdfeed pull: %s: %s; retrying in %d ms\n", pl->name, r.err, wait);
        log_debug("pull.reconnect", "end=%d received=%d wait_ms=%d", (int)r.end, r.received, wait);
        sleep_ms(wait);
    }
    return CLI_EXIT_OK;
}

/* scheme://host[:port]/path of url: no credentials, no query (a token may sit there). */
static char *display_name(const char *url)
{
    const char *s = strstr(url, "://"), *host = s ? s + 3 : url;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash)) host = at + 1;
    size_t end = strcspn(host, "?#");
    buf b = BUF_INIT;
    if (s) buf_append(&b, url, (size_t)(s - url) + 3);
    buf_append(&b, host, end);
    return buf_detach(&b, NULL);
}

static int read_bearer(const char *path, buf *token)
{
    char err[512];
    if (secretfile_read(path, 4096, "pull.bearer_file_readable", token, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed pull: --bearer-file %s\n", err);
        return -1;
    }
    while (token->len && (token->data[token->len - 1] == '\n' || token->data[token->len - 1] == '\r' ||
                          token->data[token->len - 1] == ' '))
        token->data[--token->len] = '\0';
    for (size_t i = 0; i < token->len; i++)
        if ((unsigned char)token->data[i] < 0x21 || token->data[i] == 0x7f) {
            fprintf(stderr, "birdfeed pull: --bearer-file %s: the token has a space or control character\n", path);
            return -1;
        }
    if (token->len == 0) {
        fprintf(stderr, "birdfeed pull: --bearer-file %s: empty\n", path);
        return -1;
    }
    return 0;
}

static int pull_run(void *opts, config *cfg, int argc, char **argv)
{
    const struct pull_opts *o = opts;
    struct pull pl = {.o = o, .cfg = cfg};
    buf token = BUF_INIT;
    const char *url = argv[0];
    int rc;

    if (argc < 1) {
        fprintf(stderr, "birdfeed pull: a URL is needed\nTry 'birdfeed pull --help'.\n");
        return CLI_EXIT_USAGE;
    }
    if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) pl.transport = T_HTTP;
    else if (strncmp(url, "ws://", 5) == 0 || strncmp(url, "wss://", 6) == 0) pl.transport = T_WS;
    else {
        fprintf(stderr, "birdfeed pull: '%s' is not an http://, https://, ws:// or wss:// URL\n", url);
        return CLI_EXIT_USAGE;
    }
    if (o->bearer_file && read_bearer(o->bearer_file, &token) < 0) {
        buf_free(&token);
        return CLI_EXIT_USAGE;
    }
    stop_flag = intake_catch_signals();
    pl.name = display_name(url);
    pl.in = intake_new("pull", &o->in, cfg, stop_flag);
    intake_dedup(pl.in, (size_t)o->dedup);
    intake_source(pl.in, pl.name);
    if (intake_open_dead_letter(pl.in) < 0) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (intake_start(pl.in) < 0) {
        rc = CLI_EXIT_UNREACHABLE;
        goto out;
    }
    source_global_init();
    source_opts so = {
        .cacert = o->cacert,
        .bearer = token.len ? token.data : NULL,
        .stall_ms = (long)o->stall_ms,
        .max_record = (size_t)cfg->max_line,
        .stop = stop_flag,
    };
    int src = pull_loop(&pl, url, &so);
    char extra[160];
    snprintf(extra, sizeof extra, "; %lu reconnects, %lu gaps", pl.reconnects, pl.gaps);
    rc = intake_finish(pl.in, extra);
    if (src != CLI_EXIT_OK && rc != CLI_EXIT_UNREACHABLE) rc = src;
out:
    intake_free(pl.in);
    explicit_bzero(token.data ? token.data : "", token.len);
    buf_free(&token);
    buf_free(&pl.wrap);
    buf_free(&pl.url);
    free(pl.name);
    free(pl.last_event_id);
    return rc;
}

const cli_command cli_cmd_pull = {
    .name = "pull", .summary = "publish posts read from a remote source (SSE, NDJSON, Jetstream) into Redis",
    .max_operands = 1,
    .synopsis = "[options] URL", .description = pull_help,
    CLI_OPTIONS(struct pull_opts, pull_options, &pull_defaults), .run = pull_run,
};
