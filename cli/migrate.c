/* birdfeed migrate — bring the archive's schema up to date. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "log.h"
#include "store.h"
#include "util.h"

enum { OPT_TO = 1, OPT_STATUS };

struct migrate_opts {
    int to;
    int status;
};

static int on_option(int val, const char *arg, void *ctx)
{
    struct migrate_opts *o = ctx;
    long long v;
    const char *why;
    if (val == OPT_TO) {
        if (parse_ll(arg, 1, 9999, &v, &why) < 0) {
            fprintf(stderr, "birdfeed migrate: --to %s: %s\n", arg, why);
            return -1;
        }
        o->to = (int)v;
        return 0;
    }
    if (val == OPT_STATUS) {
        o->status = 1;
        return 0;
    }
    return -1;
}

int cmd_migrate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"to", required_argument, NULL, OPT_TO},
        {"status", no_argument, NULL, OPT_STATUS},
        {0, 0, 0, 0},
    };
    struct migrate_opts o = {0, 0};
    const cli_spec spec = {
        .name = "migrate",
        .synopsis = "[--db URL] [--to VERSION] [--status]",
        .description =
            "Create or upgrade the archive's schema (table tweets, full-text index, schema_version)\n"
            "in the database named by --db / BIRDFEED_DB: sqlite:PATH or postgres://user@host/db.\n"
            "Each pending migration runs in its own transaction and is recorded; running it again\n"
            "does nothing. A database newer than this birdfeed is refused. The schema is built into\n"
            "the binary, so this works from any directory.",
        .options_help = "  --to VERSION               stop at this schema version (default: the newest)\n"
                        "  --status                   print the schema version and the newest known; change nothing\n",
        .shortopts = "",
        .longopts = longopts,
        .on_option = on_option,
        .ctx = &o,
    };
    config cfg;
    char err[1024];
    int rc = cli_parse(&spec, argc, argv, &cfg), before, after, applied;
    store *s = NULL;

    if (rc == -100) { rc = 0; goto done; }
    if (rc < 0) { rc = -rc; goto done; }
    if (rc < argc) {
        fprintf(stderr, "birdfeed migrate: unexpected argument '%s'\n", argv[rc]);
        rc = EXIT_USAGE;
        goto done;
    }
    if (cfg.db_url == NULL) {
        fprintf(stderr, "birdfeed migrate: no database: give --db sqlite:PATH or postgres://… (or BIRDFEED_DB)\n");
        rc = EXIT_USAGE;
        goto done;
    }
    s = store_open(cfg.db_url, err, sizeof err);
    if (s == NULL) {
        fprintf(stderr, "birdfeed migrate: %s\n", err);
        rc = EXIT_UNREACHABLE;
        goto done;
    }
    if (store_version(s, &before, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed migrate: %s\n", err);
        rc = EXIT_UNREACHABLE;
        goto done;
    }
    if (o.status) {
        printf("%s schema version %d, newest known %d%s\n", store_engine(s), before, store_latest_version(s),
               before == store_latest_version(s) ? " (up to date)"
               : before > store_latest_version(s) ? " (newer than this birdfeed)" : " (run birdfeed migrate)");
        rc = 0;
        goto done;
    }
    if (store_migrate(s, o.to, &applied, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed migrate: %s\n", err);
        log_error("migrate.failed", "engine=%s applied=%d", store_engine(s), applied);
        rc = 1;
        goto done;
    }
    if (store_version(s, &after, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed migrate: %s\n", err);
        rc = EXIT_UNREACHABLE;
        goto done;
    }
    if (applied == 0)
        printf("%s schema already at version %d\n", store_engine(s), after);
    else
        printf("%s schema migrated from version %d to %d (%d applied)\n", store_engine(s), before, after, applied);
    rc = 0;
done:
    store_close(s);
    config_free(&cfg);
    return rc;
}
