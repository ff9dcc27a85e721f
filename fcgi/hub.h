/* hub — one per responder process: the event loop (epoll) that owns every
 * stream connection, the Redis subscription to `live` and `control`, and a
 * ring of the most recent events.
 *
 * Each tweet is encoded once into a refcounted frame ("id: …\nevent: tweet\n
 * data: …\n\n") shared by every client queue it goes to. The hub writes the
 * FastCGI records itself (libfcgi's streams are blocking only): several
 * pending frames leave in one writev behind one record header. A client that
 * owes more than client_buffer bytes is dropped at once (it resumes with
 * Last-Event-ID); silent clients get ": ping" every heartbeat_ms.
 *
 * Threads: everything runs in the thread that calls hub_poll, except the
 * functions marked "any thread", which acceptor threads call to admit a
 * stream, look at the ring and hand a connection over. */
#ifndef BIRDFEED_HUB_H
#define BIRDFEED_HUB_H

#include <stddef.h>

#include "bus.h"
#include "config.h"

typedef struct hub hub;
typedef struct hub_frame hub_frame;

/* A new hub over cfg (which must outlive it). It connects to Redis from
 * hub_poll, so it never fails. */
hub *hub_new(const config *cfg);
/* Close every connection and free everything. h may be NULL. */
void hub_free(hub *h);
/* An eventfd that wakes hub_poll when written (8 bytes); signal handlers may
 * write it. */
int hub_wake_fd(const hub *h);
/* Run the loop once: wait at most max_wait_ms for I/O, then handle it
 * (streams handed over, Redis messages, writes, heartbeats, reconnects). */
void hub_poll(hub *h, int max_wait_ms);
/* End every stream cleanly (pending events, then FCGI_END_REQUEST) within
 * budget_ms, then close what is left. Call after the acceptors stopped. */
void hub_shutdown(hub *h, int budget_ms);

/* Frames: an encoded piece of a response. Any thread may build one; once
 * handed to the hub only the hub touches it. */
/* The SSE event of one tweet: id, "event: tweet", data = json. */
hub_frame *hub_frame_tweet(bus_id id, const char *json, size_t len);
/* Raw bytes (CGI headers, "event: reset", …) that carry no tweet id. */
hub_frame *hub_frame_raw(const char *data, size_t len);
void hub_frame_unref(hub_frame *f);   /* f may be NULL */

/* What an acceptor learned about a new stream, handed to the hub. */
typedef struct hub_stream {
    int fd;                   /* the FastCGI connection, now the hub's */
    unsigned request_id;
    hub_frame *head;          /* CGI headers + retry: (required) */
    hub_frame *reset;         /* "event: reset" or NULL */
    /* Either serve from the ring: the newest ring_preload frames (then live)… */
    int from_ring;
    size_t ring_preload;
    /* …or the given history (oldest first), then every event after `after`. */
    hub_frame **history;
    size_t nhistory;
    bus_id after;             /* last id the client has (or gets in history) */
    int history_truncated;    /* more history exists: end after it (client resumes) */
    struct filterset_sel *selection;  /* which tweets the client wants (lib/filterset.h),
                                       * NULL: all; the hub releases it */
} hub_stream;

/* Any thread: reserve a stream slot. 0 ok; -1 when the process has
 * max_clients streams or Redis is down (why says which: "full" / "redis"). */
int hub_admit(hub *h, const char **why);
/* Any thread: give back a reserved slot that was not used. */
void hub_release(hub *h);
/* Any thread: hand a stream (with its slot) to the hub. Takes ownership of
 * every frame, the history array and the fd. */
void hub_submit(hub *h, hub_stream *s);

/* Any thread: what the ring holds now. whole: the ring holds the whole
 * stream; otherwise it holds every event with id > floor. count: frames in
 * it; newest: id of the newest (0-0 when empty); oldest likewise. */
typedef struct hub_ring_info {
    int whole;
    bus_id floor;
    bus_id oldest;
    bus_id newest;
    size_t count;
} hub_ring_info;
void hub_ring_info_get(hub *h, hub_ring_info *out);

/* Any thread: streams open now (for metrics and tests). */
size_t hub_streams(hub *h);

/* Counters since the hub started, for /api/metrics. Any thread; each value
 * is read atomically (the set is not one snapshot). */
typedef struct hub_stats {
    unsigned long long streams_opened;     /* streams handed to the hub */
    unsigned long long events_queued;      /* tweet events queued to clients (preload and live) */
    unsigned long long bytes_written;      /* bytes written to stream connections */
    unsigned long long slow_cutoffs;       /* clients dropped over client-buffer */
    unsigned long long heartbeats;         /* ": ping" comments sent */
    unsigned long long redis_connects;     /* successful (re)subscriptions */
    unsigned long long ring_frames;        /* frames in the ring now */
    int redis_up;                          /* 1 while subscribed */
} hub_stats;
void hub_stats_get(hub *h, hub_stats *out);

#endif
