/* The guard's hold on PID 1: ptrace without stops in steady state, a
 * takeover when systemd crashes or hangs. Mechanism in inject.h; the
 * reasoning in docs/design.md ("The guard"). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ptrace/inject.h"

/* Every state but DETACHED and RUNNING waits for something PID 1 may never
 * do: each has a deadline (tracer_timeout_ms()) and an escalation when it
 * passes (tracer_transition() with TRACER_IN_DEADLINE); docs/ptrace.md,
 * "The tracer's states". */
enum tracer_state {
        TRACER_DETACHED,
        TRACER_RUNNING,      /* PID 1 runs; we see only signals and execs */
        TRACER_EXEC_FOLLOW,  /* PID 1 exec'd a new image: its first syscalls are followed, an exit is taken over */
        TRACER_CRASH_FOLLOW, /* crash handler runs, followed syscall by syscall */
        TRACER_INTERRUPTING, /* PTRACE_INTERRUPT sent, waiting for the stop */
        TRACER_INJECTED,     /* execve injected, waiting for PTRACE_EVENT_EXEC */
        TRACER_WEDGED,       /* injection failed where resuming would kill PID 1: held stopped, retried */
        TRACER_SWITCH_REEXEC, /* switch: SIGTERM sent, PID 1 runs free until its re-exec's exec event */
        TRACER_SWITCH_LANDED, /* switch: it re-executed; on to that execve's exit stop */
        TRACER_SWITCH_EXEC,  /* switch: execve of the target injected there, waiting for the exec */
        TRACER_DETACHING,    /* detach asked while PID 1 would not stop: detached at its next stop */
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

/* One wait status of PID 1 (or a passed deadline), reduced to what the
 * state machine decides on: tracer_handle() reads it with ptrace and /proc,
 * tracer_transition() decides without them (unit-tested). */
enum tracer_input_kind {
        TRACER_IN_GONE,          /* PID 1 exited or was killed */
        TRACER_IN_EXEC,          /* PTRACE_EVENT_EXEC; .exec_image below */
        TRACER_IN_STOP,          /* PTRACE_EVENT_STOP: our PTRACE_INTERRUPT, or a group-stop */
        TRACER_IN_EVENT,         /* another PTRACE_EVENT_* stop */
        TRACER_IN_SYSCALL_ENTRY, /* .crash, .exit, .execve */
        TRACER_IN_SYSCALL_EXIT,  /* .ret */
        TRACER_IN_SIGNAL,        /* signal-delivery-stop; .policy */
        TRACER_IN_DEADLINE,      /* the state's deadline passed (tracer_tick()) */
        TRACER_IN_FAILED,        /* the action of the last step failed; .resumable */
};

/* What PID 1 runs after an exec. */
enum tracer_image {
        TRACER_IMAGE_OTHER,    /* systemd or anything else: followed for a while */
        TRACER_IMAGE_SELF,     /* initshim: rescue mode */
        TRACER_IMAGE_SHUTDOWN, /* systemd-shutdown: its exit (in a container) is the intended end */
        TRACER_IMAGE_SAME,     /* the very file PID 1 ran before (daemon-reexec): it just ran, not followed */
};

struct tracer_input {
        enum tracer_input_kind kind;
        enum tracer_image exec_image;
        enum signal_policy policy;
        enum crash_syscall crash; /* the entry as a crash handler's syscall */
        bool exit;                /* the entry is exit or exit_group */
        bool execve;              /* the entry is execve or execveat */
        bool exec_target;         /* EXEC in a switch: PID 1 runs the switch's target already */
        bool window_over;         /* EXEC_FOLLOW: its syscall budget is spent */
        bool resumable;           /* FAILED: PID 1 survives being resumed as it is */
        long nr;                  /* SYSCALL_ENTRY: the syscall (for the log) */
        long ret;                 /* SYSCALL_EXIT: return value; FAILED: -errno */
        unsigned attempts;        /* DEADLINE: injections tried in this takeover */
        unsigned escalations;     /* DEADLINE: deadlines passed in this state */
};

enum tracer_action {
        TRACER_DO_NOTHING,      /* PID 1 is not stopped by us (a deadline of a running PID 1) */
        TRACER_DO_RESUME,       /* resume: PTRACE_SYSCALL where the next state follows syscalls, else PTRACE_CONT */
        TRACER_DO_HOLD,         /* leave PID 1 stopped until the state's deadline */
        TRACER_DO_INJECT,       /* make PID 1 execve initshim --rescue at this stop */
        TRACER_DO_RETRY,        /* WEDGED: undo a failed injection, inject again at the held stop */
        TRACER_DO_REINTERRUPT,  /* WEDGED: undo, PTRACE_INTERRUPT, resume: inject at the fresh stop */
        TRACER_DO_INTERRUPT,    /* thaw PID 1's cgroup, PTRACE_INTERRUPT (again) */
        TRACER_DO_KICK,         /* resume again in case a resume was lost; PID 1 is in the kernel */
        TRACER_DO_DETACH,       /* undo a pending injection, PTRACE_DETACH: PID 1 runs on untraced */
        TRACER_DO_REDIRECT,     /* switch: at the exit stop of systemd's own re-exec, inject the target's execve */
        TRACER_DO_ROLLBACK,     /* switch: the target's execve failed; back to the image systemd exec'd */
};

struct tracer_step {
        enum tracer_state next;
        enum tracer_action action;
        bool deliver;      /* resume with the stop's signal */
        int report;        /* 0 or TRACER_EVENT_* for the guard */
        int switch_result; /* with TRACER_EVENT_SWITCHED */
};

/* Deadlines (docs/ptrace.md, "The tracer's states"). */
#define TRACER_EXEC_FOLLOW_MS 2000        /* the window after an exec... */
#define TRACER_EXEC_FOLLOW_SYSCALLS 1000  /* ...or its first syscalls, whichever ends first */
#define TRACER_INTERRUPT_TIMEOUT_MS 2000  /* PTRACE_INTERRUPT to its stop */
#define TRACER_INTERRUPT_TRIES 3          /* interrupts sent before a takeover is abandoned */
#define TRACER_KICK_INTERVAL_MS 5000      /* an injected execve that does not end: look again */
#define TRACER_WEDGED_RETRIES 3           /* injections retried at the held stop... */
#define TRACER_WEDGED_FIRST_MS 100        /* ...after 0.1 s, 0.5 s, 2.5 s; then one at a fresh stop; then detach */
#define TRACER_WEDGED_MAX_MS 2500
#define TRACER_DETACH_WAIT_MS 2000        /* tracer_detach() waits this long for a stop */

struct tracer {
        pid_t pid;
        enum tracer_state state;
        uint64_t deadline_ms;   /* of the current state, 0 = none */
        unsigned escalations;   /* deadlines passed in the current state */
        unsigned attempts;      /* injections tried in the current takeover */
        bool hold_on_failure;   /* resuming PID 1 as it is would end it: a failed injection holds it */
        bool inj_pending;       /* registers (or the execve path) rewritten, outcome not seen yet */
        bool at_entry;          /* the last stop is a syscall-entry stop */
        bool resume_lost;       /* a resume failed: the next kick retries it */
        int pending_report;     /* TRACER_EVENT_* decided by tracer_tick(), see tracer_take_report() */
        int crash_signal;
        uint64_t crash_since_ms;
        uint64_t crash_timeout_ms;
        uint64_t takeover_start_ns;
        uint64_t exec_follow_ms;        /* TRACER_EXEC_FOLLOW_MS */
        unsigned long exec_follow_syscalls; /* TRACER_EXEC_FOLLOW_SYSCALLS */
        uint64_t follow_since_ns;       /* EXEC_FOLLOW: when the exec happened, */
        unsigned long follow_syscalls;  /* syscalls seen since, */
        uint64_t follow_last_ns;        /* when the last one was seen, */
        unsigned long follow_stops;     /* t->stops at the exec */
        int exit_status;        /* of the last exit/exit_group entry seen */
        char reason[160];
        char rescue_path[64];   /* /proc/<guard>/fd/<N>: our own binary, kept open */
        int self_fd;
        dev_t image_dev; /* the file PID 1 runs, to tell a re-exec of the same binary */
        ino_t image_ino;
        unsigned long stops;    /* every ptrace stop seen: 0 in steady state */
        unsigned long takeovers;
        char last_error[192];
        char last_takeover[256];
        struct inject_state inj;
        char *const *envp;      /* environment for rescue mode (the kernel's) */
        char pid1_version[128]; /* of the binary PID 1 runs, kept by the guard, for the takeover log */
        char switch_path[256];  /* the binary a switch puts in place of systemd's own re-exec */
        uint64_t switch_timeout_ms;
        unsigned long switch_stops; /* t->stops when the switch began */
        int switch_result;      /* 0 done, -errno failed; valid once TRACER_EVENT_SWITCHED is returned */
        /* Where a takeover lists the copies of PID 1's listening sockets
         * (sockets.h) for rescue mode; NULL: none are taken. */
        const char *sockets_file;
};

/* The state machine (unit-tested): what a stop, a deadline or a failed
 * action means in a state. Pure: no ptrace, no /proc, no clock. */
struct tracer_step tracer_transition(enum tracer_state s, const struct tracer_input *in);
/* How long t may stay in state s (from t's settings, attempts and
 * escalations); 0: no deadline. Pure. */
uint64_t tracer_timeout_ms(const struct tracer *t, enum tracer_state s);
/* PID 1 runs free (or is only followed after an exec): a takeover or a
 * switch may start. */
bool tracer_is_steady(const struct tracer *t);

/* Pure policies (unit-tested). sigcgt: /proc/PID/status SigCgt bitmask. */
enum signal_policy tracer_signal_policy(int sig, uint64_t sigcgt);
enum crash_syscall tracer_classify_crash_syscall(long nr, const uint64_t args[6]);

/* Open our own binary (so a takeover works after /sbin/initshim was
 * replaced or deleted, or the initramfs freed) and check it. */
int tracer_init(struct tracer *t, char *const *envp);
/* PTRACE_SEIZE pid with TRACESYSGOOD|TRACEEXEC (never EXITKILL). -EPERM
 * under Yama ptrace_scope=3 or an LSM's refusal. */
int tracer_attach(struct tracer *t, pid_t pid);
/* Detach cleanly whatever the state: thaw PID 1's cgroup, interrupt it,
 * wait for the stop at most TRACER_DETACH_WAIT_MS, undo a pending
 * injection, detach. If PID 1 does not stop (in the kernel, state D), the
 * state is TRACER_DETACHING: it is detached at its next stop. */
void tracer_detach(struct tracer *t);
/* Feed one waitpid() status of the tracee. Returns the PID-1 event it
 * implies: 0 none, or TRACER_EVENT_* below. */
#define TRACER_EVENT_EXEC 1 /* PID 1 exec'd something: look at /proc/1/exe */
#define TRACER_EVENT_GONE 2 /* PID 1 exited or we lost it */
#define TRACER_EVENT_TAKEN 3 /* PID 1 is initshim --rescue now */
#define TRACER_EVENT_SWITCHED 4 /* a switch ended: see switch_result */
int tracer_handle(struct tracer *t, int wstatus);
/* State-preserving switch to another binary: make PID 1 (healthy systemd)
 * re-execute itself with SIGTERM (it runs free meanwhile: no syscall is
 * followed) and, unless it re-executed `path` itself, at the exit stop of
 * that re-exec's execve make it execute `path` with the same argv and
 * environment, so that --deserialize N and the rest pass through. If that
 * execve fails, PID 1 goes on in the image it had exec'd (its own re-exec:
 * the switch fails with its state kept).
 * Ends with TRACER_EVENT_SWITCHED from tracer_handle(), or from
 * tracer_take_report() when PID 1 did not re-execute within timeout_ms. */
int tracer_switch(struct tracer *t, const char *path, uint64_t timeout_ms);
/* Take a hung PID 1 over: stop it wherever it is and inject. -EBUSY while
 * another takeover or a switch is under way. */
int tracer_takeover(struct tracer *t, const char *reason);
/* If PID 1's cgroup is frozen (cgroup v2 cgroup.freeze, or v1 freezer),
 * thaw it: a frozen task cannot be stopped for the injection. */
void tracer_thaw_pid1(pid_t pid);
/* Timers: the deadline of the current state; when it has passed, its
 * escalation (logged). Returns ms until the next deadline, or -1. */
int tracer_tick(struct tracer *t);
/* An event decided by tracer_tick() (a switch abandoned: SWITCHED), once;
 * 0 if none. */
int tracer_take_report(struct tracer *t);
const char *tracer_state_to_string(enum tracer_state s);
