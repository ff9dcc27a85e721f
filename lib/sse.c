#include "sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Append s without CR, LF or NUL. */
static void append_line_safe(buf *out, const char *s)
{
    for (; *s; s++)
        if (*s != '\r' && *s != '\n') buf_appendc(out, *s);
}

void sse_encode_event(buf *out, const char *id, const char *event, const char *data, size_t len)
{
    size_t i = 0;
    if (id) {
        buf_appends(out, "id: ");
        append_line_safe(out, id);
        buf_appendc(out, '\n');
    }
    if (event) {
        buf_appends(out, "event: ");
        append_line_safe(out, event);
        buf_appendc(out, '\n');
    }
    buf_appends(out, "data: ");
    while (i < len) {
        size_t j = i;
        while (j < len && data[j] != '\r' && data[j] != '\n' && data[j] != '\0') j++;
        buf_append(out, data + i, j - i);
        if (j == len) break;
        if (data[j] == '\r' && j + 1 < len && data[j + 1] == '\n') j++;
        if (data[j] != '\0') buf_appends(out, "\ndata: ");   /* a NUL is dropped */
        i = j + 1;
    }
    buf_appendc(out, '\n');
    buf_appendc(out, '\n');
}

void sse_encode_comment(buf *out, const char *text)
{
    buf_appends(out, ": ");
    append_line_safe(out, text);
    buf_appends(out, "\n\n");
}

void sse_encode_retry(buf *out, unsigned long ms)
{
    buf_printf(out, "retry: %lu\n\n", ms);
}

struct sse_parser {
    buf in;             /* unparsed bytes */
    size_t pos;         /* parse position in in */
    int skip_lf;        /* last line ended in CR: drop a following LF */
    buf id, event, data;
    buf out_id, out_event, out_data;
    int have_data;
    size_t comments;
    long retry;
    size_t max;         /* bytes one event may take (0: no bound) */
    int over;           /* the event being read is over max: drop it */
    int in_long_line;   /* inside a line already dropped for being over max */
    size_t dropped;
};

sse_parser *sse_parser_new(void)
{
    sse_parser *p = xcalloc(1, sizeof *p);
    p->retry = -1;
    buf_appends(&p->id, "");
    return p;
}

void sse_parser_free(sse_parser *p)
{
    if (p == NULL) return;
    buf_free(&p->in);
    buf_free(&p->id);
    buf_free(&p->event);
    buf_free(&p->data);
    buf_free(&p->out_id);
    buf_free(&p->out_event);
    buf_free(&p->out_data);
    free(p);
}

void sse_parser_feed(sse_parser *p, const char *data, size_t len)
{
    if (p->pos > 0) {
        buf_consume(&p->in, p->pos);
        p->pos = 0;
    }
    buf_append(&p->in, data, len);
}

/* Process one line; returns 1 when it dispatched an event. */
static int process_line(sse_parser *p, const char *line, size_t n)
{
    const char *colon;
    size_t flen, vlen;
    const char *val;

    if (n == 0) {
        if (!p->have_data) {
            buf_reset(&p->event);
            return 0;
        }
        buf_reset(&p->out_id);
        buf_reset(&p->out_event);
        buf_reset(&p->out_data);
        buf_append(&p->out_id, p->id.data, p->id.len);
        if (p->event.len) buf_append(&p->out_event, p->event.data, p->event.len);
        else buf_appends(&p->out_event, "message");
        /* data lines were each followed by LF: drop the last one */
        buf_append(&p->out_data, p->data.data, p->data.len ? p->data.len - 1 : 0);
        buf_reset(&p->data);
        buf_reset(&p->event);
        p->have_data = 0;
        return 1;
    }
    if (line[0] == ':') {
        p->comments++;
        return 0;
    }
    colon = memchr(line, ':', n);
    flen = colon ? (size_t)(colon - line) : n;
    val = colon ? colon + 1 : line + n;
    vlen = colon ? n - flen - 1 : 0;
    if (vlen && *val == ' ') {
        val++;
        vlen--;
    }
    if (flen == 4 && memcmp(line, "data", 4) == 0) {
        buf_append(&p->data, val, vlen);
        buf_appendc(&p->data, '\n');
        p->have_data = 1;
    } else if (flen == 5 && memcmp(line, "event", 5) == 0) {
        buf_reset(&p->event);
        buf_append(&p->event, val, vlen);
    } else if (flen == 2 && memcmp(line, "id", 2) == 0) {
        if (memchr(val, '\0', vlen) == NULL) {
            buf_reset(&p->id);
            buf_append(&p->id, val, vlen);
        }
    } else if (flen == 5 && memcmp(line, "retry", 5) == 0) {
        size_t k = 0;
        while (k < vlen && val[k] >= '0' && val[k] <= '9') k++;
        if (vlen && k == vlen && vlen < 10) p->retry = strtol(val, NULL, 10);
    }
    return 0;
}

void sse_parser_limit(sse_parser *p, size_t max)
{
    p->max = max;
}

size_t sse_parser_dropped(const sse_parser *p)
{
    return p->dropped;
}

/* Is the whole line s[0..n) a data line? */
static int is_data_line(const char *s, size_t n)
{
    return n >= 4 && memcmp(s, "data", 4) == 0 && (n == 4 || s[4] == ':');
}

/* May a line whose first n bytes are s be a data line? */
static int may_be_data_line(const char *s, size_t n)
{
    return memcmp(s, "data:", n < 5 ? n : 5) == 0 || (n == 4 && memcmp(s, "data", 4) == 0);
}

/* The event being read is over the bound: forget what it has so far. */
static void go_over(sse_parser *p)
{
    p->over = 1;
    buf_reset(&p->data);
    buf_reset(&p->event);
    p->have_data = 0;
}

int sse_parser_next(sse_parser *p, sse_event *ev)
{
    while (p->pos < p->in.len) {
        const char *s = p->in.data + p->pos;
        size_t left = p->in.len - p->pos, n = 0;
        if (p->skip_lf) {
            p->skip_lf = 0;
            if (s[0] == '\n') {
                p->pos++;
                continue;
            }
        }
        while (n < left && s[n] != '\n' && s[n] != '\r') n++;
        if (n == left) {                         /* incomplete line */
            if (p->max && (p->in_long_line || left + p->data.len > p->max)) {
                /* never hold more than the bound: drop the line as it comes
                 * (a data line takes its event with it; another field is
                 * just ignored) */
                if (!p->in_long_line && may_be_data_line(s, left)) go_over(p);
                p->in_long_line = 1;
                p->pos = p->in.len;
            }
            return 0;
        }
        p->pos += n + 1;
        if (s[n] == '\r') p->skip_lf = 1;
        if (p->in_long_line) {                   /* the end of a dropped line */
            p->in_long_line = 0;
            continue;
        }
        if (p->over) {
            if (n == 0) {                        /* the end of the dropped event */
                p->over = 0;
                p->dropped++;
                buf_reset(&p->event);
            }
            continue;
        }
        if (p->max && is_data_line(s, n) && n + p->data.len > p->max) {
            go_over(p);
            continue;
        }
        if (p->max && n > p->max) continue;       /* an over-long other field: ignored */
        if (process_line(p, s, n)) {
            ev->id = p->out_id.data ? p->out_id.data : "";
            ev->event = p->out_event.data;
            ev->data = p->out_data.data ? p->out_data.data : "";
            ev->data_len = p->out_data.len;
            return 1;
        }
    }
    return 0;
}

size_t sse_parser_comments(const sse_parser *p) { return p->comments; }
long sse_parser_retry(const sse_parser *p) { return p->retry; }
