/* closer — closing connections whose answer is complete, on the event loop
 * instead of an acceptor thread.
 *
 * A web server may still be sending a request body nobody will read (a 401
 * answered from the headers, a body that took too long): closing at once
 * would reset the connection before the server has read the answer, and
 * libfcgi's own close (FCGX_Finish_r) reads on until 2 s of silence, which
 * a body arriving a byte a second stretches forever while it holds the
 * thread that should open the next stream. So, as nginx's lingering close:
 * the write side is shut at once (the web server sees the end of the
 * answer), whatever still arrives is read and dropped on the loop until the
 * peer closes or timeout_ms pass, then the socket is closed. At most `max`
 * connections linger; beyond that one is closed at once.
 *
 * Threads: closer_add from any thread; everything else on the loop's thread. */
#ifndef BIRDFEED_CLOSER_H
#define BIRDFEED_CLOSER_H

#include <stddef.h>

#include "loop.h"

typedef struct closer closer;

/* A lingering close on loop l (which must outlive it) for at most max
 * connections, each for at most timeout_ms. NULL with the reason in err
 * when its wake eventfd cannot be made. */
closer *closer_new(loop *l, size_t max, int timeout_ms, char *err, size_t errlen);
/* Close every lingering connection at once and free lg. lg may be NULL. */
void closer_free(closer *lg);
/* Any thread: close fd (a connection whose answer is complete) gently.
 * Takes the fd. */
void closer_add(closer *lg, int fd);

#endif
