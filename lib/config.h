/* config — birdfeed's settings: command-line flags first, then environment,
 * then defaults.
 *
 * Every setting has a name (`history`), an environment variable
 * (`BIRDFEED_HISTORY`) and a flag spelled like its name (`--history`). The
 * table in config.c is the single list of them; `--check-config` prints it
 * with each value's source. Programs call config_init(), then config_set()
 * for each flag they got (flags win), then config_load_env(), which only
 * fills what no flag set. */
#ifndef BIRDFEED_CONFIG_H
#define BIRDFEED_CONFIG_H

#include <stddef.h>
#include <stdio.h>

typedef struct config {
    char *redis_url;          /* redis://, unix: or redis+sentinel:// URL (lib/bus.h), checked when set */
    char *redis_read;         /* where the responder reads (subscription, history): NULL the
                               * master (redis_url), "replica", or a one-server Redis URL */
    char *prefix;             /* Redis key prefix, "birdfeed:" */
    char *db_url;             /* sqlite:PATH or postgres://…; NULL: no archive */
    char *tokens_file;        /* bearer tokens, one a line; NULL: no writes allowed */
    char *jwt_secret_file;    /* HS256 key of reader tokens (lib/jwt.h); NULL: no reader tokens */
    char *log_file;           /* NULL: stderr */
    long long log_level;      /* enum log_level */
    long long history;        /* stream MAXLEN ~ */
    long long max_line;       /* longest accepted input line / tweet, bytes */
    long long preload;        /* default preload per stream */
    long long preload_max;    /* cap on ?preload= */
    long long heartbeat_ms;   /* ": ping" after this much silence */
    long long retry_ms;       /* SSE retry: sent first */
    long long client_buffer;  /* per-client output cap, bytes */
    long long max_clients;    /* streams per responder process */
    long long max_body;       /* REST body limit, bytes */
    long long body_timeout_ms; /* longest a REST body may take to arrive */
    long long filter_name_max;
    long long filter_phrases_max;
    long long filter_phrase_max;
    long long filters_max;
    long long auth_reads;     /* 1: reads and streams need a token too */
    long long backoff_max_ms; /* Redis reconnect backoff cap */
    char *cors_origins;       /* comma-separated allow-list; NULL: no CORS headers */
    long long coalesce_ms;    /* longest a busy hub holds new events to write several at once */
    char *web_server_addrs;   /* responder: IP addresses allowed to connect, comma-separated;
                               * NULL: any (checked by fcgi/listen.h, not here) */
    char *stream_listen;      /* responder: where it serves GET /stream itself (fcgi/direct.h);
                               * NULL: only through the web server */
    char *node;               /* this host's name: metrics keys, archive consumer, replica
                               * preference; config_load_env sets the host name when unset */
} config;

/* Fill cfg with defaults. Free with config_free. */
void config_init(config *cfg);
void config_free(config *cfg);   /* cfg may be NULL */
/* Set one setting by name from text (a flag). 0 ok, -1 with a reason in err. */
int config_set(config *cfg, const char *name, const char *value, char *err, size_t errlen);
/* Fill every setting no flag has set from its environment variable.
 * 0 ok, -1 when a variable is invalid (err names it and says why). */
int config_load_env(config *cfg, char *err, size_t errlen);
/* Print "name = value  (source)" for every setting; secrets are never printed. */
void config_print(const config *cfg, FILE *out);
struct option;
/* Append one getopt_long entry per setting to opts (at most max), with
 * val = base + index; returns how many were written. Pick base above every
 * short option character (e.g. 1000). */
size_t config_options(struct option *opts, size_t max, int base);
/* If val is one of those entries, set it from arg: 0 ok, -1 invalid (err says
 * why). Returns 1 when val is not a config option. */
int config_option(config *cfg, int val, int base, const char *arg, char *err, size_t errlen);
/* Usage lines for every setting ("  --history N   …  [BIRDFEED_HISTORY]"). */
void config_usage(FILE *out);

#endif
