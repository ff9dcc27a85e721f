#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* getopt_long values: a short option is its own character; a long-only
 * option of the command is OPT_OWN_BASE + its row; a setting is
 * OPT_CONFIG_BASE + its index in lib/config.c's table. */
#define OPT_OWN_BASE 300
#define OPT_HELP 900
#define OPT_CHECK 901
#define OPT_CONFIG_BASE 1000
#define MAX_OPTS 128
#define HELP_COLUMN 29   /* where help lines start: "  " + 26 + " " */

static size_t count_options(const cli_command *cmd)
{
    size_t n = 0;
    if (cmd->options)
        while (cmd->options[n].name) n++;
    return n;
}

static void print_help_lines(const char *flag, const char *help, FILE *out)
{
    size_t w = strlen(flag);
    fprintf(out, "  %s", flag);
    if (w > HELP_COLUMN - 3) fprintf(out, "\n%*s", HELP_COLUMN, "");
    else fprintf(out, "%*s", (int)(HELP_COLUMN - 2 - w), "");
    for (const char *p = help; *p;) {
        size_t n = strcspn(p, "\n");
        fwrite(p, 1, n, out);
        fputc('\n', out);
        p += n;
        if (*p == '\n' && *++p) fprintf(out, "%*s", HELP_COLUMN, "");
    }
}

/* The --help text of cmd, generated from its table. */
static void cli_usage(const cli_command *cmd, FILE *out)
{
    size_t n = count_options(cmd);
    int shorts = 0;
    char flag[128];

    fprintf(out, "usage: birdfeed %s%s%s\n\n%s\n", cmd->name, *cmd->synopsis ? " " : "", cmd->synopsis,
            cmd->description);
    for (size_t i = 0; i < n; i++) shorts |= cmd->options[i].short_name != 0;
    if (n) fputs("\nOptions:\n", out);
    for (size_t i = 0; i < n; i++) {
        const cli_option *o = &cmd->options[i];
        int k = 0;
        if (o->short_name) k = snprintf(flag, sizeof flag, "-%c, ", o->short_name);
        else if (shorts) k = snprintf(flag, sizeof flag, "    ");
        snprintf(flag + k, sizeof flag - (size_t)k, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        print_help_lines(flag, o->help, out);
    }
    if (cmd->flags & CLI_NO_SETTINGS) {
        fputs("\n", out);
        print_help_lines("--help", "this text", out);
        return;
    }
    fputs("\nSettings (flag, environment variable, default):\n", out);
    config_usage(out);
    print_help_lines("--check-config", "print the effective configuration and exit", out);
    print_help_lines("--help", "this text", out);
}

static int usage_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "birdfeed %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'birdfeed %s --help'.\n", cmd->name);
    return -1;
}

/* Store one option's value in its field. 0 ok, -1 after printing why. */
static int set_option(const cli_command *cmd, const cli_option *o, const char *arg, void *opts)
{
    void *field = (char *)opts + o->offset;
    char why[256];
    const char *cwhy;
    long long v;

    switch (o->kind) {
    case CLI_KIND_FLAG:
        *(int *)field = 1;
        return 0;
    case CLI_KIND_INT:
        if (parse_ll(arg, o->min, o->max, &v, &cwhy) < 0)
            return usage_error(cmd, "--%s '%s' is %s (allowed %lld..%lld)", o->name, arg, cwhy, o->min, o->max);
        *(long long *)field = v;
        return 0;
    case CLI_KIND_TEXT: {
        size_t len = strlen(arg);
        if (len == 0 && o->min > 0) return usage_error(cmd, "--%s needs a %s", o->name, o->arg);
        if (len < (size_t)o->min || (o->max > 0 && len > (size_t)o->max))
            return usage_error(cmd, "--%s is %zu bytes long (allowed %lld..%lld)", o->name, len, o->min, o->max);
        *(const char **)field = arg;
        return 0;
    }
    case CLI_KIND_LIST: {
        cli_list *l = field;
        l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
        l->v[l->n++] = arg;
        return 0;
    }
    case CLI_KIND_CUSTOM:
        why[0] = '\0';
        if (o->parse(arg, field, why, sizeof why) < 0)
            return usage_error(cmd, "--%s '%s' is %s", o->name, arg, why[0] ? why : "invalid");
        return 0;
    }
    return -1;
}

/* The getopt_long tables for cmd: its own options, the settings, --help,
 * --check-config. Returns the number of long options written. */
static size_t build_getopt(const cli_command *cmd, struct option *lo, char *shortopts, size_t shortlen)
{
    size_t n = 0, k = 1, own = count_options(cmd);
    shortopts[0] = ':';   /* a missing value returns ':', an unknown option '?' */
    for (size_t i = 0; i < own && n < MAX_OPTS - 3; i++) {
        const cli_option *o = &cmd->options[i];
        int has_arg = o->kind == CLI_KIND_FLAG ? no_argument : required_argument;
        int val = o->short_name ? (unsigned char)o->short_name : OPT_OWN_BASE + (int)i;
        lo[n++] = (struct option){o->name, has_arg, NULL, val};
        if (o->short_name && k + 3 < shortlen) {
            shortopts[k++] = o->short_name;
            if (has_arg == required_argument) shortopts[k++] = ':';
        }
    }
    shortopts[k] = '\0';
    if (!(cmd->flags & CLI_NO_SETTINGS)) {
        n += config_options(lo + n, MAX_OPTS - n - 3, OPT_CONFIG_BASE);
        lo[n++] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
    }
    lo[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    lo[n] = (struct option){0, 0, 0, 0};
    return n;
}

/* The option getopt_long returned as val. */
static const cli_option *find_option(const cli_command *cmd, int val)
{
    size_t own = count_options(cmd);
    if (val >= OPT_OWN_BASE && val < OPT_OWN_BASE + (int)own) return &cmd->options[val - OPT_OWN_BASE];
    for (size_t i = 0; i < own; i++)
        if (cmd->options[i].short_name && (unsigned char)cmd->options[i].short_name == val) return &cmd->options[i];
    return NULL;
}

cli_parse_result cli_parse(const cli_command *cmd, int argc, char **argv, void *opts, config *cfg, int *first)
{
    struct option lo[MAX_OPTS];
    char shortopts[64], err[512];
    int check = 0, c;

    config_init(cfg);
    build_getopt(cmd, lo, shortopts, sizeof shortopts);
    optind = 0;   /* glibc: start afresh, even after an earlier parse stopped halfway */
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
        if (c == OPT_HELP) {
            cli_usage(cmd, stdout);
            return CLI_PARSE_EXIT_OK;
        }
        if (c == OPT_CHECK) {
            check = 1;
            continue;
        }
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            if (strncmp(bad, "--", 2) != 0 && optopt > 0 && optopt < 256)
                usage_error(cmd, "option -%c %s", optopt, c == ':' ? "needs a value" : "is unknown");
            else if (c == ':')
                usage_error(cmd, "option '%s' needs a value", bad);
            else
                usage_error(cmd, "option '%s' is unknown%s", bad, strchr(bad, '=') ? " or takes no value" : "");
            return CLI_PARSE_USAGE;
        }
        int r = config_option(cfg, c, OPT_CONFIG_BASE, optarg, err, sizeof err);
        if (r < 0) {
            fprintf(stderr, "birdfeed %s: %s\n", cmd->name, err);
            return CLI_PARSE_USAGE;
        }
        if (r == 0) continue;
        const cli_option *o = find_option(cmd, c);
        if (o == NULL || set_option(cmd, o, optarg, opts) < 0) return CLI_PARSE_USAGE;
    }
    if (cmd->max_operands >= 0 && argc - optind > cmd->max_operands) {
        usage_error(cmd, "unexpected argument '%s'\nusage: birdfeed %s %s", argv[optind + cmd->max_operands],
                    cmd->name, cmd->synopsis);
        return CLI_PARSE_USAGE;
    }
    *first = optind;
    if (cmd->flags & CLI_NO_SETTINGS) return CLI_PARSE_RUN;
    if (config_load_env(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed %s: invalid configuration: %s\n", cmd->name, err);
        return CLI_PARSE_USAGE;
    }
    log_set_level((int)cfg->log_level);
    if (cfg->log_file && log_open(cfg->log_file) < 0) {
        fprintf(stderr, "birdfeed %s: cannot open log file %s\n", cmd->name, cfg->log_file);
        return CLI_PARSE_USAGE;
    }
    if (check) {
        config_print(cfg, stdout);
        return CLI_PARSE_EXIT_OK;
    }
    return CLI_PARSE_RUN;
}

void cli_opts_free(const cli_command *cmd, void *opts)
{
    size_t n = count_options(cmd);
    if (opts == NULL) return;
    for (size_t i = 0; i < n; i++)
        if (cmd->options[i].kind == CLI_KIND_LIST) {
            cli_list *l = (cli_list *)((char *)opts + cmd->options[i].offset);
            free(l->v);
            l->v = NULL;
            l->n = 0;
        }
}

void cli_catch_signals(void (*handler)(int), int hup)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (hup) sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cli_main(const cli_command *cmd, int argc, char **argv)
{
    void *opts = xcalloc(1, cmd->opts_size ? cmd->opts_size : 1);
    config cfg;
    int first = 0, rc;

    if (cmd->defaults) memcpy(opts, cmd->defaults, cmd->opts_size);
    switch (cli_parse(cmd, argc, argv, opts, &cfg, &first)) {
    case CLI_PARSE_RUN: rc = cmd->run(opts, &cfg, argc - first, argv + first); break;
    case CLI_PARSE_EXIT_OK: rc = CLI_EXIT_OK; break;
    default: rc = CLI_EXIT_USAGE; break;
    }
    cli_opts_free(cmd, opts);
    free(opts);
    config_free(&cfg);
    return rc;
}
