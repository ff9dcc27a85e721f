/* birdfeed — the command-line tool. Dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    puts("birdfeed " BIRDFEED_VERSION);
    return 0;
}

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"version", cmd_version, "print the version"},
    {"gen", cmd_gen, "write synthetic tweets (Twitter v1.1 or canonical), one per line"},
    {"filters", cmd_filters, "list, add, show, update and remove saved filters"},
    {"ingest", cmd_ingest, "publish tweets (NDJSON files or stdin) into Redis"},
    {"tail", cmd_tail, "print live tweets, one canonical JSON object a line"},
    {"migrate", cmd_migrate, "create or upgrade the archive's SQL schema"},
    {"archive", cmd_archive, "copy the tweets stream into the SQL archive (a service)"},
    {"search", cmd_search, "search the archive"},
};

static void usage(FILE *out)
{
    fputs("usage: birdfeed COMMAND [options]\n\n"
          "birdfeed streams tweets (or any JSON events) to browsers with Server-Sent Events.\n\n"
          "Commands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'birdfeed COMMAND --help' describes a command and its options.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "birdfeed: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
