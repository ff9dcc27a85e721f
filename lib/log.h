/* log — structured logs: one line per event, `ts=… level=… event=… key=value…`.
 *
 * Lines go to stderr unless log_open() names a file; SIGHUP handlers call
 * log_reopen() so logrotate works. Thread-safe (one write(2) per line).
 * Never pass secrets (tokens, passwords) to these functions. */
#ifndef BIRDFEED_LOG_H
#define BIRDFEED_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* "debug" | "info" | "warn" | "error" → level; -1 when unknown. */
int log_level_parse(const char *name);
/* The name of level (a static string; "?" when out of range). */
const char *log_level_name(int level);
/* Lines below level are dropped (any thread; the default is LOG_INFO). */
void log_set_level(int level);
int log_get_level(void);
/* Log to path (append) instead of stderr; NULL means stderr. 0 ok, -1 error. */
int log_open(const char *path);
/* Open the log file again (after logrotate moved it). 0 ok; -1 when it
 * cannot be opened: lines then go to stderr. */
int log_reopen(void);
/* event is a short word (`stream.open`); fmt adds key=value pairs. Put a
 * value that may hold spaces in double quotes (error=\"%s\"). CR and LF in
 * the line become spaces; lines are cut at 2 KiB. */
void log_msg(int level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) do { if (log_get_level() <= LOG_DEBUG) log_msg(LOG_DEBUG, ev, __VA_ARGS__); } while (0)
#define log_info(ev, ...)  log_msg(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_msg(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_ERROR, ev, __VA_ARGS__)

#endif
