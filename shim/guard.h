/* The guard: a child of PID 1 that outlives every systemd.
 * While systemd is PID 1 it owns the control FIFO (see ctlserver.h). When
 * PID 1 becomes initshim again (rescue mode) it yields the FIFO on SIGUSR1
 * and takes it back on SIGUSR2. */
#pragma once
#include "config.h"

#define GUARD_COMM "initshim-guard" /* must not start with "proot": systemd would think it runs in a container */
#define SIGNAL_GUARD_YIELD SIGUSR1
#define SIGNAL_GUARD_RESUME SIGUSR2

void guard_main(const struct config *c) __attribute__((noreturn));
/* PID of a live guard that is a child of PID 1, or -ESRCH. */
int guard_find(void);
/* "running (pid N)" or "not running" into buf. */
void guard_describe(char *buf, size_t n);
