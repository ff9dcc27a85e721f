/* cli — what every `birdfeed` subcommand shares: option parsing that adds the
 * config settings (lib/config.h) and --help / --check-config to the
 * command's own options.
 *
 * Exit codes used by every subcommand: 0 ok, 1 partial failure (some input
 * rejected), 2 usage error, 3 a server (Redis, database) unreachable. */
#ifndef BIRDFEED_CLI_H
#define BIRDFEED_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "config.h"

enum { EXIT_PARTIAL = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

typedef struct cli_spec {
    const char *name;                 /* "ingest" */
    const char *synopsis;             /* "[options] [FILE…]" */
    const char *description;          /* one paragraph for --help */
    const char *options_help;         /* the command's own options, preformatted */
    const char *shortopts;            /* for getopt_long, may be "" */
    const struct option *longopts;    /* the command's own, {0} terminated, may be NULL */
    /* Called for each of the command's own options; return 0, or -1 after
     * printing a usage error to stderr. */
    int (*on_option)(int val, const char *arg, void *ctx);
    void *ctx;
} cli_spec;

/* Parse argv: the command's options, every config setting (--redis, --history…),
 * --help, --check-config; then the environment fills what no flag set.
 * Returns optind (first operand) on success; -EXIT_USAGE after printing the
 * reason to stderr; -100 when --help or --check-config was handled (the
 * caller exits 0). */
int cli_parse(const cli_spec *spec, int argc, char **argv, config *cfg);
void cli_usage(const cli_spec *spec, FILE *out);

/* The subcommands; each returns the process exit code. */
int cmd_ingest(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_filters(int argc, char **argv);
int cmd_archive(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_search(int argc, char **argv);

#endif
