/* listen — the FastCGI listen socket: fd 0 (spawn-fcgi, web servers, systemd
 * StandardInput=socket) or one birdfeed opens itself. */
#ifndef BIRDFEED_LISTEN_H
#define BIRDFEED_LISTEN_H

#include <stddef.h>

/* Open a listening socket on addr: a path (contains '/': a unix socket; a
 * stale socket file there is replaced), "HOST:PORT", "[V6]:PORT" or ":PORT"
 * (all interfaces). Returns the fd, or -1 with the reason in err. */
int listen_open(const char *addr, int backlog, char *err, size_t errlen);
/* Check that fd is a listening stream socket. 0 yes, -1 with the reason in err. */
int listen_check_fd(int fd, char *err, size_t errlen);

#endif
