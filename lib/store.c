#include "store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "jdoc.h"
#include "utf8.h"
#include "util.h"

enum engine { ENGINE_SQLITE, ENGINE_POSTGRES };

struct store {
    enum engine engine;
    sqlite3 *db;                 /* ENGINE_SQLITE */
    sqlite3_stmt *insert;        /* prepared on first store_insert */
    PGconn *pg;                  /* ENGINE_POSTGRES */
};

#define SQLITE_BUSY_MS 5000
#define PG_ROWS_PER_INSERT 500   /* 10 parameters a row, well under libpq's 65 535 */
#define PG_MIGRATE_LOCK 7250514  /* pg_advisory_xact_lock key serialising migrations */
/* SQLite's row id is the stream id folded into one integer, ms * 2^20 + seq,
 * so that rowid order is stream order. Entries with a larger seq (a million
 * entries in one millisecond) or a ms beyond 2^43 (year 2248) are refused on
 * both engines alike. */
#define SEQ_BITS 20
#define SEQ_LIMIT (UINT64_C(1) << SEQ_BITS)
#define MS_LIMIT (UINT64_C(1) << 43)

static const char *const engine_names[] = {"sqlite", "postgres"};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* libpq messages end with a newline and may span lines: keep one line. */
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\r') *p = (p[1] ? ' ' : '\0');
}

/* ---- embedded migrations ---- */

int store_latest_version(const store *s)
{
    int v = 0;
    for (size_t i = 0; i < store_migrations_count; i++)
        if (strcmp(store_migrations[i].engine, engine_names[s->engine]) == 0 && store_migrations[i].version > v)
            v = store_migrations[i].version;
    return v;
}

static const store_migration *find_migration(const store *s, int version)
{
    for (size_t i = 0; i < store_migrations_count; i++)
        if (strcmp(store_migrations[i].engine, engine_names[s->engine]) == 0 && store_migrations[i].version == version)
            return &store_migrations[i];
    return NULL;
}

const char *store_engine(const store *s)
{
    return engine_names[s->engine];
}

/* ---- SQLite helpers ---- */

static int sq_exec(store *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        set_err(err, errlen, "sqlite: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Run a query that yields one integer. */
static int sq_int(store *s, const char *sql, long long *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        set_err(err, errlen, "sqlite: %s", sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* ---- PostgreSQL helpers ---- */

static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* A dropped connection is reopened once before the next statement. */
static void pg_ensure(store *s)
{
    if (PQstatus(s->pg) == CONNECTION_BAD) {
        PQreset(s->pg);
        if (PQstatus(s->pg) == CONNECTION_OK) PQsetClientEncoding(s->pg, "UTF8");
    }
}

static int pg_ok(store *s, PGresult *r, char *err, size_t errlen)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return 0;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(s->pg);
    set_err(err, errlen, "postgres: %s", msg && *msg ? msg : PQerrorMessage(s->pg));
    return -1;
}

static int pg_exec(store *s, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->pg, sql);
    int rc = pg_ok(s, r, err, errlen);
    PQclear(r);
    return rc;
}

static int pg_int(store *s, const char *sql, long long *out, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->pg, sql);
    int rc = pg_ok(s, r, err, errlen);
    if (rc == 0) {
        if (PQntuples(r) != 1 || PQnfields(r) < 1) {
            set_err(err, errlen, "postgres: expected one value from: %s", sql);
            rc = -1;
        } else {
            *out = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        }
    }
    PQclear(r);
    return rc;
}

/* Engine-neutral statements without parameters. */
static int exec_sql(store *s, const char *sql, char *err, size_t errlen)
{
    return s->engine == ENGINE_SQLITE ? sq_exec(s, sql, err, errlen) : pg_exec(s, sql, err, errlen);
}

static int query_int(store *s, const char *sql, long long *out, char *err, size_t errlen)
{
    return s->engine == ENGINE_SQLITE ? sq_int(s, sql, out, err, errlen) : pg_int(s, sql, out, err, errlen);
}

static void rollback(store *s)
{
    char ignore[8];
    exec_sql(s, "ROLLBACK", ignore, sizeof ignore);
}

/* ---- open / close ---- */

static store *open_sqlite(const char *path, char *err, size_t errlen)
{
    store *s = xcalloc(1, sizeof *s);
    s->engine = ENGINE_SQLITE;
    if (*path == '\0') {
        set_err(err, errlen, "sqlite: the URL names no file (sqlite:PATH)");
        goto fail;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        set_err(err, errlen, "sqlite: cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, SQLITE_BUSY_MS);
    /* WAL: readers (search) never block the archiver. synchronous=FULL: a
     * committed batch survives a power cut, since the stream entries are
     * acknowledged right after the commit. */
    if (sq_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;", err, errlen) < 0) goto fail;
    return s;
fail:
    store_close(s);
    return NULL;
}

static store *open_postgres(const char *url, char *err, size_t errlen)
{
    store *s = xcalloc(1, sizeof *s);
    s->engine = ENGINE_POSTGRES;
    s->pg = PQconnectdb(url);
    if (s->pg == NULL) {
        set_err(err, errlen, "postgres: out of memory");
        goto fail;
    }
    if (PQstatus(s->pg) != CONNECTION_OK) {
        set_err(err, errlen, "postgres: %s", PQerrorMessage(s->pg));
        goto fail;
    }
    PQsetNoticeProcessor(s->pg, pg_quiet, NULL);
    if (PQsetClientEncoding(s->pg, "UTF8") != 0) {
        set_err(err, errlen, "postgres: cannot use UTF8: %s", PQerrorMessage(s->pg));
        goto fail;
    }
    return s;
fail:
    store_close(s);
    return NULL;
}

store *store_open(const char *url, char *err, size_t errlen)
{
    if (url == NULL || *url == '\0') {
        set_err(err, errlen, "no archive configured (--db or BIRDFEED_DB: sqlite:PATH or postgres://…)");
        return NULL;
    }
    if (strncmp(url, "sqlite:", 7) == 0) {
        const char *path = url + 7;
        if (strncmp(path, "//", 2) == 0) path += 2;   /* sqlite:///abs/path */
        return open_sqlite(path, err, errlen);
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return open_postgres(url, err, errlen);
    set_err(err, errlen, "database URL must start with sqlite: or postgres:// (got '%.40s')", url);
    return NULL;
}

void store_close(store *s)
{
    if (s == NULL) return;
    sqlite3_finalize(s->insert);
    if (s->db) sqlite3_close(s->db);
    if (s->pg) PQfinish(s->pg);
    free(s);
}

int store_ping(store *s, char *err, size_t errlen)
{
    long long one;
    if (s->engine == ENGINE_POSTGRES) pg_ensure(s);
    return query_int(s, "SELECT 1", &one, err, errlen);
}

/* ---- schema versions and migrations ---- */

int store_version(store *s, int *version, char *err, size_t errlen)
{
    long long exists = 0, v = 0;
    const char *probe = s->engine == ENGINE_SQLITE
        ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        : "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'schema_version'"
          " AND schemaname = current_schema()";
    if (s->engine == ENGINE_POSTGRES) pg_ensure(s);
    if (query_int(s, probe, &exists, err, errlen) < 0) return -1;
    if (exists && query_int(s, "SELECT coalesce(max(version), 0) FROM schema_version", &v, err, errlen) < 0)
        return -1;
    *version = (int)v;
    return 0;
}

static int record_version(store *s, const store_migration *m, char *err, size_t errlen)
{
    if (s->engine == ENGINE_SQLITE) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, "INSERT INTO schema_version (version, name) VALUES (?, ?)", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, m->version);
            sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
        }
        if (rc != SQLITE_DONE) set_err(err, errlen, "sqlite: recording version %d: %s", m->version, sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    char v[16];
    snprintf(v, sizeof v, "%d", m->version);
    const char *params[2] = {v, m->name};
    PGresult *r = PQexecParams(s->pg, "INSERT INTO schema_version (version, name) VALUES ($1::integer, $2)", 2, NULL,
                               params, NULL, NULL, 0);
    int rc = pg_ok(s, r, err, errlen);
    PQclear(r);
    return rc;
}

/* Apply migration m in one transaction unless another process already did. */
static int apply_one(store *s, const store_migration *m, int *applied, char *err, size_t errlen)
{
    char why[512];
    int v;
    if (s->engine == ENGINE_SQLITE) {
        if (sq_exec(s, "BEGIN IMMEDIATE", err, errlen) < 0) return -1;   /* takes the write lock */
    } else {
        if (pg_exec(s, "BEGIN", err, errlen) < 0) return -1;
        char lock[64];
        snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d)", PG_MIGRATE_LOCK);
        if (pg_exec(s, lock, err, errlen) < 0) goto fail;
    }
    if (store_version(s, &v, err, errlen) < 0) goto fail;
    if (v >= m->version) {                 /* someone else got there first */
        rollback(s);
        return 0;
    }
    if (v != m->version - 1) {
        set_err(err, errlen, "schema is at version %d, migration %03d_%s needs %d", v, m->version, m->name,
                m->version - 1);
        goto fail;
    }
    if (exec_sql(s, m->sql, why, sizeof why) < 0) {
        set_err(err, errlen, "migration %03d_%s failed: %s", m->version, m->name, why);
        goto fail;
    }
    if (record_version(s, m, err, errlen) < 0) goto fail;
    if (exec_sql(s, "COMMIT", err, errlen) < 0) goto fail;
    (*applied)++;
    return 0;
fail:
    rollback(s);
    return -1;
}

int store_migrate(store *s, int target, int *applied, char *err, size_t errlen)
{
    int latest = store_latest_version(s), v, count = 0;
    if (applied) *applied = 0;
    if (target == 0) target = latest;
    if (target < 0 || target > latest) {
        set_err(err, errlen, "no schema version %d: this birdfeed knows versions 1 to %d", target, latest);
        return -1;
    }
    if (store_version(s, &v, err, errlen) < 0) return -1;
    if (v > latest) {
        set_err(err, errlen, "the database schema is version %d, newer than this birdfeed knows (%d): upgrade birdfeed",
                v, latest);
        return -1;
    }
    if (target < v) {
        set_err(err, errlen, "the database schema is already at version %d; migrations only go forward (asked for %d)",
                v, target);
        return -1;
    }
    for (int n = v + 1; n <= target; n++) {
        const store_migration *m = find_migration(s, n);
        if (m == NULL) {
            set_err(err, errlen, "migration %03d for %s is missing from this build", n, store_engine(s));
            return -1;
        }
        if (apply_one(s, m, &count, err, errlen) < 0) {
            if (applied) *applied = count;
            return -1;
        }
    }
    if (applied) *applied = count;
    return 0;
}

int store_check(store *s, char *err, size_t errlen)
{
    int v, latest = store_latest_version(s);
    if (store_version(s, &v, err, errlen) < 0) return -1;
    if (v == latest) return 0;
    if (v > latest)
        set_err(err, errlen, "the database schema is version %d, newer than this birdfeed knows (%d): upgrade birdfeed",
                v, latest);
    else
        set_err(err, errlen, "the database schema is version %d, this birdfeed needs %d: run 'birdfeed migrate'", v,
                latest);
    return -1;
}

/* ---- rows ---- */

/* Non-ASCII code points that separate words: Latin-1 punctuation and
 * symbols, general punctuation, symbols, arrows, dingbats, CJK punctuation,
 * variation selectors, specials, emoji. Everything else above ASCII (letters
 * and digits of every script, combining marks) belongs to words. */
static int is_separator(uint32_t cp)
{
    static const uint32_t ranges[][2] = {
        {0x0080, 0x00BF}, {0x00D7, 0x00D7}, {0x00F7, 0x00F7}, {0x2000, 0x2BFF}, {0x2E00, 0x2E7F},
        {0x3000, 0x303F}, {0xFE00, 0xFE0F}, {0xFE30, 0xFE4F}, {0xFEFF, 0xFEFF}, {0xFF00, 0xFF0F},
        {0xFF1A, 0xFF20}, {0xFFF0, 0xFFFF}, {0x1F000, 0x1FAFF}, {0xE0000, 0xE007F},
    };
    for (size_t i = 0; i < ARRAY_LEN(ranges); i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1]) return 1;
    return 0;
}

/* Scripts written without spaces between words (Chinese, Japanese kana and
 * kanji): each character is a word of its own, so a search for 今日 finds
 * text that holds 今 and 日 on both engines alike. */
static int is_unspaced(uint32_t cp)
{
    static const uint32_t ranges[][2] = {
        {0x3040, 0x30FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}, {0xFF66, 0xFF9F},
        {0x20000, 0x3FFFF},
    };
    for (size_t i = 0; i < ARRAY_LEN(ranges); i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1]) return 1;
    return 0;
}

size_t store_words(buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, words = 0;
    int in_word = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        int word;
        if (len == 0) {
            len = 1;
            word = 0;
        } else if (cp < 0x80) {
            word = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
        } else {
            word = !is_separator(cp);
        }
        if (word && cp >= 0x80 && is_unspaced(cp)) in_word = 0;   /* a word by itself */
        if (word) {
            if (!in_word) {
                if (out->len > 0 && out->data[out->len - 1] != ' ') buf_appendc(out, ' ');
                words++;
                in_word = 1;
            }
            if (cp >= 'A' && cp <= 'Z') buf_appendc(out, (char)(cp - 'A' + 'a'));
            else buf_append(out, p + i, len);
            if (cp >= 0x80 && is_unspaced(cp)) in_word = 0;
        } else {
            in_word = 0;
        }
        i += len;
    }
    return words;
}

/* A string member of obj (an id may also be a non-negative integer, kept
 * digit for digit), copied; NULL when absent or of another kind. -1 when it
 * holds a NUL character, which SQL text cannot carry. */
static int json_str(const jdoc *d, int obj, const char *key, char **out)
{
    int v = jdoc_get(d, obj, key);
    size_t n;
    const char *s = jdoc_kind(d, v) == JDOC_STRING || (jdoc_kind(d, v) == JDOC_NUMBER && strcmp(key, "id") == 0)
                        ? jdoc_str(d, v, &n) : NULL;
    *out = NULL;
    if (s == NULL) return 0;
    if (memchr(s, '\0', n)) return -1;
    *out = xstrndup(s, n);
    return 0;
}

static void json_words(buf *words, const jdoc *d, const char *key)
{
    int a = jdoc_get(d, 0, key);
    if (jdoc_kind(d, a) != JDOC_ARRAY) return;
    for (int e = jdoc_child(d, a); e >= 0; e = jdoc_next(d, e)) {
        size_t n;
        const char *w = jdoc_kind(d, e) == JDOC_STRING ? jdoc_str(d, e, &n) : NULL;
        if (w) store_words(words, w, n);
    }
}

int store_row_parse(store_row *row, const char *id, const char *json, size_t json_len, char *err, size_t errlen)
{
    jdoc *d = jdoc_new();
    char why[200];

    memset(row, 0, sizeof *row);
    if (bus_id_parse(id, strlen(id), &row->sid) < 0) {
        set_err(err, errlen, "stream id '%.60s' is not <ms>-<seq>", id);
        goto fail;
    }
    if (row->sid.ms >= MS_LIMIT || row->sid.seq >= SEQ_LIMIT) {
        set_err(err, errlen, "stream id '%.60s' is out of the archive's range (ms < 2^43, seq < 2^20)", id);
        goto fail;
    }
    bus_id_format(row->sid, row->id);
    if (jdoc_parse(d, json, json_len, 32, why, sizeof why) < 0) {
        set_err(err, errlen, "%s", why);
        goto fail;
    }
    if (jdoc_kind(d, 0) != JDOC_OBJECT) {
        set_err(err, errlen, "not a JSON object");
        goto fail;
    }
    if (json_str(d, 0, "id", &row->tweet_id) < 0 || json_str(d, 0, "text", &row->text) < 0 ||
        json_str(d, jdoc_get(d, 0, "user"), "screen_name", &row->author) < 0 ||
        json_str(d, 0, "lang", &row->lang) < 0 || json_str(d, 0, "created_at", &row->created_at) < 0) {
        set_err(err, errlen, "a field contains a NUL character");
        goto fail;
    }
    if (row->tweet_id == NULL) {
        set_err(err, errlen, "no id");
        goto fail;
    }
    if (row->text == NULL) {
        set_err(err, errlen, "no text");
        goto fail;
    }
    store_words(&row->words, row->text, strlen(row->text));
    json_words(&row->words, d, "hashtags");
    json_words(&row->words, d, "mentions");
    if (row->author) store_words(&row->words, row->author, strlen(row->author));
    if (row->words.data == NULL) buf_appends(&row->words, "");
    row->json = json;
    row->json_len = json_len;
    jdoc_free(d);
    return 0;
fail:
    jdoc_free(d);
    store_row_free(row);
    return -1;
}

void store_row_free(store_row *row)
{
    if (row == NULL) return;
    free(row->tweet_id);
    free(row->author);
    free(row->lang);
    free(row->created_at);
    free(row->text);
    buf_free(&row->words);
    memset(row, 0, sizeof *row);
}

/* ---- insert ---- */

#define INSERT_COLUMNS "ms, seq, id, tweet_id, author, lang, created_at, text, words, json"

static int sq_bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int sq_insert(store *s, const store_row *rows, size_t n, size_t *inserted, char *err, size_t errlen)
{
    if (s->insert == NULL &&
        sqlite3_prepare_v3(s->db,
                           "INSERT INTO tweets (rid, " INSERT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                           " ON CONFLICT (rid) DO NOTHING",
                           -1, SQLITE_PREPARE_PERSISTENT, &s->insert, NULL) != SQLITE_OK) {
        set_err(err, errlen, "sqlite: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    if (sq_exec(s, "BEGIN IMMEDIATE", err, errlen) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        const store_row *r = &rows[i];
        sqlite3_stmt *st = s->insert;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)((r->sid.ms << SEQ_BITS) | r->sid.seq));
        sqlite3_bind_int64(st, 2, (sqlite3_int64)r->sid.ms);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)r->sid.seq);
        sqlite3_bind_text(st, 4, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->tweet_id, -1, SQLITE_STATIC);
        sq_bind_opt(st, 6, r->author);
        sq_bind_opt(st, 7, r->lang);
        sq_bind_opt(st, 8, r->created_at);
        sqlite3_bind_text(st, 9, r->text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, r->words.data, (int)r->words.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, r->json, (int)r->json_len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            set_err(err, errlen, "sqlite: storing %s: %s", r->id, sqlite3_errmsg(s->db));
            sqlite3_reset(st);
            goto fail;
        }
        *inserted += (size_t)sqlite3_changes(s->db);
    }
    sqlite3_reset(s->insert);
    sqlite3_clear_bindings(s->insert);
    if (sq_exec(s, "COMMIT", err, errlen) < 0) goto fail;
    return 0;
fail:
    sqlite3_clear_bindings(s->insert);
    rollback(s);
    return -1;
}

/* One multi-row INSERT for rows[0..n). Numbers go as text, strings as
 * binary text (raw bytes with a length), so nothing needs a terminator. */
static int pg_insert_chunk(store *s, const store_row *rows, size_t n, size_t *inserted, char *err, size_t errlen)
{
    enum { COLS = 10 };
    size_t np = n * COLS;
    const char **vals = xcalloc(np, sizeof *vals);
    int *lens = xcalloc(np, sizeof *lens), *fmts = xcalloc(np, sizeof *fmts);
    char (*nums)[2][24] = xcalloc(n, sizeof *nums);
    buf sql = BUF_INIT;
    int rc = -1;

    buf_appends(&sql, "INSERT INTO tweets (" INSERT_COLUMNS ") VALUES ");
    for (size_t i = 0; i < n; i++) {
        const store_row *r = &rows[i];
        size_t b = i * COLS;
        const char *strs[COLS] = {NULL, NULL, r->id, r->tweet_id, r->author, r->lang, r->created_at, r->text,
                                  r->words.data, r->json};
        snprintf(nums[i][0], sizeof nums[i][0], "%" PRIu64, r->sid.ms);
        snprintf(nums[i][1], sizeof nums[i][1], "%" PRIu64, r->sid.seq);
        vals[b] = nums[i][0];
        vals[b + 1] = nums[i][1];
        for (size_t c = 2; c < COLS; c++) {
            vals[b + c] = strs[c];
            fmts[b + c] = 1;
            lens[b + c] = strs[c] == NULL ? 0 : c == 8 ? (int)r->words.len : c == 9 ? (int)r->json_len
                                                                                      : (int)strlen(strs[c]);
        }
        buf_printf(&sql, "%s($%zu::bigint, $%zu::bigint, $%zu::text, $%zu::text, $%zu::text, $%zu::text, $%zu::text,"
                         " $%zu::text, $%zu::text, $%zu::text)",
                   i ? ", " : "", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10);
    }
    buf_appends(&sql, " ON CONFLICT (ms, seq) DO NOTHING");
    PGresult *r = PQexecParams(s->pg, sql.data, (int)np, NULL, vals, lens, fmts, 0);
    if (pg_ok(s, r, err, errlen) == 0) {
        *inserted += (size_t)strtoull(PQcmdTuples(r), NULL, 10);
        rc = 0;
    }
    PQclear(r);
    buf_free(&sql);
    free(vals);
    free(lens);
    free(fmts);
    free(nums);
    return rc;
}

static int pg_insert(store *s, const store_row *rows, size_t n, size_t *inserted, char *err, size_t errlen)
{
    pg_ensure(s);
    if (pg_exec(s, "BEGIN", err, errlen) < 0) return -1;
    for (size_t i = 0; i < n; i += PG_ROWS_PER_INSERT) {
        size_t k = n - i < PG_ROWS_PER_INSERT ? n - i : PG_ROWS_PER_INSERT;
        if (pg_insert_chunk(s, rows + i, k, inserted, err, errlen) < 0) goto fail;
    }
    if (pg_exec(s, "COMMIT", err, errlen) < 0) goto fail;
    return 0;
fail:
    rollback(s);
    return -1;
}

int store_insert(store *s, const store_row *rows, size_t n, size_t *inserted, char *err, size_t errlen)
{
    size_t count = 0;
    int rc = 0;
    if (n > 0)
        rc = s->engine == ENGINE_SQLITE ? sq_insert(s, rows, n, &count, err, errlen)
                                        : pg_insert(s, rows, n, &count, err, errlen);
    if (inserted) *inserted = rc == 0 ? count : 0;
    return rc;
}

/* ---- search ---- */

int store_query_check(const store_query *q, char *err, size_t errlen)
{
    buf w = BUF_INIT;
    size_t useful = 0;
    int rc = -1;
    if (q->limit < 1 || q->limit > STORE_LIMIT_MAX) {
        set_err(err, errlen, "limit must be between 1 and %d", STORE_LIMIT_MAX);
        goto done;
    }
    if (q->q && *q->q) {
        size_t n = store_words(&w, q->q, strlen(q->q));
        if (n == 0) {
            set_err(err, errlen, "q has no words to search for (letters or digits)");
            goto done;
        }
        if (n > STORE_TERMS_MAX) {
            set_err(err, errlen, "q has more than %d words", STORE_TERMS_MAX);
            goto done;
        }
    }
    for (size_t i = 0; i < q->nphrases; i++) {
        buf_reset(&w);
        size_t n = store_words(&w, q->phrases[i], strlen(q->phrases[i]));
        if (n > STORE_TERMS_MAX) {
            set_err(err, errlen, "a phrase has more than %d words", STORE_TERMS_MAX);
            goto done;
        }
        useful += n > 0;
    }
    if (q->nphrases > 0 && useful == 0) {
        set_err(err, errlen, "the filter has no words to search for");
        goto done;
    }
    rc = 0;
done:
    buf_free(&w);
    return rc;
}

/* FTS5 query for SQLite: every word becomes a quoted string ("word"), so no
 * operator or column syntax from the input survives. Words are letters and
 * digits only (store_words), so they hold no quote. */
static void fts5_and(buf *out, const char *text)
{
    buf w = BUF_INIT;
    store_words(&w, text, strlen(text));
    buf_appendc(out, '(');
    for (char *p = w.data, *tok; (tok = strtok_r(p, " ", &p)) != NULL;)
        buf_printf(out, "%s\"%s\"", out->data[out->len - 1] == '(' ? "" : " ", tok);
    buf_appendc(out, ')');
    buf_free(&w);
}

static int has_words(const char *s)
{
    buf w = BUF_INIT;
    size_t n = store_words(&w, s, strlen(s));
    buf_free(&w);
    return n > 0;
}

static void fts5_match(const store_query *q, buf *out)
{
    if (q->q && *q->q) fts5_and(out, q->q);
    if (q->nphrases == 0) return;
    if (out->len) buf_appends(out, " AND ");
    buf_appendc(out, '(');
    int first = 1;
    for (size_t i = 0; i < q->nphrases; i++) {
        if (!has_words(q->phrases[i])) continue;
        if (!first) buf_appends(out, " OR ");
        fts5_and(out, q->phrases[i]);
        first = 0;
    }
    buf_appendc(out, ')');
}

/* Parameters for a query being built; texts are owned. Numbers are kept
 * as decimal text too (libpq wants text) and flagged, so SQLite binds them as
 * integers. */
typedef struct params {
    char **v;
    int *is_int;
    size_t n, cap;
} params;

static size_t param_add(params *p, char *owned, int is_int)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = xrealloc(p->v, p->cap * sizeof *p->v);
        p->is_int = xrealloc(p->is_int, p->cap * sizeof *p->is_int);
    }
    p->is_int[p->n] = is_int;
    p->v[p->n++] = owned;
    return p->n;
}

static void params_free(params *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->v[i]);
    free(p->v);
    free(p->is_int);
}

static char *words_of(const char *s)
{
    buf w = BUF_INIT;
    store_words(&w, s, strlen(s));
    buf_appends(&w, "");
    return buf_detach(&w, NULL);
}

static char *fmt_u64(uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    return xstrdup(tmp);
}

/* Build the SELECT for q into sql with its parameters (placeholders '?' for
 * SQLite, '$n' for PostgreSQL). Only fixed text and placeholders go into
 * sql; everything from the query is a parameter. */
static void build_search(const store *s, const store_query *q, buf *sql, params *p)
{
    int pg = s->engine == ENGINE_POSTGRES;
#define PH_(owned, num) (pg ? buf_printf(sql, "$%zu", param_add(p, (owned), (num))) \
                            : (void)(param_add(p, (owned), (num)), buf_appendc(sql, '?')))
#define PH(owned) PH_(owned, 0)
#define PH_NUM(v) PH_(fmt_u64(v), 1)
    int fts = (q->q && *q->q) || q->nphrases;
    if (!pg) {
        /* Newest first is a backwards scan of rid (stream order), inside the
         * full-text index when there are words: it stops after limit + 1. */
        const char *rid = fts ? "tweets_fts.rowid" : "t.rid";
        buf_appends(sql, fts ? "SELECT t.id, t.json FROM tweets_fts JOIN tweets t ON t.rid = tweets_fts.rowid"
                               " WHERE tweets_fts MATCH "
                             : "SELECT t.id, t.json FROM tweets t WHERE TRUE");
        if (fts) {
            buf m = BUF_INIT;
            fts5_match(q, &m);
            PH(buf_detach(&m, NULL));
        }
        if (q->nlangs) {
            buf_appends(sql, " AND t.lang IN (");
            for (size_t i = 0; i < q->nlangs; i++) {
                if (i) buf_appends(sql, ", ");
                PH(xstrdup(q->langs[i]));
            }
            buf_appendc(sql, ')');
        }
        /* rid < ms * 2^20 + min(seq, 2^20) is exactly (ms, seq) < before,
         * as stored seqs are below 2^20. */
        if (q->has_before && q->before.ms < MS_LIMIT) {
            uint64_t seq = q->before.seq < SEQ_LIMIT ? q->before.seq : SEQ_LIMIT;
            buf_printf(sql, " AND %s < ", rid);
            PH_NUM((q->before.ms << SEQ_BITS) + seq);
        }
        buf_printf(sql, " ORDER BY %s DESC LIMIT ", rid);
        PH_NUM((uint64_t)q->limit + 1);
        return;
    }
    buf_appends(sql, "SELECT id, json FROM tweets WHERE TRUE");
    if (fts) {
        buf_appends(sql, " AND tsv @@ (");
        if (q->q && *q->q) {
            buf_appends(sql, "plainto_tsquery('simple', ");
            PH(words_of(q->q));
            buf_appendc(sql, ')');
        }
        if (q->nphrases) {
            buf_appends(sql, q->q && *q->q ? " && (" : "(");
            int first = 1;
            for (size_t i = 0; i < q->nphrases; i++) {
                if (!has_words(q->phrases[i])) continue;
                buf_appends(sql, first ? "plainto_tsquery('simple', " : " || plainto_tsquery('simple', ");
                PH(words_of(q->phrases[i]));
                buf_appendc(sql, ')');
                first = 0;
            }
            buf_appendc(sql, ')');
        }
        buf_appendc(sql, ')');
    }
    if (q->nlangs) {
        buf_appends(sql, " AND lang IN (");
        for (size_t i = 0; i < q->nlangs; i++) {
            if (i) buf_appends(sql, ", ");
            PH(xstrdup(q->langs[i]));
        }
        buf_appendc(sql, ')');
    }
    if (q->has_before && q->before.ms < MS_LIMIT) {   /* a later before bounds nothing */
        buf_appends(sql, " AND (ms, seq) < (");
        PH_NUM(q->before.ms);
        buf_appends(sql, "::bigint, ");
        PH_NUM(q->before.seq < SEQ_LIMIT ? q->before.seq : SEQ_LIMIT);
        buf_appends(sql, "::bigint)");
    }
    buf_appends(sql, " ORDER BY ms DESC, seq DESC LIMIT ");
    PH_NUM((uint64_t)q->limit + 1);   /* one more tells whether a next page exists */
    buf_appends(sql, "::bigint");
#undef PH_NUM
#undef PH
#undef PH_
}

static void result_add(store_result *res, size_t *cap, const char *id, const char *json)
{
    if (res->n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        res->ids = xrealloc(res->ids, *cap * sizeof *res->ids);
        res->jsons = xrealloc(res->jsons, *cap * sizeof *res->jsons);
    }
    res->ids[res->n] = xstrdup(id);
    res->jsons[res->n] = xstrdup(json);
    res->n++;
}

int store_search(store *s, const store_query *q, store_result *res, char *err, size_t errlen)
{
    buf sql = BUF_INIT;
    params p = {0};
    size_t cap = 0, rows = 0;
    int rc = -1;

    memset(res, 0, sizeof *res);
    if (store_query_check(q, err, errlen) < 0) return -1;
    build_search(s, q, &sql, &p);
    if (s->engine == ENGINE_SQLITE) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
            set_err(err, errlen, "sqlite: %s", sqlite3_errmsg(s->db));
            goto done;
        }
        for (size_t i = 0; i < p.n; i++) {
            if (p.is_int[i]) sqlite3_bind_int64(st, (int)i + 1, strtoll(p.v[i], NULL, 10));
            else sqlite3_bind_text(st, (int)i + 1, p.v[i], -1, SQLITE_STATIC);
        }
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (rows++ == (size_t)q->limit) {
                res->has_next = 1;
                break;
            }
            result_add(res, &cap, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
        }
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            set_err(err, errlen, "sqlite: %s", sqlite3_errmsg(s->db));
            sqlite3_finalize(st);
            goto done;
        }
        sqlite3_finalize(st);
    } else {
        pg_ensure(s);
        PGresult *r = PQexecParams(s->pg, sql.data, (int)p.n, NULL, (const char *const *)p.v, NULL, NULL, 0);
        if (pg_ok(s, r, err, errlen) < 0) {
            PQclear(r);
            goto done;
        }
        int nt = PQntuples(r);
        for (int i = 0; i < nt; i++) {
            if (i == q->limit) {
                res->has_next = 1;
                break;
            }
            result_add(res, &cap, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        }
        PQclear(r);
    }
    if (res->has_next) strlcpy_safe(res->next, res->ids[res->n - 1], sizeof res->next);
    rc = 0;
done:
    if (rc < 0) store_result_free(res);
    buf_free(&sql);
    params_free(&p);
    return rc;
}

void store_result_free(store_result *res)
{
    if (res == NULL) return;
    for (size_t i = 0; i < res->n; i++) {
        free(res->ids[i]);
        free(res->jsons[i]);
    }
    free(res->ids);
    free(res->jsons);
    memset(res, 0, sizeof *res);
}

void store_result_json(const store_result *res, buf *out)
{
    buf_appends(out, "{\"tweets\":[");
    for (size_t i = 0; i < res->n; i++) {
        if (i) buf_appendc(out, ',');
        buf_appends(out, res->jsons[i]);
    }
    buf_appends(out, "],\"next\":");
    if (res->has_next) buf_append_json_str(out, res->next, strlen(res->next));
    else buf_appends(out, "null");
    buf_appendc(out, '}');
}
