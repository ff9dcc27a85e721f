/* jdoc — a fast, strict, read-only JSON document. See jdoc.h. */
#include "jdoc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"
#include "util.h"

typedef struct jnode {
    uint32_t key_off, key_len;    /* member name, when the parent is an object */
    uint32_t off, len;            /* string or number bytes */
    uint32_t at;                  /* where the value starts in the input */
    int32_t next, child;          /* siblings; first element or member */
    uint8_t type;
    uint8_t key_in_arena, val_in_arena;   /* decoded copy, or a slice of the input */
    uint8_t member;               /* 1: a member of an object (it has a key) */
} jnode;

struct jdoc {
    jnode *nodes;
    size_t n, cap;
    buf arena;                    /* decoded strings that had escapes */
    const char *src;
    size_t len, pos;
    int max_depth;
    char *err;
    size_t errlen;
};

/* Bytes that end a plain run inside a string: '"', '\\' and control characters. */
static const unsigned char str_stop[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1, [0x07] = 1,
    [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1,
    [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
    [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1,
    ['"'] = 1, ['\\'] = 1,
};

jdoc *jdoc_new(void)
{
    jdoc *d = xcalloc(1, sizeof *d);
    d->cap = 256;
    d->nodes = xmalloc(d->cap * sizeof *d->nodes);
    return d;
}

void jdoc_free(jdoc *d)
{
    if (d == NULL) return;
    free(d->nodes);
    buf_free(&d->arena);
    free(d);
}

__attribute__((format(printf, 3, 4)))
static int fail(jdoc *d, size_t at, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(d->err, d->errlen, fmt, ap);
    va_end(ap);
    n = strlen(d->err);
    if (n < d->errlen) snprintf(d->err + n, d->errlen - n, " at byte %zu", at);
    return -1;
}

/* "expected X, found Y" at the current position. */
static int fail_found(jdoc *d, const char *expected)
{
    if (d->pos >= d->len) return fail(d, d->len, "not JSON: unexpected end of input");
    unsigned char c = (unsigned char)d->src[d->pos];
    if (c > 0x20 && c < 0x7f) return fail(d, d->pos, "not JSON: expected %s, found '%c'", expected, c);
    return fail(d, d->pos, "not JSON: expected %s, found byte 0x%02x", expected, c);
}

static int new_node(jdoc *d, int type)
{
    if (d->n == d->cap) {
        d->cap *= 2;
        d->nodes = xrealloc(d->nodes, d->cap * sizeof *d->nodes);
    }
    jnode *n = &d->nodes[d->n];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    n->at = (uint32_t)d->pos;
    n->next = n->child = -1;
    return (int)d->n++;
}

static void skip_ws(jdoc *d)
{
    while (d->pos < d->len) {
        char c = d->src[d->pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        d->pos++;
    }
}

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* One \uXXXX escape (or a surrogate pair of them) at s[i]; appends the
 * character to the arena and returns how many input bytes it used, or -1. */
static long unicode_escape(jdoc *d, size_t i)
{
    const char *s = d->src;
    uint32_t cp, lo;
    char enc[4];

    if (i + 6 > d->len) return fail(d, d->len, "not JSON: unexpected end of input");
    if (hex4(s + i + 2, &cp) < 0) return fail(d, i, "not JSON: invalid \\u escape");
    long used = 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (i + 12 > d->len || s[i + 6] != '\\' || s[i + 7] != 'u' || hex4(s + i + 8, &lo) < 0 ||
            lo < 0xDC00 || lo > 0xDFFF)
            return fail(d, i, "invalid \\u escape: lone surrogate \\u%04X", (unsigned)cp);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        used = 12;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(d, i, "invalid \\u escape: lone surrogate \\u%04X", (unsigned)cp);
    buf_append(&d->arena, enc, utf8_encode(cp, enc));
    return used;
}

/* A string starting at d->pos ('"'); stores where its decoded bytes are. */
static int parse_string(jdoc *d, uint32_t *off, uint32_t *len, uint8_t *in_arena)
{
    const unsigned char *s = (const unsigned char *)d->src;
    size_t start = d->pos + 1, i = start, aoff;

    while (i < d->len && !str_stop[s[i]]) i++;
    if (i >= d->len) return fail(d, d->len, "not JSON: unexpected end of input in a string");
    if (s[i] == '"') {
        *off = (uint32_t)start;
        *len = (uint32_t)(i - start);
        *in_arena = 0;
        d->pos = i + 1;
        return 0;
    }
    aoff = d->arena.len;
    buf_append(&d->arena, s + start, i - start);
    for (;;) {
        size_t j = i;
        while (j < d->len && !str_stop[s[j]]) j++;
        buf_append(&d->arena, s + i, j - i);
        i = j;
        if (i >= d->len) return fail(d, d->len, "not JSON: unexpected end of input in a string");
        if (s[i] == '"') break;
        if (s[i] < 0x20) return fail(d, i, "not JSON: control character 0x%02x in a string", s[i]);
        if (i + 1 >= d->len) return fail(d, d->len, "not JSON: unexpected end of input in a string");
        char c = (char)s[i + 1], e;
        switch (c) {
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        case '/': e = '/'; break;
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        case 'u': {
            long used = unicode_escape(d, i);
            if (used < 0) return -1;
            i += (size_t)used;
            continue;
        }
        default:
            return fail(d, i, "not JSON: invalid escape '\\%c'", c > 0x20 && c < 0x7f ? c : '?');
        }
        buf_appendc(&d->arena, e);
        i += 2;
    }
    *off = (uint32_t)aoff;
    *len = (uint32_t)(d->arena.len - aoff);
    *in_arena = 1;
    d->pos = i + 1;
    return 0;
}

static int digits(jdoc *d)
{
    size_t start = d->pos;
    while (d->pos < d->len && d->src[d->pos] >= '0' && d->src[d->pos] <= '9') d->pos++;
    return d->pos > start ? 0 : fail_found(d, "a digit");
}

static int parse_number(jdoc *d, jnode *n)
{
    size_t start = d->pos;
    if (d->src[d->pos] == '-') d->pos++;
    if (d->pos < d->len && d->src[d->pos] == '0')
        d->pos++;
    else if (digits(d) < 0)
        return -1;
    if (d->pos < d->len && d->src[d->pos] == '.') {
        d->pos++;
        if (digits(d) < 0) return -1;
    }
    if (d->pos < d->len && (d->src[d->pos] == 'e' || d->src[d->pos] == 'E')) {
        d->pos++;
        if (d->pos < d->len && (d->src[d->pos] == '+' || d->src[d->pos] == '-')) d->pos++;
        if (digits(d) < 0) return -1;
    }
    n->off = (uint32_t)start;
    n->len = (uint32_t)(d->pos - start);
    return 0;
}

static int parse_literal(jdoc *d, const char *word, size_t wlen)
{
    if (d->len - d->pos >= wlen && memcmp(d->src + d->pos, word, wlen) == 0) {
        d->pos += wlen;
        return 0;
    }
    return fail_found(d, "a value");
}

static int parse_value(jdoc *d, int depth);

/* An array or object at d->pos; depth counts the containers around it. */
static int parse_container(jdoc *d, int depth, int type)
{
    char close = type == JDOC_OBJECT ? '}' : ']';
    int self = new_node(d, type), last = -1;

    if (depth + 1 > d->max_depth) return fail(d, d->pos, "nesting deeper than %d levels", d->max_depth);
    d->pos++;
    skip_ws(d);
    if (d->pos < d->len && d->src[d->pos] == close) {
        d->pos++;
        return self;
    }
    for (;;) {
        uint32_t koff = 0, klen = 0;
        uint8_t karena = 0;
        if (type == JDOC_OBJECT) {
            if (d->pos >= d->len || d->src[d->pos] != '"') return fail_found(d, "a string key");
            if (parse_string(d, &koff, &klen, &karena) < 0) return -1;
            skip_ws(d);
            if (d->pos >= d->len || d->src[d->pos] != ':') return fail_found(d, "':'");
            d->pos++;
            skip_ws(d);
        }
        int child = parse_value(d, depth + 1);
        if (child < 0) return -1;
        jnode *cn = &d->nodes[child];
        cn->key_off = koff;
        cn->key_len = klen;
        cn->key_in_arena = karena;
        cn->member = type == JDOC_OBJECT;
        if (last < 0)
            d->nodes[self].child = child;
        else
            d->nodes[last].next = child;
        last = child;
        skip_ws(d);
        if (d->pos < d->len && d->src[d->pos] == ',') {
            d->pos++;
            skip_ws(d);
            continue;
        }
        if (d->pos < d->len && d->src[d->pos] == close) {
            d->pos++;
            return self;
        }
        return fail_found(d, type == JDOC_OBJECT ? "',' or '}'" : "',' or ']'");
    }
}

static int parse_value(jdoc *d, int depth)
{
    int self;

    if (d->pos >= d->len) return fail(d, d->len, "not JSON: unexpected end of input");
    switch (d->src[d->pos]) {
    case '{':
        return parse_container(d, depth, JDOC_OBJECT);
    case '[':
        return parse_container(d, depth, JDOC_ARRAY);
    case '"': {
        uint32_t off, len;
        uint8_t arena;
        self = new_node(d, JDOC_STRING);
        if (parse_string(d, &off, &len, &arena) < 0) return -1;
        d->nodes[self].off = off;
        d->nodes[self].len = len;
        d->nodes[self].val_in_arena = arena;
        return self;
    }
    case 't':
        self = new_node(d, JDOC_TRUE);
        return parse_literal(d, "true", 4) < 0 ? -1 : self;
    case 'f':
        self = new_node(d, JDOC_FALSE);
        return parse_literal(d, "false", 5) < 0 ? -1 : self;
    case 'n':
        self = new_node(d, JDOC_NULL);
        return parse_literal(d, "null", 4) < 0 ? -1 : self;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        self = new_node(d, JDOC_NUMBER);
        return parse_number(d, &d->nodes[self]) < 0 ? -1 : self;
    default:
        return fail_found(d, "a value");
    }
}

int jdoc_parse(jdoc *d, const char *s, size_t len, int max_depth, char *err, size_t errlen)
{
    char dummy[1];
    size_t bad;

    d->n = 0;
    buf_reset(&d->arena);
    d->src = s;
    d->len = len;
    d->pos = 0;
    d->max_depth = max_depth < JDOC_DEPTH_MAX ? max_depth : JDOC_DEPTH_MAX;
    d->err = errlen ? err : dummy;
    d->errlen = errlen ? errlen : sizeof dummy;
    if (len > UINT32_MAX - 1) return fail(d, 0, "input too large (%zu bytes)", len);
    if (utf8_validate(s, len, &bad) < 0) return fail(d, bad, "invalid UTF-8");
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) d->pos = 3;
    skip_ws(d);
    if (d->pos >= d->len) return fail(d, d->len, "not JSON: empty input");
    if (parse_value(d, 0) < 0) {
        d->n = 0;
        return -1;
    }
    skip_ws(d);
    if (d->pos < d->len) {
        d->n = 0;
        return fail_found(d, "the end after the value");
    }
    return 0;
}

static const jnode *node_at(const jdoc *d, int node)
{
    return node >= 0 && (size_t)node < d->n ? &d->nodes[node] : NULL;
}

jdoc_type jdoc_kind(const jdoc *d, int node)
{
    const jnode *n = node_at(d, node);
    return n ? (jdoc_type)n->type : JDOC_NONE;
}

int jdoc_get(const jdoc *d, int node, const char *key)
{
    const jnode *n = node_at(d, node);
    size_t klen = strlen(key);

    if (n == NULL || n->type != JDOC_OBJECT) return -1;
    for (int c = n->child; c >= 0; c = d->nodes[c].next) {
        const jnode *m = &d->nodes[c];
        const char *k = (m->key_in_arena ? d->arena.data : d->src) + m->key_off;
        if (m->key_len == klen && memcmp(k, key, klen) == 0) return c;
    }
    return -1;
}

int jdoc_child(const jdoc *d, int node)
{
    const jnode *n = node_at(d, node);
    return n ? n->child : -1;
}

int jdoc_next(const jdoc *d, int node)
{
    const jnode *n = node_at(d, node);
    return n ? n->next : -1;
}

const char *jdoc_str(const jdoc *d, int node, size_t *len)
{
    const jnode *n = node_at(d, node);
    if (n == NULL || (n->type != JDOC_STRING && n->type != JDOC_NUMBER)) return NULL;
    *len = n->len;
    return (n->val_in_arena ? d->arena.data : d->src) + n->off;
}

const char *jdoc_key(const jdoc *d, int node, size_t *len)
{
    const jnode *n = node_at(d, node);
    if (n == NULL || !n->member) return NULL;
    *len = n->key_len;
    return (n->key_in_arena ? d->arena.data : d->src) + n->key_off;
}

size_t jdoc_offset(const jdoc *d, int node)
{
    const jnode *n = node_at(d, node);
    return n ? n->at : 0;
}
