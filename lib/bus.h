/* bus — birdfeed's Redis layout (DESIGN §2) and connections to it.
 *
 * Keys, all under the configured prefix:
 *   tweets       stream, one field `t` = canonical tweet JSON; entry id = SSE event id
 *   live         pub/sub, one message per tweet: "<stream-id> <canonical json>"
 *   filters      hash, filter id → filter JSON
 *   filters:seq  string, id counter
 *   control      pub/sub, filter created/changed/deleted notices
 *   metrics:proc:<host>:<pid>, metrics:ingest:<host>:<pid>
 *                hash, one process's figures (expire unless refreshed)
 */
#ifndef BIRDFEED_BUS_H
#define BIRDFEED_BUS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define BUS_KEY_TWEETS   "tweets"
#define BUS_KEY_LIVE     "live"
#define BUS_KEY_FILTERS  "filters"
#define BUS_KEY_SEQ      "filters:seq"
#define BUS_KEY_CONTROL  "control"
/* Per-process figures for GET /api/metrics (lib/statpub.h), hashes named
 * <prefix><kind><hostname>:<pid>, expiring unless refreshed. */
#define BUS_KEY_METRICS_PROC   "metrics:proc:"     /* responder processes */
#define BUS_KEY_METRICS_INGEST "metrics:ingest:"   /* birdfeed ingest processes */

/* A parsed Redis URL: redis://[[user]:password@]host[:port][/db] or
 * unix:/path[?db=N] (also unix:///path). */
typedef struct bus_url {
    int is_unix;
    char host[256];
    int port;
    char path[256];
    char password[256];
    int db;
} bus_url;

/* Parse url into u. 0 ok, -1 with the reason in err. Does no I/O. */
int bus_url_parse(const char *url, bus_url *u, char *err, size_t errlen);

/* Connect to the Redis at url (AUTH and SELECT done), with a connect and
 * command timeout of timeout_ms (0: none). Returns a context the caller frees
 * with redisFree, or NULL with the reason in err. */
redisContext *bus_connect(const char *url, int timeout_ms, char *err, size_t errlen);
/* Re-run AUTH and SELECT on a context after redisReconnect. 0 ok, -1 error. */
int bus_after_reconnect(redisContext *c, const char *url, char *err, size_t errlen);

/* prefix + name into out (truncated to n). Returns out. */
char *bus_key(char *out, size_t n, const char *prefix, const char *name);

/* Stream entry ids ("<ms>-<seq>"), the SSE event ids. */
typedef struct bus_id {
    uint64_t ms;
    uint64_t seq;
} bus_id;

#define BUS_ID_MAX 44   /* two 20-digit numbers, '-', NUL */

/* Parse exactly "<ms>-<seq>" (or "<ms>", seq 0) from s[0..n). 0 ok, -1 invalid. */
int bus_id_parse(const char *s, size_t n, bus_id *id);
int bus_id_cmp(bus_id a, bus_id b);                 /* <0, 0, >0 */
char *bus_id_format(bus_id id, char out[BUS_ID_MAX]);
/* The id just after / before id (for exclusive XRANGE bounds). */
bus_id bus_id_next(bus_id id);
bus_id bus_id_prev(bus_id id);

/* A stream entry as XRANGE/XREAD return it, [id, [field, value, …]]: its id
 * and its `t` field (the canonical tweet, pointing into the reply). 0 ok,
 * -1 when the entry has another shape, a bad id or no `t`. */
int bus_entry_parse(const redisReply *e, bus_id *id, const char **json, size_t *len);

#endif
