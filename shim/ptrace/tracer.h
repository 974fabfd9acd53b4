/* The guard's hold on PID 1: ptrace without stops in steady state, a
 * takeover when systemd crashes or hangs. Mechanism in inject.h; the
 * reasoning in docs/design.md ("The guard"). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ptrace/inject.h"

enum tracer_state {
        TRACER_DETACHED,
        TRACER_RUNNING,      /* PID 1 runs; we see only signals and execs */
        TRACER_CRASH_FOLLOW, /* crash handler runs, followed syscall by syscall */
        TRACER_INTERRUPTING, /* PTRACE_INTERRUPT sent, waiting for the stop */
        TRACER_INJECTED,     /* execve injected, waiting for PTRACE_EVENT_EXEC */
        TRACER_WEDGED,       /* injection failed where resuming would kill PID 1: held stopped */
        TRACER_SWITCH_STOP,  /* switch: interrupting PID 1 to start following its syscalls */
        TRACER_SWITCH_FOLLOW, /* switch: SIGTERM sent, waiting for the re-exec's execve */
        TRACER_SWITCH_EXEC,  /* switch: execve path rewritten, waiting for the exec */
};

/* What a signal-delivery-stop of PID 1 calls for. */
enum signal_policy {
        SIGNAL_PASS,     /* PID 1 handles it: deliver */
        SIGNAL_SUPPRESS, /* init would never see it (SIG_DFL/SIG_IGN, or a stop signal) */
        SIGNAL_CRASH,    /* a crash signal PID 1 handles: deliver, then follow the handler */
        SIGNAL_CRASH_UNHANDLED, /* a fault PID 1 does not handle: it would die; take over now */
};

/* What a syscall entered by a crashing PID 1 means. */
enum crash_syscall {
        CRASH_SYSCALL_OTHER,    /* keep following */
        CRASH_SYSCALL_TERMINAL, /* exit_group, waitid(P_ALL), pause...: take over here */
        CRASH_SYSCALL_REBOOT,   /* crash_reboot=yes: let systemd reboot */
};

struct tracer {
        pid_t pid;
        enum tracer_state state;
        int crash_signal;
        uint64_t crash_since_ms;
        uint64_t crash_timeout_ms;
        uint64_t takeover_start_ns;
        char reason[160];
        char rescue_path[64];   /* /proc/<guard>/fd/<N>: our own binary, kept open */
        int self_fd;
        unsigned long stops;    /* every ptrace stop seen: 0 in steady state */
        unsigned long takeovers;
        char last_error[192];
        char last_takeover[256];
        struct inject_state inj;
        char *const *envp;      /* environment for rescue mode (the kernel's) */
        char pid1_version[128]; /* of the binary PID 1 runs, kept by the guard, for the takeover log */
        char switch_path[256];  /* the binary a switch puts in place of systemd's own re-exec */
        uint64_t switch_deadline_ms;
        int switch_result;      /* 0 done, -errno failed; valid once TRACER_EVENT_SWITCHED is returned */
};

/* Pure policies (unit-tested). sigcgt: /proc/PID/status SigCgt bitmask. */
enum signal_policy tracer_signal_policy(int sig, uint64_t sigcgt);
enum crash_syscall tracer_classify_crash_syscall(long nr, const uint64_t args[6]);

/* Open our own binary (so a takeover works after /sbin/initshim was
 * replaced or deleted, or the initramfs freed) and check it. */
int tracer_init(struct tracer *t, char *const *envp);
/* PTRACE_SEIZE pid with TRACESYSGOOD|TRACEEXEC (never EXITKILL). -EPERM
 * under Yama ptrace_scope=3 or an LSM's refusal. */
int tracer_attach(struct tracer *t, pid_t pid);
/* Detach cleanly whatever the state (interrupting first if needed). */
void tracer_detach(struct tracer *t);
/* Feed one waitpid() status of the tracee. Returns the PID-1 event it
 * implies: 0 none, or TRACER_EVENT_* below. */
#define TRACER_EVENT_EXEC 1 /* PID 1 exec'd something: look at /proc/1/exe */
#define TRACER_EVENT_GONE 2 /* PID 1 exited or we lost it */
#define TRACER_EVENT_TAKEN 3 /* PID 1 is initshim --rescue now */
#define TRACER_EVENT_SWITCHED 4 /* a switch ended: see switch_result */
int tracer_handle(struct tracer *t, int wstatus);
/* State-preserving switch to another binary: make PID 1 (healthy systemd)
 * re-execute itself with SIGTERM, and at the execve of that re-exec rewrite
 * the path to `path`, so that --deserialize and the rest pass through.
 * Ends with TRACER_EVENT_SWITCHED from tracer_handle(). */
int tracer_switch(struct tracer *t, const char *path, uint64_t timeout_ms);
/* Take a hung PID 1 over: stop it wherever it is and inject. */
int tracer_takeover(struct tracer *t, const char *reason);
/* If PID 1's cgroup is frozen (cgroup v2 cgroup.freeze, or v1 freezer),
 * thaw it: a frozen task cannot be stopped for the injection. */
void tracer_thaw_pid1(pid_t pid);
/* Timers: a crash handler that never reaches a terminal syscall. Returns
 * ms until the next deadline, or -1. */
int tracer_tick(struct tracer *t);
const char *tracer_state_to_string(enum tracer_state s);
