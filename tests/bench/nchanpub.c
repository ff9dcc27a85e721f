/* nchanpub — publishes tweet-sized JSON messages to an Nchan publisher
 * location at a fixed rate, for birdfeed's side-by-side benchmarks.
 *
 * Each message is a canonical-looking tweet of about --size bytes whose last
 * field is "sent_us" (µs since the epoch when the message is written), so
 * sseload measures Nchan's latency exactly as it measures birdfeed's.
 * --conns keep-alive HTTP/1.1 connections (default 1), each a thread that
 * POSTs its share of the messages and reads each answer before its next
 * POST; message i is due at start + i/rate and goes out at once when the
 * publisher runs late (the lag is reported).
 * Loopback only; bounded by --count and --duration. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

static struct {
    char host[256], port[8], path[2048];
    long long rate, count, size, duration_s, conns;
} opt = {.rate = 100, .count = 1000, .size = 600, .duration_s = 60, .conns = 1};

static struct sockaddr_storage target;
static socklen_t target_len;

static void usage(FILE *out)
{
    fputs("usage: nchanpub [options] URL\n\n"
          "POSTs --count JSON messages of about --size bytes to an Nchan publisher\n"
          "location (http://HOST:PORT/PATH, loopback only) at --rate messages per second,\n"
          "each carrying \"sent_us\" (µs since the epoch, set when it is written).\n\n"
          "Options:\n"
          "  -r, --rate N        messages per second (default 100)\n"
          "  -n, --count N       messages to send (default 1000)\n"
          "  -s, --size B        approximate message size in bytes (default 600)\n"
          "  -d, --duration S    give up after S seconds (default 60)\n"
          "  -c, --conns N       publishing connections, sharing the rate (default 1)\n"
          "  -h, --help          this text\n\n"
          "Output: one line of key=value pairs: sent errors elapsed_s rate max_lag_ms.\n"
          "Exit status: 0 when every message was accepted (2xx), 1 otherwise, 2 on a\n"
          "usage error.\n", out);
}

static int num_opt(const char *name, const char *arg, long long min, long long max, long long *out)
{
    const char *why;
    if (parse_ll(arg, min, max, out, &why) == 0) return 0;
    fprintf(stderr, "nchanpub: --%s '%s': %s (allowed %lld..%lld)\n", name, arg, why, min, max);
    return -1;
}

/* http://HOST:PORT/PATH into opt; host must resolve to loopback. 0 ok, -1 with why. */
static int url_resolve(const char *url, const char **why)
{
    if (strncmp(url, "http://", 7) != 0) { *why = "only http:// URLs are supported"; return -1; }
    const char *h = url + 7, *hend, *rest;
    if (*h == '[') {
        if (!(hend = strchr(h, ']'))) { *why = "unterminated [IPv6] host"; return -1; }
        h++;
        rest = hend + 1;
    } else {
        hend = h + strcspn(h, ":/");
        rest = hend;
    }
    if (hend == h || (size_t)(hend - h) >= sizeof opt.host) { *why = "bad host"; return -1; }
    snprintf(opt.host, sizeof opt.host, "%.*s", (int)(hend - h), h);
    strcpy(opt.port, "80");
    if (*rest == ':') {
        size_t pl = strcspn(rest + 1, "/");
        if (pl == 0 || pl >= sizeof opt.port) { *why = "bad port"; return -1; }
        snprintf(opt.port, sizeof opt.port, "%.*s", (int)pl, rest + 1);
        rest += 1 + pl;
    }
    if (*rest != '/' || strlen(rest) >= sizeof opt.path || strpbrk(rest, " \r\n")) {
        *why = "want a path after the host, without spaces";
        return -1;
    }
    strcpy(opt.path, rest);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (rc) { *why = gai_strerror(rc); return -1; }
    int found = 0;
    for (struct addrinfo *a = res; a && !found; a = a->ai_next) {
        if ((a->ai_family == AF_INET &&
             (ntohl(((const struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr) >> 24) == 127) ||
            (a->ai_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr))) {
            memcpy(&target, a->ai_addr, a->ai_addrlen);
            target_len = a->ai_addrlen;
            found = 1;
        }
    }
    freeaddrinfo(res);
    if (!found) { *why = "not a loopback address"; return -1; }
    return 0;
}

static int dial(void)
{
    int fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&target, target_len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one response from fd (head + Content-Length or chunked body) using
 * `in` as carry-over. Returns the status, 0 when the peer closed cleanly
 * before answering, -1 on error (reason in why). *close_after set when the
 * server will close the connection. */
static int read_response(int fd, buf *in, int *close_after, const char **why)
{
    size_t head_len = 0;
    for (;;) {
        const char *e = in->len ? memmem(in->data, in->len, "\r\n\r\n", 4) : NULL;
        if (e) {
            head_len = (size_t)(e - in->data) + 4;
            break;
        }
        if (in->len > 65536) { *why = "response head too long"; return -1; }
        buf_reserve(in, 4096);
        ssize_t n = read(fd, in->data + in->len, 4096);
        if (n == 0 && in->len == 0) return 0;
        if (n <= 0) { *why = n == 0 ? "connection closed mid-response" : strerror(errno); return -1; }
        in->len += (size_t)n;
        in->data[in->len] = '\0';
    }
    int status = 0;
    if (sscanf(in->data, "HTTP/1.%*1d %3d", &status) != 1) { *why = "not an HTTP/1.x response"; return -1; }
    long long clen = -1;
    int chunked = 0;
    *close_after = 0;
    for (const char *l = strchr(in->data, '\n') + 1; l < in->data + head_len;) {
        const char *nl = strchr(l, '\n');
        if (!strncasecmp(l, "Content-Length:", 15)) clen = strtoll(l + 15, NULL, 10);
        else if (!strncasecmp(l, "Transfer-Encoding:", 18) && memmem(l, (size_t)(nl - l), "chunked", 7)) chunked = 1;
        else if (!strncasecmp(l, "Connection:", 11) && memmem(l, (size_t)(nl - l), "close", 5)) *close_after = 1;
        l = nl + 1;
    }
    buf_consume(in, head_len);
    if (!chunked) {
        if (clen < 0) { *close_after = 1; clen = 0; }
        while ((long long)in->len < clen) {
            buf_reserve(in, 4096);
            ssize_t n = read(fd, in->data + in->len, 4096);
            if (n <= 0) { *why = "connection closed in the body"; return -1; }
            in->len += (size_t)n;
        }
        buf_consume(in, (size_t)clen);
        return status;
    }
    /* Chunked: skip chunks until the zero chunk and its blank line. */
    for (;;) {
        const char *e;
        while (!(e = in->len ? memmem(in->data, in->len, "\r\n", 2) : NULL)) {
            buf_reserve(in, 4096);
            ssize_t n = read(fd, in->data + in->len, 4096);
            if (n <= 0) { *why = "connection closed in a chunk"; return -1; }
            in->len += (size_t)n;
            in->data[in->len] = '\0';
        }
        unsigned long long size = strtoull(in->data, NULL, 16);
        size_t need = (size_t)(e - in->data) + 2 + (size ? size + 2 : 2);
        while (in->len < need) {
            buf_reserve(in, 4096);
            ssize_t n = read(fd, in->data + in->len, 4096);
            if (n <= 0) { *why = "connection closed in a chunk"; return -1; }
            in->len += (size_t)n;
        }
        buf_consume(in, need);
        if (size == 0) return status;
    }
}

static void sleep_until(uint64_t mono_us)
{
    struct timespec ts = {.tv_sec = (time_t)(mono_us / 1000000u), .tv_nsec = (long)(mono_us % 1000000u) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

/* One publishing connection: messages first, first + conns, … each at its due time. */
typedef struct sender {
    pthread_t tid;
    long long first;
    long long sent, errors;
    uint64_t max_lag;
    size_t last_len;
    int timed_out;
} sender;

static const char *pad_text;
static uint64_t t_start, t_deadline;

static void *sender_run(void *arg)
{
    sender *sd = arg;
    buf msg = BUF_INIT, req = BUF_INIT, in = BUF_INIT;
    int fd = -1;
    const char *why = "no answer";
    for (long long i = sd->first; i < opt.count; i += opt.conns) {
        uint64_t due = t_start + (uint64_t)((double)i * 1e6 / (double)opt.rate);
        uint64_t now = now_us();
        if (now < due) sleep_until(due);
        else if (now - due > sd->max_lag) sd->max_lag = now - due;
        if (now_us() >= t_deadline) {
            sd->timed_out = 1;
            break;
        }
        buf_reset(&msg);
        buf_printf(&msg, "{\"id\":\"%lld\",\"text\":\"%s\",\"user\":{\"screen_name\":\"nchanbench\","
                   "\"name\":\"Nchan Bench\",\"followers_count\":%lld},\"created_at\":\"2026-01-01T00:00:00Z\","
                   "\"lang\":\"en\",\"hashtags\":[\"bench\"],\"mentions\":[],\"urls\":[],\"retweet_count\":0,"
                   "\"sent_us\":%llu}", 1000000 + i, pad_text, i % 5000, (unsigned long long)wall_us());
        sd->last_len = msg.len;
        buf_reset(&req);
        buf_printf(&req, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                   "Accept: text/plain\r\nContent-Length: %zu\r\n\r\n", opt.path, opt.host, opt.port, msg.len);
        buf_append(&req, msg.data, msg.len);
        int attempts = 0, status = -1, close_after = 0;
        while (attempts++ < 2) {
            if (fd < 0 && (fd = dial()) < 0) {
                why = strerror(errno);
                break;
            }
            if (write_all(fd, req.data, req.len) == 0 &&
                (status = read_response(fd, &in, &close_after, &why)) > 0)
                break;
            if (status == 0) why = "connection closed";
            close(fd);                       /* a keep-alive the server dropped: retry once */
            fd = -1;
            buf_reset(&in);
        }
        if (status >= 200 && status < 300) {
            sd->sent++;
        } else if (sd->errors++ == 0) {
            if (status > 0) fprintf(stderr, "nchanpub: message %lld: HTTP status %d\n", i, status);
            else fprintf(stderr, "nchanpub: message %lld: %s\n", i, why);
        }
        if (close_after && fd >= 0) {
            close(fd);
            fd = -1;
            buf_reset(&in);
        }
    }
    if (fd >= 0) close(fd);
    buf_free(&msg);
    buf_free(&req);
    buf_free(&in);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rate", required_argument, NULL, 'r'},  {"count", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},  {"duration", required_argument, NULL, 'd'},
        {"conns", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "r:n:s:d:c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r': if (num_opt("rate", optarg, 1, 1000000, &opt.rate) < 0) return 2; break;
        case 'n': if (num_opt("count", optarg, 1, 100000000, &opt.count) < 0) return 2; break;
        case 's': if (num_opt("size", optarg, 200, 60000, &opt.size) < 0) return 2; break;
        case 'd': if (num_opt("duration", optarg, 1, 3600, &opt.duration_s) < 0) return 2; break;
        case 'c': if (num_opt("conns", optarg, 1, 64, &opt.conns) < 0) return 2; break;
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, "(nchanpub --help lists the options)\n"); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "nchanpub: want exactly one URL\n(nchanpub --help lists the options)\n");
        return 2;
    }
    const char *why = "no answer";
    if (url_resolve(argv[optind], &why) < 0) {
        fprintf(stderr, "nchanpub: URL '%s': %s\n", argv[optind], why);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    /* The text pads the message to about --size bytes. */
    static const char words[] = "birdfeed streams tweets to browsers with server sent events ";
    buf text = BUF_INIT;
    size_t fixed = 243;          /* the JSON around the text, sent_us included */
    size_t want = (size_t)opt.size > fixed ? (size_t)opt.size - fixed : 16;
    while (text.len < want) buf_append(&text, words, want - text.len < sizeof words - 1 ? want - text.len : sizeof words - 1);
    pad_text = text.data;

    sender *ss = xcalloc((size_t)opt.conns, sizeof *ss);
    t_start = now_us();
    t_deadline = t_start + (uint64_t)opt.duration_s * 1000000u;
    for (long long k = 0; k < opt.conns; k++) {
        ss[k].first = k;
        pthread_create(&ss[k].tid, NULL, sender_run, &ss[k]);
    }
    long long sent = 0, errors = 0;
    uint64_t max_lag = 0;
    size_t size = 0;
    int timed_out = 0;
    for (long long k = 0; k < opt.conns; k++) {
        pthread_join(ss[k].tid, NULL);
        sent += ss[k].sent;
        errors += ss[k].errors;
        if (ss[k].max_lag > max_lag) max_lag = ss[k].max_lag;
        if (ss[k].last_len) size = ss[k].last_len;
        timed_out |= ss[k].timed_out;
    }
    double elapsed = (double)(now_us() - t_start) / 1e6;
    if (timed_out) fprintf(stderr, "nchanpub: stopped by --duration after %lld messages\n", sent);
    printf("sent=%lld errors=%lld elapsed_s=%.2f rate=%.1f max_lag_ms=%.3f size=%zu\n", sent, errors, elapsed,
           elapsed > 0 ? (double)sent / elapsed : 0.0, (double)max_lag / 1000, size);
    free(ss);
    buf_free(&text);
    return sent == opt.count && errors == 0 ? 0 : 1;
}
