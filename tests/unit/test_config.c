#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "common/util.h"

static unsigned reports;
static char last_report[256];

static void report(const char *source, unsigned line, const char *msg) {
        reports++;
        snprintf(last_report, sizeof last_report, "%s:%u: %s", source, line, msg);
}

static void parse(struct config *c, const char *text) {
        static char buf[4096];
        config_init(c);
        reports = 0;
        last_report[0] = '\0';
        strcpy(buf, text);
        config_parse_text(c, buf, "test.conf", report);
}

static void test_defaults(void **state) {
        struct config c;
        (void) state;
        config_init(&c);
        assert_string_equal(c.systemd, "/lib/systemd/systemd");
        assert_int_equal(c.on_failure, ON_FAILURE_RESTART);
        assert_true(c.guard);
        assert_string_equal(c.keep_cgroups, "machine.slice kubepods.slice kubepods");
        assert_int_equal(c.restart_limit, 3);
        assert_int_equal(c.liveness_failures, 3);
        assert_int_equal(c.memory_limit, 2ULL << 30);
        assert_int_equal(c.auto_reexec, AUTO_REEXEC_MEMORY);
        assert_false(c.console);
        assert_int_equal(c.shutdown_timeout_ms, 10000);
}

static void test_full_file(void **state) {
        struct config c;
        (void) state;
        parse(&c, "# comment\n"
                  "\n"
                  "  systemd = /usr/lib/systemd/systemd  \n"
                  "version 252 = /lib/systemd/systemd\n"
                  "version   254-bpo = /usr/lib/systemd-254/systemd\n"
                  "default = 254-bpo\n"
                  "fallback = 252\n"
                  "on-failure = restart\n"
                  "console = yes\n"
                  "guard = off\n"
                  "shutdown-timeout = 1500ms\n"
                  "initrd-init = /init\n"
                  "rescue-command = /bin/sh -c 'echo hi'\n");
        assert_int_equal(reports, 0);
        assert_string_equal(c.initrd_init, "/init");
        assert_string_equal(c.systemd, "/usr/lib/systemd/systemd");
        assert_int_equal(c.n_versions, 2);
        assert_string_equal(config_find_version(&c, "254-bpo")->path, "/usr/lib/systemd-254/systemd");
        assert_string_equal(c.default_version, "254-bpo");
        assert_string_equal(c.fallback_version, "252");
        assert_int_equal(c.on_failure, ON_FAILURE_RESTART);
        assert_true(c.console);
        assert_false(c.guard);
        assert_int_equal(c.shutdown_timeout_ms, 1500);
        assert_string_equal(c.rescue_command, "/bin/sh -c 'echo hi'");
}

static void test_bad_values_keep_defaults(void **state) {
        struct config c;
        (void) state;
        parse(&c, "systemd = relative/path\n");
        assert_int_equal(reports, 1);
        assert_string_equal(c.systemd, "/lib/systemd/systemd");
        assert_non_null(strstr(last_report, "test.conf:1:"));

        parse(&c, "\n\non-failure = sometimes\n");
        assert_int_equal(c.on_failure, ON_FAILURE_RESTART);
        assert_non_null(strstr(last_report, "test.conf:3: 'sometimes' is not one of"));

        parse(&c, "frobnicate = 3\nconsole = maybe\nshutdown-timeout = 5 hours\nno equals sign\n");
        assert_int_equal(reports, 4);
        assert_false(c.console);
        assert_int_equal(c.shutdown_timeout_ms, 10000);

        parse(&c, "version bad/name = /x\nversion ok = relative\ninitrd-init = init\n");
        assert_int_equal(reports, 3);
        assert_string_equal(c.initrd_init, "");
        assert_int_equal(c.n_versions, 0);
}

static void test_health_and_recovery_keys(void **state) {
        struct config c;
        (void) state;
        parse(&c, "keep-cgroups = machine.slice user.slice\n"
                  "stop-timeout = 3s\nrestart-limit = 5\nrestart-interval = 10min\n"
                  "liveness-interval = 0\nliveness-timeout = 2s\nliveness-failures = 2\n"
                  "zombie-age = 5s\nzombie-limit = 10\nmemory-limit = 512M\n"
                  "auto-reexec = memory, upgrade slow\nreexec-timeout = 20s\ncrash-timeout = 1s\n");
        assert_int_equal(reports, 0);
        assert_string_equal(c.keep_cgroups, "machine.slice user.slice");
        assert_int_equal(c.stop_timeout_ms, 3000);
        assert_int_equal(c.restart_limit, 5);
        assert_int_equal(c.restart_interval_ms, 600000);
        assert_int_equal(c.liveness_interval_ms, 0); /* off */
        assert_int_equal(c.liveness_timeout_ms, 2000);
        assert_int_equal(c.liveness_failures, 2);
        assert_int_equal(c.zombie_age_ms, 5000);
        assert_int_equal(c.zombie_limit, 10);
        assert_int_equal(c.memory_limit, 512ULL << 20);
        assert_int_equal(c.auto_reexec, AUTO_REEXEC_MEMORY | AUTO_REEXEC_UPGRADE | AUTO_REEXEC_SLOW);
        assert_int_equal(c.reexec_timeout_ms, 20000);
        assert_int_equal(c.crash_timeout_ms, 1000);
        parse(&c, "auto-reexec = no\nstop-timeout = 0\nrestart-limit = lots\nzombie-limit = 2G\n"
                  "memory-limit = big\nauto-reexec = sometimes\n");
        assert_int_equal(c.auto_reexec, 0);
        assert_int_equal(reports, 5);
        assert_int_equal(c.stop_timeout_ms, 10000);
        assert_int_equal(c.restart_limit, 3);
        assert_int_equal(c.zombie_limit, 100);
}

static void test_version_redefinition_and_limit(void **state) {
        struct config c;
        char text[4096] = "";
        (void) state;
        parse(&c, "version a = /one\nversion a = /two\n");
        assert_int_equal(c.n_versions, 1);
        assert_string_equal(config_find_version(&c, "a")->path, "/two");
        for (int i = 0; i < CONFIG_VERSIONS_MAX + 2; i++)
                sprintf(text + strlen(text), "version v%d = /bin/v%d\n", i, i);
        parse(&c, text);
        assert_int_equal(c.n_versions, CONFIG_VERSIONS_MAX);
        assert_int_equal(reports, 2);
}

static void test_cmdline(void **state) {
        struct config c;
        char cmdline[] = "BOOT_IMAGE=/vmlinuz root=/dev/vda ro initshim.on-failure=reboot "
                         "initshim.version=254 quiet initshim.rescue-command=\"/bin/echo a b\" initshim.bogus=1 "
                         "initshim.noequals initshim.systemd=/opt/systemd\n";
        (void) state;
        parse(&c, "on-failure = hold\n");
        reports = 0;
        assert_int_equal(config_apply_cmdline(&c, cmdline, report), 2);
        assert_int_equal(c.on_failure, ON_FAILURE_REBOOT);
        assert_string_equal(c.forced_version, "254");
        assert_string_equal(c.rescue_command, "/bin/echo a b");
        assert_string_equal(c.systemd, "/opt/systemd");
}

/* on-failure = adopt is a value of its own (init/adopt.h). */
static void test_on_failure_adopt(void **state) {
        struct config c;
        (void) state;
        parse(&c, "on-failure = adopt\n");
        assert_int_equal(c.on_failure, ON_FAILURE_ADOPT);
}

/* Versions come from the config file only: a quoted command-line word that
 * would define one is refused, and the file's definition stays. */
static void test_cmdline_cannot_define_versions(void **state) {
        struct config c;
        char cmdline[] = "ro \"initshim.version evil=/tmp/evil\" \"initshim.version 252=/tmp/x\" initshim.version=252\n";
        (void) state;
        parse(&c, "version 252 = /usr/lib/systemd/systemd\n");
        reports = 0;
        assert_int_equal(config_apply_cmdline(&c, cmdline, report), 2);
        assert_non_null(strstr(last_report, "config file only"));
        assert_null(config_find_version(&c, "evil"));
        assert_string_equal(config_find_version(&c, "252")->path, "/usr/lib/systemd/systemd");
        assert_string_equal(c.forced_version, "252");
}

static void test_boot_candidates(void **state) {
        struct config c;
        struct candidate cand[CONFIG_CANDIDATES_MAX];
        size_t n;
        (void) state;

        config_init(&c);
        n = config_boot_candidates(&c, cand, CONFIG_CANDIDATES_MAX);
        assert_int_equal(n, 2); /* systemd= is the Debian path: not repeated */
        assert_string_equal(cand[0].path, "/lib/systemd/systemd");
        assert_string_equal(cand[1].path, "/usr/lib/systemd/systemd");

        parse(&c, "version new = /new\nversion old = /old\ndefault = new\nfallback = old\nsystemd = /plain\n");
        n = config_boot_candidates(&c, cand, CONFIG_CANDIDATES_MAX);
        assert_int_equal(n, 5);
        assert_string_equal(cand[0].path, "/new");
        assert_string_equal(cand[1].path, "/plain");
        assert_string_equal(cand[2].path, "/old");
        assert_string_equal(cand[2].why, "fallback version");

        strcpy(c.forced_version, "old");
        n = config_boot_candidates(&c, cand, CONFIG_CANDIDATES_MAX);
        assert_string_equal(cand[0].path, "/old");
        assert_string_equal(cand[1].path, "/new");
        assert_int_equal(n, 5);

        /* A forced version that does not exist is skipped, not fatal. */
        strcpy(c.forced_version, "nope");
        n = config_boot_candidates(&c, cand, CONFIG_CANDIDATES_MAX);
        assert_string_equal(cand[0].path, "/new");

        n = config_boot_candidates(&c, cand, 2);
        assert_int_equal(n, 2);
}

static void test_parse_helpers(void **state) {
        uint64_t v;
        bool b;
        (void) state;
        assert_int_equal(parse_duration_ms("3", &v), 0);
        assert_int_equal(v, 3000);
        assert_int_equal(parse_duration_ms("250ms", &v), 0);
        assert_int_equal(v, 250);
        assert_int_equal(parse_duration_ms("2min", &v), 0);
        assert_int_equal(v, 120000);
        assert_true(parse_duration_ms("-1", &v) < 0);
        assert_true(parse_duration_ms("99999999999999999999", &v) < 0);
        assert_true(parse_duration_ms("1h", &v) < 0);
        assert_int_equal(parse_size("2G", &v), 0);
        assert_int_equal(v, 2ULL << 30);
        assert_true(parse_size("2T", &v) < 0);
        assert_int_equal(parse_bool("On", &b), 0);
        assert_true(b);
        assert_true(parse_bool("yess", &b) < 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_full_file),
                cmocka_unit_test(test_bad_values_keep_defaults),
                cmocka_unit_test(test_version_redefinition_and_limit),
                cmocka_unit_test(test_health_and_recovery_keys),
                cmocka_unit_test(test_cmdline), cmocka_unit_test(test_on_failure_adopt),
                cmocka_unit_test(test_cmdline_cannot_define_versions),
                cmocka_unit_test(test_boot_candidates),
                cmocka_unit_test(test_parse_helpers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
