/* Unit tests for fcgi/listen's guard (web-server-addrs): parsing the list,
 * the form handed to libfcgi, peers of real loopback connections (IPv4,
 * IPv6, IPv4 on an IPv6 socket, unix) and where a socket listens. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "test.h"

static void test_parse(void)
{
    listen_allow a;
    char err[256], out[256];
    ASSERT_EQ(listen_allow_parse(NULL, &a, err, sizeof err), 0);
    ASSERT_EQ(a.n, 0);
    ASSERT_EQ(listen_allow_parse("  ", &a, err, sizeof err), 0);
    ASSERT_EQ(a.n, 0);
    ASSERT_EQ(listen_allow_parse("127.0.0.2, ::1 ,10.0.0.7", &a, err, sizeof err), 0);
    ASSERT_EQ(a.n, 3);
    ASSERT_EQ(a.a[0].family, AF_INET);
    ASSERT_EQ(a.a[1].family, AF_INET6);
    ASSERT_STREQ(listen_allow_format(&a, out, sizeof out), "127.0.0.2,::1,10.0.0.7");
    ASSERT_EQ(listen_allow_parse("127.0.0.2,,127.0.0.3", &a, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "empty entry");
    ASSERT_EQ(listen_allow_parse("127.0.0.2,", &a, err, sizeof err), -1);
    ASSERT_EQ(listen_allow_parse("nginx.local", &a, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "'nginx.local' is not an IPv4 or IPv6 address");
    ASSERT_EQ(listen_allow_parse("127.0.0.256", &a, err, sizeof err), -1);
    ASSERT_EQ(listen_allow_parse("127.0.0.2 127.0.0.3", &a, err, sizeof err), -1);
}

static void test_parse_many(void)
{
    listen_allow a;
    char list[LISTEN_ALLOW_MAX * 16 + 32] = "", err[256];
    size_t used = 0;
    for (int i = 0; i <= LISTEN_ALLOW_MAX; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s10.0.%d.%d", i ? "," : "", i / 200, i % 200);
    ASSERT_EQ(listen_allow_parse(list, &a, err, sizeof err), -1);
    ASSERT_CONTAINS(err, "more than");
}

/* A connection from src to a socket listening on lst (family fam), accepted:
 * the accepted fd (the client's into *cfd). -1 when src cannot be bound. */
static int connect_pair(int fam, const char *lst, const char *src, int *cfd)
{
    struct sockaddr_storage ss, cs;
    socklen_t len;
    int l = socket(fam, SOCK_STREAM, 0), c, a;
    memset(&ss, 0, sizeof ss);
    memset(&cs, 0, sizeof cs);
    if (fam == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        inet_pton(AF_INET, lst, &in->sin_addr);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, lst, &in6->sin6_addr);
        len = sizeof *in6;
    }
    if (l < 0 || bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 4) < 0) return -1;
    len = sizeof ss;
    getsockname(l, (struct sockaddr *)&ss, &len);
    int cfam = strchr(src, ':') ? AF_INET6 : AF_INET;
    c = socket(cfam, SOCK_STREAM, 0);
    if (cfam == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&cs, to;
        in->sin_family = AF_INET;
        inet_pton(AF_INET, src, &in->sin_addr);
        if (bind(c, (struct sockaddr *)in, sizeof *in) < 0) return -1;
        memset(&to, 0, sizeof to);
        to.sin_family = AF_INET;
        if (fam == AF_INET) to = *(struct sockaddr_in *)&ss;
        else {                                  /* the IPv4 address inside ::ffff:a.b.c.d */
            memcpy(&to.sin_addr, ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr + 12, 4);
            to.sin_port = ((struct sockaddr_in6 *)&ss)->sin6_port;
        }
        if (connect(c, (struct sockaddr *)&to, sizeof to) < 0) return -1;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&cs;
        in6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, src, &in6->sin6_addr);
        if (bind(c, (struct sockaddr *)in6, sizeof *in6) < 0) return -1;
        if (connect(c, (struct sockaddr *)&ss, sizeof(struct sockaddr_in6)) < 0) return -1;
    }
    a = accept(l, NULL, NULL);
    close(l);
    *cfd = c;
    return a;
}

static int peer_ok(const char *list, int fam, const char *lst, const char *src, char *peer, size_t n)
{
    listen_allow al;
    char err[256];
    int c, a, ok;
    ASSERT_EQ(listen_allow_parse(list, &al, err, sizeof err), 0);
    a = connect_pair(fam, lst, src, &c);
    ASSERT(a >= 0);
    ok = listen_allow_peer(&al, a, peer, n);
    close(a);
    close(c);
    return ok;
}

static void test_peers(void)
{
    char peer[64];
    ASSERT_EQ(peer_ok("127.0.0.2", AF_INET, "127.0.0.1", "127.0.0.2", peer, sizeof peer), 1);
    ASSERT_STREQ(peer, "127.0.0.2");
    ASSERT_EQ(peer_ok("127.0.0.2", AF_INET, "127.0.0.1", "127.0.0.3", peer, sizeof peer), 0);
    ASSERT_STREQ(peer, "127.0.0.3");
    ASSERT_EQ(peer_ok("", AF_INET, "127.0.0.1", "127.0.0.3", peer, sizeof peer), 1);
    /* IPv6 peers: libfcgi never checks them */
    ASSERT_EQ(peer_ok("127.0.0.2", AF_INET6, "::1", "::1", peer, sizeof peer), 0);
    ASSERT_STREQ(peer, "::1");
    ASSERT_EQ(peer_ok("127.0.0.2,::1", AF_INET6, "::1", "::1", peer, sizeof peer), 1);
    /* IPv4 peers on an IPv6 socket come as ::ffff:a.b.c.d */
    ASSERT_EQ(peer_ok("127.0.0.2", AF_INET6, "::ffff:127.0.0.1", "127.0.0.3", peer, sizeof peer), 0);
    ASSERT_STREQ(peer, "::ffff:127.0.0.3");
    ASSERT_EQ(peer_ok("127.0.0.2", AF_INET6, "::ffff:127.0.0.1", "127.0.0.2", peer, sizeof peer), 1);
    /* a unix socket has no address to check */
    {
        listen_allow al;
        char err[256];
        int sv[2];
        ASSERT_EQ(listen_allow_parse("127.0.0.2", &al, err, sizeof err), 0);
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        ASSERT_EQ(listen_allow_peer(&al, sv[0], peer, sizeof peer), 1);
        close(sv[0]);
        close(sv[1]);
    }
}

/* Where a socket bound (not listening: nothing can connect) to addr listens. */
static int beyond(int fam, const char *addr, char *where, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(fam, SOCK_STREAM, 0), r;
    memset(&ss, 0, sizeof ss);
    if (fam == AF_INET) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr);
        len = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
        len = sizeof(struct sockaddr_in6);
    }
    ASSERT_EQ(bind(fd, (struct sockaddr *)&ss, len), 0);
    r = listen_beyond_loopback(fd, where, n);
    close(fd);
    return r;
}

static void test_beyond_loopback(void)
{
    char where[128];
    ASSERT_EQ(beyond(AF_INET, "127.0.0.1", where, sizeof where), 0);
    ASSERT_EQ(beyond(AF_INET, "127.3.2.1", where, sizeof where), 0);
    ASSERT_EQ(beyond(AF_INET, "0.0.0.0", where, sizeof where), 1);
    ASSERT_CONTAINS(where, "0.0.0.0:");
    ASSERT_EQ(beyond(AF_INET6, "::1", where, sizeof where), 0);
    ASSERT_EQ(beyond(AF_INET6, "::ffff:127.0.0.1", where, sizeof where), 0);
    ASSERT_EQ(beyond(AF_INET6, "::", where, sizeof where), 1);
    ASSERT_CONTAINS(where, "[::]:");
    {
        int sv[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        ASSERT_EQ(listen_beyond_loopback(sv[0], where, sizeof where), 0);
        close(sv[0]);
        close(sv[1]);
    }
}

int main(void)
{
    RUN(test_parse);
    RUN(test_parse_many);
    RUN(test_peers);
    RUN(test_beyond_loopback);
    return test_summary();
}
