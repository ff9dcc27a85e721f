/* fuzz_jdoc — libFuzzer target for lib/jdoc, differential against json-c.
 *
 *   make fuzz FUZZ_SECONDS=60        (clang: -fsanitize=fuzzer,address,undefined)
 *
 * The first byte sets the nesting limit, the rest is the document. Whatever
 * jdoc accepts must be a JSON text that json-c (strict mode) reads too, with
 * the same shape: same kinds, same array lengths, same string bytes, every
 * object member findable with jdoc_get. jdoc's strings must be valid UTF-8;
 * its depth must stay within the limit. A reject gives a one-line reason
 * naming a byte offset inside the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jdoc *doc;
static int has_nul_escape;   /* json-c cuts member names at an escaped NUL */

static void same(const jdoc *d, int node, json_object *o, int depth, int max_depth)
{
    size_t len;
    const char *s;

    if (depth > max_depth + 1) abort();
    switch (jdoc_kind(d, node)) {
    case JDOC_NULL:
        if (o != NULL) abort();
        break;
    case JDOC_FALSE:
    case JDOC_TRUE:
        if (!json_object_is_type(o, json_type_boolean)) abort();
        if (json_object_get_boolean(o) != (jdoc_kind(d, node) == JDOC_TRUE)) abort();
        break;
    case JDOC_NUMBER:
        if (!json_object_is_type(o, json_type_int) && !json_object_is_type(o, json_type_double)) abort();
        s = jdoc_str(d, node, &len);
        if (s == NULL || len == 0) abort();
        break;
    case JDOC_STRING:
        if (!json_object_is_type(o, json_type_string)) abort();
        s = jdoc_str(d, node, &len);
        if (s == NULL || utf8_validate(s, len, NULL) < 0) abort();
        /* json-c 0.16 turns some valid surrogate pairs ("\\ud837\\udc26",
         * U+1DC26) into U+FFFD: where its string has one, skip the comparison
         * (jdoc is right; test_tweet checks its surrogate decoding). */
        if (memmem(json_object_get_string(o), (size_t)json_object_get_string_len(o), "\xEF\xBF\xBD", 3))
            break;
        if ((size_t)json_object_get_string_len(o) != len || memcmp(json_object_get_string(o), s, len) != 0)
            abort();
        break;
    case JDOC_ARRAY: {
        if (!json_object_is_type(o, json_type_array)) abort();
        size_t i = 0, n = json_object_array_length(o);
        for (int c = jdoc_child(d, node); c >= 0; c = jdoc_next(d, c), i++) {
            if (i >= n) abort();
            same(d, c, json_object_array_get_idx(o, i), depth + 1, max_depth);
        }
        if (i != n) abort();
        break;
    }
    case JDOC_OBJECT: {
        if (!json_object_is_type(o, json_type_object)) abort();
        size_t members = 0;
        for (int c = jdoc_child(d, node); c >= 0; c = jdoc_next(d, c)) members++;
        /* json-c keeps the last of repeated keys, jdoc finds the first: compare
         * values only when no key repeats. Keys with NUL cannot be looked up
         * by name in either. */
        int unique = members == (size_t)json_object_object_length(o);
        if (members < (size_t)json_object_object_length(o)) abort();
        json_object_object_foreach(o, key, val) {
            int m = jdoc_get(d, node, key);
            if (m < 0 && (has_nul_escape || strstr(key, "\xEF\xBF\xBD"))) continue;   /* see above */
            if (m < 0) abort();
            if (unique) same(d, m, val, depth + 1, max_depth);
        }
        break;
    }
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    int max_depth = 1 + data[0] % 64;
    char err[256] = "";

    if (doc == NULL) doc = jdoc_new();
    if (jdoc_parse(doc, s, n, max_depth, err, sizeof err) < 0) {
        if (err[0] == '\0' || strchr(err, '\n') || strstr(err, " at byte ") == NULL) abort();
        return 0;
    }
    /* A document jdoc accepted: json-c must read all of it the same way
     * (a UTF-8 byte order mark, which jdoc skips, json-c does not know). */
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    json_tokener *tok = json_tokener_new_ex(JDOC_DEPTH_MAX + 2);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    enum json_tokener_error je = json_tokener_get_error(tok);
    if (je == json_tokener_continue) {
        /* json-c waits for more after a top-level number; end it. */
        o = json_tokener_parse_ex(tok, "", 1);
        je = json_tokener_get_error(tok);
    }
    if (je != json_tokener_success) abort();
    has_nul_escape = memmem(s, n, "\\u0000", 6) != NULL;
    same(doc, 0, o, 1, max_depth);
    json_object_put(o);
    json_tokener_free(tok);
    return 0;
}
