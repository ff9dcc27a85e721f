/* store_migrate — schema versions of the archive: the migrations embedded
 * from sql/DIALECT/NNN_name.sql (store_migrations[]), applied in order, each
 * in one transaction with its schema_version row; and the version of
 * lib/token's rules that cut the rows' words (table token_version), brought
 * to this binary's by recomputing them. Engine-neutral: it speaks to the
 * database through the engine's ops (lib/store_engine.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store.h"
#include "store_engine.h"
#include "token.h"
#include "util.h"

/* The schema version whose migration made table token_version. */
#define TOKEN_VERSION_SCHEMA 5

static const store_migration *find_migration(const store *s, int version)
{
    for (size_t i = 0; i < store_migrations_count; i++)
        if (strcmp(store_migrations[i].engine, s->ops->name) == 0 && store_migrations[i].version == version)
            return &store_migrations[i];
    return NULL;
}

int store_latest_version(const store *s)
{
    int v = 0;
    for (size_t i = 0; i < store_migrations_count; i++)
        if (strcmp(store_migrations[i].engine, s->ops->name) == 0 && store_migrations[i].version > v)
            v = store_migrations[i].version;
    return v;
}

int store_version(store *s, int *version, char *err, size_t errlen)
{
    long long exists = 0, v = 0;
    if (s->ops->query_int(s, s->ops->version_table_sql, &exists, err, errlen) < 0) return -1;
    if (exists && s->ops->query_int(s, "SELECT coalesce(max(version), 0) FROM schema_version", &v, err, errlen) < 0)
        return -1;
    *version = (int)v;
    return 0;
}

/* A migration whose SQL holds this line has birdfeed recompute every row's
 * words where the line stands (reword_all): what is before it runs first,
 * what is after it runs on the new words. */
#define REWORD_MARK "\n-- @recompute-words"

/* Rows being reworded, a batch at a time. */
typedef struct reword {
    bus_id sids[STORE_BATCH_MAX];
    buf words[STORE_BATCH_MAX];
    size_t n;
    bus_id last;                  /* the last row met: the next batch starts after it */
} reword;

static void reword_row(void *ctx, bus_id sid, const char *json, size_t len)
{
    reword *r = ctx;
    r->last = sid;
    buf_reset(&r->words[r->n]);
    if (store_row_words(json, len, &r->words[r->n]) == 0) r->sids[r->n++] = sid;   /* else its words stay */
}

/* Set the words of every row anew, with this version's tokeniser; *rows
 * (may be NULL) gets how many. Inside a transaction. */
static int reword_all(store *s, long *rows, char *err, size_t errlen)
{
    reword *r = xcalloc(1, sizeof *r);
    const bus_id *after = NULL;
    long got, total = 0;
    int rc = 0;
    do {
        r->n = 0;
        got = s->ops->scan(s, after, STORE_BATCH_MAX, reword_row, r, err, errlen);
        if (got < 0 || (r->n > 0 && s->ops->set_words(s, r->sids, r->words, r->n, err, errlen) < 0)) rc = -1;
        total += (long)r->n;
        after = &r->last;
    } while (rc == 0 && got == STORE_BATCH_MAX);
    if (rows) *rows = total;
    for (size_t i = 0; i < STORE_BATCH_MAX; i++) buf_free(&r->words[i]);
    free(r);
    return rc;
}

/* Run m's SQL (and the rewording its marker asks for). 0 ok, -1 err. */
static int run_sql(store *s, const store_migration *m, char *err, size_t errlen)
{
    const char *mark = strstr(m->sql, REWORD_MARK);
    if (mark == NULL) return s->ops->exec(s, m->sql, err, errlen);
    buf before = BUF_INIT;
    buf_append(&before, m->sql, (size_t)(mark - m->sql));
    int rc = s->ops->exec(s, before.data, err, errlen);
    buf_free(&before);
    if (rc == 0) rc = reword_all(s, NULL, err, errlen);
    return rc == 0 ? s->ops->exec(s, mark + 1, err, errlen) : -1;
}

/* Apply migration m in one transaction unless another process already did. */
static int apply_one(store *s, const store_migration *m, int *applied, char *err, size_t errlen)
{
    char why[512], record[160];
    int v;
    if (s->ops->begin(s, 1, err, errlen) < 0) return -1;
    if (store_version(s, &v, err, errlen) < 0) goto fail;
    if (v >= m->version) {                 /* someone else got there first */
        s->ops->rollback(s);
        return 0;
    }
    if (v != m->version - 1) {
        store_err(err, errlen, "schema is at version %d, migration %03d_%s needs %d", v, m->version, m->name,
                  m->version - 1);
        goto fail;
    }
    if (run_sql(s, m, why, sizeof why) < 0) {
        store_err(err, errlen, "migration %03d_%s failed: %s", m->version, m->name, why);
        goto fail;
    }
    /* Names are [a-z0-9_] (sql/embed.sh checks), so they can be spelled in SQL. */
    snprintf(record, sizeof record, "INSERT INTO schema_version (version, name) VALUES (%d, '%s')", m->version,
             m->name);
    if (s->ops->exec(s, record, why, sizeof why) < 0) {
        store_err(err, errlen, "recording version %d: %s", m->version, why);
        goto fail;
    }
    if (s->ops->commit(s, err, errlen) < 0) goto fail;
    (*applied)++;
    return 0;
fail:
    s->ops->rollback(s);
    return -1;
}

int store_token_version(store *s, int *version, char *err, size_t errlen)
{
    long long v;
    if (s->ops->query_int(s, s->ops->token_version_sql, &v, err, errlen) < 0) return -1;
    *version = (int)v;
    return 0;
}

/* What to do about words cut by tokeniser version v (not this binary's). */
static int words_err(int v, char *err, size_t errlen)
{
    if (v > TOKEN_VERSION)
        return store_err(err, errlen,
                         "the archive's words were cut by tokenizer version %d, newer than this birdfeed's (%d):"
                         " upgrade birdfeed", v, TOKEN_VERSION);
    if (v == 0)
        return store_err(err, errlen,
                         "the archive's words were cut by an older tokenizer (version not recorded), this birdfeed's is"
                         " version %d: run 'birdfeed migrate'", TOKEN_VERSION);
    return store_err(err, errlen,
                     "the archive's words were cut by tokenizer version %d, this birdfeed's is %d: run 'birdfeed migrate'",
                     v, TOKEN_VERSION);
}

/* Bring the words to this binary's tokeniser unless they are cut by it:
 * in one migration transaction (another migrate waits, and finds them
 * current), the version first — on PostgreSQL its row lock holds off
 * archivers' inserts (store_words_guard) until every row is reworded. */
static int words_migrate(store *s, store_migrated *done, char *err, size_t errlen)
{
    char set[64];
    long rows = 0;
    int v;
    if (s->ops->begin(s, 1, err, errlen) < 0) return -1;
    if (store_token_version(s, &v, err, errlen) < 0) goto fail;
    if (v == TOKEN_VERSION) {
        s->ops->rollback(s);
        return 0;
    }
    if (v > TOKEN_VERSION) {
        words_err(v, err, errlen);
        goto fail;
    }
    snprintf(set, sizeof set, "UPDATE token_version SET version = %d", TOKEN_VERSION);
    if (s->ops->exec(s, set, err, errlen) < 0 || reword_all(s, &rows, err, errlen) < 0 ||
        s->ops->commit(s, err, errlen) < 0)
        goto fail;
    done->reworded = rows;
    done->words_from = v;
    return 0;
fail:
    s->ops->rollback(s);
    return -1;
}

int store_words_guard(store *s, char *err, size_t errlen)
{
    int v;
    if (!s->words_checked) return 0;
    if (store_token_version(s, &v, err, errlen) < 0) return -1;
    return v == TOKEN_VERSION ? 0 : words_err(v, err, errlen);
}

int store_migrate(store *s, int target, store_migrated *out, char *err, size_t errlen)
{
    int latest = store_latest_version(s), v, rc = 0;
    store_migrated ignore, *done = out ? out : &ignore;
    done->applied = 0;
    done->reworded = -1;
    done->words_from = 0;
    if (target == 0) target = latest;
    if (target < 0 || target > latest)
        return store_err(err, errlen, "no schema version %d: this birdfeed knows versions 1 to %d", target, latest);
    if (store_version(s, &v, err, errlen) < 0) return -1;
    if (v > latest)
        return store_err(err, errlen,
                         "the database schema is version %d, newer than this birdfeed knows (%d): upgrade birdfeed",
                         v, latest);
    if (target < v)
        return store_err(err, errlen,
                         "the database schema is already at version %d; migrations only go forward (asked for %d)",
                         v, target);
    for (int n = v + 1; n <= target; n++) {
        const store_migration *m = find_migration(s, n);
        if (m == NULL) {
            rc = store_err(err, errlen, "migration %03d for %s is missing from this build", n, store_engine(s));
            break;
        }
        if ((rc = apply_one(s, m, &done->applied, err, errlen)) < 0) break;
    }
    if (rc == 0 && target == latest && latest >= TOKEN_VERSION_SCHEMA) rc = words_migrate(s, done, err, errlen);
    return rc;
}

int store_check(store *s, char *err, size_t errlen)
{
    int v, latest = store_latest_version(s);
    if (store_version(s, &v, err, errlen) < 0) return -1;
    if (v == latest) {
        if (latest >= TOKEN_VERSION_SCHEMA) {
            if (store_token_version(s, &v, err, errlen) < 0) return -1;
            if (v != TOKEN_VERSION) return words_err(v, err, errlen);
        }
        s->words_checked = 1;
        return 0;
    }
    if (v > latest)
        return store_err(err, errlen,
                         "the database schema is version %d, newer than this birdfeed knows (%d): upgrade birdfeed",
                         v, latest);
    return store_err(err, errlen, "the database schema is version %d, this birdfeed needs %d: run 'birdfeed migrate'",
                     v, latest);
}
