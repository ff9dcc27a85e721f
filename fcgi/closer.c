#include "closer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

typedef struct conn {
    loop_io io;
    struct closer *lg;
    int fd;
    uint64_t deadline_ms;
    struct conn *prev, *next;        /* by deadline: oldest first */
} conn;

struct closer {
    loop *l;
    size_t max;
    int timeout_ms;
    /* handover from acceptors */
    pthread_mutex_t mu;
    int *inbox;
    size_t ninbox, capinbox;
    int wake_fd;
    loop_io wake;
    atomic_size_t count;             /* lingering, handed-over included */
    /* the loop's */
    conn *head, *tail;
    conn *grave;                     /* closed, freed after the loop turn */
    loop_timer timer;                /* the oldest deadline; frees the grave */
};

static void conn_close(closer *lg, conn *c)
{
    loop_io_stop(lg->l, &c->io, c->fd);
    close(c->fd);
    if (c->prev) c->prev->next = c->next;
    else lg->head = c->next;
    if (c->next) c->next->prev = c->prev;
    else lg->tail = c->prev;
    c->next = lg->grave;             /* the loop may still hold an event for it */
    lg->grave = c;
    atomic_fetch_sub_explicit(&lg->count, 1, memory_order_relaxed);
    loop_timer_at(&lg->timer, 0);
}

static void on_readable(loop *l, loop_io *io, unsigned revents)
{
    conn *c = LOOP_CONTAINER(io, conn, io);
    char drop[4096];
    (void)l;
    (void)revents;
    for (;;) {
        ssize_t n = read(c->fd, drop, sizeof drop);
        if (n > 0 || (n < 0 && errno == EINTR)) continue;
        if (n < 0 && errno == EAGAIN) return;
        break;                       /* the peer closed, or an error */
    }
    conn_close(c->lg, c);
}

/* Deadlines passed (the list is oldest first), and the grave. */
static void on_timer(loop_timer *t)
{
    closer *lg = LOOP_CONTAINER(t, closer, timer);
    uint64_t now = now_ms();
    while (lg->grave) {
        conn *c = lg->grave;
        lg->grave = c->next;
        free(c);
    }
    while (lg->head && lg->head->deadline_ms <= now) {
        log_debug("closer.timeout", "fd=%d", lg->head->fd);
        conn_close(lg, lg->head);
    }
    if (lg->head) loop_timer_at(&lg->timer, lg->head->deadline_ms * 1000);
}

/* Start lingering on fd (its write side is shut already). */
static void add_now(closer *lg, int fd)
{
    conn *c = xcalloc(1, sizeof *c);
    c->lg = lg;
    c->fd = fd;
    c->deadline_ms = now_ms() + (uint64_t)lg->timeout_ms;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (loop_io_start(lg->l, &c->io, fd, LOOP_READ, on_readable) < 0) {
        close(fd);
        free(c);
        atomic_fetch_sub_explicit(&lg->count, 1, memory_order_relaxed);
        return;
    }
    c->prev = lg->tail;
    if (lg->tail) lg->tail->next = c;
    else lg->head = c;
    lg->tail = c;
    if (!lg->timer.armed) loop_timer_at(&lg->timer, c->deadline_ms * 1000);
}

static void on_wake(loop *l, loop_io *io, unsigned revents)
{
    closer *lg = LOOP_CONTAINER(io, closer, wake);
    uint64_t v;
    int *in;
    size_t n;
    ssize_t r = read(lg->wake_fd, &v, sizeof v);
    (void)r;
    (void)l;
    (void)revents;
    pthread_mutex_lock(&lg->mu);
    in = lg->inbox;
    n = lg->ninbox;
    lg->inbox = NULL;
    lg->ninbox = lg->capinbox = 0;
    pthread_mutex_unlock(&lg->mu);
    for (size_t i = 0; i < n; i++) add_now(lg, in[i]);
    free(in);
}

void closer_add(closer *lg, int fd)
{
    uint64_t one = 1;
    ssize_t w;
    shutdown(fd, SHUT_WR);           /* the end of the answer, now */
    if (atomic_fetch_add_explicit(&lg->count, 1, memory_order_relaxed) >= lg->max) {
        atomic_fetch_sub_explicit(&lg->count, 1, memory_order_relaxed);
        log_warn("closer.full", "max=%zu", lg->max);
        close(fd);
        return;
    }
    pthread_mutex_lock(&lg->mu);
    if (lg->ninbox == lg->capinbox) {
        lg->capinbox = lg->capinbox ? lg->capinbox * 2 : 16;
        lg->inbox = xrealloc(lg->inbox, lg->capinbox * sizeof *lg->inbox);
    }
    lg->inbox[lg->ninbox++] = fd;
    pthread_mutex_unlock(&lg->mu);
    w = write(lg->wake_fd, &one, sizeof one);
    (void)w;
}

closer *closer_new(loop *l, size_t max, int timeout_ms, char *err, size_t errlen)
{
    closer *lg = xcalloc(1, sizeof *lg);
    lg->l = l;
    lg->max = max;
    lg->timeout_ms = timeout_ms;
    pthread_mutex_init(&lg->mu, NULL);
    lg->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (lg->wake_fd < 0 || loop_io_start(l, &lg->wake, lg->wake_fd, LOOP_READ, on_wake) < 0) {
        snprintf(err, errlen, "closer: %s", strerror(errno));
        if (lg->wake_fd >= 0) close(lg->wake_fd);
        pthread_mutex_destroy(&lg->mu);
        free(lg);
        return NULL;
    }
    loop_timer_init(l, &lg->timer, on_timer);
    return lg;
}

void closer_free(closer *lg)
{
    if (lg == NULL) return;
    while (lg->head) conn_close(lg, lg->head);
    while (lg->grave) {
        conn *c = lg->grave;
        lg->grave = c->next;
        free(c);
    }
    for (size_t i = 0; i < lg->ninbox; i++) close(lg->inbox[i]);
    free(lg->inbox);
    loop_timer_remove(lg->l, &lg->timer);
    loop_io_stop(lg->l, &lg->wake, lg->wake_fd);
    close(lg->wake_fd);
    pthread_mutex_destroy(&lg->mu);
    free(lg);
}
