#include "ptrace/tracer.h"
#include "common/log.h"
#include "control/status.h"
#include "common/util.h"

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
#include <unistd.h>

#ifndef P_ALL
#define P_ALL 0
#endif

const char *tracer_state_to_string(enum tracer_state s) {
        switch (s) {
        case TRACER_DETACHED:
                return "detached";
        case TRACER_RUNNING:
                return "tracing";
        case TRACER_CRASH_FOLLOW:
                return "following a crash";
        case TRACER_INTERRUPTING:
                return "interrupting";
        case TRACER_INJECTED:
                return "taking over";
        case TRACER_WEDGED:
                return "holding PID 1 stopped after a failed takeover";
        case TRACER_SWITCH_STOP:
        case TRACER_SWITCH_FOLLOW:
        case TRACER_SWITCH_EXEC:
                return "switching the binary of";
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
         * or reboot() with crash_reboot. wait_for_terminate() of its core
         * dump child is waitid(P_PID): not terminal. */
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

int tracer_init(struct tracer *t, char *const *envp) {
        unsigned char hdr[4];
        struct stat st;
        int fd;

        memset(t, 0, sizeof *t);
        t->self_fd = -1;
        t->envp = envp;
        t->crash_timeout_ms = 30000;
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
        t->last_error[0] = '\0';
        return 0;
}

void tracer_detach(struct tracer *t) {
        int st;

        if (t->state == TRACER_DETACHED)
                return;
        /* PTRACE_DETACH needs a stopped tracee: interrupt, wait, detach. */
        if (ptrace(PTRACE_INTERRUPT, t->pid, NULL, NULL) == 0) {
                for (;;) {
                        pid_t r = waitpid(t->pid, &st, __WALL);
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r < 0 || !WIFSTOPPED(st))
                                break;
                        int sig = WSTOPSIG(st), event = st >> 16;
                        /* A signal-delivery-stop must not swallow the signal. */
                        int pass = 0;
                        if (event == 0 && sig != (SIGTRAP | 0x80) && tracer_signal_policy(sig, ~0ULL) != SIGNAL_SUPPRESS)
                                pass = sig;
                        (void) ptrace(PTRACE_DETACH, t->pid, NULL, (void *) (long) pass);
                        break;
                }
        }
        t->state = TRACER_DETACHED;
}

static uint64_t read_sigcgt(pid_t pid) {
        char buf[2048];
        const char *v = read_proc_status_field(pid, "SigCgt", buf, sizeof buf);

        return v ? strtoull(v, NULL, 16) : 0;
}

static void resume(struct tracer *t, enum __ptrace_request how, int sig) {
        if (ptrace(how, t->pid, NULL, (void *) (long) sig) < 0 && errno != ESRCH)
                log_errno(-errno, LOG_WARNING, "guard: cannot resume PID %d", (int) t->pid);
}

/* PID 1 is followed syscall by syscall while its crash handler runs, while
 * an injected execve is pending, and while a switch waits for the re-exec's
 * execve; otherwise it runs free. */
static enum __ptrace_request resume_mode(const struct tracer *t) {
        switch (t->state) {
        case TRACER_CRASH_FOLLOW:
        case TRACER_INJECTED:
        case TRACER_SWITCH_FOLLOW:
        case TRACER_SWITCH_EXEC:
                return PTRACE_SYSCALL;
        default:
                return PTRACE_CONT;
        }
}

static int inject(struct tracer *t, bool at_entry) {
        char *argv[] = { (char *) "initshim", (char *) "--rescue", (char *) "--reason", t->reason, NULL };
        int r;

        r = at_entry ? inject_execve_at_syscall_entry(t->pid, t->rescue_path, argv, t->envp, 0, &t->inj)
                     : inject_execve_at_stop(t->pid, t->rescue_path, argv, t->envp, 0, &t->inj);
        if (r < 0) {
                snprintf(t->last_error, sizeof t->last_error, "injecting execve failed: %s", strerror(-r));
                log_error("guard: takeover of PID %d failed: %s", (int) t->pid, t->last_error);
                return r;
        }
        t->state = TRACER_INJECTED;
        /* PTRACE_SYSCALL, so that a failing execve shows us its exit stop
         * before the tracee runs on with a bogus return value. */
        resume(t, PTRACE_SYSCALL, 0);
        return 0;
}

static void begin_takeover_log(struct tracer *t) {
        char exe[256];

        read_exe(t->pid, exe, sizeof exe);
        log_crit("taking over PID %d (%s, %s): %s", (int) t->pid, exe[0] ? exe : "?",
                 t->pid1_version[0] ? t->pid1_version : "version unknown", t->reason);
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

int tracer_switch(struct tracer *t, const char *path, uint64_t timeout_ms) {
        if (t->state != TRACER_RUNNING)
                return t->state == TRACER_DETACHED ? -ENOTCONN : -EBUSY;
        if (copy_string(t->switch_path, sizeof t->switch_path, path) < 0)
                return -ENAMETOOLONG;
        if (ptrace(PTRACE_INTERRUPT, t->pid, NULL, NULL) < 0)
                return log_errno(-errno, LOG_ERR, "guard: PTRACE_INTERRUPT");
        t->switch_deadline_ms = now_ms() + timeout_ms;
        t->switch_result = 0;
        t->state = TRACER_SWITCH_STOP;
        log_notice("guard: switching PID %d to %s (state kept)", (int) t->pid, path);
        return 0;
}

static int end_switch(struct tracer *t, int result, enum __ptrace_request how) {
        t->switch_result = result;
        t->state = TRACER_RUNNING;
        if (how)
                resume(t, how, 0);
        return TRACER_EVENT_SWITCHED;
}

/* A syscall stop while switching. */
static int handle_switch_syscall(struct tracer *t) {
        struct inject_syscall_stop s;

        if (inject_syscall_stop(t->pid, &s) < 0) {
                resume(t, PTRACE_SYSCALL, 0);
                return 0;
        }
        if (t->state == TRACER_SWITCH_FOLLOW) {
                if (now_ms() > t->switch_deadline_ms) {
                        log_error("guard: PID %d did not re-execute in time; switch abandoned", (int) t->pid);
                        return end_switch(t, -ETIMEDOUT, PTRACE_CONT);
                }
                if (s.kind == INJECT_STOP_SYSCALL_ENTRY && (s.nr == SYS_execve || s.nr == SYS_execveat)) {
                        int r = inject_rewrite_execve_path(t->pid, t->switch_path, 0, &t->inj);
                        if (r < 0) {
                                log_errno(r, LOG_ERR, "guard: cannot rewrite PID %d's execve", (int) t->pid);
                                return end_switch(t, r, PTRACE_CONT);
                        }
                        t->state = TRACER_SWITCH_EXEC;
                }
                resume(t, PTRACE_SYSCALL, 0);
                return 0;
        }
        /* TRACER_SWITCH_EXEC: only a failed execve returns. */
        if (s.kind == INJECT_STOP_SYSCALL_EXIT && s.ret < 0) {
                log_error("guard: execve of %s failed in PID %d (%s): letting systemd's own re-exec run",
                          t->switch_path, (int) t->pid, strerror((int) -s.ret));
                /* Re-run the original execve: systemd comes back as it was. */
                if (inject_rollback(t->pid, &t->inj) < 0)
                        log_error("guard: rollback failed; systemd handles the failed exec itself");
                return end_switch(t, (int) s.ret, PTRACE_CONT);
        }
        resume(t, PTRACE_SYSCALL, 0);
        return 0;
}

int tracer_takeover(struct tracer *t, const char *reason) {
        if (t->state != TRACER_RUNNING && t->state != TRACER_CRASH_FOLLOW)
                return t->state == TRACER_DETACHED ? -ENOTCONN : -EBUSY;
        (void) copy_string(t->reason, sizeof t->reason, reason);
        if (!t->takeover_start_ns)
                t->takeover_start_ns = now_ns();
        begin_takeover_log(t);
        tracer_thaw_pid1(t->pid);
        if (ptrace(PTRACE_INTERRUPT, t->pid, NULL, NULL) < 0)
                return log_errno(-errno, LOG_ERR, "guard: PTRACE_INTERRUPT");
        t->state = TRACER_INTERRUPTING;
        return 0;
}

int tracer_tick(struct tracer *t) {
        uint64_t now, deadline;

        if (t->state != TRACER_CRASH_FOLLOW)
                return -1;
        now = now_ms();
        deadline = t->crash_since_ms + t->crash_timeout_ms;
        if (now < deadline)
                return (int) (deadline - now);
        log_warning("guard: crash handler made no terminal syscall within %llu ms, interrupting it",
                    (unsigned long long) t->crash_timeout_ms);
        char reason[sizeof t->reason];
        (void) copy_string(reason, sizeof reason, t->reason);
        (void) tracer_takeover(t, reason);
        return -1;
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
}

static int handle_syscall_stop(struct tracer *t) {
        struct inject_syscall_stop s;
        int r = inject_syscall_stop(t->pid, &s);

        if (r < 0) {
                resume(t, PTRACE_SYSCALL, 0);
                return 0;
        }
        if (t->state == TRACER_INJECTED) {
                /* Only a failed execve comes back here. */
                if (s.kind == INJECT_STOP_SYSCALL_EXIT && s.ret < 0) {
                        snprintf(t->last_error, sizeof t->last_error, "execve of %s failed in PID %d: %s",
                                 t->rescue_path, (int) t->pid, strerror((int) -s.ret));
                        log_crit("guard: %s; holding PID %d stopped (resuming it would let it die)",
                                 t->last_error, (int) t->pid);
                        /* The crash handler was about to exit or freeze: a stopped
                         * PID 1 is better than a dead one (kernel panic). */
                        t->state = TRACER_WEDGED;
                        return 0;
                }
                resume(t, PTRACE_SYSCALL, 0);
                return 0;
        }
        if (t->state != TRACER_CRASH_FOLLOW) {
                resume(t, PTRACE_CONT, 0);
                return 0;
        }
        if (s.kind != INJECT_STOP_SYSCALL_ENTRY) {
                resume(t, PTRACE_SYSCALL, 0);
                return 0;
        }
        switch (tracer_classify_crash_syscall(s.nr, s.args)) {
        case CRASH_SYSCALL_TERMINAL:
                log_notice("guard: crash handler reached its last syscall (%ld) %llu us after %s", s.nr,
                           (unsigned long long) ((now_ns() - t->takeover_start_ns) / 1000),
                           signal_name(t->crash_signal));
                if (inject(t, true) < 0) {
                        t->state = TRACER_WEDGED;
                        log_crit("guard: holding PID %d stopped at its terminal syscall", (int) t->pid);
                }
                return 0;
        case CRASH_SYSCALL_REBOOT:
                log_notice("guard: crashed PID %d reboots (crash_reboot): letting it", (int) t->pid);
                t->state = TRACER_RUNNING;
                resume(t, PTRACE_CONT, 0);
                return 0;
        case CRASH_SYSCALL_OTHER:
                break;
        }
        resume(t, PTRACE_SYSCALL, 0);
        return 0;
}

int tracer_handle(struct tracer *t, int st) {
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
                log_crit("guard: PID %d is gone (%s %d)", (int) t->pid, WIFEXITED(st) ? "status" : "signal",
                         WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
                t->state = TRACER_DETACHED;
                return TRACER_EVENT_GONE;
        }
        if (!WIFSTOPPED(st))
                return 0;
        t->stops++;
        int sig = WSTOPSIG(st), event = (unsigned) st >> 16;

        if (event == PTRACE_EVENT_EXEC) {
                if (t->state == TRACER_SWITCH_EXEC || t->state == TRACER_SWITCH_FOLLOW) {
                        /* FOLLOW: the rollback's original execve went through. */
                        int res = t->state == TRACER_SWITCH_EXEC ? 0 : -ECANCELED;
                        if (res == 0)
                                log_notice("guard: PID %d now runs %s", (int) t->pid, t->switch_path);
                        return end_switch(t, res, PTRACE_CONT);
                }
                bool taken = t->state == TRACER_INJECTED;
                if (taken)
                        finish_takeover(t);
                t->state = TRACER_RUNNING;
                resume(t, PTRACE_CONT, 0);
                return taken ? TRACER_EVENT_TAKEN : TRACER_EVENT_EXEC;
        }
        if (event == PTRACE_EVENT_STOP && t->state == TRACER_SWITCH_STOP) {
                /* Stopped: now ask for the re-exec, then watch every syscall. */
                if (kill(t->pid, SIGTERM) < 0) {
                        int r = -errno;
                        return end_switch(t, r, PTRACE_CONT);
                }
                t->state = TRACER_SWITCH_FOLLOW;
                resume(t, PTRACE_SYSCALL, 0);
                return 0;
        }
        if (event == PTRACE_EVENT_STOP) {
                /* Group-stop or our PTRACE_INTERRUPT. */
                if (t->state == TRACER_INTERRUPTING) {
                        if (inject(t, false) < 0) {
                                t->state = TRACER_RUNNING;
                                resume(t, PTRACE_CONT, 0);
                        }
                        return 0;
                }
                if (t->state == TRACER_WEDGED)
                        return 0;
                /* A group-stop of init: never let it stick. */
                resume(t, PTRACE_CONT, 0);
                return 0;
        }
        if (event != 0) {
                resume(t, resume_mode(t), 0);
                return 0;
        }
        if (sig == (SIGTRAP | 0x80))
                return t->state >= TRACER_SWITCH_STOP ? handle_switch_syscall(t) : handle_syscall_stop(t);

        /* A signal-delivery-stop. */
        if (t->state == TRACER_INTERRUPTING) {
                /* The interrupt lands here too if a signal was pending: inject now,
                 * the signal is dropped (we resume with 0). */
                if (inject(t, false) < 0) {
                        t->state = TRACER_RUNNING;
                        resume(t, PTRACE_CONT, sig);
                }
                return 0;
        }
        if (t->state == TRACER_WEDGED)
                return 0;
        enum signal_policy p = tracer_signal_policy(sig, read_sigcgt(t->pid));
        bool switching = t->state == TRACER_SWITCH_STOP || t->state == TRACER_SWITCH_FOLLOW ||
                         t->state == TRACER_SWITCH_EXEC;
        if (switching && (p == SIGNAL_CRASH || p == SIGNAL_CRASH_UNHANDLED)) {
                /* Crashed while switching: the crash path below takes it from here. */
                t->switch_result = -ECANCELED;
                t->state = TRACER_RUNNING;
        } else if (t->state != TRACER_RUNNING) {
                /* Nested in a crash handler, a takeover or a switch: deliver what
                 * PID 1 catches (a nested crash of the handler included), keep
                 * following. */
                resume(t, resume_mode(t), p == SIGNAL_PASS || p == SIGNAL_CRASH ? sig : 0);
                return 0;
        }
        switch (p) {
        case SIGNAL_SUPPRESS:
                /* Worth a word only where the default action is not to ignore
                 * (an initramfs's shell gets a SIGCHLD per command). */
                if (sig != SIGCHLD && sig != SIGURG && sig != SIGWINCH)
                        log_notice("guard: not delivering %s to PID %d (it does not handle it)",
                                   signal_name(sig), (int) t->pid);
                resume(t, PTRACE_CONT, 0);
                break;
        case SIGNAL_PASS:
                resume(t, PTRACE_CONT, sig);
                break;
        case SIGNAL_CRASH_UNHANDLED: {
                char exe[256];
                read_exe(t->pid, exe, sizeof exe);
                t->crash_signal = sig;
                t->takeover_start_ns = now_ns();
                snprintf(t->reason, sizeof t->reason, "crash: %s in %s (no handler)", signal_name(sig),
                         exe[0] ? exe : "PID 1");
                begin_takeover_log(t);
                if (inject(t, false) < 0) {
                        t->state = TRACER_WEDGED;
                        log_crit("guard: holding PID %d stopped: resuming it would kill it", (int) t->pid);
                }
                break;
        }
        case SIGNAL_CRASH: {
                char exe[256];
                read_exe(t->pid, exe, sizeof exe);
                t->crash_signal = sig;
                t->crash_since_ms = now_ms();
                t->takeover_start_ns = now_ns();
                snprintf(t->reason, sizeof t->reason, "crash: %s in %s", signal_name(sig), exe[0] ? exe : "PID 1");
                log_crit("guard: PID %d (%s) got %s: letting its crash handler run, then taking over", (int) t->pid,
                         exe, signal_name(sig));
                t->state = TRACER_CRASH_FOLLOW;
                resume(t, PTRACE_SYSCALL, sig);
                break;
        }
        }
        return 0;
}
