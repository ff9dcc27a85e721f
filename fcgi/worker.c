#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "api_filters.h"
#include "http.h"
#include "hub.h"
#include "log.h"
#include "loop.h"
#include "selection.h"
#include "metrics.h"
#include "router.h"
#include "stream.h"
#include "util.h"

static volatile sig_atomic_t w_stop, w_reload;
static int w_wake = -1;
static int a_stop;   /* acceptors: stop accepting (atomic) */
static hub *w_hub;

struct acceptor {
    pthread_t th;
    int listen_fd;
    const config *cfg;
    int done;        /* atomic: the thread has left its loop */
    int index;
};

void worker_signal(enum worker_signal what)
{
    if (what == WORKER_STOP) w_stop = 1;
    else w_reload = 1;
    if (w_wake >= 0) {
        uint64_t one = 1;
        ssize_t r = write(w_wake, &one, sizeof one);
        (void)r;
    }
}

/* SIGHUP, after the log file has been reopened: every module that caches
 * files or limits re-reads them from here (bearer tokens, filter limits). */
static void reload(void)
{
    log_info("worker.reload", "pid=%d", (int)getpid());
    api_filters_reload();
}

static void on_usr1(int sig) { (void)sig; }

hub *worker_hub(void) { return w_hub; }

static void *acceptor_main(void *arg)
{
    struct acceptor *a = arg;
    FCGX_Request r;
    http_ctx *ctx = http_ctx_new(a->cfg);

    FCGX_InitRequest(&r, a->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
    while (!__atomic_load_n(&a_stop, __ATOMIC_ACQUIRE)) {
        int rc = FCGX_Accept_r(&r);
        if (rc < 0) {
            if (__atomic_load_n(&a_stop, __ATOMIC_ACQUIRE)) break;
            if (rc != -EINTR) {
                log_warn("acceptor.accept_failed", "err=\"%s\"", strerror(-rc));
                usleep(rc == -EMFILE || rc == -ENFILE ? 100000 : 10000);
            }
            continue;
        }
        http_req *req = http_req_new(ctx, &r);
        router_dispatch(req);
        int detached = http_detached(req);
        http_req_free(req);
        if (detached) FCGX_InitRequest(&r, a->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
        else FCGX_Finish_r(&r);
    }
    if (r.ipcFd >= 0) FCGX_Free(&r, 1);
    http_ctx_free(ctx);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Interrupt acceptors blocked in accept(2) until every one has left. */
static void stop_acceptors(struct acceptor *as, int n)
{
    __atomic_store_n(&a_stop, 1, __ATOMIC_RELEASE);
    for (int round = 0; round < 400; round++) {
        int left = 0;
        for (int i = 0; i < n; i++)
            if (!__atomic_load_n(&as[i].done, __ATOMIC_ACQUIRE)) {
                pthread_kill(as[i].th, SIGUSR1);
                left++;
            }
        if (left == 0) break;
        usleep(5000);
    }
    for (int i = 0; i < n; i++) pthread_join(as[i].th, NULL);
}

int worker_run(int listen_fd, const config *cfg, int n_acceptors, int index)
{
    struct acceptor *as = xcalloc((size_t)n_acceptors, sizeof *as);
    struct sigaction sa;
    int started = 0;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;   /* no SA_RESTART: accept(2) returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    char err[256];
    loop *l = loop_new(err, sizeof err);
    if (l == NULL) {
        log_error("worker.init_failed", "err=\"%s\"", err);
        free(as);
        return 1;
    }
    hub *h = hub_new(cfg, l, selection_filters());
    stream_set_hub(h);
    w_hub = h;
    w_wake = loop_wake_fd(l);
    metrics_start(cfg, h);

    for (int i = 0; i < n_acceptors; i++) {
        as[i].listen_fd = listen_fd;
        as[i].cfg = cfg;
        as[i].index = i;
        if (pthread_create(&as[i].th, NULL, acceptor_main, &as[i]) != 0) {
            log_error("worker.thread_failed", "err=\"%s\"", strerror(errno));
            break;
        }
        started++;
    }
    log_info("worker.ready", "worker=%d pid=%d acceptors=%d", index, (int)getpid(), started);
    while (!w_stop && started > 0) {
        loop_run_once(l, 1000);
        if (w_reload) {
            w_reload = 0;
            log_reopen();
            reload();
        }
    }
    /* SIGTERM: stop accepting, then end every stream; all within 2 s. */
    uint64_t t0 = now_us();
    stop_acceptors(as, started);
    metrics_stop();
    int spent = (int)((now_us() - t0) / 1000);
    w_wake = -1;
    hub_shutdown(h, spent < 1500 ? 1500 - spent : 0);
    stream_set_hub(NULL);
    w_hub = NULL;
    hub_free(h);
    loop_free(l);
    log_info("worker.stopped", "worker=%d pid=%d", index, (int)getpid());
    free(as);
    return started > 0 ? 0 : 1;
}
