/* httphead — a strict parser of an HTTP/1.x request head: the request line
 * and the header fields, up to the blank line. No I/O: the caller feeds the
 * bytes it has read so far and is told "complete", "more" or why not.
 *
 * Written here rather than taken from a library: the only HTTP/1 request
 * parser Debian 12 packages is http-parser 2.9 (libhttp-parser-dev), whose
 * upstream is archived and was replaced by llhttp, which Debian 12 does not
 * package; libmicrohttpd parses too, but only inside its own server, which
 * would then own every stream's socket. What birdfeed needs is small: the
 * head of a GET (RFC 9112 §3 and §5) with no body, read strictly (anything
 * unusual is refused, never guessed at).
 *
 * Refused: a request line or field that is not well-formed, a target that is
 * not origin-form ("/path?query"), obsolete line folding, whitespace before
 * a field's colon, control bytes, more than HTTPHEAD_FIELDS fields, a head
 * longer than HTTPHEAD_MAX, an HTTP version other than 1.0 and 1.1. A bare LF
 * ends a line like CRLF (RFC 9112 §2.2 allows it). As RFC 9112 §3.2 asks:
 * an HTTP/1.1 request without a Host field, and any with two, are refused
 * (400); the value is not looked at (birdfeed serves one site on the port).
 * What other fields mean is the caller's. */
#ifndef BIRDFEED_HTTPHEAD_H
#define BIRDFEED_HTTPHEAD_H

#include <stddef.h>

#define HTTPHEAD_MAX 8192        /* the longest head, blank line included */
#define HTTPHEAD_FIELDS 64       /* the most header fields */

/* A span of the caller's bytes (not NUL-terminated). */
typedef struct httphead_span {
    const char *p;
    size_t len;
} httphead_span;

typedef struct httphead_field {
    httphead_span name;          /* as sent: compare case-insensitively */
    httphead_span value;         /* without the whitespace around it */
} httphead_field;

/* A parsed head; its spans point into the bytes given to httphead_parse. */
typedef struct httphead {
    httphead_span method;
    httphead_span target;        /* "/path?query" */
    int minor;                   /* HTTP/1.<minor>: 0 or 1 */
    httphead_field f[HTTPHEAD_FIELDS];
    size_t nf;
    size_t len;                  /* bytes of the head, its blank line included */
} httphead;

enum {
    HTTPHEAD_DONE = 0,           /* a whole head: *h is filled */
    HTTPHEAD_ERROR = -1,         /* refused: *status and err say why */
    HTTPHEAD_MORE = 1            /* no blank line yet, and nothing wrong so far */
};

/* Parse the head at the start of data[0..len). HTTPHEAD_DONE with h filled
 * (bytes after h->len are not looked at); HTTPHEAD_MORE when the bytes so far
 * are a valid beginning; HTTPHEAD_ERROR with the HTTP status to answer
 * (400, 414 a request line over HTTPHEAD_MAX, 431 too many or too long
 * fields, 505 another version) in *status and the reason in err. */
int httphead_parse(const char *data, size_t len, httphead *h, int *status, char *err, size_t errlen);

/* Is field f named name (case-insensitive)? */
int httphead_is(const httphead_field *f, const char *name);
/* Do fields a and b have the same name (case-insensitive)? */
int httphead_same_name(const httphead_field *a, const httphead_field *b);
/* The value of the first field named name (case-insensitive), or NULL. */
const httphead_span *httphead_get(const httphead *h, const char *name);

#endif
