/* The guard as the rest of initshim sees it: how to start one, find the one
 * running, describe it, and signal it. PID 1 (init/) reaches the guard only
 * through this header.
 *
 * The guard is a child of PID 1 that outlives every systemd. It traces PID 1
 * to take it over when systemd crashes or hangs, and owns the control FIFO
 * while systemd is PID 1. When PID 1 becomes initshim again it yields the
 * FIFO on SIGNAL_GUARD_YIELD and takes it back on SIGNAL_GUARD_RESUME. */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

#define GUARD_COMM "initshim-guard" /* must not start with "proot": systemd would think it runs in a container */
#define SIGNAL_GUARD_YIELD SIGUSR1
#define SIGNAL_GUARD_RESUME SIGUSR2
/* Re-execute from the installed binary (guard/upgrade.h). SIGURG: ignored by
 * default, so a guard older than the upgrade ignores it too, and no terminal
 * sends it (SIGHUP comes from hang-ups). */
#define SIGNAL_GUARD_UPGRADE SIGURG
/* argv[1] of the upgraded guard (guard/upgrade.h). */
#define GUARD_UPGRADE_FLAG "--guard-upgraded"

struct guard_handover;

struct guard_options {
        int ready_fd;  /* write one byte here once attached (or failed), then close; -1: none */
        bool serve;    /* own the FIFO from the start (false when PID 1 is rescue-mode initshim) */
        bool initrd;   /* started in the initramfs: serve nothing until PID 1 switches root */
        char *argv0;   /* initrd: our argv[0], marked '@' so systemd spares us at switch-root */
        void (*reload_config)(struct config *c); /* initrd: read the real root's config */
        const struct guard_handover *handover; /* upgraded: adopt PID 1 from the previous guard */
};

/* Fork a guard and wait (bounded) until it traces us. Returns its pid or a
 * negative errno (logged: PID 1 then runs unguarded). */
pid_t start_guard(const struct config *c, bool serve);
pid_t start_guard_with(const struct config *c, const struct guard_options *o);
/* Become the guard in this process (`initshim --guard`). */
void guard_main(const struct config *c, const struct guard_options *o) __attribute__((noreturn));
/* `initshim --guard`: attach a guard to a PID 1 not booted with initshim
 * (initshim-guard.service, `initshimctl guard start`). Returns only when no
 * guard is needed (one runs already) or none can be (no /run/initshim). */
int guard_standalone_main(void);
/* `initshim --guard-upgraded ARGS`: the guard re-executed by an upgrade,
 * still tracing PID 1 (guard/upgrade.h). Always becomes the guard. */
int guard_upgraded_main(int argc, char **argv) __attribute__((noreturn));
/* PID of a live guard that is a child of PID 1, or -ESRCH. */
int guard_find(void);
/* "running (pid N)" or "not running" into buf. */
void guard_describe(char *buf, size_t n);
