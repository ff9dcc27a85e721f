/* Unit tests for bearer-token auth: parsing, checking, reloading. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "test.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) abort();
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
}

static void test_parse(void)
{
    char **v;
    size_t n;
    char err[256];
    const char *text = "# comment\n\n  tok-en_1.~+/=  \r\nsecond\n\t\n#x\nthird";
    ASSERT_EQ(auth_parse(text, strlen(text), &v, &n, err, sizeof err), 0);
    ASSERT_EQ(n, 3);
    ASSERT_STREQ(v[0], "tok-en_1.~+/=");
    ASSERT_STREQ(v[1], "second");
    ASSERT_STREQ(v[2], "third");
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
    ASSERT_EQ(auth_parse("good\nbad token\n", 16, &v, &n, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "line 2:");
    ASSERT(strstr(err, "token") == NULL || strstr(err, "bad token") == NULL);   /* never echoed */
}

static void test_check_and_reload(void)
{
    char path[] = "/tmp/birdfeed-auth-XXXXXX";
    int fd = mkstemp(path);
    char err[256];
    ASSERT(fd >= 0);
    close(fd);
    write_file(path, "alpha\nbeta\n");
    auth *a = auth_new(path, err, sizeof err);
    ASSERT(a != NULL);
    ASSERT_EQ(auth_count(a), 2);
    ASSERT_EQ(auth_check(a, "Bearer alpha"), 1);
    ASSERT_EQ(auth_check(a, "bearer   beta  "), 1);
    ASSERT_EQ(auth_check(a, "Bearer alph"), 0);
    ASSERT_EQ(auth_check(a, "Bearer alphaa"), 0);
    ASSERT_EQ(auth_check(a, "Basic alpha"), 0);
    ASSERT_EQ(auth_check(a, "Beareralpha"), 0);
    ASSERT_EQ(auth_check(a, "Bearer "), 0);
    ASSERT_EQ(auth_check(a, NULL), 0);
    write_file(path, "gamma\n");
    ASSERT_EQ(auth_reload(a, err, sizeof err), 0);
    ASSERT_EQ(auth_check(a, "Bearer alpha"), 0);
    ASSERT_EQ(auth_check(a, "Bearer gamma"), 1);
    /* A broken file keeps the old tokens. */
    write_file(path, "no good\n");
    ASSERT_EQ(auth_reload(a, err, sizeof err), -1);
    ASSERT_CONTAINS(err, ": line 1:");
    ASSERT_EQ(auth_check(a, "Bearer gamma"), 1);
    unlink(path);
    ASSERT_EQ(auth_reload(a, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "No such file");
    ASSERT_EQ(auth_check(a, "Bearer gamma"), 1);
    auth_free(a);
    ASSERT(auth_new(path, err, sizeof err) == NULL);
}

static void test_no_file(void)
{
    char err[256];
    auth *a = auth_new(NULL, err, sizeof err);
    ASSERT(a != NULL);
    ASSERT_EQ(auth_count(a), 0);
    ASSERT_EQ(auth_check(a, "Bearer anything"), 0);
    auth_free(a);
    auth_free(NULL);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_check_and_reload);
    RUN(test_no_file);
    return test_summary();
}
