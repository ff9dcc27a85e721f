#include "backoff.h"

#include <stdint.h>

void backoff_init(backoff *b, int base_ms, int max_ms)
{
    b->base_ms = base_ms < 1 ? 1 : base_ms;
    b->max_ms = max_ms < b->base_ms ? b->base_ms : max_ms;
    b->attempt = 0;
    b->seed = (unsigned)(uintptr_t)b ^ 0x9e3779b9u;
}

void backoff_reset(backoff *b)
{
    b->attempt = 0;
}

int backoff_next(backoff *b)
{
    long long d = b->base_ms;
    for (int i = 0; i < b->attempt && d < b->max_ms; i++) d *= 2;
    if (d > b->max_ms) d = b->max_ms;
    if (b->attempt < 1000) b->attempt++;
    b->seed = b->seed * 1103515245u + 12345u;
    long long quarter = d / 4;
    if (quarter > 0) d -= (long long)((b->seed >> 8) % (unsigned)(quarter + 1));
    return d < 1 ? 1 : (int)d;
}
