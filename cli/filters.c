/* birdfeed filters — list, add, show, update and remove saved filters
 * (the same validation and store as the REST API: lib/filter, lib/filterdb),
 * and rebuild their name index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cli.h"
#include "filter.h"
#include "filterdb.h"
#include "util.h"

static const char filters_help[] =
    "Manage saved filters in Redis, with the validation the REST API applies.\n"
    "\n"
    "  list                       every filter (a table, or --json)\n"
    "  add --name N --track P…    create a filter (or --file F with its JSON)\n"
    "  show ID                    one filter\n"
    "  update ID [changes]        change the name, phrases or languages given; the rest\n"
    "                             stays (or --file F: replace it whole)\n"
    "  rm ID                      delete a filter (its streams end)\n"
    "  reindex                    rebuild the index that keeps names unique, with this\n"
    "                             birdfeed's case folding (writes do it by themselves when\n"
    "                             they find it made by another version)\n"
    "\n"
    "A phrase matches a tweet when all its words occur in the text, hashtags, mentions\n"
    "or the author's screen name (case-insensitive); '#word' and '@word' match only\n"
    "hashtags and mentions. A filter matches when any of its phrases does.\n"
    "Exit status: 0 ok, 1 rejected (invalid, not found, duplicate name, changed\n"
    "meanwhile; reindex: names that fold alike, left out), 2 usage error, 3 Redis\n"
    "unreachable.";

struct opts {
    int json;
    const char *name;
    cli_list track;
    cli_list lang;
    int any_lang;
    const char *file;
    long long if_version;   /* -1: any */
};

static const struct opts filters_defaults = {.if_version = -1};

static const cli_option filters_options[] = {
    CLI_OPT_TEXT("name", 0, "NAME", struct opts, name, 0, 0, "the filter's name (unique, 1–filter-name-max bytes)"),
    CLI_OPT_LIST("track", 0, "PHRASE", struct opts, track, "a phrase (repeat for more; replaces all phrases on update)"),
    CLI_OPT_LIST("lang", 0, "CODE", struct opts, lang, "only tweets in this language (repeat or comma-separate)"),
    CLI_OPT_FLAG("any-lang", 0, struct opts, any_lang, "update: drop the language restriction"),
    CLI_OPT_TEXT("file", 0, "FILE", struct opts, file, 1, 0, "the filter as JSON ('-': standard input)"),
    CLI_OPT_INT("if-version", 0, "N", struct opts, if_version, 1, (long long)1 << 53,
                "update/rm: only if the filter is still at version N"),
    CLI_OPT_FLAG("json", 0, struct opts, json, "print JSON instead of text"),
    CLI_OPT_END,
};

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
    for (size_t i = 0; i < o->lang.n; i++) {
        const char *s = o->lang.v[i];
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
        if (o->track.n) {
            for (size_t i = 0; i < o->track.n; i++) {
                if (i) buf_appendc(&j, ',');
                buf_append_json_str(&j, o->track.v[i], strlen(o->track.v[i]));
            }
        } else if (base) {
            for (size_t i = 0; i < base->ntrack; i++) {
                if (i) buf_appendc(&j, ',');
                buf_append_json_str(&j, base->track[i], strlen(base->track[i]));
            }
        }
        buf_appendc(&j, ']');
        if (o->lang.n) {
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
        return CLI_EXIT_UNREACHABLE;
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

/* One subcommand: what it accepts, and the work once Redis is connected.
 * f is the filter the subcommand fills (add: already built from the
 * options); the caller frees it. */
struct filters_cmd {
    const char *name;
    int takes_id;     /* 1: exactly one filter ID after the name; 0: none */
    int edits;        /* accepts --name, --track, --lang, --any-lang, --file */
    int conditional;  /* accepts --if-version */
    int (*run)(const struct opts *o, filterdb *db, const char *id, const filter_limits *lim, filter *f);
};

static int filters_list(const struct opts *o, filterdb *db, const char *id, const filter_limits *lim, filter *f)
{
    filter *all = NULL;
    size_t nall = 0;
    char err[512];
    (void)id;
    (void)lim;
    (void)f;
    int rc = report(filterdb_list(db, &all, &nall, err, sizeof err), err);
    if (rc == 0 && o->json) {
        buf b = BUF_INIT;
        buf_appends(&b, "{\"filters\":[");
        for (size_t i = 0; i < nall; i++) {
            if (i) buf_appendc(&b, ',');
            filter_to_json(&all[i], &b);
        }
        buf_appends(&b, "]}");
        puts(b.data);
        buf_free(&b);
    } else if (rc == 0) {
        print_table(all, nall);
    }
    for (size_t i = 0; i < nall; i++) filter_free(&all[i]);
    free(all);
    return rc;
}

static int filters_add(const struct opts *o, filterdb *db, const char *id, const filter_limits *lim, filter *f)
{
    char err[512];
    (void)id;
    (void)lim;
    int rc = report(filterdb_create(db, f, err, sizeof err), err);
    if (rc) return rc;
    if (o->json) print_json(f);
    else printf("created filter %s (version %lld)\n", f->id, f->version);
    return 0;
}

static int filters_show(const struct opts *o, filterdb *db, const char *id, const filter_limits *lim, filter *f)
{
    char err[512];
    (void)lim;
    int rc = report(filterdb_get(db, id, f, err, sizeof err), err);
    if (rc) return rc;
    if (o->json) print_json(f);
    else print_one(f);
    return 0;
}

static int filters_update(const struct opts *o, filterdb *db, const char *id, const filter_limits *lim, filter *f)
{
    filter cur;
    char err[512];
    int rc;

    memset(&cur, 0, sizeof cur);
    rc = report(filterdb_get(db, id, &cur, err, sizeof err), err);
    if (rc) goto done;
    if (o->if_version >= 0 && cur.version != o->if_version) {
        rc = report(FILTERDB_PRECONDITION, "the filter is no longer at that version");
        goto done;
    }
    if (build_filter(o, &cur, lim, f) < 0) {
        rc = CLI_EXIT_PARTIAL;
        goto done;
    }
    /* Read-modify-write: commit only over the version read. */
    rc = report(filterdb_replace(db, id, cur.version, f, err, sizeof err), err);
    if (rc) goto done;
    if (o->json) print_json(f);
    else printf("updated filter %s (version %lld)\n", f->id, f->version);
done:
    filter_free(&cur);
    return rc;
}

static int filters_rm(const struct opts *o, filterdb *db, const char *id, const filter_limits *lim, filter *f)
{
    char err[512];
    (void)lim;
    (void)f;
    int rc = report(filterdb_delete(db, id, o->if_version, err, sizeof err), err);
    if (rc) return rc;
    if (o->json) printf("{\"deleted\":\"%s\"}\n", id);
    else printf("deleted filter %s\n", id);
    return 0;
}

static int filters_reindex(const struct opts *o, filterdb *db, const char *id, const filter_limits *lim, filter *f)
{
    filterdb_reindexed out;
    char err[512];
    (void)id;
    (void)lim;
    (void)f;
    int rc = report(filterdb_reindex(db, &out, err, sizeof err), err);
    if (rc) return rc;
    if (o->json) printf("{\"names\":%zu,\"clashes\":%zu}\n", out.names, out.clashes);
    else printf("name index rebuilt: %zu names\n", out.names);
    if (out.clashes)
        fprintf(stderr,
                "birdfeed filters: %zu filters left out of the name index: their names fold like another filter's "
                "(the log says which, filterdb.name_clash); rename them with 'birdfeed filters update ID --name …'\n",
                out.clashes);
    return out.clashes ? CLI_EXIT_PARTIAL : 0;
}

static const struct filters_cmd filters_cmds[] = {
    {"list", 0, 0, 0, filters_list},
    {"add", 0, 1, 0, filters_add},
    {"show", 1, 0, 0, filters_show},
    {"update", 1, 1, 1, filters_update},
    {"rm", 1, 0, 1, filters_rm},
    {"reindex", 0, 0, 0, filters_reindex},
};

/* Which subcommand argv names, with its operands and options checked.
 * NULL after printing why. */
static const struct filters_cmd *pick(const struct opts *o, int argc, char **argv)
{
    const struct filters_cmd *sc = NULL;
    const char *why = NULL;
    int edits = o->name || o->track.n || o->lang.n || o->file || o->any_lang;

    if (argc == 0) {
        why = "which one: list, add, show, update, rm or reindex?";
    } else {
        for (size_t i = 0; i < ARRAY_LEN(filters_cmds); i++)
            if (strcmp(argv[0], filters_cmds[i].name) == 0) sc = &filters_cmds[i];
        if (sc == NULL) {
            fprintf(stderr, "birdfeed filters: unknown subcommand '%s' (list, add, show, update, rm, reindex)\n",
                    argv[0]);
            why = "";
        } else if (argc != 1 + sc->takes_id) {
            why = sc->takes_id ? "give exactly one filter ID" : "this subcommand takes no ID";
        } else if (edits && !sc->edits) {
            why = "--name, --track, --lang, --any-lang and --file go with add or update";
        } else if (o->file && (o->name || o->track.n || o->lang.n || o->any_lang)) {
            why = "--file replaces --name, --track and --lang; give one or the other";
        } else if (o->if_version >= 0 && !sc->conditional) {
            why = "--if-version goes with update or rm";
        } else if (sc->edits && sc->takes_id && !edits) {
            why = "nothing to change: give --name, --track, --lang, --any-lang or --file";
        }
    }
    if (why == NULL) return sc;
    if (*why) fprintf(stderr, "birdfeed filters: %s\n", why);
    fprintf(stderr, "Try 'birdfeed filters --help'.\n");
    return NULL;
}

static int filters_run(void *opts, config *cfg, int argc, char **argv)
{
    const struct opts *o = opts;
    const struct filters_cmd *sc = pick(o, argc, argv);
    filter_limits lim;
    redisContext *c = NULL;
    filter f;
    char err[512];
    int rc;

    if (sc == NULL) return CLI_EXIT_USAGE;
    memset(&f, 0, sizeof f);
    filter_limits_from_config(&lim, cfg);
    /* Validate what we can before connecting. */
    if (sc->edits && !sc->takes_id && build_filter(o, NULL, &lim, &f) < 0) {
        rc = CLI_EXIT_PARTIAL;
        goto done;
    }
    c = bus_connect(cfg->redis_url, 5000, err, sizeof err);
    if (c == NULL) {
        fprintf(stderr, "birdfeed filters: Redis unreachable: %s\n", err);
        rc = CLI_EXIT_UNREACHABLE;
        goto done;
    }
    filterdb db = {filterdb_context_cmd, c, cfg->prefix, cfg->filters_max};
    rc = sc->run(o, &db, argc > 1 ? argv[1] : NULL, &lim, &f);
done:
    filter_free(&f);
    if (c) redisFree(c);
    return rc;
}

const cli_command cli_cmd_filters = {
    .name = "filters", .summary = "list, add, show, update and remove saved filters", .max_operands = -1,
    .synopsis = "list|add|show|update|rm|reindex [ID] [options]", .description = filters_help,
    CLI_OPTIONS(struct opts, filters_options, &filters_defaults), .run = filters_run,
};
