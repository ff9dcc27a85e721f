/* birdfeed-fcgi — the FastCGI responder: GET /stream (SSE) and the REST API.
 *
 * Process model: the master (only with --workers N > 1) forks N workers that
 * share the listen socket and restarts one that dies, with a backoff. Each
 * worker runs one hub (the event loop that owns every stream connection, in
 * the main thread) and a few acceptor threads that take requests from
 * libfcgi, answer REST calls themselves and hand streams to the hub. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "authz.h"
#include "backoff.h"
#include "config.h"
#include "listen.h"
#include "log.h"
#include "readsrv.h"
#include "util.h"
#include "worker.h"

#define OPT_BASE 1000
#define MAX_WORKERS 256
#define RESTART_BASE_MS 100       /* a worker that keeps dying is restarted after 0.1 s, … */
#define RESTART_MAX_MS 10000      /* … doubling up to 10 s */
#define LONG_LIFE_MS 10000        /* a worker that lived this long is restarted at once */
#define READ_CHECK_MS 1000        /* redis-read URL: connect + ROLE at start, each step */

/* Signal plumbing, the only file-scope state: a handler gets no argument, so
 * what it touches must be reachable without one (volatile sig_atomic_t: all
 * a handler may portably write). master_wake is the master's eventfd. */
static volatile sig_atomic_t got_term, got_hup, got_chld;
static volatile sig_atomic_t master_wake = -1;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: birdfeed-fcgi [--listen PATH|HOST:PORT] [--workers N] [options]\n"
            "\n"
            "The birdfeed FastCGI responder: GET /stream (Server-Sent Events) and the\n"
            "REST API under /api/, behind nginx, lighttpd or Apache.\n"
            "\n"
            "Each process writes its counters every 2 s to the Redis hash\n"
            "<prefix>metrics:proc:<node>:<pid> (expiring after 6 s); GET /api/metrics sums\n"
            "them over the whole deployment, in the Prometheus text format.\n"
            "\n"
            "Without --listen it serves the FastCGI listen socket it finds on fd 0, as\n"
            "spawn-fcgi, lighttpd (bin-path), mod_fcgid or systemd (StandardInput=socket)\n"
            "hand it over.\n"
            "\n"
            "  -l, --listen ADDR     listen on a unix socket PATH (contains '/'), HOST:PORT,\n"
            "                        [V6]:PORT or :PORT (all interfaces)\n"
            "  -w, --workers N       fork N worker processes sharing the socket (1..%d,\n"
            "                        default 1: no master); a worker that dies is restarted\n"
            "  -a, --acceptors N     acceptor threads per worker (1..64, default 4)\n"
            "\n"
            "With stream-listen set (below), each worker also serves GET /stream itself on\n"
            "that address, over plain HTTP/1.1, to browsers or a TCP proxy: no web server\n"
            "on a stream's path, so it costs a few hundred bytes and one write per event.\n"
            "The README's \"Direct streams\" says when to use it.\n"
            "\n"
            "      --check-config    print the effective configuration and exit\n"
            "  -h, --help            this text\n"
            "\n"
            "Signals: SIGTERM/SIGINT end every stream cleanly and exit within 2 s;\n"
            "SIGHUP reopens the log file and reloads tokens.\n"
            "\n"
            "Settings (flag, else environment variable, else default):\n",
            MAX_WORKERS);
    config_usage(out);
}

/* Wake the master's poll (async-signal-safe: one write to an eventfd). */
static void wake_master(void)
{
    if (master_wake >= 0) {
        uint64_t one = 1;
        ssize_t w = write(master_wake, &one, sizeof one);
        (void)w;
    }
}

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
    worker_signal(WORKER_STOP);
    wake_master();
}

static void on_hup(int sig)
{
    (void)sig;
    got_hup = 1;
    worker_signal(WORKER_RELOAD);
    wake_master();
}

static void on_chld(int sig)
{
    (void)sig;
    got_chld = 1;
    wake_master();
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = fn == SIG_DFL || fn == SIG_IGN ? 0 : SA_RESTART;
    sigaction(sig, &sa, NULL);
}

/* More file descriptors: every stream holds one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct child {
    pid_t pid;
    uint64_t started_ms;
    uint64_t restart_at_ms;
    backoff bo;                   /* delays between restarts of a worker that keeps dying */
    unsigned quick_deaths;        /* deaths in a row, each soon after its start */
};

/* What the master hands each worker it forks. */
struct master {
    int listen_fd;
    int stream_fd;                /* stream-listen, -1: none */
    const config *cfg;
    authz *acc;
    const listen_allow *allow;
    int acceptors;
};

static pid_t spawn_worker(const struct master *m, int index)
{
    pid_t master = getpid(), pid = fork();
    if (pid < 0) {
        log_error("master.fork_failed", "err=\"%s\"", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* No worker outlives its master: when the master dies without
         * stopping them (a crash, SIGKILL, the OOM killer — possibly just
         * after it restarted a worker), the kernel sends each SIGTERM and it
         * ends its streams and exits, instead of keeping the listen socket
         * from the master started next ("Address already in use") and
         * serving on alone with its own --max-clients. The master may have
         * died before this line: then there is no one to wait for. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != master) _exit(0);
        close(master_wake);
        master_wake = -1;
        set_handler(SIGCHLD, SIG_DFL);
        exit(worker_run(m->listen_fd, m->stream_fd, m->cfg, m->acc, m->allow, m->acceptors, index));
    }
    log_info("master.worker_started", "worker=%d pid=%d", index, (int)pid);
    return pid;
}

/* The master: keep n workers alive until SIGTERM/SIGINT, forward SIGHUP
 * (after reloading the credentials, which workers forked later inherit). */
static int run_master(const struct master *m, int n)
{
    struct child kids[MAX_WORKERS];
    int stopping = 0;
    uint64_t stop_deadline = 0;

    memset(kids, 0, sizeof kids);
    for (int i = 0; i < n; i++) {
        backoff_init(&kids[i].bo, RESTART_BASE_MS, RESTART_MAX_MS);
        kids[i].pid = spawn_worker(m, i);
        kids[i].started_ms = now_ms();
        if (kids[i].pid < 0) kids[i].restart_at_ms = kids[i].started_ms + 1000;
    }
    for (;;) {
        struct pollfd pfd = {master_wake, POLLIN, 0};
        int alive = 0;
        uint64_t now = now_ms();
        int timeout = 1000;

        if (got_term && !stopping) {
            stopping = 1;
            stop_deadline = now + 1900;   /* workers end streams within 1.5 s; none outlives 2 s */
            log_info("master.stopping", "workers=%d", n);
            for (int i = 0; i < n; i++)
                if (kids[i].pid > 0) kill(kids[i].pid, SIGTERM);
        }
        if (got_hup) {
            char err[512];
            got_hup = 0;
            log_reopen();
            log_info("master.reload", "workers=%d", n);
            if (authz_reload(m->acc, err, sizeof err) < 0)
                log_error("auth.reload_failed", "err=\"%s\" kept=old_tokens", err);
            for (int i = 0; i < n; i++)
                if (kids[i].pid > 0) kill(kids[i].pid, SIGHUP);
        }
        got_chld = 0;
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0) break;
            for (int i = 0; i < n; i++) {
                if (kids[i].pid != pid) continue;
                kids[i].pid = 0;
                if (stopping) break;
                /* Restart at once after a long life (and the first time), else back
                 * off: 0.1 s doubling to 10 s, with jitter so that workers dying
                 * together come back apart. */
                uint64_t delay = 0;
                if (now - kids[i].started_ms > LONG_LIFE_MS) {
                    kids[i].quick_deaths = 0;
                    backoff_reset(&kids[i].bo);
                }
                if (kids[i].quick_deaths++ > 0) delay = (uint64_t)backoff_next(&kids[i].bo);
                kids[i].restart_at_ms = now + delay;
                if (WIFSIGNALED(status))
                    log_error("master.worker_died", "worker=%d pid=%d signal=%d restart_in_ms=%llu", i, (int)pid,
                              WTERMSIG(status), (unsigned long long)delay);
                else
                    log_error("master.worker_exited", "worker=%d pid=%d status=%d restart_in_ms=%llu", i, (int)pid,
                              WEXITSTATUS(status), (unsigned long long)delay);
            }
        }
        for (int i = 0; i < n; i++) {
            if (kids[i].pid > 0) alive++;
            else if (!stopping && kids[i].restart_at_ms <= now) {
                kids[i].pid = spawn_worker(m, i);
                kids[i].started_ms = now;
                if (kids[i].pid < 0) kids[i].restart_at_ms = now + 1000;
                else alive++;
            } else if (!stopping && kids[i].restart_at_ms - now < (uint64_t)timeout) {
                timeout = (int)(kids[i].restart_at_ms - now);
            }
        }
        if (stopping) {
            if (alive == 0) break;
            if (now >= stop_deadline) {
                for (int i = 0; i < n; i++)
                    if (kids[i].pid > 0) kill(kids[i].pid, SIGKILL);
                stop_deadline = now + 1000000;
            }
            timeout = 50;
        }
        if (poll(&pfd, 1, timeout) > 0) {
            uint64_t v;
            ssize_t r = read(master_wake, &v, sizeof v);
            (void)r;
        }
    }
    log_info("master.stopped", "workers=%d", n);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option own[] = {
        {"listen", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"acceptors", required_argument, NULL, 'a'},
        {"check-config", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
    };
    struct option opts[128];
    size_t nopt = 0;
    config cfg;
    char err[512];
    const char *listen_addr = NULL;
    long long workers = 1, acceptors = 4;
    int check = 0, c, listen_fd, stream_fd = -1, rc;
    const char *why, *wsa, *wsa_from;
    authz *acc;
    listen_allow allow;

    config_init(&cfg);
    for (size_t i = 0; i < ARRAY_LEN(own); i++) opts[nopt++] = own[i];
    nopt += config_options(opts + nopt, ARRAY_LEN(opts) - nopt - 1, OPT_BASE);
    memset(&opts[nopt], 0, sizeof opts[nopt]);

    while ((c = getopt_long(argc, argv, "l:w:a:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen_addr = optarg; break;
        case 'w':
            if (parse_ll(optarg, 1, MAX_WORKERS, &workers, &why) < 0) {
                fprintf(stderr, "birdfeed-fcgi: --workers '%s' is %s (allowed 1..%d)\n", optarg, why, MAX_WORKERS);
                goto usage_error;
            }
            break;
        case 'a':
            if (parse_ll(optarg, 1, 64, &acceptors, &why) < 0) {
                fprintf(stderr, "birdfeed-fcgi: --acceptors '%s' is %s (allowed 1..64)\n", optarg, why);
                goto usage_error;
            }
            break;
        case 'C': check = 1; break;
        case 'h': usage(stdout); config_free(&cfg); return 0;
        case 'V': printf("birdfeed-fcgi %s\n", BIRDFEED_VERSION); config_free(&cfg); return 0;
        case '?': goto usage_error;
        default:
            rc = config_option(&cfg, c, OPT_BASE, optarg, err, sizeof err);
            if (rc < 0) {
                fprintf(stderr, "birdfeed-fcgi: %s\n", err);
                goto usage_error;
            }
            if (rc > 0) goto usage_error;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "birdfeed-fcgi: unexpected argument '%s'\n", argv[optind]);
        goto usage_error;
    }
    if (config_load_env(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed-fcgi: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    /* Who may connect: the setting, else FCGI_WEB_SERVER_ADDRS as libfcgi
     * would read it; either way checked here, and passed on to libfcgi. */
    wsa = cfg.web_server_addrs;
    wsa_from = "web-server-addrs";
    if (wsa == NULL && getenv("FCGI_WEB_SERVER_ADDRS")) {
        wsa = getenv("FCGI_WEB_SERVER_ADDRS");
        wsa_from = "FCGI_WEB_SERVER_ADDRS";
    }
    if (listen_allow_parse(wsa, &allow, err, sizeof err) < 0 || readsrv_check(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed-fcgi: %s%s\n", err,
                wsa == cfg.web_server_addrs || strncmp(err, "web-server-addrs", 16) ? "" : " (from FCGI_WEB_SERVER_ADDRS)");
        config_free(&cfg);
        return 2;
    }
    if (check) {
        config_print(&cfg, stdout);
        if (cfg.web_server_addrs == NULL && allow.n)
            printf("%-20s = %s  (env FCGI_WEB_SERVER_ADDRS)\n", "web-server-addrs", wsa);
        printf("%-20s = %s\n%-20s = %lld\n%-20s = %lld\n", "listen", listen_addr ? listen_addr : "(fd 0)",
               "workers", workers, "acceptors", acceptors);
        config_free(&cfg);
        return 0;
    }
    log_set_level((int)cfg.log_level);
    if (cfg.log_file && log_open(cfg.log_file) < 0) {
        fprintf(stderr, "birdfeed-fcgi: cannot open log file %s: %s\n", cfg.log_file, strerror(errno));
        config_free(&cfg);
        return 1;
    }
    raise_fd_limit();
    /* A redis-read URL must name a replica: reading from a master would show
     * tweets a failover can lose. One that cannot be asked now is checked
     * by every connect later (a promoted one is read on, with a warning). */
    rc = readsrv_check_start(&cfg, READ_CHECK_MS, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "birdfeed-fcgi: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    if (rc > 0) log_warn("fcgi.read_server_unchecked", "redis-read=%s err=\"%s\" (starting anyway)", cfg.redis_read, err);
    /* The credentials are read once here, so a bad tokens file stops the
     * start; workers inherit them and reload them on SIGHUP. */
    acc = authz_new(&cfg, err, sizeof err);
    if (acc == NULL) {
        fprintf(stderr, "birdfeed-fcgi: tokens file: %s\n", err);
        config_free(&cfg);
        return 1;
    }

    if (listen_addr) {
        listen_fd = listen_open(listen_addr, 4096, err, sizeof err);
        if (listen_fd < 0) {
            fprintf(stderr, "birdfeed-fcgi: %s\n", err);
            authz_free(acc);
            config_free(&cfg);
            return 1;
        }
    } else {
        if (listen_check_fd(0, err, sizeof err) < 0) {
            fprintf(stderr, "birdfeed-fcgi: %s\n", err);
            authz_free(acc);
            config_free(&cfg);
            return 2;
        }
        listen_fd = 0;
    }

    if (cfg.stream_listen) {
        stream_fd = listen_open(cfg.stream_listen, 4096, err, sizeof err);
        if (stream_fd < 0) {
            fprintf(stderr, "birdfeed-fcgi: stream-listen: %s\n", err);
            if (listen_fd != 0) close(listen_fd);
            if (listen_addr && strchr(listen_addr, '/')) unlink(listen_addr);
            authz_free(acc);
            config_free(&cfg);
            return 1;
        }
    }
    {
        char where[300], list[LISTEN_ALLOW_MAX * 48];
        if (allow.n == 0 && listen_beyond_loopback(listen_fd, where, sizeof where))
            log_warn("fcgi.unguarded",
                     "listen=%s is reachable beyond loopback and web-server-addrs is unset: anyone who reaches the "
                     "port can send FastCGI requests with any headers; set web-server-addrs to the web servers' "
                     "addresses",
                     where);
        /* libfcgi reads it in FCGX_Init; it checks IPv4 peers, workers the others */
        if (allow.n) {
            setenv("FCGI_WEB_SERVER_ADDRS", listen_allow_format(&allow, list, sizeof list), 1);
            log_info("fcgi.web_server_addrs", "allowed=%s from=%s", list, wsa_from);
        } else {
            unsetenv("FCGI_WEB_SERVER_ADDRS");
        }
    }
    /* Our handlers first: FCGX_Init only replaces default ones. */
    set_handler(SIGTERM, on_term);
    set_handler(SIGINT, on_term);
    set_handler(SIGHUP, on_hup);
    set_handler(SIGPIPE, SIG_IGN);
    if (FCGX_Init() != 0) {
        fprintf(stderr, "birdfeed-fcgi: FCGX_Init failed\n");
        authz_free(acc);
        config_free(&cfg);
        return 1;
    }
    log_info("fcgi.start", "listen=%s stream_listen=%s workers=%lld acceptors=%lld pid=%d",
             listen_addr ? listen_addr : "fd0", cfg.stream_listen ? cfg.stream_listen : "none", workers, acceptors,
             (int)getpid());
    if (workers > 1) {
        struct master m = {listen_fd, stream_fd, &cfg, acc, &allow, (int)acceptors};
        master_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        set_handler(SIGCHLD, on_chld);
        rc = run_master(&m, (int)workers);
        close(master_wake);
    } else {
        rc = worker_run(listen_fd, stream_fd, &cfg, acc, &allow, (int)acceptors, 0);
    }
    if (listen_addr && strchr(listen_addr, '/') && workers >= 1) unlink(listen_addr);
    if (cfg.stream_listen && strchr(cfg.stream_listen, '/')) unlink(cfg.stream_listen);
    authz_free(acc);
    config_free(&cfg);
    return rc;

usage_error:
    fprintf(stderr, "Try 'birdfeed-fcgi --help'.\n");
    config_free(&cfg);
    return 2;
}
