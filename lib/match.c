#include "match.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "token.h"
#include "util.h"

/* A term of the index: sign byte ('#', '@' or 0) then the folded word. */
typedef struct term {
    char *key;                /* NULL: empty bucket */
    uint32_t len;             /* bytes of key, sign byte included */
    uint32_t seen;            /* tweet generation that last met this term */
    uint64_t hash;
    uint32_t *post;           /* phrase ids */
    uint32_t npost, cappost;
} term;

typedef struct phrase {
    uint32_t slot;            /* UINT32_MAX: free */
    uint32_t nterms;
    uint32_t *terms;          /* indices into the term table */
    uint32_t stamp;           /* tweet generation of hits */
    uint32_t hits;
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
    match_result *res;
    const char *lang;
    size_t langlen;
    char scratch[320];
};

static uint64_t hash_bytes(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define HASH_SEED 0xcbf29ce484222325ULL

matcher *match_new(void)
{
    matcher *m = xcalloc(1, sizeof *m);
    m->capterms = 1024;
    m->terms = xcalloc(m->capterms, sizeof *m->terms);
    m->capkeys = 64;
    m->keys = xcalloc(m->capkeys, sizeof *m->keys);
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
    for (uint32_t i = 0; i < m->nphrases; i++) free(m->phrases[i].terms);
    free(m->phrases);
    free(m->freephr);
    for (uint32_t i = 0; i < m->nslots; i++) free_slot_contents(&m->slots[i]);
    free(m->slots);
    free(m->freeslot);
    free(m->keys);              /* its keys are the slots' */
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

static void term_grow(matcher *m)
{
    term *old = m->terms;
    uint32_t oldcap = m->capterms;
    m->capterms *= 2;
    m->terms = xcalloc(m->capterms, sizeof *m->terms);
    uint32_t mask = m->capterms - 1;
    /* Phrases hold term indices: remember where each term moved. */
    uint32_t *moved = xmalloc(oldcap * sizeof *moved);
    for (uint32_t i = 0; i < oldcap; i++) {
        if (old[i].key == NULL) continue;
        uint32_t j = (uint32_t)old[i].hash & mask;
        while (m->terms[j].key) j = (j + 1) & mask;
        m->terms[j] = old[i];
        moved[i] = j;
    }
    for (uint32_t p = 0; p < m->nphrases; p++)
        for (uint32_t k = 0; k < m->phrases[p].nterms; k++)
            m->phrases[p].terms[k] = moved[m->phrases[p].terms[k]];
    free(moved);
    free(old);
}

/* Index of the term key[0..len), added when missing. */
static uint32_t term_intern(matcher *m, const char *key, size_t len)
{
    uint64_t h = hash_bytes(key, len, HASH_SEED);
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
    for (uint32_t i = (uint32_t)hash_bytes(key, strlen(key), HASH_SEED) & mask;; i = (i + 1) & mask) {
        keyent *e = &m->keys[i];
        if (e->key == NULL) return NULL;
        if (e->key != TOMB && strcmp(e->key, key) == 0) return e;
    }
}

static void key_insert_raw(keyent *tab, uint32_t cap, char *key, int slotno)
{
    uint32_t mask = cap - 1;
    uint32_t i = (uint32_t)hash_bytes(key, strlen(key), HASH_SEED) & mask;
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
    for (uint32_t k = 0; k < p->nterms; k++) post_remove(&m->terms[p->terms[k]], ph);
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
    char *key = xmalloc(len + 1);
    key[0] = sign;
    memcpy(key + 1, tok, len);
    uint32_t t = term_intern(c->m, key, len + 1);
    free(key);
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
    token_scan(text, strlen(text), compile_token, &c);
    if (c.n == 0) {
        free(c.terms);
        return;
    }
    c.n = 0;
    token_scan(text, strlen(text), compile_token, &c);
    uint32_t ph = phrase_alloc(m);
    phrase *p = &m->phrases[ph];
    p->slot = sl;
    p->nterms = c.n;
    p->terms = c.terms;
    for (uint32_t k = 0; k < c.n; k++) post_add(&m->terms[c.terms[k]], ph);
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

static int lang_fits(const matcher *m, const slot *s)
{
    if (s->nlang == 0) return 1;
    for (uint32_t i = 0; i < s->nlang; i++) {
        size_t l = strlen(s->lang[i]);
        if (m->langlen >= l && strncmp(m->lang, s->lang[i], l) == 0 && (m->langlen == l || m->lang[l] == '-'))
            return 1;
    }
    return 0;
}

/* One token of the tweet, key = sign byte + folded word. */
static void hit(matcher *m, const char *key, size_t len)
{
    term *t = term_find(m, key, len, hash_bytes(key, len, HASH_SEED));
    if (t == NULL || t->seen == m->gen) return;
    t->seen = m->gen;
    for (uint32_t i = 0; i < t->npost; i++) {
        phrase *p = &m->phrases[t->post[i]];
        if (p->stamp != m->gen) {
            p->stamp = m->gen;
            p->hits = 0;
        }
        if (++p->hits != p->nterms) continue;
        uint32_t sl = p->slot;
        match_result *res = m->res;
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

/* A token in both forms: bare and, when sign is given, signed. */
static void hit_word(matcher *m, const char *tok, size_t len, char sign)
{
    char *k = m->scratch;
    char *heap = NULL;
    if (len + 1 > sizeof m->scratch) k = heap = xmalloc(len + 1);
    memcpy(k + 1, tok, len);
    k[0] = 0;
    hit(m, k, len + 1);
    if (sign) {
        k[0] = sign;
        hit(m, k, len + 1);
    }
    free(heap);
}

static void text_token(const char *tok, size_t len, char sign, void *arg)
{
    hit_word(arg, tok, len, sign);
}

/* A hashtag, mention or screen name: one word, folded, matched bare and
 * with its sign. */
static void hit_entity(matcher *m, json_object *o, char sign)
{
    if (!json_object_is_type(o, json_type_string)) return;
    size_t len = (size_t)json_object_get_string_len(o);
    const char *s = json_object_get_string(o);
    if (len && (s[0] == '#' || s[0] == '@')) {
        s++;
        len--;
    }
    if (len == 0) return;
    char *f = xmalloc(len);
    token_fold(s, len, f);
    hit_word(m, f, len, sign);
    free(f);
}

int match_tweet(matcher *m, const char *json, size_t len, match_result *res)
{
    json_tokener *tok = json_tokener_new_ex(16);
    json_object *o = NULL, *v, *u;
    char lang[16];
    int rc = -1;

    result_reset(res, m->nslots);
    if (len > (size_t)INT32_MAX) goto fail;
    o = json_tokener_parse_ex(tok, json, (int)len);
    if (o == NULL || !json_object_is_type(o, json_type_object)) goto fail;
    m->res = res;
    if (++m->gen == 0) {
        /* Generation wrapped: forget every stamp so none looks current. */
        for (uint32_t i = 0; i < m->capterms; i++) m->terms[i].seen = 0;
        for (uint32_t i = 0; i < m->nphrases; i++) m->phrases[i].stamp = 0;
        m->gen = 1;
    }
    m->lang = "";
    m->langlen = 0;
    if (json_object_object_get_ex(o, "lang", &v) && json_object_is_type(v, json_type_string) &&
        (size_t)json_object_get_string_len(v) < sizeof lang) {
        m->langlen = (size_t)json_object_get_string_len(v);
        token_fold(json_object_get_string(v), m->langlen, lang);
        lang[m->langlen] = '\0';
        m->lang = lang;
    }
    if (json_object_object_get_ex(o, "text", &v) && json_object_is_type(v, json_type_string))
        token_scan(json_object_get_string(v), (size_t)json_object_get_string_len(v), text_token, m);
    if (json_object_object_get_ex(o, "hashtags", &v) && json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            hit_entity(m, json_object_array_get_idx(v, i), '#');
    if (json_object_object_get_ex(o, "mentions", &v) && json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            hit_entity(m, json_object_array_get_idx(v, i), '@');
    if (json_object_object_get_ex(o, "user", &u) && json_object_object_get_ex(u, "screen_name", &v))
        hit_entity(m, v, '@');
    rc = 0;
fail:
    m->res = NULL;
    json_object_put(o);
    json_tokener_free(tok);
    return rc;
}

void match_result_free(match_result *res)
{
    if (res == NULL) return;
    free(res->bits);
    free(res->slots);
    memset(res, 0, sizeof *res);
}
