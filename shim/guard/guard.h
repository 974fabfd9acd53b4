/* The guard: a child of PID 1 that outlives every systemd. It traces PID 1
 * (tracer.h) to take it over when systemd crashes or hangs, and owns the
 * control FIFO while systemd is PID 1. When PID 1 becomes initshim again it
 * yields the FIFO on SIGUSR1 and takes it back on SIGUSR2. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define GUARD_COMM "initshim-guard" /* must not start with "proot": systemd would think it runs in a container */
#define SIGNAL_GUARD_YIELD SIGUSR1
#define SIGNAL_GUARD_RESUME SIGUSR2

struct guard_options {
        int ready_fd;  /* write one byte here once attached (or failed), then close; -1: none */
        bool serve;    /* own the FIFO from the start (false when PID 1 is rescue-mode initshim) */
        bool initrd;   /* started in the initramfs: serve nothing until PID 1 switches root */
        char *argv0;   /* initrd: our argv[0], marked '@' so systemd spares us at switch-root */
        void (*reload_config)(struct config *c); /* initrd: read the real root's config */
};

void guard_main(const struct config *c, const struct guard_options *o) __attribute__((noreturn));
/* PID of a live guard that is a child of PID 1, or -ESRCH. */
int guard_find(void);
/* "running (pid N)" or "not running" into buf. */
void guard_describe(char *buf, size_t n);
