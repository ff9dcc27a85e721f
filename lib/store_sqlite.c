/* store_sqlite — the SQLite engine of the archive (lib/store_engine.h).
 *
 * One file, WAL journal (searches never wait for the archiver),
 * synchronous=FULL (a committed batch survives a power cut: the stream
 * entries are acknowledged right after the commit), 5 s busy timeout. Rows
 * are keyed by rid = ms * 2^20 + seq, which is also the full-text index's
 * rowid, so newest first is a backwards rowid scan even inside a match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_engine.h"
#include "util.h"

#define BUSY_MS 5000

typedef struct sq_store {
    store base;
    sqlite3 *db;
    sqlite3_stmt *insert;        /* prepared on first insert */
    sqlite3_stmt *has_rid;       /* "is this stream id archived?", for skipped rows */
} sq_store;

static sq_store *sq(store *s)
{
    return (sq_store *)s;
}

static int sq_exec(store *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(sq(s)->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        store_err(err, errlen, "sqlite: %s", msg ? msg : sqlite3_errmsg(sq(s)->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int sq_query_int(store *s, const char *sql, long long *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sq(s)->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_err(err, errlen, "sqlite: %s", sqlite3_errmsg(sq(s)->db));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static void sq_close(store *s)
{
    sqlite3_finalize(sq(s)->insert);
    sqlite3_finalize(sq(s)->has_rid);
    if (sq(s)->db) sqlite3_close(sq(s)->db);
    free(s);
}

static store *sq_open(const char *url, char *err, size_t errlen)
{
    const char *path = url + strlen("sqlite:");
    sq_store *q = xcalloc(1, sizeof *q);
    q->base.ops = &store_sqlite_ops;
    if (strncmp(path, "//", 2) == 0) path += 2;   /* sqlite:///abs/path */
    if (*path == '\0') {
        store_err(err, errlen, "sqlite: the URL names no file (sqlite:PATH)");
    } else if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
               != SQLITE_OK) {
        store_err(err, errlen, "sqlite: cannot open %s: %s", path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
    } else {
        sqlite3_busy_timeout(q->db, BUSY_MS);
        if (sq_exec(&q->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-32768;"
                              " PRAGMA temp_store=MEMORY;", err, errlen) == 0)
            return &q->base;
    }
    sq_close(&q->base);
    return NULL;
}

/* BEGIN IMMEDIATE takes the write lock at once, so two migrators (or a
 * migrator and the archiver) queue on the busy timeout instead of failing
 * half-way. */
static int sq_begin(store *s, int migrate, char *err, size_t errlen)
{
    (void)migrate;
    return sq_exec(s, "BEGIN IMMEDIATE", err, errlen);
}

static int sq_commit(store *s, char *err, size_t errlen)
{
    return sq_exec(s, "COMMIT", err, errlen);
}

static void sq_rollback(store *s)
{
    char ignore[8];
    sq_exec(s, "ROLLBACK", ignore, sizeof ignore);
}

/* ---- insert ---- */

static int bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* A row was skipped: count why (its stream id is there, or its tweet id). */
static int count_skipped(sq_store *q, sqlite3_int64 rid, store_counts *c, char *err, size_t errlen)
{
    int rc;
    sqlite3_reset(q->has_rid);
    sqlite3_bind_int64(q->has_rid, 1, rid);
    rc = sqlite3_step(q->has_rid);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_err(err, errlen, "sqlite: %s", sqlite3_errmsg(q->db));
    if (rc == SQLITE_ROW) c->again++;
    else c->duplicates++;
    sqlite3_reset(q->has_rid);
    return 0;
}

static int sq_insert(store *s, const store_row *rows, size_t n, store_counts *c, char *err, size_t errlen)
{
    sq_store *q = sq(s);
    /* No conflict target: the stream id (rid) and the tweet id (unique
     * index) both make a row be skipped. */
    if ((q->insert == NULL &&
         sqlite3_prepare_v3(q->db,
                            "INSERT INTO tweets (rid, ms, seq, id, tweet_id, author, lang, created_at, text, words, json)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            -1, SQLITE_PREPARE_PERSISTENT, &q->insert, NULL) != SQLITE_OK) ||
        (q->has_rid == NULL &&
         sqlite3_prepare_v3(q->db, "SELECT 1 FROM tweets WHERE rid = ?", -1, SQLITE_PREPARE_PERSISTENT, &q->has_rid,
                            NULL) != SQLITE_OK))
        return store_err(err, errlen, "sqlite: %s", sqlite3_errmsg(q->db));
    if (sq_begin(s, 0, err, errlen) < 0) return -1;
    if (store_words_guard(s, err, errlen) < 0) {
        sq_rollback(s);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const store_row *r = &rows[i];
        sqlite3_stmt *st = q->insert;
        sqlite3_int64 rid = (sqlite3_int64)((r->sid.ms << STORE_SEQ_BITS) | r->sid.seq);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, rid);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)r->sid.ms);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)r->sid.seq);
        sqlite3_bind_text(st, 4, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->tweet_id, -1, SQLITE_STATIC);
        bind_opt(st, 6, r->author);
        bind_opt(st, 7, r->lang);
        bind_opt(st, 8, r->created_at);
        sqlite3_bind_text(st, 9, r->text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, r->words.data, (int)r->words.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, r->json, (int)r->json_len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            store_err(err, errlen, "sqlite: storing %s: %s", r->id, sqlite3_errmsg(q->db));
            sqlite3_reset(st);
            goto fail;
        }
        if (sqlite3_changes(q->db) > 0) c->inserted++;
        else if (count_skipped(q, rid, c, err, errlen) < 0) goto fail;
    }
    sqlite3_reset(q->insert);
    sqlite3_clear_bindings(q->insert);
    if (sq_commit(s, err, errlen) < 0) goto fail;
    return 0;
fail:
    sqlite3_clear_bindings(q->insert);
    sq_rollback(s);
    return -1;
}

/* ---- search ---- */

/* FTS5 query for a condition: ("a" "b") OR ("c"). Every term is a quoted
 * string, so no operator or column syntax survives from the input; terms
 * hold no quote (lib/store_engine.h). */
static void fts5_phrases(buf *out, const store_phrases *p)
{
    buf_appendc(out, '(');
    for (size_t i = 0; i < p->n; i++) {
        buf_appends(out, i ? " OR (" : "(");
        for (size_t k = 0; k < p->nterms[i]; k++) buf_printf(out, "%s\"%s\"", k ? " " : "", p->terms[i][k]);
        buf_appendc(out, ')');
    }
    buf_appendc(out, ')');
}

static int sq_search(store *s, const store_plan *plan, store_result *res, char *err, size_t errlen)
{
    sqlite3 *db = sq(s)->db;
    sqlite3_stmt *st = NULL;
    buf sql = BUF_INIT, match = BUF_INIT;
    int fts = plan->q.n || plan->filter.n, param = 0, step, rc = -1;
    /* Newest first is a backwards scan of rid (stream order), inside the
     * full-text index when there are words: it stops after limit + 1. */
    const char *rid = fts ? "tweets_fts.rowid" : "t.rid";

    buf_appends(&sql, fts ? "SELECT t.id, t.json FROM tweets_fts JOIN tweets t ON t.rid = tweets_fts.rowid"
                            " WHERE tweets_fts MATCH ?"
                          : "SELECT t.id, t.json FROM tweets t WHERE TRUE");
    if (plan->q.n) fts5_phrases(&match, &plan->q);
    if (plan->filter.n) {
        if (match.len) buf_appends(&match, " AND ");
        fts5_phrases(&match, &plan->filter);
    }
    if (plan->nlangs) {   /* "en" also takes "en-GB" (lib/store_engine.h) */
        buf_appends(&sql, " AND (");
        for (size_t i = 0; i < plan->nlangs; i++)
            buf_appends(&sql, i ? " OR lower(t.lang) = ? OR lower(t.lang) LIKE ? ESCAPE '\\'"
                                : "lower(t.lang) = ? OR lower(t.lang) LIKE ? ESCAPE '\\'");
        buf_appendc(&sql, ')');
    }
    /* rid < ms * 2^20 + min(seq, 2^20) is exactly (ms, seq) < before. */
    if (plan->has_before) buf_printf(&sql, " AND %s < ?", rid);
    buf_printf(&sql, " ORDER BY %s DESC LIMIT ?", rid);

    if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        store_err(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
        goto done;
    }
    if (fts) sqlite3_bind_text(st, ++param, match.data, (int)match.len, SQLITE_STATIC);
    for (size_t i = 0; i < plan->nlangs; i++) {
        sqlite3_bind_text(st, ++param, plan->langs[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, ++param, plan->lang_like[i], -1, SQLITE_STATIC);
    }
    if (plan->has_before)
        sqlite3_bind_int64(st, ++param, (sqlite3_int64)((plan->before_ms << STORE_SEQ_BITS) + plan->before_seq));
    sqlite3_bind_int64(st, ++param, plan->limit + 1);   /* one more tells whether a next page exists */
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        store_result_add(res, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
    if (step != SQLITE_DONE) {
        store_err(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(st);
    buf_free(&sql);
    buf_free(&match);
    return rc;
}

/* ---- migrations ---- */

static long sq_scan(store *s, const bus_id *after, size_t max, store_scan_fn fn, void *ctx, char *err,
                    size_t errlen)
{
    sqlite3 *db = sq(s)->db;
    sqlite3_stmt *st = NULL;
    long n = 0;
    int step;
    if (sqlite3_prepare_v2(db, "SELECT ms, seq, json FROM tweets WHERE rid > ? ORDER BY rid LIMIT ?", -1, &st, NULL)
        != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_err(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
    }
    sqlite3_bind_int64(st, 1, after ? (sqlite3_int64)((after->ms << STORE_SEQ_BITS) | after->seq) : -1);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        bus_id sid = {(uint64_t)sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1)};
        fn(ctx, sid, (const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        n++;
    }
    if (step != SQLITE_DONE) n = store_err(err, errlen, "sqlite: reading rows: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return n;
}

static int sq_set_words(store *s, const bus_id *sids, const buf *words, size_t n, char *err, size_t errlen)
{
    sqlite3 *db = sq(s)->db;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, "UPDATE tweets SET words = ? WHERE rid = ?", -1, &st, NULL) != SQLITE_OK)
        rc = store_err(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_text(st, 1, words[i].data, (int)words[i].len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)((sids[i].ms << STORE_SEQ_BITS) | sids[i].seq));
        if (sqlite3_step(st) != SQLITE_DONE) rc = store_err(err, errlen, "sqlite: updating words: %s", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* In the order of store_ops's fields (lib/store_engine.h). */
const store_ops store_sqlite_ops = {
    "sqlite", sq_open, sq_close, sq_exec, sq_query_int, sq_begin, sq_commit, sq_rollback,
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
    "SELECT version FROM token_version", sq_insert, sq_search, sq_scan, sq_set_words,
};
