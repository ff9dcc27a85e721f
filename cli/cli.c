#include "cli.h"

#include <string.h>

#include "log.h"
#include "util.h"

#define OPT_CONFIG_BASE 1000
#define OPT_HELP 900
#define OPT_CHECK 901
#define MAX_OPTS 96

void cli_usage(const cli_spec *spec, FILE *out)
{
    fprintf(out, "usage: birdfeed %s %s\n\n%s\n", spec->name, spec->synopsis, spec->description);
    if (spec->options_help && *spec->options_help)
        fprintf(out, "\nOptions:\n%s", spec->options_help);
    fputs("\nSettings (flag, environment variable, default):\n", out);
    config_usage(out);
    fputs("  --check-config             print the effective configuration and exit\n"
          "  --help                     this text\n", out);
}

int cli_parse(const cli_spec *spec, int argc, char **argv, config *cfg)
{
    struct option opts[MAX_OPTS];
    size_t n = 0;
    char err[512];
    int check = 0, c;

    config_init(cfg);
    if (spec->longopts)
        for (const struct option *o = spec->longopts; o->name && n < MAX_OPTS - 40; o++)
            opts[n++] = *o;
    n += config_options(opts + n, MAX_OPTS - n - 3, OPT_CONFIG_BASE);
    opts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    opts[n++] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
    opts[n] = (struct option){0, 0, 0, 0};

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, spec->shortopts ? spec->shortopts : "", opts, NULL)) != -1) {
        if (c == OPT_HELP) {
            cli_usage(spec, stdout);
            return -100;
        }
        if (c == OPT_CHECK) {
            check = 1;
            continue;
        }
        if (c == '?' || c == ':') {
            if (optopt && optopt < 256)
                fprintf(stderr, "birdfeed %s: option -%c %s\n", spec->name, optopt,
                        c == ':' ? "needs a value" : "is unknown");
            else
                fprintf(stderr, "birdfeed %s: option '%s' is unknown or needs a value\n", spec->name,
                        argv[optind - 1]);
            fprintf(stderr, "Try 'birdfeed %s --help'.\n", spec->name);
            return -EXIT_USAGE;
        }
        int r = config_option(cfg, c, OPT_CONFIG_BASE, optarg, err, sizeof err);
        if (r < 0) {
            fprintf(stderr, "birdfeed %s: %s\n", spec->name, err);
            return -EXIT_USAGE;
        }
        if (r == 0) continue;
        if (spec->on_option == NULL || spec->on_option(c, optarg, spec->ctx) < 0)
            return -EXIT_USAGE;
    }
    if (config_load_env(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed %s: invalid configuration: %s\n", spec->name, err);
        return -EXIT_USAGE;
    }
    log_set_level((int)cfg->log_level);
    if (cfg->log_file && log_open(cfg->log_file) < 0) {
        fprintf(stderr, "birdfeed %s: cannot open log file %s\n", spec->name, cfg->log_file);
        return -EXIT_USAGE;
    }
    if (check) {
        config_print(cfg, stdout);
        return -100;
    }
    return optind;
}
