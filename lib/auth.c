#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "secretfile.h"
#include "util.h"

#define AUTH_FILE_MAX (1 << 20)

struct auth {
    pthread_rwlock_t lock;
    char *path;               /* NULL: no tokens file */
    char **tokens;
    size_t n;
};

static void free_tokens(char **t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        /* Do not leave secrets in freed memory. */
        explicit_bzero(t[i], strlen(t[i]));
        free(t[i]);
    }
    free(t);
}

static int token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

int auth_parse(const char *text, size_t len, char ***out, size_t *n, char *err, size_t errlen)
{
    char **v = NULL;
    size_t cnt = 0, cap = 0, lineno = 0, i = 0;

    while (i < len) {
        size_t s = i, e;
        while (i < len && text[i] != '\n') i++;
        e = i;
        if (i < len) i++;
        lineno++;
        while (s < e && (text[s] == ' ' || text[s] == '\t')) s++;
        while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r')) e--;
        if (s == e || text[s] == '#') continue;
        for (size_t k = s; k < e; k++) {
            if (!token_char((unsigned char)text[k])) {
                snprintf(err, errlen,
                         "line %zu: a token may only hold A-Z a-z 0-9 - . _ ~ + / = (found a byte 0x%02x)", lineno,
                         (unsigned char)text[k]);
                free_tokens(v, cnt);
                return -1;
            }
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[cnt++] = xstrndup(text + s, e - s);
    }
    *out = v;
    *n = cnt;
    return 0;
}

static int load(auth *a, char *err, size_t errlen)
{
    buf text = BUF_INIT;
    char **v = NULL, **old;
    size_t n = 0, oldn;
    char why[256];
    int rc = -1;

    if (a->path == NULL) return 0;
    if (secretfile_read(a->path, AUTH_FILE_MAX, "auth.file_readable", &text, err, errlen) < 0) goto fail;
    if (auth_parse(text.data ? text.data : "", text.len, &v, &n, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", a->path, why);
        goto fail;
    }
    if (n == 0) log_warn("auth.no_tokens", "file=%s hint=\"no request can change state\"", a->path);
    pthread_rwlock_wrlock(&a->lock);
    old = a->tokens;
    oldn = a->n;
    a->tokens = v;
    a->n = n;
    pthread_rwlock_unlock(&a->lock);
    free_tokens(old, oldn);
    log_info("auth.loaded", "file=%s tokens=%zu", a->path, n);
    rc = 0;
fail:
    if (text.data) explicit_bzero(text.data, text.len);
    buf_free(&text);
    return rc;
}

auth *auth_new(const char *path, char *err, size_t errlen)
{
    auth *a = xcalloc(1, sizeof *a);
    pthread_rwlock_init(&a->lock, NULL);
    a->path = path ? xstrdup(path) : NULL;
    if (load(a, err, errlen) < 0) {
        auth_free(a);
        return NULL;
    }
    return a;
}

void auth_free(auth *a)
{
    if (a == NULL) return;
    free_tokens(a->tokens, a->n);
    free(a->path);
    pthread_rwlock_destroy(&a->lock);
    free(a);
}

int auth_reload(auth *a, char *err, size_t errlen)
{
    return load(a, err, errlen);
}

size_t auth_count(auth *a)
{
    pthread_rwlock_rdlock(&a->lock);
    size_t n = a->n;
    pthread_rwlock_unlock(&a->lock);
    return n;
}

int auth_check(auth *a, const char *header)
{
    int ok = 0;

    if (a == NULL || header == NULL) return 0;
    while (*header == ' ' || *header == '\t') header++;
    if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t')) return 0;
    const char *t = header + 6;
    while (*t == ' ' || *t == '\t') t++;
    size_t len = strlen(t);
    while (len && (t[len - 1] == ' ' || t[len - 1] == '\t')) len--;
    if (len == 0) return 0;
    pthread_rwlock_rdlock(&a->lock);
    /* Compare with every token, never stopping early. */
    for (size_t i = 0; i < a->n; i++) ok |= secure_equal(t, len, a->tokens[i], strlen(a->tokens[i]));
    pthread_rwlock_unlock(&a->lock);
    return ok;
}
