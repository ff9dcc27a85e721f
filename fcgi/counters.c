#include "counters.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "util.h"

/* One cache line each: acceptor threads bump different ones. */
struct counters {
    struct {
        _Atomic unsigned long long v;
        char pad[64 - sizeof(unsigned long long)];
    } c[COUNTERS];
};

counters *counters_new(void)
{
    return xcalloc(1, sizeof(counters));
}

void counters_free(counters *c)
{
    free(c);
}

void counters_add(counters *c, enum counter which, unsigned long long n)
{
    if ((unsigned)which < COUNTERS) atomic_fetch_add_explicit(&c->c[which].v, n, memory_order_relaxed);
}

void counters_http_status(counters *c, int status)
{
    if (status >= 100 && status <= 599) counters_add(c, (enum counter)(COUNTER_HTTP_1XX + status / 100 - 1), 1);
}

unsigned long long counters_get(const counters *c, enum counter which)
{
    return (unsigned)which < COUNTERS ? atomic_load_explicit(&c->c[which].v, memory_order_relaxed) : 0;
}
