#include "loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util.h"

#define EVENTS_PER_TURN 256

struct loop {
    int ep;
    int wake_fd;
    loop_io wake;
    void *data;
    void (*on_wake)(void *arg);
    void *wake_arg;
    loop_timer *timers;
};

static uint32_t epoll_events(unsigned events)
{
    return (events & LOOP_READ ? EPOLLIN | EPOLLRDHUP : 0) | (events & LOOP_WRITE ? EPOLLOUT : 0);
}

static void on_wake_fd(loop *l, loop_io *io, unsigned revents)
{
    uint64_t v;
    ssize_t r = read(l->wake_fd, &v, sizeof v);
    (void)r;
    (void)io;
    (void)revents;
    if (l->on_wake) l->on_wake(l->wake_arg);
}

loop *loop_new(char *err, size_t errlen)
{
    loop *l = xcalloc(1, sizeof *l);
    int wfd;
    l->wake_fd = -1;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    l->wake_fd = wfd;
    if (l->ep < 0 || wfd < 0 || loop_io_start(l, &l->wake, wfd, LOOP_READ, on_wake_fd) < 0) {
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        if (wfd >= 0) close(wfd);
        if (l->ep >= 0) close(l->ep);
        free(l);
        return NULL;
    }
    return l;
}

void loop_free(loop *l)
{
    if (l == NULL) return;
    loop_io_stop(l, &l->wake, l->wake_fd);
    close(l->wake_fd);
    close(l->ep);
    free(l);
}

int loop_io_start(loop *l, loop_io *io, int fd, unsigned events, loop_io_fn fn)
{
    struct epoll_event ev;
    ev.events = epoll_events(events);
    ev.data.ptr = io;
    io->fn = NULL;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) return -1;
    io->fn = fn;
    return 0;
}

void loop_io_set(loop *l, loop_io *io, int fd, unsigned events)
{
    struct epoll_event ev;
    if (io->fn == NULL) return;
    ev.events = epoll_events(events);
    ev.data.ptr = io;
    epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
}

void loop_io_stop(loop *l, loop_io *io, int fd)
{
    if (io->fn == NULL) return;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    io->fn = NULL;
}

void loop_set_data(loop *l, void *data) { l->data = data; }
void *loop_data(const loop *l) { return l->data; }

void loop_timer_init(loop *l, loop_timer *t, loop_timer_fn fn)
{
    t->due_us = 0;
    t->armed = 0;
    t->fn = fn;
    t->next = NULL;
    loop_timer **pp = &l->timers;      /* appended: timers fire in the order they were registered */
    while (*pp) pp = &(*pp)->next;
    *pp = t;
}

void loop_timer_remove(loop *l, loop_timer *t)
{
    for (loop_timer **pp = &l->timers; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    t->next = NULL;
    t->armed = 0;
}

void loop_timer_at(loop_timer *t, uint64_t due_us)
{
    t->due_us = due_us;
    t->armed = 1;
}

void loop_timer_cancel(loop_timer *t)
{
    t->armed = 0;
}

void loop_on_wake(loop *l, void (*fn)(void *arg), void *arg)
{
    l->on_wake = fn;
    l->wake_arg = arg;
}

void loop_wake(loop *l)
{
    uint64_t one = 1;
    ssize_t w = write(l->wake_fd, &one, sizeof one);
    (void)w;
}

int loop_wake_fd(const loop *l)
{
    return l->wake_fd;
}

/* Fire the timers that are due, each at most once (callbacks may arm or
 * cancel timers, never remove one). */
static void run_timers(loop *l)
{
    uint64_t now = now_us();
    for (loop_timer *t = l->timers; t; t = t->next) {
        if (!t->armed || t->due_us > now) continue;
        t->armed = 0;
        t->fn(t);
    }
}

void loop_run_once(loop *l, int max_wait_ms)
{
    struct epoll_event evs[EVENTS_PER_TURN];
    int timeout = max_wait_ms < 0 ? 0 : max_wait_ms, n;
    uint64_t now = now_us();

    for (loop_timer *t = l->timers; t; t = t->next) {
        if (!t->armed) continue;
        uint64_t wait_ms = t->due_us > now ? (t->due_us - now + 999) / 1000 : 0;
        if (wait_ms < (uint64_t)timeout) timeout = (int)wait_ms;
    }
    n = epoll_wait(l->ep, evs, (int)ARRAY_LEN(evs), timeout);
    for (int i = 0; i < n; i++) {
        loop_io *io = evs[i].data.ptr;
        uint32_t e = evs[i].events;
        unsigned rev = (e & EPOLLIN ? LOOP_READ : 0) | (e & EPOLLOUT ? LOOP_WRITE : 0) |
                       (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP) ? LOOP_HUP : 0);
        if (io->fn == NULL) continue;     /* stopped earlier in this turn */
        io->fn(l, io, rev);
    }
    run_timers(l);
}
