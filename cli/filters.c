/* birdfeed filters — list, add, show, update and remove saved filters
 * (the same validation and store as the REST API: lib/filter, lib/filterdb). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cli.h"
#include "filter.h"
#include "filterdb.h"
#include "util.h"

enum { OPT_JSON = 1, OPT_NAME, OPT_TRACK, OPT_LANG, OPT_ANY_LANG, OPT_FILE, OPT_IF_VERSION };

struct opts {
    int json;
    const char *name;
    const char **track;
    size_t ntrack;
    const char **lang;
    size_t nlang;
    int any_lang;
    const char *file;
    long long if_version;
};

static const struct option longopts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"name", required_argument, NULL, OPT_NAME},
    {"track", required_argument, NULL, OPT_TRACK},
    {"lang", required_argument, NULL, OPT_LANG},
    {"any-lang", no_argument, NULL, OPT_ANY_LANG},
    {"file", required_argument, NULL, OPT_FILE},
    {"if-version", required_argument, NULL, OPT_IF_VERSION},
    {NULL, 0, NULL, 0},
};

static int on_option(int val, const char *arg, void *ctx)
{
    struct opts *o = ctx;
    const char *why;

    switch (val) {
    case OPT_JSON: o->json = 1; return 0;
    case OPT_NAME: o->name = arg; return 0;
    case OPT_TRACK:
        o->track = xrealloc(o->track, (o->ntrack + 1) * sizeof *o->track);
        o->track[o->ntrack++] = arg;
        return 0;
    case OPT_LANG:
        o->lang = xrealloc(o->lang, (o->nlang + 1) * sizeof *o->lang);
        o->lang[o->nlang++] = arg;
        return 0;
    case OPT_ANY_LANG: o->any_lang = 1; return 0;
    case OPT_FILE: o->file = arg; return 0;
    case OPT_IF_VERSION:
        if (parse_ll(arg, 1, (long long)1 << 53, &o->if_version, &why) < 0) {
            fprintf(stderr, "birdfeed filters: --if-version %s: %s\n", arg, why);
            return -1;
        }
        return 0;
    default: return -1;
    }
}

static const char DESCRIPTION[] =
    "Manage saved filters in Redis, with the validation the REST API applies.\n"
    "\n"
    "  list                       every filter (a table, or --json)\n"
    "  add --name N --track P…    create a filter (or --file F with its JSON)\n"
    "  show ID                    one filter\n"
    "  update ID [changes]        change the name, phrases or languages given; the rest\n"
    "                             stays (or --file F: replace it whole)\n"
    "  rm ID                      delete a filter (its streams end)\n"
    "\n"
    "A phrase matches a tweet when all its words occur in the text, hashtags, mentions\n"
    "or the author's screen name (case-insensitive); '#word' and '@word' match only\n"
    "hashtags and mentions. A filter matches when any of its phrases does.\n"
    "Exit status: 0 ok, 1 rejected (invalid, not found, duplicate name, changed\n"
    "meanwhile), 2 usage error, 3 Redis unreachable.";

static const char OPTIONS_HELP[] =
    "  --name NAME                the filter's name (unique, 1–filter-name-max bytes)\n"
    "  --track PHRASE             a phrase (repeat for more; replaces all phrases on update)\n"
    "  --lang CODE                only tweets in this language (repeat or comma-separate)\n"
    "  --any-lang                 update: drop the language restriction\n"
    "  --file FILE                the filter as JSON ('-': standard input)\n"
    "  --if-version N             update/rm: only if the filter is still at version N\n"
    "  --json                     print JSON instead of text\n";

/* Read all of path ("-" = stdin) into out. 0 ok, -1 after printing why. */
static int read_input(const char *path, buf *out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[8192];
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "birdfeed filters: %s: cannot open: %m\n", path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf_append(out, chunk, n);
        if (out->len > 16 * 1024 * 1024) {
            fprintf(stderr, "birdfeed filters: %s: larger than 16 MiB\n", path);
            if (f != stdin) fclose(f);
            return -1;
        }
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (bad) {
        fprintf(stderr, "birdfeed filters: %s: read error\n", path);
        return -1;
    }
    return 0;
}

static void append_lang_array(buf *b, const struct opts *o)
{
    int first = 1;
    buf_appends(b, "[");
    for (size_t i = 0; i < o->nlang; i++) {
        const char *s = o->lang[i];
        while (*s) {
            size_t n = strcspn(s, ",");
            if (n) {
                if (!first) buf_appendc(b, ',');
                buf_append_json_str(b, s, n);
                first = 0;
            }
            s += n + (s[n] == ',');
        }
    }
    buf_appends(b, "]");
}

/* Build the filter JSON from base (may be NULL) and the flags, then parse it
 * with the API's validation. 0 ok, -1 after printing the reason. */
static int build_filter(const struct opts *o, const filter *base, const filter_limits *lim, filter *out)
{
    buf j = BUF_INIT;
    char err[512];
    int rc = -1;

    if (o->file) {
        if (read_input(o->file, &j) < 0) goto done;
    } else {
        buf_appends(&j, "{\"name\":");
        const char *name = o->name ? o->name : base ? base->name : NULL;
        if (name)
            buf_append_json_str(&j, name, strlen(name));
        else
            buf_appends(&j, "null");
        buf_appends(&j, ",\"track\":[");
        if (o->ntrack) {
            for (size_t i = 0; i < o->ntrack; i++) {
                if (i) buf_appendc(&j, ',');
                buf_append_json_str(&j, o->track[i], strlen(o->track[i]));
            }
        } else if (base) {
            for (size_t i = 0; i < base->ntrack; i++) {
                if (i) buf_appendc(&j, ',');
                buf_append_json_str(&j, base->track[i], strlen(base->track[i]));
            }
        }
        buf_appendc(&j, ']');
        if (o->nlang) {
            buf_appends(&j, ",\"lang\":");
            append_lang_array(&j, o);
        } else if (base && base->nlang && !o->any_lang) {
            buf_appends(&j, ",\"lang\":[");
            for (size_t i = 0; i < base->nlang; i++) {
                if (i) buf_appendc(&j, ',');
                buf_append_json_str(&j, base->lang[i], strlen(base->lang[i]));
            }
            buf_appendc(&j, ']');
        }
        buf_appendc(&j, '}');
    }
    if (filter_parse(j.data ? j.data : "", j.len, lim, out, err, sizeof err) < 0) {
        if (!o->file && strncmp(err, "name:", 5) == 0 && !o->name && !base)
            fprintf(stderr, "birdfeed filters: --name is required\n");
        else if (!o->file && strcmp(err, "track: must hold at least one phrase") == 0)
            fprintf(stderr, "birdfeed filters: at least one --track PHRASE is required\n");
        else
            fprintf(stderr, "birdfeed filters: invalid filter: %s\n", err);
        goto done;
    }
    rc = 0;
done:
    buf_free(&j);
    return rc;
}

/* Exit code for a store outcome (after printing the reason). */
static int report(int rc, const char *err)
{
    switch (rc) {
    case FILTERDB_OK: return 0;
    case FILTERDB_ERROR:
        fprintf(stderr, "birdfeed filters: %s\n", err);
        return EXIT_UNREACHABLE;
    case FILTERDB_PRECONDITION:
        fprintf(stderr, "birdfeed filters: %s; show it and try again\n", err);
        return 1;
    default:
        fprintf(stderr, "birdfeed filters: %s\n", err);
        return 1;
    }
}

static void print_json(const filter *f)
{
    buf b = BUF_INIT;
    filter_to_json(f, &b);
    puts(b.data);
    buf_free(&b);
}

static void join(buf *b, char **v, size_t n, const char *sep, const char *none)
{
    buf_reset(b);
    if (n == 0) buf_appends(b, none);
    for (size_t i = 0; i < n; i++) {
        if (i) buf_appends(b, sep);
        buf_appends(b, v[i]);
    }
}

static void print_table(const filter *v, size_t n)
{
    size_t wid = 2, wname = 4, wlang = 4;
    buf b = BUF_INIT;

    for (size_t i = 0; i < n; i++) {
        if (strlen(v[i].id) > wid) wid = strlen(v[i].id);
        if (strlen(v[i].name) > wname) wname = strlen(v[i].name);
        join(&b, v[i].lang, v[i].nlang, ",", "any");
        if (b.len > wlang) wlang = b.len;
    }
    if (wname > 40) wname = 40;
    printf("%-*s  %7s  %-*s  %-*s  %s\n", (int)wid, "ID", "VERSION", (int)wname, "NAME", (int)wlang, "LANG", "TRACK");
    for (size_t i = 0; i < n; i++) {
        printf("%-*s  %7lld  %-*s  ", (int)wid, v[i].id, v[i].version, (int)wname, v[i].name);
        join(&b, v[i].lang, v[i].nlang, ",", "any");
        printf("%-*s  ", (int)wlang, b.data);
        join(&b, v[i].track, v[i].ntrack, " | ", "");
        puts(b.data);
    }
    buf_free(&b);
}

static void print_one(const filter *f)
{
    buf b = BUF_INIT;
    printf("id:         %s\nname:       %s\nversion:    %lld\ncreated_at: %s\nupdated_at: %s\n", f->id, f->name,
           f->version, f->created_at, f->updated_at);
    join(&b, f->lang, f->nlang, ", ", "any");
    printf("lang:       %s\n", b.data);
    for (size_t i = 0; i < f->ntrack; i++) printf("%s%s\n", i ? "            " : "track:      ", f->track[i]);
    buf_free(&b);
}

static int need_operands(int have, int want, const char *what)
{
    if (have == want) return 0;
    fprintf(stderr, "birdfeed filters: %s\nTry 'birdfeed filters --help'.\n", what);
    return -1;
}

int cmd_filters(int argc, char **argv)
{
    struct opts o = {0};
    o.if_version = -1;
    cli_spec spec = {
        .name = "filters",
        .synopsis = "list|add|show|update|rm [ID] [options]",
        .description = DESCRIPTION,
        .options_help = OPTIONS_HELP,
        .shortopts = "",
        .longopts = longopts,
        .on_option = on_option,
        .ctx = &o,
    };
    config cfg;
    filter_limits lim;
    redisContext *c = NULL;
    filter f, cur;
    filter *all = NULL;
    size_t nall = 0;
    char err[512];
    int rc = EXIT_USAGE;

    memset(&f, 0, sizeof f);
    memset(&cur, 0, sizeof cur);
    int first = cli_parse(&spec, argc, argv, &cfg);
    if (first == -100) {
        rc = 0;
        goto done;
    }
    if (first < 0) {
        rc = -first;
        goto done;
    }
    int nops = argc - first;
    const char *sub = nops > 0 ? argv[first] : NULL;
    const char *id = nops > 1 ? argv[first + 1] : NULL;
    if (sub == NULL) {
        need_operands(0, 1, "which one: list, add, show, update or rm?");
        goto done;
    }
    filter_limits_from_config(&lim, &cfg);
    int is_list = !strcmp(sub, "list"), is_add = !strcmp(sub, "add"), is_show = !strcmp(sub, "show"),
        is_update = !strcmp(sub, "update"), is_rm = !strcmp(sub, "rm");
    if (!(is_list || is_add || is_show || is_update || is_rm)) {
        fprintf(stderr, "birdfeed filters: unknown subcommand '%s' (list, add, show, update, rm)\n", sub);
        goto done;
    }
    if ((is_list || is_add) && need_operands(nops, 1, "this subcommand takes no ID") < 0) goto done;
    if ((is_show || is_update || is_rm) && need_operands(nops, 2, "give exactly one filter ID") < 0) goto done;
    if ((is_list || is_show || is_rm) && (o.name || o.ntrack || o.nlang || o.file || o.any_lang)) {
        fprintf(stderr, "birdfeed filters: --name, --track, --lang, --any-lang and --file go with add or update\n");
        goto done;
    }
    if (o.file && (o.name || o.ntrack || o.nlang || o.any_lang)) {
        fprintf(stderr, "birdfeed filters: --file replaces --name, --track and --lang; give one or the other\n");
        goto done;
    }
    if (is_add && o.if_version >= 0) {
        fprintf(stderr, "birdfeed filters: --if-version goes with update or rm\n");
        goto done;
    }
    /* Validate what we can before connecting. */
    if (is_add && build_filter(&o, NULL, &lim, &f) < 0) {
        rc = 1;
        goto done;
    }

    c = bus_connect(cfg.redis_url, 5000, err, sizeof err);
    if (c == NULL) {
        fprintf(stderr, "birdfeed filters: Redis unreachable: %s\n", err);
        rc = EXIT_UNREACHABLE;
        goto done;
    }
    filterdb db = {filterdb_context_cmd, c, cfg.prefix, cfg.filters_max};

    if (is_list) {
        rc = report(filterdb_list(&db, &all, &nall, err, sizeof err), err);
        if (rc) goto done;
        if (o.json) {
            buf b = BUF_INIT;
            buf_appends(&b, "{\"filters\":[");
            for (size_t i = 0; i < nall; i++) {
                if (i) buf_appendc(&b, ',');
                filter_to_json(&all[i], &b);
            }
            buf_appends(&b, "]}");
            puts(b.data);
            buf_free(&b);
        } else {
            print_table(all, nall);
        }
    } else if (is_add) {
        rc = report(filterdb_create(&db, &f, err, sizeof err), err);
        if (rc) goto done;
        if (o.json)
            print_json(&f);
        else
            printf("created filter %s (version %lld)\n", f.id, f.version);
    } else if (is_show) {
        rc = report(filterdb_get(&db, id, &cur, err, sizeof err), err);
        if (rc) goto done;
        if (o.json)
            print_json(&cur);
        else
            print_one(&cur);
    } else if (is_update) {
        if (!o.file && !o.name && !o.ntrack && !o.nlang && !o.any_lang) {
            fprintf(stderr, "birdfeed filters: nothing to change: give --name, --track, --lang, --any-lang or --file\n");
            goto done;
        }
        rc = report(filterdb_get(&db, id, &cur, err, sizeof err), err);
        if (rc) goto done;
        if (o.if_version >= 0 && cur.version != o.if_version) {
            rc = report(FILTERDB_PRECONDITION, "the filter is no longer at that version");
            goto done;
        }
        if (build_filter(&o, &cur, &lim, &f) < 0) {
            rc = 1;
            goto done;
        }
        /* Read-modify-write: commit only over the version read. */
        rc = report(filterdb_replace(&db, id, cur.version, &f, err, sizeof err), err);
        if (rc) goto done;
        if (o.json)
            print_json(&f);
        else
            printf("updated filter %s (version %lld)\n", f.id, f.version);
    } else {
        rc = report(filterdb_delete(&db, id, o.if_version, err, sizeof err), err);
        if (rc) goto done;
        if (o.json)
            printf("{\"deleted\":\"%s\"}\n", id);
        else
            printf("deleted filter %s\n", id);
    }
done:
    for (size_t i = 0; i < nall; i++) filter_free(&all[i]);
    free(all);
    filter_free(&f);
    filter_free(&cur);
    if (c) redisFree(c);
    free(o.track);
    free(o.lang);
    config_free(&cfg);
    return rc;
}
