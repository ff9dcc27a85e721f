/* proc — the process context: what one responder process shares among its
 * threads, made once per process (worker_run, after fork) and handed down
 * instead of globals: acceptor thread → its http_ctx → each http_req → the
 * handler, which reads it with http_proc(req). (nginx's ngx_cycle_t and
 * libuv's uv_loop_t are the models.)
 *
 * A plain struct on purpose: it only names the process's parts, each in its
 * own module, and includes none of them, so every module may use it without
 * a cycle. The fields are set before the first acceptor thread starts and
 * never change after; each part's header says which of its functions any
 * thread may call. Only worker.c makes and frees the parts. */
#ifndef BIRDFEED_PROC_H
#define BIRDFEED_PROC_H

#include "config.h"

struct authz;
struct closer;
struct counters;
struct filterset;
struct hub;
struct loop;
struct statpub;

typedef struct proc {
    const config *cfg;            /* the settings (read-only) */
    struct loop *loop;            /* the event loop: the hub's thread only (loop.h) */
    struct hub *hub;              /* every open stream (hub.h: admit, submit, ring, stats) */
    struct filterset *filters;    /* saved and ad-hoc filters (lib/filterset.h) */
    struct authz *authz;          /* who may read and write (authz.h) */
    struct counters *counters;    /* streams refused, answers by class (counters.h) */
    struct closer *closer;        /* closes answered connections off the acceptors (closer.h) */
    struct statpub *stats;        /* this process's figures in Redis (metrics.h) */
} proc;

#endif
