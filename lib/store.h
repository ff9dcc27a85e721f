/* store — the SQL archive of tweets: SQLite or PostgreSQL behind
 * one interface.
 *
 * Table `tweets` holds one row per Redis stream entry, keyed by the stream id
 * (ms and seq as two integers, so rows sort as the stream does, plus the text
 * form), and at most one per tweet id (unique), author, language, time, text, the words search
 * uses and the canonical JSON. `words` holds the tweet's tokens as lib/token
 * cuts them for live matching (sign included: `#alpha alpha cafe café`),
 * and each engine indexes them as they are: FTS5 with the `ascii` tokenizer
 * ('#', '@', '_' token characters) on SQLite, a tsvector made with
 * array_to_tsvector and a GIN index on PostgreSQL. Searches speak the query
 * language of `/stream?q=` (comma-separated phrases, each phrase's words all
 * present), cut by lib/token as live filters are, so both find the same
 * tweets. The schema comes from sql/DIALECT/NNN_name.sql, embedded in the
 * binary at build time (store_migrations[]).
 *
 * A store is one connection: use it from one thread at a time. User input
 * reaches SQL only as bound parameters. */
#ifndef BIRDFEED_STORE_H
#define BIRDFEED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "bus.h"

typedef struct store store;

#define STORE_LIMIT_DEFAULT 20    /* search results per page when no limit is given */
#define STORE_LIMIT_MAX 500       /* the most a search may ask for */
#define STORE_TERMS_MAX 64        /* terms in one phrase of a query or a filter */
#define STORE_PHRASES_MAX 64      /* comma-separated phrases in q */
#define STORE_PHRASE_MAX 500      /* bytes in one phrase of q */

/* One embedded migration, generated from sql/DIALECT/NNN_name.sql. */
typedef struct store_migration {
    const char *engine;   /* "sqlite" | "postgres" */
    int version;          /* NNN */
    const char *name;     /* "base" */
    const char *sql;      /* the file's text */
} store_migration;

extern const store_migration store_migrations[];
extern const size_t store_migrations_count;

/* Open the archive at url: "sqlite:PATH" (the file is created when absent;
 * WAL journal, 5 s busy timeout) or "postgres://…" / "postgresql://…" (a
 * libpq URI). Does not touch the schema. Returns a store the caller frees
 * with store_close, or NULL with the reason in err. */
store *store_open(const char *url, char *err, size_t errlen);
void store_close(store *s);                        /* s may be NULL */
/* "sqlite" or "postgres". */
const char *store_engine(const store *s);
/* Newest schema version this binary carries for the store's engine. */
int store_latest_version(const store *s);
/* Schema version of the database (0: empty). 0 ok, -1 error (err). */
int store_version(store *s, int *version, char *err, size_t errlen);
/* What store_migrate did. */
typedef struct store_migrated {
    int applied;          /* migrations applied */
    long reworded;        /* rows whose words were recomputed for this binary's tokeniser
                           * (lib/token.h TOKEN_VERSION); -1: the words were current */
    int words_from;       /* when reworded >= 0: the tokeniser version they had (0: not recorded) */
} store_migrated;

/* Apply every migration above the current version up to target (0: the
 * newest), each in its own transaction that also records it in
 * schema_version; then, when the schema is the newest, recompute every
 * row's words in one transaction if the tokeniser version that cut them is
 * not this binary's (an archive whose words a newer birdfeed cut is
 * refused: "upgrade birdfeed"). Idempotent; safe when several run at once.
 * Refuses a database newer than the binary and a target below the current
 * version. done (may be NULL) says what ran, also on failure. 0 ok, -1
 * error (err). */
int store_migrate(store *s, int target, store_migrated *done, char *err, size_t errlen);
/* The tokeniser version that cut the archive's words (0: not recorded yet).
 * Needs schema version 5 or later. 0 ok, -1 error (err). */
int store_token_version(store *s, int *version, char *err, size_t errlen);
/* 0 when the schema is exactly the binary's newest and its words were cut
 * by this binary's tokeniser; -1 with what to do ("run birdfeed migrate",
 * "upgrade birdfeed") in err. */
int store_check(store *s, char *err, size_t errlen);
/* A cheap round trip (health checks). 0 ok, -1 error (err). */
int store_ping(store *s, char *err, size_t errlen);

/* One stream entry made ready for the archive. Strings are owned by the row
 * (store_row_free), except json, which points into the caller's text. */
typedef struct store_row {
    bus_id sid;
    char id[BUS_ID_MAX];
    char *tweet_id;
    char *author;         /* NULL when unknown */
    char *lang;           /* NULL when unknown */
    char *created_at;     /* NULL when unknown */
    char *text;
    buf words;
    const char *json;
    size_t json_len;
} store_row;

/* Fill row from a stream id and the entry's canonical tweet JSON. No I/O.
 * 0 ok; -1 with the reason in err ("stream id …: …", "not JSON…", "no id",
 * "no text") and nothing to free. json must stay valid while row is used. */
int store_row_parse(store_row *row, const char *id, const char *json, size_t json_len,
                    char *err, size_t errlen);
void store_row_free(store_row *row);               /* row may be NULL */

/* What store_insert did with the rows it was given: each was inserted or
 * skipped for one of two reasons. */
typedef struct store_counts {
    size_t inserted;
    size_t duplicates;    /* its tweet id is archived already under another stream id (a
                           * batch sent again after a Redis failover gets new stream ids) */
    size_t again;         /* its stream id is archived already (delivered again after a crash) */
} store_counts;

/* Store rows in one transaction. The archive keeps one row per stream id
 * and one per tweet id: a row whose stream id or tweet id is archived
 * already is skipped, so storing is idempotent and a tweet's first archived
 * entry stays. counts (may be NULL) gets what happened to the rows.
 * 0 ok (committed), -1 error (rolled back, err; counts all 0). */
int store_insert(store *s, const store_row *rows, size_t n, store_counts *counts, char *err, size_t errlen);

/* A saved filter as the archive asks it: any one of its phrases, in one of
 * its languages. */
typedef struct store_filter {
    const char *const *phrases;    /* any one must match (at least one) */
    size_t nphrases;
    const char *const *langs;      /* as live matching takes them ("en" also takes "en-GB", case
                                    * aside); 0: any */
    size_t nlangs;
} store_filter;

#define STORE_FILTERS_MAX 32       /* saved filters in one search */

/* A search over the archive, newest first. */
typedef struct store_query {
    const char *q;                 /* a query as /stream?q= takes it: any of its comma-separated
                                    * phrases, each with all its words; NULL or "": any tweet */
    const store_filter *filters;   /* saved filters: a tweet any one of them takes, as
                                    * /stream?filter=1,2 (q narrows what they take) */
    size_t nfilters;               /* 0: no filter; at most STORE_FILTERS_MAX */
    int has_before;                /* only entries older than before */
    bus_id before;
    int limit;                     /* 1..STORE_LIMIT_MAX */
} store_query;

/* Check a query before running it: 0 ok, -1 with a reason fit for a client
 * in err, worded as /stream?q= words it ("q: phrase has no words (only
 * punctuation)", "q (phrase 2): phrase is empty"). No I/O. */
int store_query_check(const store_query *q, char *err, size_t errlen);

/* Search results; free with store_result_free. */
typedef struct store_result {
    size_t n;
    char **ids;                    /* stream ids, newest first */
    char **jsons;                  /* canonical tweets */
    int has_next;                  /* more results exist: pass next as before */
    char next[BUS_ID_MAX];
} store_result;

/* Run q (checked with store_query_check first). With several filters, each
 * is one search and the pages are merged, each row once. 0 ok, -1 error
 * (err). */
int store_search(store *s, const store_query *q, store_result *res, char *err, size_t errlen);
void store_result_free(store_result *res);         /* res may be NULL */
/* Append {"tweets":[…],"next":"…"|null} to out. */
void store_result_json(const store_result *res, buf *out);

#endif
