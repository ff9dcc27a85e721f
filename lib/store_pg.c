/* store_pg — the PostgreSQL engine of the archive (lib/store_engine.h), on
 * libpq.
 *
 * Rows are keyed by (ms, seq); full-text search runs over the tsvector
 * column `tsv` with a GIN index. A connection that dropped (a server restart,
 * a failover) is reset before the next statement that starts a unit of work,
 * never inside a transaction. Migrations serialise on an advisory lock. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_engine.h"
#include "util.h"

#define ROWS_PER_INSERT 500      /* 10 parameters a row, well under libpq's 65 535 */
/* Seconds a connect may take unless the URL says (connect_timeout=): libpq
 * waits for ever by default, so a server that takes the connection and never
 * answers would hold the caller (a responder's acceptor thread) for good. */
#define CONNECT_TIMEOUT_S "5"
#define MIGRATE_LOCK 7250514     /* pg_advisory_xact_lock key serialising migrations */

typedef struct pg_store {
    store base;
    PGconn *conn;
    int in_tx;                   /* inside BEGIN … COMMIT/ROLLBACK */
} pg_store;

static pg_store *pg(store *s)
{
    return (pg_store *)s;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Outside a transaction, a dropped connection is reopened once. */
static void ensure(pg_store *p)
{
    if (!p->in_tx && PQstatus(p->conn) == CONNECTION_BAD) {
        PQreset(p->conn);
        if (PQstatus(p->conn) == CONNECTION_OK) PQsetClientEncoding(p->conn, "UTF8");
    }
}

static int result_ok(pg_store *p, PGresult *r, char *err, size_t errlen)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return 0;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(p->conn);
    return store_err(err, errlen, "postgres: %s", msg && *msg ? msg : PQerrorMessage(p->conn));
}

static int pg_exec(store *s, const char *sql, char *err, size_t errlen)
{
    ensure(pg(s));
    PGresult *r = PQexec(pg(s)->conn, sql);
    int rc = result_ok(pg(s), r, err, errlen);
    PQclear(r);
    return rc;
}

static int pg_query_int(store *s, const char *sql, long long *out, char *err, size_t errlen)
{
    ensure(pg(s));
    PGresult *r = PQexec(pg(s)->conn, sql);
    int rc = result_ok(pg(s), r, err, errlen);
    if (rc == 0) {
        if (PQntuples(r) != 1 || PQnfields(r) < 1)
            rc = store_err(err, errlen, "postgres: expected one value from: %s", sql);
        else
            *out = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return rc;
}

static void pg_close(store *s)
{
    if (pg(s)->conn) PQfinish(pg(s)->conn);
    free(s);
}

static store *pg_open(const char *url, char *err, size_t errlen)
{
    pg_store *p = xcalloc(1, sizeof *p);
    p->base.ops = &store_pg_ops;
    /* keywords before the expanded URL are defaults it may override */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const vals[] = {CONNECT_TIMEOUT_S, url, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (p->conn == NULL) {
        store_err(err, errlen, "postgres: out of memory");
        goto fail;
    }
    if (PQstatus(p->conn) != CONNECTION_OK) {
        store_err(err, errlen, "postgres: %s", PQerrorMessage(p->conn));
        goto fail;
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    if (PQsetClientEncoding(p->conn, "UTF8") != 0) {
        store_err(err, errlen, "postgres: cannot use UTF8: %s", PQerrorMessage(p->conn));
        goto fail;
    }
    return &p->base;
fail:
    pg_close(&p->base);
    return NULL;
}

static int pg_begin(store *s, int migrate, char *err, size_t errlen)
{
    char lock[64];
    if (pg_exec(s, "BEGIN", err, errlen) < 0) return -1;
    pg(s)->in_tx = 1;
    if (!migrate) return 0;
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d)", MIGRATE_LOCK);
    return pg_exec(s, lock, err, errlen);
}

static int pg_commit(store *s, char *err, size_t errlen)
{
    int rc = pg_exec(s, "COMMIT", err, errlen);
    pg(s)->in_tx = 0;
    return rc;
}

static void pg_rollback(store *s)
{
    char ignore[8];
    pg_exec(s, "ROLLBACK", ignore, sizeof ignore);
    pg(s)->in_tx = 0;
}

/* ---- insert ---- */

/* Some of rows[0..n) were skipped: those whose stream id is there now were
 * there before (c->again), the others had their tweet id there. */
static int count_skipped(store *s, const store_row *rows, size_t n, size_t inserted, store_counts *c, char *err,
                         size_t errlen)
{
    const char **vals = xcalloc(2 * n, sizeof *vals);
    char (*nums)[2][24] = xcalloc(n, sizeof *nums);
    buf sql = BUF_INIT;
    int rc = -1;

    buf_appends(&sql, "SELECT count(*) FROM tweets WHERE (ms, seq) IN (");
    for (size_t i = 0; i < n; i++) {
        snprintf(nums[i][0], sizeof nums[i][0], "%" PRIu64, rows[i].sid.ms);
        snprintf(nums[i][1], sizeof nums[i][1], "%" PRIu64, rows[i].sid.seq);
        vals[2 * i] = nums[i][0];
        vals[2 * i + 1] = nums[i][1];
        buf_printf(&sql, "%s($%zu::bigint, $%zu::bigint)", i ? ", " : "", 2 * i + 1, 2 * i + 2);
    }
    buf_appendc(&sql, ')');
    PGresult *r = PQexecParams(pg(s)->conn, sql.data, (int)(2 * n), NULL, vals, NULL, NULL, 0);
    if (result_ok(pg(s), r, err, errlen) == 0 && PQntuples(r) == 1) {
        size_t present = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        c->again += present - inserted;
        c->duplicates += n - present;
        rc = 0;
    }
    PQclear(r);
    buf_free(&sql);
    free(vals);
    free(nums);
    return rc;
}

/* One multi-row INSERT for rows[0..n). Numbers go as text, strings as
 * binary text (raw bytes with a length), so nothing needs a terminator. No
 * conflict target: the stream id (primary key) and the tweet id (unique
 * index) both make a row be skipped. */
static int insert_chunk(store *s, const store_row *rows, size_t n, store_counts *counts, char *err, size_t errlen)
{
    enum { COLS = 10 };
    size_t np = n * COLS;
    const char **vals = xcalloc(np, sizeof *vals);
    int *lens = xcalloc(np, sizeof *lens), *fmts = xcalloc(np, sizeof *fmts);
    char (*nums)[2][24] = xcalloc(n, sizeof *nums);
    buf sql = BUF_INIT;
    int rc = -1;

    buf_appends(&sql, "INSERT INTO tweets (ms, seq, id, tweet_id, author, lang, created_at, text, words, json) VALUES ");
    for (size_t i = 0; i < n; i++) {
        const store_row *r = &rows[i];
        size_t b = i * COLS;
        const char *strs[COLS] = {NULL, NULL, r->id, r->tweet_id, r->author, r->lang, r->created_at, r->text,
                                  r->words.data, r->json};
        size_t slen[COLS] = {0, 0, 0, 0, 0, 0, 0, 0, r->words.len, r->json_len};
        snprintf(nums[i][0], sizeof nums[i][0], "%" PRIu64, r->sid.ms);
        snprintf(nums[i][1], sizeof nums[i][1], "%" PRIu64, r->sid.seq);
        vals[b] = nums[i][0];
        vals[b + 1] = nums[i][1];
        for (size_t c = 2; c < COLS; c++) {
            vals[b + c] = strs[c];
            fmts[b + c] = 1;
            lens[b + c] = strs[c] == NULL ? 0 : (int)(c >= 8 ? slen[c] : strlen(strs[c]));
        }
        buf_printf(&sql, "%s($%zu::bigint, $%zu::bigint, $%zu::text, $%zu::text, $%zu::text, $%zu::text, $%zu::text,"
                         " $%zu::text, $%zu::text, $%zu::text)",
                   i ? ", " : "", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10);
    }
    buf_appends(&sql, " ON CONFLICT DO NOTHING");
    PGresult *r = PQexecParams(pg(s)->conn, sql.data, (int)np, NULL, vals, lens, fmts, 0);
    if (result_ok(pg(s), r, err, errlen) == 0) {
        size_t inserted = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
        counts->inserted += inserted;
        rc = inserted < n ? count_skipped(s, rows, n, inserted, counts, err, errlen) : 0;
    }
    PQclear(r);
    buf_free(&sql);
    free(vals);
    free(lens);
    free(fmts);
    free(nums);
    return rc;
}

static int pg_insert(store *s, const store_row *rows, size_t n, store_counts *c, char *err, size_t errlen)
{
    if (pg_begin(s, 0, err, errlen) < 0) return -1;
    if (store_words_guard(s, err, errlen) < 0) goto fail;
    for (size_t i = 0; i < n; i += ROWS_PER_INSERT) {
        size_t k = n - i < ROWS_PER_INSERT ? n - i : ROWS_PER_INSERT;
        if (insert_chunk(s, rows + i, k, c, err, errlen) < 0) goto fail;
    }
    if (pg_commit(s, err, errlen) < 0) goto fail;
    return 0;
fail:
    pg_rollback(s);
    return -1;
}

/* ---- search ---- */

/* Parameters of a query being built: owned texts. */
typedef struct params {
    char **v;
    size_t n;
} params;

/* Append "$N" for a new parameter holding owned. */
static void param(buf *sql, params *p, char *owned)
{
    p->v = xrealloc(p->v, (p->n + 1) * sizeof *p->v);
    p->v[p->n++] = owned;
    buf_printf(sql, "$%zu", p->n);
}

static char *fmt_u64(uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    return xstrdup(tmp);
}

/* A condition as tsquery text, ('a' & 'b') | ('c'): each term a quoted
 * lexeme, taken as it is (no parser, no stemming), with ' and \ escaped
 * although terms never hold them. */
static void tsquery_phrases(buf *out, const store_phrases *ph)
{
    buf_appendc(out, '(');
    for (size_t i = 0; i < ph->n; i++) {
        buf_appends(out, i ? " | (" : "(");
        for (size_t k = 0; k < ph->nterms[i]; k++) {
            buf_appends(out, k ? " & '" : "'");
            for (const char *c = ph->terms[i][k]; *c; c++) {
                if (*c == '\'' || *c == '\\') buf_appendc(out, *c);
                buf_appendc(out, *c);
            }
            buf_appendc(out, '\'');
        }
        buf_appendc(out, ')');
    }
    buf_appendc(out, ')');
}

static int pg_search(store *s, const store_plan *plan, store_result *res, char *err, size_t errlen)
{
    buf sql = BUF_INIT;
    params p = {NULL, 0};
    int rc = -1;

    buf_appends(&sql, "SELECT id, json FROM tweets WHERE TRUE");
    if (plan->q.n || plan->filter.n) {
        buf tsq = BUF_INIT;
        if (plan->q.n) tsquery_phrases(&tsq, &plan->q);
        if (plan->q.n && plan->filter.n) buf_appends(&tsq, " & ");
        if (plan->filter.n) tsquery_phrases(&tsq, &plan->filter);
        buf_appends(&sql, " AND tsv @@ ");
        param(&sql, &p, buf_detach(&tsq, NULL));
        buf_appends(&sql, "::tsquery");
    }
    if (plan->nlangs) {   /* "en" also takes "en-GB" (lib/store_engine.h) */
        buf_appends(&sql, " AND (");
        for (size_t i = 0; i < plan->nlangs; i++) {
            buf_appends(&sql, i ? " OR lower(lang) = " : "lower(lang) = ");
            param(&sql, &p, xstrdup(plan->langs[i]));
            buf_appends(&sql, " OR lower(lang) LIKE ");
            param(&sql, &p, xstrdup(plan->lang_like[i]));
            buf_appends(&sql, " ESCAPE '\\'");
        }
        buf_appendc(&sql, ')');
    }
    if (plan->has_before) {
        buf_appends(&sql, " AND (ms, seq) < (");
        param(&sql, &p, fmt_u64(plan->before_ms));
        buf_appends(&sql, "::bigint, ");
        param(&sql, &p, fmt_u64(plan->before_seq));
        buf_appends(&sql, "::bigint)");
    }
    buf_appends(&sql, " ORDER BY ms DESC, seq DESC LIMIT ");
    param(&sql, &p, fmt_u64((uint64_t)plan->limit + 1));   /* one more tells whether a next page exists */
    buf_appends(&sql, "::bigint");

    ensure(pg(s));
    PGresult *r = PQexecParams(pg(s)->conn, sql.data, (int)p.n, NULL, (const char *const *)p.v, NULL, NULL, 0);
    if (result_ok(pg(s), r, err, errlen) == 0) {
        for (int i = 0; i < PQntuples(r); i++) store_result_add(res, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        rc = 0;
    }
    PQclear(r);
    for (size_t i = 0; i < p.n; i++) free(p.v[i]);
    free(p.v);
    buf_free(&sql);
    return rc;
}

/* ---- migrations ---- */

static long pg_scan(store *s, const bus_id *after, size_t max, store_scan_fn fn, void *ctx, char *err,
                    size_t errlen)
{
    char ms[24] = "-1", seq[24] = "0", limit[24];
    const char *args[3] = {ms, seq, limit};
    long n = -1;
    if (after) {
        snprintf(ms, sizeof ms, "%" PRIu64, after->ms);
        snprintf(seq, sizeof seq, "%" PRIu64, after->seq);
    }
    snprintf(limit, sizeof limit, "%zu", max);
    PGresult *r = PQexecParams(pg(s)->conn,
                               "SELECT ms, seq, json FROM tweets WHERE (ms, seq) > ($1::bigint, $2::bigint)"
                               " ORDER BY ms, seq LIMIT $3::bigint",
                               3, NULL, args, NULL, NULL, 0);
    if (result_ok(pg(s), r, err, errlen) == 0) {
        n = PQntuples(r);
        for (long i = 0; i < n; i++) {
            bus_id sid = {strtoull(PQgetvalue(r, (int)i, 0), NULL, 10), strtoull(PQgetvalue(r, (int)i, 1), NULL, 10)};
            fn(ctx, sid, PQgetvalue(r, (int)i, 2), (size_t)PQgetlength(r, (int)i, 2));
        }
    }
    PQclear(r);
    return n;
}

/* One UPDATE … FROM (VALUES …) for the n rows. */
static int pg_set_words(store *s, const bus_id *sids, const buf *words, size_t n, char *err, size_t errlen)
{
    const char **vals = xcalloc(n * 3, sizeof *vals);
    char (*nums)[2][24] = xcalloc(n, sizeof *nums);
    buf sql = BUF_INIT;

    buf_appends(&sql, "UPDATE tweets AS t SET words = v.w FROM (VALUES ");
    for (size_t i = 0; i < n; i++) {
        snprintf(nums[i][0], sizeof nums[i][0], "%" PRIu64, sids[i].ms);
        snprintf(nums[i][1], sizeof nums[i][1], "%" PRIu64, sids[i].seq);
        vals[3 * i] = nums[i][0];
        vals[3 * i + 1] = nums[i][1];
        vals[3 * i + 2] = words[i].data;
        buf_printf(&sql, "%s($%zu::bigint, $%zu::bigint, $%zu::text)", i ? ", " : "", 3 * i + 1, 3 * i + 2, 3 * i + 3);
    }
    buf_appends(&sql, ") AS v (ms, seq, w) WHERE t.ms = v.ms AND t.seq = v.seq");
    PGresult *u = PQexecParams(pg(s)->conn, sql.data, (int)(n * 3), NULL, vals, NULL, NULL, 0);
    int rc = result_ok(pg(s), u, err, errlen);
    PQclear(u);
    buf_free(&sql);
    free(vals);
    free(nums);
    return rc;
}

/* In the order of store_ops's fields (lib/store_engine.h). */
const store_ops store_pg_ops = {
    "postgres", pg_open, pg_close, pg_exec, pg_query_int, pg_begin, pg_commit, pg_rollback,
    "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'schema_version' AND schemaname = current_schema()",
    "SELECT version FROM token_version FOR SHARE", pg_insert, pg_search, pg_scan, pg_set_words,
};
