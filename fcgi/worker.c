#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fcgiapp.h>

#include "closer.h"
#include "counters.h"
#include "direct.h"
#include "filterset.h"
#include "http.h"
#include "hub.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "proc.h"
#include "router.h"
#include "util.h"

#define CLOSER_MAX 1024              /* answered connections closing at once, at most */
#define CLOSER_TIMEOUT_MS 30000      /* how long the rest of a body nobody reads is read off */

/* Signal plumbing, the only file-scope state: a signal handler gets no
 * argument, so what it touches must be reachable without one. The flags are
 * volatile sig_atomic_t (all a handler may portably write); wake_fd is the
 * running loop's eventfd, set before the handlers can fire and cleared
 * before the loop goes. */
static volatile sig_atomic_t got_stop, got_reload;
static volatile sig_atomic_t wake_fd = -1;

/* What the acceptor threads share. */
struct acceptors {
    const proc *p;
    int listen_fd;
    const listen_allow *allow;       /* who may connect (listen.h) */
    atomic_int stop;                 /* stop accepting */
    _Atomic uint64_t refused_log_ms; /* when a refused peer was last logged */
    atomic_ullong refused;           /* peers refused since then */
};

struct acceptor {
    pthread_t th;
    struct acceptors *all;
    atomic_int done;                 /* the thread has left its loop */
};

void worker_signal(enum worker_signal what)
{
    if (what == WORKER_STOP) got_stop = 1;
    else got_reload = 1;
    if (wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(wake_fd, &one, sizeof one);
        (void)r;
    }
}

/* SIGHUP, after the log file has been reopened: what is cached from files
 * is read again (the credentials). */
static void reload(const proc *p)
{
    char err[512];
    log_info("worker.reload", "pid=%d", (int)getpid());
    if (authz_reload(p->authz, err, sizeof err) < 0)
        log_error("auth.reload_failed", "err=\"%s\" kept=old_tokens", err);
}

static void on_usr1(int sig) { (void)sig; }

/* Is the peer on fd not on web-server-addrs? Then it is logged (at most
 * once a second, with the count, so a scan cannot flood the log) and the
 * caller closes fd unanswered (the web server, if it is one, answers 502).
 * 1 refused, 0 allowed. */
static int peer_refused(struct acceptors *all, int fd)
{
    char peer[64];
    if (listen_allow_peer(all->allow, fd, peer, sizeof peer)) return 0;
    unsigned long long n = atomic_fetch_add(&all->refused, 1) + 1;
    uint64_t now = now_ms(), last = atomic_load(&all->refused_log_ms);
    if (now - last >= 1000 && atomic_compare_exchange_strong(&all->refused_log_ms, &last, now)) {
        atomic_fetch_sub(&all->refused, n);
        log_warn("fcgi.peer_refused", "peer=%s refused=%llu why=\"not on web-server-addrs\"", peer, n);
    }
    return 1;
}

/* The next connection, accepted here rather than by libfcgi: libfcgi reads
 * a whole request (blocking, without a deadline) before its caller sees
 * the connection, and checks no IPv6 peer against web-server-addrs, so a
 * refused peer that sends nothing would hold this thread. Here it is
 * closed before a byte is read. The open connection goes to libfcgi in
 * r->ipcFd, with keepConnection set so that FCGX_Accept_r's opening
 * FCGX_Finish_r keeps it (the request's own flags then replace it): libfcgi
 * only reads the request. 0 ok; -1 with errno (EINTR: interrupted). */
static int accept_next(struct acceptors *all, FCGX_Request *r)
{
    for (;;) {
        int fd = accept4(all->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) return -1;
        if (peer_refused(all, fd)) {
            close(fd);
            continue;
        }
        int one = 1;               /* as libfcgi does; fails harmlessly on unix sockets */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        r->ipcFd = fd;
        r->keepConnection = 1;
        return 0;
    }
}

static void *acceptor_main(void *arg)
{
    struct acceptor *a = arg;
    struct acceptors *all = a->all;
    FCGX_Request r;
    http_ctx *ctx = http_ctx_new(all->p);

    FCGX_InitRequest(&r, all->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
    while (!atomic_load_explicit(&all->stop, memory_order_acquire)) {
        /* A connection the web server kept (FastCGI keep-conn) brings its
         * next request on the same fd; otherwise accept a new one. */
        int rc = r.ipcFd >= 0 || accept_next(all, &r) == 0 ? FCGX_Accept_r(&r) : -errno;
        if (rc < 0) {
            if (atomic_load_explicit(&all->stop, memory_order_acquire)) break;
            if (rc != -EINTR) {
                log_warn("acceptor.accept_failed", "err=\"%s\"", strerror(-rc));
                sleep_ms(rc == -EMFILE || rc == -ENFILE ? 100 : 10);
            }
            continue;
        }
        /* After a broken request libfcgi accepts the next connection itself
         * (and checks only IPv4 peers): look at that one here. */
        if (peer_refused(all, r.ipcFd)) {
            int fd = r.ipcFd;
            FCGX_Free(&r, 0);              /* libfcgi's buffers; the fd is closed here, at once */
            close(fd);
            FCGX_InitRequest(&r, all->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
            continue;
        }
        http_req *req = http_req_new(ctx, &r);
        router_dispatch(req);
        http_finish(req);
        http_req_free(req);
    }
    if (r.ipcFd >= 0) FCGX_Free(&r, 1);
    http_ctx_free(ctx);
    atomic_store_explicit(&a->done, 1, memory_order_release);
    return NULL;
}

/* Interrupt acceptors blocked in accept(2) or a read until every one has
 * left, for at most budget_ms: one busy in a call that signals do not end (a
 * database that does not answer, an archive query) is left running, so that
 * SIGTERM still ends the streams and the process within 2 s. Joins those
 * that left; returns how many did not. */
static int stop_acceptors(struct acceptors *all, struct acceptor *as, int n, int budget_ms)
{
    uint64_t end = now_ms() + (uint64_t)budget_ms;
    int left;
    atomic_store_explicit(&all->stop, 1, memory_order_release);
    for (;;) {
        left = 0;
        for (int i = 0; i < n; i++)
            if (!atomic_load_explicit(&as[i].done, memory_order_acquire)) {
                pthread_kill(as[i].th, SIGUSR1);
                left++;
            }
        if (left == 0 || now_ms() >= end) break;
        sleep_ms(5);
    }
    for (int i = 0; i < n; i++)
        if (atomic_load_explicit(&as[i].done, memory_order_acquire)) pthread_join(as[i].th, NULL);
    return left;
}

static void proc_close(proc *p)
{
    hub_free(p->hub);
    closer_free(p->closer);
    loop_free(p->loop);
    filterset_free(p->filters);
    counters_free(p->counters);
    memset(p, 0, sizeof *p);
}

/* The process context: every part made once, here, after fork. 0 ok, -1
 * (logged) when the event loop cannot be made. */
static int proc_open(proc *p, const config *cfg, authz *acc)
{
    filter_limits lim;
    char err[256];
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->authz = acc;
    p->loop = loop_new(err, sizeof err);
    if (p->loop == NULL) {
        log_error("worker.init_failed", "err=\"%s\"", err);
        return -1;
    }
    filter_limits_from_config(&lim, cfg);
    p->filters = filterset_new(&lim);
    p->counters = counters_new();
    p->closer = closer_new(p->loop, CLOSER_MAX, CLOSER_TIMEOUT_MS, err, sizeof err);
    if (p->closer == NULL) {
        log_error("worker.init_failed", "err=\"%s\"", err);
        proc_close(p);
        return -1;
    }
    p->hub = hub_new(cfg, p->loop, p->filters);
    return 0;
}

int worker_run(int listen_fd, int stream_fd, const config *cfg, authz *acc, const listen_allow *allow, int n_acceptors,
               int index)
{
    struct acceptors all;
    struct acceptor *as;
    struct sigaction sa;
    proc p;
    direct *dir = NULL;
    int started = 0, failed = 0;

    if (proc_open(&p, cfg, acc) < 0) return 1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;   /* no SA_RESTART: accept(2) returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    wake_fd = loop_wake_fd(p.loop);
    p.stats = metrics_publish_start(&p);

    all.p = &p;
    all.listen_fd = listen_fd;
    all.allow = allow;
    atomic_init(&all.stop, 0);
    atomic_init(&all.refused_log_ms, 0);
    atomic_init(&all.refused, 0);
    as = xcalloc((size_t)n_acceptors, sizeof *as);
    for (int i = 0; i < n_acceptors; i++) {
        as[i].all = &all;
        atomic_init(&as[i].done, 0);
        int rc = pthread_create(&as[i].th, NULL, acceptor_main, &as[i]);
        if (rc != 0) {                  /* pthread_create returns the error; errno is not set */
            log_error("worker.thread_failed", "err=\"%s\"", strerror(rc));
            break;
        }
        started++;
    }
    if (started > 0 && stream_fd >= 0) {
        char err[256];
        dir = direct_start(&p, stream_fd, err, sizeof err);
        if (dir == NULL) {               /* asked for and not served: stop, as when nothing starts */
            log_error("worker.stream_listen_failed", "err=\"%s\"", err);
            failed = got_stop = 1;
        }
    }
    log_info("worker.ready", "worker=%d pid=%d acceptors=%d stream_listen=%s", index, (int)getpid(), started,
             dir ? "yes" : "no");
    while (!got_stop && started > 0) {
        loop_run_once(p.loop, 1000);
        if (got_reload) {
            got_reload = 0;
            log_reopen();
            reload(&p);
        }
    }
    /* SIGTERM: new streams get a retry-only answer, acceptors stop, then
     * every stream ends; all within 2 s. */
    uint64_t t0 = now_us();
    hub_close_admission(p.hub);
    int stuck = stop_acceptors(&all, as, started, 500);
    if (direct_stop(dir, 300) < 0) stuck++;   /* the direct thread counts as one more acceptor */
    statpub_stop(p.stats);
    p.stats = NULL;
    int spent = (int)((now_us() - t0) / 1000);
    wake_fd = -1;
    hub_shutdown(p.hub, spent < 1500 ? 1500 - spent : 0);
    if (stuck > 0) {
        /* Their threads still use the process context: exit without
         * freeing it (the streams have ended; the kernel closes the rest). */
        log_warn("worker.stopped", "worker=%d pid=%d acceptors_still_busy=%d", index, (int)getpid(), stuck);
        _exit(0);
    }
    proc_close(&p);
    log_info("worker.stopped", "worker=%d pid=%d", index, (int)getpid());
    free(as);
    return started > 0 && !failed ? 0 : 1;
}
