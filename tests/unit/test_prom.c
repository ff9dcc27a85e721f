/* Unit tests for lib/prom: the Prometheus text exposition. */
#include <math.h>
#include <stdlib.h>

#include "buf.h"
#include "prom.h"
#include "test.h"

static void test_names(void)
{
    ASSERT(prom_name_valid("birdfeed_events_sent_total"));
    ASSERT(prom_name_valid("a:b_c9"));
    ASSERT(prom_name_valid("_x"));
    ASSERT(!prom_name_valid(""));
    ASSERT(!prom_name_valid("9lives"));
    ASSERT(!prom_name_valid("bad-name"));
    ASSERT(!prom_name_valid("sp ace"));
    ASSERT(!prom_name_valid(NULL));
    ASSERT(prom_label_name_valid("code"));
    ASSERT(!prom_label_name_valid("__reserved"));
    ASSERT(!prom_label_name_valid("a:b"));
    ASSERT(!prom_label_name_valid("1a"));
}

static void test_values(void)
{
    char v[PROM_VALUE_MAX];
    prom_format_value(0, v);
    ASSERT_STREQ(v, "0");
    prom_format_value(42, v);
    ASSERT_STREQ(v, "42");
    prom_format_value(-7, v);
    ASSERT_STREQ(v, "-7");
    prom_format_value(9007199254740992.0, v);      /* 2^53: digits, no exponent */
    ASSERT_STREQ(v, "9007199254740992");
    prom_format_value(0.1, v);
    ASSERT_STREQ(v, "0.1");
    prom_format_value(1.5, v);
    ASSERT_STREQ(v, "1.5");
    prom_format_value(1.0 / 3.0, v);
    ASSERT_EQ(strtod(v, NULL) == 1.0 / 3.0, 1);   /* reads back exactly */
    prom_format_value(NAN, v);
    ASSERT_STREQ(v, "NaN");
    prom_format_value(INFINITY, v);
    ASSERT_STREQ(v, "+Inf");
    prom_format_value(-INFINITY, v);
    ASSERT_STREQ(v, "-Inf");
    prom_format_value(1e300, v);
    ASSERT_EQ(strtod(v, NULL) == 1e300, 1);
}

static void test_declare_rules(void)
{
    prom *p = prom_new();
    char err[128];
    ASSERT_EQ(prom_declare(p, "x_total", PROM_COUNTER, "x", err, sizeof err), 0);
    ASSERT_EQ(prom_declare(p, "x_total", PROM_COUNTER, "x", err, sizeof err), 0);   /* again: no-op */
    ASSERT_EQ(prom_declare(p, "x_total", PROM_GAUGE, "x", err, sizeof err), -1);
    ASSERT_CONTAINS(err, "already a counter");
    ASSERT_EQ(prom_declare(p, "requests", PROM_COUNTER, "r", err, sizeof err), -1);
    ASSERT_CONTAINS(err, "must end in _total");
    ASSERT_EQ(prom_declare(p, "bad-name", PROM_GAUGE, "b", err, sizeof err), -1);
    ASSERT_CONTAINS(err, "not a valid metric name");
    ASSERT_EQ(prom_add(p, "undeclared", NULL, 1, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "was not declared");
    const char *bad[] = {"__x", "1", NULL};
    ASSERT_EQ(prom_add(p, "x_total", bad, 1, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "not a valid label name");
    const char *odd[] = {"code", NULL};
    ASSERT_EQ(prom_add(p, "x_total", odd, 1, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "has no value");
    prom_free(p);
    prom_free(NULL);
}

static void test_exposition(void)
{
    prom *p = prom_new();
    buf out = BUF_INIT;
    char err[128];
    const char *c2[] = {"code", "2xx", NULL}, *c4[] = {"code", "4xx", NULL};
    ASSERT_EQ(prom_declare(p, "birdfeed_streams_open", PROM_GAUGE, "Streams open now.", err, sizeof err), 0);
    ASSERT_EQ(prom_declare(p, "birdfeed_http_responses_total", PROM_COUNTER, "Answers by class.", err, sizeof err), 0);
    ASSERT_EQ(prom_declare(p, "birdfeed_ring_events", PROM_GAUGE, "Largest ring.", err, sizeof err), 0);
    ASSERT_EQ(prom_declare(p, "birdfeed_empty", PROM_GAUGE, "No samples.", err, sizeof err), 0);
    /* two processes' figures: summed, or the largest */
    ASSERT_EQ(prom_add(p, "birdfeed_streams_open", NULL, 3, err, sizeof err), 0);
    ASSERT_EQ(prom_add(p, "birdfeed_http_responses_total", c4, 1, err, sizeof err), 0);
    ASSERT_EQ(prom_add(p, "birdfeed_http_responses_total", c2, 5, err, sizeof err), 0);
    ASSERT_EQ(prom_add(p, "birdfeed_streams_open", NULL, 4, err, sizeof err), 0);
    ASSERT_EQ(prom_add(p, "birdfeed_http_responses_total", c2, 2, err, sizeof err), 0);
    ASSERT_EQ(prom_max(p, "birdfeed_ring_events", NULL, 10, err, sizeof err), 0);
    ASSERT_EQ(prom_max(p, "birdfeed_ring_events", NULL, 30, err, sizeof err), 0);
    ASSERT_EQ(prom_max(p, "birdfeed_ring_events", NULL, 20, err, sizeof err), 0);
    prom_write(p, &out);
    ASSERT_STREQ(out.data,
                 "# HELP birdfeed_streams_open Streams open now.\n"
                 "# TYPE birdfeed_streams_open gauge\n"
                 "birdfeed_streams_open 7\n"
                 "# HELP birdfeed_http_responses_total Answers by class.\n"
                 "# TYPE birdfeed_http_responses_total counter\n"
                 "birdfeed_http_responses_total{code=\"4xx\"} 1\n"
                 "birdfeed_http_responses_total{code=\"2xx\"} 7\n"
                 "# HELP birdfeed_ring_events Largest ring.\n"
                 "# TYPE birdfeed_ring_events gauge\n"
                 "birdfeed_ring_events 30\n"
                 "# HELP birdfeed_empty No samples.\n"
                 "# TYPE birdfeed_empty gauge\n");
    buf_free(&out);
    prom_free(p);
}

static void test_escaping(void)
{
    prom *p = prom_new();
    buf out = BUF_INIT;
    char err[128];
    const char *l[] = {"group", "a\"b\\c\nd", "host", "caf\xc3\xa9", NULL};
    ASSERT_EQ(prom_declare(p, "g", PROM_GAUGE, "back\\slash \"quoted\"\nnext line", err, sizeof err), 0);
    ASSERT_EQ(prom_add(p, "g", l, 1.25, err, sizeof err), 0);
    prom_write(p, &out);
    ASSERT_STREQ(out.data,
                 "# HELP g back\\\\slash \"quoted\"\\nnext line\n"
                 "# TYPE g gauge\n"
                 "g{group=\"a\\\"b\\\\c\\nd\",host=\"caf\xc3\xa9\"} 1.25\n");
    buf_free(&out);
    prom_free(p);
}

static void test_not_utf8(void)
{
    prom *p = prom_new();
    buf out = BUF_INIT;
    char err[128];
    const char *l[] = {"group", "a\xff\xc3(b", NULL};
    ASSERT_EQ(prom_declare(p, "g", PROM_GAUGE, "h\x80i", err, sizeof err), 0);
    ASSERT_EQ(prom_add(p, "g", l, 2, err, sizeof err), 0);
    prom_write(p, &out);
    ASSERT_STREQ(out.data,
                 "# HELP g h\xef\xbf\xbdi\n"
                 "# TYPE g gauge\n"
                 "g{group=\"a\xef\xbf\xbd\xef\xbf\xbd(b\"} 2\n");
    buf_free(&out);
    prom_free(p);
}

int main(void)
{
    RUN(test_names);
    RUN(test_values);
    RUN(test_declare_rules);
    RUN(test_exposition);
    RUN(test_escaping);
    RUN(test_not_utf8);
    return test_summary();
}
