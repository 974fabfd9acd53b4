/* Small helpers shared by PID 1, the guard and initshimctl.
 * All return negative errno on failure (systemd CODING_STYLE) and never
 * allocate: PID 1 allocates nothing after start-up. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Write all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* Read up to len-1 bytes of a file into buf, NUL-terminated; returns length. */
ssize_t read_file(const char *path, char *buf, size_t len);
/* read_file, then cut buf at its first newline: a one-line state file. */
ssize_t read_first_line(const char *path, char *buf, size_t len);
/* The value of "KEY:" in /proc/PID/status, read into buf: a pointer into
 * buf just after the colon, or NULL. */
const char *read_proc_status_field(long pid, const char *key, char *buf, size_t len);
/* Create or truncate path with mode and write buf; atomically via path.tmp + rename. */
int write_file_atomic(const char *path, const char *buf, size_t len, mode_t mode);
/* Copy src into dst of size n, always NUL-terminated; -ENAMETOOLONG if cut. */
int copy_string(char *dst, size_t n, const char *src);
/* Parse a non-negative decimal with optional unit suffix ms/s/min into
 * milliseconds; -EINVAL on anything else. */
int parse_duration_ms(const char *s, uint64_t *ret);
/* Parse a size with optional K/M/G suffix (binary) into bytes. */
int parse_size(const char *s, uint64_t *ret);
/* Parse yes/no/true/false/1/0/on/off. */
int parse_bool(const char *s, bool *ret);
/* CLOCK_MONOTONIC / CLOCK_BOOTTIME in milliseconds and nanoseconds. */
uint64_t now_ms(void);
uint64_t now_ns(void);
/* Close every fd >= from except those listed. */
void close_fds_from(int from, const int *keep, size_t n_keep);
/* Strip leading and trailing blanks in place; returns the start. */
char *strip(char *s);
/* "SIGSEGV", "SIGRTMIN+5", ...; a static string, never allocated. */
const char *signal_name(int sig);
/* Call fn for every entry of dir whose name is a number (pids in /proc,
 * fds in /proc/self/fd), with getdents64 on a stack buffer: no allocation.
 * fn returns 0 to go on, anything else stops the walk and is returned.
 * The directory's own fd is passed as skip_fd (for /proc/self/fd). */
int foreach_number(const char *dir, int (*fn)(long n, int skip_fd, void *data), void *data);
/* Parse the text of /proc/PID/stat: state, ppid and flags. */
int parse_proc_stat(const char *text, char *state, long *ppid, unsigned long *flags);
/* Read /proc/PID/stat and parse it. */
int read_proc_stat(long pid, char *state, long *ppid, unsigned long *flags);
/* Sort pids ascending in place (heapsort: no allocation, unlike qsort). */
void sort_pids(pid_t *pids, size_t n);
/* Formatted text appended to a fixed buffer (status, metrics, adopt's
 * texts): truncated safely, always NUL-terminated; len never reaches n.
 * cut: something did not fit (then nothing more is added). */
struct text_out {
        char *buf;
        size_t n, len;
        bool cut;
};
void text_put(struct text_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void text_vput(struct text_out *o, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
