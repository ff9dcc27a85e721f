#include "writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

#define WRITE_IOV 128                 /* pieces per writev */
#define WRITE_BYTES (256u << 10)      /* bytes per writev, about */
#define TRAILER_LEN (FCGIREC_HEADER_LEN + FCGIREC_END_LEN)
#define IDLE_QUEUE_KEEP 16            /* a drained queue larger than this is freed */

void writer_init(writer *w, int fd, unsigned request_id, size_t limit)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->request_id = (uint16_t)request_id;
    w->limit = limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit;
    w->hdr_off = FCGIREC_HEADER_LEN;
    if (request_id == WRITER_RAW) w->trailer_off = TRAILER_LEN;   /* nothing ends the response but the close */
}

void writer_push(writer *w, frame *f)
{
    if (w->qhead > 0 && w->qhead == w->qlen) w->qhead = w->qlen = 0;
    if (w->qlen == w->qcap) {
        if (w->qhead > 0) {
            memmove(w->q, w->q + w->qhead, (w->qlen - w->qhead) * sizeof *w->q);
            w->qlen -= w->qhead;
            w->qhead = 0;
        }
        if (w->qlen == w->qcap) {
            w->qcap = w->qcap ? w->qcap * 2 : 4;
            w->q = xrealloc(w->q, w->qcap * sizeof *w->q);
        }
    }
    w->q[w->qlen++] = frame_ref(f);
    w->owed += f->len;
}

size_t writer_owed(const writer *w) { return w->owed; }
int writer_over(const writer *w) { return w->owed > w->limit; }
int writer_pending(const writer *w) { return w->owed > 0 || w->rec_left > 0 || w->hdr_off < FCGIREC_HEADER_LEN; }
void writer_end(writer *w) { w->ended = 1; }
int writer_done(const writer *w) { return w->ended && w->trailer_off == TRAILER_LEN; }

/* Gather what w owes into iov: record headers (new ones built in hdrs) and
 * frame bytes, at most WRITE_IOV pieces / about WRITE_BYTES bytes. Walks the
 * queue exactly as advance() will. Returns the pieces; *total their bytes. */
static int build_iov(writer *w, struct iovec *iov, unsigned char (*hdrs)[FCGIREC_HEADER_LEN], size_t *total)
{
    uint32_t qi = w->qhead, off = w->off, rec_left = w->rec_left;
    uint8_t hdr_off = w->hdr_off;
    size_t owed = w->owed, bytes = 0;
    int n = 0, nh = 0;

    while (n < WRITE_IOV && bytes < WRITE_BYTES) {
        if (rec_left == 0) {
            if (owed == 0 || nh == WRITE_IOV / 2) break;
            rec_left = (uint32_t)(owed > FCGIREC_MAX_CONTENT ? FCGIREC_MAX_CONTENT : owed);
            if (w->request_id == WRITER_RAW) continue;    /* no records: the bytes as they are */
            fcgirec_header(hdrs[nh], FCGIREC_STDOUT, w->request_id, rec_left);
            iov[n].iov_base = hdrs[nh++];
            iov[n++].iov_len = FCGIREC_HEADER_LEN;
            bytes += FCGIREC_HEADER_LEN;
            hdr_off = FCGIREC_HEADER_LEN;
        } else if (hdr_off < FCGIREC_HEADER_LEN) {
            /* a header cut by a partial write: nothing of its record's content
             * is written yet, so rec_left is still its content length */
            fcgirec_header(hdrs[nh], FCGIREC_STDOUT, w->request_id, rec_left);
            iov[n].iov_base = hdrs[nh++] + hdr_off;
            iov[n++].iov_len = FCGIREC_HEADER_LEN - hdr_off;
            bytes += FCGIREC_HEADER_LEN - hdr_off;
            hdr_off = FCGIREC_HEADER_LEN;
        } else {
            frame *f = w->q[qi];
            size_t take = f->len - off;
            if (take > rec_left) take = rec_left;
            iov[n].iov_base = f->data + off;
            iov[n++].iov_len = take;
            bytes += take;
            off += (uint32_t)take;
            rec_left -= (uint32_t)take;
            owed -= take;
            if (off == f->len) {
                qi++;
                off = 0;
            }
        }
    }
    *total = bytes;
    return n;
}

/* Account for n bytes written, as build_iov laid them out. */
static void advance(writer *w, size_t n)
{
    while (n > 0) {
        if (w->rec_left == 0) {
            w->rec_left = (uint16_t)(w->owed > FCGIREC_MAX_CONTENT ? FCGIREC_MAX_CONTENT : w->owed);
            w->hdr_off = w->request_id == WRITER_RAW ? FCGIREC_HEADER_LEN : 0;
        }
        if (w->hdr_off < FCGIREC_HEADER_LEN) {
            size_t take = FCGIREC_HEADER_LEN - w->hdr_off;
            if (take > n) take = n;
            w->hdr_off = (uint8_t)(w->hdr_off + take);
            n -= take;
            continue;
        }
        frame *f = w->q[w->qhead];
        size_t take = f->len - w->off;
        if (take > w->rec_left) take = w->rec_left;
        if (take > n) take = n;
        w->off += (uint32_t)take;
        w->rec_left = (uint16_t)(w->rec_left - take);
        w->owed -= take;
        n -= take;
        if (w->off == f->len) {
            frame_unref(f);
            w->q[w->qhead++] = NULL;
            w->off = 0;
        }
    }
    if (w->qhead == w->qlen) {
        w->qhead = w->qlen = 0;
        if (w->qcap > IDLE_QUEUE_KEEP) {     /* idle streams keep (almost) nothing */
            free(w->q);
            w->q = NULL;
            w->qcap = 0;
        }
    }
}

/* The trailer once everything else is written. */
static int write_trailer(writer *w)
{
    unsigned char t[TRAILER_LEN];
    fcgirec_header(t, FCGIREC_STDOUT, w->request_id, 0);
    fcgirec_end_request(t + FCGIREC_HEADER_LEN, w->request_id, 0);
    while (w->trailer_off < TRAILER_LEN) {
        ssize_t n = write(w->fd, t + w->trailer_off, TRAILER_LEN - w->trailer_off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return WRITER_AGAIN;
        if (n <= 0) return WRITER_ERROR;
        w->trailer_off = (uint8_t)(w->trailer_off + n);
    }
    return WRITER_OK;
}

int writer_flush(writer *w, size_t *written)
{
    struct iovec iov[WRITE_IOV];
    unsigned char hdrs[WRITE_IOV / 2][FCGIREC_HEADER_LEN];
    size_t sum = 0;
    int rc = WRITER_OK;

    while (w->owed > 0 || w->rec_left > 0) {
        size_t total;
        int n = build_iov(w, iov, hdrs, &total);
        ssize_t k = writev(w->fd, iov, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            rc = errno == EAGAIN ? WRITER_AGAIN : WRITER_ERROR;
            goto out;
        }
        sum += (size_t)k;
        advance(w, (size_t)k);
        if ((size_t)k < total) {
            rc = WRITER_AGAIN;
            goto out;
        }
    }
    if (w->ended) rc = write_trailer(w);
out:
    if (written) *written = sum;
    return rc;
}

void writer_release(writer *w)
{
    for (uint32_t i = w->qhead; i < w->qlen; i++) frame_unref(w->q[i]);
    free(w->q);
    w->q = NULL;
    w->qhead = w->qlen = w->qcap = 0;
    w->owed = 0;
    w->off = 0;
    w->rec_left = 0;
}
