/* frame — an encoded piece of a stream's response, refcounted: the SSE event
 * of one tweet ("id: …\nevent: tweet\ndata: …\n\n"), or raw bytes (CGI
 * headers, "retry:", "event: reset", ": ping", the id-less "event: matched"
 * a ?matched=1 stream gets after each tweet).
 *
 * Each tweet is encoded once and the same frame goes into the ring and into
 * every client queue that wants it; each holder owns one reference.
 *
 * Threads: any thread may build a frame and own it alone; once handed to the
 * hub (hub_submit) only the hub's thread touches it (the count is not atomic). */
#ifndef BIRDFEED_FRAME_H
#define BIRDFEED_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"

/* Read-only for everyone once built, except the count (frame_ref/unref) and
 * slots (set once by the hub before the frame is shared). */
typedef struct frame {
    int refs;
    int is_tweet;         /* 1: the SSE event of the tweet with this id */
    bus_id id;            /* 0-0 for raw frames */
    uint32_t *slots;      /* tweets: the filters it matched (lib/filterset.h), owned */
    size_t nslots;
    size_t json_off, json_len;   /* tweets: where the tweet's JSON is in data, verbatim
                                  * (0, 0 when it is not: line breaks or NULs in it) */
    size_t len;
    char data[];          /* len bytes, then a NUL */
} frame;

/* The SSE event of one tweet: id, "event: tweet", data = json[0..len).
 * Never NULL; one reference, the caller's. */
frame *frame_tweet(bus_id id, const char *json, size_t len);
/* The id-less `event: matched` that follows tweet frame t on a ?matched=1
 * stream: data {"id":<t's tweet id, or null>,<members>}, members as
 * filterset_sel_matched writes them. Never NULL; one reference, the caller's. */
frame *frame_matched(const frame *t, const char *members, size_t mlen);
/* Raw bytes data[0..len), copied. Never NULL; one reference, the caller's. */
frame *frame_raw(const char *data, size_t len);
/* Take one more reference; returns f. */
frame *frame_ref(frame *f);
/* Drop one reference; the last one frees f. f may be NULL. */
void frame_unref(frame *f);

#endif
