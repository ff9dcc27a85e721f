#include "log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

static const char *level_names[] = {"debug", "info", "warn", "error"};
static atomic_int cur_level = LOG_INFO;   /* read by every thread that logs */
static int log_fd = 2;
static char *log_path;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int log_level_parse(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(level_names); i++)
        if (strcmp(name, level_names[i]) == 0) return (int)i;
    return -1;
}

const char *log_level_name(int level)
{
    return level >= LOG_DEBUG && level <= LOG_ERROR ? level_names[level] : "?";
}

void log_set_level(int level) { atomic_store_explicit(&cur_level, level, memory_order_relaxed); }
int log_get_level(void) { return atomic_load_explicit(&cur_level, memory_order_relaxed); }

int log_open(const char *path)
{
    pthread_mutex_lock(&log_lock);
    free(log_path);
    log_path = path ? xstrdup(path) : NULL;
    pthread_mutex_unlock(&log_lock);
    return log_reopen();
}

int log_reopen(void)
{
    int fd = 2, rc = 0;
    pthread_mutex_lock(&log_lock);
    if (log_path) {
        fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            fd = 2;
            rc = -1;
        }
    }
    if (log_fd != 2) close(log_fd);
    log_fd = fd;
    pthread_mutex_unlock(&log_lock);
    return rc;
}

void log_msg(int level, const char *event, const char *fmt, ...)
{
    char line[2048];
    struct tm tm;
    va_list ap;
    int n, m;

    if (level < log_get_level()) return;
    uint64_t ms = wall_ms();
    time_t secs = (time_t)(ms / 1000u);
    gmtime_r(&secs, &tm);
    n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s pid=%d event=%s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (long)(ms % 1000u), log_level_name(level), (int)getpid(), event);
    if (n < 0) return;
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) m = 0;
    n += m;
    if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
    /* A value must never break the one-line-per-event rule. */
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    line[n++] = '\n';
    pthread_mutex_lock(&log_lock);
    ssize_t w = write(log_fd, line, (size_t)n);
    pthread_mutex_unlock(&log_lock);
    (void)w;
}
