#include "filterdb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "log.h"
#include "util.h"

/* KEYS: filters, filters:seq, filters:names, control.
 * ARGV: name key, the filter JSON after its opening '{' (no id), filters_max. */
static const char CREATE_LUA[] =
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

/* KEYS: filters, filters:names, control.
 * ARGV: id, version read, old name key, new name key, new JSON. */
static const char REPLACE_LUA[] =
    "local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not cur then return {'NOTFOUND'} end\n"
    "if tostring(cjson.decode(cur).version) ~= ARGV[2] then return {'CONFLICT'} end\n"
    "if ARGV[3] ~= ARGV[4] then\n"
    "  local owner = redis.call('HGET', KEYS[2], ARGV[4])\n"
    "  if owner and owner ~= ARGV[1] then return {'DUP', owner} end\n"
    "  if redis.call('HGET', KEYS[2], ARGV[3]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[3]) end\n"
    "end\n"
    "redis.call('HSET', KEYS[2], ARGV[4], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])\n"
    "redis.call('PUBLISH', KEYS[3], '{\"op\":\"put\",\"filter\":' .. ARGV[5] .. '}')\n"
    "return {'OK'}\n";

/* KEYS: filters, filters:names, control. ARGV: id, version read, name key. */
static const char DELETE_LUA[] =
    "local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not cur then return {'NOTFOUND'} end\n"
    "if tostring(cjson.decode(cur).version) ~= ARGV[2] then return {'CONFLICT'} end\n"
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "if redis.call('HGET', KEYS[2], ARGV[3]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[3]) end\n"
    "redis.call('PUBLISH', KEYS[3], '{\"op\":\"del\",\"id\":\"' .. ARGV[1] .. '\"}')\n"
    "return {'OK'}\n";

#define RETRIES 8

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

/* Run a command of up to 10 C-string arguments; NULL args end the list. */
static redisReply *run(const filterdb *db, int idempotent, char *err, size_t errlen, const char *a0, ...)
{
    const char *argv[12];
    size_t lens[12];
    int argc = 0;
    va_list ap;

    va_start(ap, a0);
    for (const char *a = a0; a && argc < 12; a = va_arg(ap, const char *)) {
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

int filterdb_create(const filterdb *db, filter *f, char *err, size_t errlen)
{
    char kf[256], ks[256], kn[256], kc[256], max[24];
    buf json = BUF_INIT, name = BUF_INIT;
    int rc = FILTERDB_ERROR;

    f->id[0] = '\0';
    f->version = 1;
    now_iso(f->created_at);
    memcpy(f->updated_at, f->created_at, sizeof f->updated_at);
    filter_to_json(f, &json);
    filter_name_key(f->name, &name);
    snprintf(max, sizeof max, "%lld", db->filters_max);
    redisReply *r = run(db, 0, err, errlen, "EVAL", CREATE_LUA, "4", key(db, BUS_KEY_FILTERS, kf, sizeof kf),
                        key(db, BUS_KEY_SEQ, ks, sizeof ks), key(db, FILTERDB_KEY_NAMES, kn, sizeof kn),
                        key(db, BUS_KEY_CONTROL, kc, sizeof kc), name.data, json.data + 1, max, NULL);
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
 * conditional (the caller reads it again and retries). done is the reason
 * for success. */
static int change_outcome(const redisReply *r, const char *id, long long if_version, const char *done, char *err,
                          size_t errlen)
{
    const char *st = status_of(r);
    if (strcmp(st, "OK") == 0) return seterr(err, errlen, FILTERDB_OK, "%s", done);
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
    char kf[256], kn[256], kc[256], ver[24];
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
        redisReply *r = run(db, 0, err, errlen, "EVAL", REPLACE_LUA, "3", key(db, BUS_KEY_FILTERS, kf, sizeof kf),
                            key(db, FILTERDB_KEY_NAMES, kn, sizeof kn), key(db, BUS_KEY_CONTROL, kc, sizeof kc), id,
                            ver, oldname.data, newname.data, json.data, NULL);
        rc = r ? change_outcome(r, id, if_version, "replaced", err, errlen) : FILTERDB_ERROR;
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
    char kf[256], kn[256], kc[256], ver[24];
    buf name = BUF_INIT;
    filter cur;
    int rc = FILTERDB_ERROR;

    memset(&cur, 0, sizeof cur);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        if ((rc = read_current(db, id, if_version, &cur, err, errlen)) != FILTERDB_OK) goto done;
        filter_name_key(cur.name, &name);
        snprintf(ver, sizeof ver, "%lld", cur.version);
        redisReply *r = run(db, 0, err, errlen, "EVAL", DELETE_LUA, "3", key(db, BUS_KEY_FILTERS, kf, sizeof kf),
                            key(db, FILTERDB_KEY_NAMES, kn, sizeof kn), key(db, BUS_KEY_CONTROL, kc, sizeof kc), id,
                            ver, name.data, NULL);
        rc = r ? change_outcome(r, id, if_version, "deleted", err, errlen) : FILTERDB_ERROR;
        freeReplyObject(r);
        if (rc != 1) goto done;
    }
    rc = seterr(err, errlen, FILTERDB_ERROR, "filter %s keeps changing; try again", id);
done:
    filter_free(&cur);
    buf_free(&name);
    return rc;
}
