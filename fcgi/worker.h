/* worker — one responder process: makes the process context (proc.h), runs
 * the hub's event loop in the main thread and acceptor threads that take
 * requests from libfcgi, and tears it all down within 2 s of SIGTERM. */
#ifndef BIRDFEED_WORKER_H
#define BIRDFEED_WORKER_H

#include "authz.h"
#include "config.h"
#include "listen.h"

enum worker_signal { WORKER_STOP = 1, WORKER_RELOAD = 2 };

/* Serve listen_fd until told to stop; returns the process exit code (0, or
 * 1 when nothing could be started). stream_fd (-1: none) is the
 * stream-listen socket, served by direct.h. cfg, acc (the credentials,
 * reloaded here on SIGHUP) and allow (who may connect to listen_fd: a peer
 * not on it is closed unanswered) must stay valid until it returns. index
 * names the worker in logs. */
int worker_run(int listen_fd, int stream_fd, const config *cfg, authz *acc, const listen_allow *allow, int acceptors,
               int index);
/* Async-signal-safe: ask the running worker (if any) to stop or reload. */
void worker_signal(enum worker_signal what);

#endif
