#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "util.h"

enum kind { K_STR, K_NUM, K_LEVEL, K_BOOL, K_REDIS, K_READ, K_NAME };

struct setting {
    const char *name;
    enum kind kind;
    size_t off;
    long long min, max;
    const char *def;
    const char *help;
};

#define SN(name, field, k, lo, hi, d, h) \
    {name, k, offsetof(config, field), lo, hi, d, h}

/* The one list of settings. Names use '-' in flags and '_' nowhere else. */
static const struct setting settings[] = {
    SN("redis", redis_url, K_REDIS, 0, 0, "redis://127.0.0.1:6379/0",
       "Redis URL: redis://[:password@]host:port/db, unix:/path[?db=N] or "
       "redis+sentinel://[:password@]host:port,host:port,…/MASTERNAME[/db]"),
    SN("redis-read", redis_read, K_READ, 0, 0, NULL,
       "responder: where the feed and history are read: 'replica' (one the Sentinels of a redis+sentinel:// "
       "redis list, same node first) or a replica's redis:// or unix: URL (default: the master, redis)"),
    SN("prefix", prefix, K_STR, 0, 0, "birdfeed:", "prefix of every Redis key"),
    SN("db", db_url, K_STR, 0, 0, NULL, "archive: sqlite:PATH or postgres://…"),
    SN("tokens-file", tokens_file, K_STR, 0, 0, NULL, "bearer tokens allowed to change state, one a line"),
    SN("jwt-secret-file", jwt_secret_file, K_STR, 0, 0, NULL,
       "key of reader tokens (JWT, HS256): the file's bytes without trailing whitespace, 32 or more"),
    SN("log-file", log_file, K_STR, 0, 0, NULL, "log to this file instead of stderr"),
    SN("log-level", log_level, K_LEVEL, 0, 3, "info", "debug, info, warn or error"),
    SN("history", history, K_NUM, 1, 100000000, "100000", "tweets kept in the Redis stream (MAXLEN ~)"),
    SN("max-line", max_line, K_NUM, 256, 16777216, "1048576", "longest input line / tweet in bytes"),
    SN("preload", preload, K_NUM, 0, 100000, "500", "tweets replayed when a stream opens"),
    SN("preload-max", preload_max, K_NUM, 0, 100000, "5000", "largest ?preload= a client may ask for"),
    SN("heartbeat-ms", heartbeat_ms, K_NUM, 100, 3600000, "15000", "send ': ping' after this much silence (up to 1/4 more when many streams fell silent at once)"),
    SN("retry-ms", retry_ms, K_NUM, 0, 3600000, "2000", "SSE retry: value sent to browsers"),
    SN("client-buffer", client_buffer, K_NUM, 4096, 1073741824, "1048576", "output bytes one client may owe before it is cut off"),
    SN("max-clients", max_clients, K_NUM, 1, 1000000, "10000", "streams per responder process"),
    SN("max-body", max_body, K_NUM, 1024, 16777216, "65536", "largest REST request body in bytes"),
    SN("body-timeout-ms", body_timeout_ms, K_NUM, 100, 600000, "10000",
       "longest a REST request body may take to arrive (408 after)"),
    SN("filter-name-max", filter_name_max, K_NUM, 1, 100000, "100", "longest filter name in bytes"),
    SN("filter-phrases-max", filter_phrases_max, K_NUM, 1, 100000, "400", "most phrases in one filter"),
    SN("filter-phrase-max", filter_phrase_max, K_NUM, 1, 100000, "60", "longest phrase in bytes"),
    SN("filters-max", filters_max, K_NUM, 1, 10000000, "10000", "most saved filters"),
    SN("auth-reads", auth_reads, K_BOOL, 0, 1, "0", "1: reading filters and streams needs a token too"),
    SN("backoff-max-ms", backoff_max_ms, K_NUM, 10, 600000, "5000", "longest wait between Redis reconnects"),
    SN("cors-origins", cors_origins, K_STR, 0, 0, NULL, "comma-separated origins allowed by CORS"),
    SN("web-server-addrs", web_server_addrs, K_STR, 0, 0, NULL,
       "responder: IP addresses of the web servers allowed to connect over TCP, comma-separated "
       "(sets FCGI_WEB_SERVER_ADDRS; default: anyone who reaches the port)"),
    SN("stream-listen", stream_listen, K_STR, 0, 0, NULL,
       "responder: also serve GET /stream itself, without a web server, on HOST:PORT, [V6]:PORT, :PORT or a "
       "unix socket PATH (plain HTTP/1.1; the API stays behind the web server)"),
    SN("node", node, K_NAME, 0, 0, NULL,
       "this host's name for birdfeed: metrics keys, archive consumer, replica preference (default: the host name)"),
    SN("coalesce-ms", coalesce_ms, K_NUM, 0, 1000, "10",
       "longest a busy responder holds live events to send several in one write (0: never)"),
};

/* Where each value came from, by index into settings[]; kept beside the
 * config so config stays a plain struct. One process has one config. */
static const char *sources[ARRAY_LEN(settings)];

static const struct setting *find(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(settings); i++)
        if (strcmp(settings[i].name, name) == 0) return &settings[i];
    return NULL;
}

static void env_name(const struct setting *s, char *out, size_t n)
{
    size_t j = (size_t)snprintf(out, n, "BIRDFEED_");
    for (const char *p = s->name; *p && j + 1 < n; p++)
        out[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[j] = '\0';
}

/* Does the setting hold text (a char *), rather than a number? */
static int is_text(const struct setting *s)
{
    return s->kind == K_STR || s->kind == K_REDIS || s->kind == K_READ || s->kind == K_NAME;
}

/* The settings whose text has a shape: the Redis URL, where to read
 * (redis-read: 'replica' or one server's URL), the node name (it goes into
 * Redis keys and logs). 0 ok, -1 with the reason in err. */
static int check_text(const struct setting *s, const char *value, char *err, size_t errlen)
{
    if (s->kind == K_REDIS) return bus_url_check(value, err, errlen);
    if (s->kind == K_READ) {
        bus_url u;
        if (strcmp(value, "replica") == 0) return 0;
        if (strncmp(value, "redis+sentinel://", 17) == 0) {
            snprintf(err, errlen, "%s: a redis+sentinel:// URL names the master; to read from a replica the "
                     "Sentinels list, say 'replica'", s->name);
            return -1;
        }
        if (bus_url_parse(value, &u, err, errlen) == 0) return 0;
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (%s takes 'replica' or one server's URL)", s->name);
        return -1;
    }
    if (*value == '\0' || strlen(value) > 200) {
        snprintf(err, errlen, "%s: must be 1 to 200 bytes", s->name);
        return -1;
    }
    for (const char *c = value; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '*' || *c == '?' || *c == '[' || *c == ']') {
            snprintf(err, errlen, "%s: '%s' may not contain spaces, control characters, '*', '?', '[' or ']'", s->name,
                     value);
            return -1;
        }
    return 0;
}

static int assign(config *cfg, const struct setting *s, const char *value, char *err, size_t errlen)
{
    char *base = (char *)cfg;
    long long v;
    const char *why;

    switch (s->kind) {
    case K_REDIS:
    case K_READ:
    case K_NAME:
        if (check_text(s, value, err, errlen) < 0) return -1;
        /* fall through */
    case K_STR: {
        char **p = (char **)(base + s->off);
        free(*p);
        *p = value && *value ? xstrdup(value) : NULL;
        return 0;
    }
    case K_LEVEL:
        v = log_level_parse(value);
        if (v < 0) {
            snprintf(err, errlen, "%s: '%s' is not one of debug, info, warn, error", s->name, value);
            return -1;
        }
        break;
    case K_BOOL:
        if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on")) v = 1;
        else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off")) v = 0;
        else {
            snprintf(err, errlen, "%s: '%s' is not a boolean (1/0, true/false, yes/no)", s->name, value);
            return -1;
        }
        break;
    case K_NUM:
    default:
        if (parse_ll(value, s->min, s->max, &v, &why) < 0) {
            snprintf(err, errlen, "%s: '%s' is %s (allowed %lld..%lld)", s->name, value, why, s->min, s->max);
            return -1;
        }
        break;
    }
    *(long long *)(base + s->off) = v;
    return 0;
}

void config_init(config *cfg)
{
    char err[256];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
        sources[i] = "default";
        if (settings[i].def) assign(cfg, &settings[i], settings[i].def, err, sizeof err);
    }
}

void config_free(config *cfg)
{
    if (cfg == NULL) return;
    for (size_t i = 0; i < ARRAY_LEN(settings); i++)
        if (is_text(&settings[i])) {
            char **p = (char **)((char *)cfg + settings[i].off);
            free(*p);
            *p = NULL;
        }
}

int config_set(config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    const struct setting *s = find(name);
    if (s == NULL) {
        snprintf(err, errlen, "unknown setting '%s'", name);
        return -1;
    }
    if (assign(cfg, s, value, err, errlen) < 0) return -1;
    sources[s - settings] = "flag";
    return 0;
}

int config_load_env(config *cfg, char *err, size_t errlen)
{
    char name[64];
    for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
        const char *v;
        if (strcmp(sources[i], "flag") == 0) continue;
        env_name(&settings[i], name, sizeof name);
        v = getenv(name);
        if (v == NULL) continue;
        if (assign(cfg, &settings[i], v, err, errlen) < 0) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " (from %s)", name);
            return -1;
        }
        sources[i] = "env";
    }
    if (cfg->node == NULL) {
        char host[256];
        if (gethostname(host, sizeof host) < 0 || host[0] == '\0') strlcpy_safe(host, "unknown", sizeof host);
        host[sizeof host - 1] = '\0';
        cfg->node = xstrdup(host);
        sources[find("node") - settings] = "default: host name";
    }
    return 0;
}

/* Print a URL with any password replaced by "***": what lies between
 * "scheme://" (or the user name's ':') and the last '@' before the path. */
static void print_redacted(FILE *out, const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *p = scheme ? scheme + 3 : NULL, *at = NULL;
    for (const char *q = p; q && *q && *q != '/'; q++)
        if (*q == '@') at = q;
    if (at == NULL) {
        fputs(url, out);
        return;
    }
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *keep = colon ? colon + 1 : p;
    fprintf(out, "%.*s***%s", (int)(keep - url), url, at);
}

void config_print(const config *cfg, FILE *out)
{
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
        const struct setting *s = &settings[i];
        fprintf(out, "%-20s = ", s->name);
        if (is_text(s)) {
            const char *v = *(char *const *)(base + s->off);
            if (v) print_redacted(out, v);
            else fputs("(unset)", out);
        } else if (s->kind == K_LEVEL) {
            fputs(log_level_name((int)*(const long long *)(base + s->off)), out);
        } else {
            fprintf(out, "%lld", *(const long long *)(base + s->off));
        }
        fprintf(out, "  (%s)\n", sources[i]);
    }
}

void config_usage(FILE *out)
{
    char env[64], flag[64];
    for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
        const struct setting *s = &settings[i];
        env_name(s, env, sizeof env);
        snprintf(flag, sizeof flag, "--%s %s", s->name,
                 s->kind == K_LEVEL ? "LEVEL" : is_text(s) ? "S" : "N");
        fprintf(out, "  %-26s %s [%s", flag, s->help, env);
        if (s->def) fprintf(out, ", default %s", s->def);
        fputs("]\n", out);
    }
}

size_t config_options(struct option *opts, size_t max, int base)
{
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(settings) && n < max; i++, n++) {
        opts[n].name = settings[i].name;
        opts[n].has_arg = required_argument;
        opts[n].flag = NULL;
        opts[n].val = base + (int)i;
    }
    return n;
}

int config_option(config *cfg, int val, int base, const char *arg, char *err, size_t errlen)
{
    if (val < base || val >= base + (int)ARRAY_LEN(settings)) return 1;
    return config_set(cfg, settings[val - base].name, arg, err, errlen);
}
