/* The guard's decisions: which signals reach PID 1, which syscall of a
 * crash handler is its last, and the tracer's state machine: what each
 * stop, deadline or failed action leads to, in every state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/syscall.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "ptrace/tracer.h"

#define BIT(s) (1ULL << ((s) - 1))

static void test_signal_policy(void **state) {
        /* systemd 252 catches the crash signals with its handler; the rest it
         * blocks and reads from a signalfd (no delivery stop at all). */
        uint64_t systemd = BIT(SIGSEGV) | BIT(SIGABRT) | BIT(SIGILL) | BIT(SIGFPE) | BIT(SIGBUS) | BIT(SIGQUIT);
        (void) state;
        assert_int_equal(tracer_signal_policy(SIGSEGV, systemd), SIGNAL_CRASH);
        assert_int_equal(tracer_signal_policy(SIGABRT, systemd), SIGNAL_CRASH);
        assert_int_equal(tracer_signal_policy(SIGQUIT, systemd), SIGNAL_CRASH);
        /* Never re-inject what init would not have seen. */
        assert_int_equal(tracer_signal_policy(SIGSTOP, ~0ULL), SIGNAL_SUPPRESS);
        assert_int_equal(tracer_signal_policy(SIGTSTP, ~0ULL), SIGNAL_SUPPRESS);
        assert_int_equal(tracer_signal_policy(SIGTTIN, ~0ULL), SIGNAL_SUPPRESS);
        assert_int_equal(tracer_signal_policy(SIGTTOU, ~0ULL), SIGNAL_SUPPRESS);
        assert_int_equal(tracer_signal_policy(SIGUSR2, systemd), SIGNAL_SUPPRESS);
        assert_int_equal(tracer_signal_policy(SIGHUP, 0), SIGNAL_SUPPRESS);
        /* Handled: delivered. */
        assert_int_equal(tracer_signal_policy(SIGHUP, BIT(SIGHUP)), SIGNAL_PASS);
        assert_int_equal(tracer_signal_policy(SIGRTMIN + 5, BIT(SIGRTMIN + 5)), SIGNAL_PASS);
        /* A fault PID 1 does not handle would kill it: take over at once. */
        assert_int_equal(tracer_signal_policy(SIGSEGV, 0), SIGNAL_CRASH_UNHANDLED);
        assert_int_equal(tracer_signal_policy(SIGTRAP, 0), SIGNAL_CRASH_UNHANDLED);
        assert_int_equal(tracer_signal_policy(SIGSYS, BIT(SIGSYS)), SIGNAL_CRASH);
}

static void test_crash_syscalls(void **state) {
        uint64_t a[6] = { 0 };
        (void) state;
        assert_int_equal(tracer_classify_crash_syscall(SYS_exit_group, a), CRASH_SYSCALL_TERMINAL);
        assert_int_equal(tracer_classify_crash_syscall(SYS_exit, a), CRASH_SYSCALL_TERMINAL);
#ifdef SYS_pause
        assert_int_equal(tracer_classify_crash_syscall(SYS_pause, a), CRASH_SYSCALL_TERMINAL);
#endif
        assert_int_equal(tracer_classify_crash_syscall(SYS_rt_sigsuspend, a), CRASH_SYSCALL_TERMINAL);
        a[0] = P_ALL;
        assert_int_equal(tracer_classify_crash_syscall(SYS_waitid, a), CRASH_SYSCALL_TERMINAL);
        /* Waiting for the core-dumping child is not the end. */
        a[0] = P_PID;
        a[1] = 1234;
        assert_int_equal(tracer_classify_crash_syscall(SYS_waitid, a), CRASH_SYSCALL_OTHER);
        /* systemd 262 waits for it through a pidfd (pidref_wait_for_terminate:
         * pidfd_open, waitid(P_PIDFD, fd), close), then freeze() closes every
         * fd (close_range) before its waitid(P_ALL): none of them is the end. */
        assert_int_equal(tracer_classify_crash_syscall(SYS_pidfd_open, a), CRASH_SYSCALL_OTHER);
        a[0] = 3; /* P_PIDFD */
        a[1] = 5;
        assert_int_equal(tracer_classify_crash_syscall(SYS_waitid, a), CRASH_SYSCALL_OTHER);
        assert_int_equal(tracer_classify_crash_syscall(SYS_close, a), CRASH_SYSCALL_OTHER);
        assert_int_equal(tracer_classify_crash_syscall(SYS_close_range, a), CRASH_SYSCALL_OTHER);
        a[0] = (uint64_t) -1;
        assert_int_equal(tracer_classify_crash_syscall(SYS_wait4, a), CRASH_SYSCALL_TERMINAL);
        a[0] = 1234;
        assert_int_equal(tracer_classify_crash_syscall(SYS_wait4, a), CRASH_SYSCALL_OTHER);
        assert_int_equal(tracer_classify_crash_syscall(SYS_reboot, a), CRASH_SYSCALL_REBOOT);
        assert_int_equal(tracer_classify_crash_syscall(SYS_write, a), CRASH_SYSCALL_OTHER);
        assert_int_equal(tracer_classify_crash_syscall(SYS_clone, a), CRASH_SYSCALL_OTHER);
        uint64_t pp[6] = { 0, 0, 0, 8, 0, 0 };
        assert_int_equal(tracer_classify_crash_syscall(SYS_ppoll, pp), CRASH_SYSCALL_TERMINAL);
        pp[0] = 0x1000;
        pp[1] = 1;
        assert_int_equal(tracer_classify_crash_syscall(SYS_ppoll, pp), CRASH_SYSCALL_OTHER);
}

/* ---- the state machine ---- */

static struct tracer_input in_of(enum tracer_input_kind kind) {
        struct tracer_input in;
        memset(&in, 0, sizeof in);
        in.kind = kind;
        in.resumable = true;
        return in;
}

static struct tracer_input entry(long nr, bool is_exit) {
        struct tracer_input in = in_of(TRACER_IN_SYSCALL_ENTRY);
        in.nr = nr;
        in.exit = is_exit;
        return in;
}

static struct tracer_input signal_in(enum signal_policy p) {
        struct tracer_input in = in_of(TRACER_IN_SIGNAL);
        in.policy = p;
        return in;
}

static struct tracer_input exec_in(enum tracer_image image) {
        struct tracer_input in = in_of(TRACER_IN_EXEC);
        in.exec_image = image;
        return in;
}

#define assert_step(s, in, want_next, want_action)                                 \
        do {                                                                       \
                struct tracer_input in_ = (in);                                    \
                struct tracer_step st_ = tracer_transition((s), &in_);             \
                assert_int_equal(st_.next, (want_next));                           \
                assert_int_equal(st_.action, (want_action));                       \
        } while (0)

static void test_exec_opens_a_follow_window(void **state) {
        struct tracer_input in = exec_in(TRACER_IMAGE_OTHER);
        struct tracer_step s = tracer_transition(TRACER_RUNNING, &in);
        (void) state;
        assert_int_equal(s.next, TRACER_EXEC_FOLLOW);
        assert_int_equal(s.action, TRACER_DO_RESUME);
        assert_int_equal(s.report, TRACER_EVENT_EXEC);
        /* initshim itself, and systemd-shutdown (its exit ends a container
         * on purpose), run free. */
        assert_step(TRACER_RUNNING, exec_in(TRACER_IMAGE_SELF), TRACER_RUNNING, TRACER_DO_RESUME);
        assert_step(TRACER_RUNNING, exec_in(TRACER_IMAGE_SHUTDOWN), TRACER_RUNNING, TRACER_DO_RESUME);
        /* The very binary re-executing itself (daemon-reexec) just ran. */
        assert_step(TRACER_RUNNING, exec_in(TRACER_IMAGE_SAME), TRACER_RUNNING, TRACER_DO_RESUME);
        /* An exec inside the window starts a new one. */
        assert_step(TRACER_EXEC_FOLLOW, exec_in(TRACER_IMAGE_OTHER), TRACER_EXEC_FOLLOW, TRACER_DO_RESUME);
        assert_step(TRACER_CRASH_FOLLOW, exec_in(TRACER_IMAGE_OTHER), TRACER_EXEC_FOLLOW, TRACER_DO_RESUME);
}

static void test_exit_right_after_exec_is_taken_over(void **state) {
        struct tracer_input over = entry(SYS_write, false);
        (void) state;
        assert_step(TRACER_EXEC_FOLLOW, entry(SYS_exit_group, true), TRACER_INJECTED, TRACER_DO_INJECT);
        assert_step(TRACER_EXEC_FOLLOW, entry(SYS_exit, true), TRACER_INJECTED, TRACER_DO_INJECT);
        assert_step(TRACER_EXEC_FOLLOW, entry(SYS_write, false), TRACER_EXEC_FOLLOW, TRACER_DO_RESUME);
        assert_step(TRACER_EXEC_FOLLOW, in_of(TRACER_IN_SYSCALL_EXIT), TRACER_EXEC_FOLLOW, TRACER_DO_RESUME);
        /* The window ends with its syscall budget, or its deadline. */
        over.window_over = true;
        assert_step(TRACER_EXEC_FOLLOW, over, TRACER_RUNNING, TRACER_DO_RESUME);
        assert_step(TRACER_EXEC_FOLLOW, in_of(TRACER_IN_DEADLINE), TRACER_RUNNING, TRACER_DO_NOTHING);
        /* A syscall stop left over by the window, after it: an exit is
         * still taken over, the rest runs free. */
        assert_step(TRACER_RUNNING, entry(SYS_exit_group, true), TRACER_INJECTED, TRACER_DO_INJECT);
        assert_step(TRACER_RUNNING, entry(SYS_write, false), TRACER_RUNNING, TRACER_DO_RESUME);
        /* A crash in the window is a crash. */
        assert_step(TRACER_EXEC_FOLLOW, signal_in(SIGNAL_CRASH), TRACER_CRASH_FOLLOW, TRACER_DO_RESUME);
        assert_step(TRACER_EXEC_FOLLOW, signal_in(SIGNAL_PASS), TRACER_EXEC_FOLLOW, TRACER_DO_RESUME);
}

static void test_running_signals(void **state) {
        struct tracer_input in = signal_in(SIGNAL_PASS);
        struct tracer_step s = tracer_transition(TRACER_RUNNING, &in);
        (void) state;
        assert_int_equal(s.next, TRACER_RUNNING);
        assert_true(s.deliver);
        in = signal_in(SIGNAL_SUPPRESS);
        s = tracer_transition(TRACER_RUNNING, &in);
        assert_int_equal(s.action, TRACER_DO_RESUME);
        assert_false(s.deliver);
        in = signal_in(SIGNAL_CRASH);
        s = tracer_transition(TRACER_RUNNING, &in);
        assert_int_equal(s.next, TRACER_CRASH_FOLLOW);
        assert_true(s.deliver);
        assert_step(TRACER_RUNNING, signal_in(SIGNAL_CRASH_UNHANDLED), TRACER_INJECTED, TRACER_DO_INJECT);
        /* A group-stop of init never sticks. */
        assert_step(TRACER_RUNNING, in_of(TRACER_IN_STOP), TRACER_RUNNING, TRACER_DO_RESUME);
        assert_step(TRACER_RUNNING, in_of(TRACER_IN_DEADLINE), TRACER_RUNNING, TRACER_DO_NOTHING);
}

static void test_crash_follow(void **state) {
        struct tracer_input in = entry(SYS_waitid, false);
        (void) state;
        in.crash = CRASH_SYSCALL_TERMINAL;
        assert_step(TRACER_CRASH_FOLLOW, in, TRACER_INJECTED, TRACER_DO_INJECT);
        in.crash = CRASH_SYSCALL_REBOOT;
        assert_step(TRACER_CRASH_FOLLOW, in, TRACER_RUNNING, TRACER_DO_RESUME);
        in.crash = CRASH_SYSCALL_OTHER;
        assert_step(TRACER_CRASH_FOLLOW, in, TRACER_CRASH_FOLLOW, TRACER_DO_RESUME);
        /* A nested crash of the handler is delivered, one it does not
         * handle taken over at once. */
        assert_step(TRACER_CRASH_FOLLOW, signal_in(SIGNAL_CRASH), TRACER_CRASH_FOLLOW, TRACER_DO_RESUME);
        assert_step(TRACER_CRASH_FOLLOW, signal_in(SIGNAL_CRASH_UNHANDLED), TRACER_INJECTED, TRACER_DO_INJECT);
        /* crash-timeout: take it over where it is. */
        assert_step(TRACER_CRASH_FOLLOW, in_of(TRACER_IN_DEADLINE), TRACER_INTERRUPTING, TRACER_DO_INTERRUPT);
}

static void test_interrupting(void **state) {
        struct tracer_input in = in_of(TRACER_IN_DEADLINE);
        (void) state;
        /* The interrupt shows up as whatever stop comes next (a syscall stop
         * where PTRACE_SYSCALL is in effect): inject there. */
        assert_step(TRACER_INTERRUPTING, in_of(TRACER_IN_STOP), TRACER_INJECTED, TRACER_DO_INJECT);
        assert_step(TRACER_INTERRUPTING, in_of(TRACER_IN_SYSCALL_EXIT), TRACER_INJECTED, TRACER_DO_INJECT);
        assert_step(TRACER_INTERRUPTING, entry(SYS_exit_group, true), TRACER_INJECTED, TRACER_DO_INJECT);
        assert_step(TRACER_INTERRUPTING, signal_in(SIGNAL_PASS), TRACER_INJECTED, TRACER_DO_INJECT);
        assert_step(TRACER_INTERRUPTING, exec_in(TRACER_IMAGE_SELF), TRACER_RUNNING, TRACER_DO_RESUME);
        /* Not stopped: interrupt again, then give up (PID 1 runs on). */
        for (in.escalations = 0; in.escalations + 1 < TRACER_INTERRUPT_TRIES; in.escalations++)
                assert_step(TRACER_INTERRUPTING, in, TRACER_INTERRUPTING, TRACER_DO_INTERRUPT);
        assert_step(TRACER_INTERRUPTING, in, TRACER_RUNNING, TRACER_DO_NOTHING);
        in = in_of(TRACER_IN_FAILED);
        assert_step(TRACER_INTERRUPTING, in, TRACER_RUNNING, TRACER_DO_NOTHING);
        in.resumable = false; /* the re-interrupt of a held PID 1 */
        assert_step(TRACER_INTERRUPTING, in, TRACER_WEDGED, TRACER_DO_HOLD);
}

static void test_injected(void **state) {
        struct tracer_input in = exec_in(TRACER_IMAGE_SELF);
        struct tracer_step s = tracer_transition(TRACER_INJECTED, &in);
        (void) state;
        assert_int_equal(s.next, TRACER_RUNNING);
        assert_int_equal(s.report, TRACER_EVENT_TAKEN);
        /* The execve failed: undo it where PID 1 lives on as it was (a hang),
         * hold it where it was about to die (a crash, an exit). */
        in = in_of(TRACER_IN_SYSCALL_EXIT);
        in.ret = -EACCES;
        assert_step(TRACER_INJECTED, in, TRACER_RUNNING, TRACER_DO_ROLLBACK);
        in.resumable = false;
        assert_step(TRACER_INJECTED, in, TRACER_WEDGED, TRACER_DO_HOLD);
        in = in_of(TRACER_IN_FAILED);
        assert_step(TRACER_INJECTED, in, TRACER_RUNNING, TRACER_DO_RESUME);
        in.resumable = false;
        assert_step(TRACER_INJECTED, in, TRACER_WEDGED, TRACER_DO_HOLD);
        /* The injected execve's own stops; a late interrupt. */
        assert_step(TRACER_INJECTED, entry(SYS_execve, false), TRACER_INJECTED, TRACER_DO_RESUME);
        assert_step(TRACER_INJECTED, in_of(TRACER_IN_STOP), TRACER_INJECTED, TRACER_DO_RESUME);
        assert_step(TRACER_INJECTED, signal_in(SIGNAL_PASS), TRACER_INJECTED, TRACER_DO_RESUME);
        assert_step(TRACER_INJECTED, signal_in(SIGNAL_CRASH_UNHANDLED), TRACER_WEDGED, TRACER_DO_HOLD);
        /* An execve that does not end is in the kernel: look again, say so. */
        assert_step(TRACER_INJECTED, in_of(TRACER_IN_DEADLINE), TRACER_INJECTED, TRACER_DO_KICK);
}

static void test_wedged_escalates_to_detach(void **state) {
        struct tracer t;
        struct tracer_input in = in_of(TRACER_IN_DEADLINE);
        uint64_t want[] = { 100, 500, 2500, 2500, 2500 };
        (void) state;
        memset(&t, 0, sizeof t);
        for (unsigned a = 1; a <= 5; a++) {
                t.attempts = a;
                assert_int_equal(tracer_timeout_ms(&t, TRACER_WEDGED), want[a - 1]);
        }
        for (in.attempts = 1; in.attempts <= TRACER_WEDGED_RETRIES; in.attempts++)
                assert_step(TRACER_WEDGED, in, TRACER_INJECTED, TRACER_DO_RETRY);
        assert_step(TRACER_WEDGED, in, TRACER_INTERRUPTING, TRACER_DO_REINTERRUPT);
        in.attempts++;
        assert_step(TRACER_WEDGED, in, TRACER_DETACHED, TRACER_DO_DETACH);
        /* Nothing else moves a held PID 1. */
        assert_step(TRACER_WEDGED, in_of(TRACER_IN_STOP), TRACER_WEDGED, TRACER_DO_HOLD);
        assert_step(TRACER_WEDGED, in_of(TRACER_IN_FAILED), TRACER_WEDGED, TRACER_DO_HOLD);
}

static void test_switch(void **state) {
        struct tracer_input in = signal_in(SIGNAL_PASS);
        struct tracer_step s;
        (void) state;
        /* SWITCH_REEXEC: PID 1 runs free (SIGTERM sent); signals as ever,
         * a syscall stop left by an exec window lets it go. */
        s = tracer_transition(TRACER_SWITCH_REEXEC, &in);
        assert_int_equal(s.next, TRACER_SWITCH_REEXEC);
        assert_int_equal(s.action, TRACER_DO_RESUME);
        assert_true(s.deliver);
        assert_step(TRACER_SWITCH_REEXEC, signal_in(SIGNAL_CRASH), TRACER_CRASH_FOLLOW, TRACER_DO_RESUME);
        assert_step(TRACER_SWITCH_REEXEC, entry(SYS_write, false), TRACER_SWITCH_REEXEC, TRACER_DO_RESUME);
        in = entry(SYS_exit_group, false);
        in.exit = true;
        assert_step(TRACER_SWITCH_REEXEC, in, TRACER_INJECTED, TRACER_DO_INJECT);
        /* Its exec: the target already (its own re-exec did it all)... */
        in = exec_in(TRACER_IMAGE_SAME);
        in.exec_target = true;
        s = tracer_transition(TRACER_SWITCH_REEXEC, &in);
        assert_int_equal(s.next, TRACER_RUNNING);
        assert_int_equal(s.action, TRACER_DO_RESUME);
        assert_int_equal(s.report, TRACER_EVENT_SWITCHED);
        assert_int_equal(s.switch_result, 0);
        /* ...or another binary: on to the exit stop of that execve, where
         * the target's execve is injected. */
        in = exec_in(TRACER_IMAGE_SAME);
        s = tracer_transition(TRACER_SWITCH_REEXEC, &in);
        assert_int_equal(s.next, TRACER_SWITCH_LANDED);
        assert_int_equal(s.action, TRACER_DO_RESUME);
        assert_int_equal(s.report, 0);
        assert_step(TRACER_SWITCH_LANDED, in_of(TRACER_IN_SYSCALL_EXIT), TRACER_SWITCH_EXEC, TRACER_DO_REDIRECT);
        /* Not a re-exec at all (systemd-shutdown, or initshim): left alone. */
        for (int image = TRACER_IMAGE_SELF; image <= TRACER_IMAGE_SHUTDOWN; image++) {
                in = exec_in((enum tracer_image) image);
                s = tracer_transition(TRACER_SWITCH_REEXEC, &in);
                assert_int_equal(s.next, TRACER_RUNNING);
                assert_int_equal(s.report, TRACER_EVENT_SWITCHED);
                assert_int_equal(s.switch_result, -ECANCELED);
        }
        /* The target runs. */
        in = exec_in(TRACER_IMAGE_OTHER);
        s = tracer_transition(TRACER_SWITCH_EXEC, &in);
        assert_int_equal(s.next, TRACER_EXEC_FOLLOW);
        assert_int_equal(s.report, TRACER_EVENT_SWITCHED);
        assert_int_equal(s.switch_result, 0);
        assert_step(TRACER_SWITCH_EXEC, entry(SYS_execve, false), TRACER_SWITCH_EXEC, TRACER_DO_RESUME);
        /* Its execve fails: rolled back to the image the re-exec loaded. */
        in = in_of(TRACER_IN_SYSCALL_EXIT);
        in.ret = -ENOENT;
        s = tracer_transition(TRACER_SWITCH_EXEC, &in);
        assert_int_equal(s.next, TRACER_EXEC_FOLLOW);
        assert_int_equal(s.action, TRACER_DO_ROLLBACK);
        assert_int_equal(s.report, TRACER_EVENT_SWITCHED);
        assert_int_equal(s.switch_result, -ENOENT);
        /* The injection cannot be made: the re-exec'd image runs on. */
        in = in_of(TRACER_IN_FAILED);
        in.ret = -EFAULT;
        s = tracer_transition(TRACER_SWITCH_EXEC, &in);
        assert_int_equal(s.next, TRACER_EXEC_FOLLOW);
        assert_int_equal(s.action, TRACER_DO_RESUME);
        assert_int_equal(s.switch_result, -EFAULT);
        /* No exit stop where one was due: the switch ends, PID 1 runs on. */
        s = tracer_transition(TRACER_SWITCH_LANDED, &(struct tracer_input){ .kind = TRACER_IN_STOP });
        assert_int_equal(s.next, TRACER_SWITCH_LANDED); /* a late interrupt: resume */
        in = signal_in(SIGNAL_SUPPRESS);
        s = tracer_transition(TRACER_SWITCH_LANDED, &in);
        assert_int_equal(s.next, TRACER_EXEC_FOLLOW);
        assert_int_equal(s.report, TRACER_EVENT_SWITCHED);
        assert_true(s.switch_result < 0);
        /* A fresh image drops what it would not see. */
        in = signal_in(SIGNAL_SUPPRESS);
        s = tracer_transition(TRACER_SWITCH_EXEC, &in);
        assert_int_equal(s.next, TRACER_SWITCH_EXEC);
        assert_false(s.deliver);
        /* Deadlines: a PID 1 that does not re-execute ends the switch; an
         * execve in progress is looked at again. */
        in = in_of(TRACER_IN_DEADLINE);
        s = tracer_transition(TRACER_SWITCH_REEXEC, &in);
        assert_int_equal(s.next, TRACER_RUNNING);
        assert_int_equal(s.action, TRACER_DO_NOTHING);
        assert_int_equal(s.report, TRACER_EVENT_SWITCHED);
        assert_int_equal(s.switch_result, -ETIMEDOUT);
        assert_step(TRACER_SWITCH_LANDED, in, TRACER_SWITCH_LANDED, TRACER_DO_KICK);
        assert_step(TRACER_SWITCH_EXEC, in, TRACER_SWITCH_EXEC, TRACER_DO_KICK);
}

static void test_detaching(void **state) {
        struct tracer_input in = signal_in(SIGNAL_PASS);
        struct tracer_step s = tracer_transition(TRACER_DETACHING, &in);
        (void) state;
        assert_int_equal(s.next, TRACER_DETACHED);
        assert_int_equal(s.action, TRACER_DO_DETACH);
        assert_true(s.deliver); /* the signal is not lost */
        assert_step(TRACER_DETACHING, in_of(TRACER_IN_SYSCALL_EXIT), TRACER_DETACHED, TRACER_DO_DETACH);
        assert_step(TRACER_DETACHING, in_of(TRACER_IN_DEADLINE), TRACER_DETACHING, TRACER_DO_INTERRUPT);
        assert_step(TRACER_DETACHED, in_of(TRACER_IN_FAILED), TRACER_DETACHING, TRACER_DO_INTERRUPT);
}

static void test_gone_in_every_state(void **state) {
        (void) state;
        for (int s = TRACER_DETACHED; s <= TRACER_DETACHING; s++) {
                struct tracer_input in = in_of(TRACER_IN_GONE);
                struct tracer_step st = tracer_transition((enum tracer_state) s, &in);
                assert_int_equal(st.next, TRACER_DETACHED);
                assert_int_equal(st.report, TRACER_EVENT_GONE);
        }
}

/* Every state but DETACHED and RUNNING has a deadline, and following the
 * deadlines (every attempt failing) leads out of every state where we hold
 * PID 1, in a bounded number of steps. */
static void test_no_state_holds_pid1_for_good(void **state) {
        struct tracer t;
        (void) state;
        memset(&t, 0, sizeof t);
        t.crash_timeout_ms = 30000;
        t.exec_follow_ms = TRACER_EXEC_FOLLOW_MS;
        t.switch_timeout_ms = 90000;
        for (int s0 = TRACER_RUNNING; s0 <= TRACER_DETACHING; s0++) {
                enum tracer_state s = (enum tracer_state) s0;
                unsigned attempts = s == TRACER_WEDGED ? 1 : 0, escalations = 0;
                int steps;
                if (s != TRACER_RUNNING) {
                        t.attempts = attempts;
                        assert_true(tracer_timeout_ms(&t, s) > 0);
                }
                for (steps = 0; steps < 20 && s != TRACER_RUNNING && s != TRACER_DETACHED; steps++) {
                        struct tracer_input in = in_of(TRACER_IN_DEADLINE);
                        in.attempts = attempts;
                        in.escalations = escalations;
                        in.resumable = false;
                        struct tracer_step st = tracer_transition(s, &in);
                        t.attempts = attempts;
                        assert_true(st.next == TRACER_RUNNING || st.next == TRACER_DETACHED ||
                                    tracer_timeout_ms(&t, st.next) > 0);
                        if (st.action == TRACER_DO_RETRY || st.action == TRACER_DO_REINTERRUPT) {
                                /* The attempt fails again: held once more. */
                                attempts++;
                                st.next = TRACER_WEDGED;
                        }
                        if (st.action == TRACER_DO_KICK || (s == TRACER_DETACHING && st.next == s))
                                break; /* PID 1 is in the kernel, not held by us: looked at forever */
                        escalations = st.next == s ? escalations + 1 : 0;
                        s = st.next;
                }
                assert_true(steps < 20);
                assert_int_not_equal(s, TRACER_WEDGED);
        }
}

static void test_steady_states(void **state) {
        struct tracer t;
        (void) state;
        memset(&t, 0, sizeof t);
        t.state = TRACER_RUNNING;
        assert_true(tracer_is_steady(&t));
        t.state = TRACER_EXEC_FOLLOW;
        assert_true(tracer_is_steady(&t));
        t.state = TRACER_WEDGED;
        assert_false(tracer_is_steady(&t));
        t.state = TRACER_DETACHED;
        assert_false(tracer_is_steady(&t));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_signal_policy),
                cmocka_unit_test(test_crash_syscalls),
                cmocka_unit_test(test_exec_opens_a_follow_window),
                cmocka_unit_test(test_exit_right_after_exec_is_taken_over),
                cmocka_unit_test(test_running_signals),
                cmocka_unit_test(test_crash_follow),
                cmocka_unit_test(test_interrupting),
                cmocka_unit_test(test_injected),
                cmocka_unit_test(test_wedged_escalates_to_detach),
                cmocka_unit_test(test_switch),
                cmocka_unit_test(test_detaching),
                cmocka_unit_test(test_gone_in_every_state),
                cmocka_unit_test(test_no_state_holds_pid1_for_good),
                cmocka_unit_test(test_steady_states),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
