/* filterdb — saved filters in Redis, for the REST API and `birdfeed filters`.
 *
 * Keys under the prefix:
 *   filters        hash  id → filter JSON (lib/filter.h form, with version)
 *   filters:seq    string, the last id handed out (INCR)
 *   filters:names  hash  folded name (filter_name_key) → id; keeps names unique
 *   filters:names:version  string, the tokeniser version (TOKEN_VERSION) that
 *                  folded the names' keys: a write finding another one rebuilds
 *                  the index first (filterdb_reindex)
 *   control        pub/sub: every change publishes a notice (lib/filter.h)
 * Each change is one Lua script, so the filter, the name index and the
 * notice move together, and concurrent writers cannot both win: a replace
 * reads the filter, then commits only if its version is still the one read.
 *
 * The store talks to Redis through a command function the caller supplies
 * (a plain hiredis context in the CLI; the acceptor thread's reconnecting
 * connection in the responder). Not thread-safe beyond what that function is. */
#ifndef BIRDFEED_FILTERDB_H
#define BIRDFEED_FILTERDB_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "filter.h"

#define FILTERDB_KEY_NAMES "filters:names"
#define FILTERDB_KEY_NAMES_VERSION "filters:names:version"

/* Run one command given as an argument vector; return the reply (the store
 * frees it) or NULL when Redis cannot be reached. idempotent is 1 for reads,
 * which may safely be retried after a reconnect. */
typedef redisReply *(*filterdb_cmd)(void *arg, int idempotent, int argc, const char **argv, const size_t *argvlen);

typedef struct filterdb {
    filterdb_cmd cmd;
    void *arg;
    const char *prefix;       /* key prefix, "birdfeed:" */
    long long filters_max;    /* create refuses beyond this many */
} filterdb;

/* Outcomes. Every function also writes a one-line reason into err. */
enum {
    FILTERDB_OK = 0,
    FILTERDB_ERROR = -1,          /* Redis unreachable or failing (503) */
    FILTERDB_NOT_FOUND = -2,      /* 404 */
    FILTERDB_DUPLICATE = -3,      /* another filter has this name (409) */
    FILTERDB_FULL = -4,           /* filters_max reached (409) */
    FILTERDB_PRECONDITION = -5    /* expected version differs (412) */
};

/* A command function over a plain hiredis context (arg is the redisContext *). */
redisReply *filterdb_context_cmd(void *arg, int idempotent, int argc, const char **argv, const size_t *argvlen);

/* Every filter, ordered by id. On FILTERDB_OK *out holds *n filters (caller
 * frees each with filter_free, then the array). Entries that do not parse are
 * skipped and logged. */
int filterdb_list(const filterdb *db, filter **out, size_t *n, char *err, size_t errlen);

/* One filter by id into *out (caller frees). FILTERDB_NOT_FOUND when absent
 * (also for ids that cannot exist, e.g. not decimal). */
int filterdb_get(const filterdb *db, const char *id, filter *out, char *err, size_t errlen);

/* Store a new filter (a validated one from filter_parse). On FILTERDB_OK f
 * gets its id, version 1 and times. */
int filterdb_create(const filterdb *db, filter *f, char *err, size_t errlen);

/* Replace filter id with f (full replace). if_version < 0: whatever version
 * is stored (retried on concurrent changes); else only when the stored
 * version is if_version, FILTERDB_PRECONDITION otherwise. On FILTERDB_OK f
 * holds the stored filter (new version, original created_at). */
int filterdb_replace(const filterdb *db, const char *id, long long if_version, filter *f, char *err, size_t errlen);

/* Delete filter id (if_version as for replace). */
int filterdb_delete(const filterdb *db, const char *id, long long if_version, char *err, size_t errlen);

/* What filterdb_reindex made. */
typedef struct filterdb_reindexed {
    size_t names;         /* filters in the index */
    size_t clashes;       /* filters left out: their name folds as a lower id's does now (each logged,
                           * filterdb.name_clash); they must be renamed before they can be changed */
} filterdb_reindexed;

/* Rebuild filters:names from the filters with this binary's folding, in one
 * script that runs only if no filter changed since they were read (else
 * read again), and record the version. The create, replace and delete above
 * call it themselves when they find the index folded by another version; a
 * newer one is refused ("upgrade birdfeed"). out may be NULL. */
int filterdb_reindex(const filterdb *db, filterdb_reindexed *out, char *err, size_t errlen);

#endif
