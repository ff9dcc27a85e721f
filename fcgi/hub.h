/* hub — one per responder process: every open stream (a client), and which
 * tweet goes to which of them.
 *
 * The hub takes streams that acceptor threads hand over (an inbox and the
 * loop's wake), writes each its history, then offers it every new tweet the
 * feed (feed.h) brings: a tweet is encoded once into a frame, kept in the
 * ring (ring.h) and queued to each client whose selection wants it. Clients
 * are written by their writer (writer.h); a busy hub holds new events a
 * little so that several leave in one write (coalesce-ms), silent clients
 * get ": ping" every heartbeat-ms, a client owing more than client-buffer
 * bytes is cut off at once (it resumes with Last-Event-ID), and a stream
 * opened with a reader token ends with `event: token-expired` when the
 * token expires (the browser reconnects with a fresh one).
 *
 * Threads: the hub lives on its loop's thread; the functions marked "any
 * thread" are for acceptor threads (admit, look at the ring, hand a stream
 * over) and for metrics. */
#ifndef BIRDFEED_HUB_H
#define BIRDFEED_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "config.h"
#include "feed.h"
#include "filterset.h"
#include "frame.h"
#include "loop.h"
#include "ring.h"

typedef struct hub hub;

/* A hub on loop l over cfg, matching tweets with fs (the process's filter
 * set); cfg, l and fs must outlive it. It subscribes to Redis from the loop
 * (its feed), so it never fails. */
hub *hub_new(const config *cfg, loop *l, filterset *fs);
/* Close every stream and the feed and free everything. h may be NULL. */
void hub_free(hub *h);
/* End every stream cleanly (what is queued, then FCGI_END_REQUEST) within
 * budget_ms, running the loop meanwhile, then close what is left. Call after
 * the acceptors stopped; the feed no longer reconnects. */
void hub_shutdown(hub *h, int budget_ms);

/* What an acceptor learned about a new stream, handed to the hub. */
typedef struct hub_stream {
    int fd;                   /* the FastCGI connection, now the hub's */
    unsigned request_id;
    frame *head;              /* CGI headers + retry: (required) */
    frame *reset;             /* "event: reset" or NULL */
    /* Either serve from the ring: the newest ring_preload frames (then live)… */
    int from_ring;
    size_t ring_preload;
    /* …or the given history (oldest first), then every event after `after`. */
    frame **history;
    size_t nhistory;
    bus_id after;             /* last id the client has (or gets in history) */
    int history_truncated;    /* more history exists: end after it (the client resumes) */
    filterset_sel *selection; /* which tweets the client wants, NULL: all; the hub releases it */
    int matched;              /* ?matched=1: an `event: matched` after each live tweet (history has its own) */
    int64_t expires_ms;       /* wall clock (ms since the epoch) when the stream's reader token
                               * expires: then `event: token-expired` and the end; 0: never */
} hub_stream;

/* Any thread: reserve a stream slot. 0 ok; -1 when the process has
 * max-clients streams, Redis is down or the process is shutting down (*why
 * says which: "full", "redis", "stopping"). */
int hub_admit(hub *h, const char **why);
/* Any thread: admit no more streams (shutting down). */
void hub_close_admission(hub *h);
/* Any thread: give back a reserved slot that was not used. */
void hub_release(hub *h);
/* Any thread: hand a stream (with its slot) to the hub. Takes ownership of
 * s, every frame in it, the history array, the selection and the fd. */
void hub_submit(hub *h, hub_stream *s);

/* Any thread: what the ring holds now (ring.h). */
void hub_ring_info(hub *h, ring_info *out);
/* Any thread: streams admitted and open now. */
size_t hub_streams(hub *h);
/* The hub's Redis feed, for its counters (feed_stats_get, any thread). */
feed *hub_feed(hub *h);

/* Counters since the hub started, for metrics and health. */
typedef struct hub_stats {
    unsigned long long streams_opened;     /* streams handed to the hub */
    unsigned long long events_queued;      /* tweet events queued to clients (preload and live) */
    unsigned long long bytes_written;      /* bytes written to stream connections */
    unsigned long long slow_cutoffs;       /* clients cut off over client-buffer */
    unsigned long long heartbeats;         /* ": ping" comments sent */
    unsigned long long ring_frames;        /* frames in the ring now */
} hub_stats;
/* The counters into *out. Any thread; each value is read atomically (the
 * set is not one snapshot). */
void hub_stats_get(hub *h, hub_stats *out);

#endif
