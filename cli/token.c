/* birdfeed token — mint a reader token (a JWT signed with the key of
 * jwt-secret-file, lib/jwt.h) for browsers of a private deployment. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "jwt.h"
#include "util.h"

static const char token_help[] =
    "Print a reader token: a JSON Web Token (HS256) signed with the key in jwt-secret-file\n"
    "(--jwt-secret-file or BIRDFEED_JWT_SECRET_FILE), valid for --ttl seconds. It lets a\n"
    "browser read a private deployment (auth-reads=1) — streams, GET /api/filters,\n"
    "/api/tweets — and never change anything. With --filter, only those saved filters:\n"
    "the unfiltered stream, q= searches and other filters are refused (403).\n"
    "Deliver it as Authorization: Bearer, as the birdfeed_token cookie (POST\n"
    "/api/tokens/refresh sets it), or as ?access_token= on /stream. Rotating the key\n"
    "(replace the file, then SIGHUP the responders) revokes every token made with it.\n"
    "No server is contacted: filter ids are not looked up.\n"
    "Example: birdfeed token --ttl 3600 --filter 7 --filter 9\n\n"
    "Exit status: 0 ok, 1 writing failed, 2 usage error or no usable key.";

#define TOKEN_TTL_MAX (366LL * 24 * 3600)

struct token_opts {
    long long ttl;
    cli_list filters;
    int json;
};
static const struct token_opts token_defaults = {.ttl = 0};

static const cli_option token_options[] = {
    CLI_OPT_INT("ttl", 't', "SECONDS", struct token_opts, ttl, 1, TOKEN_TTL_MAX,
                "how long the token is valid (required; at most a year)"),
    CLI_OPT_LIST("filter", 'f', "ID", struct token_opts, filters,
                 "limit the token to this saved filter (repeat for more)"),
    CLI_OPT_FLAG("json", 0, struct token_opts, json,
                 "print {\"token\":…,\"expires_at\":…} as POST /api/tokens answers"),
    CLI_OPT_END,
};

static int token_run(void *opts, config *cfg, int argc, char **argv)
{
    const struct token_opts *o = opts;
    char err[512], when[32], *tok = NULL;
    jwt_claims c = {0};
    int rc = CLI_EXIT_USAGE;
    jwt_key *key = NULL;

    (void)argc;
    (void)argv;
    if (o->ttl == 0) {
        fprintf(stderr, "birdfeed token: --ttl SECONDS is required\nTry 'birdfeed token --help'.\n");
        return CLI_EXIT_USAGE;
    }
    if (cfg->jwt_secret_file == NULL) {
        fprintf(stderr, "birdfeed token: no key: set --jwt-secret-file FILE or BIRDFEED_JWT_SECRET_FILE\n");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < o->filters.n; i++) {
        if (!jwt_filter_id_ok(o->filters.v[i])) {
            fprintf(stderr, "birdfeed token: --filter '%s' is not a filter id (decimal digits)\n", o->filters.v[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (o->filters.n > JWT_MAX_FILTERS) {
        fprintf(stderr, "birdfeed token: at most %d --filter options\n", JWT_MAX_FILTERS);
        return CLI_EXIT_USAGE;
    }
    if ((key = jwt_key_new(cfg->jwt_secret_file, err, sizeof err)) == NULL) {
        fprintf(stderr, "birdfeed token: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    c.iat = (int64_t)time(NULL);
    c.exp = c.iat + o->ttl;
    if (o->filters.n) {
        c.filters = (char **)o->filters.v;    /* read only by jwt_key_sign */
        c.nfilters = o->filters.n;
    }
    if (jwt_key_sign(key, &c, &tok, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed token: %s\n", err);
        goto done;
    }
    time_t exp = (time_t)c.exp;
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&exp, &tm));
    if (o->json) printf("{\"token\":\"%s\",\"expires_at\":\"%s\"}\n", tok, when);
    else printf("%s\n", tok);
    fprintf(stderr, "birdfeed token: valid until %s%s\n", when, o->filters.n ? ", scoped to the filters given" : "");
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
done:
    free(tok);
    jwt_key_free(key);
    return rc;
}

const cli_command cli_cmd_token = {
    .name = "token",
    .summary = "mint a reader token (JWT) for browsers of a private deployment",
    .synopsis = "--ttl SECONDS [--filter ID]… [--json]",
    .description = token_help,
    CLI_OPTIONS(struct token_opts, token_options, &token_defaults),
    .max_operands = 0,
    .run = token_run,
};
