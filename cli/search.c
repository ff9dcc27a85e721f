/* birdfeed search — search the archive from the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "store.h"
#include "util.h"

enum { OPT_BEFORE = 1, OPT_LIMIT, OPT_JSON };

struct search_opts {
    const char *q;
    const char *before;
    long long limit;
    int json;
};

static int on_option(int val, const char *arg, void *ctx)
{
    struct search_opts *o = ctx;
    const char *why;
    switch (val) {
    case 'q':
        o->q = arg;
        return 0;
    case OPT_BEFORE:
        o->before = arg;
        return 0;
    case OPT_LIMIT:
        if (parse_ll(arg, 1, STORE_LIMIT_MAX, &o->limit, &why) < 0) {
            fprintf(stderr, "birdfeed search: --limit %s: %s (1 to %d)\n", arg, why, STORE_LIMIT_MAX);
            return -1;
        }
        return 0;
    case OPT_JSON:
        o->json = 1;
        return 0;
    }
    return -1;
}

/* "<stream id>  @author  text" for people; the text on one line. */
static void print_line(const char *id, const char *json)
{
    struct json_object *o = json_tokener_parse(json), *v, *user;
    const char *author = "", *text = "";
    if (o && json_object_object_get_ex(o, "user", &user) && json_object_object_get_ex(user, "screen_name", &v))
        author = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "text", &v)) text = json_object_get_string(v);
    printf("%s  @%s  ", id, author);
    for (const char *p = text; *p; p++) putchar(*p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
    putchar('\n');
    json_object_put(o);
}

int cmd_search(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"q", required_argument, NULL, 'q'},
        {"before", required_argument, NULL, OPT_BEFORE},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"json", no_argument, NULL, OPT_JSON},
        {0, 0, 0, 0},
    };
    struct search_opts o = {NULL, NULL, STORE_LIMIT_DEFAULT, 0};
    const cli_spec spec = {
        .name = "search",
        .synopsis = "[--db URL] [-q WORDS] [--before ID] [--limit N] [--json]",
        .description =
            "Search the archive, newest first. Every word of -q must occur in the tweet's text,\n"
            "hashtags, mentions or author (case-insensitive; punctuation and search syntax are\n"
            "ignored). Without -q, the newest tweets. Prints '<stream id>  @author  text' lines and,\n"
            "when more results exist, the --before value for the next page on stderr; --json prints\n"
            "{\"tweets\":[…],\"next\":\"<id>\"|null} like GET /api/tweets.",
        .options_help = "  -q, --q WORDS              words that must all occur\n"
                        "  --before ID                only tweets older than this stream id (the previous page's next)\n"
                        "  --limit N                  results per page (default 20, at most 500)\n"
                        "  --json                     print the JSON answer of GET /api/tweets\n",
        .shortopts = "q:",
        .longopts = longopts,
        .on_option = on_option,
        .ctx = &o,
    };
    config cfg;
    char err[1024];
    store *s = NULL;
    store_result res = {0};
    buf out = BUF_INIT;
    int rc = cli_parse(&spec, argc, argv, &cfg);

    if (rc == -100) { rc = 0; goto done; }
    if (rc < 0) { rc = -rc; goto done; }
    if (rc < argc) {
        fprintf(stderr, "birdfeed search: unexpected argument '%s' (words go in -q \"…\")\n", argv[rc]);
        rc = EXIT_USAGE;
        goto done;
    }
    store_query q = {.q = o.q, .limit = (int)o.limit};
    if (o.before && bus_id_parse(o.before, strlen(o.before), &q.before) < 0) {
        fprintf(stderr, "birdfeed search: --before %s: not a stream id (<ms>-<seq>)\n", o.before);
        rc = EXIT_USAGE;
        goto done;
    }
    q.has_before = o.before != NULL;
    if (store_query_check(&q, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed search: %s\n", err);
        rc = EXIT_USAGE;
        goto done;
    }
    if (cfg.db_url == NULL) {
        fprintf(stderr, "birdfeed search: no archive: give --db sqlite:PATH or postgres://… (or BIRDFEED_DB)\n");
        rc = EXIT_USAGE;
        goto done;
    }
    s = store_open(cfg.db_url, err, sizeof err);
    if (s == NULL || store_check(s, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed search: %s\n", err);
        rc = EXIT_UNREACHABLE;
        goto done;
    }
    if (store_search(s, &q, &res, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed search: %s\n", err);
        rc = EXIT_UNREACHABLE;
        goto done;
    }
    if (o.json) {
        store_result_json(&res, &out);
        puts(out.data);
    } else {
        for (size_t i = 0; i < res.n; i++) print_line(res.ids[i], res.jsons[i]);
        if (res.has_next) fprintf(stderr, "more: --before %s\n", res.next);
    }
    rc = 0;
done:
    buf_free(&out);
    store_result_free(&res);
    store_close(s);
    config_free(&cfg);
    return rc;
}
