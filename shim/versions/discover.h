/* Zero-restart recovery: find the services a crashed systemd left running
 * (issue 18, docs/recovery.md "Adopt"). Slow (a walk of the cgroup tree
 * and /proc): run it in a worker (worker.h), never in PID 1's loop. */
#pragma once
#include "versions/serialize.h"
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Walk ROOT/system.slice (ROOT is /sys/fs/cgroup, cgroup v2 only) and
 * write discovery's text (serialize.h adopt_parse) into out, NUL-terminated:
 * a "service" line for each service whose main PID is sure and that was
 * active at the crash (its link UNITS_DIR/invocation:NAME exists; UNITS_DIR
 * is /run/systemd/units), a "slice" line
 * for each slice, a "skip NAME REASON" line for each service left out;
 * then "socket" lines for the socket units of UNIT_DIRS (sockets.h
 * adopt_unit_dirs) whose listening sockets are among fds (n_fds of them,
 * the crashed PID 1's, sockets.h adopt_discover_sockets).
 * Returns the length, or -errno (nothing usable: the caller restarts as
 * today). */
int adopt_discover(const char *root, const char *units_dir, const char *const *unit_dirs, const int *fds, size_t n_fds,
                   char *out, size_t n);

/* The main PID among a service cgroup's processes (pids, n of them, as read
 * from cgroup.procs): the only live one whose parent is PID 1, or the
 * oldest of several. Reads /proc/PID/stat. >1, or -errno with *why set. */
pid_t adopt_pick_main_pid(const pid_t *pids, size_t n, unsigned long long *start_ticks, const char **why);

/* Pure: field 22 (starttime, clock ticks since boot), state and ppid out of
 * the text of /proc/PID/stat. 0 or -EINVAL. */
int adopt_parse_stat(const char *text, char *state, long *ppid, unsigned long long *start_ticks);

/* pid's start time in microseconds of CLOCK_MONOTONIC, as discovery
 * writes it (/proc/PID/stat starttime). No allocation: PID 1 checks it
 * too, before it touches an adopted process. 0, -ESRCH
 * (no such process), or -EINVAL. */
int adopt_process_start_usec(pid_t pid, unsigned long long *usec);

/* Just before the exec: drop (and log) every service whose main PID no
 * longer names the process discovery found (gone, reaped, or its PID
 * taken by another process: the start time differs). systemd never checks
 * a deserialized PID, and would signal a stranger at the unit's stop.
 * If any is dropped, running socket units are serialized listening.
 * Compacts units in place; returns the new count. No allocation. */
size_t adopt_drop_changed(struct adopt_unit *units, size_t n);

/* In dir (/tmp or /var/tmp), the one systemd-private-*-NAME-XXXXXX directory
 * whose tmp/ is seen (device and inode of the process's own /tmp or
 * /var/tmp): its path into out. 0, or -ENOENT if none or several. */
int adopt_find_private(const char *dir, const char *name, const struct stat *seen, char *out, size_t n);

/* Pure: the value of WATCHDOG_USEC= in a process's environment (env, len
 * bytes as /proc/PID/environ holds it: NUL-separated), 0 if absent or not a
 * number. systemd sets it at the start to the service's watchdog period. */
unsigned long long adopt_environ_watchdog_usec(const char *env, size_t len);
