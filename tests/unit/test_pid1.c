/* PID 1 logic that needs no PID 1: the signal table, status formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

#include "pid1.h"
#include "control/status.h"
#include "common/util.h"

static void test_signal_table(void **state) {
        (void) state;
        /* systemd(1), "SIGNALS", as far as they apply without a manager. */
        assert_int_equal(signal_action(SIGINT), ACTION_REBOOT);
        assert_int_equal(signal_action(SIGRTMIN + 5), ACTION_REBOOT);
        assert_int_equal(signal_action(SIGRTMIN + 4), ACTION_POWEROFF);
        assert_int_equal(signal_action(SIGPWR), ACTION_POWEROFF);
        assert_int_equal(signal_action(SIGRTMIN + 3), ACTION_HALT);
        assert_int_equal(signal_action(SIGRTMIN + 13), ACTION_HALT_NOW);
        assert_int_equal(signal_action(SIGRTMIN + 14), ACTION_POWEROFF_NOW);
        assert_int_equal(signal_action(SIGRTMIN + 15), ACTION_REBOOT_NOW);
        assert_int_equal(signal_action(SIGTERM), ACTION_REEXEC);
        assert_int_equal(signal_action(SIGCHLD), ACTION_CHILD);
        assert_int_equal(signal_action(SIGHUP), ACTION_IGNORE);
        assert_int_equal(signal_action(SIGUSR1), ACTION_IGNORE);
        assert_int_equal(signal_action(SIGRTMIN + 6), ACTION_IGNORE);
        assert_string_equal(action_to_string(ACTION_POWEROFF_NOW), "immediate poweroff");
}

static void test_signal_set(void **state) {
        sigset_t s;
        (void) state;
        pid1_signal_set(&s);
        /* Faults stay unblocked: a blocked synchronous fault kills without a core. */
        assert_false(sigismember(&s, SIGSEGV));
        assert_false(sigismember(&s, SIGBUS));
        assert_false(sigismember(&s, SIGILL));
        assert_false(sigismember(&s, SIGFPE));
        assert_false(sigismember(&s, SIGABRT));
        assert_true(sigismember(&s, SIGCHLD));
        assert_true(sigismember(&s, SIGINT));
        assert_true(sigismember(&s, SIGRTMIN + 15));
        assert_true(sigismember(&s, SIGTERM));
}

static void test_signal_names(void **state) {
        (void) state;
        assert_string_equal(signal_name(SIGSEGV), "SIGSEGV");
        assert_string_equal(signal_name(SIGRTMIN + 5), "SIGRTMIN+5");
}

static void test_status_text_and_json(void **state) {
        struct status s = {
                .mode = MODE_RESCUE, .mode_since_ms = 1000, .now_ms = 3500, .zombies = 2,
                .pid1_exe = "/sbin/initshim", .pid1_version = "initshim 0.1",
                .last_takeover = "crash: \"SIGSEGV\"\n", .guard = "running (pid 7)",
        };
        char buf[1024];
        (void) state;
        status_format_text(&s, buf, sizeof buf);
        assert_non_null(strstr(buf, "mode: rescue\n"));
        assert_non_null(strstr(buf, "mode-since: 2.500s ago\n"));
        assert_non_null(strstr(buf, "zombies: 2\n"));
        assert_non_null(strstr(buf, "guard: running (pid 7)\n"));
        status_format_json(&s, buf, sizeof buf);
        assert_non_null(strstr(buf, "\"mode\":\"rescue\""));
        assert_non_null(strstr(buf, "\"last_takeover\":\"crash: \\\"SIGSEGV\\\"\\u000a\""));
        assert_non_null(strstr(buf, "\"mode_since_ms\":2500"));
        /* Truncation is safe and terminated. */
        size_t l = status_format_text(&s, buf, 20);
        assert_true(l < 20);
        assert_int_equal(strlen(buf), l);
        s.mode = MODE_NORMAL;
        s.last_takeover[0] = '\0';
        status_format_text(&s, buf, sizeof buf);
        assert_non_null(strstr(buf, "last-takeover: none\n"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_signal_table),
                cmocka_unit_test(test_signal_set),
                cmocka_unit_test(test_signal_names),
                cmocka_unit_test(test_status_text_and_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
