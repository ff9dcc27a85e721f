/* bus — birdfeed's Redis layout (the keys below) and connections to it.
 *
 * Keys, all under the configured prefix:
 *   tweets       stream, one field `t` = canonical tweet JSON; entry id = SSE event id
 *   live         pub/sub, one message per tweet: "<stream-id> <canonical json>"
 *   filters      hash, filter id → filter JSON
 *   filters:seq  string, id counter
 *   control      pub/sub, filter created/changed/deleted notices
 *   ingest:fence pub/sub, nobody listens: ingest publishes an empty message
 *                there on a new connection so that WAIT covers the data the
 *                (new) master held before (lib/pub.h)
 *   metrics:proc:<node>:<pid>, metrics:ingest:<node>:<pid>
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
#define BUS_KEY_FENCE    "ingest:fence"
/* Per-process figures for GET /api/metrics (lib/statpub.h), hashes named
 * <prefix><kind><node>:<pid>, expiring unless refreshed. */
#define BUS_KEY_METRICS_PROC   "metrics:proc:"     /* responder processes */
#define BUS_KEY_METRICS_INGEST "metrics:ingest:"   /* birdfeed ingest processes */

/* A parsed Redis URL of one server: redis://[[user]:password@]host[:port][/db]
 * or unix:/path[?db=N] (also unix:///path). Sentinel URLs: lib/sentinel.h. */
typedef struct bus_url {
    int is_unix;
    char host[256];
    int port;
    char path[256];
    char password[256];
    int db;
} bus_url;

/* Parse a one-server url into u. 0 ok, -1 with the reason in err. No I/O. */
int bus_url_parse(const char *url, bus_url *u, char *err, size_t errlen);

/* Is url a valid Redis URL (redis://, unix: or redis+sentinel://)? 0 yes;
 * -1 with the reason in err. No I/O. */
int bus_url_check(const char *url, char *err, size_t errlen);

/* Where a connection went: "host:port" (or the socket path) and what ROLE
 * said the server is (enum sentinel_role_kind; -1 when not asked). */
typedef struct bus_peer {
    char addr[300];
    int role;
} bus_peer;

/* Connect to the Redis master at url, with a connect and command timeout of
 * timeout_ms (0: none), and run AUTH and SELECT. A redis+sentinel:// URL is
 * resolved anew on every call (lib/sentinel.h) and what the Sentinels name
 * must answer ROLE with "master". This is the one way birdfeed makes a Redis
 * connection, first or again after an error: a reconnect is a new
 * bus_connect, so AUTH, SELECT and the ROLE check are never skipped and a
 * failover is followed. Returns a context the caller frees with redisFree,
 * or NULL with the reason in err. */
redisContext *bus_connect(const char *url, int timeout_ms, char *err, size_t errlen);
/* The same, and where it went into *peer (may be NULL); with a peer, a plain
 * URL's ROLE is asked and reported too, not checked. */
redisContext *bus_connect_peer(const char *url, int timeout_ms, bus_peer *peer, char *err, size_t errlen);
/* Connect to a replica of the master that the Sentinels of url (a
 * redis+sentinel:// URL) monitor: one they list as up and linked, whose ROLE
 * says it is a replica in sync. Replicas whose address is one of node's
 * (node is a host name or an address) come first; among the others the
 * choice depends on node, so that hosts spread over them. NULL with the
 * reason in err when there is none. */
redisContext *bus_connect_replica(const char *url, const char *node, int timeout_ms, bus_peer *peer, char *err,
                                  size_t errlen);

/* For a redis+sentinel:// url: "host:port" of the master the Sentinels name
 * now, into out. 0 ok; -1 not a Sentinel URL, or no Sentinel answered. I/O. */
int bus_master_addr(const char *url, char *out, size_t n);
/* For a redis+sentinel:// url: do the Sentinels now name a master other
 * than peer (where a bus_connect_peer to the master went)? 1 yes (a
 * failover happened: reconnect); 0 no, or not a Sentinel URL, or no
 * Sentinel answered. Asks the Sentinels (I/O, short timeouts). */
int bus_master_moved(const char *url, const bus_peer *peer);

/* For long-lived subscribers: with a redis+sentinel:// url, a connection to
 * one of its Sentinels subscribed to +switch-master (no read timeout; the
 * caller polls its fd and frees it with redisFree). NULL for other URLs, or
 * with the reason in err when no Sentinel answers. */
redisContext *bus_watch_open(const char *url, char *err, size_t errlen);
/* Read what arrived on a watch connection (call when its fd is readable):
 * 1 when a notice says url's master moved (reconnect with bus_connect),
 * 0 nothing for us, -1 the connection broke (open another one). */
int bus_watch_read(redisContext *w, const char *url);

/* Is r an error reply that means "this server is no longer the master you
 * think" (READONLY, MASTERDOWN, UNBLOCKED by a role change)? The caller
 * drops the connection and makes a new one with bus_connect. r may be NULL. */
int bus_reply_failover(const redisReply *r);

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
/* The id of such an entry, whatever its fields: a scan moves past an entry
 * that is no tweet (another writer's), so that a page of them cannot hold
 * it in place. 0 ok, -1 when the entry has no valid id. */
int bus_entry_id(const redisReply *e, bus_id *id);

#endif
