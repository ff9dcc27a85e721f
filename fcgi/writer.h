/* writer — the output side of one stream connection: a queue of refcounted
 * frames written as FastCGI FCGI_STDOUT records with writev on a
 * non-blocking socket, and the end-of-request trailer. A connection served
 * without a web server (stream-listen, request id WRITER_RAW) gets the
 * frames' bytes as they are, and no trailer: closing it ends the response.
 *
 * libfcgi's own streams are blocking only, so once a stream is the hub's the
 * records are written here: several queued frames leave in one writev behind
 * one record header (records hold at most 65 535 bytes of content, without
 * padding). A write the socket cannot take whole (EAGAIN, a partial write)
 * keeps its place, record header included: the next writer_flush goes on
 * where it stopped, so the record framing is never broken.
 *
 * The per-client output limit: writer_over() says when the connection owes
 * more than its limit; the owner then cuts it off (writer_release, close).
 *
 * A value type embedded in its owner (the hub's client); knows nothing of
 * the event loop: writer_flush says WRITER_AGAIN and the owner waits for the
 * socket to become writable. Owns a reference to each queued frame, never
 * the fd. One thread. */
#ifndef BIRDFEED_WRITER_H
#define BIRDFEED_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "fcgirec.h"
#include "frame.h"

enum {
    WRITER_OK = 0,       /* everything queued is written (and the trailer, once ended) */
    WRITER_ERROR = -1,   /* the connection failed: close it */
    WRITER_AGAIN = 1     /* the socket is full: flush again once it is writable */
};

/* Fields are the writer's (read fd and ended only). Small on purpose: one
 * per open stream. */
typedef struct writer {
    frame **q;                 /* queued frames: q[qhead..qlen) */
    size_t owed;               /* content bytes queued and not yet written */
    uint32_t qhead, qlen, qcap;
    uint32_t off;              /* bytes of q[qhead] already written */
    uint32_t limit;            /* writer_over() beyond this many owed bytes */
    int fd;
    uint16_t request_id;       /* FastCGI request ids are 16 bits */
    uint16_t rec_left;         /* content bytes left in the open record */
    uint8_t hdr_off;           /* bytes of the open record's header written (8: all) */
    uint8_t trailer_off;       /* bytes of the trailer written */
    uint8_t ended;             /* writer_end was called */
} writer;

#define WRITER_RAW 0   /* the request id of a plain HTTP connection (FastCGI ids start at 1) */

/* Start writing request request_id's response on fd (non-blocking, owned by
 * the caller), owing at most limit bytes (≤ 4 GiB) before writer_over says so. */
void writer_init(writer *w, int fd, unsigned request_id, size_t limit);
/* Queue f after what is queued (takes a reference). */
void writer_push(writer *w, frame *f);
/* Bytes of frames queued and not yet written. */
size_t writer_owed(const writer *w);
/* 1 when more than the limit is owed: the owner cuts the connection off. */
int writer_over(const writer *w);
/* Is a write waiting for the socket (something owed or a record or trailer
 * half written)? */
int writer_pending(const writer *w);
/* After what is queued, end the request (an empty FCGI_STDOUT record and
 * FCGI_END_REQUEST); nothing may be queued after this. */
void writer_end(writer *w);
/* 1 once writer_end was called and the trailer is fully written: the
 * response is complete and the connection may be closed. */
int writer_done(const writer *w);

/* Write as much as the socket takes. Returns WRITER_OK, WRITER_AGAIN or
 * WRITER_ERROR; *written (may be NULL) gets the bytes written now (record
 * headers included, the trailer not). */
int writer_flush(writer *w, size_t *written);

/* Drop every queued frame (the connection is being closed). The writer is
 * then empty; writer_init may reuse it. */
void writer_release(writer *w);

#endif
