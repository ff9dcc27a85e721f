#include "selection.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redisconn.h"
#include "util.h"

int selection_filter_ids(http_req *req, char *ids[SELECTION_IDS_MAX], size_t *n)
{
    const query *q = http_query(req);
    size_t nf = query_count(q, "filter");

    *n = 0;
    for (size_t i = 0; i < nf; i++) {
        const char *v = query_get_nth(q, "filter", i);
        if (*v == '\0') goto empty;
        while (*v) {
            size_t len = strcspn(v, ",");
            if (len == 0) goto empty;
            if (*n == SELECTION_IDS_MAX) {
                http_error(req, 400, "bad_request", "parameter 'filter': more than %d filters", SELECTION_IDS_MAX);
                goto fail;
            }
            ids[(*n)++] = xstrndup(v, len);
            v += len + (v[len] == ',');
        }
    }
    return 0;
empty:
    http_error(req, 400, "bad_request", "parameter 'filter': empty filter id");
fail:
    while (*n > 0) free(ids[--*n]);
    return -1;
}

int selection_from_request(http_req *req, filterset_sel **sel)
{
    const query *q = http_query(req);
    size_t nq = query_count(q, "q"), nids = 0;
    char *ids[SELECTION_IDS_MAX];
    char err[512];
    int status, rc = -1;

    *sel = NULL;
    if (nq > 1) {
        http_error(req, 400, "bad_request", "parameter 'q' given %zu times (separate phrases with commas)", nq);
        return -1;
    }
    if (selection_filter_ids(req, ids, &nids) < 0) return -1;
    if (nids == 0 && nq == 0) {
        rc = 0;
        goto done;
    }
    filterdb db = redisconn_filterdb(http_redis(req));
    *sel = filterset_select(http_proc(req)->filters, (const char *const *)ids, nids, nq ? query_get(q, "q") : NULL, &db,
                            &status, err, sizeof err);
    if (*sel) {
        rc = 0;
    } else if (status == 404) {
        http_error(req, 404, "unknown_filter", "%s", err);
    } else if (status == 503) {
        log_info("stream.filters_unavailable", "err=\"%s\"", err);
        rc = SELECTION_AGAIN;
    } else {
        http_error(req, 400, "bad_request", "parameter %s", err);
    }
done:
    for (size_t i = 0; i < nids; i++) free(ids[i]);
    return rc;
}

struct found {
    bus_id id;
    char *json;
    size_t len;
};

int selection_newest(http_req *req, const char *key, filterset_sel *sel, size_t n, size_t max_bytes,
                     selection_add_fn add, void *arg, bus_id *newest)
{
    struct found *v = n ? xcalloc(n, sizeof *v) : NULL;
    size_t nv = 0, scanned = 0, bytes = 0;
    char end[BUS_ID_MAX + 1] = "+";
    int rc = -1, first = 1, full = 0;

    newest->ms = newest->seq = 0;
    while ((nv < n && !full) || first) {
        redisReply *r = redisconn_read(http_redis(req), "XREVRANGE %s %s - COUNT %d", key, end, SELECTION_SCAN_PAGE);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
            if (r) freeReplyObject(r);
            goto done;
        }
        size_t got = r->elements;
        bus_id id = {0, 0};
        for (size_t i = 0; i < got; i++) {
            const char *json;
            size_t len;
            if (bus_entry_parse(r->element[i], &id, &json, &len) < 0) {
                bus_entry_id(r->element[i], &id);            /* no tweet: the next page starts below it */
                continue;
            }
            if (first) {
                *newest = id;
                first = 0;
            }
            if (nv < n && !full && filterset_sel_matches(sel, json, len)) {
                if (nv > 0 && bytes + len > max_bytes) {
                    full = 1;
                    continue;
                }
                bytes += len;
                v[nv].id = id;
                v[nv].json = xstrndup(json, len);
                v[nv].len = len;
                nv++;
            }
        }
        freeReplyObject(r);
        first = 0;
        scanned += got;
        if (full || got < SELECTION_SCAN_PAGE || (id.ms == 0 && id.seq == 0)) break;
        if (scanned >= SELECTION_SCAN_MAX) {
            log_info("stream.preload_scan_limit", "scanned=%zu found=%zu wanted=%zu", scanned, nv, n);
            break;
        }
        bus_id_format(bus_id_prev(id), end);
    }
    for (size_t i = nv; i > 0; i--) add(v[i - 1].id, v[i - 1].json, v[i - 1].len, arg);
    rc = 0;
done:
    for (size_t i = 0; i < nv; i++) free(v[i].json);
    free(v);
    return rc;
}
