/* cli — what every `birdfeed` command shares.
 *
 * A command is a cli_command: its name, its help texts, a table of its own
 * options (cli_option: each option with its help line) and a run function.
 * cli_main builds the getopt_long table and the --help text from that one
 * table, adds every config setting (lib/config.h), --help and
 * --check-config, parses argv into the command's options struct, checks the
 * number of operands and calls run. So a command file holds, in one place,
 * what the command accepts and says about itself, and its run function never
 * sees a usage question again. cli/README.md shows how to add a command.
 *
 * Exit codes used by every command: 0 ok, 1 partial failure (some input
 * rejected), 2 usage error, 3 a server (Redis, database) unreachable.
 * Messages go to stderr as "birdfeed COMMAND: reason"; a rejected input line
 * as "SOURCE:LINE: reason". */
#ifndef BIRDFEED_CLI_H
#define BIRDFEED_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum cli_exit { CLI_EXIT_OK = 0, CLI_EXIT_PARTIAL = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_UNREACHABLE = 3 };

/* What an option's value is, and how the parser stores it in its field. */
typedef enum cli_kind {
    CLI_KIND_FLAG,    /* no value; int field set to 1 */
    CLI_KIND_INT,     /* long long field, within min..max */
    CLI_KIND_TEXT,    /* const char * field (points into argv), length min..max bytes (max 0: any) */
    CLI_KIND_LIST,    /* cli_list field; each use appends one value (repeatable) */
    CLI_KIND_CUSTOM,  /* parse(arg, field, why, whylen) stores it */
} cli_kind;

/* The values of a repeatable option, in the order given (they point into
 * argv). cli_main frees v after run. */
typedef struct cli_list {
    const char **v;
    size_t n;
} cli_list;

/* One row of a command's option table. */
typedef struct cli_option {
    const char *name;     /* long name, without "--" */
    char short_name;      /* one-letter alias, or 0 */
    const char *arg;      /* the value's name in --help ("N", "FILE"); NULL for a flag */
    cli_kind kind;
    size_t offset;        /* of the field in the command's options struct */
    long long min, max;   /* CLI_KIND_INT: value range; CLI_KIND_TEXT: length range */
    /* CLI_KIND_CUSTOM: store arg in *field: 0 ok, or -1 with a phrase for
     * "--NAME 'ARG' is <why>" in why ("not a rate (want …)"). */
    int (*parse)(const char *arg, void *field, char *why, size_t whylen);
    const char *help;     /* the help line; '\n' starts an indented continuation line */
} cli_option;

/* Rows for the tables: T is the options struct, f its field. */
#define CLI_OPT_FLAG(name, s, T, f, help) {name, s, NULL, CLI_KIND_FLAG, offsetof(T, f), 0, 0, NULL, help}
#define CLI_OPT_INT(name, s, arg, T, f, lo, hi, help) {name, s, arg, CLI_KIND_INT, offsetof(T, f), lo, hi, NULL, help}
#define CLI_OPT_TEXT(name, s, arg, T, f, lo, hi, help) {name, s, arg, CLI_KIND_TEXT, offsetof(T, f), lo, hi, NULL, help}
#define CLI_OPT_LIST(name, s, arg, T, f, help) {name, s, arg, CLI_KIND_LIST, offsetof(T, f), 0, 0, NULL, help}
#define CLI_OPT_CUSTOM(name, s, arg, T, f, fn, help) {name, s, arg, CLI_KIND_CUSTOM, offsetof(T, f), 0, 0, fn, help}
#define CLI_OPT_END {NULL, 0, NULL, CLI_KIND_FLAG, 0, 0, 0, NULL, NULL}
/* --retries N, for the commands that reconnect to Redis (default 10 in their defaults). */
#define CLI_OPT_RETRIES(T, f) \
    CLI_OPT_INT("retries", 0, "N", T, f, 0, 1000, "reconnect attempts in a row before giving up (default 10)")

enum { CLI_NO_SETTINGS = 1 };   /* cli_command.flags: no config settings, no --check-config */

/* A command. Everything but run is text or tables, so one definition per
 * command says all it accepts. */
typedef struct cli_command {
    const char *name;           /* "ingest" */
    const char *summary;        /* one line for `birdfeed --help` */
    const char *synopsis;       /* "[options] [FILE…]", after "usage: birdfeed NAME " */
    const char *description;    /* the paragraphs of --help, exit status last */
    const cli_option *options;  /* CLI_OPT_END-terminated; NULL: none of its own */
    size_t opts_size;           /* sizeof the options struct */
    const void *defaults;       /* its initial contents (opts_size bytes); NULL: zeroes */
    int max_operands;           /* operands allowed after the options; -1: any number */
    unsigned flags;             /* CLI_NO_SETTINGS */
    /* Do the work: opts is the filled options struct, cfg the settings
     * (flags, then environment, then defaults), argv[0..argc) the operands.
     * Returns the process exit code. */
    int (*run)(void *opts, config *cfg, int argc, char **argv);
} cli_command;

/* The option fields of a cli_command: T is the options struct, table its
 * cli_option rows, defaults a const T * (or NULL for zeroes). */
#define CLI_OPTIONS(T, table, defs) .options = (table), .opts_size = sizeof(T), .defaults = (defs)

/* How parsing ended. */
typedef enum cli_parse_result {
    CLI_PARSE_RUN,      /* run the command; *first is the index of the first operand */
    CLI_PARSE_EXIT_OK,  /* --help or --check-config printed what was asked: exit 0 */
    CLI_PARSE_USAGE,    /* a usage error was printed on stderr: exit 2 */
} cli_parse_result;

/* Parse argv (argv[0] is the command's name): the command's options into
 * opts (which the caller filled with the defaults), every config setting
 * into cfg (config_init'ed here; the caller config_free's it whatever the
 * result), --help, --check-config; then the environment fills what no flag
 * set and the log is set up. Checks the number of operands. */
cli_parse_result cli_parse(const cli_command *cmd, int argc, char **argv, void *opts, config *cfg, int *first);
/* Parse, run, free: the whole life of a command. Returns the exit code. */
int cli_main(const cli_command *cmd, int argc, char **argv);
/* Free what parsing allocated in opts (the cli_list fields). */
void cli_opts_free(const cli_command *cmd, void *opts);
/* Run handler on SIGINT and SIGTERM (and SIGHUP when hup is set), without
 * SA_RESTART so that a blocked read returns EINTR; ignore SIGPIPE, so a
 * closed peer is an error return, not a death. */
void cli_catch_signals(void (*handler)(int), int hup);

/* The commands, one per file of cli/; main.c lists them. */
extern const cli_command cli_cmd_version;
extern const cli_command cli_cmd_gen;
extern const cli_command cli_cmd_filters;
extern const cli_command cli_cmd_ingest;
extern const cli_command cli_cmd_pull;
extern const cli_command cli_cmd_tail;
extern const cli_command cli_cmd_migrate;
extern const cli_command cli_cmd_archive;
extern const cli_command cli_cmd_search;
extern const cli_command cli_cmd_token;

#endif
