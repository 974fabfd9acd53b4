/* Zero-restart recovery: find the services a crashed systemd left running
 * (issue 18, docs/recovery.md "Adopt"). Slow (a walk of the cgroup tree
 * and /proc): run it in a worker (worker.h), never in PID 1's loop. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

/* Walk ROOT/system.slice (ROOT is /sys/fs/cgroup, cgroup v2 only) and
 * write discovery's text (serialize.h adopt_parse) into out, NUL-terminated:
 * a "service" line for each service whose main PID is sure, a "slice" line
 * for each slice, a "skip NAME REASON" line for each service left out.
 * Returns the length, or -errno (nothing usable: the caller restarts as
 * today). */
int adopt_discover(const char *root, char *out, size_t n);

/* The main PID among a service cgroup's processes (pids, n of them, as read
 * from cgroup.procs): the only live one whose parent is PID 1, or the
 * oldest of several. Reads /proc/PID/stat. >1, or -errno with *why set. */
pid_t adopt_pick_main_pid(const pid_t *pids, size_t n, unsigned long long *start_ticks, const char **why);

/* Pure: field 22 (starttime, clock ticks since boot), state and ppid out of
 * the text of /proc/PID/stat. 0 or -EINVAL. */
int adopt_parse_stat(const char *text, char *state, long *ppid, unsigned long long *start_ticks);
