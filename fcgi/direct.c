#include "direct.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "httphead.h"
#include "hub.h"
#include "log.h"
#include "loop.h"
#include "router.h"
#include "util.h"

#define SWEEP_MS 250           /* how often late heads are looked for */
#define SEND_TIMEOUT_MS 2000   /* longest one blocking send of an answer may wait */
#define ENV_MAX (HTTPHEAD_FIELDS + 8)

/* A connection whose request head is being read. */
struct pending {
    loop_io io;
    int fd;
    uint32_t len;                  /* bytes of head[] read */
    uint64_t deadline_ms;
    struct pending *prev, *next;
    char head[HTTPHEAD_MAX];
};

struct direct {
    const proc *p;
    int listen_fd;
    loop *l;
    loop_io lio;
    int accepting;                 /* lio is started */
    int drain;                     /* full, but take what waits now (to answer "full"): on_sweep */
    loop_timer sweep;
    http_ctx *ctx;                 /* the thread's: made and freed on it */
    struct pending *pending;       /* a list, oldest first */
    struct pending *last;
    size_t npending;
    uint64_t accept_failed_log_ms;
    pthread_t th;
    atomic_int stop;
    atomic_int done;               /* the thread has left its loop */
};

static void on_accept(loop *l, loop_io *io, unsigned revents);

static void accepting(direct *d, int on)
{
    if (on == d->accepting) return;
    if (on) {
        if (loop_io_start(d->l, &d->lio, d->listen_fd, LOOP_READ, on_accept) < 0) return;
    } else {
        loop_io_stop(d->l, &d->lio, d->listen_fd);
    }
    d->accepting = on;
}

/* Take pc out of the list and the loop; the fd stays open. */
static void pending_unlink(direct *d, struct pending *pc)
{
    loop_io_stop(d->l, &pc->io, pc->fd);
    if (pc->prev) pc->prev->next = pc->next;
    else d->pending = pc->next;
    if (pc->next) pc->next->prev = pc->prev;
    else d->last = pc->prev;
    d->npending--;
}

/* Room for another stream here? A process with max-clients streams leaves
 * new connections to the other processes on the port, which take them from
 * the shared backlog, rather than taking them only to answer "full". */
static int has_room(const direct *d)
{
    return hub_streams(d->p->hub) + d->npending < (size_t)d->p->cfg->max_clients;
}

/* Accept again, unless DIRECT_PENDING heads are being read or the process
 * is full (then on_sweep takes, now and then, what waits). */
static void resume(direct *d)
{
    if (d->npending < DIRECT_PENDING && has_room(d)) accepting(d, 1);
}

/* Is field i's name one a web server would pass as HTTP_<NAME>? Names with
 * '_' are dropped (as nginx does): "X_Token" and "X-Token" would both
 * become HTTP_X_TOKEN. */
static int passed_on(const httphead_field *f)
{
    return memchr(f->name.p, '_', f->name.len) == NULL;
}

/* The parameters a web server would pass for head h, as "NAME=value"
 * strings in text, their pointers in env (NULL-terminated): the method,
 * URI, query, protocol and each field as HTTP_<NAME> (CONTENT_TYPE and
 * CONTENT_LENGTH without the prefix, as CGI has them). Repeated fields are
 * joined with ", " ("; " for Cookie), as RFC 9110 §5.3 allows. */
static void build_env(const httphead *h, buf *text, char **env)
{
    size_t offs[ENV_MAX], n = 0;
    const char *qm = memchr(h->target.p, '?', h->target.len);
    size_t qlen = qm ? h->target.len - (size_t)(qm + 1 - h->target.p) : 0;

#define ENV_START() (offs[n++] = text->len)
    ENV_START();
    buf_printf(text, "REQUEST_METHOD=%.*s", (int)h->method.len, h->method.p);
    buf_appendc(text, '\0');
    ENV_START();
    buf_printf(text, "REQUEST_URI=%.*s", (int)h->target.len, h->target.p);
    buf_appendc(text, '\0');
    ENV_START();
    buf_printf(text, "QUERY_STRING=%.*s", (int)qlen, qm ? qm + 1 : "");
    buf_appendc(text, '\0');
    ENV_START();
    buf_printf(text, "SERVER_PROTOCOL=HTTP/1.%d", h->minor);
    buf_appendc(text, '\0');
    for (size_t i = 0; i < h->nf && n < ENV_MAX - 1; i++) {
        const httphead_field *f = &h->f[i];
        int seen = 0, cookie = httphead_is(f, "Cookie");
        if (!passed_on(f)) continue;
        for (size_t j = 0; j < i && !seen; j++)
            seen = httphead_same_name(&h->f[j], f);
        if (seen) continue;
        ENV_START();
        if (!httphead_is(f, "Content-Type") && !httphead_is(f, "Content-Length"))
            buf_appends(text, "HTTP_");
        for (size_t k = 0; k < f->name.len; k++)
            buf_appendc(text, f->name.p[k] == '-' ? '_' : (char)toupper((unsigned char)f->name.p[k]));
        buf_appendc(text, '=');
        buf_append(text, f->value.p, f->value.len);
        for (size_t j = i + 1; j < h->nf; j++)
            if (httphead_same_name(&h->f[j], f)) {
                buf_appends(text, cookie ? "; " : ", ");
                buf_append(text, h->f[j].value.p, h->f[j].value.len);
            }
        buf_appendc(text, '\0');
    }
#undef ENV_START
    for (size_t i = 0; i < n; i++) env[i] = text->data + offs[i];
    env[n] = NULL;
}

/* Blocking from here on, each send at most SEND_TIMEOUT_MS: the answer is
 * written by the handler as on an acceptor (the hub makes a stream's
 * socket non-blocking again, and sets TCP_NODELAY). */
static void make_blocking(int fd)
{
    struct timeval tv = {SEND_TIMEOUT_MS / 1000, (SEND_TIMEOUT_MS % 1000) * 1000};
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Answer a connection whose head was refused (or never came whole) with a
 * JSON error (blocking: make_blocking), then let the closer end it. */
static void refuse(direct *d, int fd, int status, const char *why)
{
    char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", NULL};
    static const struct { int status; const char *code; } codes[] = {
        {400, "bad_request"}, {408, "request_timeout"}, {414, "uri_too_long"},
        {431, "header_fields_too_large"}, {505, "http_version_not_supported"},
    };
    const char *code = "bad_request";
    make_blocking(fd);
    for (size_t i = 0; i < ARRAY_LEN(codes); i++)
        if (codes[i].status == status) code = codes[i].code;
    http_req *req = http_req_new_direct(d->ctx, fd, env);
    http_error(req, status, code, "%s", why);
    http_finish(req);
    http_req_free(req);
}

/* Does the head carry a body: a Transfer-Encoding, or a Content-Length
 * other than 0 (in any of its fields)? */
static int has_body(const httphead *h)
{
    for (size_t i = 0; i < h->nf; i++) {
        const httphead_field *f = &h->f[i];
        if (httphead_is(f, "Transfer-Encoding")) return 1;
        if (httphead_is(f, "Content-Length") && !(f->value.len == 1 && f->value.p[0] == '0'))
            return 1;
    }
    return 0;
}

/* A whole head: refuse a body, else route it as a web server would have. */
static void dispatch(direct *d, int fd, const httphead *h)
{
    char *env[ENV_MAX + 1];
    buf text = BUF_INIT;

    if (has_body(h)) {
        refuse(d, fd, 400, "no request body is taken on this port");
        return;
    }
    make_blocking(fd);
    build_env(h, &text, env);
    http_req *req = http_req_new_direct(d->ctx, fd, env);
    router_dispatch(req);
    http_finish(req);
    http_req_free(req);
    buf_free(&text);
}

static void on_readable(loop *l, loop_io *io, unsigned revents)
{
    struct pending *pc = LOOP_CONTAINER(io, struct pending, io);
    direct *d = loop_data(l);
    httphead h;
    char err[128];
    int status = 400, rc, eof = 0, line = 0;
    (void)revents;

    while (pc->len < sizeof pc->head) {
        ssize_t n = read(pc->fd, pc->head + pc->len, sizeof pc->head - pc->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {                      /* closed (or half-closed) after what it sent */
            eof = 1;
            break;
        }
        line |= memchr(pc->head + pc->len, '\n', (size_t)n) != NULL;
        pc->len += (uint32_t)n;
    }
    /* a head is whole only once a line ended (or the buffer is full) */
    if (!line && !eof && pc->len < sizeof pc->head) return;
    rc = httphead_parse(pc->head, pc->len, &h, &status, err, sizeof err);
    if (rc == HTTPHEAD_MORE && !eof) return;
    pending_unlink(d, pc);
    if (rc == HTTPHEAD_MORE) {             /* gone before its head was whole: nothing to answer */
        close(pc->fd);
        free(pc);
        resume(d);
        return;
    }
    if (rc == HTTPHEAD_ERROR) {
        refuse(d, pc->fd, status, err);
    } else {
        dispatch(d, pc->fd, &h);
    }
    free(pc);
    resume(d);
}

static void on_accept(loop *l, loop_io *io, unsigned revents)
{
    direct *d = loop_data(l);
    (void)io;
    (void)revents;
    if (!d->drain && !has_room(d)) {          /* full: the other processes may take these */
        accepting(d, 0);
        return;
    }
    while (d->npending < DIRECT_PENDING && (d->drain || has_room(d))) {
        int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN) {          /* out of descriptors: wait for the next sweep */
                uint64_t now = now_ms();
                if (now - d->accept_failed_log_ms >= 1000) {
                    d->accept_failed_log_ms = now;
                    log_warn("direct.accept_failed", "err=\"%s\" pending=%zu", strerror(errno), d->npending);
                }
                accepting(d, 0);
            }
            return;
        }
        struct pending *pc = xmalloc(sizeof *pc);
        pc->fd = fd;
        pc->len = 0;
        pc->deadline_ms = now_ms() + (uint64_t)d->p->cfg->body_timeout_ms;
        pc->next = NULL;
        pc->prev = d->last;
        if (d->last) d->last->next = pc;
        else d->pending = pc;
        d->last = pc;
        d->npending++;
        if (loop_io_start(l, &pc->io, fd, LOOP_READ, on_readable) < 0) {
            pc->io.fn = NULL;
            pending_unlink(d, pc);
            close(fd);
            free(pc);
            continue;
        }
        on_readable(l, &pc->io, LOOP_READ);   /* the head usually came with the connection */
    }
    accepting(d, 0);                          /* full, or DIRECT_PENDING heads: the backlog holds the rest */
}

/* Heads that did not come whole in time get 408. Accepting resumes after a
 * failed accept, or once a full process has room again. A full process
 * takes what waits in the backlog once per sweep, to answer it "full"
 * (retry later): when every process is full, a new stream is answered
 * within SWEEP_MS; otherwise the processes with room take it first. */
static void on_sweep(loop_timer *t)
{
    direct *d = LOOP_CONTAINER(t, direct, sweep);
    uint64_t now = now_ms();
    while (d->pending && d->pending->deadline_ms <= now) {
        struct pending *pc = d->pending;
        size_t before = d->npending;
        on_readable(d->l, &pc->io, LOOP_READ);    /* what came while this thread was busy dispatching */
        if (d->npending < before) continue;       /* answered, or gone */
        pending_unlink(d, pc);
        refuse(d, pc->fd, 408, "the request head did not arrive in time");
        free(pc);
    }
    if (has_room(d)) {
        resume(d);
    } else if (d->npending < DIRECT_PENDING) {
        d->drain = 1;
        on_accept(d->l, &d->lio, LOOP_READ);
        d->drain = 0;
    }
    loop_timer_at(t, now_us() + SWEEP_MS * 1000);
}

static void *direct_main(void *arg)
{
    direct *d = arg;
    d->ctx = http_ctx_new(d->p);
    loop_set_data(d->l, d);
    loop_timer_init(d->l, &d->sweep, on_sweep);
    loop_timer_at(&d->sweep, now_us() + SWEEP_MS * 1000);
    accepting(d, 1);
    while (!atomic_load_explicit(&d->stop, memory_order_acquire)) loop_run_once(d->l, 1000);
    accepting(d, 0);
    while (d->pending) {
        struct pending *pc = d->pending;
        pending_unlink(d, pc);
        close(pc->fd);
        free(pc);
    }
    loop_timer_remove(d->l, &d->sweep);
    http_ctx_free(d->ctx);
    atomic_store_explicit(&d->done, 1, memory_order_release);
    return NULL;
}

direct *direct_start(const proc *p, int listen_fd, char *err, size_t errlen)
{
    direct *d = xcalloc(1, sizeof *d);
    int rc;
    d->p = p;
    d->listen_fd = listen_fd;
    atomic_init(&d->stop, 0);
    atomic_init(&d->done, 0);
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);   /* processes race for each connection */
    d->l = loop_new(err, errlen);
    if (d->l == NULL) goto fail;
    rc = pthread_create(&d->th, NULL, direct_main, d);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the stream-listen thread: %s", strerror(rc));
        goto fail;
    }
    return d;
fail:
    loop_free(d->l);
    free(d);
    return NULL;
}

int direct_stop(direct *d, int budget_ms)
{
    uint64_t end = now_ms() + (uint64_t)budget_ms;
    if (d == NULL) return 0;
    atomic_store_explicit(&d->stop, 1, memory_order_release);
    loop_wake(d->l);
    while (!atomic_load_explicit(&d->done, memory_order_acquire)) {
        if (now_ms() >= end) return -1;       /* busy in a request (a Redis call): left running */
        sleep_ms(5);
    }
    pthread_join(d->th, NULL);
    loop_free(d->l);
    free(d);
    return 0;
}
