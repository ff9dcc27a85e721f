/* birdfeed migrate — bring the archive's schema up to date. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "log.h"
#include "store.h"
#include "token.h"
#include "util.h"

static const char migrate_help[] =
    "Create or upgrade the archive's schema (table tweets, full-text index, schema_version)\n"
    "in the database named by --db / BIRDFEED_DB: sqlite:PATH or postgres://user@host/db.\n"
    "Each pending migration runs in its own transaction and is recorded; running it again\n"
    "does nothing. A database newer than this birdfeed is refused. The schema is built into\n"
    "the binary, so this works from any directory.\n\n"
    "The archive also records which version of birdfeed's tokenizer cut its rows' words;\n"
    "when it is not this birdfeed's, migrate recomputes the words of every row (one\n"
    "transaction; archivers' inserts wait), so searches find old rows as live filters would.\n\n"
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

/* The schema's version, then (once the schema records it) the tokenizer's.
 * 0 ok, -1 err. */
static int print_status(store *s, int version, char *err, size_t errlen)
{
    int latest = store_latest_version(s), tv;
    printf("%s schema version %d, newest known %d%s\n", store_engine(s), version, latest,
           version == latest  ? " (up to date)"
           : version > latest ? " (newer than this birdfeed)"
                              : " (run birdfeed migrate)");
    if (version < latest) return 0;    /* the schema says what to do first */
    if (store_token_version(s, &tv, err, errlen) < 0) return -1;
    printf("%s words cut by tokenizer version %d, this birdfeed's %d%s\n", store_engine(s), tv, TOKEN_VERSION,
           tv == TOKEN_VERSION  ? " (up to date)"
           : tv > TOKEN_VERSION ? " (newer than this birdfeed)"
                                : " (run birdfeed migrate)");
    return 0;
}

static int migrate_run(void *opts, config *cfg, int argc, char **argv)
{
    const struct migrate_opts *o = opts;
    char err[1024];
    int rc = CLI_EXIT_UNREACHABLE, before, after;
    store_migrated done;
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
        if (print_status(s, before, err, sizeof err) < 0) goto failed;
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (store_migrate(s, (int)o->to, &done, err, sizeof err) < 0) {
        log_error("migrate.failed", "engine=%s applied=%d", store_engine(s), done.applied);
        rc = CLI_EXIT_PARTIAL;
        goto failed;
    }
    if (store_version(s, &after, err, sizeof err) < 0) goto failed;
    if (done.applied == 0)
        printf("%s schema already at version %d\n", store_engine(s), after);
    else
        printf("%s schema migrated from version %d to %d (%d applied)\n", store_engine(s), before, after,
               done.applied);
    /* (a new archive's empty words are recorded as this tokenizer's: nothing to say) */
    if (done.reworded > 0 && done.words_from == 0)
        printf("%s words of %ld rows recomputed by tokenizer version %d (cut before versions were recorded)\n",
               store_engine(s), done.reworded, TOKEN_VERSION);
    else if (done.reworded >= 0 && done.words_from > 0)
        printf("%s words of %ld rows recomputed by tokenizer version %d (cut by version %d)\n", store_engine(s),
               done.reworded, TOKEN_VERSION, done.words_from);
    rc = CLI_EXIT_OK;
    goto out;
failed:
    fprintf(stderr, "birdfeed migrate: %s\n", err);
out:
    store_close(s);
    return rc;
}

const cli_command cli_cmd_migrate = {
    .name = "migrate", .summary = "create or upgrade the archive's SQL schema", .max_operands = 0,
    .synopsis = "[--db URL] [--to VERSION] [--status]", .description = migrate_help,
    CLI_OPTIONS(struct migrate_opts, migrate_options, NULL), .run = migrate_run,
};
