/* birdfeed — the command-line tool: finds the command named by argv[1] and
 * hands it the rest (cli.h). A new command is one more line here. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const cli_command *const commands[] = {
    &cli_cmd_version, &cli_cmd_gen,     &cli_cmd_filters, &cli_cmd_ingest,
    &cli_cmd_pull,    &cli_cmd_tail,    &cli_cmd_migrate, &cli_cmd_archive, &cli_cmd_search,
    &cli_cmd_token,
};

static void usage(FILE *out)
{
    fputs("usage: birdfeed COMMAND [options]\n\n"
          "birdfeed streams tweets (or any JSON events) to browsers with Server-Sent Events.\n\n"
          "Commands:\n", out);
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\n'birdfeed COMMAND --help' describes a command and its options.\n", out);
}

static int version_run(void *opts, config *cfg, int argc, char **argv)
{
    (void)opts;
    (void)cfg;
    (void)argc;
    (void)argv;
    puts("birdfeed " BIRDFEED_VERSION);
    return CLI_EXIT_OK;
}

const cli_command cli_cmd_version = {
    .name = "version",
    .summary = "print the version",
    .synopsis = "",
    .description = "Print birdfeed's version.",
    .max_operands = 0,
    .flags = CLI_NO_SETTINGS,
    .run = version_run,
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) return version_run(NULL, NULL, 0, NULL);
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i]->name) == 0) return cli_main(commands[i], argc - 1, argv + 1);
    fprintf(stderr, "birdfeed: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
