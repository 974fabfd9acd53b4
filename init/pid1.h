/* initshim as PID 1: boot path and rescue mode. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

#include "common/version.h"

/* What a signal asks of PID 1 in rescue mode (systemd(1) "SIGNALS"). */
enum pid1_action {
        ACTION_IGNORE,        /* logged and ignored */
        ACTION_CHILD,         /* SIGCHLD: reap */
        ACTION_REBOOT,        /* orderly */
        ACTION_POWEROFF,
        ACTION_HALT,
        ACTION_REBOOT_NOW,    /* immediate: sync and reboot(2) */
        ACTION_POWEROFF_NOW,
        ACTION_HALT_NOW,
        ACTION_REEXEC,        /* SIGTERM: bring systemd back, as `initshimctl exec` does */
        _ACTION_MAX,
};

enum pid1_action signal_action(int sig);
const char *action_to_string(enum pid1_action a);
/* The set PID 1 blocks and reads through its signalfd: every signal except
 * the synchronous fault signals (blocking those would make a fault fatal
 * without a core) and the uncatchable ones. */
void pid1_signal_set(sigset_t *set);

/* boot.c */
void boot_main(int argc, char **argv, char **envp, uint64_t start_ns) __attribute__((noreturn));
/* Mount /proc, /dev and /run when missing, as systemd would. */
void ensure_api_filesystems(void);

/* reset.c: undo what execve kept from a crashed systemd. */
/* Logs nothing (logging is not set up yet): the pending signals it drops
 * are returned in discarded, for log_discarded_signals once it is. */
void reset_inherited_state(sigset_t *discarded);
void log_discarded_signals(const sigset_t *discarded);
void restore_core_pattern(void);
void save_core_pattern(void);

/* shutdown.c */
bool in_container(void);
/* Orderly (exec systemd-shutdown or own sequence) or immediate. Returns only
 * if the final reboot(2) failed. */
void pid1_shutdown(enum pid1_action a, const struct config *c);

/* recover.c */
/* Stop every left-over process but the spared ones, without waiting in
 * place: begin sends SIGTERM; step (called from the main loop, which reaps
 * meanwhile) checks every LEFTOVER_CHECK_MS, sends SIGKILL after the
 * stop-timeout, gives up LEFTOVER_KILL_WAIT_MS later, and returns true once
 * done. spare is read anew on each call (children of ours come and go). */
#define LEFTOVER_CHECK_MS 20
#define LEFTOVER_KILL_WAIT_MS 5000
enum leftover_stop_phase { LEFTOVER_STOP_IDLE, LEFTOVER_STOP_TERM, LEFTOVER_STOP_KILL, LEFTOVER_STOP_DONE };
struct leftover_stop {
        enum leftover_stop_phase phase;
        uint64_t deadline_ms, next_check_ms;
};
void leftover_stop_begin(struct leftover_stop *s, const struct config *c, const pid_t *spare, size_t n_spare);
bool leftover_stop_step(struct leftover_stop *s, const struct config *c, const pid_t *spare, size_t n_spare);
/* ms until the next step has something to do, -1 when not stopping. */
int leftover_stop_timeout_ms(const struct leftover_stop *s);
/* Pure sliding window: drops stamps older than interval, then allows (and
 * records now) if fewer than limit remain. */
bool ratelimit_allow(uint64_t *stamps, size_t *n, size_t max, uint64_t now, uint64_t interval, unsigned limit);
/* Persistent (in /run) window of automatic restarts. */
bool restart_allowed(const struct config *c);

struct rescue_handover;
/* rescue.c. up: set when re-executed by a live upgrade (upgrade.c). */
void rescue_main(const char *reason, const struct config *c, const struct rescue_handover *up)
        __attribute__((noreturn));

/* upgrade.c: live upgrade of rescue-mode PID 1 (docs/design.md "Live upgrade"). */
#define PID1_UPGRADED_FLAG "--upgraded"
struct rescue_handover {
        uint64_t mode_since_ms; /* rescue mode's start, kept across the re-exec */
        uint64_t start_ns;      /* CLOCK_MONOTONIC just before the execve */
        char old_build[64];
};
/* execve the installed binary as rescue mode with our state; returns only
 * on failure (-errno, logged). */
int pid1_upgrade_exec(const char *reason, uint64_t mode_since_ms);
/* argv from PID1_UPGRADED_FLAG on; NULL if absent or malformed. */
const struct rescue_handover *pid1_upgrade_parse(int argc, char **argv);
/* Log and record (LAST_UPGRADE_FILE) the re-exec's duration. */
void pid1_upgrade_report(const struct rescue_handover *h);
