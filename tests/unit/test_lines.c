/* Unit tests for lib/lines: line splitting with a length bound, fed in pieces. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lines.h"
#include "test.h"

/* Feed input in pieces of step bytes; render what comes out as text:
 * "L<n>:<line>\n" per line, "X<n>:<first><last>:<bytes>\n" per long piece.
 * With merge, the pieces of one long line become one "X<n>:<line>\n" (after
 * checking that they start with first and end with last). */
static char *run_(const char *input, size_t max_line, size_t chunk, size_t step, int merge)
{
    lines l;
    lines_item it;
    buf out = BUF_INIT;
    size_t len = strlen(input), pos = 0;
    lines_init(&l, max_line, chunk);
    for (;;) {
        enum lines_kind k = lines_next(&l, &it);
        if (k == LINES_END) break;
        if (k == LINES_LINE) {
            buf_printf(&out, "L%llu:%.*s\n", it.lineno, (int)it.n, it.p);
        } else if (k == LINES_LONG && merge) {
            if (it.first) buf_printf(&out, "X%llu:", it.lineno);
            ASSERT(it.first || (out.len && out.data[out.len - 1] != '\n'));
            buf_append(&out, it.p, it.n);
            if (it.last) buf_appendc(&out, '\n');
        } else if (k == LINES_LONG) {
            buf_printf(&out, "X%llu:%d%d:%.*s\n", it.lineno, it.first, it.last, (int)it.n, it.p);
        } else {
            size_t room;
            char *p = lines_space(&l, &room);
            ASSERT(room >= chunk);
            size_t n = len - pos < step ? len - pos : step;
            if (n > room) n = room;
            if (n == 0) {
                lines_eof(&l);
                continue;
            }
            memcpy(p, input + pos, n);
            pos += n;
            lines_commit(&l, n);
        }
    }
    lines_free(&l);
    return buf_detach(&out, NULL);
}

static char *run(const char *input, size_t max_line, size_t chunk, size_t step)
{
    return run_(input, max_line, chunk, step, 0);
}

static void check(const char *input, size_t max_line, size_t chunk, size_t step, const char *want)
{
    char *got = run_(input, max_line, chunk, step, 1);
    int same = strcmp(got, want) == 0;
    if (!same) fprintf(stderr, "input %s (max %zu, chunk %zu, step %zu)\n", input, max_line, chunk, step);
    ASSERT_STREQ(got, want);
    free(got);
}

static void test_simple(void)
{
    for (size_t step = 1; step <= 8; step++)
        check("a\nbc\n\ndef\n", 10, 4, step, "L1:a\nL2:bc\nL3:\nL4:def\n");
}

static void test_last_line_without_newline(void)
{
    for (size_t step = 1; step <= 5; step++) check("ab\ncd", 10, 4, step, "L1:ab\nL2:cd\n");
    check("", 10, 4, 1, "");
    check("\n", 10, 4, 1, "L1:\n");
}

static void test_crlf_is_kept_for_the_caller(void)
{
    check("a\r\nb\r\n", 10, 4, 3, "L1:a\r\nL2:b\r\n");
}

static void test_exactly_max_line(void)
{
    for (size_t step = 1; step <= 6; step++) check("abcd\nabcde\nx\n", 4, 3, step, "L1:abcd\nX2:abcde\nL3:x\n");
}

static void test_long_line_in_pieces(void)
{
    /* Over-long lines come out in pieces that add up to the line, verbatim,
     * and the numbering goes on after them. */
    for (size_t step = 1; step <= 12; step++) {
        char *got = run("ok\n0123456789abcdef\nfine\n", 4, 3, step);
        buf joined = BUF_INIT;
        ASSERT(strncmp(got, "L1:ok\nX2:1", 10) == 0);
        ASSERT_CONTAINS(got, "L3:fine\n");
        int firsts = 0, lasts = 0;
        for (char *line = got; *line; line = strchr(line, '\n') + 1) {
            if (line[0] != 'X') continue;
            ASSERT(line[1] == '2');
            firsts += line[3] == '1';
            lasts += line[4] == '1';
            char *nl = strchr(line, '\n');
            buf_append(&joined, line + 6, (size_t)(nl - line - 6));
        }
        ASSERT_EQ(firsts, 1);
        ASSERT_EQ(lasts, 1);
        ASSERT_STREQ(joined.data, "0123456789abcdef");
        buf_free(&joined);
        free(got);
    }
}

static void test_long_last_line_without_newline(void)
{
    char *got = run("a\nxxxxxxxxxx", 4, 3, 2);
    ASSERT(strncmp(got, "L1:a\nX2:10:", 11) == 0);
    size_t n = strlen(got);
    ASSERT(n >= 7 && strcmp(got + n - 7, "X2:01:\n") == 0);
    free(got);
}

static void test_buffer_stays_bounded(void)
{
    /* A 100 000-byte line with max_line 16: never more than max_line + chunk + 1 held. */
    size_t big = 100000;
    char *in = malloc(big + 4);
    memset(in, 'z', big);
    memcpy(in + big, "\nq\n", 4);
    lines l;
    lines_item it;
    size_t pos = 0, len = big + 3, total = 0;
    int lines_seen = 0;
    lines_init(&l, 16, 64);
    ASSERT_EQ(l.cap, 16 + 64 + 1);
    for (;;) {
        enum lines_kind k = lines_next(&l, &it);
        if (k == LINES_END) break;
        if (k == LINES_LONG) total += it.n;
        else if (k == LINES_LINE) {
            lines_seen++;
            ASSERT_EQ(it.lineno, 2);
            ASSERT_EQ(it.n, 1);
        } else {
            size_t room;
            char *p = lines_space(&l, &room);
            size_t n = len - pos < room ? len - pos : room;
            if (n == 0) lines_eof(&l);
            memcpy(p, in + pos, n);
            pos += n;
            lines_commit(&l, n);
        }
    }
    ASSERT_EQ(total, big);
    ASSERT_EQ(lines_seen, 1);
    lines_free(&l);
    lines_free(NULL);
    free(in);
}

int main(void)
{
    RUN(test_simple);
    RUN(test_last_line_without_newline);
    RUN(test_crlf_is_kept_for_the_caller);
    RUN(test_exactly_max_line);
    RUN(test_long_line_in_pieces);
    RUN(test_long_last_line_without_newline);
    RUN(test_buffer_stays_bounded);
    return test_summary();
}
