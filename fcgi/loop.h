/* loop — a responder process's event loop: file descriptors with callbacks
 * (epoll), timers, and a wake eventfd that other threads and signal handlers
 * write. It knows nothing of what it drives: the hub's streams and the Redis
 * feed each register their own handles (as in libuv, handles are embedded
 * in their owner's struct; LOOP_CONTAINER gets the owner back).
 *
 * One turn (loop_run_once): wait for I/O until the earliest timer or the
 * caller's limit, call each ready handle's callback, then each timer that is
 * due (in the order they were registered; a timer re-armed by its callback
 * waits for the next turn). A callback may stop other handles; their memory
 * must stay valid until the turn ends (a timer due "now" runs after every
 * I/O callback of the turn: the place to free it).
 *
 * Threads: only the thread that runs the loop calls these functions, except
 * loop_wake and writing loop_wake_fd (any thread, signal handlers too). */
#ifndef BIRDFEED_LOOP_H
#define BIRDFEED_LOOP_H

#include <stddef.h>
#include <stdint.h>

/* The struct that holds member `member` at ptr. */
#define LOOP_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

typedef struct loop loop;

/* Events a handle asks for, and events it is told about. */
enum {
    LOOP_READ = 1,     /* readable (also reported when the peer closed) */
    LOOP_WRITE = 2,    /* writable */
    LOOP_HUP = 4       /* reported only: the peer closed, or an error is pending */
};

typedef struct loop_io loop_io;
typedef void (*loop_io_fn)(loop *l, loop_io *io, unsigned revents);
/* A file descriptor watched by the loop. The owner keeps the fd (a stream
 * has thousands of these: the handle is one pointer). The loop's field. */
struct loop_io {
    loop_io_fn fn;            /* NULL while stopped */
};

typedef struct loop_timer loop_timer;
typedef void (*loop_timer_fn)(loop_timer *t);
/* A timer: fires once when the monotonic clock (now_us) reaches due_us. */
struct loop_timer {
    uint64_t due_us;
    int armed;
    loop_timer_fn fn;
    loop_timer *next;         /* the loop's list of timers */
};

/* A new loop. NULL with the reason in err when epoll or eventfd fail. */
loop *loop_new(char *err, size_t errlen);
/* Free the loop; every handle must be stopped and every timer removed. l may be NULL. */
void loop_free(loop *l);

/* Watch fd for events (LOOP_READ | LOOP_WRITE); fn is called with what
 * happened. 0 ok, -1 with errno set (io stays stopped). */
int loop_io_start(loop *l, loop_io *io, int fd, unsigned events, loop_io_fn fn);
/* Change what a started io (watching fd) asks for. */
void loop_io_set(loop *l, loop_io *io, int fd, unsigned events);
/* Stop watching fd (not closed: the caller closes it after). io may be
 * stopped already. */
void loop_io_stop(loop *l, loop_io *io, int fd);

/* Keep a pointer for the loop's owner (as libuv's loop->data): the hub
 * keeps itself here for the callbacks of its streams. */
void loop_set_data(loop *l, void *data);
/* The pointer kept by loop_set_data (NULL at first). */
void *loop_data(const loop *l);

/* Register t (disarmed) with callback fn; t stays registered (its memory
 * valid) until loop_timer_remove. */
void loop_timer_init(loop *l, loop_timer *t, loop_timer_fn fn);
/* Unregister t; never from a timer callback. */
void loop_timer_remove(loop *l, loop_timer *t);
/* Arm t to fire at due_us (now_us() clock; a time in the past fires this
 * turn, after the I/O callbacks), replacing an earlier arming. */
void loop_timer_at(loop_timer *t, uint64_t due_us);
/* Disarm t (it may be disarmed already). */
void loop_timer_cancel(loop_timer *t);

/* Called on the loop's thread each time the loop is woken (loop_wake or a
 * write to loop_wake_fd). One callback; NULL removes it. */
void loop_on_wake(loop *l, void (*fn)(void *arg), void *arg);
/* Any thread: wake the loop. */
void loop_wake(loop *l);
/* The eventfd behind loop_wake: a signal handler may write 8 bytes to it. */
int loop_wake_fd(const loop *l);

/* One turn: wait at most max_wait_ms (less when a timer is due sooner), then
 * call the callbacks of what happened and of the timers that are due. */
void loop_run_once(loop *l, int max_wait_ms);

#endif
