/* jdoc — a fast, strict, read-only JSON document (RFC 8259) for hot paths.
 *
 * jdoc_parse reads one JSON text into a compact tree of nodes addressed by
 * index (the root is node 0). It checks everything a producer of canonical
 * output relies on: valid UTF-8 (overlongs, surrogates and > U+10FFFF are
 * rejected), \u escapes that decode to real characters (lone surrogates are
 * rejected), a nesting limit, nothing after the value. Strings without
 * escapes point into the input, so the input must outlive the lookups;
 * escaped strings are decoded into the document's own storage. Numbers keep
 * their text exactly (big integers lose nothing). No I/O, no globals: one
 * jdoc per thread, reused across parses, costs no allocation once warm.
 *
 * Every accessor takes node -1 (what a failed lookup returns) and answers
 * "nothing" for it, so lookups chain: jdoc_get(d, jdoc_get(d, 0, "user"), "name"). */
#ifndef BIRDFEED_JDOC_H
#define BIRDFEED_JDOC_H

#include <stddef.h>

typedef enum jdoc_type {
    JDOC_NONE,      /* no such node (index -1) */
    JDOC_NULL,
    JDOC_FALSE,
    JDOC_TRUE,
    JDOC_NUMBER,
    JDOC_STRING,
    JDOC_ARRAY,
    JDOC_OBJECT,
} jdoc_type;

typedef struct jdoc jdoc;

#define JDOC_DEPTH_MAX 512

/* A new empty document; free with jdoc_free. Never NULL. */
jdoc *jdoc_new(void);
void jdoc_free(jdoc *d);   /* d may be NULL */

/* Parse s[0..len) (one JSON value, surrounded by optional whitespace; a
 * leading UTF-8 byte order mark is skipped) into d, replacing what d held.
 * Containers may nest at most max_depth levels (capped at JDOC_DEPTH_MAX:
 * the parser recurses once per level). Returns 0, or -1 with a
 * one-line reason naming the byte offset (0-based) in err, e.g.
 * "not JSON: unexpected end of input at byte 17", "invalid UTF-8 at byte 40",
 * "nesting deeper than 32 levels at byte 95". */
int jdoc_parse(jdoc *d, const char *s, size_t len, int max_depth, char *err, size_t errlen);

/* The kind of node; JDOC_NONE for -1 (or any index the document lacks). */
jdoc_type jdoc_kind(const jdoc *d, int node);
/* The member of object node called key (the first one if repeated), or -1. */
int jdoc_get(const jdoc *d, int node, const char *key);
/* First element / member of an array or object, and the one after node; -1 at the end. */
int jdoc_child(const jdoc *d, int node);
int jdoc_next(const jdoc *d, int node);
/* A string's decoded bytes (may contain NUL when the input had \u0000) or a
 * number's text; *len gets the length. NULL for other kinds. Valid until the
 * next jdoc_parse or jdoc_free (and while the input lives). */
const char *jdoc_str(const jdoc *d, int node, size_t *len);
/* The name of a member (a node returned by jdoc_child/jdoc_next on an
 * object), decoded, with *len its length (it may contain NUL when the input
 * had \u0000); NULL when node is not an object member. Valid as jdoc_str's. */
const char *jdoc_key(const jdoc *d, int node, size_t *len);
/* Byte offset in the input where node's value starts (for error messages); 0 for -1. */
size_t jdoc_offset(const jdoc *d, int node);

#endif
