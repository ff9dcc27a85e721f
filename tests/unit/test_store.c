/* Unit tests for lib/store: words, row parsing, query checks, the embedded
 * migrations, and the SQLite engine end to end (a file in a temp dir). The
 * PostgreSQL engine is exercised by the integration tests against a real
 * server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "test.h"
#include "token.h"

static void test_row_parse(void)
{
    store_row r;
    char err[256];
    const char *json = "{\"id\":\"77\",\"text\":\"Hi #There\",\"user\":{\"screen_name\":\"Ann\"},"
                       "\"created_at\":\"2026-01-01T00:00:00Z\",\"lang\":\"en\",\"hashtags\":[\"There\"],"
                       "\"mentions\":[\"bob\"],\"urls\":[],\"retweet_count\":0}";
    ASSERT_EQ(store_row_parse(&r, "1700000000000-5", json, strlen(json), err, sizeof err), 0);
    ASSERT_STREQ(r.id, "1700000000000-5");
    ASSERT_EQ(r.sid.seq, 5);
    ASSERT_STREQ(r.tweet_id, "77");
    ASSERT_STREQ(r.author, "Ann");
    ASSERT_STREQ(r.lang, "en");
    ASSERT_STREQ(r.created_at, "2026-01-01T00:00:00Z");
    /* lib/token's tokens of the tweet, with signs, sorted, each once. */
    ASSERT_STREQ(r.words.data, "#there @ann @bob ann bob hi there");
    ASSERT(r.json == json);
    store_row_free(&r);

    ASSERT_EQ(store_row_parse(&r, "1-1", "{\"id\":\"1\"}", 10, err, sizeof err), -1);
    ASSERT_STREQ(err, "no text");
    ASSERT_EQ(store_row_parse(&r, "1-1", "{\"text\":\"x\"}", 12, err, sizeof err), -1);
    ASSERT_STREQ(err, "no id");
    ASSERT_EQ(store_row_parse(&r, "1-1", "[1]", 3, err, sizeof err), -1);
    ASSERT_STREQ(err, "not a JSON object");
    ASSERT_EQ(store_row_parse(&r, "1-1", "{\"id\":", 6, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "not JSON");
    ASSERT_EQ(store_row_parse(&r, "1-1", "{\"id\":\"1\",\"text\":\"\xff\"}", 20, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "invalid UTF-8 at byte 18");
    ASSERT_EQ(store_row_parse(&r, "x", "{}", 2, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "stream id");
    ASSERT_EQ(store_row_parse(&r, "18446744073709551615-0", "{}", 2, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "out of the archive's range");
    ASSERT_EQ(store_row_parse(&r, "1-1048576", "{}", 2, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "seq < 2^20");
    ASSERT_EQ(store_row_parse(&r, "8796093022207-1048575", "{\"id\":1,\"text\":\"\"}", 18, err, sizeof err), 0);
    store_row_free(&r);
    ASSERT_EQ(store_row_parse(&r, "5", "{\"id\":5,\"text\":\"n\"}", 19, err, sizeof err), 0);
    ASSERT_STREQ(r.id, "5-0");                 /* "<ms>" alone is seq 0 */
    ASSERT_STREQ(r.tweet_id, "5");             /* a numeric id is accepted */
    ASSERT(r.author == NULL && r.lang == NULL);
    store_row_free(&r);
    store_row_free(NULL);
}

static void test_query_check(void)
{
    char err[256];
    store_query q = {.limit = 20};
    ASSERT_EQ(store_query_check(&q, err, sizeof err), 0);
    q.limit = 0;
    ASSERT_EQ(store_query_check(&q, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "limit");
    q.limit = STORE_LIMIT_MAX + 1;
    ASSERT_EQ(store_query_check(&q, err, sizeof err), -1);
    q.limit = STORE_LIMIT_MAX;
    q.q = "\"*:";
    ASSERT_EQ(store_query_check(&q, err, sizeof err), -1);
    ASSERT_STREQ(err, "q: phrase has no words (only punctuation)");    /* as /stream?q= says it */
    q.q = "rust,,go";
    ASSERT_EQ(store_query_check(&q, err, sizeof err), -1);
    ASSERT_STREQ(err, "q (phrase 2): phrase is empty");
    q.q = "rust lang,#go,\xf0\x9f\x90\xa6";
    ASSERT_EQ(store_query_check(&q, err, sizeof err), 0);
    q.q = "";
    ASSERT_EQ(store_query_check(&q, err, sizeof err), 0);
    const char *none[] = {"#", "!!"}, *some[] = {"#", "rust lang"};
    store_filter f[] = {{.phrases = some, .nphrases = 2}, {.phrases = none, .nphrases = 2}};
    q.filters = f;
    q.nfilters = 2;                       /* the second has no words */
    ASSERT_EQ(store_query_check(&q, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "filter");
    q.nfilters = 1;
    ASSERT_EQ(store_query_check(&q, err, sizeof err), 0);
}

static void test_migrations_embedded(void)
{
    int sqlite = 0, pg = 0;
    for (size_t i = 0; i < store_migrations_count; i++) {
        const store_migration *m = &store_migrations[i];
        ASSERT(m->sql[0] != '\0');
        if (strcmp(m->engine, "sqlite") == 0) sqlite++;
        else if (strcmp(m->engine, "postgres") == 0) pg++;
        else TEST_FAIL("unknown engine %s", m->engine);
    }
    ASSERT(sqlite >= 2);
    ASSERT_EQ(sqlite, pg);
}

static void insert(store *s, const char *id, const char *json, store_counts *c)
{
    store_row r;
    char err[256];
    if (store_row_parse(&r, id, json, strlen(json), err, sizeof err) < 0) TEST_FAIL("parse: %s", err);
    int rc = store_insert(s, &r, 1, c, err, sizeof err);
    store_row_free(&r);
    if (rc < 0) TEST_FAIL("insert: %s", err);
}

static void test_sqlite_end_to_end(void)
{
    char dir[] = "/tmp/birdfeed-store-XXXXXX", url[128], path[96], err[512];
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/a.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", path);

    ASSERT(store_open("mysql://x", err, sizeof err) == NULL);
    ASSERT_CONTAINS(err, "sqlite: or postgres://");
    ASSERT(store_open("sqlite:", err, sizeof err) == NULL);
    ASSERT(store_open(NULL, err, sizeof err) == NULL);
    ASSERT_CONTAINS(err, "no archive configured");

    store *s = store_open(url, err, sizeof err);
    ASSERT(s != NULL);
    ASSERT_STREQ(store_engine(s), "sqlite");
    int v = -1;
    store_migrated done;
    ASSERT_EQ(store_version(s, &v, err, sizeof err), 0);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(store_check(s, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "run 'birdfeed migrate'");
    ASSERT_EQ(store_migrate(s, 0, &done, err, sizeof err), 0);
    ASSERT_EQ(done.applied, store_latest_version(s));
    ASSERT_EQ(done.reworded, 0);            /* a new archive: its (no) words recorded as this tokeniser's */
    ASSERT_EQ(done.words_from, 0);
    ASSERT_EQ(store_token_version(s, &v, err, sizeof err), 0);
    ASSERT_EQ(v, TOKEN_VERSION);
    ASSERT_EQ(store_migrate(s, 0, &done, err, sizeof err), 0);
    ASSERT_EQ(done.applied, 0);
    ASSERT_EQ(done.reworded, -1);
    ASSERT_EQ(store_check(s, err, sizeof err), 0);
    ASSERT_EQ(store_ping(s, err, sizeof err), 0);

    store_counts c;
    char json[256], id[32];
    for (int i = 1; i <= 25; i++) {
        snprintf(json, sizeof json, "{\"id\":\"%d\",\"text\":\"tweet %s %s\",\"user\":{\"screen_name\":\"u%d\"},\"lang\":\"%s\"}",
                 i, i % 2 ? "odd" : "even", i % 5 ? "" : "five", i, i % 3 ? "en" : "de");
        snprintf(id, sizeof id, "1000-%d", i);
        insert(s, id, json, &c);
        ASSERT_EQ(c.inserted, 1);
    }
    insert(s, "1000-3", "{\"id\":\"x\",\"text\":\"replaced?\"}", &c);
    ASSERT_EQ(c.inserted, 0);                                 /* the stream id is already there */
    ASSERT_EQ(c.again, 1);
    ASSERT_EQ(c.duplicates, 0);
    insert(s, "2000-1", "{\"id\":\"5\",\"text\":\"tweet odd five, sent again\"}", &c);
    ASSERT_EQ(c.inserted, 0);                                 /* tweet 5 is there as 1000-5 */
    ASSERT_EQ(c.duplicates, 1);
    ASSERT_EQ(c.again, 0);
    /* One batch holding a tweet twice (sent again within the batch). */
    store_row twice[3];
    const char *tj = "{\"id\":\"t2\",\"text\":\"twice\"}", *oj = "{\"id\":\"t3\",\"text\":\"once\"}";
    ASSERT_EQ(store_row_parse(&twice[0], "3000-1", tj, strlen(tj), err, sizeof err), 0);
    ASSERT_EQ(store_row_parse(&twice[1], "3000-2", oj, strlen(oj), err, sizeof err), 0);
    ASSERT_EQ(store_row_parse(&twice[2], "3000-3", tj, strlen(tj), err, sizeof err), 0);
    ASSERT_EQ(store_insert(s, twice, 3, &c, err, sizeof err), 0);
    ASSERT_EQ(c.inserted, 2);
    ASSERT_EQ(c.duplicates, 1);
    for (int i = 0; i < 3; i++) store_row_free(&twice[i]);
    store_query tq = {.q = "twice", .limit = 10};
    store_result tr;
    ASSERT_EQ(store_search(s, &tq, &tr, err, sizeof err), 0);
    ASSERT_EQ(tr.n, 1);
    ASSERT_STREQ(tr.ids[0], "3000-1");                        /* the first entry stays */
    store_result_free(&tr);

    store_result res;
    store_query q = {.q = "ODD", .limit = 5};
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 5);
    ASSERT_STREQ(res.ids[0], "1000-25");
    ASSERT_STREQ(res.ids[4], "1000-17");
    ASSERT(res.has_next);
    ASSERT_STREQ(res.next, "1000-17");
    buf out = BUF_INIT;
    store_result_json(&res, &out);
    ASSERT_CONTAINS(out.data, "{\"tweets\":[{\"id\":\"25\"");
    ASSERT_CONTAINS(out.data, "],\"next\":\"1000-17\"}");
    buf_free(&out);
    ASSERT(bus_id_parse(res.next, strlen(res.next), &q.before) == 0);
    q.has_before = 1;
    store_result_free(&res);
    q.limit = 100;
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 8);                                      /* 15, 13, …, 1 */
    ASSERT(!res.has_next);
    store_result_free(&res);

    /* A filter: any phrase, then the language; q narrows it. */
    const char *phrases[] = {"five odd", "#", "u4"}, *langs[] = {"en"};
    store_filter ff = {.phrases = phrases, .nphrases = 3, .langs = langs, .nlangs = 1};
    store_query f = {.filters = &ff, .nfilters = 1, .limit = 100};
    ASSERT_EQ(store_search(s, &f, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 3);                  /* 25 and 5 (five odd, en), 4 (u4); 15 is "de" */
    ASSERT_STREQ(res.ids[0], "1000-25");
    ASSERT_STREQ(res.ids[1], "1000-5");
    ASSERT_STREQ(res.ids[2], "1000-4");
    store_result_free(&res);
    f.q = "u4";
    ASSERT_EQ(store_search(s, &f, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 1);
    ASSERT_STREQ(res.ids[0], "1000-4");
    store_result_free(&res);

    /* A filter's languages as the live matcher takes them (lib/match.h):
     * "en" also takes "en-GB", case aside; "pt-br" takes "pt-BR"
     * (Bluesky's spelling) but not "pt"; "en" does not take "eng". */
    const char *lj[] = {"en-GB", "EN", "pt-BR", "pt", "eng", "en-gb-oxendict"};
    for (int i = 0; i < 6; i++) {
        snprintf(json, sizeof json, "{\"id\":\"l%d\",\"text\":\"langprobe\",\"lang\":\"%s\"}", i, lj[i]);
        snprintf(id, sizeof id, "4000-%d", i);
        insert(s, id, json, &c);
    }
    const char *probe[] = {"langprobe"}, *en[] = {"en"}, *ptbr[] = {"pt-br", "zz"}, *pct[] = {"e%", "e_"};
    store_filter lf = {.phrases = probe, .nphrases = 1, .langs = en, .nlangs = 1};
    store_query lq = {.filters = &lf, .nfilters = 1, .limit = 100};
    ASSERT_EQ(store_search(s, &lq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 3);
    ASSERT_STREQ(res.ids[0], "4000-5");   /* en-gb-oxendict */
    ASSERT_STREQ(res.ids[1], "4000-1");   /* EN */
    ASSERT_STREQ(res.ids[2], "4000-0");   /* en-GB */
    store_result_free(&res);
    lf.langs = ptbr;
    lf.nlangs = 2;
    ASSERT_EQ(store_search(s, &lq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 1);
    ASSERT_STREQ(res.ids[0], "4000-2");
    store_result_free(&res);
    lf.langs = pct;                       /* LIKE's wildcards are plain characters */
    ASSERT_EQ(store_search(s, &lq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 0);
    store_result_free(&res);

    /* Several filters, as /stream?filter=1,2,3: a tweet any one takes, each
     * with its own languages, newest first, once (1000-4 is in two), paged. */
    const char *u4[] = {"u4"};
    store_filter several[] = {{.phrases = phrases, .nphrases = 3, .langs = langs, .nlangs = 1},
                              {.phrases = probe, .nphrases = 1, .langs = ptbr, .nlangs = 2},
                              {.phrases = u4, .nphrases = 1}};
    store_query mq = {.filters = several, .nfilters = 3, .limit = 100};
    ASSERT_EQ(store_query_check(&mq, err, sizeof err), 0);
    ASSERT_EQ(store_search(s, &mq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 4);
    ASSERT_STREQ(res.ids[0], "4000-2");
    ASSERT_STREQ(res.ids[1], "1000-25");
    ASSERT_STREQ(res.ids[2], "1000-5");
    ASSERT_STREQ(res.ids[3], "1000-4");
    ASSERT(!res.has_next);
    store_result_free(&res);
    mq.limit = 2;
    ASSERT_EQ(store_search(s, &mq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 2);
    ASSERT_STREQ(res.ids[1], "1000-25");
    ASSERT(res.has_next);
    ASSERT_STREQ(res.next, "1000-25");
    ASSERT(bus_id_parse(res.next, strlen(res.next), &mq.before) == 0);
    mq.has_before = 1;
    store_result_free(&res);
    ASSERT_EQ(store_search(s, &mq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 2);
    ASSERT_STREQ(res.ids[0], "1000-5");
    ASSERT_STREQ(res.ids[1], "1000-4");
    ASSERT(!res.has_next);
    store_result_free(&res);
    mq.q = "five";                        /* q narrows every filter */
    mq.has_before = 0;
    mq.limit = 100;
    ASSERT_EQ(store_search(s, &mq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 2);                  /* 25 and 5 */
    store_result_free(&res);
    store_filter none[STORE_FILTERS_MAX + 1];
    for (size_t i = 0; i <= STORE_FILTERS_MAX; i++) none[i] = several[2];
    store_query too_many = {.filters = none, .nfilters = STORE_FILTERS_MAX + 1, .limit = 10};
    ASSERT_EQ(store_query_check(&too_many, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "more than 32 filters");

    /* q speaks the live query language: commas separate phrases (any one
     * matches), a sign asks for the hashtag or mention only. */
    store_query qq = {.q = "five odd,u4", .limit = 100};
    ASSERT_EQ(store_search(s, &qq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 4);                  /* 25, 15, 5 and 4 */
    store_result_free(&res);
    qq.q = "@u4";
    ASSERT_EQ(store_search(s, &qq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 1);                  /* the author */
    store_result_free(&res);
    qq.q = "#u4";
    ASSERT_EQ(store_search(s, &qq, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 0);                  /* no such hashtag */
    store_result_free(&res);

    /* before beyond anything stored bounds nothing; a huge seq is clamped. */
    store_query all = {.limit = 100, .has_before = 1, .before = {UINT64_MAX, UINT64_MAX}};
    ASSERT_EQ(store_search(s, &all, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 33);                 /* 1000-1..25, 3000-1 and 3000-2, 4000-0..5 */
    store_result_free(&res);
    all.before.ms = 1000;
    ASSERT_EQ(store_search(s, &all, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 25);
    store_result_free(&res);
    all.before.seq = 25;
    ASSERT_EQ(store_search(s, &all, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 24);
    ASSERT_STREQ(res.ids[0], "1000-24");
    store_result_free(&res);
    all.before.ms = 999;
    ASSERT_EQ(store_search(s, &all, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 0);
    store_result_free(&res);

    store_query bad = {.q = "'\"*", .limit = 10};
    ASSERT_EQ(store_search(s, &bad, &res, err, sizeof err), -1);
    ASSERT_EQ(res.n, 0);
    store_result_free(&res);
    store_close(s);
    store_close(NULL);

    unlink(path);
    snprintf(path, sizeof path, "%s/a.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/a.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

/* Migration 3 recomputes the words of rows archived before it. */
static void test_reword_migration(void)
{
    char dir[] = "/tmp/birdfeed-store-XXXXXX", url[128], path[96], err[512];
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/r.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    store *s = store_open(url, err, sizeof err);
    ASSERT(s != NULL);
    store_migrated done;
    ASSERT_EQ(store_migrate(s, 2, &done, err, sizeof err), 0);
    store_counts ins;
    char json[200], id[32];
    for (int i = 1; i <= 2500; i++) {      /* more than one batch of the rewording */
        snprintf(json, sizeof json, "{\"id\":\"%d\",\"text\":\"Caf\u00e9 foo_bar #Tag%d\",\"user\":{\"screen_name\":\"u\"}}",
                 i, i % 7);
        snprintf(id, sizeof id, "1000-%d", i);
        insert(s, id, json, &ins);
    }
    /* Words as an older birdfeed wrote them: letters and digits, no signs. */
    sqlite3 *db;
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE tweets SET words = 'caf\u00e9 foo bar tag u'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ASSERT_EQ(store_migrate(s, 0, &done, err, sizeof err), 0);
    ASSERT_EQ(done.applied, store_latest_version(s) - 2);
    ASSERT_EQ(done.reworded, 2500);        /* and once more for the tokeniser's version (not recorded before) */
    store_result res;
    store_query q = {.q = "foo_bar", .limit = 500};
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 500);
    ASSERT(res.has_next);
    store_result_free(&res);
    q.q = "#tag3,cafe";
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 500);                 /* cafe finds café in every row */
    store_result_free(&res);
    q.q = "#tag3";
    q.limit = STORE_LIMIT_MAX;
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 357);                 /* i % 7 == 3 for i in 1..2500 */
    store_result_free(&res);
    q.q = "foo";
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 0);                   /* the old words are gone */
    store_result_free(&res);
    store_close(s);
    unlink(path);
    snprintf(path, sizeof path, "%s/r.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/r.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        TEST_FAIL("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* The archive records which tokeniser cut its words: another version is
 * refused by store_check (and by an insert of a store checked before), and
 * store_migrate recomputes the words of every row, once. */
static void test_token_version(void)
{
    char dir[] = "/tmp/birdfeed-store-XXXXXX", url[128], path[96], sql[128], err[512];
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/t.db", dir);
    snprintf(url, sizeof url, "sqlite:%s", path);
    store *s = store_open(url, err, sizeof err), *old = store_open(url, err, sizeof err);
    ASSERT(s != NULL && old != NULL);
    store_migrated done;
    store_counts c;
    int v;
    ASSERT_EQ(store_migrate(s, 0, &done, err, sizeof err), 0);
    ASSERT_EQ(store_check(old, err, sizeof err), 0);     /* an archiver that checked before the change below */
    for (int i = 1; i <= 1200; i++) {                    /* more than one batch */
        char json[160], id[32];
        snprintf(json, sizeof json, "{\"id\":\"%d\",\"text\":\"foo_bar %s\",\"user\":{\"screen_name\":\"u\"}}", i,
                 i % 2 ? "caf\u00e9" : "tea");
        snprintf(id, sizeof id, "2000-%d", i);
        insert(s, id, json, &c);
    }
    /* Words as an older tokeniser cut them, and its version. */
    sql_exec(path, "UPDATE tweets SET words = 'foo bar'; UPDATE token_version SET version = 1");
    ASSERT_EQ(store_check(s, err, sizeof err), -1);
    char want[128];
    snprintf(want, sizeof want, "cut by tokenizer version 1, this birdfeed's is %d: run 'birdfeed migrate'", TOKEN_VERSION);
    ASSERT_CONTAINS(err, want);
    store_row r;
    const char *json = "{\"id\":\"x\",\"text\":\"late\",\"user\":{\"screen_name\":\"u\"}}";
    ASSERT_EQ(store_row_parse(&r, "3000-1", json, strlen(json), err, sizeof err), 0);
    ASSERT_EQ(store_insert(old, &r, 1, &c, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "run 'birdfeed migrate'");
    ASSERT_EQ(store_migrate(s, 0, &done, err, sizeof err), 0);
    ASSERT_EQ(done.applied, 0);
    ASSERT_EQ(done.reworded, 1200);
    ASSERT_EQ(done.words_from, 1);
    ASSERT_EQ(store_token_version(s, &v, err, sizeof err), 0);
    ASSERT_EQ(v, TOKEN_VERSION);
    ASSERT_EQ(store_check(s, err, sizeof err), 0);
    ASSERT_EQ(store_insert(old, &r, 1, &c, err, sizeof err), 0);  /* current again */
    store_row_free(&r);
    store_result res;
    store_query q = {.q = "foo_bar", .limit = 500};
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 500);
    store_result_free(&res);
    q.q = "cafe";
    q.limit = STORE_LIMIT_MAX;
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 500);
    ASSERT(res.has_next);
    store_result_free(&res);
    q.q = "foo";
    ASSERT_EQ(store_search(s, &q, &res, err, sizeof err), 0);
    ASSERT_EQ(res.n, 0);                   /* the old words are gone */
    store_result_free(&res);
    ASSERT_EQ(store_migrate(s, 0, &done, err, sizeof err), 0);
    ASSERT_EQ(done.reworded, -1);          /* once */
    /* Words a newer birdfeed cut: refused, never cut back. */
    snprintf(sql, sizeof sql, "UPDATE token_version SET version = %d", TOKEN_VERSION + 1);
    sql_exec(path, sql);
    ASSERT_EQ(store_check(s, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "upgrade birdfeed");
    ASSERT_EQ(store_migrate(s, 0, &done, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "upgrade birdfeed");
    store_close(s);
    store_close(old);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/t.db%s", dir, suffix[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    RUN(test_token_version);
    RUN(test_row_parse);
    RUN(test_query_check);
    RUN(test_migrations_embedded);
    RUN(test_sqlite_end_to_end);
    RUN(test_reword_migration);
    return test_summary();
}
