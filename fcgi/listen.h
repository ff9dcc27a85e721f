/* listen — the FastCGI listen socket: fd 0 (spawn-fcgi, web servers, systemd
 * StandardInput=socket) or one birdfeed opens itself; and who may connect
 * to it (web-server-addrs).
 *
 * FastCGI has no authentication: whoever reaches the port can send any
 * request with any headers. libfcgi refuses TCP peers whose address is not
 * on FCGI_WEB_SERVER_ADDRS — but only IPv4 ones (an AF_INET6 socket, dual-
 * stack ones included, lets every peer in), closing the connection before
 * reading from it. birdfeed sets that variable from web-server-addrs, and
 * its acceptors accept connections themselves and check every peer
 * (listen_allow_peer) before libfcgi reads a byte (fcgi/worker.c). */
#ifndef BIRDFEED_LISTEN_H
#define BIRDFEED_LISTEN_H

#include <stddef.h>

#define LISTEN_ALLOW_MAX 64

/* The addresses allowed to connect over TCP; n == 0: anyone. */
typedef struct listen_allow {
    size_t n;
    struct {
        int family;               /* AF_INET or AF_INET6 */
        unsigned char addr[16];   /* network order; 4 bytes for AF_INET */
    } a[LISTEN_ALLOW_MAX];
} listen_allow;

/* Parse list, comma-separated IPv4/IPv6 addresses (spaces around them are
 * ignored; NULL or "": anyone). 0 ok; -1 with the reason naming the entry
 * in err. No I/O. */
int listen_allow_parse(const char *list, listen_allow *out, char *err, size_t errlen);
/* The list as libfcgi reads FCGI_WEB_SERVER_ADDRS: addresses joined by ','
 * without spaces, into out (truncated to outlen; "" for anyone). Returns out. */
char *listen_allow_format(const listen_allow *a, char *out, size_t outlen);
/* May the peer of the accepted connection fd talk to us? 1 yes: a unix
 * socket, an empty list, or its address on the list (an IPv4 address also
 * when it comes as ::ffff:a.b.c.d on a dual-stack socket); 0 no. The peer's
 * address into peer (for the log). Any thread. */
int listen_allow_peer(const listen_allow *a, int fd, char *peer, size_t peerlen);
/* Is the listening socket fd reachable from beyond this machine: TCP on an
 * address outside 127.0.0.0/8 and ::1, or on all interfaces? 1 yes, 0 no
 * (loopback, a unix socket). Where it listens into where. */
int listen_beyond_loopback(int fd, char *where, size_t wherelen);

/* Open a listening socket on addr: a path (contains '/': a unix socket; a
 * stale socket file there is replaced), "HOST:PORT", "[V6]:PORT" or ":PORT"
 * (all interfaces). Returns the fd, or -1 with the reason in err. */
int listen_open(const char *addr, int backlog, char *err, size_t errlen);
/* Check that fd is a listening stream socket. 0 yes, -1 with the reason in err. */
int listen_check_fd(int fd, char *err, size_t errlen);

#endif
