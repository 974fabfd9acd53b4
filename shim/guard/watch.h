/* The guard's watch over PID 1: collects health samples on timers, runs
 * the D-Bus Ping in a short-lived prober process (so that a slow PID 1
 * never blocks the guard's ptrace duties), and carries out what
 * health_decide() asks. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"
#include "ptrace/tracer.h"

void watch_init(const struct config *c, struct tracer *t);
/* ms until the next due check, -1 if none. */
int watch_timeout_ms(void);
/* The prober's result pipe, or -1. */
int watch_fd(void);
/* Run what is due; read a prober result if fd is readable. */
void watch_run(bool fd_readable);
bool watch_child_exited(pid_t pid, int wstatus);
/* PID 1 exec'd; is_initshim: rescue mode (nothing to judge). */
void watch_pid1_exec(bool is_initshim);
size_t watch_format(char *buf, size_t n);
/* Start a Ping now (if none runs); and when PID 1 last answered one. */
void watch_probe_now(void);
/* The same, for a PID 1 that has just exec'd: the prober waits (inotify,
 * bounded by liveness-timeout) until the new manager listens, then pings. */
void watch_probe_when_listening(void);
uint64_t watch_last_answer_ms(void);
/* Move the guard and its children out of PID 1's cgroup (common/cgroup.h),
 * logging what moved; the first thing the guard does, and on every scan. */
void watch_leave_pid1_cgroup(void);
