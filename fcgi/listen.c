#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int open_unix(const char *path, int backlog, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "socket path %s is longer than %zu bytes", path, sizeof sa.sun_path - 1);
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket", path);
            return -1;
        }
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0) goto fail;
    return fd;
fail:
    snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

int listen_open(const char *addr, int backlog, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, rc, one = 1, last_errno = 0;

    if (strchr(addr, '/')) return open_unix(addr, backlog, err, errlen);
    port = strrchr(addr, ':');
    if (port == NULL || port[1] == '\0') {
        snprintf(err, errlen, "--listen %s: expected a socket path (with a '/') or HOST:PORT", addr);
        return -1;
    }
    size_t hl = (size_t)(port - addr);
    if (hl >= sizeof host) hl = sizeof host - 1;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    port++;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "--listen %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) { last_errno = errno; continue; }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) break;
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(last_errno));
    return fd;
}

int listen_check_fd(int fd, char *err, size_t errlen)
{
    struct stat st;
    int acc = 0;
    socklen_t len = sizeof acc;
    if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "fd %d is not a socket: birdfeed-fcgi expects the FastCGI listen socket there "
                 "(spawn-fcgi, a web server or systemd StandardInput=socket), or --listen PATH|HOST:PORT", fd);
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
        snprintf(err, errlen, "fd %d is a socket but not a listening one: pass the FastCGI listen socket, "
                 "or use --listen PATH|HOST:PORT", fd);
        return -1;
    }
    return 0;
}

int listen_allow_parse(const char *list, listen_allow *out, char *err, size_t errlen)
{
    out->n = 0;
    if (list == NULL || list[strspn(list, " \t")] == '\0') return 0;
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char one[INET6_ADDRSTRLEN + 1];
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == 0) {
            snprintf(err, errlen, "web-server-addrs: empty entry in '%.200s'", list);
            return -1;
        }
        if (len >= sizeof one) goto bad;
        memcpy(one, p, len);
        one[len] = '\0';
        if (out->n == LISTEN_ALLOW_MAX) {
            snprintf(err, errlen, "web-server-addrs: more than %d addresses", LISTEN_ALLOW_MAX);
            return -1;
        }
        memset(out->a[out->n].addr, 0, sizeof out->a[out->n].addr);
        if (inet_pton(AF_INET, one, out->a[out->n].addr) == 1) out->a[out->n].family = AF_INET;
        else if (inet_pton(AF_INET6, one, out->a[out->n].addr) == 1) out->a[out->n].family = AF_INET6;
        else goto bad;
        out->n++;
        if (end == NULL) return 0;
        p = end + 1;
        continue;
    bad:
        snprintf(err, errlen, "web-server-addrs: '%.*s' is not an IPv4 or IPv6 address (addresses, not host names: "
                 "the peer's address is compared)", (int)(len > 100 ? 100 : len), p);
        return -1;
    }
}

char *listen_allow_format(const listen_allow *a, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < a->n && used < outlen; i++) {
        char one[INET6_ADDRSTRLEN];
        inet_ntop(a->a[i].family, a->a[i].addr, one, sizeof one);
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? "," : "", one);
    }
    return out;
}

int listen_allow_peer(const listen_allow *a, int fd, char *peer, size_t peerlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    unsigned char v4[4];
    const unsigned char *v6 = NULL;
    int have_v4 = 0;

    snprintf(peer, peerlen, "?");
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return a->n == 0;
    if (ss.ss_family == AF_INET) {
        memcpy(v4, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        have_v4 = 1;
        inet_ntop(AF_INET, v4, peer, (socklen_t)peerlen);
    } else if (ss.ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        v6 = in6->s6_addr;
        inet_ntop(AF_INET6, v6, peer, (socklen_t)peerlen);
        if (IN6_IS_ADDR_V4MAPPED(in6)) {
            memcpy(v4, v6 + 12, 4);
            have_v4 = 1;
        }
    } else {
        snprintf(peer, peerlen, "unix");
        return 1;
    }
    if (a->n == 0) return 1;
    for (size_t i = 0; i < a->n; i++) {
        if (have_v4 && a->a[i].family == AF_INET && memcmp(a->a[i].addr, v4, 4) == 0) return 1;
        if (v6 && a->a[i].family == AF_INET6 && memcmp(a->a[i].addr, v6, 16) == 0) return 1;
    }
    return 0;
}

int listen_beyond_loopback(int fd, char *where, size_t wherelen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN];

    snprintf(where, wherelen, "?");
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(where, wherelen, "%s:%d", host, ntohs(in->sin_port));
        return (ntohl(in->sin_addr.s_addr) >> 24) != 127;
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        const unsigned char *b = in6->sin6_addr.s6_addr;
        inet_ntop(AF_INET6, b, host, sizeof host);
        snprintf(where, wherelen, "[%s]:%d", host, ntohs(in6->sin6_port));
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return 0;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127) return 0;
        return 1;
    }
    snprintf(where, wherelen, "a unix socket");
    return 0;
}
