/* sse — Server-Sent Events framing (WHATWG HTML "Server-sent events"). No I/O.
 *
 * The encoder turns an event into bytes that any conforming parser reads back
 * unchanged: a CR, LF or CRLF inside data starts a new "data:" line (so it
 * comes back as LF) and a NUL there is dropped; CR and LF are dropped from
 * id, event and comments (C strings, so without NUL). Nothing a value holds
 * can break the framing. The parser (feed it bytes, pull events out) serves
 * the unit tests and the fuzz target (what the encoder writes reads back
 * unchanged) and `birdfeed pull` (a remote event stream, with a bound on the
 * size of an event). */
#ifndef BIRDFEED_SSE_H
#define BIRDFEED_SSE_H

#include <stddef.h>

#include "buf.h"

/* Append one event: "id: <id>\n" (when id is not NULL), "event: <event>\n"
 * (when event is not NULL), one "data: " line per line of data[0..len), and
 * the blank line that dispatches it. */
void sse_encode_event(buf *out, const char *id, const char *event, const char *data, size_t len);
/* Append ": <text>\n\n" (a comment; heartbeats use "ping"). */
void sse_encode_comment(buf *out, const char *text);
/* Append "retry: <ms>\n\n". */
void sse_encode_retry(buf *out, unsigned long ms);

/* A parsed event. The strings are owned by the parser and valid until the
 * next sse_parser_feed / sse_parser_next call. */
typedef struct sse_event {
    const char *id;          /* the last event id (persists across events), "" if none */
    const char *event;       /* "message" when the stream named none */
    const char *data;        /* lines joined with LF */
    size_t data_len;
} sse_event;

typedef struct sse_parser sse_parser;

sse_parser *sse_parser_new(void);                 /* never NULL */
void sse_parser_free(sse_parser *p);              /* p may be NULL */
/* Give the parser more bytes of the stream. */
void sse_parser_feed(sse_parser *p, const char *data, size_t len);
/* 1 and *ev filled when a complete event is ready, 0 when more bytes are needed. */
int sse_parser_next(sse_parser *p, sse_event *ev);
/* Bound the bytes one event may take, its lines together (0, the default:
 * no bound). The parser then never holds much more than max bytes: an event
 * whose data lines add up to more is dropped whole, and counted by
 * sse_parser_dropped; a longer line of another field is ignored. */
void sse_parser_limit(sse_parser *p, size_t max);
size_t sse_parser_dropped(const sse_parser *p);
/* Counters: comment lines seen (heartbeats), the last retry: value (-1: none). */
size_t sse_parser_comments(const sse_parser *p);
long sse_parser_retry(const sse_parser *p);

#endif
