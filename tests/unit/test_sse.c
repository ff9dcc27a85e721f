/* Unit tests for lib/sse (encoder and parser) and lib/fcgirec (record framing). */
#include <stdlib.h>

#include "buf.h"
#include "fcgirec.h"
#include "sse.h"
#include "test.h"

static void test_encode_simple(void)
{
    buf b = BUF_INIT;
    sse_encode_event(&b, "1-0", "tweet", "{\"a\":1}", 7);
    ASSERT_STREQ(b.data, "id: 1-0\nevent: tweet\ndata: {\"a\":1}\n\n");
    buf_reset(&b);
    sse_encode_event(&b, NULL, NULL, "", 0);
    ASSERT_STREQ(b.data, "data: \n\n");
    buf_reset(&b);
    sse_encode_comment(&b, "ping");
    sse_encode_retry(&b, 2000);
    ASSERT_STREQ(b.data, ": ping\n\nretry: 2000\n\n");
    buf_free(&b);
}

static void test_encode_hostile(void)
{
    buf b = BUF_INIT;
    const char data[] = "a\r\nb\rc\nd\0e\n";
    sse_encode_event(&b, "x\r\ny", "ev\nil", data, sizeof data - 1);
    ASSERT_STREQ(b.data, "id: xy\nevent: evil\ndata: a\ndata: b\ndata: c\ndata: de\ndata: \n\n");
    buf_free(&b);
}

/* Whatever the data holds, a parser reads back the same text (CR/CRLF as LF, NULs dropped). */
static void test_roundtrip(void)
{
    const char *cases[] = {"plain", "two\nlines", "cr\rline", "crlf\r\nline", "\n\nblank", "trailing\n", "",
                           ": not a comment", "data: nested", "\xE2\x82\xAC euro"};
    const char *want[] = {"plain", "two\nlines", "cr\nline", "crlf\nline", "\n\nblank", "trailing\n", "",
                          ": not a comment", "data: nested", "\xE2\x82\xAC euro"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        buf b = BUF_INIT;
        sse_parser *p = sse_parser_new();
        sse_event ev;
        sse_encode_event(&b, "7-1", "tweet", cases[i], strlen(cases[i]));
        /* feed one byte at a time: framing must not depend on read sizes */
        for (size_t k = 0; k < b.len; k++) sse_parser_feed(p, b.data + k, 1);
        ASSERT_EQ(sse_parser_next(p, &ev), 1);
        ASSERT_STREQ(ev.data, want[i]);
        ASSERT_STREQ(ev.id, "7-1");
        ASSERT_STREQ(ev.event, "tweet");
        ASSERT_EQ(sse_parser_next(p, &ev), 0);
        sse_parser_free(p);
        buf_free(&b);
    }
}

static void test_parser_rules(void)
{
    sse_parser *p = sse_parser_new();
    sse_event ev;
    const char *s = "retry: 1500\r\n\r\n: ping\n\nid: 5\rdata:no space\r\ndata:  two spaces\n\n"
                    "data: after\n\nevent: reset\ndata: 1-0\n\nid\ndata: x\n\ndata: unterminated";
    sse_parser_feed(p, s, strlen(s));
    ASSERT_EQ(sse_parser_next(p, &ev), 1);
    ASSERT_STREQ(ev.id, "5");
    ASSERT_STREQ(ev.event, "message");
    ASSERT_STREQ(ev.data, "no space\n two spaces");
    ASSERT_EQ(sse_parser_next(p, &ev), 1);
    ASSERT_STREQ(ev.id, "5");                 /* the id persists */
    ASSERT_STREQ(ev.data, "after");
    ASSERT_EQ(sse_parser_next(p, &ev), 1);
    ASSERT_STREQ(ev.event, "reset");
    ASSERT_STREQ(ev.data, "1-0");
    ASSERT_EQ(sse_parser_next(p, &ev), 1);
    ASSERT_STREQ(ev.id, "");                  /* "id" alone resets it */
    ASSERT_EQ(sse_parser_next(p, &ev), 0);    /* no blank line: not dispatched */
    ASSERT_EQ(sse_parser_comments(p), 1);
    ASSERT_EQ(sse_parser_retry(p), 1500);
    sse_parser_free(p);
}

/* A bound on the size of an event: an event over it is dropped whole, in
 * one piece or fed byte by byte, and what follows is read as usual. */
static void test_parser_limit(void)
{
    buf big = BUF_INIT;
    buf_appends(&big, "event: update\ndata: ");
    for (int i = 0; i < 5000; i++) buf_appendc(&big, 'x');
    buf_appends(&big, "\ndata: more\n\nevent: delete\ndata: 1\n\n: thump\n"
                      "data: 0123456789\ndata: 0123456789\ndata: 0123456789\ndata: 0123456789\n\ndata: ok\n\n");
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        sse_parser *p = sse_parser_new();
        sse_event ev;
        int got = 0;
        sse_parser_limit(p, 40);
        for (size_t i = 0; i < big.len; i += bytewise ? 1 : big.len) {
            sse_parser_feed(p, big.data + i, bytewise ? 1 : big.len);
            while (sse_parser_next(p, &ev)) {
                got++;
                if (got == 1) {
                    ASSERT_STREQ(ev.event, "delete");
                    ASSERT_STREQ(ev.data, "1");
                } else {
                    ASSERT_STREQ(ev.event, "message");
                    ASSERT_STREQ(ev.data, "ok");
                }
            }
        }
        ASSERT_EQ(got, 2);
        ASSERT_EQ(sse_parser_dropped(p), 2);     /* 5 000 bytes on a line; 4 lines of 10 adding up over 40 */
        ASSERT_EQ(sse_parser_comments(p), 1);
        sse_parser_free(p);
    }
    /* found by fuzz_sse: a long line of another field (a comment, retry:) is
     * ignored, not taken for a dropped event; data fed byte by byte still
     * drops its event */
    buf_reset(&big);
    buf_appends(&big, ": a comment much longer than the bound of the parser\nretry: 300000000\n\n"
                      "data: a data line much longer than the bound\n\ndata: ok\n\n");
    sse_parser *p = sse_parser_new();
    sse_event ev;
    sse_parser_limit(p, 12);
    int n = 0;
    for (size_t i = 0; i < big.len; i++) {
        sse_parser_feed(p, big.data + i, 1);
        while (sse_parser_next(p, &ev)) {
            ASSERT_STREQ(ev.data, "ok");
            n++;
        }
    }
    ASSERT_EQ(n, 1);
    ASSERT_EQ(sse_parser_dropped(p), 1);
    ASSERT_EQ(sse_parser_comments(p), 0);        /* the long comment was dropped unread */
    sse_parser_free(p);
    buf_free(&big);
}

static void test_fcgirec(void)
{
    unsigned char h[FCGIREC_HEADER_LEN], end[FCGIREC_END_LEN];
    fcgirec rec;
    buf b = BUF_INIT;
    char *big = malloc(70000);

    fcgirec_header(h, FCGIREC_STDOUT, 0x1234, 0xABCD);
    ASSERT_EQ(h[0], 1);
    ASSERT_EQ(h[1], 6);
    ASSERT_EQ(h[2], 0x12);
    ASSERT_EQ(h[3], 0x34);
    ASSERT_EQ(h[4], 0xAB);
    ASSERT_EQ(h[5], 0xCD);
    fcgirec_end_request(end, 7, 0);
    ASSERT_EQ(fcgirec_parse(end, sizeof end, &rec), 16);
    ASSERT_EQ(rec.type, FCGIREC_END_REQUEST);
    ASSERT_EQ(rec.request_id, 7);
    ASSERT_EQ(rec.content_len, 8);
    ASSERT_EQ(fcgirec_parse(end, 15, &rec), 0);

    memset(big, 'x', 70000);
    fcgirec_append_stdout(&b, 3, big, 70000);
    ASSERT_EQ(b.len, 70000 + 2 * FCGIREC_HEADER_LEN);
    long n = fcgirec_parse((unsigned char *)b.data, b.len, &rec);
    ASSERT_EQ(n, FCGIREC_HEADER_LEN + 65535);
    ASSERT_EQ(rec.content_len, 65535);
    n = fcgirec_parse((unsigned char *)b.data + n, b.len - (size_t)n, &rec);
    ASSERT_EQ(rec.content_len, 70000 - 65535);
    ASSERT_EQ(rec.type, FCGIREC_STDOUT);
    buf_reset(&b);
    fcgirec_append_stdout(&b, 3, big, 0);
    ASSERT_EQ(b.len, 0);
    h[0] = 2;
    ASSERT_EQ(fcgirec_parse(h, sizeof h, &rec), -1);
    /* padding is skipped */
    unsigned char padded[16] = {1, 6, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0};
    ASSERT_EQ(fcgirec_parse(padded, sizeof padded, &rec), 16);
    ASSERT_EQ(rec.content_len, 3);
    free(big);
    buf_free(&b);
}

int main(void)
{
    RUN(test_encode_simple);
    RUN(test_encode_hostile);
    RUN(test_roundtrip);
    RUN(test_parser_rules);
    RUN(test_parser_limit);
    RUN(test_fcgirec);
    return test_summary();
}
