/* Logging to /dev/kmsg (always) and the console (when asked).
 * Lines look like "initshim[1]: message" with a syslog priority, so they land
 * in dmesg and, once journald runs, in the journal. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* ident: "initshim", "initshim-guard", ... Opens /dev/kmsg once; safe to call
 * again (e.g. after exec). Never fails: without kmsg it writes to stderr. */
void log_open(const char *ident);
void log_set_console(bool on);
/* Also mirror to stderr (tests, initshimctl-started helpers). */
void log_set_stderr(bool on);
void log_close(void);
/* One kmsg record "<PRIO>IDENT[PID]: MESSAGE[: strerror(err)]\n" into buf:
 * always newline-terminated, never more than size bytes (size >= 2); the
 * message is truncated first so that the error text fits. Returns the length. */
size_t log_format_line(char *buf, size_t size, int prio, const char *ident, int pid, int err, const char *fmt,
                       va_list ap);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs "...: strerror(-err)" and returns err, so callers can `return log_errno(r, ...)`. */
int log_errno(int err, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* This one message also on the console, whatever log_set_console says: for
 * what the operator must see (a config typo, a fallback, rescue mode). */
void log_console(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int log_console_errno(int err, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_crit(...) log_msg(LOG_CRIT, __VA_ARGS__)
