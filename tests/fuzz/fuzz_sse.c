/* fuzz_sse — libFuzzer round trip for lib/sse: whatever id, event type and
 * data the encoder is given, an SSE parser reads back what the contract
 * promises, however the bytes are split on the way.
 *
 *   make fuzz FUZZ_SECONDS=60        (clang: -fsanitize=fuzzer,address,undefined)
 *
 * Input: a flags byte, two length bytes (id, event), then id, event and data
 * bytes. Expected after parsing (WHATWG HTML, "Server-sent events"):
 *   id    the C string (up to a NUL) without CR and LF; persists when an
 *         event has none;
 *   event the same, or "message" when that leaves nothing;
 *   data  CRLF, CR and LF each become LF; NUL bytes are dropped.
 * Two events, a comment and a retry are encoded and fed in chunks whose size
 * the flags pick; exactly the two events, one comment and the retry come out.
 * Then the same bytes through a parser bounded to a few hundred bytes per
 * event: each event comes out unchanged or is dropped whole (and counted),
 * and one whose encoding fits the bound always comes out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s[0..n) up to its first NUL, CR and LF removed, into out (NUL-terminated). */
static void line_value(const char *s, size_t n, buf *out)
{
    for (size_t i = 0; i < n && s[i]; i++)
        if (s[i] != '\r' && s[i] != '\n') buf_appendc(out, s[i]);
    buf_appends(out, "");
}

static void expect_data(const char *s, size_t n, buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0') continue;
        if (s[i] == '\r') {
            buf_appendc(out, '\n');
            if (i + 1 < n && s[i + 1] == '\n') i++;
        } else {
            buf_appendc(out, s[i]);
        }
    }
    buf_appends(out, "");
}

static void check(const sse_event *ev, const buf *id, const buf *event, const buf *dat)
{
    if (strcmp(ev->id, id->data) != 0) abort();
    if (strcmp(ev->event, event->len ? event->data : "message") != 0) abort();
    if (ev->data_len != dat->len || memcmp(ev->data, dat->data, dat->len) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    unsigned flags = data[0];
    size_t rest = size - 3;
    size_t ilen = data[1] % (rest + 1);
    size_t elen = data[2] % (rest - ilen + 1);
    const char *ip = (const char *)data + 3, *ep = ip + ilen, *dp = ep + elen;
    size_t dlen = rest - ilen - elen;
    int with_id = flags & 1, with_event = flags & 2;
    size_t chunk = 1 + (flags >> 2);

    buf id_in = BUF_INIT, ev_in = BUF_INIT, want_id = BUF_INIT, want_ev = BUF_INIT, want_data = BUF_INIT;
    buf wire = BUF_INIT;
    buf_append(&id_in, ip, ilen);
    buf_append(&ev_in, ep, elen);
    buf_appends(&id_in, "");
    buf_appends(&ev_in, "");
    if (with_id) line_value(ip, ilen, &want_id);
    else buf_appends(&want_id, "");
    if (with_event) line_value(ep, elen, &want_ev);
    else buf_appends(&want_ev, "");
    expect_data(dp, dlen, &want_data);

    /* event 1 with the fuzzed fields; a comment made of the event bytes;
     * event 2 without id (the id persists) and without type; a retry. */
    sse_encode_retry(&wire, 3000);
    sse_encode_event(&wire, with_id ? id_in.data : NULL, with_event ? ev_in.data : NULL, dp, dlen);
    sse_encode_comment(&wire, ev_in.data);
    sse_encode_event(&wire, NULL, NULL, dp, dlen);

    sse_parser *p = sse_parser_new();
    sse_event ev;
    buf empty = BUF_INIT;
    buf_appends(&empty, "");
    int got = 0;
    for (size_t off = 0; off < wire.len; off += chunk) {
        size_t n = wire.len - off < chunk ? wire.len - off : chunk;
        sse_parser_feed(p, wire.data + off, n);
        while (sse_parser_next(p, &ev)) {
            if (got == 0) check(&ev, &want_id, &want_ev, &want_data);
            else if (got == 1) check(&ev, &want_id, &empty, &want_data);
            else abort();
            got++;
        }
    }
    if (got != 2) abort();
    if (sse_parser_comments(p) != 1) abort();
    if (sse_parser_retry(p) != 3000) abort();

    sse_parser_free(p);

    /* Again with a bound on the size of an event (what `birdfeed pull` sets):
     * an event is delivered unchanged or dropped whole, never cut; every
     * event whose encoding fits the bound is delivered; and the two add up. */
    buf one = BUF_INIT, two = BUF_INIT;
    sse_encode_event(&one, with_id ? id_in.data : NULL, with_event ? ev_in.data : NULL, dp, dlen);
    sse_encode_event(&two, NULL, NULL, dp, dlen);
    size_t limit = 1 + (size_t)data[1] * 4;
    p = sse_parser_new();
    sse_parser_limit(p, limit);
    got = 0;
    int first = 1;
    for (size_t off = 0; off < wire.len; off += chunk) {
        size_t n = wire.len - off < chunk ? wire.len - off : chunk;
        sse_parser_feed(p, wire.data + off, n);
        while (sse_parser_next(p, &ev)) {
            /* which event this is: the first one carries the type, the second never */
            if (first && one.len <= limit) check(&ev, &want_id, &want_ev, &want_data);
            else if (ev.data_len != want_data.len || memcmp(ev.data, want_data.data, want_data.len) != 0) abort();
            first = 0;
            got++;
        }
    }
    if (got + (int)sse_parser_dropped(p) != 2) abort();
    if (one.len <= limit && two.len <= limit && got != 2) abort();
    sse_parser_free(p);
    buf_free(&one);
    buf_free(&two);

    buf_free(&id_in);
    buf_free(&ev_in);
    buf_free(&want_id);
    buf_free(&want_ev);
    buf_free(&want_data);
    buf_free(&wire);
    buf_free(&empty);
    return 0;
}
