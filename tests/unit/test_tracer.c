/* The guard's decisions: which signals reach PID 1, which syscall of a
 * crash handler is its last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/syscall.h>
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_signal_policy),
                cmocka_unit_test(test_crash_syscalls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
