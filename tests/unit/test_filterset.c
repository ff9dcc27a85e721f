/* Unit tests for a process's filter set: notices, selections, slot lifetimes. */
#include <stdio.h>
#include <stdlib.h>

#include "filterset.h"
#include "test.h"

static const filter_limits LIM = {100, 400, 60};

static void put(filterset *fs, const char *id, long long version, const char *track)
{
    char msg[512];
    int ended;
    char id_out[FILTER_ID_MAX];
    snprintf(msg, sizeof msg,
             "{\"op\":\"put\",\"filter\":{\"id\":\"%s\",\"name\":\"n%s\",\"track\":[\"%s\"],\"version\":%lld,"
             "\"created_at\":\"t\",\"updated_at\":\"t\"}}", id, id, track, version);
    if (filterset_notice(fs, msg, strlen(msg), &ended, id_out) != 0) abort();
}

static int del(filterset *fs, const char *id)
{
    char msg[128];
    int ended;
    char id_out[FILTER_ID_MAX];
    snprintf(msg, sizeof msg, "{\"op\":\"del\",\"id\":\"%s\"}", id);
    if (filterset_notice(fs, msg, strlen(msg), &ended, id_out) != 0) abort();
    if (ended >= 0 && strcmp(id_out, id) != 0) abort();
    return ended;
}

static filterset_sel *sel1(filterset *fs, const char *id, const char *q, int *status)
{
    char err[256];
    const char *ids[1] = {id};
    return filterset_select(fs, ids, id ? 1 : 0, q, NULL, status, err, sizeof err);
}

/* Does a live tweet with this text reach sel? */
static int gets(filterset *fs, const filterset_sel *sel, const char *text)
{
    char json[512];
    size_t n;
    snprintf(json, sizeof json, "{\"id\":\"1\",\"text\":\"%s\",\"user\":{\"screen_name\":\"x\"}}", text);
    uint32_t *slots = filterset_match(fs, json, strlen(json), &n);
    int w = filterset_wants(sel, slots, n);
    free(slots);
    return w;
}

static void test_select_and_match(void)
{
    filterset *fs = filterset_new(&LIM);
    int status;
    put(fs, "1", 1, "red apple");
    put(fs, "2", 1, "banana");
    ASSERT(sel1(fs, NULL, NULL, &status) == NULL);
    ASSERT_EQ(status, 0);                                   /* everything */
    ASSERT(sel1(fs, "9", NULL, &status) == NULL);
    ASSERT_EQ(status, 404);
    ASSERT(sel1(fs, "abc", NULL, &status) == NULL);
    ASSERT_EQ(status, 404);
    ASSERT(sel1(fs, NULL, ",", &status) == NULL);
    ASSERT_EQ(status, 400);
    filterset_sel *a = sel1(fs, "1", NULL, &status);
    filterset_sel *q = sel1(fs, NULL, "Banana,cherry pie", &status);
    ASSERT(a && q);
    ASSERT(gets(fs, a, "apple so red"));
    ASSERT(!gets(fs, a, "banana"));
    ASSERT(gets(fs, q, "BANANA!"));
    ASSERT(gets(fs, q, "pie with cherry"));
    ASSERT(!gets(fs, q, "cherry"));
    ASSERT(gets(fs, NULL, "anything"));
    /* History matching uses the selection's own matcher. */
    const char *t = "{\"id\":\"1\",\"text\":\"red apple\",\"user\":{\"screen_name\":\"x\"}}";
    ASSERT_EQ(filterset_sel_matches(a, t, strlen(t)), 1);
    ASSERT_EQ(filterset_sel_matches(q, t, strlen(t)), 0);
    /* An update applies to open selections at once. */
    put(fs, "1", 2, "green pear");
    ASSERT(gets(fs, a, "a green pear"));
    ASSERT(!gets(fs, a, "red apple"));
    put(fs, "1", 1, "stale");                               /* older version ignored */
    ASSERT(gets(fs, a, "a green pear"));
    filterset_release(fs, a);
    filterset_release(fs, q);
    filterset_free(fs);
}

static void test_delete_in_use(void)
{
    filterset *fs = filterset_new(&LIM);
    int status;
    put(fs, "5", 1, "cats");
    ASSERT_EQ(del(fs, "6"), -1);                            /* unknown: nothing ends */
    filterset_sel *s = sel1(fs, "5", NULL, &status);
    ASSERT(s != NULL);
    int slot = del(fs, "5");
    ASSERT(slot >= 0);
    ASSERT(filterset_sel_has(s, slot));
    ASSERT(!gets(fs, s, "cats"));                           /* matches nothing now */
    /* The slot is not reused while s holds it. */
    put(fs, "7", 1, "dogs");
    filterset_sel *d = sel1(fs, "7", NULL, &status);
    ASSERT(d != NULL);
    ASSERT(!filterset_sel_has(d, slot));
    ASSERT(!gets(fs, s, "dogs"));
    /* A deleted id never comes back, even from a late notice. */
    put(fs, "5", 2, "cats");
    ASSERT(sel1(fs, "5", NULL, &status) == NULL);
    ASSERT_EQ(status, 404);
    filterset_release(fs, s);
    filterset_release(fs, d);
    filterset_free(fs);
}

static int ended_slots[8], nended;
static void on_ended(int slot, const char *id, void *arg)
{
    (void)arg;
    if (strcmp(id, "1") != 0) abort();
    ended_slots[nended++] = slot;
}

static void test_sync(void)
{
    filterset *fs = filterset_new(&LIM);
    int status;
    char err[256];
    put(fs, "1", 1, "one");
    put(fs, "2", 1, "two");
    filterset_sel *s1 = sel1(fs, "1", NULL, &status);
    filterset_sel *s2 = sel1(fs, "2", NULL, &status);
    const char *j = "{\"id\":\"2\",\"name\":\"n2\",\"track\":[\"deux\"],\"version\":3,\"created_at\":\"t\",\"updated_at\":\"t\"}";
    filter f;
    ASSERT_EQ(filter_load(j, strlen(j), &f, err, sizeof err), 0);
    nended = 0;
    filterset_sync(fs, &f, 1, on_ended, NULL);              /* 1 vanished, 2 changed */
    ASSERT_EQ(nended, 1);
    ASSERT(filterset_sel_has(s1, ended_slots[0]));
    ASSERT(gets(fs, s2, "deux"));
    ASSERT(!gets(fs, s2, "two"));
    filter_free(&f);
    filterset_release(fs, s1);
    filterset_release(fs, s2);
    filterset_free(fs);
}

static void test_no_selection_no_cost(void)
{
    filterset *fs = filterset_new(&LIM);
    size_t n = 99;
    put(fs, "1", 1, "x");
    const char *t = "{\"id\":\"1\",\"text\":\"x\",\"user\":{\"screen_name\":\"x\"}}";
    ASSERT(filterset_match(fs, t, strlen(t), &n) == NULL);  /* nobody selects: not matched */
    ASSERT_EQ(n, 0);
    filterset_free(fs);
}

/* Which filters and q phrases of a stream a tweet matched (for ?matched=1):
 * each q phrase on its own slot, saved filters by id, only the stream's own. */
static void test_matched(void)
{
    filterset *fs = filterset_new(&LIM);
    int status;
    char err[256];
    put(fs, "1", 1, "red apple");
    put(fs, "2", 1, "banana");
    put(fs, "3", 1, "cherry");
    const char *ids[2] = {"1", "2"};
    filterset_sel *sel = filterset_select(fs, ids, 2, "cherry, Green Pear ,banana", NULL, &status, err, sizeof err);
    filterset_sel *other = sel1(fs, "3", "pear", &status);
    ASSERT(sel != NULL && other != NULL);
    const char *json = "{\"id\":\"9\",\"text\":\"a red apple, a green pear, a banana and a cherry\",\"user\":{\"screen_name\":\"x\"}}";
    size_t n;
    uint32_t *slots = filterset_match(fs, json, strlen(json), &n);
    buf out = BUF_INIT;
    ASSERT_EQ(filterset_sel_matched(sel, slots, n, &out), 5);
    ASSERT_STREQ(out.data, "\"filters\":[\"1\",\"2\"],\"q\":[\"cherry\",\"green pear\",\"banana\"]");
    buf_reset(&out);
    ASSERT_EQ(filterset_sel_matched(other, slots, n, &out), 2);
    ASSERT_STREQ(out.data, "\"filters\":[\"3\"],\"q\":[\"pear\"]");
    free(slots);
    /* a tweet matching one phrase only */
    json = "{\"id\":\"10\",\"text\":\"just a banana\",\"user\":{\"screen_name\":\"x\"}}";
    slots = filterset_match(fs, json, strlen(json), &n);
    buf_reset(&out);
    ASSERT_EQ(filterset_sel_matched(sel, slots, n, &out), 2);
    ASSERT_STREQ(out.data, "\"filters\":[\"2\"],\"q\":[\"banana\"]");
    ASSERT(filterset_wants(sel, slots, n));
    ASSERT(!filterset_wants(other, slots, n));
    /* the same answer for a tweet of the history, by the selection's own matcher */
    buf hist = BUF_INIT;
    ASSERT_EQ(filterset_sel_matched_tweet(sel, json, strlen(json), &hist), 2);
    ASSERT_STREQ(hist.data, "\"filters\":[\"2\"],\"q\":[\"banana\"]");
    buf_free(&hist);
    buf_reset(&out);
    ASSERT_EQ(filterset_sel_matched(NULL, slots, n, &out), 0);
    ASSERT_STREQ(out.data, "\"filters\":[],\"q\":[]");
    free(slots);
    buf_free(&out);
    filterset_release(fs, sel);
    filterset_release(fs, other);
    /* the q slots are gone with their last selection: saved filters only */
    ASSERT_EQ(filterset_count(fs), 3);
    filterset_free(fs);
}

/* Does a tweet of the history with this text match sel (its own matcher)? */
static int hist(filterset_sel *sel, const char *text)
{
    char json[512];
    snprintf(json, sizeof json, "{\"id\":\"1\",\"text\":\"%s\",\"user\":{\"screen_name\":\"x\"}}", text);
    return filterset_sel_matches(sel, json, strlen(json));
}

/* filter= picks, q= narrows: (any saved filter) and (any q phrase), live and
 * in the history alike; a part the selection lacks holds for every tweet. */
static void test_filter_and_q(void)
{
    filterset *fs = filterset_new(&LIM);
    int status;
    char err[256];
    put(fs, "1", 1, "apple");
    put(fs, "2", 1, "banana");
    const char *ids[2] = {"1", "2"};
    filterset_sel *both = filterset_select(fs, ids, 2, "red,green", NULL, &status, err, sizeof err);
    filterset_sel *one = sel1(fs, "1", "red", &status);
    ASSERT(both != NULL && one != NULL);
    static const struct {
        const char *text;
        int both, one;
    } cases[] = {
        {"a red apple", 1, 1},
        {"a green banana", 1, 0},
        {"a green apple", 1, 0},
        {"an apple", 0, 0},           /* a filter without a q phrase */
        {"a red car", 0, 0},          /* a q phrase without a filter */
        {"red and green", 0, 0},
        {"a yellow banana", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ASSERT_EQ(gets(fs, both, cases[i].text), cases[i].both);
        ASSERT_EQ(hist(both, cases[i].text), cases[i].both);
        ASSERT_EQ(gets(fs, one, cases[i].text), cases[i].one);
        ASSERT_EQ(hist(one, cases[i].text), cases[i].one);
    }
    /* what a delivered tweet matched names both parts */
    const char *json = "{\"id\":\"9\",\"text\":\"a red apple and a green banana\",\"user\":{\"screen_name\":\"x\"}}";
    size_t n;
    uint32_t *slots = filterset_match(fs, json, strlen(json), &n);
    buf out = BUF_INIT;
    ASSERT(filterset_wants(both, slots, n));
    ASSERT_EQ(filterset_sel_matched(both, slots, n, &out), 4);
    ASSERT_STREQ(out.data, "\"filters\":[\"1\",\"2\"],\"q\":[\"red\",\"green\"]");
    free(slots);
    buf_free(&out);
    filterset_release(fs, both);
    filterset_release(fs, one);
    filterset_free(fs);
}

int main(void)
{
    RUN(test_filter_and_q);
    RUN(test_matched);
    RUN(test_select_and_match);
    RUN(test_delete_in_use);
    RUN(test_sync);
    RUN(test_no_selection_no_cost);
    return test_summary();
}
