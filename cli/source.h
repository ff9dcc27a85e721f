/* source — one connection to a remote source of posts, for `birdfeed pull`:
 * read it until it ends, handing each record to a sink. Two transports,
 * each on a library made for it (no hand-written TLS, HTTP or WebSocket
 * framing):
 *   source_http.c   http:// and https:// with libcurl: a `text/event-stream`
 *                   answer is read as Server-Sent Events (lib/sse), anything
 *                   else as NDJSON (lib/lines);
 *   source_ws.c     ws:// and wss:// with libwebsockets: each text message
 *                   is one record (Bluesky Jetstream).
 * Reconnecting, backoff and resuming are the caller's (cli/pull.c): a
 * transport makes one connection and says how it ended. */
#ifndef BIRDFEED_SOURCE_H
#define BIRDFEED_SOURCE_H

#include <signal.h>
#include <stddef.h>

/* Where records go. */
typedef struct source_sink {
    /* One record p[0..n) (not NUL-terminated): an NDJSON line, a WebSocket
     * text message (event NULL), or an SSE event's data (event: its type).
     * Returns 0, or -1 to stop reading (--max-errors, Redis gone). */
    int (*record)(void *ctx, const char *event, const char *p, size_t n);
    /* A record the framing refused, with why ("event longer than …"). */
    void (*refused)(void *ctx, const char *why);
    /* Nothing more to read right now: publish what is queued. */
    void (*idle)(void *ctx);
    void *ctx;
} source_sink;

typedef struct source_opts {
    const char *cacert;           /* CA certificates file for TLS, NULL: the system's */
    const char *bearer;           /* "Authorization: Bearer" token, NULL: none; never printed */
    long stall_ms;                /* no byte for this long: the connection stalled */
    size_t max_record;            /* bytes in one record; longer ones are refused */
    const char *last_event_id;    /* SSE: sent as Last-Event-ID when not empty (resume) */
    volatile sig_atomic_t *stop;  /* set by SIGINT/SIGTERM */
} source_opts;

/* How one connection ended. */
typedef enum source_end {
    SOURCE_CLOSED,      /* the source ended its answer cleanly */
    SOURCE_STALLED,     /* nothing came for stall_ms */
    SOURCE_FAILED,      /* could not connect, TLS, HTTP error, cut mid-stream: err says */
    SOURCE_REFUSED,     /* an answer that will not change by retrying (HTTP 4xx): err says */
    SOURCE_STOPPED,     /* the stop flag, or the sink asked to stop */
} source_end;

/* What one connection did. */
typedef struct source_result {
    source_end end;
    int received;                 /* at least one byte of the body or one message came */
    char err[256];                /* SOURCE_FAILED / SOURCE_REFUSED: why, one line */
    char *last_event_id;          /* SSE: the id of the last event read, whole (any length the SSE
                                   * parser takes: up to max_record bytes); the caller frees it;
                                   * NULL when none */
} source_result;

/* Call once before the first connection (curl_global_init). */
void source_global_init(void);

/* One HTTP(S) connection to url, read to its end. */
void source_http_once(const source_opts *o, const char *url, const source_sink *sink, source_result *r);
/* One WebSocket connection to url (ws:// or wss://), read to its end. */
void source_ws_once(const source_opts *o, const char *url, const source_sink *sink, source_result *r);

#endif
