/* backoff — delays between reconnect attempts: exponential from a base,
 * capped, with jitter so that many clients don't retry in step. No I/O. */
#ifndef BIRDFEED_BACKOFF_H
#define BIRDFEED_BACKOFF_H

typedef struct backoff {
    int base_ms;      /* first delay */
    int max_ms;       /* cap */
    int attempt;      /* attempts made since the last reset */
    unsigned seed;    /* jitter state */
} backoff;

/* Start a backoff: the first delay is about base_ms, each next one doubles,
 * never above max_ms. base_ms and max_ms are clamped to at least 1. */
void backoff_init(backoff *b, int base_ms, int max_ms);
/* The delay before the next attempt, in ms (between 3/4 and 1 times the
 * nominal delay), and count the attempt. */
int backoff_next(backoff *b);
/* After a success: the next failure starts again from base_ms. */
void backoff_reset(backoff *b);

#endif
