/* store — the engine-neutral front of the archive: opening by URL, inserts,
 * query checks and search plans, results. The engines are ops tables
 * (lib/store_engine.h); schema versions live in lib/store_migrate.c, rows
 * in lib/store_row.c. */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "store_engine.h"
#include "token.h"
#include "util.h"

int store_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0) return -1;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* libpq messages end with a newline and may span lines: keep one line. */
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\r') *p = (p[1] ? ' ' : '\0');
    return -1;
}

store *store_open(const char *url, char *err, size_t errlen)
{
    if (url == NULL || *url == '\0') {
        store_err(err, errlen, "no archive configured (--db or BIRDFEED_DB: sqlite:PATH or postgres://…)");
        return NULL;
    }
    if (strncmp(url, "sqlite:", 7) == 0) return store_sqlite_ops.open(url, err, errlen);
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return store_pg_ops.open(url, err, errlen);
    store_err(err, errlen, "database URL must start with sqlite: or postgres:// (got '%.40s')", url);
    return NULL;
}

void store_close(store *s)
{
    if (s) s->ops->close(s);
}

const char *store_engine(const store *s)
{
    return s->ops->name;
}

int store_ping(store *s, char *err, size_t errlen)
{
    long long one;
    return s->ops->query_int(s, "SELECT 1", &one, err, errlen);
}

int store_insert(store *s, const store_row *rows, size_t n, store_counts *counts, char *err, size_t errlen)
{
    store_counts c = {0, 0, 0};
    int rc = n > 0 ? s->ops->insert(s, rows, n, &c, err, errlen) : 0;
    if (rc < 0) memset(&c, 0, sizeof c);
    if (counts) *counts = c;
    return rc;
}

/* ---- search plans ---- */

static void phrases_free(store_phrases *p)
{
    for (size_t i = 0; i < p->n; i++) {
        for (size_t k = 0; k < p->nterms[i]; k++) free(p->terms[i][k]);
        free(p->terms[i]);
    }
    free(p->terms);
    free(p->nterms);
    memset(p, 0, sizeof *p);
}

/* The terms of one phrase, each spelled with its sign. */
static void add_term(const char *tok, size_t len, char sign, void *arg)
{
    store_phrases *p = arg;
    size_t i = p->n, k = p->nterms[i];
    const char *t = sign ? tok - 1 : tok;   /* tok[-1] is the sign */
    size_t tl = sign ? len + 1 : len;
    for (size_t j = 0; j < k; j++)
        if (strlen(p->terms[i][j]) == tl && memcmp(p->terms[i][j], t, tl) == 0) return;
    if (k < STORE_TERMS_MAX + 1) {         /* one over the limit is enough to refuse */
        p->terms[i] = xrealloc(p->terms[i], (k + 1) * sizeof *p->terms[i]);
        p->terms[i][p->nterms[i]++] = xstrndup(t, tl);
    }
}

/* Add text as one phrase of p, its terms cut as a query (lib/token.h).
 * Returns how many distinct terms it has (a phrase without any is not
 * added). */
static size_t phrases_add(store_phrases *p, const char *text)
{
    p->terms = xrealloc(p->terms, (p->n + 1) * sizeof *p->terms);
    p->nterms = xrealloc(p->nterms, (p->n + 1) * sizeof *p->nterms);
    p->terms[p->n] = NULL;
    p->nterms[p->n] = 0;
    token_scan(text, strlen(text), TOKEN_QUERY, add_term, p);
    size_t n = p->nterms[p->n];
    if (n > 0) p->n++;
    else free(p->terms[p->n]);
    return n;
}

static void langs_free(store_plan *p)
{
    for (size_t i = 0; i < p->nlangs; i++) {
        free(p->langs[i]);
        free(p->lang_like[i]);
    }
    free(p->langs);
    free(p->lang_like);
    p->langs = p->lang_like = NULL;
    p->nlangs = 0;
}

/* The filter's languages as plan->langs (lower case, as match.c compares
 * them) and plan->lang_like ("en-%": a subtag follows). */
static void langs_add(store_plan *p, const char *const *langs, size_t n)
{
    p->langs = xcalloc(n ? n : 1, sizeof *p->langs);
    p->lang_like = xcalloc(n ? n : 1, sizeof *p->lang_like);
    for (size_t i = 0; i < n; i++) {
        buf like = BUF_INIT;
        char *l = xstrdup(langs[i]);
        for (char *c = l; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
        for (const char *c = l; *c; c++) {
            if (*c == '\\' || *c == '%' || *c == '_') buf_appendc(&like, '\\');
            buf_appendc(&like, *c);
        }
        buf_appends(&like, "-%");
        p->langs[i] = l;
        p->lang_like[i] = buf_detach(&like, NULL);
    }
    p->nlangs = n;
}

/* Check q with the saved filter f_in (NULL: none) and, when plan is not NULL,
 * turn them into plan (freed with plan_free). 0 ok, -1 with a reason fit
 * for a client. */
static int plan_build(const store_query *q, const store_filter *f_in, store_plan *plan, char *err, size_t errlen)
{
    static const filter_limits q_limits = {0, STORE_PHRASES_MAX, STORE_PHRASE_MAX};
    store_plan tmp;
    store_plan *p = plan ? plan : &tmp;
    filter f;
    size_t useful = 0;
    int rc = -1;

    memset(p, 0, sizeof *p);
    memset(&f, 0, sizeof f);
    if (q->limit < 1 || q->limit > STORE_LIMIT_MAX) {
        store_err(err, errlen, "limit must be between 1 and %d", STORE_LIMIT_MAX);
        goto done;
    }
    /* q is parsed as /stream?q= is: the same phrases, the same messages. */
    if (q->q && *q->q && filter_from_query(q->q, strlen(q->q), &q_limits, &f, err, errlen) < 0) goto done;
    for (size_t i = 0; i < f.ntrack; i++) {
        if (phrases_add(&p->q, f.track[i]) > STORE_TERMS_MAX) {
            store_err(err, errlen, "q: a phrase has more than %d words", STORE_TERMS_MAX);
            goto done;
        }
    }
    for (size_t i = 0; f_in && i < f_in->nphrases; i++) {
        size_t n = phrases_add(&p->filter, f_in->phrases[i]);
        if (n > STORE_TERMS_MAX) {
            store_err(err, errlen, "a phrase has more than %d words", STORE_TERMS_MAX);
            goto done;
        }
        useful += n > 0;
    }
    if (f_in && useful == 0) {
        store_err(err, errlen, "the filter has no words to search for");
        goto done;
    }
    if (plan) langs_add(p, f_in ? f_in->langs : NULL, f_in ? f_in->nlangs : 0);
    /* A before beyond the archive's range bounds nothing. Stored seqs are
     * below 2^20, so a larger seq compares as 2^20. */
    p->has_before = q->has_before && q->before.ms < STORE_MS_LIMIT;
    p->before_ms = q->before.ms;
    p->before_seq = q->before.seq < STORE_SEQ_LIMIT ? q->before.seq : STORE_SEQ_LIMIT;
    p->limit = q->limit;
    rc = 0;
done:
    filter_free(&f);
    if (rc < 0 || plan == NULL) {
        phrases_free(&p->q);
        phrases_free(&p->filter);
    }
    return rc;
}

static void plan_free(store_plan *p)
{
    phrases_free(&p->q);
    phrases_free(&p->filter);
    langs_free(p);
}

static int filters_over_max(const store_query *q, char *err, size_t errlen)
{
    return q->nfilters > STORE_FILTERS_MAX ? store_err(err, errlen, "more than %d filters", STORE_FILTERS_MAX) : 0;
}

int store_query_check(const store_query *q, char *err, size_t errlen)
{
    if (filters_over_max(q, err, errlen) < 0) return -1;
    if (q->nfilters == 0) return plan_build(q, NULL, NULL, err, errlen);
    for (size_t i = 0; i < q->nfilters; i++)
        if (plan_build(q, &q->filters[i], NULL, err, errlen) < 0) return -1;
    return 0;
}

/* One engine search: q with the saved filter f (NULL: none), the newest
 * limit + 1 rows into res. */
static int search_one(store *s, const store_query *q, const store_filter *f, store_result *res, char *err,
                      size_t errlen)
{
    store_plan plan;
    memset(res, 0, sizeof *res);
    if (plan_build(q, f, &plan, err, errlen) < 0) return -1;
    int rc = s->ops->search(s, &plan, res, err, errlen);
    plan_free(&plan);
    if (rc < 0) store_result_free(res);
    return rc;
}

static bus_id result_id(const store_result *r, size_t i)
{
    bus_id id = {0, 0};
    bus_id_parse(r->ids[i], strlen(r->ids[i]), &id);   /* the archive's own ids: always well formed */
    return id;
}

/* Append a row whose strings res now owns. */
static void result_take(store_result *res, char *id, char *json)
{
    /* Capacity doubles at powers of two, so it is not stored. */
    if ((res->n & (res->n - 1)) == 0) {
        size_t cap = res->n ? res->n * 2 : 1;
        res->ids = xrealloc(res->ids, cap * sizeof *res->ids);
        res->jsons = xrealloc(res->jsons, cap * sizeof *res->jsons);
    }
    res->ids[res->n] = id;
    res->jsons[res->n] = json;
    res->n++;
}

/* Merge b into a, both newest first: the newest max rows of both, a row
 * both hold once. The rows move; b is emptied. */
static void result_merge(store_result *a, store_result *b, size_t max)
{
    store_result m = {0};
    size_t i = 0, j = 0;
    while (m.n < max && (i < a->n || j < b->n)) {
        int c = i == a->n ? -1 : j == b->n ? 1 : bus_id_cmp(result_id(a, i), result_id(b, j));
        store_result *from = c >= 0 ? a : b;
        size_t k = c >= 0 ? i++ : j++;
        if (c == 0) j++;                       /* both took it: once (b's copy is freed below) */
        result_take(&m, from->ids[k], from->jsons[k]);
        from->ids[k] = from->jsons[k] = NULL;
    }
    store_result_free(a);
    store_result_free(b);
    *a = m;
}

int store_search(store *s, const store_query *q, store_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (filters_over_max(q, err, errlen) < 0) return -1;
    if (search_one(s, q, q->nfilters ? &q->filters[0] : NULL, res, err, errlen) < 0) return -1;
    for (size_t i = 1; i < q->nfilters; i++) {
        store_result more;
        if (search_one(s, q, &q->filters[i], &more, err, errlen) < 0) {
            store_result_free(res);
            return -1;
        }
        result_merge(res, &more, (size_t)q->limit + 1);
    }
    /* The engine fetched one row more than a page: it says a next page exists. */
    if (res->n > (size_t)q->limit) {
        while (res->n > (size_t)q->limit) {
            res->n--;
            free(res->ids[res->n]);
            free(res->jsons[res->n]);
        }
        res->has_next = 1;
        strlcpy_safe(res->next, res->ids[res->n - 1], sizeof res->next);
    }
    return 0;
}

/* ---- results ---- */

void store_result_add(store_result *res, const char *id, const char *json)
{
    result_take(res, xstrdup(id), xstrdup(json));
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
