#include "statpub.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "backoff.h"
#include "bus.h"
#include "log.h"
#include "util.h"

#define TIMEOUT_MS 1000
#define RETRY_MAX_MS 10000   /* longest wait between attempts while Redis is unreachable */

struct statpub {
    pthread_t th;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    char *url, *key;
    char **fields;
    unsigned long long *values;   /* under mu */
    size_t n;
    int interval_ms, ttl_ms;
    statpub_gather_fn gather;
    void *arg;
    char **tnames;                /* text fields (under mu; set once) */
    size_t nt;
    statpub_text_fn fill;
    redisContext *c;              /* the thread's, then statpub_stop's */
    int failing;
};

char *statpub_key(char *out, size_t outlen, const char *prefix, const char *kind, const char *node)
{
    snprintf(out, outlen, "%s%s%s:%d", prefix, kind, node, (int)getpid());
    return out;
}

/* One HSET of every field plus PEXPIRE, pipelined. 0 ok, -1 (reason in err). */
static int publish(statpub *sp, char *err, size_t errlen)
{
    pthread_mutex_lock(&sp->mu);
    size_t nt = sp->nt;
    statpub_text_fn fill = sp->fill;
    char **tnames = sp->tnames;
    pthread_mutex_unlock(&sp->mu);
    unsigned long long *v = xcalloc(sp->n, sizeof *v);
    const char **argv = xcalloc(2 + 2 * (sp->n + nt), sizeof *argv);
    size_t *argl = xcalloc(2 + 2 * (sp->n + nt), sizeof *argl);
    char (*nums)[24] = xcalloc(sp->n, sizeof *nums);
    char (*texts)[STATPUB_TEXT_MAX] = nt ? xcalloc(nt, sizeof *texts) : NULL;
    char ttl[24];
    int argc = 0, rc = -1, drop = 0;
    redisReply *r;

    if (sp->c == NULL && (sp->c = bus_connect(sp->url, TIMEOUT_MS, err, errlen)) == NULL) goto fail;
    if (sp->gather) {
        sp->gather(sp->arg, v);
    } else {
        pthread_mutex_lock(&sp->mu);
        memcpy(v, sp->values, sp->n * sizeof *v);
        pthread_mutex_unlock(&sp->mu);
    }
    if (nt) fill(sp->arg, texts);
    argv[argc++] = "HSET";
    argv[argc++] = sp->key;
    for (size_t i = 0; i < sp->n; i++) {
        snprintf(nums[i], sizeof nums[i], "%llu", v[i]);
        argv[argc++] = sp->fields[i];
        argv[argc++] = nums[i];
    }
    for (size_t i = 0; i < nt; i++) {
        texts[i][STATPUB_TEXT_MAX - 1] = '\0';
        argv[argc++] = tnames[i];
        argv[argc++] = texts[i];
    }
    for (int i = 0; i < argc; i++) argl[i] = strlen(argv[i]);
    snprintf(ttl, sizeof ttl, "%d", sp->ttl_ms);
    redisAppendCommandArgv(sp->c, argc, argv, argl);
    redisAppendCommand(sp->c, "PEXPIRE %s %s", sp->key, ttl);
    rc = 0;
    for (int i = 0; i < 2; i++) {
        if (redisGetReply(sp->c, (void **)&r) != REDIS_OK) {
            snprintf(err, errlen, "Redis: %s", sp->c->errstr);
            redisFree(sp->c);
            sp->c = NULL;
            rc = -1;
            break;
        }
        if (r->type == REDIS_REPLY_ERROR && rc == 0) {
            snprintf(err, errlen, "Redis: %s", r->str);
            rc = -1;
        }
        /* Not the master any more, or one cut off from its replicas: find the master anew. */
        if (bus_reply_failover(r) || (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOREPLICAS", 10) == 0)) drop = 1;
        freeReplyObject(r);
    }
    if (drop && sp->c) {
        redisFree(sp->c);
        sp->c = NULL;
    }
fail:
    free(v);
    free(argv);
    free(argl);
    free(nums);
    free(texts);
    return rc;
}

static void *statpub_main(void *arg)
{
    statpub *sp = arg;
    backoff bo;   /* while failing: processes that lost one Redis do not all retry in step */

    backoff_init(&bo, sp->interval_ms, RETRY_MAX_MS);
    pthread_mutex_lock(&sp->mu);
    while (!sp->stop) {
        char err[256];
        int wait_ms = sp->interval_ms;
        pthread_mutex_unlock(&sp->mu);
        if (publish(sp, err, sizeof err) < 0) {
            if (!sp->failing) log_warn("statpub.failed", "key=%s err=\"%s\"", sp->key, err);
            sp->failing = 1;
            wait_ms = backoff_next(&bo);
        } else if (sp->failing) {
            log_info("statpub.resumed", "key=%s", sp->key);
            sp->failing = 0;
            backoff_reset(&bo);
        }
        /* The condition variable runs on CLOCK_MONOTONIC, as now_us does. */
        uint64_t at = now_us() + (uint64_t)wait_ms * 1000u;
        struct timespec until = {(time_t)(at / 1000000u), (long)(at % 1000000u) * 1000L};
        pthread_mutex_lock(&sp->mu);
        while (!sp->stop && pthread_cond_timedwait(&sp->cv, &sp->mu, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&sp->mu);
    return NULL;
}

statpub *statpub_start(const char *redis_url, const char *key, const char *const *fields, size_t n,
                       statpub_gather_fn gather, void *arg)
{
    statpub *sp = xcalloc(1, sizeof *sp);
    pthread_condattr_t ca;
    int rc;

    sp->url = xstrdup(redis_url);
    sp->key = xstrdup(key);
    sp->n = n;
    sp->fields = xcalloc(n ? n : 1, sizeof *sp->fields);
    for (size_t i = 0; i < n; i++) sp->fields[i] = xstrdup(fields[i]);
    sp->values = xcalloc(n ? n : 1, sizeof *sp->values);
    sp->interval_ms = STATPUB_INTERVAL_MS;
    sp->ttl_ms = STATPUB_TTL_MS;
    sp->gather = gather;
    sp->arg = arg;
    pthread_mutex_init(&sp->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sp->cv, &ca);
    pthread_condattr_destroy(&ca);
    rc = pthread_create(&sp->th, NULL, statpub_main, sp);
    if (rc != 0) log_error("statpub.thread_failed", "key=%s err=\"%s\"", key, strerror(rc));
    else sp->running = 1;
    return sp;
}

void statpub_texts(statpub *sp, const char *const *names, size_t n, statpub_text_fn fill)
{
    char **copy;
    if (sp == NULL || n == 0 || fill == NULL) return;
    copy = xcalloc(n, sizeof *copy);
    for (size_t i = 0; i < n; i++) copy[i] = xstrdup(names[i]);
    pthread_mutex_lock(&sp->mu);
    if (sp->tnames == NULL) {
        sp->tnames = copy;
        sp->nt = n;
        sp->fill = fill;
        copy = NULL;
    }
    pthread_mutex_unlock(&sp->mu);
    if (copy) {                   /* a second call: the first one stays */
        for (size_t i = 0; i < n; i++) free(copy[i]);
        free(copy);
    }
}

void statpub_set(statpub *sp, const unsigned long long *values)
{
    if (sp == NULL) return;
    pthread_mutex_lock(&sp->mu);
    memcpy(sp->values, values, sp->n * sizeof *values);
    pthread_mutex_unlock(&sp->mu);
}

void statpub_stop(statpub *sp)
{
    if (sp == NULL) return;
    if (sp->running) {
        pthread_mutex_lock(&sp->mu);
        sp->stop = 1;
        pthread_cond_signal(&sp->cv);
        pthread_mutex_unlock(&sp->mu);
        pthread_join(sp->th, NULL);
    }
    if (sp->c) {   /* gone at once rather than after the expiry */
        redisReply *r = redisCommand(sp->c, "DEL %s", sp->key);
        if (r) freeReplyObject(r);
        redisFree(sp->c);
    }
    for (size_t i = 0; i < sp->n; i++) free(sp->fields[i]);
    free(sp->fields);
    for (size_t i = 0; i < sp->nt; i++) free(sp->tnames[i]);
    free(sp->tnames);
    free(sp->values);
    free(sp->url);
    free(sp->key);
    pthread_cond_destroy(&sp->cv);
    pthread_mutex_destroy(&sp->mu);
    free(sp);
}
