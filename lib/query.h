/* query — URL query strings (application/x-www-form-urlencoded) and the
 * request path relative to where a web server mounts birdfeed. No I/O.
 *
 * query_parse splits "a=1&b=x%20y&a=2" into decoded key/value pairs, keeping
 * repeated keys in order. '+' decodes to a space. It rejects malformed percent
 * escapes, NUL bytes (also as %00) and invalid UTF-8, naming the parameter. */
#ifndef BIRDFEED_QUERY_H
#define BIRDFEED_QUERY_H

#include <stddef.h>

#include "buf.h"

typedef struct query_param {
    char *key;       /* decoded, NUL-terminated */
    char *value;     /* decoded, NUL-terminated; "" for "key" or "key=" */
} query_param;

typedef struct query {
    query_param *params;
    size_t n;
} query;

#define QUERY_INIT {NULL, 0}

/* Parse s[0..len) (without the leading '?'; s may be NULL when len is 0)
 * into q, which must be empty (QUERY_INIT). 0 ok; -1 with a reason in err
 * ("parameter 'q': invalid UTF-8") and q left empty. */
int query_parse(const char *s, size_t len, query *q, char *err, size_t errlen);
/* Release what q holds; q becomes empty. q may be NULL. */
void query_free(query *q);
/* The first value of key, or NULL when absent. Owned by q. */
const char *query_get(const query *q, const char *key);
/* How many times key occurs. */
size_t query_count(const query *q, const char *key);
/* The i-th (from 0) value of key, or NULL. */
const char *query_get_nth(const query *q, const char *key, size_t i);
/* The first key that is not in the NULL-terminated list allowed, or NULL. */
const char *query_unknown_key(const query *q, const char *const *allowed);

/* Percent-decode s[0..len) into out ('+' → space when plus_is_space).
 * 0 ok; -1 with a reason in err on a bad escape, a NUL or invalid UTF-8. */
int query_decode(const char *s, size_t len, int plus_is_space, buf *out, char *err, size_t errlen);

/* The request path relative to the responder's mount point, from the FastCGI
 * parameters (any may be NULL or ""). Web servers fill them differently:
 * nginx sets SCRIPT_NAME to the whole path, lighttpd and Apache may split it
 * into SCRIPT_NAME + PATH_INFO, REQUEST_URI carries the raw (encoded) path
 * plus query. The result is the path from its "/api" segment or its final
 * "/stream" segment on ("/birdfeed/api/health" → "/api/health",
 * "/x/stream" → "/stream"), else the whole decoded path. Appends to out;
 * 0 ok, -1 with a reason in err when the path cannot be decoded. */
int query_mount_path(const char *script_name, const char *path_info,
                     const char *request_uri, const char *document_uri,
                     buf *out, char *err, size_t errlen);

#endif
