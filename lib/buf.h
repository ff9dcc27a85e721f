/* buf — an owned, growable byte buffer (a value type).
 *
 * Rules: data is always NUL-terminated after len bytes (so it can be used as
 * a C string when it holds text); a zeroed buf (BUF_INIT) is valid and empty;
 * any append may move data, so pointers into it are valid only until the next
 * append. buf_free releases the memory and leaves an empty buf. */
#ifndef BIRDFEED_BUF_H
#define BIRDFEED_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf;

#define BUF_INIT {NULL, 0, 0}

void buf_free(buf *b);                                  /* b may be NULL */
void buf_reset(buf *b);                                 /* len = 0, keeps memory */
void buf_reserve(buf *b, size_t extra);                 /* room for extra more bytes */
void buf_append(buf *b, const void *p, size_t n);
void buf_appends(buf *b, const char *s);                /* append a C string */
void buf_appendc(buf *b, char c);
/* Append formatted text (as snprintf would write it, any length). */
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
void buf_consume(buf *b, size_t n);                     /* drop the first n bytes */
/* Append s as a JSON string literal (quotes included), escaping as JSON requires.
 * s must be valid UTF-8 (it is copied byte for byte apart from escapes). */
void buf_append_json_str(buf *b, const char *s, size_t n);
/* Hand the memory to the caller (NUL-terminated, never NULL); b becomes empty. */
char *buf_detach(buf *b, size_t *len);

#endif
