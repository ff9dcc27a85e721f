/* store_engine — what lib/store.c asks of an SQL engine: the ops table each
 * engine fills (lib/store_sqlite.c, lib/store_pg.c), and the pieces the
 * engine-neutral files share (lib/store.c: opening, insert, search, results;
 * lib/store_migrate.c: schema versions; lib/store_row.c: stream entries
 * made rows and their words). Internal to lib/store*.c: callers use
 * lib/store.h.
 *
 * An engine's own struct starts with a `store` (its ops), so a `store *` is
 * cast to it inside the engine file and nowhere else. Engines build their
 * own SQL from a store_plan: only fixed text and placeholders go into SQL,
 * every value from a query is a bound parameter. */
#ifndef BIRDFEED_STORE_ENGINE_H
#define BIRDFEED_STORE_ENGINE_H

#include <stdint.h>

#include "store.h"

/* SQLite's row id is the stream id folded into one integer, ms * 2^20 + seq,
 * so that rowid order is stream order. Entries with a larger seq (a million
 * entries in one millisecond) or a ms beyond 2^43 (year 2248) are refused on
 * both engines alike (store_row_parse). */
#define STORE_SEQ_BITS 20
#define STORE_SEQ_LIMIT (UINT64_C(1) << STORE_SEQ_BITS)
#define STORE_MS_LIMIT (UINT64_C(1) << 43)

/* A full-text condition: it holds when all terms of any one phrase are among
 * a row's words. Terms are cut from the query by lib/token (so they hold no
 * space, quote or backslash). */
typedef struct store_phrases {
    char ***terms;        /* terms[i][0..nterms[i]) */
    size_t *nterms;
    size_t n;             /* 0: no condition */
} store_phrases;

/* A checked search, ready for an engine: q and the filter as phrases of
 * terms (both must hold), the rest as in store_query. The engine returns at
 * most limit + 1 rows, newest first, through store_result_add. */
typedef struct store_plan {
    store_phrases q;
    store_phrases filter;
    /* The filter's languages, as the live matcher takes them (lib/match.h):
     * a row's lang, lower-cased, equals langs[i] or starts with langs[i]
     * and '-' ("en" takes "en-GB"): the engine asks `lower(lang) = langs[i]
     * OR lower(lang) LIKE lang_like[i] ESCAPE '\'` ("en-%", LIKE's own
     * characters escaped). Owned by the plan. */
    char **langs;
    char **lang_like;
    size_t nlangs;
    int has_before;               /* only when before is below the archive's id range */
    uint64_t before_ms, before_seq;
    int limit;
} store_plan;

/* One row met by ops->scan: its stream id and canonical JSON (valid during
 * the call). */
typedef void (*store_scan_fn)(void *ctx, bus_id sid, const char *json, size_t len);

#define STORE_BATCH_MAX 1000   /* rows per ops->scan / ops->set_words in a migration */

typedef struct store_ops {
    const char *name;                                     /* "sqlite" | "postgres" */
    /* Open the database at url (the engine's URL form). NULL with err. */
    store *(*open)(const char *url, char *err, size_t errlen);
    void (*close)(store *s);
    /* Statements without parameters (one or several). 0 ok, -1 err. */
    int (*exec)(store *s, const char *sql, char *err, size_t errlen);
    /* A query yielding one integer (NULL reads as 0). 0 ok, -1 err. */
    int (*query_int)(store *s, const char *sql, long long *out, char *err, size_t errlen);
    /* Start a write transaction; migrate: one migrator at a time across
     * processes (SQLite's write lock; a PostgreSQL advisory lock). A broken
     * connection is reopened here, never inside a transaction. */
    int (*begin)(store *s, int migrate, char *err, size_t errlen);
    int (*commit)(store *s, char *err, size_t errlen);
    void (*rollback)(store *s);
    /* Counts the schema_version tables of the current schema (0 or 1). */
    const char *version_table_sql;
    /* The tokeniser version of the words (one integer; on PostgreSQL with
     * FOR SHARE, so a reader waits while a migrate rewrites the words). */
    const char *token_version_sql;
    /* Store rows[0..n) (n > 0) in one transaction, skipping a row whose
     * stream id or tweet id is there already; c (zeroed) counts each row. */
    int (*insert)(store *s, const store_row *rows, size_t n, store_counts *c, char *err, size_t errlen);
    /* Run plan, adding rows to res with store_result_add. */
    int (*search)(store *s, const store_plan *plan, store_result *res, char *err, size_t errlen);
    /* Inside a migration: the rows after stream id *after (NULL: from the
     * first), in stream order, at most max, each given to fn. Returns how
     * many, or -1 (err). */
    long (*scan)(store *s, const bus_id *after, size_t max, store_scan_fn fn, void *ctx, char *err, size_t errlen);
    /* Inside a migration: words[i] becomes the words of the row with stream
     * id sids[i], for i < n (n <= STORE_BATCH_MAX). 0 ok, -1 err. */
    int (*set_words)(store *s, const bus_id *sids, const buf *words, size_t n, char *err, size_t errlen);
} store_ops;

struct store {
    const store_ops *ops;
    int words_checked;    /* store_check found the words cut by this binary's tokeniser:
                           * inserts check it again inside their transaction */
};

extern const store_ops store_sqlite_ops;
extern const store_ops store_pg_ops;

/* Write a one-line reason into err (CR/LF become spaces: libpq's messages
 * span lines). err may be NULL when errlen is 0. Returns -1. */
int store_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append the words of the canonical tweet json[0..len) to out, as
 * store_row_parse makes them (NUL-terminated). 0 ok; -1 when json is not a
 * tweet object (out unchanged). */
int store_row_words(const char *json, size_t len, buf *out);

/* Inside an insert's transaction, for a store store_check accepted: -1
 * (err: what to do) when the archive's words are now cut by another
 * tokeniser version than this binary's (a migrate of another birdfeed ran
 * since), else 0. Its read waits for a migrate rewriting the words. */
int store_words_guard(store *s, char *err, size_t errlen);

/* Append a row (copies of id and json) to res. */
void store_result_add(store_result *res, const char *id, const char *json);

#endif
