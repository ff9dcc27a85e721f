/* worker — one responder process: the hub's event loop in the main thread
 * plus acceptor threads that take requests from libfcgi. */
#ifndef BIRDFEED_WORKER_H
#define BIRDFEED_WORKER_H

#include "config.h"

enum worker_signal { WORKER_STOP = 1, WORKER_RELOAD = 2 };

/* Serve listen_fd until told to stop; returns the process exit code.
 * cfg must stay valid until it returns. index names the worker in logs. */
int worker_run(int listen_fd, const config *cfg, int acceptors, int index);
/* This process's hub while worker_run runs (NULL otherwise): handlers read
 * its counters (hub_stats_get) and stream count from here. */
struct hub *worker_hub(void);
/* Async-signal-safe: ask the running worker (if any) to stop or reload. */
void worker_signal(enum worker_signal what);

#endif
