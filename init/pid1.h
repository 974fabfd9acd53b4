/* initshim as PID 1: boot path and rescue mode. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

#define INITSHIM_VERSION "0.1"

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
        ACTION_REEXEC,        /* SIGTERM: exec the configured systemd */
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
/* Stop every left-over process but the spared ones; reap() is called while
 * waiting, so that the caller reaps (and notes) its own children. */
void stop_leftover_services(const struct config *c, const pid_t *spare, size_t n_spare, void (*reap)(void));
/* Pure sliding window: drops stamps older than interval, then allows (and
 * records now) if fewer than limit remain. */
bool ratelimit_allow(uint64_t *stamps, size_t *n, size_t max, uint64_t now, uint64_t interval, unsigned limit);
/* Persistent (in /run) window of automatic restarts. */
bool restart_allowed(const struct config *c);

/* rescue.c */
void rescue_main(const char *reason, const struct config *c) __attribute__((noreturn));
