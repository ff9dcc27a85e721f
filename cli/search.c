/* birdfeed search — search the archive from the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "store.h"
#include "util.h"

static const char search_help[] =
    "Search the archive, newest first. -q takes the query language of /stream?q= (README,\n"
    "\"Query language\"): phrases separated by commas, a tweet matching when every word of\n"
    "one phrase is among the words of its text, hashtags, mentions or author; case never\n"
    "matters, a word without accents also finds it with them, #word and @word ask for the\n"
    "hashtag or mention. Without -q, the newest tweets. Prints '<stream id>  @author  text'\n"
    "lines (control characters shown as spaces) and, when more results exist, the --before\n"
    "value for the next page on stderr; --json prints {\"tweets\":[…],\"next\":\"<id>\"|null}\n"
    "like GET /api/tweets.\n\n"
    "Exit status: 0 ok, 2 usage error, 3 the archive unreachable or its schema not current.";

struct search_opts {
    const char *q;
    const char *before;
    long long limit;
    int json;
};

static const struct search_opts search_defaults = {.limit = STORE_LIMIT_DEFAULT};

static const cli_option search_options[] = {
    CLI_OPT_TEXT("q", 'q', "QUERY", struct search_opts, q, 0, 0, "phrases separated by commas, each phrase's words all present"),
    CLI_OPT_TEXT("before", 0, "ID", struct search_opts, before, 0, 0,
                 "only tweets older than this stream id (the previous page's next)"),
    CLI_OPT_INT("limit", 0, "N", struct search_opts, limit, 1, STORE_LIMIT_MAX,
                "results per page (default 20, at most 500)"),
    CLI_OPT_FLAG("json", 0, struct search_opts, json, "print the JSON answer of GET /api/tweets"),
    CLI_OPT_END,
};

/* s for a terminal: each control character (C0, DEL, and C1 — U+0080..U+009F,
 * which some terminals obey as ESC sequences) a space, so a tweet can neither
 * break the line nor send the terminal commands. */
static void put_plain(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            putchar(' ');
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            putchar(' ');
            p++;
        } else {
            putchar(*p);
        }
    }
}

/* "<stream id>  @author  text" for people; the text on one line. */
static void print_line(const char *id, const char *json)
{
    struct json_object *o = json_tokener_parse(json), *v, *user;
    const char *author = "", *text = "";
    if (o && json_object_object_get_ex(o, "user", &user) && json_object_object_get_ex(user, "screen_name", &v))
        author = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "text", &v)) text = json_object_get_string(v);
    printf("%s  @", id);
    put_plain(author);
    fputs("  ", stdout);
    put_plain(text);
    putchar('\n');
    json_object_put(o);
}

/* The query the options describe. 0 ok, -1 after printing why. */
static int make_query(const struct search_opts *o, store_query *q)
{
    char err[1024];
    *q = (store_query){.q = o->q, .limit = (int)o->limit};
    if (o->before && bus_id_parse(o->before, strlen(o->before), &q->before) < 0) {
        fprintf(stderr, "birdfeed search: --before %s: not a stream id (<ms>-<seq>)\n", o->before);
        return -1;
    }
    q->has_before = o->before != NULL;
    if (store_query_check(q, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed search: %s\n", err);
        return -1;
    }
    return 0;
}

static int search_run(void *opts, config *cfg, int argc, char **argv)
{
    const struct search_opts *o = opts;
    char err[1024];
    store *s = NULL;
    store_result res = {0};
    store_query q;
    buf out = BUF_INIT;
    int rc = CLI_EXIT_USAGE;

    (void)argc;
    (void)argv;
    if (make_query(o, &q) < 0) goto done;
    if (cfg->db_url == NULL) {
        fprintf(stderr, "birdfeed search: no archive: give --db sqlite:PATH or postgres://… (or BIRDFEED_DB)\n");
        goto done;
    }
    rc = CLI_EXIT_UNREACHABLE;
    s = store_open(cfg->db_url, err, sizeof err);
    if (s == NULL || store_check(s, err, sizeof err) < 0 || store_search(s, &q, &res, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed search: %s\n", err);
        goto done;
    }
    if (o->json) {
        store_result_json(&res, &out);
        puts(out.data);
    } else {
        for (size_t i = 0; i < res.n; i++) print_line(res.ids[i], res.jsons[i]);
        if (res.has_next) fprintf(stderr, "more: --before %s\n", res.next);
    }
    rc = CLI_EXIT_OK;
done:
    buf_free(&out);
    store_result_free(&res);
    store_close(s);
    return rc;
}

const cli_command cli_cmd_search = {
    .name = "search", .summary = "search the archive", .max_operands = 0,
    .synopsis = "[--db URL] [-q QUERY] [--before ID] [--limit N] [--json]", .description = search_help,
    CLI_OPTIONS(struct search_opts, search_options, &search_defaults), .run = search_run,
};
