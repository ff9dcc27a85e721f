/* search_bench — latency of archive searches (lib/store) over one connection.
 *
 *   search_bench --db URL [--rounds N] [--limit N] LABEL=QUERY…
 *
 * For each LABEL=QUERY (QUERY may be empty: the newest tweets; a QUERY
 * starting with "filter:" is a comma-separated list of phrases searched as a
 * saved filter; a LABEL ending in "+page" follows `next` to the second page
 * each round), runs it N times and prints count, p50, p95, p99 and max in
 * milliseconds, plus the number of results of the first page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    long long rounds = 200, limit = 20;
    const char *why;
    char err[512];
    int first = 1;

    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        if (first + 1 >= argc) break;
        if (strcmp(argv[first], "--db") == 0) url = argv[first + 1];
        else if (strcmp(argv[first], "--rounds") == 0 && parse_ll(argv[first + 1], 1, 1000000, &rounds, &why) == 0) {}
        else if (strcmp(argv[first], "--limit") == 0 && parse_ll(argv[first + 1], 1, STORE_LIMIT_MAX, &limit, &why) == 0) {}
        else {
            fprintf(stderr, "search_bench: bad option %s %s\n", argv[first], argv[first + 1]);
            return 2;
        }
    }
    if (url == NULL || first >= argc) {
        fprintf(stderr, "usage: search_bench --db URL [--rounds N] [--limit N] LABEL=QUERY…\n");
        return 2;
    }
    store *s = store_open(url, err, sizeof err);
    if (s == NULL || store_check(s, err, sizeof err) < 0) {
        fprintf(stderr, "search_bench: %s\n", err);
        store_close(s);
        return 3;
    }
    printf("%-14s %8s %8s %8s %8s %8s %8s\n", "query", "runs", "results", "p50_ms", "p95_ms", "p99_ms", "max_ms");
    uint64_t *lat = xcalloc((size_t)rounds, sizeof *lat);
    int rc = 0;
    for (int a = first; a < argc; a++) {
        char *label = xstrdup(argv[a]), *eq = strchr(label, '=');
        if (eq == NULL) {
            fprintf(stderr, "search_bench: %s is not LABEL=QUERY\n", argv[a]);
            free(label);
            rc = 2;
            break;
        }
        *eq = '\0';
        char *text = eq + 1, *phrases[64];
        size_t nph = 0;
        store_query q = {.limit = (int)limit};
        store_filter f = {0};
        if (strncmp(text, "filter:", 7) == 0) {
            for (char *p = text + 7, *tok; nph < 64 && (tok = strtok_r(p, ",", &p)) != NULL;) phrases[nph++] = tok;
            f.phrases = (const char *const *)phrases;
            f.nphrases = nph;
            q.filters = &f;
            q.nfilters = 1;
        } else {
            q.q = text;
        }
        int paged = strlen(label) > 5 && strcmp(label + strlen(label) - 5, "+page") == 0;
        size_t results = 0;
        for (long long r = 0; r < rounds; r++) {
            store_result res;
            store_query qq = q;
            uint64_t t0 = now_us();
            if (store_search(s, &qq, &res, err, sizeof err) < 0) {
                fprintf(stderr, "search_bench: %s: %s\n", label, err);
                rc = 1;
                break;
            }
            if (paged && res.has_next) {
                bus_id_parse(res.next, strlen(res.next), &qq.before);
                qq.has_before = 1;
                store_result_free(&res);
                if (store_search(s, &qq, &res, err, sizeof err) < 0) {
                    fprintf(stderr, "search_bench: %s: %s\n", label, err);
                    rc = 1;
                    break;
                }
            }
            lat[r] = now_us() - t0;
            if (r == 0) results = res.n;
            store_result_free(&res);
        }
        if (rc == 0) {
            qsort(lat, (size_t)rounds, sizeof *lat, cmp_u64);
            printf("%-14s %8lld %8zu %8.2f %8.2f %8.2f %8.2f\n", label, rounds, results, pct(lat, (size_t)rounds, 0.50),
                   pct(lat, (size_t)rounds, 0.95), pct(lat, (size_t)rounds, 0.99), (double)lat[rounds - 1] / 1000.0);
        }
        free(label);
        if (rc) break;
    }
    free(lat);
    store_close(s);
    return rc;
}
