/* Unit tests for cli/cli: option tables → parsing, messages, --help. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/cli.h"
#include "test.h"

struct topts {
    long long count;
    int verbose;
    const char *name;
    cli_list tags;
    double ratio;
};

static int parse_ratio(const char *arg, void *field, char *why, size_t whylen)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || v < 0 || v > 1) {
        snprintf(why, whylen, "not a ratio (want 0 to 1)");
        return -1;
    }
    *(double *)field = v;
    return 0;
}

static const cli_option topts_table[] = {
    CLI_OPT_INT("count", 'n', "N", struct topts, count, 1, 10, "how many (default 3)"),
    CLI_OPT_FLAG("verbose", 'v', struct topts, verbose, "say more"),
    CLI_OPT_TEXT("name", 0, "NAME", struct topts, name, 1, 8, "a name,\nat most 8 bytes"),
    CLI_OPT_LIST("tag", 0, "TAG", struct topts, tags, "a tag (repeat)"),
    CLI_OPT_CUSTOM("ratio", 0, "R", struct topts, ratio, parse_ratio, "a ratio"),
    CLI_OPT_END,
};

static const struct topts topts_defaults = {.count = 3};
static int runs, run_argc;
static char run_first[32];

static int trun(void *opts, config *cfg, int argc, char **argv)
{
    const struct topts *o = opts;
    (void)cfg;
    runs++;
    run_argc = argc;
    snprintf(run_first, sizeof run_first, "%s", argc ? argv[0] : "");
    return o->verbose ? 7 : 0;
}

static const cli_command tcmd = {
    .name = "t", .summary = "a test command", .max_operands = 1, .synopsis = "[options] [X]",
    .description = "Test.", CLI_OPTIONS(struct topts, topts_table, &topts_defaults), .run = trun,
};

/* Run cli_parse on a NULL-terminated argument list; what it printed on
 * stdout and stderr lands in out / err (static, overwritten by the next call). */
static char out[16384], err[16384];
static cli_parse_result parse(struct topts *o, config *cfg, int *first, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, first);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;) argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    FILE *fo = tmpfile(), *fe = tmpfile();
    int so = dup(1), se = dup(2);
    fflush(stdout);
    fflush(stderr);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    *o = topts_defaults;
    cli_parse_result r = cli_parse(&tcmd, argc, argv, o, cfg, first);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    size_t n;
    rewind(fo);
    n = fread(out, 1, sizeof out - 1, fo);
    out[n] = '\0';
    rewind(fe);
    n = fread(err, 1, sizeof err - 1, fe);
    err[n] = '\0';
    fclose(fo);
    fclose(fe);
    return r;
}

static void test_values(void)
{
    struct topts o;
    config cfg;
    int first = -1;
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "-n", "5", "-v", "--name", "ab", "--tag", "x", "--tag=y", "--ratio", "0.5",
                    "op", NULL),
              CLI_PARSE_RUN);
    ASSERT_EQ(o.count, 5);
    ASSERT_EQ(o.verbose, 1);
    ASSERT_STREQ(o.name, "ab");
    ASSERT_EQ(o.tags.n, 2);
    ASSERT_STREQ(o.tags.v[0], "x");
    ASSERT_STREQ(o.tags.v[1], "y");
    ASSERT(o.ratio == 0.5);
    ASSERT_EQ(first, 11);
    ASSERT_STREQ(err, "");
    cli_opts_free(&tcmd, &o);
    ASSERT(o.tags.v == NULL);
    config_free(&cfg);
}

static void test_defaults_kept(void)
{
    struct topts o;
    config cfg;
    int first;
    ASSERT_EQ(parse(&o, &cfg, &first, "t", NULL), CLI_PARSE_RUN);
    ASSERT_EQ(o.count, 3);
    ASSERT_EQ(o.verbose, 0);
    ASSERT(o.name == NULL);
    ASSERT_EQ(first, 1);
    config_free(&cfg);
}

static void test_bad_values(void)
{
    struct topts o;
    config cfg;
    int first;
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--count", "0", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "birdfeed t: --count '0' is too small (allowed 1..10)\nTry 'birdfeed t --help'.\n");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "-n", "x", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "--count 'x' is not a number");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--name", "", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "--name needs a NAME");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--name", "123456789", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "--name is 9 bytes long (allowed 1..8)");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--ratio", "2", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "--ratio '2' is not a ratio (want 0 to 1)");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--bogus", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "option '--bogus' is unknown\n");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--count", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "option '--count' needs a value");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--verbose=1", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "option '--verbose=1' is unknown or takes no value");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "-x", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "option -x is unknown");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "-n", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "option -n needs a value");
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--history", "abc", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "birdfeed t: history: 'abc' is not a number");
    config_free(&cfg);
}

static void test_operands(void)
{
    struct topts o;
    config cfg;
    int first;
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "a", "b", NULL), CLI_PARSE_USAGE);
    ASSERT_CONTAINS(err, "birdfeed t: unexpected argument 'b'\nusage: birdfeed t [options] [X]\n");
    config_free(&cfg);
    /* options after an operand are still options (GNU getopt permutes) */
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "a", "-v", NULL), CLI_PARSE_RUN);
    ASSERT_EQ(o.verbose, 1);
    ASSERT_EQ(first, 2);
    config_free(&cfg);
}

static void test_settings(void)
{
    struct topts o;
    config cfg;
    int first;
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--history", "77", NULL), CLI_PARSE_RUN);
    ASSERT_EQ(cfg.history, 77);
    config_free(&cfg);
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "--check-config", "--history", "78", NULL), CLI_PARSE_EXIT_OK);
    ASSERT_CONTAINS(out, "history              = 78  (flag");
    config_free(&cfg);
}

static void test_help(void)
{
    struct topts o;
    config cfg;
    int first;
    ASSERT_EQ(parse(&o, &cfg, &first, "t", "-n", "2", "--help", NULL), CLI_PARSE_EXIT_OK);
    ASSERT_CONTAINS(out, "usage: birdfeed t [options] [X]\n\nTest.\n\nOptions:\n");
    ASSERT_CONTAINS(out, "\n  -n, --count N              how many (default 3)\n");
    ASSERT_CONTAINS(out, "\n      --name NAME            a name,\n                             at most 8 bytes\n");
    ASSERT_CONTAINS(out, "\n  -v, --verbose              say more\n");
    ASSERT_CONTAINS(out, "Settings (flag, environment variable, default):\n");
    ASSERT_CONTAINS(out, "  --history N");
    ASSERT_CONTAINS(out, "\n  --help                     this text\n");
    ASSERT_STREQ(err, "");
    config_free(&cfg);
}

static int nrun(void *opts, config *cfg, int argc, char **argv)
{
    (void)opts;
    (void)cfg;
    (void)argv;
    return argc;
}

static void test_no_settings(void)
{
    static const cli_command plain = {
        .name = "plain", .summary = "s", .max_operands = 2, .synopsis = "", .description = "Plain.",
        .flags = CLI_NO_SETTINGS, .run = nrun,
    };
    char *argv1[] = {"plain", "--history", "5", NULL};
    char *argv2[] = {"plain", "a", "b", NULL};
    fflush(stderr);
    int se = dup(2);
    FILE *fe = tmpfile();
    dup2(fileno(fe), 2);
    int r1 = cli_main(&plain, 3, argv1);
    fflush(stderr);
    dup2(se, 2);
    close(se);
    fclose(fe);
    ASSERT_EQ(r1, CLI_EXIT_USAGE);
    ASSERT_EQ(cli_main(&plain, 3, argv2), 2);   /* run got the two operands */
}

static void test_main_runs(void)
{
    char *argv[] = {"t", "--tag", "a", "-v", "op", NULL};
    runs = 0;
    ASSERT_EQ(cli_main(&tcmd, 5, argv), 7);
    ASSERT_EQ(runs, 1);
    ASSERT_EQ(run_argc, 1);
    ASSERT_STREQ(run_first, "op");
    char *bad[] = {"t", "--count", "99", NULL};
    fflush(stderr);
    int se = dup(2);
    FILE *fe = tmpfile();
    dup2(fileno(fe), 2);
    int r = cli_main(&tcmd, 3, bad);
    fflush(stderr);
    dup2(se, 2);
    close(se);
    fclose(fe);
    ASSERT_EQ(r, CLI_EXIT_USAGE);
    ASSERT_EQ(runs, 1);
}

int main(void)
{
    /* the settings come from flags here, not from the test's environment */
    unsetenv("BIRDFEED_HISTORY");
    unsetenv("BIRDFEED_LOG_FILE");
    RUN(test_values);
    RUN(test_defaults_kept);
    RUN(test_bad_values);
    RUN(test_operands);
    RUN(test_settings);
    RUN(test_help);
    RUN(test_no_settings);
    RUN(test_main_runs);
    return test_summary();
}
