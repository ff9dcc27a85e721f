#include "match.h"

#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "token.h"
#include "util.h"

/* A term of the index: sign byte ('#', '@' or 0) then the folded word. */
typedef struct term {
    char *key;                /* NULL: empty bucket */
    uint32_t len;             /* bytes of key, sign byte included */
    uint32_t seen;            /* tweet generation that last met this term */
    uint64_t hash;
    uint32_t *post;           /* ids of the phrases anchored at this term */
    uint32_t npost, cappost;
} term;

typedef struct phrase {
    uint32_t slot;            /* UINT32_MAX: free */
    uint32_t nterms;
    uint32_t *terms;          /* indices into the term table */
    uint32_t anchor;          /* the term it is indexed under: its rarest */
} phrase;

typedef struct slot {
    char *key;                /* NULL: free slot */
    uint32_t *phrases;
    uint32_t nphrases;
    char **lang;
    uint32_t nlang;
} slot;

/* key → slot, open addressing. */
typedef struct keyent {
    char *key;                /* the slot's key (not owned); NULL: empty; TOMB: deleted */
    int slot;
} keyent;

static char tomb_marker;
#define TOMB (&tomb_marker)

struct matcher {
    term *terms;
    uint32_t nterms, capterms;          /* capterms: power of two */
    /* One bit per hash of every term ever interned (16 bits per table slot):
     * most words of a tweet are in no filter, and this small bitset (which
     * stays in cache) turns them away before the big table is touched. */
    uint64_t *bloom;
    uint32_t bloom_mask;                /* bits - 1 */
    phrase *phrases;
    uint32_t nphrases, capphrases;
    uint32_t *freephr;
    uint32_t nfreephr, capfreephr;
    slot *slots;
    uint32_t nslots, capslots;
    uint32_t *freeslot;
    uint32_t nfreeslot;
    uint32_t count;
    keyent *keys;
    uint32_t capkeys, usedkeys;         /* usedkeys counts tombstones too */
    uint32_t gen;
    /* per-tweet state */
    jdoc *doc;                /* the tweet, parsed (reused) */
    uint32_t *seen;           /* indexed terms the tweet holds */
    uint32_t nseen, capseen;
    match_result *res;
    const char *lang;
    size_t langlen;
};


matcher *match_new(void)
{
    matcher *m = xcalloc(1, sizeof *m);
    m->capterms = 1024;
    m->terms = xcalloc(m->capterms, sizeof *m->terms);
    m->bloom_mask = m->capterms * 16 - 1;
    m->bloom = xcalloc((m->bloom_mask + 1) / 64, sizeof *m->bloom);
    m->capkeys = 64;
    m->keys = xcalloc(m->capkeys, sizeof *m->keys);
    m->doc = jdoc_new();
    return m;
}

static void free_slot_contents(slot *s)
{
    free(s->key);
    free(s->phrases);
    for (uint32_t i = 0; i < s->nlang; i++) free(s->lang[i]);
    free(s->lang);
    memset(s, 0, sizeof *s);
}

void match_free(matcher *m)
{
    if (m == NULL) return;
    for (uint32_t i = 0; i < m->capterms; i++) {
        free(m->terms[i].key);
        free(m->terms[i].post);
    }
    free(m->terms);
    free(m->bloom);
    for (uint32_t i = 0; i < m->nphrases; i++) free(m->phrases[i].terms);
    free(m->phrases);
    free(m->freephr);
    for (uint32_t i = 0; i < m->nslots; i++) free_slot_contents(&m->slots[i]);
    free(m->slots);
    free(m->freeslot);
    free(m->keys);              /* its keys are the slots' */
    jdoc_free(m->doc);
    free(m->seen);
    free(m);
}

/* ---- term table ---- */

static term *term_find(const matcher *m, const char *key, size_t len, uint64_t h)
{
    uint32_t mask = m->capterms - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        term *t = &m->terms[i];
        if (t->key == NULL) return NULL;
        if (t->hash == h && t->len == len && memcmp(t->key, key, len) == 0) return t;
    }
}

static void bloom_set(matcher *m, uint64_t h)
{
    uint32_t b = (uint32_t)(h >> 40) & m->bloom_mask;
    m->bloom[b / 64] |= 1ULL << (b % 64);
}

static int bloom_has(const matcher *m, uint64_t h)
{
    uint32_t b = (uint32_t)(h >> 40) & m->bloom_mask;
    return (int)((m->bloom[b / 64] >> (b % 64)) & 1);
}

static void term_grow(matcher *m)
{
    term *old = m->terms;
    uint32_t oldcap = m->capterms;
    m->capterms *= 2;
    m->terms = xcalloc(m->capterms, sizeof *m->terms);
    uint32_t mask = m->capterms - 1;
    /* Phrases hold term indices: remember where each term moved. */
    uint32_t *moved = xmalloc(oldcap * sizeof *moved);
    free(m->bloom);
    m->bloom_mask = m->capterms * 16 - 1;
    m->bloom = xcalloc((m->bloom_mask + 1) / 64, sizeof *m->bloom);
    for (uint32_t i = 0; i < oldcap; i++) {
        if (old[i].key == NULL) continue;
        bloom_set(m, old[i].hash);
        uint32_t j = (uint32_t)old[i].hash & mask;
        while (m->terms[j].key) j = (j + 1) & mask;
        m->terms[j] = old[i];
        moved[i] = j;
    }
    for (uint32_t p = 0; p < m->nphrases; p++) {
        if (m->phrases[p].nterms == 0) continue;
        for (uint32_t k = 0; k < m->phrases[p].nterms; k++)
            m->phrases[p].terms[k] = moved[m->phrases[p].terms[k]];
        m->phrases[p].anchor = moved[m->phrases[p].anchor];
    }
    free(moved);
    free(old);
}

/* Index of the term key[0..len), added when missing. */
static uint32_t term_intern(matcher *m, const char *key, size_t len)
{
    uint64_t h = hash_fnv1a(key, len);
    term *t = term_find(m, key, len, h);
    if (t) return (uint32_t)(t - m->terms);
    if ((m->nterms + 1) * 2 > m->capterms) term_grow(m);
    uint32_t mask = m->capterms - 1, i = (uint32_t)h & mask;
    while (m->terms[i].key) i = (i + 1) & mask;
    t = &m->terms[i];
    t->key = xmalloc(len + 1);
    memcpy(t->key, key, len);
    t->key[len] = '\0';
    t->len = (uint32_t)len;
    t->hash = h;
    bloom_set(m, h);
    m->nterms++;
    return i;
}

static void post_add(term *t, uint32_t ph)
{
    if (t->npost == t->cappost) {
        t->cappost = t->cappost ? t->cappost * 2 : 4;
        t->post = xrealloc(t->post, t->cappost * sizeof *t->post);
    }
    t->post[t->npost++] = ph;
}

static void post_remove(term *t, uint32_t ph)
{
    for (uint32_t i = 0; i < t->npost; i++) {
        if (t->post[i] == ph) {
            t->post[i] = t->post[--t->npost];
            return;
        }
    }
}

/* ---- key → slot ---- */

static keyent *key_find(const matcher *m, const char *key)
{
    uint32_t mask = m->capkeys - 1;
    for (uint32_t i = (uint32_t)hash_fnv1a(key, strlen(key)) & mask;; i = (i + 1) & mask) {
        keyent *e = &m->keys[i];
        if (e->key == NULL) return NULL;
        if (e->key != TOMB && strcmp(e->key, key) == 0) return e;
    }
}

static void key_insert_raw(keyent *tab, uint32_t cap, char *key, int slotno)
{
    uint32_t mask = cap - 1;
    uint32_t i = (uint32_t)hash_fnv1a(key, strlen(key)) & mask;
    while (tab[i].key != NULL && tab[i].key != TOMB) i = (i + 1) & mask;
    tab[i].key = key;
    tab[i].slot = slotno;
}

static void key_insert(matcher *m, char *key, int slotno)
{
    if ((m->usedkeys + 1) * 2 > m->capkeys) {
        keyent *old = m->keys;
        uint32_t oldcap = m->capkeys;
        while ((m->count + 1) * 4 > m->capkeys) m->capkeys *= 2;
        if (m->capkeys == oldcap && (m->usedkeys + 1) * 2 > m->capkeys) m->capkeys *= 2;
        m->keys = xcalloc(m->capkeys, sizeof *m->keys);
        m->usedkeys = 0;
        for (uint32_t i = 0; i < oldcap; i++) {
            if (old[i].key == NULL || old[i].key == TOMB) continue;
            key_insert_raw(m->keys, m->capkeys, old[i].key, old[i].slot);
            m->usedkeys++;
        }
        free(old);
    }
    key_insert_raw(m->keys, m->capkeys, key, slotno);
    m->usedkeys++;
}

/* ---- compiling ---- */

static uint32_t phrase_alloc(matcher *m)
{
    if (m->nfreephr) return m->freephr[--m->nfreephr];
    if (m->nphrases == m->capphrases) {
        m->capphrases = m->capphrases ? m->capphrases * 2 : 256;
        m->phrases = xrealloc(m->phrases, m->capphrases * sizeof *m->phrases);
    }
    memset(&m->phrases[m->nphrases], 0, sizeof *m->phrases);
    return m->nphrases++;
}

static void phrase_release(matcher *m, uint32_t ph)
{
    phrase *p = &m->phrases[ph];
    if (p->nterms) post_remove(&m->terms[p->anchor], ph);
    free(p->terms);
    memset(p, 0, sizeof *p);
    p->slot = UINT32_MAX;
    if (m->nfreephr == m->capfreephr) {
        m->capfreephr = m->capfreephr ? m->capfreephr * 2 : 64;
        m->freephr = xrealloc(m->freephr, m->capfreephr * sizeof *m->freephr);
    }
    m->freephr[m->nfreephr++] = ph;
}

typedef struct compile_ctx {
    matcher *m;
    uint32_t *terms;
    uint32_t n, cap;
} compile_ctx;

static void compile_token(const char *tok, size_t len, char sign, void *arg)
{
    compile_ctx *c = arg;
    (void)sign;
    uint32_t t = term_intern(c->m, tok - 1, len + 1);   /* tok[-1] is the sign byte */
    for (uint32_t i = 0; i < c->n; i++)
        if (c->terms[i] == t) return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->terms = xrealloc(c->terms, c->cap * sizeof *c->terms);
    }
    c->terms[c->n++] = t;
}

/* Link phrase text into slot sl. */
static void compile_phrase(matcher *m, uint32_t sl, const char *text)
{
    compile_ctx c = {m, NULL, 0, 0};
    /* Intern every term first: growing the table moves terms (term_grow
     * fixes linked phrases only), so indices are collected in a second
     * pass, when no term is added any more. */
    token_scan(text, strlen(text), TOKEN_QUERY, compile_token, &c);
    if (c.n == 0) {
        free(c.terms);
        return;
    }
    c.n = 0;
    token_scan(text, strlen(text), TOKEN_QUERY, compile_token, &c);
    uint32_t ph = phrase_alloc(m);
    phrase *p = &m->phrases[ph];
    p->slot = sl;
    p->nterms = c.n;
    p->terms = c.terms;
    /* Index the phrase under its rarest term only: a tweet then looks at
     * few phrases, and checks their other terms against what it holds. */
    p->anchor = c.terms[0];
    for (uint32_t k = 1; k < c.n; k++)
        if (m->terms[c.terms[k]].npost < m->terms[p->anchor].npost) p->anchor = c.terms[k];
    post_add(&m->terms[p->anchor], ph);
    slot *s = &m->slots[sl];
    s->phrases = xrealloc(s->phrases, (s->nphrases + 1) * sizeof *s->phrases);
    s->phrases[s->nphrases++] = ph;
}

static void slot_unlink(matcher *m, slot *s)
{
    for (uint32_t i = 0; i < s->nphrases; i++) phrase_release(m, s->phrases[i]);
    free(s->phrases);
    s->phrases = NULL;
    s->nphrases = 0;
    for (uint32_t i = 0; i < s->nlang; i++) free(s->lang[i]);
    free(s->lang);
    s->lang = NULL;
    s->nlang = 0;
}

int match_put(matcher *m, const char *key, const filter *f)
{
    keyent *e = key_find(m, key);
    uint32_t sl;

    if (e) {
        sl = (uint32_t)e->slot;
        slot_unlink(m, &m->slots[sl]);
    } else {
        if (m->nfreeslot) {
            sl = m->freeslot[--m->nfreeslot];
        } else {
            if (m->nslots == m->capslots) {
                m->capslots = m->capslots ? m->capslots * 2 : 64;
                m->slots = xrealloc(m->slots, m->capslots * sizeof *m->slots);
                m->freeslot = xrealloc(m->freeslot, m->capslots * sizeof *m->freeslot);
            }
            sl = m->nslots++;
        }
        memset(&m->slots[sl], 0, sizeof m->slots[sl]);
        m->slots[sl].key = xstrdup(key);
        m->count++;
        key_insert(m, m->slots[sl].key, (int)sl);
    }
    slot *s = &m->slots[sl];
    if (f->nlang) {
        s->lang = xcalloc(f->nlang, sizeof *s->lang);
        for (size_t i = 0; i < f->nlang; i++) s->lang[i] = xstrdup(f->lang[i]);
        s->nlang = (uint32_t)f->nlang;
    }
    for (size_t i = 0; i < f->ntrack; i++) compile_phrase(m, sl, f->track[i]);
    return (int)sl;
}

int match_del(matcher *m, const char *key)
{
    keyent *e = key_find(m, key);
    if (e == NULL) return -1;
    uint32_t sl = (uint32_t)e->slot;
    e->key = TOMB;
    slot_unlink(m, &m->slots[sl]);
    free_slot_contents(&m->slots[sl]);
    m->freeslot[m->nfreeslot++] = sl;
    m->count--;
    return (int)sl;
}

int match_slot(const matcher *m, const char *key)
{
    keyent *e = key_find(m, key);
    return e ? e->slot : -1;
}

size_t match_count(const matcher *m)
{
    return m->count;
}

void match_clear(matcher *m)
{
    for (uint32_t i = 0; i < m->nslots; i++) {
        if (m->slots[i].key == NULL) continue;
        char *key = xstrdup(m->slots[i].key);
        match_del(m, key);
        free(key);
    }
}

/* ---- matching ---- */

static void result_reset(match_result *res, uint32_t nslots)
{
    size_t words = (nslots + 63) / 64;
    for (size_t i = 0; i < res->n; i++) res->bits[res->slots[i] / 64] = 0;
    res->n = 0;
    if (words > res->nwords) {
        res->bits = xrealloc(res->bits, words * sizeof *res->bits);
        memset(res->bits + res->nwords, 0, (words - res->nwords) * sizeof *res->bits);
        res->nwords = words;
    }
}

/* Does the tweet's language (any case) start with code (lower case)? */
static int lang_prefix(const matcher *m, const char *code, size_t l)
{
    if (m->langlen < l) return 0;
    for (size_t k = 0; k < l; k++) {
        char c = m->lang[k];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != code[k]) return 0;
    }
    return 1;
}

static int lang_fits(const matcher *m, const slot *s)
{
    if (s->nlang == 0) return 1;
    for (uint32_t i = 0; i < s->nlang; i++) {   /* filter.c keeps codes lower case */
        size_t l = strlen(s->lang[i]);
        if (lang_prefix(m, s->lang[i], l) && (m->langlen == l || m->lang[l] == '-')) return 1;
    }
    return 0;
}

/* One token of the tweet, key = sign byte + folded word: remember it when
 * some phrase uses it. */
static void hit(matcher *m, const char *key, size_t len)
{
    uint64_t h = hash_fnv1a(key, len);
    if (!bloom_has(m, h)) return;
    term *t = term_find(m, key, len, h);
    if (t == NULL || t->seen == m->gen) return;
    t->seen = m->gen;
    if (t->npost == 0) return;
    if (m->nseen == m->capseen) {
        m->capseen = m->capseen ? m->capseen * 2 : 64;
        m->seen = xrealloc(m->seen, m->capseen * sizeof *m->seen);
    }
    m->seen[m->nseen++] = (uint32_t)(t - m->terms);
}

/* After the tweet is tokenised: every phrase anchored at a term it holds
 * matches when all its other terms are held too. */
static void resolve(matcher *m)
{
    match_result *res = m->res;
    for (uint32_t s = 0; s < m->nseen; s++) {
        const term *t = &m->terms[m->seen[s]];
        for (uint32_t i = 0; i < t->npost; i++) {
            const phrase *p = &m->phrases[t->post[i]];
            uint32_t k = 0;
            while (k < p->nterms && m->terms[p->terms[k]].seen == m->gen) k++;
            if (k < p->nterms) continue;
            uint32_t sl = p->slot;
            uint64_t bit = 1ULL << (sl % 64);
            if (res->bits[sl / 64] & bit) continue;
            if (!lang_fits(m, &m->slots[sl])) continue;
            res->bits[sl / 64] |= bit;
            if (res->n == res->cap) {
                res->cap = res->cap ? res->cap * 2 : 16;
                res->slots = xrealloc(res->slots, res->cap * sizeof *res->slots);
            }
            res->slots[res->n++] = sl;
        }
    }
}

/* One token of the tweet: tok - 1 is its key (sign byte, word). */
static void tweet_token(const char *tok, size_t len, char sign, void *arg)
{
    (void)sign;
    hit(arg, tok - 1, len + 1);
}

int match_tweet(matcher *m, const char *json, size_t len, match_result *res)
{
    char err[128];
    const char *s;
    size_t n;

    result_reset(res, m->nslots);
    if (jdoc_parse(m->doc, json, len, 16, err, sizeof err) < 0 || jdoc_kind(m->doc, 0) != JDOC_OBJECT) return -1;
    m->res = res;
    if (++m->gen == 0) {
        /* Generation wrapped: forget every stamp so none looks current. */
        for (uint32_t i = 0; i < m->capterms; i++) m->terms[i].seen = 0;
        m->gen = 1;
    }
    m->lang = "";
    m->langlen = 0;
    int v = jdoc_get(m->doc, 0, "lang");
    if (jdoc_kind(m->doc, v) == JDOC_STRING && (s = jdoc_str(m->doc, v, &n)) != NULL) {
        m->lang = s;                  /* compared in place, case aside (lang_fits) */
        m->langlen = n;
    }
    token_tweet(m->doc, tweet_token, m);
    resolve(m);
    m->nseen = 0;
    m->res = NULL;
    return 0;
}

void match_result_free(match_result *res)
{
    if (res == NULL) return;
    free(res->bits);
    free(res->slots);
    memset(res, 0, sizeof *res);
}
