#include "filterdb.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "log.h"
#include "token.h"
#include "util.h"

/* The name index's keys are folded by lib/token (filter_name_key), so they
 * are as good as the folding that made them: every change of it (a new
 * TOKEN_VERSION) leaves keys an older birdfeed folded otherwise, and two
 * filters could then share a name, or a freed name stay taken. So the index
 * records the version that folded it (filters:names:version) and every
 * write script first checks it: on another version the script changes
 * nothing and answers REINDEX, filterdb rebuilds the index from the filters
 * (filterdb_reindex) and tries again. */
#define NAMES_CHECK_LUA \
    "local v = redis.call('GET', KEYS[#KEYS])\n" \
    "if v ~= ARGV[#ARGV] then return {'REINDEX', v or '0'} end\n"

/* KEYS: filters, filters:seq, filters:names, control, filters:names:version.
 * ARGV: name key, the filter JSON after its opening '{' (no id), filters_max,
 * the index version. */
static const char CREATE_LUA[] =
    NAMES_CHECK_LUA
    "if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then\n"
    "  return {'DUP', redis.call('HGET', KEYS[3], ARGV[1])}\n"
    "end\n"
    "if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return {'FULL'} end\n"
    "local id = tostring(redis.call('INCR', KEYS[2]))\n"
    "local json = '{\"id\":\"' .. id .. '\",' .. ARGV[2]\n"
    "redis.call('HSET', KEYS[1], id, json)\n"
    "redis.call('HSET', KEYS[3], ARGV[1], id)\n"
    "redis.call('PUBLISH', KEYS[4], '{\"op\":\"put\",\"filter\":' .. json .. '}')\n"
    "return {'OK', id}\n";

/* KEYS: filters, filters:names, control, filters:names:version.
 * ARGV: id, version read, old name key, new name key, new JSON, the index
 * version. The new name is checked even when it is the old one: a filter
 * left out of the index by filterdb_reindex (its name folds like another's)
 * must take another name before it can keep one. */
static const char REPLACE_LUA[] =
    NAMES_CHECK_LUA
    "local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not cur then return {'NOTFOUND'} end\n"
    "if tostring(cjson.decode(cur).version) ~= ARGV[2] then return {'CONFLICT'} end\n"
    "local owner = redis.call('HGET', KEYS[2], ARGV[4])\n"
    "if owner and owner ~= ARGV[1] then return {'DUP', owner} end\n"
    "if ARGV[3] ~= ARGV[4] and redis.call('HGET', KEYS[2], ARGV[3]) == ARGV[1] then\n"
    "  redis.call('HDEL', KEYS[2], ARGV[3])\n"
    "end\n"
    "redis.call('HSET', KEYS[2], ARGV[4], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])\n"
    "redis.call('PUBLISH', KEYS[3], '{\"op\":\"put\",\"filter\":' .. ARGV[5] .. '}')\n"
    "return {'OK'}\n";

/* KEYS: filters, filters:names, control, filters:names:version.
 * ARGV: id, version read, name key, the index version. */
static const char DELETE_LUA[] =
    NAMES_CHECK_LUA
    "local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not cur then return {'NOTFOUND'} end\n"
    "if tostring(cjson.decode(cur).version) ~= ARGV[2] then return {'CONFLICT'} end\n"
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "if redis.call('HGET', KEYS[2], ARGV[3]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[3]) end\n"
    "redis.call('PUBLISH', KEYS[3], '{\"op\":\"del\",\"id\":\"' .. ARGV[1] .. '\"}')\n"
    "return {'OK'}\n";

/* KEYS: filters, filters:names, filters:names:version.
 * ARGV: the index version, how many filters were read, then per filter
 * read: id, its version, its name key ("" to leave it out of the index).
 * Rebuilds the index only if the filters are still the ones read. */
static const char REINDEX_LUA[] =
    "local n = tonumber(ARGV[2])\n"
    "if redis.call('HLEN', KEYS[1]) ~= n then return {'CONFLICT'} end\n"
    "for i = 3, #ARGV, 3 do\n"
    "  local cur = redis.call('HGET', KEYS[1], ARGV[i])\n"
    "  if not cur or tostring(cjson.decode(cur).version) ~= ARGV[i + 1] then return {'CONFLICT'} end\n"
    "end\n"
    "redis.call('DEL', KEYS[2])\n"
    "local names = 0\n"
    "for i = 3, #ARGV, 3 do\n"
    "  if ARGV[i + 2] ~= '' then redis.call('HSET', KEYS[2], ARGV[i + 2], ARGV[i]); names = names + 1 end\n"
    "end\n"
    "redis.call('SET', KEYS[3], ARGV[1])\n"
    "return {'OK', tostring(names)}\n";

#define RETRIES 8
#define ARGS_MAX 16

static int seterr(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

redisReply *filterdb_context_cmd(void *arg, int idempotent, int argc, const char **argv, const size_t *argvlen)
{
    redisContext *c = arg;
    (void)idempotent;
    if (c == NULL || c->err) return NULL;
    return redisCommandArgv(c, argc, argv, argvlen);
}

/* The current UTC time as "2026-01-02T03:04:05Z". */
static void now_iso(char out[FILTER_TIME_MAX])
{
    time_t t = (time_t)(wall_ms() / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, FILTER_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An id that could have been handed out: 1–20 decimal digits. */
static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 20 || id[0] == '0') return 0;
    for (size_t i = 0; i < n; i++)
        if (id[i] < '0' || id[i] > '9') return 0;
    return 1;
}

/* Run a command of up to ARGS_MAX C-string arguments; NULL args end the list. */
static redisReply *run(const filterdb *db, int idempotent, char *err, size_t errlen, const char *a0, ...)
{
    const char *argv[ARGS_MAX];
    size_t lens[ARGS_MAX];
    int argc = 0;
    va_list ap;

    va_start(ap, a0);
    for (const char *a = a0; a && argc < ARGS_MAX; a = va_arg(ap, const char *)) {
        argv[argc] = a;
        lens[argc] = strlen(a);
        argc++;
    }
    va_end(ap);
    redisReply *r = db->cmd(db->arg, idempotent, argc, argv, lens);
    if (r == NULL) {
        seterr(err, errlen, 0, "Redis unreachable");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        seterr(err, errlen, 0, "Redis error: %.200s", r->str);
        log_error("filterdb.redis_error", "cmd=%s err=\"%.200s\"", a0, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static char *key(const filterdb *db, const char *name, char *out, size_t n)
{
    return bus_key(out, n, db->prefix, name);
}

/* The name index version this binary writes: its tokeniser's. */
static char *names_version(char out[24])
{
    snprintf(out, 24, "%d", TOKEN_VERSION);
    return out;
}

static int by_id(const void *a, const void *b)
{
    const filter *x = a, *y = b;
    size_t lx = strlen(x->id), ly = strlen(y->id);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x->id, y->id);
}

int filterdb_list(const filterdb *db, filter **out, size_t *n, char *err, size_t errlen)
{
    char k[256], why[256];
    redisReply *r = run(db, 1, err, errlen, "HGETALL", key(db, BUS_KEY_FILTERS, k, sizeof k), NULL);
    filter *v = NULL;
    size_t cnt = 0;

    *out = NULL;
    *n = 0;
    if (r == NULL) return FILTERDB_ERROR;
    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return seterr(err, errlen, FILTERDB_ERROR, "Redis: unexpected reply to HGETALL");
    }
    if (r->elements) v = xcalloc(r->elements / 2, sizeof *v);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        redisReply *val = r->element[i + 1];
        if (val->type != REDIS_REPLY_STRING || filter_load(val->str, val->len, &v[cnt], why, sizeof why) < 0) {
            log_warn("filterdb.bad_entry", "id=%.40s err=\"%s\"",
                     r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "?", why);
            continue;
        }
        cnt++;
    }
    freeReplyObject(r);
    if (cnt) qsort(v, cnt, sizeof *v, by_id);
    *out = v;
    *n = cnt;
    return FILTERDB_OK;
}

int filterdb_get(const filterdb *db, const char *id, filter *out, char *err, size_t errlen)
{
    char k[256], why[256];

    memset(out, 0, sizeof *out);
    if (!id_ok(id)) return seterr(err, errlen, FILTERDB_NOT_FOUND, "no filter with this id");
    redisReply *r = run(db, 1, err, errlen, "HGET", key(db, BUS_KEY_FILTERS, k, sizeof k), id, NULL);
    if (r == NULL) return FILTERDB_ERROR;
    int rc = FILTERDB_OK;
    if (r->type == REDIS_REPLY_NIL) {
        rc = seterr(err, errlen, FILTERDB_NOT_FOUND, "no filter with id %s", id);
    } else if (r->type != REDIS_REPLY_STRING || filter_load(r->str, r->len, out, why, sizeof why) < 0) {
        log_error("filterdb.bad_entry", "id=%s", id);
        rc = seterr(err, errlen, FILTERDB_ERROR, "stored filter %s is corrupt", id);
    }
    freeReplyObject(r);
    return rc;
}

/* The status word of a script reply ({'OK', …}), or "" */
static const char *status_of(const redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_STRING)
        return r->element[0]->str;
    return "";
}

static const char *second_of(const redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && r->element[1]->type == REDIS_REPLY_STRING)
        return r->element[1]->str;
    return "?";
}

/* ---- the name index ---- */

/* One filter as the rebuild sees it. */
struct indexed {
    const char *id;               /* into the HGETALL reply */
    char version[24];
    buf name_key;
};

static int by_key_then_id(const void *a, const void *b)
{
    const struct indexed *x = a, *y = b;
    int c = strcmp(x->name_key.data, y->name_key.data);
    if (c) return c;
    size_t lx = strlen(x->id), ly = strlen(y->id);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* One attempt at the rebuild: 0 done, 1 the filters changed meanwhile,
 * or FILTERDB_ERROR. */
static int reindex_once(const filterdb *db, filterdb_reindexed *out, char *err, size_t errlen)
{
    char kf[256], kn[256], kv[256], ver[24], count[24], why[256];
    redisReply *all = run(db, 1, err, errlen, "HGETALL", key(db, BUS_KEY_FILTERS, kf, sizeof kf), NULL);
    if (all == NULL) return FILTERDB_ERROR;
    if (all->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(all);
        return seterr(err, errlen, FILTERDB_ERROR, "Redis: unexpected reply to HGETALL");
    }
    size_t nall = all->elements / 2, n = 0;
    struct indexed *v = xcalloc(nall ? nall : 1, sizeof *v);
    for (size_t i = 0; i < nall; i++) {
        const redisReply *id = all->element[2 * i], *val = all->element[2 * i + 1];
        filter f;
        if (id->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING ||
            filter_load(val->str, val->len, &f, why, sizeof why) < 0) {
            log_warn("filterdb.bad_entry", "id=%.40s err=\"%s\" msg=\"left out of the name index\"",
                     id->type == REDIS_REPLY_STRING ? id->str : "?", why);
            continue;
        }
        v[n].id = id->str;
        snprintf(v[n].version, sizeof v[n].version, "%lld", f.version);
        filter_name_key(f.name, &v[n].name_key);
        filter_free(&f);
        n++;
    }
    /* Names that fold alike now: the lowest id keeps the name. */
    qsort(v, n, sizeof *v, by_key_then_id);
    out->names = out->clashes = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(v[i].name_key.data, v[i - 1].name_key.data) == 0) {
            log_warn("filterdb.name_clash", "id=%s keeps_name=%s msg=\"two filters' names are one name now (case "
                     "folding changed): the later one must be renamed before it can be changed\"",
                     v[i].id, v[i - 1].id);
            out->clashes++;
            continue;      /* its key stays: the next one compares with the kept one's */
        }
        out->names++;
    }
    size_t argc = 8 + 3 * n;
    const char **argv = xcalloc(argc, sizeof *argv);
    size_t *lens = xcalloc(argc, sizeof *lens);
    argv[0] = "EVAL";
    argv[1] = REINDEX_LUA;
    argv[2] = "3";
    argv[3] = key(db, BUS_KEY_FILTERS, kf, sizeof kf);
    argv[4] = key(db, FILTERDB_KEY_NAMES, kn, sizeof kn);
    argv[5] = key(db, FILTERDB_KEY_NAMES_VERSION, kv, sizeof kv);
    argv[6] = names_version(ver);
    snprintf(count, sizeof count, "%zu", nall);
    argv[7] = count;
    for (size_t i = 0; i < n; i++) {
        int clash = i > 0 && strcmp(v[i].name_key.data, v[i - 1].name_key.data) == 0;
        argv[8 + 3 * i] = v[i].id;
        argv[9 + 3 * i] = v[i].version;
        argv[10 + 3 * i] = clash ? "" : v[i].name_key.data;
    }
    for (size_t i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    redisReply *r = db->cmd(db->arg, 0, (int)argc, argv, lens);
    int rc;
    if (r == NULL) {
        rc = seterr(err, errlen, FILTERDB_ERROR, "Redis unreachable");
    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = seterr(err, errlen, FILTERDB_ERROR, "Redis error: %.200s", r->str);
    } else if (strcmp(status_of(r), "CONFLICT") == 0) {
        rc = 1;
    } else if (strcmp(status_of(r), "OK") == 0) {
        rc = seterr(err, errlen, FILTERDB_OK, "name index rebuilt: %zu names, %zu left out", out->names, out->clashes);
    } else {
        rc = seterr(err, errlen, FILTERDB_ERROR, "Redis: unexpected script reply");
    }
    if (r) freeReplyObject(r);
    free(argv);
    free(lens);
    for (size_t i = 0; i < n; i++) buf_free(&v[i].name_key);
    free(v);
    freeReplyObject(all);
    return rc;
}

int filterdb_reindex(const filterdb *db, filterdb_reindexed *out, char *err, size_t errlen)
{
    filterdb_reindexed ignore;
    if (out == NULL) out = &ignore;
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        int rc = reindex_once(db, out, err, errlen);
        if (rc != 1) {
            if (rc == FILTERDB_OK)
                log_info("filterdb.reindexed", "names=%zu clashes=%zu version=%d", out->names, out->clashes,
                         TOKEN_VERSION);
            return rc;
        }
    }
    return seterr(err, errlen, FILTERDB_ERROR, "the filters keep changing; try again");
}

/* A write script answered REINDEX (its second word: the version the index
 * has, "0" for none): rebuild it, unless a newer birdfeed folded it.
 * FILTERDB_OK to try the write again, else the outcome. */
static int reindex_for(const filterdb *db, const redisReply *r, char *err, size_t errlen)
{
    long long v = 0;
    const char *why;
    if (parse_ll(second_of(r), 0, LLONG_MAX, &v, &why) < 0) v = 0;
    if (v > TOKEN_VERSION)
        return seterr(err, errlen, FILTERDB_ERROR,
                      "the filter name index was made by a newer birdfeed (tokenizer version %lld, this one's %d): "
                      "upgrade birdfeed", v, TOKEN_VERSION);
    log_warn("filterdb.reindex", "from_version=%lld to_version=%d msg=\"the name index was folded by another "
             "tokenizer version: rebuilding it\"", v, TOKEN_VERSION);
    return filterdb_reindex(db, NULL, err, errlen);
}

int filterdb_create(const filterdb *db, filter *f, char *err, size_t errlen)
{
    char kf[256], ks[256], kn[256], kc[256], kv[256], max[24], ver[24];
    buf json = BUF_INIT, name = BUF_INIT;
    int rc = FILTERDB_ERROR;
    redisReply *r = NULL;

    f->id[0] = '\0';
    f->version = 1;
    now_iso(f->created_at);
    memcpy(f->updated_at, f->created_at, sizeof f->updated_at);
    filter_to_json(f, &json);
    filter_name_key(f->name, &name);
    snprintf(max, sizeof max, "%lld", db->filters_max);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        r = run(db, 0, err, errlen, "EVAL", CREATE_LUA, "5", key(db, BUS_KEY_FILTERS, kf, sizeof kf),
                key(db, BUS_KEY_SEQ, ks, sizeof ks), key(db, FILTERDB_KEY_NAMES, kn, sizeof kn),
                key(db, BUS_KEY_CONTROL, kc, sizeof kc), key(db, FILTERDB_KEY_NAMES_VERSION, kv, sizeof kv),
                name.data, json.data + 1, max, names_version(ver), NULL);
        if (r == NULL || strcmp(status_of(r), "REINDEX") != 0) break;
        rc = reindex_for(db, r, err, errlen);
        freeReplyObject(r);
        r = NULL;
        if (rc != FILTERDB_OK) goto fail;
        rc = seterr(err, errlen, FILTERDB_ERROR, "the filter name index keeps being rebuilt; try again");
    }
    if (r == NULL) goto fail;
    const char *st = status_of(r);
    if (strcmp(st, "OK") == 0) {
        strlcpy_safe(f->id, second_of(r), sizeof f->id);
        rc = seterr(err, errlen, FILTERDB_OK, "created");
    } else if (strcmp(st, "DUP") == 0) {
        rc = seterr(err, errlen, FILTERDB_DUPLICATE, "name: filter %.24s already has this name", second_of(r));
    } else if (strcmp(st, "FULL") == 0) {
        rc = seterr(err, errlen, FILTERDB_FULL, "there are already %lld filters, the most allowed (filters-max)",
                    db->filters_max);
    } else {
        rc = seterr(err, errlen, FILTERDB_ERROR, "Redis: unexpected script reply");
    }
    freeReplyObject(r);
fail:
    if (rc != FILTERDB_OK) {
        f->version = 0;
        f->created_at[0] = f->updated_at[0] = '\0';
    }
    buf_free(&json);
    buf_free(&name);
    return rc;
}

/* Read filter id into *cur (freed first) for a change conditional on
 * if_version (< 0: any). FILTERDB_OK, or the outcome with its reason. */
static int read_current(const filterdb *db, const char *id, long long if_version, filter *cur, char *err,
                        size_t errlen)
{
    filter_free(cur);
    int rc = filterdb_get(db, id, cur, err, errlen);
    if (rc == FILTERDB_OK && if_version >= 0 && cur->version != if_version)
        rc = seterr(err, errlen, FILTERDB_PRECONDITION, "filter %s is at version %lld, not %lld", id, cur->version,
                    if_version);
    return rc;
}

/* What a replace or delete script answered: an outcome with its reason in
 * err, or 1 when the filter changed meanwhile and the change was not
 * conditional, or the name index had to be rebuilt (the caller reads the
 * filter again and retries). done is the reason for success. */
static int change_outcome(const filterdb *db, const redisReply *r, const char *id, long long if_version,
                          const char *done, char *err, size_t errlen)
{
    const char *st = status_of(r);
    if (strcmp(st, "OK") == 0) return seterr(err, errlen, FILTERDB_OK, "%s", done);
    if (strcmp(st, "REINDEX") == 0) {
        int rc = reindex_for(db, r, err, errlen);
        return rc == FILTERDB_OK ? 1 : rc;
    }
    if (strcmp(st, "NOTFOUND") == 0) return seterr(err, errlen, FILTERDB_NOT_FOUND, "no filter with id %s", id);
    if (strcmp(st, "DUP") == 0)
        return seterr(err, errlen, FILTERDB_DUPLICATE, "name: filter %.24s already has this name", second_of(r));
    if (strcmp(st, "CONFLICT") == 0)
        return if_version >= 0 ? seterr(err, errlen, FILTERDB_PRECONDITION,
                                        "filter %s changed meanwhile (no longer version %lld)", id, if_version)
                               : 1;
    return seterr(err, errlen, FILTERDB_ERROR, "Redis: unexpected script reply");
}

int filterdb_replace(const filterdb *db, const char *id, long long if_version, filter *f, char *err, size_t errlen)
{
    char kf[256], kn[256], kc[256], kv[256], ver[24], iver[24];
    buf json = BUF_INIT, oldname = BUF_INIT, newname = BUF_INIT;
    filter cur;
    int rc = FILTERDB_ERROR;

    memset(&cur, 0, sizeof cur);
    filter_name_key(f->name, &newname);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        if ((rc = read_current(db, id, if_version, &cur, err, errlen)) != FILTERDB_OK) goto done;
        strlcpy_safe(f->id, cur.id, sizeof f->id);
        f->version = cur.version + 1;
        memcpy(f->created_at, cur.created_at, sizeof f->created_at);
        now_iso(f->updated_at);
        buf_reset(&json);
        filter_to_json(f, &json);
        filter_name_key(cur.name, &oldname);
        snprintf(ver, sizeof ver, "%lld", cur.version);
        redisReply *r = run(db, 0, err, errlen, "EVAL", REPLACE_LUA, "4", key(db, BUS_KEY_FILTERS, kf, sizeof kf),
                            key(db, FILTERDB_KEY_NAMES, kn, sizeof kn), key(db, BUS_KEY_CONTROL, kc, sizeof kc),
                            key(db, FILTERDB_KEY_NAMES_VERSION, kv, sizeof kv), id, ver, oldname.data, newname.data,
                            json.data, names_version(iver), NULL);
        rc = r ? change_outcome(db, r, id, if_version, "replaced", err, errlen) : FILTERDB_ERROR;
        freeReplyObject(r);
        if (rc != 1) goto done;
    }
    rc = seterr(err, errlen, FILTERDB_ERROR, "filter %s keeps changing; try again", id);
done:
    if (rc != FILTERDB_OK) {
        f->id[0] = '\0';
        f->version = 0;
        f->created_at[0] = f->updated_at[0] = '\0';
    }
    filter_free(&cur);
    buf_free(&json);
    buf_free(&oldname);
    buf_free(&newname);
    return rc;
}

int filterdb_delete(const filterdb *db, const char *id, long long if_version, char *err, size_t errlen)
{
    char kf[256], kn[256], kc[256], kv[256], ver[24], iver[24];
    buf name = BUF_INIT;
    filter cur;
    int rc = FILTERDB_ERROR;

    memset(&cur, 0, sizeof cur);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        if ((rc = read_current(db, id, if_version, &cur, err, errlen)) != FILTERDB_OK) goto done;
        filter_name_key(cur.name, &name);
        snprintf(ver, sizeof ver, "%lld", cur.version);
        redisReply *r = run(db, 0, err, errlen, "EVAL", DELETE_LUA, "4", key(db, BUS_KEY_FILTERS, kf, sizeof kf),
                            key(db, FILTERDB_KEY_NAMES, kn, sizeof kn), key(db, BUS_KEY_CONTROL, kc, sizeof kc),
                            key(db, FILTERDB_KEY_NAMES_VERSION, kv, sizeof kv), id, ver, name.data,
                            names_version(iver), NULL);
        rc = r ? change_outcome(db, r, id, if_version, "deleted", err, errlen) : FILTERDB_ERROR;
        freeReplyObject(r);
        if (rc != 1) goto done;
    }
    rc = seterr(err, errlen, FILTERDB_ERROR, "filter %s keeps changing; try again", id);
done:
    filter_free(&cur);
    buf_free(&name);
    return rc;
}
