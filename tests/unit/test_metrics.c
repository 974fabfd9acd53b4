/* Prometheus metrics: classification of takeovers and switches, the state
 * file that keeps the counters, the text format, and where the file is
 * written. The text is checked by promtool in t_metrics.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/metrics.h"
#include "control/protocol.h"
#include "common/util.h"
#include "config/config.h"
#include "pid1.h"

static char dir[] = "/tmp/initshim-metrics.XXXXXX";

static void test_takeover_reasons(void **state) {
        (void) state;
        assert_int_equal(metrics_takeover_reason("crash: SIGSEGV in /lib/systemd/systemd"), TAKEOVER_CRASH);
        assert_int_equal(metrics_takeover_reason("takeover requested by the operator"), TAKEOVER_OPERATOR);
        assert_int_equal(metrics_takeover_reason("liveness: Ping failed 3 times in a row: timeout"), TAKEOVER_HEALTH);
        assert_int_equal(metrics_takeover_reason("something else"), TAKEOVER_OTHER);
}

static void test_switch_outcomes(void **state) {
        (void) state;
        assert_int_equal(metrics_switch_outcome("ok\nswitched to 254 (systemd 254), state kept\n"), SWITCH_OK);
        assert_int_equal(metrics_switch_outcome("error: x; rolled back to 252 with state kept\n"), SWITCH_ROLLED_BACK);
        assert_int_equal(metrics_switch_outcome("error: x; switching back failed too, PID 1 taken over\n"),
                         SWITCH_TAKEN_OVER);
        assert_int_equal(metrics_switch_outcome("error: 254 failed after the switch (y); rescue mode took over and "
                                                "its on-failure policy brings back the last good version\n"),
                         SWITCH_TAKEN_OVER);
        assert_int_equal(metrics_switch_outcome("error: PID 1 did not switch (EPERM); nothing changed\n"), SWITCH_FAILED);
}

static void test_state_file_round_trip(void **state) {
        char path[128];
        struct metrics m = { 0 }, back;
        (void) state;

        snprintf(path, sizeof path, "%s/state", dir);
        m.takeovers[TAKEOVER_CRASH] = 3;
        m.takeovers[TAKEOVER_SWITCH] = 1;
        m.switches[SWITCH_ROLLED_BACK] = 2;
        m.last_takeover_s = 1700000000;
        m.ptrace_stops = 123456;
        m.oldest_zombie_ms = 4500;
        assert_int_equal(metrics_save(&m, path), 0);
        assert_int_equal(metrics_load(&back, path), 0);
        assert_memory_equal(&m, &back, sizeof m);
}

static void test_bad_state_lines_leave_zeros(void **state) {
        char path[128];
        const char *text = "takeovers-crash -1\ntakeovers-health 12abc\nptrace-stops 99999999999999999999999\n"
                           "takeovers-operator 4\nnonsense\n";
        struct metrics m;
        (void) state;

        snprintf(path, sizeof path, "%s/bad", dir);
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
        assert_int_equal(metrics_load(&m, path), 0);
        assert_int_equal(m.takeovers[TAKEOVER_CRASH], 0);
        assert_int_equal(m.takeovers[TAKEOVER_HEALTH], 0);
        assert_int_equal(m.ptrace_stops, 0);
        assert_int_equal(m.takeovers[TAKEOVER_OPERATOR], 4);
        assert_int_equal(metrics_load(&m, "/nonexistent/state"), -ENOENT);
        assert_int_equal(m.takeovers[TAKEOVER_OPERATOR], 0);
}

static void full_status(struct status *s) {
        memset(s, 0, sizeof *s);
        s->mode = MODE_RESCUE;
        s->zombies = 7;
        s->boot_exec_us = 1234567;
        snprintf(s->guard, sizeof s->guard, "running (pid 7), tracing PID 1, 10 ptrace stops, 1 takeovers");
        snprintf(s->guard_version, sizeof s->guard_version, "0.1 (g1234567-deb0.1)");
        snprintf(s->pid1_version, sizeof s->pid1_version, "initshim 0.1 (g1234567-deb0.1)");
        snprintf(s->installed, sizeof s->installed, "0.1 (g7654321-deb0.1+1)");
        snprintf(s->health, sizeof s->health,
                 "pid1-state: running\ncheck-liveness: failed: Ping failed 3 times\ncheck-zombies: degraded: x\n"
                 "check-memory: ok: y\ncheck-upgrade: ok: z\npings: 4\nhistory: 3s ago: liveness failed\n");
}

static void test_format(void **state) {
        static char buf[PROTO_REPLY_MAX];
        struct status s;
        struct metrics m = { 0 };
        char expect[128];
        (void) state;

        full_status(&s);
        m.takeovers[TAKEOVER_HEALTH] = 2;
        m.switches[SWITCH_OK] = 5;
        m.oldest_zombie_ms = 61500;
        m.pid1_rss_bytes = 4096;
        size_t l = metrics_format(&s, &m, buf, sizeof buf);
        assert_int_equal(l, strlen(buf));
        /* It must fit in a status reply ("ok\n" + text) with room to spare. */
        assert_true(l + 3 < PROTO_REPLY_MAX - 512);
        snprintf(expect, sizeof expect, "initshim_build_info{version=\"%s\"} 1\n", INITSHIM_VERSION);
        assert_non_null(strstr(buf, expect));
        assert_non_null(strstr(buf, "\ninitshim_mode{mode=\"normal\"} 0\ninitshim_mode{mode=\"rescue\"} 1\n"));
        assert_non_null(strstr(buf, "\ninitshim_guard_attached 1\n"));
        assert_non_null(strstr(buf, "\ninitshim_takeovers_total{reason=\"health\"} 2\n"));
        assert_non_null(strstr(buf, "\ninitshim_takeovers_total{reason=\"crash\"} 0\n"));
        assert_non_null(strstr(buf, "\ninitshim_switches_total{outcome=\"ok\"} 5\n"));
        assert_non_null(strstr(buf, "\ninitshim_pid1_resident_memory_bytes 4096\n"));
        assert_non_null(strstr(buf, "\ninitshim_pid1_zombies 7\n"));
        assert_non_null(strstr(buf, "\ninitshim_pid1_oldest_zombie_age_seconds 61.500\n"));
        assert_non_null(strstr(buf, "\ninitshim_boot_exec_seconds 1.234567\n"));
        assert_non_null(strstr(buf, "\ninitshim_health_check{check=\"liveness\",state=\"failed\"} 1\n"));
        assert_non_null(strstr(buf, "\ninitshim_health_check{check=\"liveness\",state=\"ok\"} 0\n"));
        assert_non_null(strstr(buf, "\ninitshim_health_check{check=\"zombies\",state=\"degraded\"} 1\n"));
        assert_null(strstr(buf, "pings"));
        assert_null(strstr(buf, "history"));
        assert_non_null(strstr(buf, "\ninitshim_running_build_mismatch 1\n"));
}

/* 1 when the guard, or rescue-mode PID 1, runs another build than the
 * installed one; absent when nothing usable is installed. */
static void test_running_build_mismatch(void **state) {
        static char buf[PROTO_REPLY_MAX];
        struct status s;
        struct metrics m = { 0 };
        (void) state;

        full_status(&s);
        snprintf(s.installed, sizeof s.installed, "%s", s.guard_version);
        metrics_format(&s, &m, buf, sizeof buf);
        assert_non_null(strstr(buf, "\ninitshim_running_build_mismatch 0\n"));
        snprintf(s.pid1_version, sizeof s.pid1_version, "initshim 0.1 (old)");
        metrics_format(&s, &m, buf, sizeof buf);
        assert_non_null(strstr(buf, "\ninitshim_running_build_mismatch 1\n"));
        s.mode = MODE_NORMAL; /* PID 1 is systemd: its version is not initshim's */
        snprintf(s.pid1_version, sizeof s.pid1_version, "systemd 252 (252.22-1~deb12u1)");
        metrics_format(&s, &m, buf, sizeof buf);
        assert_non_null(strstr(buf, "\ninitshim_running_build_mismatch 0\n"));
        snprintf(s.guard_version, sizeof s.guard_version, "0.1 (old)");
        metrics_format(&s, &m, buf, sizeof buf);
        assert_non_null(strstr(buf, "\ninitshim_running_build_mismatch 1\n"));
        s.installed[0] = '\0';
        metrics_format(&s, &m, buf, sizeof buf);
        assert_null(strstr(buf, "initshim_running_build_mismatch"));
}

static void test_guard_attached_from_status(void **state) {
        static char buf[PROTO_REPLY_MAX];
        static const char *const detached[] = { "not running: PID 1 is unguarded",
                                                "running (pid 7), NOT tracing PID 1: detached on request",
                                                "running (pid 7), detached PID 1", "" };
        struct status s;
        struct metrics m = { 0 };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(detached); i++) {
                full_status(&s);
                snprintf(s.guard, sizeof s.guard, "%s", detached[i]);
                metrics_format(&s, &m, buf, sizeof buf);
                assert_non_null(strstr(buf, "\ninitshim_guard_attached 0\n"));
        }
}

/* No health checks in rescue mode, no zombies: no stale age. */
static void test_format_without_health(void **state) {
        static char buf[PROTO_REPLY_MAX];
        struct status s;
        struct metrics m = { 0 };
        (void) state;

        full_status(&s);
        s.zombies = 0;
        m.oldest_zombie_ms = 99000;
        snprintf(s.health, sizeof s.health, "check-*: not checked: PID 1 is initshim\n");
        metrics_format(&s, &m, buf, sizeof buf);
        assert_null(strstr(buf, "health_check"));
        assert_non_null(strstr(buf, "\ninitshim_pid1_oldest_zombie_age_seconds 0.000\n"));
        /* Lines that are not "check-NAME: LEVEL:" give no series. */
        snprintf(s.health, sizeof s.health, "check-Bad: ok: x\ncheck-memory:ok: y\ncheck-: ok: z\n"
                                           "check-zombies: degraded\ncheck-%s: ok: long\n",
                 "a_name_longer_than_thirty_one_characters");
        metrics_format(&s, &m, buf, sizeof buf);
        assert_null(strstr(buf, "health_check"));
}

static void test_truncation_is_safe(void **state) {
        char small[100];
        struct status s;
        struct metrics m = { 0 };
        (void) state;

        full_status(&s);
        memset(small, 'x', sizeof small);
        assert_int_equal(metrics_format(&s, &m, small, sizeof small), sizeof small - 1);
        assert_int_equal(small[sizeof small - 1], '\0');
}

static void test_default_path_written_only_if_its_directory_exists(void **state) {
        char path[128];
        struct stat st;
        (void) state;

        snprintf(path, sizeof path, "%s/node-exporter/initshim.prom", dir);
        assert_int_equal(metrics_write_file(path, false, "x 1\n", 4), -ENOENT);
        assert_int_equal(stat(path, &st), -1);
        /* Configured: tried (and the error reported). */
        assert_int_equal(metrics_write_file(path, true, "x 1\n", 4), -ENOENT);
        snprintf(path, sizeof path, "%s/node-exporter", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/node-exporter/initshim.prom", dir);
        assert_int_equal(metrics_write_file(path, false, "x 1\n", 4), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, 4);
        assert_int_equal(metrics_write_file("", true, "x 1\n", 4), 0);
}

static void test_rss_of_self(void **state) {
        (void) state;
        assert_true(metrics_read_rss(getpid()) > 0);
        assert_int_equal(metrics_read_rss(0), 0);
}

static void test_config_key(void **state) {
        struct config c;
        char err[256];
        (void) state;

        config_init(&c);
        assert_string_equal(c.metrics_file, "/var/lib/prometheus/node-exporter/initshim.prom");
        assert_false(c.metrics_file_configured);
        assert_int_equal(config_set(&c, "metrics-file", "/run/x.prom", err, sizeof err), 0);
        assert_string_equal(c.metrics_file, "/run/x.prom");
        assert_true(c.metrics_file_configured);
        /* Bad values change nothing. */
        assert_int_equal(config_set(&c, "metrics-file", "/run/x.txt", err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, ".prom"));
        assert_int_equal(config_set(&c, "metrics-file", "relative.prom", err, sizeof err), -EINVAL);
        assert_string_equal(c.metrics_file, "/run/x.prom");
        assert_int_equal(config_set(&c, "metrics-file", "off", err, sizeof err), 0);
        assert_string_equal(c.metrics_file, "");
        assert_int_equal(config_set(&c, "metrics-file", "/var/lib/prometheus/node-exporter/initshim.prom", err,
                                    sizeof err), 0);
        assert_false(c.metrics_file_configured);
}

static int setup(void **state) {
        (void) state;
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[128];
        (void) state;
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_takeover_reasons),
                cmocka_unit_test(test_switch_outcomes),
                cmocka_unit_test(test_state_file_round_trip),
                cmocka_unit_test(test_bad_state_lines_leave_zeros),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_running_build_mismatch),
                cmocka_unit_test(test_guard_attached_from_status),
                cmocka_unit_test(test_format_without_health),
                cmocka_unit_test(test_truncation_is_safe),
                cmocka_unit_test(test_default_path_written_only_if_its_directory_exists),
                cmocka_unit_test(test_rss_of_self),
                cmocka_unit_test(test_config_key),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
