/* birdfeed migrate — bring the archive's schema up to date. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "log.h"
#include "store.h"
#include "util.h"

static const char migrate_help[] =
    "Create or upgrade the archive's schema (table tweets, full-text index, schema_version)\n"
    "in the database named by --db / BIRDFEED_DB: sqlite:PATH or postgres://user@host/db.\n"
    "Each pending migration runs in its own transaction and is recorded; running it again\n"
    "does nothing. A database newer than this birdfeed is refused. The schema is built into\n"
    "the binary, so this works from any directory.\n\n"
    "Exit status: 0 ok, 1 a migration failed (the ones before it stay applied), 2 usage\n"
    "error, 3 the database unreachable.";

struct migrate_opts {
    long long to;     /* 0: the newest */
    int status;
};

static const cli_option migrate_options[] = {
    CLI_OPT_INT("to", 0, "VERSION", struct migrate_opts, to, 1, 9999,
                "stop at this schema version (default: the newest)"),
    CLI_OPT_FLAG("status", 0, struct migrate_opts, status,
                 "print the schema version and the newest known; change nothing"),
    CLI_OPT_END,
};

static void print_status(store *s, int version)
{
    int latest = store_latest_version(s);
    printf("%s schema version %d, newest known %d%s\n", store_engine(s), version, latest,
           version == latest  ? " (up to date)"
           : version > latest ? " (newer than this birdfeed)"
                              : " (run birdfeed migrate)");
}

static int migrate_run(void *opts, config *cfg, int argc, char **argv)
{
    const struct migrate_opts *o = opts;
    char err[1024];
    int rc = CLI_EXIT_UNREACHABLE, before, after, applied;
    store *s = NULL;

    (void)argc;
    (void)argv;
    if (cfg->db_url == NULL) {
        fprintf(stderr, "birdfeed migrate: no database: give --db sqlite:PATH or postgres://… (or BIRDFEED_DB)\n");
        return CLI_EXIT_USAGE;
    }
    s = store_open(cfg->db_url, err, sizeof err);
    if (s == NULL || store_version(s, &before, err, sizeof err) < 0) goto failed;
    if (o->status) {
        print_status(s, before);
        rc = CLI_EXIT_OK;
        goto done;
    }
    if (store_migrate(s, (int)o->to, &applied, err, sizeof err) < 0) {
        log_error("migrate.failed", "engine=%s applied=%d", store_engine(s), applied);
        rc = CLI_EXIT_PARTIAL;
        goto failed;
    }
    if (store_version(s, &after, err, sizeof err) < 0) goto failed;
    if (applied == 0)
        printf("%s schema already at version %d\n", store_engine(s), after);
    else
        printf("%s schema migrated from version %d to %d (%d applied)\n", store_engine(s), before, after, applied);
    rc = CLI_EXIT_OK;
    goto done;
failed:
    fprintf(stderr, "birdfeed migrate: %s\n", err);
done:
    store_close(s);
    return rc;
}

const cli_command cli_cmd_migrate = {
    .name = "migrate", .summary = "create or upgrade the archive's SQL schema", .max_operands = 0,
    .synopsis = "[--db URL] [--to VERSION] [--status]", .description = migrate_help,
    CLI_OPTIONS(struct migrate_opts, migrate_options, NULL), .run = migrate_run,
};
