/* statpub — a process publishes its figures into Redis for the deployment's
 * metrics (processes on many hosts share nothing but Redis: no shared files,
 * no shared memory).
 *
 * A thread of its own, with its own Redis connection (1 s timeouts, so the
 * caller's threads never wait on Redis), writes the fields into one hash
 * every STATPUB_INTERVAL_MS (HSET + PEXPIRE STATPUB_TTL_MS, pipelined), at
 * once on start. A process
 * that dies stops refreshing it and its hash expires; statpub_stop deletes it
 * at once. Values are either pushed by the caller (statpub_set, any thread)
 * or pulled by a gather function just before each write. Redis being
 * unreachable is logged once per outage; writing resumes when it is back. */
#ifndef BIRDFEED_STATPUB_H
#define BIRDFEED_STATPUB_H

#include <stddef.h>

#define STATPUB_INTERVAL_MS 2000
#define STATPUB_TTL_MS (3 * STATPUB_INTERVAL_MS)
#define STATPUB_TEXT_MAX 320         /* a text field's value, with its NUL */

typedef struct statpub statpub;

/* Fill values[0..n) (n = the number of fields), from the publisher thread. */
typedef void (*statpub_gather_fn)(void *arg, unsigned long long *values);

/* The hash key of this process: <prefix><kind><node>:<pid> (kind is e.g.
 * "metrics:proc:", node the config's node setting: this host's name), into
 * out (truncated to outlen). Returns out. */
char *statpub_key(char *out, size_t outlen, const char *prefix, const char *kind, const char *node);

/* Start publishing fields[0..n) (names copied; values start at 0) into key
 * at redis_url (bus_connect URL). gather may be NULL (then values come from
 * statpub_set). Never NULL; a thread that cannot be created is logged and
 * nothing is published. */
statpub *statpub_start(const char *redis_url, const char *key, const char *const *fields, size_t n,
                       statpub_gather_fn gather, void *arg);
/* Text fields written beside the numbers (e.g. an address): before each
 * write, from the publisher thread, fill(arg, values) puts names[i]'s value
 * into values[i] (NUL-terminated; "" publishes an empty string); arg is
 * statpub_start's. Call once, right after statpub_start, on the thread that
 * started it: writes made before lack them. Names are copied. */
typedef void (*statpub_text_fn)(void *arg, char (*values)[STATPUB_TEXT_MAX]);
void statpub_texts(statpub *sp, const char *const *names, size_t n, statpub_text_fn fill);
/* Any thread: the values to publish next (n of them, in the fields' order). */
void statpub_set(statpub *sp, const unsigned long long *values);
/* Stop the thread, delete the hash, free everything. sp may be NULL. */
void statpub_stop(statpub *sp);

#endif
