/* sentinel — finding the Redis master and its replicas through Redis
 * Sentinel, for URLs of the form
 *
 *   redis+sentinel://[:password@]host1:port1,host2:port2,…/MASTERNAME[/db]
 *
 * (a host may be [IPv6]; a missing port is 26379; the password and db are
 * those of the Redis servers, not of the Sentinels).
 *
 * Written by hand because hiredis 0.14 has no Sentinel client and what
 * birdfeed needs is small: ask each Sentinel in turn, with a short timeout so
 * that one that is down or slow is skipped, `SENTINEL get-master-addr-by-name`
 * or `SENTINEL replicas`; read `ROLE` from the server found to check it has
 * that role; read `+switch-master` notices. The parsing half (URL, replies,
 * notices) does no I/O: tests feed RESP bytes to hiredis's reader and hand
 * the replies to these functions. The I/O half is the three functions at the
 * end; lib/bus.h builds connections on them. */
#ifndef BIRDFEED_SENTINEL_H
#define BIRDFEED_SENTINEL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#define SENTINEL_MAX 16              /* Sentinels in one URL */
#define SENTINEL_DEFAULT_PORT 26379
#define SENTINEL_TIMEOUT_MS 500      /* connect + reply, per Sentinel asked */
#define SENTINEL_REPLICAS_MAX 32     /* replicas looked at per answer */

/* A server address: a host name, IPv4 or IPv6 address (no brackets), and a port. */
typedef struct sentinel_addr {
    char host[256];
    int port;
} sentinel_addr;

typedef struct sentinel_url {
    sentinel_addr sentinels[SENTINEL_MAX];
    size_t n;                        /* at least 1 */
    char master[128];                /* MASTERNAME */
    char password[256];              /* "" when none */
    int db;
} sentinel_url;

/* Does url start with redis+sentinel:// ? (url may be NULL) */
int sentinel_url_is(const char *url);
/* Parse url into u. 0 ok; -1 with a reason naming the faulty part in err.
 * No I/O. */
int sentinel_url_parse(const char *url, sentinel_url *u, char *err, size_t errlen);
/* "host:port", "[v6]:port" for IPv6 addresses, into out (truncated to n). Returns out. */
char *sentinel_addr_format(const sentinel_addr *a, char *out, size_t n);

/* ---- replies (no I/O) ---- */

/* The reply to SENTINEL get-master-addr-by-name: [host, port]. 0 ok;
 * -1 with the reason in err ("knows no master by that name" for a nil
 * reply, the Sentinel's error, or "unexpected reply"). r may be NULL. */
int sentinel_parse_master(const redisReply *r, sentinel_addr *out, char *err, size_t errlen);

/* One replica as a Sentinel or a master's ROLE lists it. */
typedef struct sentinel_replica {
    sentinel_addr addr;
    int usable;                      /* Sentinel: not down or disconnected, link to master ok,
                                      * reports itself as a replica. ROLE: always 1 */
    long long offset;                /* replication offset it reported (-1: unknown) */
} sentinel_replica;

/* The reply to SENTINEL replicas: an array of field/value arrays. Fills
 * out[0..*n) (at most max; entries without ip or a valid port are skipped).
 * 0 ok; -1 with the reason in err when the reply is not such an array (an
 * error reply: the Sentinel's message). */
int sentinel_parse_replicas(const redisReply *r, sentinel_replica *out, size_t max, size_t *n, char *err,
                            size_t errlen);

enum sentinel_role_kind { SENTINEL_ROLE_MASTER, SENTINEL_ROLE_REPLICA, SENTINEL_ROLE_SENTINEL };

/* What ROLE said. */
typedef struct sentinel_role {
    enum sentinel_role_kind kind;
    long long offset;                /* master: its replication offset; replica: what it processed */
    /* replica only */
    sentinel_addr master;            /* the master it replicates */
    int link_up;                     /* its state is "connected" (synchronised, streaming) */
    char state[24];                  /* connect, connecting, sync, connected, … */
    /* master only: its replicas and the offsets they acknowledged */
    sentinel_replica replicas[SENTINEL_REPLICAS_MAX];
    size_t nreplicas;
} sentinel_role;

/* The reply to ROLE. 0 ok; -1 with the reason in err. */
int sentinel_parse_role(const redisReply *r, sentinel_role *out, char *err, size_t errlen);
/* "master", "replica" or "sentinel". */
const char *sentinel_role_name(enum sentinel_role_kind k);

/* A +switch-master notice, "NAME oldhost oldport newhost newport": when it
 * is about master, the new address into out and 0; otherwise (another
 * master, malformed) -1. */
int sentinel_parse_switch(const char *msg, size_t len, const char *master, sentinel_addr *out);

/* ---- asking the Sentinels (I/O) ---- */

/* Ask the Sentinels of u in turn (starting with the one that answered last
 * in this process) for the master's address. 0 ok; -1 when none could say,
 * with every Sentinel's reason in err. Thread-safe. */
int sentinel_get_master(const sentinel_url *u, sentinel_addr *out, char *err, size_t errlen);
/* Likewise SENTINEL replicas: fills out[0..*n) (at most max). */
int sentinel_get_replicas(const sentinel_url *u, sentinel_replica *out, size_t max, size_t *n, char *err,
                          size_t errlen);
/* A connection to the first Sentinel that answers, subscribed to
 * +switch-master, with no read timeout; the caller reads the notices
 * (["message", "+switch-master", text]) and frees it with redisFree.
 * NULL with the reason in err when none answers. */
redisContext *sentinel_watch(const sentinel_url *u, char *err, size_t errlen);

#endif
