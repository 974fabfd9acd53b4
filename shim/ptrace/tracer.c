#include "ptrace/tracer.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/util.h"
#include "ptrace/sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_ALL
#define P_ALL 0
#endif

/* Read as "<this> PID 1" (guard status, switch refusals). */
const char *tracer_state_to_string(enum tracer_state s) {
        switch (s) {
        case TRACER_DETACHED:
                return "detached from";
        case TRACER_RUNNING:
                return "tracing";
        case TRACER_EXEC_FOLLOW:
                return "following the fresh exec of";
        case TRACER_CRASH_FOLLOW:
                return "following a crash of";
        case TRACER_INTERRUPTING:
                return "interrupting";
        case TRACER_INJECTED:
                return "taking over";
        case TRACER_WEDGED:
                return "retrying a failed takeover of (held stopped)";
        case TRACER_SWITCH_REEXEC:
        case TRACER_SWITCH_LANDED:
        case TRACER_SWITCH_EXEC:
                return "switching the binary of";
        case TRACER_DETACHING:
                return "detaching from";
        }
        return "?";
}

static bool is_crash_signal(int sig) {
        /* systemd installs its crash handler for SEGV ILL FPE BUS QUIT ABRT;
         * SYS and TRAP are faults too (seccomp, breakpoints). */
        switch (sig) {
        case SIGSEGV:
        case SIGILL:
        case SIGFPE:
        case SIGBUS:
        case SIGQUIT:
        case SIGABRT:
        case SIGSYS:
        case SIGTRAP:
                return true;
        }
        return false;
}

enum signal_policy tracer_signal_policy(int sig, uint64_t sigcgt) {
        bool caught = sig >= 1 && sig <= 64 && (sigcgt & (1ULL << (sig - 1)));

        /* A traced init loses the kernel's filter of unhandled signals
         * (reproduced: `kill -STOP 1` stopped a guarded systemd): stop signals
         * and anything PID 1 does not catch are never re-injected. */
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
                return SIGNAL_SUPPRESS;
        /* A fault with no handler would kill init (kernel panic) or, if
         * suppressed, fault again for ever: replace PID 1 right away. */
        if (!caught)
                return is_crash_signal(sig) ? SIGNAL_CRASH_UNHANDLED : SIGNAL_SUPPRESS;
        return is_crash_signal(sig) ? SIGNAL_CRASH : SIGNAL_PASS;
}

enum crash_syscall tracer_classify_crash_syscall(long nr, const uint64_t args[6]) {
        /* systemd's crash handler ends in: _exit() in a container,
         * freeze() = waitid(P_ALL) loop then pause() (v237+), pause() (v219),
         * or reboot() with crash_reboot. Its wait for the core-dump child is
         * not terminal: waitid(P_PID) (wait_for_terminate(), up to v261) or
         * waitid(P_PIDFD) on a pidfd_open'ed fd (v262's pidref wait). */
        switch (nr) {
        case SYS_exit_group:
        case SYS_exit:
        case SYS_rt_sigsuspend:
#ifdef SYS_pause
        case SYS_pause:
#endif
                return CRASH_SYSCALL_TERMINAL;
        case SYS_waitid:
                return args[0] == P_ALL ? CRASH_SYSCALL_TERMINAL : CRASH_SYSCALL_OTHER;
        case SYS_wait4:
                return (int64_t) args[0] == -1 ? CRASH_SYSCALL_TERMINAL : CRASH_SYSCALL_OTHER;
        case SYS_ppoll:
                /* pause() where there is no pause syscall (aarch64): ppoll(NULL, 0, NULL, ...) */
                return args[0] == 0 && args[1] == 0 && args[2] == 0 ? CRASH_SYSCALL_TERMINAL
                                                                    : CRASH_SYSCALL_OTHER;
        case SYS_reboot:
                return CRASH_SYSCALL_REBOOT;
        }
        return CRASH_SYSCALL_OTHER;
}

/* ---- the state machine: pure (unit-tested in tests/unit/test_tracer.c) ---- */

static struct tracer_step step(enum tracer_state next, enum tracer_action action) {
        return (struct tracer_step) { .next = next, .action = action };
}

static struct tracer_step reporting(struct tracer_step s, int report, int switch_result) {
        s.report = report;
        s.switch_result = switch_result;
        return s;
}

/* A new image: followed for a while, unless it is initshim or the shutdown. */
static enum tracer_state after_exec(enum tracer_image image) {
        return image == TRACER_IMAGE_OTHER ? TRACER_EXEC_FOLLOW : TRACER_RUNNING;
}

/* A signal-delivery-stop while PID 1 runs its own code (free, followed, or
 * switching): deliver what it catches; a crash is followed, a fault it
 * does not handle taken over at once. */
static struct tracer_step on_signal(enum tracer_state s, enum signal_policy p) {
        struct tracer_step r = step(s, TRACER_DO_RESUME);

        switch (p) {
        case SIGNAL_PASS:
                r.deliver = true;
                break;
        case SIGNAL_SUPPRESS:
                break;
        case SIGNAL_CRASH:
                r.next = TRACER_CRASH_FOLLOW;
                r.deliver = true;
                break;
        case SIGNAL_CRASH_UNHANDLED:
                r = step(TRACER_INJECTED, TRACER_DO_INJECT);
                break;
        }
        return r;
}

/* RUNNING and EXEC_FOLLOW. An exit's entry is taken over wherever we see it
 * (an exiting init ends the machine); EXEC_FOLLOW exists to see it. */
static struct tracer_step running(enum tracer_state s, const struct tracer_input *in) {
        bool follow = s == TRACER_EXEC_FOLLOW;

        switch (in->kind) {
        case TRACER_IN_EXEC:
                return reporting(step(after_exec(in->exec_image), TRACER_DO_RESUME), TRACER_EVENT_EXEC, 0);
        case TRACER_IN_SYSCALL_ENTRY:
                if (in->exit)
                        return step(TRACER_INJECTED, TRACER_DO_INJECT);
                return step(follow && !in->window_over ? s : TRACER_RUNNING, TRACER_DO_RESUME);
        case TRACER_IN_SIGNAL:
                return on_signal(s, in->policy);
        case TRACER_IN_DEADLINE:
                /* EXEC_FOLLOW's window closed; PID 1 is running, the next
                 * syscall stop (if PTRACE_SYSCALL was pending) lets it go. */
                return step(TRACER_RUNNING, TRACER_DO_NOTHING);
        case TRACER_IN_FAILED:
                return step(TRACER_RUNNING, TRACER_DO_NOTHING);
        default:
                /* A group-stop of init never sticks; a late interrupt or a
                 * syscall stop left by a window or a switch: let it go. */
                return step(s, TRACER_DO_RESUME);
        }
}

static struct tracer_step crash_follow(const struct tracer_input *in) {
        switch (in->kind) {
        case TRACER_IN_EXEC:
                return reporting(step(after_exec(in->exec_image), TRACER_DO_RESUME), TRACER_EVENT_EXEC, 0);
        case TRACER_IN_SYSCALL_ENTRY:
                if (in->crash == CRASH_SYSCALL_TERMINAL || in->exit)
                        return step(TRACER_INJECTED, TRACER_DO_INJECT);
                if (in->crash == CRASH_SYSCALL_REBOOT)
                        return step(TRACER_RUNNING, TRACER_DO_RESUME);
                return step(TRACER_CRASH_FOLLOW, TRACER_DO_RESUME);
        case TRACER_IN_SIGNAL:
                /* A nested crash of the handler is delivered too. */
                return on_signal(TRACER_CRASH_FOLLOW, in->policy);
        case TRACER_IN_DEADLINE:
                /* No terminal syscall within crash-timeout: take it over where it is. */
                return step(TRACER_INTERRUPTING, TRACER_DO_INTERRUPT);
        case TRACER_IN_FAILED:
                return step(TRACER_CRASH_FOLLOW, TRACER_DO_NOTHING);
        default:
                return step(TRACER_CRASH_FOLLOW, TRACER_DO_RESUME);
        }
}

/* Our PTRACE_INTERRUPT is pending: any stop will do for the injection (a
 * syscall stop may come first where PTRACE_SYSCALL was pending; resuming
 * an exit's entry would end PID 1). */
static struct tracer_step interrupting(const struct tracer_input *in) {
        switch (in->kind) {
        case TRACER_IN_EXEC:
                if (in->exec_image == TRACER_IMAGE_SELF) /* it got there on its own */
                        return reporting(step(TRACER_RUNNING, TRACER_DO_RESUME), TRACER_EVENT_EXEC, 0);
                return reporting(step(TRACER_INJECTED, TRACER_DO_INJECT), TRACER_EVENT_EXEC, 0);
        case TRACER_IN_DEADLINE:
                /* Not stopped yet (in the kernel, state D, or frozen): thaw and
                 * interrupt again; then give up, PID 1 runs on as it was. */
                if (in->escalations + 1 < TRACER_INTERRUPT_TRIES)
                        return step(TRACER_INTERRUPTING, TRACER_DO_INTERRUPT);
                return step(TRACER_RUNNING, TRACER_DO_NOTHING);
        case TRACER_IN_FAILED:
                return in->resumable ? step(TRACER_RUNNING, TRACER_DO_NOTHING) : step(TRACER_WEDGED, TRACER_DO_HOLD);
        default:
                return step(TRACER_INJECTED, TRACER_DO_INJECT);
        }
}

/* The execve is injected; PID 1 is followed until PTRACE_EVENT_EXEC. */
static struct tracer_step injected(const struct tracer_input *in) {
        switch (in->kind) {
        case TRACER_IN_EXEC:
                return reporting(step(TRACER_RUNNING, TRACER_DO_RESUME), TRACER_EVENT_TAKEN, 0);
        case TRACER_IN_SYSCALL_EXIT:
                if (in->ret >= 0)
                        return step(TRACER_INJECTED, TRACER_DO_RESUME);
                /* The execve failed: undo it where PID 1 lives on as it was,
                 * else hold it stopped and retry (it was about to die). */
                return in->resumable ? step(TRACER_RUNNING, TRACER_DO_ROLLBACK) : step(TRACER_WEDGED, TRACER_DO_HOLD);
        case TRACER_IN_SIGNAL:
                /* A fault in the injected state: hold, the retry undoes it.
                 * Other signals are dropped: PID 1 is about to become initshim,
                 * which would discard them anyway. */
                if (in->policy == SIGNAL_CRASH || in->policy == SIGNAL_CRASH_UNHANDLED)
                        return step(TRACER_WEDGED, TRACER_DO_HOLD);
                return step(TRACER_INJECTED, TRACER_DO_RESUME);
        case TRACER_IN_DEADLINE:
                /* The execve is PID 1's own now, in the kernel: say so, and
                 * resume a stop whose resume failed. */
                return step(TRACER_INJECTED, TRACER_DO_KICK);
        case TRACER_IN_FAILED:
                /* The injection could not be made; registers are unchanged. */
                return in->resumable ? step(TRACER_RUNNING, TRACER_DO_RESUME) : step(TRACER_WEDGED, TRACER_DO_HOLD);
        default:
                return step(TRACER_INJECTED, TRACER_DO_RESUME);
        }
}

/* Held stopped after a failed injection: retry at the held stop, then once
 * at a fresh stop, then detach so that PID 1 runs on (docs/ptrace.md). */
static struct tracer_step wedged(const struct tracer_input *in) {
        if (in->kind != TRACER_IN_DEADLINE)
                return step(TRACER_WEDGED, TRACER_DO_HOLD);
        if (in->attempts <= TRACER_WEDGED_RETRIES)
                return step(TRACER_INJECTED, TRACER_DO_RETRY);
        if (in->attempts == TRACER_WEDGED_RETRIES + 1)
                return step(TRACER_INTERRUPTING, TRACER_DO_REINTERRUPT);
        return step(TRACER_DETACHED, TRACER_DO_DETACH);
}

/* SWITCH_REEXEC: SIGTERM sent, PID 1 serializes and re-executes on its
 * own, untraced but for its exec event. A syscall stop left over from an
 * exec window lets it go (PTRACE_CONT). */
static struct tracer_step switch_reexec(const struct tracer_input *in) {
        switch (in->kind) {
        case TRACER_IN_EXEC:
                if (in->exec_target) /* it re-executed the target itself */
                        return reporting(step(after_exec(in->exec_image), TRACER_DO_RESUME), TRACER_EVENT_SWITCHED, 0);
                if (in->exec_image == TRACER_IMAGE_SHUTDOWN || in->exec_image == TRACER_IMAGE_SELF)
                        /* Not a re-exec (a shutdown raced the switch): leave it be. */
                        return reporting(step(TRACER_RUNNING, TRACER_DO_RESUME), TRACER_EVENT_SWITCHED, -ECANCELED);
                return step(TRACER_SWITCH_LANDED, TRACER_DO_RESUME);
        case TRACER_IN_SYSCALL_ENTRY:
                if (in->exit)
                        return step(TRACER_INJECTED, TRACER_DO_INJECT);
                return step(TRACER_SWITCH_REEXEC, TRACER_DO_RESUME);
        case TRACER_IN_SIGNAL:
                /* Delivered as when it runs free; a crash is followed. */
                return on_signal(TRACER_SWITCH_REEXEC, in->policy);
        case TRACER_IN_DEADLINE:
                return reporting(step(TRACER_RUNNING, TRACER_DO_NOTHING), TRACER_EVENT_SWITCHED, -ETIMEDOUT);
        case TRACER_IN_FAILED:
                return reporting(step(TRACER_RUNNING, TRACER_DO_NOTHING), TRACER_EVENT_SWITCHED, (int) in->ret);
        default:
                return step(TRACER_SWITCH_REEXEC, TRACER_DO_RESUME);
        }
}

/* What PID 1 runs when the target's execve cannot be made or fails: the
 * image its own re-exec loaded, fresh (followed like any new image). */
static struct tracer_step switch_failed(enum tracer_action a, long err) {
        return reporting(step(TRACER_EXEC_FOLLOW, a), TRACER_EVENT_SWITCHED, (int) err);
}

/* SWITCH_LANDED: the re-exec's exec event was seen; its syscall-exit stop
 * comes next, before the new image runs an instruction. */
static struct tracer_step switch_landed(const struct tracer_input *in) {
        switch (in->kind) {
        case TRACER_IN_SYSCALL_EXIT:
                return step(TRACER_SWITCH_EXEC, TRACER_DO_REDIRECT);
        case TRACER_IN_SYSCALL_ENTRY:
                if (in->exit)
                        return step(TRACER_INJECTED, TRACER_DO_INJECT);
                return switch_failed(TRACER_DO_RESUME, -EPROTO);
        case TRACER_IN_SIGNAL:
                if (in->policy == SIGNAL_CRASH || in->policy == SIGNAL_CRASH_UNHANDLED)
                        return on_signal(TRACER_SWITCH_LANDED, in->policy);
                return switch_failed(TRACER_DO_RESUME, -EPROTO);
        case TRACER_IN_DEADLINE:
                return step(TRACER_SWITCH_LANDED, TRACER_DO_KICK);
        case TRACER_IN_FAILED:
                return switch_failed(TRACER_DO_RESUME, in->ret);
        default:
                return step(TRACER_SWITCH_LANDED, TRACER_DO_RESUME);
        }
}

/* SWITCH_EXEC: the target's execve is set up; its exec event, or its
 * failure at its exit stop (rolled back: the re-exec'd image runs). */
static struct tracer_step switch_exec(const struct tracer_input *in) {
        struct tracer_step r;

        switch (in->kind) {
        case TRACER_IN_EXEC:
                return reporting(step(after_exec(in->exec_image), TRACER_DO_RESUME), TRACER_EVENT_SWITCHED, 0);
        case TRACER_IN_SYSCALL_EXIT:
                if (in->ret < 0)
                        return switch_failed(TRACER_DO_ROLLBACK, in->ret);
                return step(TRACER_SWITCH_EXEC, TRACER_DO_RESUME);
        case TRACER_IN_SIGNAL:
                /* A fresh image handles nothing: what it would not see is
                 * dropped, as when it runs free. */
                r = step(TRACER_SWITCH_EXEC, TRACER_DO_RESUME);
                r.deliver = in->policy == SIGNAL_PASS;
                return r;
        case TRACER_IN_DEADLINE:
                return step(TRACER_SWITCH_EXEC, TRACER_DO_KICK);
        case TRACER_IN_FAILED:
                /* The injection could not be made; registers are unchanged. */
                return switch_failed(TRACER_DO_RESUME, in->ret);
        default:
                return step(TRACER_SWITCH_EXEC, TRACER_DO_RESUME);
        }
}

/* Detach at whatever stop comes first; interrupt again until it comes. */
static struct tracer_step detaching(const struct tracer_input *in) {
        struct tracer_step r;

        switch (in->kind) {
        case TRACER_IN_DEADLINE:
                return step(TRACER_DETACHING, TRACER_DO_INTERRUPT);
        case TRACER_IN_FAILED:
                return step(TRACER_DETACHING, TRACER_DO_NOTHING);
        default:
                r = step(TRACER_DETACHED, TRACER_DO_DETACH);
                r.deliver = in->kind == TRACER_IN_SIGNAL &&
                            (in->policy == SIGNAL_PASS || in->policy == SIGNAL_CRASH);
                return r;
        }
}

struct tracer_step tracer_transition(enum tracer_state s, const struct tracer_input *in) {
        if (in->kind == TRACER_IN_GONE)
                return reporting(step(TRACER_DETACHED, TRACER_DO_NOTHING), TRACER_EVENT_GONE, 0);
        switch (s) {
        case TRACER_DETACHED:
                /* A detach that failed: PID 1 is still ours until a stop. */
                if (in->kind == TRACER_IN_FAILED)
                        return step(TRACER_DETACHING, TRACER_DO_INTERRUPT);
                return step(TRACER_DETACHED, TRACER_DO_NOTHING);
        case TRACER_RUNNING:
        case TRACER_EXEC_FOLLOW:
                return running(s, in);
        case TRACER_CRASH_FOLLOW:
                return crash_follow(in);
        case TRACER_INTERRUPTING:
                return interrupting(in);
        case TRACER_INJECTED:
                return injected(in);
        case TRACER_WEDGED:
                return wedged(in);
        case TRACER_SWITCH_REEXEC:
                return switch_reexec(in);
        case TRACER_SWITCH_LANDED:
                return switch_landed(in);
        case TRACER_SWITCH_EXEC:
                return switch_exec(in);
        case TRACER_DETACHING:
                return detaching(in);
        }
        return step(s, TRACER_DO_NOTHING);
}

uint64_t tracer_timeout_ms(const struct tracer *t, enum tracer_state s) {
        uint64_t ms = TRACER_WEDGED_FIRST_MS;

        switch (s) {
        case TRACER_EXEC_FOLLOW:
                return t->exec_follow_ms;
        case TRACER_CRASH_FOLLOW:
                return t->crash_timeout_ms;
        case TRACER_INTERRUPTING:
        case TRACER_DETACHING:
                return TRACER_INTERRUPT_TIMEOUT_MS;
        case TRACER_INJECTED:
        case TRACER_SWITCH_LANDED:
        case TRACER_SWITCH_EXEC:
                return TRACER_KICK_INTERVAL_MS;
        case TRACER_SWITCH_REEXEC:
                return t->switch_timeout_ms;
        case TRACER_WEDGED:
                /* 0.1 s after the first failure, x5 after each next one. */
                for (unsigned i = 1; i < t->attempts && ms < TRACER_WEDGED_MAX_MS; i++)
                        ms *= 5;
                return ms < TRACER_WEDGED_MAX_MS ? ms : TRACER_WEDGED_MAX_MS;
        case TRACER_DETACHED:
        case TRACER_RUNNING:
                break;
        }
        return 0;
}

bool tracer_is_steady(const struct tracer *t) {
        return t->state == TRACER_RUNNING || t->state == TRACER_EXEC_FOLLOW;
}

/* ---- set-up ---------------------------------------------------------------- */

int tracer_init(struct tracer *t, char *const *envp) {
        unsigned char hdr[4];
        struct stat st;
        int fd;

        memset(t, 0, sizeof *t);
        t->self_fd = -1;
        t->envp = envp;
        t->crash_timeout_ms = 30000;
        t->exec_follow_ms = TRACER_EXEC_FOLLOW_MS;
        t->exec_follow_syscalls = TRACER_EXEC_FOLLOW_SYSCALLS;
        fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_errno(-errno, LOG_ERR, "guard: cannot open its own binary");
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) ||
            pread(fd, hdr, 4, 0) != 4 || memcmp(hdr, "\177ELF", 4) != 0) {
                close(fd);
                log_error("guard: its own binary is not a root-owned, non-writable ELF; no takeover possible");
                return -EPERM;
        }
        t->self_fd = fd;
        snprintf(t->rescue_path, sizeof t->rescue_path, "/proc/%d/fd/%d", (int) getpid(), fd);
        return 0;
}

/* Note the file PID 1 runs now; true if it is the one it ran before (the
 * same inode: a replaced binary at the same path is a new one). */
static bool remember_image(struct tracer *t, struct stat *now) {
        char path[32];
        bool same;

        snprintf(path, sizeof path, "/proc/%d/exe", (int) t->pid);
        if (stat(path, now) < 0) {
                t->image_dev = 0, t->image_ino = 0;
                return false;
        }
        same = t->image_ino != 0 && now->st_dev == t->image_dev && now->st_ino == t->image_ino;
        t->image_dev = now->st_dev, t->image_ino = now->st_ino;
        return same;
}

int tracer_attach(struct tracer *t, pid_t pid) {
        if (ptrace(PTRACE_SEIZE, pid, NULL, (void *) (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC)) < 0) {
                int r = -errno;
                snprintf(t->last_error, sizeof t->last_error, "cannot trace PID %d: %s%s", (int) pid,
                         strerror(-r),
                         r == -EPERM ? " (Yama ptrace_scope=3 or an LSM forbids it)" : "");
                log_error("guard: %s; PID 1 runs unguarded (no takeover on crash)", t->last_error);
                return r;
        }
        t->pid = pid;
        t->state = TRACER_RUNNING;
        t->image_ino = 0;
        (void) remember_image(t, &(struct stat){ 0 });
        t->deadline_ms = 0;
        t->escalations = t->attempts = 0;
        t->hold_on_failure = t->inj_pending = t->resume_lost = false;
        t->crash_signal = 0;
        t->takeover_start_ns = 0;
        t->last_error[0] = '\0';
        return 0;
}

/* ---- reading a stop ---------------------------------------------------------- */

static uint64_t read_sigcgt(pid_t pid) {
        char buf[2048];
        const char *v = read_proc_status_field(pid, "SigCgt", buf, sizeof buf);

        return v ? strtoull(v, NULL, 16) : 0;
}

static enum tracer_image read_image(struct tracer *t) {
        char exe[256];
        const char *base;
        struct stat a, b;
        bool same = remember_image(t, &b);

        if (t->self_fd >= 0 && b.st_ino != 0 && fstat(t->self_fd, &a) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
                return TRACER_IMAGE_SELF;
        if (same)
                return TRACER_IMAGE_SAME;
        read_exe(t->pid, exe, sizeof exe);
        base = strrchr(exe, '/');
        base = base ? base + 1 : exe;
        return strncmp(base, "systemd-shutdown", 16) == 0 ? TRACER_IMAGE_SHUTDOWN : TRACER_IMAGE_OTHER;
}

/* PID 1's image (remembered at this exec) is the file a switch goes to. */
static bool image_is_switch_target(const struct tracer *t) {
        struct stat st;

        return t->image_ino != 0 && stat(t->switch_path, &st) == 0 && st.st_dev == t->image_dev &&
               st.st_ino == t->image_ino;
}

static void read_syscall(struct tracer *t, struct tracer_input *in) {
        struct inject_syscall_stop s;

        /* Unreadable, or not a syscall stop after all: a neutral exit stop. */
        in->kind = TRACER_IN_SYSCALL_EXIT;
        if (inject_syscall_stop(t->pid, &s) < 0 || s.kind == INJECT_STOP_NONE)
                return;
        if (s.kind == INJECT_STOP_SYSCALL_EXIT) {
                in->ret = s.ret;
                return;
        }
        t->at_entry = true;
        in->kind = TRACER_IN_SYSCALL_ENTRY;
        in->nr = s.nr;
        in->crash = tracer_classify_crash_syscall(s.nr, s.args);
        in->exit = s.nr == SYS_exit || s.nr == SYS_exit_group;
        in->execve = s.nr == SYS_execve || s.nr == SYS_execveat;
        if (in->exit)
                t->exit_status = (int) (s.args[0] & 0xff);
        if (t->state == TRACER_EXEC_FOLLOW) {
                in->window_over = ++t->follow_syscalls >= t->exec_follow_syscalls;
                t->follow_last_ns = now_ns();
        }
}

static void input_init(const struct tracer *t, struct tracer_input *in, enum tracer_input_kind kind) {
        memset(in, 0, sizeof *in);
        in->kind = kind;
        in->resumable = !t->hold_on_failure;
        in->attempts = t->attempts;
        in->escalations = t->escalations;
}

/* A wait status as the state machine's input; false: nothing to decide. */
static bool read_input(struct tracer *t, int st, struct tracer_input *in, int *sig) {
        int event = (int) ((unsigned) st >> 16);

        input_init(t, in, TRACER_IN_GONE);
        *sig = 0;
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
                log_crit("guard: PID %d is gone (%s %d)", (int) t->pid, WIFEXITED(st) ? "status" : "signal",
                         WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
                return true;
        }
        if (!WIFSTOPPED(st))
                return false;
        t->stops++;
        t->at_entry = false;
        *sig = WSTOPSIG(st);
        if (event == PTRACE_EVENT_EXEC) {
                in->kind = TRACER_IN_EXEC;
                in->exec_image = read_image(t);
                in->exec_target = t->state == TRACER_SWITCH_REEXEC && image_is_switch_target(t);
        } else if (event == PTRACE_EVENT_STOP)
                in->kind = TRACER_IN_STOP;
        else if (event != 0)
                in->kind = TRACER_IN_EVENT;
        else if (*sig == (SIGTRAP | 0x80))
                read_syscall(t, in);
        else {
                in->kind = TRACER_IN_SIGNAL;
                in->policy = tracer_signal_policy(*sig, read_sigcgt(t->pid));
        }
        return true;
}

/* ---- acting on PID 1 ------------------------------------------------------- */

static bool follows_syscalls(enum tracer_state s) {
        return s == TRACER_EXEC_FOLLOW || s == TRACER_CRASH_FOLLOW || s == TRACER_INJECTED ||
               s == TRACER_SWITCH_LANDED || s == TRACER_SWITCH_EXEC;
}

static void resume(struct tracer *t, enum __ptrace_request how, int sig) {
        t->resume_lost = false;
        if (ptrace(how, t->pid, NULL, (void *) (long) sig) == 0 || errno == ESRCH)
                return; /* ESRCH: not stopped (any more), or gone: a wait status tells */
        t->resume_lost = true;
        log_errno(-errno, LOG_WARNING, "guard: cannot resume PID %d", (int) t->pid);
}

/* PTRACE_SYSCALL where the state follows syscalls, else PTRACE_CONT. */
static void resume_as(struct tracer *t, enum tracer_state s, int sig) {
        resume(t, follows_syscalls(s) ? PTRACE_SYSCALL : PTRACE_CONT, sig);
}

static int inject(struct tracer *t) {
        char *argv[] = { (char *) "initshim", (char *) "--rescue", (char *) "--reason", t->reason, NULL };
        int r;

        t->attempts++;
        r = t->at_entry ? inject_execve_at_syscall_entry(t->pid, t->rescue_path, argv, t->envp, 0, &t->inj)
                        : inject_execve_at_stop(t->pid, t->rescue_path, argv, t->envp, 0, &t->inj);
        if (r < 0) {
                snprintf(t->last_error, sizeof t->last_error, "injecting execve failed: %s", strerror(-r));
                log_error("guard: takeover of PID %d failed (attempt %u): %s", (int) t->pid, t->attempts,
                          t->last_error);
                return r;
        }
        t->inj_pending = true;
        /* PTRACE_SYSCALL, so that a failing execve shows us its exit stop
         * before the tracee runs on with a bogus return value. */
        resume(t, PTRACE_SYSCALL, 0);
        return 0;
}

/* Put back what a failed (or not yet run) injection changed. */
static void undo_injection(struct tracer *t) {
        if (!t->inj_pending)
                return;
        t->inj_pending = false;
        int r = inject_rollback(t->pid, &t->inj);
        if (r < 0)
                log_errno(r, LOG_ERR, "guard: cannot undo the injection in PID %d", (int) t->pid);
}

static int interrupt(struct tracer *t) {
        tracer_thaw_pid1(t->pid);
        if (ptrace(PTRACE_INTERRUPT, t->pid, NULL, NULL) < 0)
                return log_errno(-errno, LOG_ERR, "guard: PTRACE_INTERRUPT of PID %d", (int) t->pid);
        return 0;
}

/* WEDGED: let PID 1 go from its held stop only as far as a fresh stop. The
 * pending interrupt stops it before it returns to user space (so before it
 * runs again an exit it was rolled back onto). */
static int reinterrupt(struct tracer *t) {
        undo_injection(t);
        int r = interrupt(t);
        if (r < 0)
                return r;
        resume(t, PTRACE_CONT, 0);
        return 0;
}

/* An injected execve that does not end: PID 1 is in the kernel (reading
 * the binary, or waiting for its other threads to die). Nothing we can do
 * but say where it is, and resume it if our last resume was lost. */
static void kick(struct tracer *t) {
        char path[32], stat[512], wchan[64] = "";
        const char *state;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) t->pid);
        state = read_file(path, stat, sizeof stat) > 0 && strrchr(stat, ')') ? strrchr(stat, ')') + 2 : "?";
        snprintf(path, sizeof path, "/proc/%d/wchan", (int) t->pid);
        (void) read_file(path, wchan, sizeof wchan);
        log_warning("guard: PID %d has not finished its execve after %llu s (state %c, in %s)%s", (int) t->pid,
                    (unsigned long long) ((t->escalations + 1) * TRACER_KICK_INTERVAL_MS / 1000), state[0],
                    wchan[0] ? wchan : "?", t->resume_lost ? "; resuming it again" : "");
        if (t->resume_lost)
                resume_as(t, t->state, 0);
}

static int detach_now(struct tracer *t, int sig) {
        undo_injection(t);
        if (ptrace(PTRACE_DETACH, t->pid, NULL, (void *) (long) sig) < 0)
                return log_errno(-errno, LOG_ERR, "guard: cannot detach from PID %d", (int) t->pid);
        return 0;
}

/* At the exit stop of PID 1's own re-exec: execute the target instead,
 * with the argv (--deserialize N) and environment the re-exec passed. */
static int redirect_exec(struct tracer *t) {
        int r = inject_execve_at_exec_exit(t->pid, t->switch_path, 0, &t->inj);

        if (r < 0)
                return log_errno(r, LOG_ERR, "guard: cannot make PID %d execute %s", (int) t->pid, t->switch_path);
        t->inj_pending = true;
        resume(t, PTRACE_SYSCALL, 0);
        return 0;
}

/* Carry out a step's action; -errno when it could not be done. */
static int act(struct tracer *t, const struct tracer_step *s, int sig) {
        switch (s->action) {
        case TRACER_DO_NOTHING:
        case TRACER_DO_HOLD:
                return 0;
        case TRACER_DO_RESUME:
                resume_as(t, s->next, sig);
                return 0;
        case TRACER_DO_INJECT:
                return inject(t);
        case TRACER_DO_RETRY:
                undo_injection(t);
                return inject(t);
        case TRACER_DO_REINTERRUPT:
                return reinterrupt(t);
        case TRACER_DO_INTERRUPT:
                return interrupt(t);
        case TRACER_DO_KICK:
                kick(t);
                return 0;
        case TRACER_DO_DETACH:
                return detach_now(t, sig);
        case TRACER_DO_REDIRECT:
                return redirect_exec(t);
        case TRACER_DO_ROLLBACK:
                undo_injection(t);
                resume_as(t, s->next, 0);
                return 0;
        }
        return 0;
}

/* ---- bookkeeping and logs ---------------------------------------------------- */

static void begin_takeover_log(struct tracer *t) {
        char exe[256];

        read_exe(t->pid, exe, sizeof exe);
        log_crit("taking over PID %d (%s, %s): %s", (int) t->pid, exe[0] ? exe : "?",
                 t->pid1_version[0] ? t->pid1_version : "version unknown", t->reason);
}

/* A takeover begins: attempts count from here. */
static void begin_takeover(struct tracer *t, bool hold_on_failure) {
        t->attempts = 0;
        t->hold_on_failure = hold_on_failure;
        if (!t->takeover_start_ns)
                t->takeover_start_ns = now_ns();
}

static void begin_crash(struct tracer *t, int sig) {
        char exe[256];

        read_exe(t->pid, exe, sizeof exe);
        t->crash_signal = sig;
        t->crash_since_ms = now_ms();
        t->takeover_start_ns = now_ns();
        snprintf(t->reason, sizeof t->reason, "crash: %s in %s", signal_name(sig), exe[0] ? exe : "PID 1");
        log_crit("guard: PID %d (%s) got %s: letting its crash handler run, then taking over", (int) t->pid, exe,
                 signal_name(sig));
}

static void begin_unhandled_crash(struct tracer *t, int sig) {
        char exe[256];

        read_exe(t->pid, exe, sizeof exe);
        t->crash_signal = sig;
        t->takeover_start_ns = 0;
        begin_takeover(t, true);
        snprintf(t->reason, sizeof t->reason, "crash: %s in %s (no handler)", signal_name(sig),
                 exe[0] ? exe : "PID 1");
        begin_takeover_log(t);
}

/* PID 1 entered exit or exit_group: init would die (kernel panic). */
static void begin_exit_takeover(struct tracer *t, enum tracer_state from) {
        char exe[256];
        uint64_t ms = (now_ns() - t->follow_since_ns) / 1000000;

        read_exe(t->pid, exe, sizeof exe);
        t->takeover_start_ns = 0;
        begin_takeover(t, true);
        if (from == TRACER_EXEC_FOLLOW)
                snprintf(t->reason, sizeof t->reason, "exit: %s exited with status %d right after exec (%llu ms, %lu syscalls)",
                         exe[0] ? exe : "PID 1", t->exit_status, (unsigned long long) ms, t->follow_syscalls);
        else
                snprintf(t->reason, sizeof t->reason, "exit: %s called exit with status %d", exe[0] ? exe : "PID 1",
                         t->exit_status);
        begin_takeover_log(t);
}

/* Since the tracee became initshim: record, log and report how long it took. */
static void finish_takeover(struct tracer *t) {
        uint64_t us = t->takeover_start_ns ? (now_ns() - t->takeover_start_ns) / 1000 : 0;

        t->takeovers++;
        snprintf(t->last_takeover, sizeof t->last_takeover, "%s (%llu us)", t->reason, (unsigned long long) us);
        log_crit("PID %d is initshim in rescue mode, %llu us after %s", (int) t->pid, (unsigned long long) us,
                 t->crash_signal ? signal_name(t->crash_signal) : "the takeover began");
        t->takeover_start_ns = 0;
        t->crash_signal = 0;
        t->hold_on_failure = false;
}

static void begin_follow(struct tracer *t) {
        t->follow_since_ns = now_ns();
        t->follow_syscalls = 0;
        t->follow_last_ns = 0;
        t->follow_stops = t->stops;
}

/* What following an exec cost: the figures docs/ptrace.md quotes. */
static void end_follow(struct tracer *t, const char *why) {
        uint64_t last = t->follow_last_ns > t->follow_since_ns ? t->follow_last_ns - t->follow_since_ns : 0;

        log_info("guard: followed PID %d's first %lu syscalls after its exec (%lu ptrace stops, the last %llu us "
                 "after the exec); it runs free now (%s)",
                 (int) t->pid, t->follow_syscalls, t->stops - t->follow_stops, (unsigned long long) (last / 1000),
                 why);
}

static bool fatal_if_resumed(const struct tracer_input *in) {
        return (in->kind == TRACER_IN_SYSCALL_ENTRY && in->exit) ||
               (in->kind == TRACER_IN_SIGNAL && in->policy == SIGNAL_CRASH_UNHANDLED);
}

/* An injection is about to be made: why, and whether a failure must hold
 * PID 1 stopped. */
static void note_injection(struct tracer *t, enum tracer_state from, const struct tracer_input *in, int sig) {
        if (from == TRACER_INTERRUPTING || from == TRACER_INJECTED) {
                t->hold_on_failure |= fatal_if_resumed(in);
                return;
        }
        if (in->kind == TRACER_IN_SIGNAL) {
                begin_unhandled_crash(t, sig);
                return;
        }
        if (from != TRACER_CRASH_FOLLOW) {
                begin_exit_takeover(t, from);
                return;
        }
        log_notice("guard: crash handler reached its last syscall (%ld) %llu us after %s", in->nr,
                   (unsigned long long) ((now_ns() - t->takeover_start_ns) / 1000), signal_name(t->crash_signal));
        begin_takeover(t, true);
}

static const char *follow_end_reason(const struct tracer_input *in, const struct tracer_step *s) {
        if (in->kind == TRACER_IN_EXEC)
                return "it exec'd again";
        if (in->kind == TRACER_IN_DEADLINE)
                return "window over";
        if (s->action == TRACER_DO_INJECT)
                return "taking it over";
        if (s->next == TRACER_CRASH_FOLLOW)
                return "it crashed";
        return in->window_over ? "syscall budget spent" : "state change";
}

static void note_follow(struct tracer *t, enum tracer_state from, const struct tracer_input *in,
                        const struct tracer_step *s) {
        bool again = in->kind == TRACER_IN_EXEC;

        if (from == TRACER_EXEC_FOLLOW && (s->next != TRACER_EXEC_FOLLOW || again))
                end_follow(t, follow_end_reason(in, s));
        if (s->next == TRACER_EXEC_FOLLOW && (from != TRACER_EXEC_FOLLOW || again))
                begin_follow(t);
}

static void note_switch(struct tracer *t, enum tracer_state from, const struct tracer_input *in,
                        const struct tracer_step *s) {
        if (s->report != TRACER_EVENT_SWITCHED)
                return;
        if (in->kind == TRACER_IN_EXEC && s->switch_result == 0)
                log_notice("guard: PID %d now runs %s (%s; %lu ptrace stops since the switch began)", (int) t->pid,
                           t->switch_path, from == TRACER_SWITCH_REEXEC ? "its own re-exec" : "execve injected",
                           t->stops - t->switch_stops);
        else if (in->kind == TRACER_IN_DEADLINE)
                log_error("guard: PID %d did not re-execute within %llu ms; switch abandoned", (int) t->pid,
                          (unsigned long long) t->switch_timeout_ms);
        else if (s->next == TRACER_EXEC_FOLLOW)
                log_error("guard: execve of %s failed in PID %d (%s): it runs the binary its own re-exec loaded",
                          t->switch_path, (int) t->pid, strerror((int) -s->switch_result));
}

/* What the next deadline of a held PID 1 brings. */
static const char *wedged_next(unsigned attempts) {
        if (attempts <= TRACER_WEDGED_RETRIES)
                return "retrying the injection at this stop";
        if (attempts == TRACER_WEDGED_RETRIES + 1)
                return "one more attempt at a fresh stop";
        return "detaching, so that PID 1 runs on (last resort)";
}

/* A takeover under way gave up: PID 1 runs on as it was (no exec). */
static bool takeover_abandoned(enum tracer_state from, const struct tracer_input *in, const struct tracer_step *s) {
        return (from == TRACER_INJECTED || from == TRACER_INTERRUPTING) && s->next == TRACER_RUNNING &&
               in->kind != TRACER_IN_EXEC;
}

static void note_failure(struct tracer *t, enum tracer_state from, const struct tracer_input *in,
                         const struct tracer_step *s) {
        if (from == TRACER_INJECTED && in->kind == TRACER_IN_SYSCALL_EXIT && in->ret < 0) {
                snprintf(t->last_error, sizeof t->last_error, "execve of %s failed in PID %d: %s", t->rescue_path,
                         (int) t->pid, strerror((int) -in->ret));
                log_error("guard: takeover of PID %d failed (attempt %u): %s", (int) t->pid, t->attempts,
                          t->last_error);
        }
        if (s->next == TRACER_WEDGED && from != TRACER_WEDGED)
                log_crit("guard: holding PID %d stopped, not letting it go where it was going; in %llu ms: %s", (int) t->pid,
                         (unsigned long long) tracer_timeout_ms(t, TRACER_WEDGED), wedged_next(t->attempts));
        else if (takeover_abandoned(from, in, s))
                log_crit("guard: takeover of PID %d abandoned (%s); it runs on as it was", (int) t->pid,
                         t->last_error[0] ? t->last_error : "no stop");
}

static void note_deadline(struct tracer *t, enum tracer_state from, const struct tracer_step *s) {
        bool say = t->escalations < 3 || t->escalations % 12 == 0; /* PID 1 stuck in the kernel: not every time */

        switch (from) {
        case TRACER_CRASH_FOLLOW:
                log_warning("guard: crash handler made no terminal syscall within %llu ms, interrupting it",
                            (unsigned long long) t->crash_timeout_ms);
                begin_takeover(t, false);
                break;
        case TRACER_INTERRUPTING:
                if (s->next == TRACER_INTERRUPTING)
                        log_warning("guard: PID %d did not stop within %d ms; thawing and interrupting it again",
                                    (int) t->pid, TRACER_INTERRUPT_TIMEOUT_MS);
                else
                        snprintf(t->last_error, sizeof t->last_error, "PID %d did not stop after %d interrupts",
                                 (int) t->pid, TRACER_INTERRUPT_TRIES);
                break;
        case TRACER_WEDGED:
                if (s->action != TRACER_DO_DETACH) {
                        log_warning("guard: takeover of PID %d, attempt %u: %s", (int) t->pid, t->attempts + 1,
                                    wedged_next(t->attempts));
                        break;
                }
                snprintf(t->last_error, sizeof t->last_error, "detached after %u failed takeover attempts (%s)",
                         t->attempts, t->reason);
                log_crit("guard: %s; PID %d runs on untraced ('initshimctl guard start' attaches again)",
                         t->last_error, (int) t->pid);
                t->takeover_start_ns = 0;
                t->crash_signal = 0;
                break;
        case TRACER_DETACHING:
                if (say)
                        log_warning("guard: PID %d has not stopped yet; interrupting it again to detach", (int) t->pid);
                break;
        default:
                break;
        }
}

/* PID 1's listening sockets are copied while it is stopped at the start of
 * a takeover (a crash's signal, before its handler closes every fd; an
 * injection), and the copies closed once it execs another binary (the new
 * systemd took what rescue mode handed over) or the takeover is abandoned,
 * before it runs on. */
static void note_sockets(struct tracer *t, enum tracer_state from, const struct tracer_input *in,
                         const struct tracer_step *s) {
        bool starts = s->action == TRACER_DO_INJECT || (s->next == TRACER_CRASH_FOLLOW && from != TRACER_CRASH_FOLLOW);
        bool ends = (in->kind == TRACER_IN_EXEC && in->exec_image != TRACER_IMAGE_SELF) ||
                    takeover_abandoned(from, in, s);

        if (!t->sockets_file)
                return;
        if (starts)
                (void) pid1_sockets_capture(t->pid, t->sockets_file);
        else if (ends && pid1_sockets_held() > 0)
                log_info("guard: closed the %d copies of the crashed PID 1's listening sockets",
                         pid1_sockets_release(t->sockets_file));
}

static void note_step(struct tracer *t, enum tracer_state from, const struct tracer_input *in,
                      const struct tracer_step *s, int sig) {
        note_sockets(t, from, in, s);
        note_follow(t, from, in, s);
        if (s->action == TRACER_DO_INJECT)
                note_injection(t, from, in, sig);
        else if (s->next == TRACER_CRASH_FOLLOW && from != TRACER_CRASH_FOLLOW)
                begin_crash(t, sig);
        if (from == TRACER_CRASH_FOLLOW && in->kind == TRACER_IN_SYSCALL_ENTRY && in->crash == CRASH_SYSCALL_REBOOT)
                log_notice("guard: crashed PID %d reboots (crash_reboot): letting it", (int) t->pid);
        if (in->kind == TRACER_IN_SIGNAL && in->policy == SIGNAL_SUPPRESS && tracer_is_steady(t) && sig != SIGCHLD &&
            sig != SIGURG && sig != SIGWINCH)
                /* Worth a word only where the default action is not to ignore
                 * (an initramfs's shell gets a SIGCHLD per command). */
                log_notice("guard: not delivering %s to PID %d (it does not handle it)", signal_name(sig),
                           (int) t->pid);
        if (s->report == TRACER_EVENT_TAKEN)
                finish_takeover(t);
        note_switch(t, from, in, s);
        if (in->kind == TRACER_IN_DEADLINE)
                note_deadline(t, from, s);
        note_failure(t, from, in, s);
}

/* The deadline of the state just entered (or escalated in). One deadline
 * covers a whole switch; EXEC_FOLLOW starts over at each exec. */
static void arm_deadline(struct tracer *t, enum tracer_state from, const struct tracer_input *in) {
        bool same = t->state == from;
        uint64_t ms;

        if (same && in->kind != TRACER_IN_DEADLINE && in->kind != TRACER_IN_EXEC)
                return;
        t->escalations = same && in->kind == TRACER_IN_DEADLINE ? t->escalations + 1 : 0;
        ms = tracer_timeout_ms(t, t->state);
        t->deadline_ms = ms ? now_ms() + ms : 0;
}

static void enter_state(struct tracer *t, enum tracer_state s) {
        uint64_t ms;

        t->state = s;
        t->escalations = 0;
        ms = tracer_timeout_ms(t, s);
        t->deadline_ms = ms ? now_ms() + ms : 0;
}

/* Decide, record, act; an action that fails is an input too. */
static int run_step(struct tracer *t, const struct tracer_input *in, int sig) {
        enum tracer_state from = t->state;
        struct tracer_step s = tracer_transition(from, in);
        struct tracer_input failed;
        int r, report;

        if (in->kind == TRACER_IN_EXEC)
                t->inj_pending = false; /* what was injected or rewritten has run */
        note_step(t, from, in, &s, sig);
        t->state = s.next;
        arm_deadline(t, from, in);
        if (s.report == TRACER_EVENT_SWITCHED)
                t->switch_result = s.switch_result;
        r = act(t, &s, s.deliver ? sig : 0);
        if (r >= 0)
                return s.report;
        /* Bounded: no transition on FAILED asks for an action that fails twice. */
        input_init(t, &failed, TRACER_IN_FAILED);
        failed.ret = r;
        report = run_step(t, &failed, 0);
        return report ? report : s.report;
}

int tracer_handle(struct tracer *t, int st) {
        struct tracer_input in;
        int sig;

        if (!read_input(t, st, &in, &sig))
                return 0;
        return run_step(t, &in, sig);
}

static int ms_until(uint64_t deadline, uint64_t now) {
        uint64_t ms = deadline > now ? deadline - now : 0;
        return ms > INT32_MAX ? INT32_MAX : (int) ms;
}

int tracer_tick(struct tracer *t) {
        struct tracer_input in;
        uint64_t now;
        int report;

        if (!t->deadline_ms || t->state == TRACER_DETACHED)
                return -1;
        now = now_ms();
        if (now < t->deadline_ms)
                return ms_until(t->deadline_ms, now);
        input_init(t, &in, TRACER_IN_DEADLINE);
        report = run_step(t, &in, 0);
        if (report)
                t->pending_report = report;
        return t->deadline_ms && t->state != TRACER_DETACHED ? ms_until(t->deadline_ms, now_ms()) : -1;
}

int tracer_take_report(struct tracer *t) {
        int r = t->pending_report;

        t->pending_report = 0;
        return r;
}

/* ---- requests ------------------------------------------------------------------ */

int tracer_switch(struct tracer *t, const char *path, uint64_t timeout_ms) {
        if (!tracer_is_steady(t))
                return t->state == TRACER_DETACHED ? -ENOTCONN : -EBUSY;
        if (copy_string(t->switch_path, sizeof t->switch_path, path) < 0)
                return -ENAMETOOLONG;
        /* systemd's own re-exec (what daemon-reexec asks): nothing of it is
         * followed but its exec event. */
        if (kill(t->pid, SIGTERM) < 0)
                return log_errno(-errno, LOG_ERR, "guard: cannot ask PID %d to re-execute", (int) t->pid);
        if (t->state == TRACER_EXEC_FOLLOW)
                end_follow(t, "a switch begins");
        t->switch_timeout_ms = timeout_ms;
        t->switch_result = 0;
        t->switch_stops = t->stops;
        enter_state(t, TRACER_SWITCH_REEXEC);
        log_notice("guard: switching PID %d to %s (state kept)", (int) t->pid, path);
        return 0;
}

int tracer_takeover(struct tracer *t, const char *reason) {
        int r;

        if (!tracer_is_steady(t) && t->state != TRACER_CRASH_FOLLOW)
                return t->state == TRACER_DETACHED ? -ENOTCONN : -EBUSY;
        (void) copy_string(t->reason, sizeof t->reason, reason);
        begin_takeover(t, false);
        begin_takeover_log(t);
        r = interrupt(t);
        if (r < 0)
                return r;
        if (t->state == TRACER_EXEC_FOLLOW)
                end_follow(t, "a takeover begins");
        enter_state(t, TRACER_INTERRUPTING);
        return 0;
}

void tracer_thaw_pid1(pid_t pid) {
        char path[96], buf[512], state[32];

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        if (read_file(path, buf, sizeof buf) <= 0)
                return;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                char *cg = strrchr(line, ':');
                if (!cg || strlen(cg + 1) > 200)
                        continue;
                cg++;
                if (strncmp(line, "0::", 3) == 0) {
                        const char *root = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0
                                                   ? "/sys/fs/cgroup"
                                                   : "/sys/fs/cgroup/unified";
                        snprintf(path, sizeof path, "%s%s/cgroup.freeze", root, strcmp(cg, "/") ? cg : "");
                        if (read_file(path, state, sizeof state) > 0 && state[0] == '1') {
                                int fd = open(path, O_WRONLY | O_CLOEXEC);
                                if (fd >= 0 && write_all(fd, "0", 1) == 0)
                                        log_warning("guard: PID %d's cgroup %s was frozen: thawed it", (int) pid, cg);
                                if (fd >= 0)
                                        close(fd);
                        }
                } else if (strstr(line, ":freezer:")) {
                        snprintf(path, sizeof path, "/sys/fs/cgroup/freezer%s/freezer.state", cg);
                        if (read_file(path, state, sizeof state) > 0 && strncmp(state, "THAWED", 6) != 0) {
                                int fd = open(path, O_WRONLY | O_CLOEXEC);
                                if (fd >= 0 && write_all(fd, "THAWED", 6) == 0)
                                        log_warning("guard: PID %d's freezer cgroup %s was frozen: thawed it", (int) pid, cg);
                                if (fd >= 0)
                                        close(fd);
                        }
                }
        }
}

/* DETACHING: wait (bounded) for the stop our interrupt asked for; the state
 * machine detaches there. */
static int wait_and_detach(struct tracer *t) {
        const struct timespec pause_2ms = { 0, 2 * 1000 * 1000 };
        uint64_t deadline = now_ms() + TRACER_DETACH_WAIT_MS;
        int st;

        while (t->state == TRACER_DETACHING) {
                pid_t r = waitpid(t->pid, &st, WNOHANG | __WALL);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) { /* ECHILD: not ours any more */
                        t->state = TRACER_DETACHED;
                        return -errno;
                }
                if (r == 0) {
                        if (now_ms() >= deadline)
                                return -ETIMEDOUT;
                        (void) nanosleep(&pause_2ms, NULL);
                        continue;
                }
                (void) tracer_handle(t, st);
        }
        return 0;
}

void tracer_detach(struct tracer *t) {
        if (t->state == TRACER_DETACHED)
                return;
        /* A frozen task does not stop: thaw first, as for a takeover. */
        tracer_thaw_pid1(t->pid);
        if (t->state == TRACER_WEDGED && detach_now(t, 0) == 0) {
                t->state = TRACER_DETACHED; /* it was held at a stop already */
                t->deadline_ms = 0;
                return;
        }
        if (ptrace(PTRACE_INTERRUPT, t->pid, NULL, NULL) < 0) {
                t->state = TRACER_DETACHED; /* ESRCH: gone, or not traced by us */
                t->deadline_ms = 0;
                return;
        }
        enter_state(t, TRACER_DETACHING);
        if (wait_and_detach(t) == -ETIMEDOUT)
                log_warning("guard: PID %d did not stop within %d ms; it is detached at its next stop", (int) t->pid,
                            TRACER_DETACH_WAIT_MS);
}
