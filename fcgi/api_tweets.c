#include "api_tweets.h"

#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "buf.h"
#include "bus.h"
#include "filter.h"
#include "log.h"
#include "selection.h"
#include "store.h"
#include "util.h"

/* This thread's store (http_store), opened (and its schema checked) on
 * first use. NULL with the reason in err when it cannot be used now. */
static store *thread_store(http_req *req, char *err, size_t errlen)
{
    store *s = http_store(req);
    if (s) return s;
    s = store_open(http_config(req)->db_url, err, errlen);
    if (s == NULL) return NULL;
    if (store_check(s, err, errlen) < 0) {
        store_close(s);
        return NULL;
    }
    http_set_store(req, s);
    return s;
}

/* Drop this thread's store after an error, so the next request reconnects. */
static void thread_store_drop(http_req *req)
{
    http_set_store(req, NULL);
}

int api_tweets_db_check(http_req *req, char *err, size_t errlen)
{
    if (http_config(req)->db_url == NULL) return 1;
    store *s = thread_store(req, err, errlen);
    if (s == NULL) return -1;
    if (store_ping(s, err, errlen) < 0) {
        thread_store_drop(req);
        return -1;
    }
    return 0;
}

/* Load saved filter id from Redis into f. 0 ok; -1 after answering. */
static int load_filter(http_req *req, const char *id, filter *f)
{
    const config *cfg = http_config(req);
    char key[512], why[256];
    if (strlen(id) >= FILTER_ID_MAX || strspn(id, "0123456789") != strlen(id)) {
        http_error(req, 404, "not_found", "no filter with id '%.40s'", id);
        return -1;
    }
    bus_key(key, sizeof key, cfg->prefix, BUS_KEY_FILTERS);
    redisReply *r = redisconn_command(http_redis(req), "HGET %s %s", key, id);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        http_error_headers(req, 503, "Retry-After: 2\r\n", "redis_unavailable", "cannot read filter %s: %s", id,
                           r ? r->str : redisconn_error(http_redis(req)));
        if (r) freeReplyObject(r);
        return -1;
    }
    if (r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        http_error(req, 404, "not_found", "no filter with id '%s'", id);
        return -1;
    }
    int rc = filter_load(r->str, r->len, f, why, sizeof why);
    freeReplyObject(r);
    if (rc < 0) {
        log_error("api_tweets.bad_filter", "id=%s reason=\"%s\"", id, why);
        http_error_headers(req, 503, "Retry-After: 30\r\n", "filter_unreadable",
                           "filter %s is stored in a form this responder cannot read", id);
        return -1;
    }
    return 0;
}

void api_tweets_get(http_req *req)
{
    static const char *const allowed[] = {"q", "filter", "before", "limit", "access_token", NULL};
    const config *cfg = http_config(req);
    const query *qs = http_query(req);
    const char *unknown = query_unknown_key(qs, allowed);
    const char *q = http_param(req, "q");

    authz_grant g;
    if (authz_require(req, AUTHZ_READ, &g) < 0) return;   /* auth-reads: the archive is a read too */
    int in_scope = authz_scope(req, &g, AUTHZ_TWEETS);    /* a scoped reader: filter= within its scope */
    authz_grant_free(&g);
    if (in_scope < 0) return;
    const char *before = http_param(req, "before"), *limit = http_param(req, "limit");
    char err[512];
    store_query sq = {.q = q, .limit = STORE_LIMIT_DEFAULT};
    char *ids[SELECTION_IDS_MAX];
    size_t nids = 0;
    filter *fs = NULL;
    store_filter *sf = NULL;
    store_result res = {0};
    buf body = BUF_INIT;

    if (unknown) {
        http_error(req, 400, "bad_request", "unknown parameter '%.60s' (allowed: q, filter, before, limit)", unknown);
        return;
    }
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], "filter") != 0 && query_count(qs, allowed[i]) > 1) {
            http_error(req, 400, "bad_request", "parameter '%s' given more than once", allowed[i]);
            return;
        }
    /* filter= as /stream takes it: repeated or comma-separated, any of them. */
    if (selection_filter_ids(req, ids, &nids) < 0) return;
    if (limit) {
        long long v;
        const char *why;
        if (parse_ll(limit, 1, STORE_LIMIT_MAX, &v, &why) < 0) {
            http_error(req, 400, "bad_request", "limit: %s (1 to %d)", why, STORE_LIMIT_MAX);
            goto done;
        }
        sq.limit = (int)v;
    }
    if (before) {
        if (bus_id_parse(before, strlen(before), &sq.before) < 0) {
            http_error(req, 400, "bad_request", "before: not a stream id (<ms>-<seq>)");
            goto done;
        }
        sq.has_before = 1;
    }
    if (store_query_check(&sq, err, sizeof err) < 0) {
        http_error(req, 400, "bad_request", "%s", err);
        goto done;
    }
    if (cfg->db_url == NULL) {
        http_error_headers(req, 503, "Retry-After: 30\r\n", "archive_unavailable",
                   "no archive is configured: start birdfeed-fcgi with --db sqlite:PATH or postgres://… "
                   "(or BIRDFEED_DB) and run birdfeed archive");
        goto done;
    }
    fs = nids ? xcalloc(nids, sizeof *fs) : NULL;
    sf = nids ? xcalloc(nids, sizeof *sf) : NULL;
    for (size_t i = 0; i < nids; i++) {
        if (load_filter(req, ids[i], &fs[i]) < 0) goto done;
        sf[i] = (store_filter){(const char *const *)fs[i].track, fs[i].ntrack, (const char *const *)fs[i].lang,
                               fs[i].nlang};
        store_query one = sq;
        one.filters = &sf[i];
        one.nfilters = 1;
        if (store_query_check(&one, err, sizeof err) < 0) {
            http_error(req, 400, "bad_request", "filter %s: %s", ids[i], err);
            goto done;
        }
    }
    sq.filters = sf;
    sq.nfilters = nids;
    store *s = thread_store(req, err, sizeof err);
    if (s == NULL) {
        log_warn("api_tweets.unavailable", "error=\"%s\"", err);
        http_error_headers(req, 503, "Retry-After: 5\r\n", "archive_unavailable", "the archive is unavailable: %s",
                           err);
        goto done;
    }
    int rc = store_search(s, &sq, &res, err, sizeof err);
    if (rc < 0) {
        /* A kept connection may have died with its server (a restart, a
         * failover): reconnect and try once more before answering 503. */
        log_warn("api_tweets.search_failed", "error=\"%s\" retry=1", err);
        thread_store_drop(req);
        s = thread_store(req, err, sizeof err);
        if (s) rc = store_search(s, &sq, &res, err, sizeof err);
    }
    if (rc < 0) {
        log_error("api_tweets.search_failed", "error=\"%s\"", err);
        thread_store_drop(req);
        http_error_headers(req, 503, "Retry-After: 2\r\n", "archive_unavailable", "the archive failed to answer: %s",
                           err);
        goto done;
    }
    store_result_json(&res, &body);
    http_reply_json(req, 200, body.data, NULL);
done:
    for (size_t i = 0; i < nids; i++) {
        if (fs) filter_free(&fs[i]);     /* the ones not loaded are zero: nothing to free */
        free(ids[i]);
    }
    free(fs);
    free(sf);
    store_result_free(&res);
    buf_free(&body);
}
