#include "filterset.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "match.h"
#include "util.h"

/* What the set knows about one matcher slot. */
typedef struct entry {
    int used;
    int saved;                /* a saved filter (key = id); else an ad-hoc ?q= */
    int deleted;              /* saved filter deleted while selections use it */
    long long version;
    unsigned refs;            /* selections using this slot */
    unsigned sync_gen;
    filter def;               /* the definition (for selections' own matchers) */
} entry;

struct filterset {
    pthread_mutex_t mu;
    filter_limits lim;
    matcher *m;
    match_result res;
    entry *e;                 /* by slot */
    size_t ne;
    unsigned long long *deleted;   /* sorted ids of deleted saved filters */
    size_t ndeleted, capdeleted;
    size_t nsel;              /* selections alive */
    unsigned sync_gen;
};

struct filterset_sel {
    uint32_t *slots;          /* sorted, distinct */
    char **labels;            /* per slot: a saved filter's id, or a q phrase */
    unsigned char *is_q;      /* per slot: 1 for a q phrase */
    size_t n;
    size_t nsaved, nq;        /* how many of the slots are saved filters, q phrases */
    matcher *own;             /* the selection's filters alone, for history */
    uint32_t *own_slot;       /* own matcher's slot -> the shared matcher's slot */
    unsigned char *own_is_q;  /* own matcher's slot -> 1 for a q phrase */
    size_t nown;
    match_result res;
};

static const filter EMPTY_FILTER;

static void copy_filter(filter *dst, const filter *src)
{
    memset(dst, 0, sizeof *dst);
    memcpy(dst->id, src->id, sizeof dst->id);
    dst->name = xstrdup(src->name ? src->name : "");
    dst->ntrack = src->ntrack;
    dst->track = xcalloc(src->ntrack ? src->ntrack : 1, sizeof *dst->track);
    for (size_t i = 0; i < src->ntrack; i++) dst->track[i] = xstrdup(src->track[i]);
    dst->nlang = src->nlang;
    if (src->nlang) {
        dst->lang = xcalloc(src->nlang, sizeof *dst->lang);
        for (size_t i = 0; i < src->nlang; i++) dst->lang[i] = xstrdup(src->lang[i]);
    }
    dst->version = src->version;
    memcpy(dst->created_at, src->created_at, sizeof dst->created_at);
    memcpy(dst->updated_at, src->updated_at, sizeof dst->updated_at);
}

filterset *filterset_new(const filter_limits *lim)
{
    filterset *fs = xcalloc(1, sizeof *fs);
    pthread_mutex_init(&fs->mu, NULL);
    fs->lim = *lim;
    fs->m = match_new();
    return fs;
}

void filterset_free(filterset *fs)
{
    if (fs == NULL) return;
    for (size_t i = 0; i < fs->ne; i++) filter_free(&fs->e[i].def);
    free(fs->e);
    free(fs->deleted);
    match_result_free(&fs->res);
    match_free(fs->m);
    pthread_mutex_destroy(&fs->mu);
    free(fs);
}

/* ---- deleted ids ---- */

static int parse_id(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 19 || s[0] == '0') return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static size_t deleted_pos(const filterset *fs, unsigned long long id)
{
    size_t lo = 0, hi = fs->ndeleted;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fs->deleted[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int is_deleted(const filterset *fs, const char *id)
{
    unsigned long long v;
    if (parse_id(id, &v) < 0) return 0;
    size_t p = deleted_pos(fs, v);
    return p < fs->ndeleted && fs->deleted[p] == v;
}

static void remember_deleted(filterset *fs, const char *id)
{
    unsigned long long v;
    if (parse_id(id, &v) < 0) return;
    size_t p = deleted_pos(fs, v);
    if (p < fs->ndeleted && fs->deleted[p] == v) return;
    if (fs->ndeleted == fs->capdeleted) {
        fs->capdeleted = fs->capdeleted ? fs->capdeleted * 2 : 64;
        fs->deleted = xrealloc(fs->deleted, fs->capdeleted * sizeof *fs->deleted);
    }
    memmove(fs->deleted + p + 1, fs->deleted + p, (fs->ndeleted - p) * sizeof *fs->deleted);
    fs->deleted[p] = v;
    fs->ndeleted++;
}

/* ---- slots ---- */

static entry *entry_at(filterset *fs, int slot)
{
    if ((size_t)slot >= fs->ne) {
        size_t n = fs->ne ? fs->ne : 64;
        while (n <= (size_t)slot) n *= 2;
        fs->e = xrealloc(fs->e, n * sizeof *fs->e);
        memset(fs->e + fs->ne, 0, (n - fs->ne) * sizeof *fs->e);
        fs->ne = n;
    }
    return &fs->e[slot];
}

/* Compile f (a saved filter) unless a newer version is known or it was
 * deleted. Returns its slot, or -1 when refused. Holds the lock. */
static int put_saved(filterset *fs, const filter *f, int force)
{
    if (is_deleted(fs, f->id)) return -1;
    int slot = match_slot(fs->m, f->id);
    if (slot >= 0) {
        entry *e = entry_at(fs, slot);
        if (e->deleted || (!force && e->version >= f->version) || (force && e->version == f->version))
            return slot;
    }
    slot = match_put(fs->m, f->id, f);
    entry *e = entry_at(fs, slot);
    unsigned refs = e->used ? e->refs : 0;
    filter_free(&e->def);
    e->used = 1;
    e->saved = 1;
    e->deleted = 0;
    e->refs = refs;
    e->version = f->version;
    copy_filter(&e->def, f);
    return slot;
}

/* Drop slot's filter (a saved one that was deleted, or a q nobody uses).
 * Returns the slot when selections still use it (it then matches nothing
 * until released), else -1. Holds the lock. */
static int drop(filterset *fs, const char *key, int slot)
{
    entry *e = &fs->e[slot];
    if (e->refs > 0) {
        e->deleted = 1;
        match_put(fs->m, key, &EMPTY_FILTER);
        return slot;
    }
    match_del(fs->m, key);
    filter_free(&e->def);
    memset(e, 0, sizeof *e);
    return -1;
}

static int delete_saved(filterset *fs, const char *id)
{
    remember_deleted(fs, id);
    int slot = match_slot(fs->m, id);
    if (slot < 0 || fs->e[slot].deleted) return -1;
    return drop(fs, id, slot);
}

int filterset_notice(filterset *fs, const char *msg, size_t len, int *ended, char ended_id[FILTER_ID_MAX])
{
    filter_notice n;
    char err[256];

    *ended = -1;
    ended_id[0] = '\0';
    if (filter_notice_parse(msg, len, &n, err, sizeof err) < 0) {
        log_warn("filters.bad_notice", "err=\"%s\"", err);
        return -1;
    }
    pthread_mutex_lock(&fs->mu);
    if (n.op == FILTER_NOTICE_PUT)
        put_saved(fs, &n.filter, 0);
    else
        *ended = delete_saved(fs, n.filter.id);
    if (*ended >= 0) memcpy(ended_id, n.filter.id, FILTER_ID_MAX);
    pthread_mutex_unlock(&fs->mu);
    filter_free(&n.filter);
    return 0;
}

void filterset_sync(filterset *fs, const filter *v, size_t n, filterset_ended_fn ended, void *arg)
{
    pthread_mutex_lock(&fs->mu);
    unsigned gen = ++fs->sync_gen;
    for (size_t i = 0; i < n; i++) {
        int slot = put_saved(fs, &v[i], 1);
        if (slot >= 0) fs->e[slot].sync_gen = gen;
    }
    for (size_t s = 0; s < fs->ne; s++) {
        entry *e = &fs->e[s];
        if (!e->used || !e->saved || e->deleted || e->sync_gen == gen) continue;
        char id[FILTER_ID_MAX];
        memcpy(id, e->def.id, sizeof id);
        int gone = delete_saved(fs, id);
        if (gone >= 0 && ended) ended(gone, id, arg);
    }
    pthread_mutex_unlock(&fs->mu);
}

size_t filterset_count(filterset *fs)
{
    size_t n;
    if (fs == NULL) return 0;
    pthread_mutex_lock(&fs->mu);
    n = match_count(fs->m);
    pthread_mutex_unlock(&fs->mu);
    return n;
}

uint32_t *filterset_match(filterset *fs, const char *json, size_t len, size_t *n)
{
    uint32_t *out = NULL;

    *n = 0;
    pthread_mutex_lock(&fs->mu);
    if (fs->nsel > 0 && match_tweet(fs->m, json, len, &fs->res) == 0 && fs->res.n) {
        out = xmalloc(fs->res.n * sizeof *out);
        memcpy(out, fs->res.slots, fs->res.n * sizeof *out);
        *n = fs->res.n;
    }
    pthread_mutex_unlock(&fs->mu);
    /* Sort for filterset_wants (a handful of slots: insertion sort). */
    for (size_t i = 1; i < *n; i++) {
        uint32_t v = out[i];
        size_t j = i;
        while (j && out[j - 1] > v) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = v;
    }
    return out;
}

static void sel_add(filterset_sel *sel, int slot, const filter *def, int is_q)
{
    for (size_t i = 0; i < sel->n; i++)
        if (sel->slots[i] == (uint32_t)slot) return;
    sel->slots = xrealloc(sel->slots, (sel->n + 1) * sizeof *sel->slots);
    sel->labels = xrealloc(sel->labels, (sel->n + 1) * sizeof *sel->labels);
    sel->is_q = xrealloc(sel->is_q, (sel->n + 1) * sizeof *sel->is_q);
    size_t j = sel->n++;
    while (j && sel->slots[j - 1] > (uint32_t)slot) {
        sel->slots[j] = sel->slots[j - 1];
        sel->labels[j] = sel->labels[j - 1];
        sel->is_q[j] = sel->is_q[j - 1];
        j--;
    }
    sel->slots[j] = (uint32_t)slot;
    sel->labels[j] = xstrdup(is_q ? (def->ntrack ? def->track[0] : "") : def->id);
    sel->is_q[j] = (unsigned char)is_q;
    if (is_q)
        sel->nq++;
    else
        sel->nsaved++;
    char key[16];
    snprintf(key, sizeof key, "%d", slot);
    int os = match_put(sel->own, key, def);
    if ((size_t)os >= sel->nown) {
        sel->own_slot = xrealloc(sel->own_slot, ((size_t)os + 1) * sizeof *sel->own_slot);
        sel->own_is_q = xrealloc(sel->own_is_q, ((size_t)os + 1) * sizeof *sel->own_is_q);
        sel->nown = (size_t)os + 1;
    }
    sel->own_slot[os] = (uint32_t)slot;
    sel->own_is_q[os] = (unsigned char)is_q;
}

/* Take a reference on slot for sel. Holds the lock. */
static void take(filterset *fs, filterset_sel *sel, int slot)
{
    entry *e = &fs->e[slot];
    for (size_t i = 0; i < sel->n; i++)
        if (sel->slots[i] == (uint32_t)slot) return;
    e->refs++;
    sel_add(sel, slot, &e->def, !e->saved);
}

/* What a selection owns besides its references. */
static void sel_free(filterset_sel *sel)
{
    for (size_t i = 0; i < sel->n; i++) free(sel->labels[i]);
    free(sel->labels);
    free(sel->is_q);
    free(sel->own_slot);
    free(sel->own_is_q);
    free(sel->slots);
    match_free(sel->own);
    match_result_free(&sel->res);
    free(sel);
}

static void release_locked(filterset *fs, filterset_sel *sel)
{
    for (size_t i = 0; i < sel->n; i++) {
        entry *e = &fs->e[sel->slots[i]];
        if (--e->refs > 0) continue;
        if (e->deleted || !e->saved) {
            char key[FILTER_ID_MAX + 8];
            if (e->saved) {
                memcpy(key, e->def.id, FILTER_ID_MAX);
                match_del(fs->m, key);
                filter_free(&e->def);
                memset(e, 0, sizeof *e);
            } else {
                buf k = BUF_INIT;
                buf_printf(&k, "q:%s", e->def.ntrack ? e->def.track[0] : "");
                match_del(fs->m, k.data);
                buf_free(&k);
                filter_free(&e->def);
                memset(e, 0, sizeof *e);
            }
        }
    }
    fs->nsel--;
}

void filterset_release(filterset *fs, filterset_sel *sel)
{
    if (sel == NULL) return;
    pthread_mutex_lock(&fs->mu);
    release_locked(fs, sel);
    pthread_mutex_unlock(&fs->mu);
    sel_free(sel);
}

filterset_sel *filterset_select(filterset *fs, const char *const *ids, size_t nids, const char *q,
                                const filterdb *db, int *status, char *err, size_t errlen)
{
    filterset_sel *sel;
    filter qf, fetched;
    buf qkey = BUF_INIT;
    unsigned long long idv;

    *status = 0;
    if (nids == 0 && q == NULL) return NULL;
    memset(&qf, 0, sizeof qf);
    if (q && filter_from_query(q, strlen(q), &fs->lim, &qf, err, errlen) < 0) {
        *status = 400;
        return NULL;
    }
    sel = xcalloc(1, sizeof *sel);
    sel->own = match_new();
    pthread_mutex_lock(&fs->mu);
    fs->nsel++;
    for (size_t i = 0; i < nids; i++) {
        const char *id = ids[i];
        int slot = parse_id(id, &idv) == 0 ? match_slot(fs->m, id) : -1;
        if (slot >= 0 && !fs->e[slot].deleted) {
            take(fs, sel, slot);
            continue;
        }
        if (slot >= 0 || parse_id(id, &idv) < 0 || is_deleted(fs, id) || db == NULL) goto unknown;
        /* Not known here yet (created through another process a moment
         * ago, its notice still on the way): look it up. */
        pthread_mutex_unlock(&fs->mu);
        int rc = filterdb_get(db, id, &fetched, err, errlen);
        pthread_mutex_lock(&fs->mu);
        if (rc == FILTERDB_ERROR) {
            *status = 503;
            goto fail;
        }
        if (rc != FILTERDB_OK) goto unknown;
        slot = put_saved(fs, &fetched, 0);
        filter_free(&fetched);
        if (slot < 0 || fs->e[slot].deleted) goto unknown;
        take(fs, sel, slot);
        continue;
    unknown:
        snprintf(err, errlen, "filter: no filter with id '%.40s'", id);
        *status = 404;
        goto fail;
    }
    /* each q phrase is an ad-hoc filter of its own, so a stream can be told
     * which phrases a tweet matched (filterset_sel_matched) */
    for (size_t t = 0; q && t < qf.ntrack; t++) {
        filter one = qf;
        one.track = &qf.track[t];
        one.ntrack = 1;
        buf_reset(&qkey);
        buf_printf(&qkey, "q:%s", qf.track[t]);
        int slot = match_slot(fs->m, qkey.data);
        if (slot < 0) {
            slot = match_put(fs->m, qkey.data, &one);
            entry *e = entry_at(fs, slot);
            e->used = 1;
            e->saved = 0;
            copy_filter(&e->def, &one);
        }
        take(fs, sel, slot);
    }
    pthread_mutex_unlock(&fs->mu);
    filter_free(&qf);
    buf_free(&qkey);
    return sel;
fail:
    release_locked(fs, sel);
    pthread_mutex_unlock(&fs->mu);
    sel_free(sel);
    filter_free(&qf);
    buf_free(&qkey);
    return NULL;
}

/* The one rule of a selection: (any saved filter) AND (any q phrase), a
 * part the selection does not have counting as matched. */
static int sel_rule(const filterset_sel *sel, int saved_hit, int q_hit)
{
    return (sel->nsaved == 0 || saved_hit) && (sel->nq == 0 || q_hit);
}

int filterset_wants(const filterset_sel *sel, const uint32_t *slots, size_t n)
{
    if (sel == NULL) return 1;
    int hit[2] = {0, 0};      /* [0] a saved filter matched, [1] a q phrase did */
    size_t i = 0, j = 0;
    while (i < sel->n && j < n) {
        if (sel->slots[i] == slots[j]) {
            hit[sel->is_q[i]] = 1;
            if (sel_rule(sel, hit[0], hit[1])) return 1;
            i++;
            j++;
        } else if (sel->slots[i] < slots[j]) {
            i++;
        } else {
            j++;
        }
    }
    return 0;
}

size_t filterset_sel_matched(const filterset_sel *sel, const uint32_t *slots, size_t n, buf *out)
{
    size_t count = 0;
    for (int q = 0; q < 2; q++) {
        int first = 1;
        buf_appends(out, q ? ",\"q\":[" : "\"filters\":[");
        for (size_t i = 0, j = 0; sel && i < sel->n && j < n;) {
            if (sel->slots[i] < slots[j]) {
                i++;
            } else if (sel->slots[i] > slots[j]) {
                j++;
            } else {
                if (sel->is_q[i] == q) {
                    if (!first) buf_appendc(out, ',');
                    buf_append_json_str(out, sel->labels[i], strlen(sel->labels[i]));
                    first = 0;
                    count++;
                }
                i++;
                j++;
            }
        }
        buf_appendc(out, ']');
    }
    return count;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

size_t filterset_sel_matched_tweet(filterset_sel *sel, const char *json, size_t len, buf *out)
{
    if (sel == NULL || match_tweet(sel->own, json, len, &sel->res) < 0) return filterset_sel_matched(NULL, NULL, 0, out);
    uint32_t *slots = xmalloc((sel->res.n ? sel->res.n : 1) * sizeof *slots);
    for (size_t i = 0; i < sel->res.n; i++) slots[i] = sel->own_slot[sel->res.slots[i]];
    qsort(slots, sel->res.n, sizeof *slots, cmp_u32);
    size_t n = filterset_sel_matched(sel, slots, sel->res.n, out);
    free(slots);
    return n;
}

int filterset_sel_has(const filterset_sel *sel, int slot)
{
    if (sel == NULL || slot < 0) return 0;
    for (size_t i = 0; i < sel->n; i++)
        if (sel->slots[i] == (uint32_t)slot) return 1;
    return 0;
}

int filterset_sel_matches(filterset_sel *sel, const char *json, size_t len)
{
    if (sel == NULL) return 1;
    if (match_tweet(sel->own, json, len, &sel->res) < 0) return 0;
    int hit[2] = {0, 0};
    for (size_t i = 0; i < sel->res.n; i++) hit[sel->own_is_q[sel->res.slots[i]]] = 1;
    return sel_rule(sel, hit[0], hit[1]);
}
