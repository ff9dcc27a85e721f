/* direct — the stream-listen port: GET /stream served by the responder
 * itself, to browsers or a TCP proxy, with no web server in between.
 *
 * Behind a web server every open stream costs the web server two
 * connections and the upstream state of a proxied request (about 15 KB in
 * nginx), and every event a write to it and a read by it. On this port a
 * stream costs the responder's own state (a few hundred bytes) and one
 * write per event. Only /stream is served here (GET, HEAD and the CORS
 * preflight); the REST API stays behind the web server.
 *
 * One thread per responder process runs an event loop of its own (loop.h):
 * it accepts from the listening socket every process shares, reads each
 * request head (lib/httphead.h) as it comes, against a deadline
 * (body-timeout-ms, then 408), and hands a whole one to the router on this
 * thread, as an acceptor thread does a FastCGI request (http.h,
 * http_req_new_direct). A stream then belongs to the hub like any other; its
 * bytes go out as they are (writer.h, WRITER_RAW) and the response ends with
 * the connection (HTTP/1.1, Connection: close). Requests are answered one
 * at a time on this thread, so a slow one (history from a slow Redis)
 * delays the others of this process; heads keep arriving meanwhile and are
 * read before any is refused as late. At most DIRECT_PENDING heads
 * are read at once; beyond that new connections wait in the listen backlog.
 * A process with max-clients streams stops accepting, leaving new
 * connections to the processes on the port that have room; four times a
 * second it takes what still waits, to answer it "full" (retry later). */
#ifndef BIRDFEED_DIRECT_H
#define BIRDFEED_DIRECT_H

#include <stddef.h>

#include "proc.h"

#define DIRECT_PENDING 1024      /* connections whose head is being read, at most */

typedef struct direct direct;

/* Serve listen_fd (a listening stream socket; it is made non-blocking) on a
 * thread of its own, in the process context p (which must outlive it).
 * NULL with the reason in err. */
direct *direct_start(const proc *p, int listen_fd, char *err, size_t errlen);
/* Stop accepting, close the connections whose head has not come, end the
 * thread (after the request it is answering, if any) and free d; streams
 * already handed to the hub stay the hub's. 0 done (also for d NULL); -1
 * when the thread is still answering a request after budget_ms (a slow
 * Redis call): it is left running with d, and the process should exit
 * without freeing what the thread uses. */
int direct_stop(direct *d, int budget_ms);

#endif
