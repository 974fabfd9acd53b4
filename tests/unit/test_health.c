/* Health verdicts and escalation; cgroup selection and the restart window
 * used by recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cgroup.h"
#include "config/config.h"
#include "health/health.h"
#include "pid1.h"
#include "common/util.h"

static struct config cfg;
static struct health h;

static int setup(void **state) {
        (void) state;
        config_init(&cfg);
        cfg.liveness_timeout_ms = 1000;
        cfg.liveness_failures = 3;
        cfg.reexec_timeout_ms = 10000;
        cfg.zombie_age_ms = 5000;
        cfg.zombie_limit = 3;
        health_init(&h, 1000);
        return 0;
}

static void test_liveness_escalation(void **state) {
        (void) state;
        health_ping_result(&h, &cfg, 0, 500, "", 2000);
        assert_int_equal(h.checks[CHECK_LIVENESS].level, HEALTH_OK);
        assert_int_equal(health_decide(&h, &cfg, 2000), HEALTH_ACTION_NONE);
        health_ping_result(&h, &cfg, -ETIMEDOUT, 0, "timeout", 3000);
        health_ping_result(&h, &cfg, -ETIMEDOUT, 0, "timeout", 4000);
        assert_int_equal(h.checks[CHECK_LIVENESS].level, HEALTH_DEGRADED);
        assert_int_equal(health_decide(&h, &cfg, 4000), HEALTH_ACTION_NONE);
        health_ping_result(&h, &cfg, -ETIMEDOUT, 0, "timeout", 5000);
        assert_int_equal(h.checks[CHECK_LIVENESS].level, HEALTH_FAILED);
        /* First a state-preserving re-exec, once... */
        assert_int_equal(health_decide(&h, &cfg, 5000), HEALTH_ACTION_REEXEC);
        health_reexec_sent(&h, 5000);
        assert_int_equal(health_decide(&h, &cfg, 6000), HEALTH_ACTION_NONE);
        assert_int_equal(health_decide(&h, &cfg, 14999), HEALTH_ACTION_NONE);
        /* ...then, if it did not help in time, a takeover. */
        assert_int_equal(health_decide(&h, &cfg, 15000), HEALTH_ACTION_TAKEOVER);
        assert_non_null(strstr(h.action_reason, "a re-exec did not help"));
}

static void test_reexec_that_helps(void **state) {
        (void) state;
        for (int i = 0; i < 3; i++)
                health_ping_result(&h, &cfg, -ETIMEDOUT, 0, "timeout", 2000 + i);
        assert_int_equal(health_decide(&h, &cfg, 3000), HEALTH_ACTION_REEXEC);
        health_reexec_sent(&h, 3000);
        health_pid1_exec(&h, 4000);
        /* The new image is judged afresh: no second re-exec, no takeover. */
        assert_int_equal(health_decide(&h, &cfg, 20000), HEALTH_ACTION_NONE);
        health_ping_result(&h, &cfg, 0, 100, "", 21000);
        assert_int_equal(h.checks[CHECK_LIVENESS].level, HEALTH_OK);
        assert_int_equal(health_decide(&h, &cfg, 30000), HEALTH_ACTION_NONE);
}

static void test_slow_is_degraded_never_taken_over(void **state) {
        (void) state;
        for (int i = 0; i < 50; i++) {
                health_ping_result(&h, &cfg, 0, 900 * 1000, "", 2000 + i * 1000);
                assert_int_equal(h.checks[CHECK_LIVENESS].level, HEALTH_DEGRADED);
                assert_int_equal(health_decide(&h, &cfg, 2000 + i * 1000), HEALTH_ACTION_NONE);
        }
        cfg.auto_reexec |= AUTO_REEXEC_SLOW;
        assert_int_equal(health_decide(&h, &cfg, 60000), HEALTH_ACTION_REEXEC);
}

static void test_no_socket_at_startup_is_not_failure(void **state) {
        (void) state;
        for (int i = 0; i < 10; i++)
                health_ping_result(&h, &cfg, -ENOENT, 0, "", 2000 + i);
        assert_int_equal(h.checks[CHECK_LIVENESS].level, HEALTH_DEGRADED);
        /* Five minutes later it is. */
        for (int i = 0; i < 3; i++)
                health_ping_result(&h, &cfg, -ENOENT, 0, "", 1000 + 300001 + i);
        assert_int_equal(h.checks[CHECK_LIVENESS].level, HEALTH_FAILED);
}

/* The zombie scan sorts without allocating: every order, duplicates too. */
static void test_sort_pids(void **state) {
        (void) state;
        pid_t a[257];
        unsigned seed = 1;

        for (size_t n = 0; n <= 257; n += (n < 10 ? 1 : 31)) {
                for (size_t i = 0; i < n; i++) {
                        seed = seed * 1103515245u + 12345u;
                        a[i] = (pid_t) (seed >> 16) % 97;
                }
                sort_pids(a, n);
                for (size_t i = 1; i < n; i++)
                        assert_true(a[i - 1] <= a[i]);
        }
}

static void test_zombie_ageing(void **state) {
        pid_t a[] = { 30, 10, 20 }, b[] = { 20, 40, 10, 30, 50 };
        (void) state;
        health_zombies(&h, &cfg, a, 3, 1000);
        assert_int_equal(h.old_zombies, 0);
        assert_int_equal(h.checks[CHECK_ZOMBIES].level, HEALTH_OK);
        health_zombies(&h, &cfg, b, 5, 6000); /* 10 20 30 are 5 s old now */
        assert_int_equal(h.old_zombies, 3);
        assert_int_equal(h.checks[CHECK_ZOMBIES].level, HEALTH_FAILED);
        assert_int_equal(health_decide(&h, &cfg, 6000), HEALTH_ACTION_REEXEC);
        pid_t c[] = { 40, 50 };
        health_zombies(&h, &cfg, c, 2, 7000); /* reaped ones leave; 40 50 are 1 s old */
        assert_int_equal(h.old_zombies, 0);
        assert_int_equal(h.checks[CHECK_ZOMBIES].level, HEALTH_OK);
        health_zombies(&h, &cfg, c, 2, 11000);
        assert_int_equal(h.old_zombies, 2);
        assert_int_equal(h.checks[CHECK_ZOMBIES].level, HEALTH_DEGRADED);
}

static void test_memory_and_upgrade_auto_reexec(void **state) {
        (void) state;
        cfg.memory_limit = 100 << 20;
        health_memory(&h, &cfg, 50 << 20, 2000);
        assert_int_equal(health_decide(&h, &cfg, 2000), HEALTH_ACTION_NONE);
        health_memory(&h, &cfg, 200 << 20, 3000);
        assert_int_equal(h.checks[CHECK_MEMORY].level, HEALTH_DEGRADED);
        assert_int_equal(health_decide(&h, &cfg, 3000), HEALTH_ACTION_REEXEC);
        health_reexec_sent(&h, 3000);
        health_pid1_exec(&h, 3500);
        /* Still over the limit after the re-exec: not again within the hour. */
        health_memory(&h, &cfg, 200 << 20, 4000);
        assert_int_equal(health_decide(&h, &cfg, 4000), HEALTH_ACTION_NONE);
        assert_int_equal(health_decide(&h, &cfg, 3000 + 3600 * 1000), HEALTH_ACTION_REEXEC);

        health_init(&h, 0);
        health_upgrade(&h, &cfg, true, false, "/lib/systemd/systemd (deleted)", 1000);
        assert_int_equal(h.checks[CHECK_UPGRADE].level, HEALTH_DEGRADED);
        assert_int_equal(health_decide(&h, &cfg, 1000), HEALTH_ACTION_NONE); /* not in auto-reexec */
        cfg.auto_reexec |= AUTO_REEXEC_UPGRADE;
        assert_int_equal(health_decide(&h, &cfg, 1000), HEALTH_ACTION_REEXEC);
        cfg.memory_limit = 0;
        health_memory(&h, &cfg, 1ULL << 40, 2000);
        assert_int_equal(h.checks[CHECK_MEMORY].level, HEALTH_OK);
}

static void test_history_and_format(void **state) {
        char buf[4096];
        (void) state;
        for (int i = 0; i < 40; i++)
                health_ping_result(&h, &cfg, i % 2 ? 0 : -ETIMEDOUT, 10, "t", 2000 + i);
        assert_int_equal(h.hist_n, HEALTH_HISTORY);
        health_format(&h, buf, sizeof buf, 5000);
        assert_non_null(strstr(buf, "check-liveness: "));
        assert_non_null(strstr(buf, "check-zombies: ok: not checked yet"));
        assert_non_null(strstr(buf, "pings: 40"));
        assert_non_null(strstr(buf, "history: 2s ago: liveness"));
}

static void test_cgroups(void **state) {
        char cg[256];
        (void) state;
        assert_int_equal(cgroup_pick("0::/system.slice/ssh.service\n", cg, sizeof cg), 0);
        assert_string_equal(cg, "/system.slice/ssh.service");
        /* Hybrid: the unified path is "/" for everyone, name=systemd tells. */
        assert_int_equal(cgroup_pick("12:pids:/\n1:name=systemd:/machine.slice/x.scope\n0::/\n", cg, sizeof cg), 0);
        assert_string_equal(cg, "/machine.slice/x.scope");
        assert_int_equal(cgroup_pick("4:memory:/a\n", cg, sizeof cg), -ENOENT);
        /* Per hierarchy, v1 (legacy) text included: the freezer may share a line. */
        const char *v1 = "11:freezer,cpuset:/frz\n1:name=systemd:/init.scope\n0::/\n";
        assert_int_equal(cgroup_pick_hierarchy(v1, CGROUP_FREEZER, cg, sizeof cg), 0);
        assert_string_equal(cg, "/frz");
        assert_int_equal(cgroup_pick_hierarchy(v1, CGROUP_NAMED_SYSTEMD, cg, sizeof cg), 0);
        assert_string_equal(cg, "/init.scope");
        assert_int_equal(cgroup_pick_hierarchy(v1, CGROUP_UNIFIED, cg, sizeof cg), 0);
        assert_string_equal(cg, "/");
        assert_int_equal(cgroup_pick_hierarchy("0::/init.scope\n", CGROUP_FREEZER, cg, sizeof cg), -ENOENT);
        assert_int_equal(cgroup_pick_hierarchy("4:memory:/a\n", CGROUP_NAMED_SYSTEMD, cg, sizeof cg), -ENOENT);
        /* Leave PID 1's init.scope always, its root cgroup only when it is ours. */
        assert_true(cgroup_should_leave("/init.scope", "/init.scope", false));
        assert_true(cgroup_should_leave("/", "/", true));
        assert_false(cgroup_should_leave("/", "/", false));
        assert_false(cgroup_should_leave("/initshim", "/init.scope", true));
        assert_false(cgroup_should_leave("/user.slice/x", "/user.slice/x", true));
        assert_true(cgroup_is_kept("/machine.slice/machine-web.scope", "machine.slice kubepods"));
        assert_true(cgroup_is_kept("/kubepods/burstable/pod1", "machine.slice kubepods"));
        assert_true(cgroup_is_kept("/kubepods", "kubepods"));
        assert_false(cgroup_is_kept("/kubepods2/x", "kubepods"));
        assert_false(cgroup_is_kept("/system.slice/dbus.service", "machine.slice kubepods"));
        assert_true(cgroup_is_kept("/init.scope", ""));
        assert_true(cgroup_is_kept("/system.slice/docker.service", "/system.slice/docker.service/"));
        assert_false(cgroup_is_kept("/", "machine.slice"));
}

static void test_proc_stat_and_ratelimit(void **state) {
        char st;
        long ppid;
        unsigned long flags;
        uint64_t stamps[4];
        size_t n = 0;
        (void) state;
        assert_int_equal(parse_proc_stat("42 (a) b) c) S 1 42 42 0 -1 4194560 0 0", &st, &ppid, &flags), 0);
        assert_int_equal(st, 'S');
        assert_int_equal(ppid, 1);
        assert_int_equal(flags, 4194560);
        assert_int_equal(parse_proc_stat("garbage", &st, &ppid, &flags), -EINVAL);
        assert_true(ratelimit_allow(stamps, &n, 4, 1000, 3600, 2));
        assert_true(ratelimit_allow(stamps, &n, 4, 2000, 3600, 2));
        assert_false(ratelimit_allow(stamps, &n, 4, 3000, 3600, 2));
        assert_true(ratelimit_allow(stamps, &n, 4, 4601, 3600, 2)); /* the first fell out */
        assert_int_equal(n, 2);
}

static void test_proc_status_field_and_first_line(void **state) {
        char buf[4096], path[] = "/tmp/initshim-unit-XXXXXX";
        const char *v;
        int fd;
        (void) state;
        v = read_proc_status_field(getpid(), "Pid", buf, sizeof buf);
        assert_non_null(v);
        assert_int_equal(strtol(v, NULL, 10), getpid());
        /* A key is matched whole and at the start of a line only. */
        assert_null(read_proc_status_field(getpid(), "Pi", buf, sizeof buf));
        assert_null(read_proc_status_field(getpid(), "NoSuchKey", buf, sizeof buf));
        assert_non_null(read_proc_status_field(getpid(), "Name", buf, sizeof buf)); /* the first line */
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, "first\nsecond\n", 13), 0);
        close(fd);
        assert_int_equal(read_first_line(path, buf, sizeof buf), 13);
        assert_string_equal(buf, "first");
        unlink(path);
        assert_true(read_first_line(path, buf, sizeof buf) < 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_liveness_escalation, setup),
                cmocka_unit_test_setup(test_reexec_that_helps, setup),
                cmocka_unit_test_setup(test_slow_is_degraded_never_taken_over, setup),
                cmocka_unit_test_setup(test_no_socket_at_startup_is_not_failure, setup),
                cmocka_unit_test(test_sort_pids),
                cmocka_unit_test_setup(test_zombie_ageing, setup),
                cmocka_unit_test_setup(test_memory_and_upgrade_auto_reexec, setup),
                cmocka_unit_test_setup(test_history_and_format, setup),
                cmocka_unit_test(test_cgroups),
                cmocka_unit_test(test_proc_stat_and_ratelimit),
                cmocka_unit_test(test_proc_status_field_and_first_line),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
