/* The pure parts of the hardware-watchdog takeover: the `watchdog` key,
 * systemd's watchdog settings (system.conf, drop-ins, kernel command line),
 * the ping schedule. */
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

#include "config/config.h"
#include "config/sdwatchdog.h"
#include "common/util.h"
#include "watchdog.h"

static void test_config_key(void **state) {
        struct config c;
        char err[192];
        (void) state;
        config_init(&c);
        assert_int_equal(c.watchdog, WATCHDOG_AUTO);
        assert_int_equal(config_set(&c, "watchdog", "off", err, sizeof err), 0);
        assert_int_equal(c.watchdog, WATCHDOG_OFF);
        assert_int_equal(config_set(&c, "watchdog", "/dev/watchdog1", err, sizeof err), 0);
        assert_int_equal(c.watchdog, WATCHDOG_DEVICE);
        assert_string_equal(c.watchdog_device, "/dev/watchdog1");
        /* Bad input: a clear error, the old value kept. */
        assert_int_equal(config_set(&c, "watchdog", "watchdog1", err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "not auto, off or a device path"));
        assert_int_equal(c.watchdog, WATCHDOG_DEVICE);
        assert_string_equal(c.watchdog_device, "/dev/watchdog1");
        assert_int_equal(config_set(&c, "watchdog", "auto", err, sizeof err), 0);
        assert_int_equal(c.watchdog, WATCHDOG_AUTO);
}

static void test_timespans(void **state) {
        uint64_t v = 42;
        (void) state;
        assert_int_equal(sd_parse_timespan_ms("15s", &v), 0);
        assert_int_equal(v, 15000);
        assert_int_equal(sd_parse_timespan_ms("15", &v), 0);
        assert_int_equal(v, 15000);
        assert_int_equal(sd_parse_timespan_ms("7.5s", &v), 0);
        assert_int_equal(v, 7500);
        assert_int_equal(sd_parse_timespan_ms("1min 30s", &v), 0);
        assert_int_equal(v, 90000);
        assert_int_equal(sd_parse_timespan_ms("1h30min", &v), 0);
        assert_int_equal(v, 5400000);
        assert_int_equal(sd_parse_timespan_ms("10m", &v), 0); /* m is a minute */
        assert_int_equal(v, 600000);
        assert_int_equal(sd_parse_timespan_ms("500ms", &v), 0);
        assert_int_equal(v, 500);
        assert_int_equal(sd_parse_timespan_ms("1500us", &v), 0); /* rounded up */
        assert_int_equal(v, 2);
        v = 42;
        assert_int_equal(sd_parse_timespan_ms("", &v), -EINVAL);
        assert_int_equal(sd_parse_timespan_ms("15 parsecs", &v), -EINVAL);
        assert_int_equal(sd_parse_timespan_ms("-5s", &v), -EINVAL);
        assert_int_equal(sd_parse_timespan_ms("99999999999999999999y", &v), -ERANGE);
        assert_int_equal(v, 42);
        assert_int_equal(sd_watchdog_parse_sec("off", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(sd_watchdog_parse_sec("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(sd_watchdog_parse_sec("default", &v), 0);
        assert_true(v == SD_WATCHDOG_DEFAULT);
}

static void parse_conf(struct sd_watchdog *w, const char *text) {
        static char buf[4096];
        strcpy(buf, text);
        sd_watchdog_parse_text(w, buf);
}

static void test_system_conf(void **state) {
        struct sd_watchdog w;
        (void) state;
        sd_watchdog_init(&w);
        assert_int_equal(w.runtime_ms, 0);
        assert_int_equal(w.reboot_ms, 10 * 60 * 1000);
        assert_string_equal(w.device, "");
        parse_conf(&w, "[Manager]\n#RuntimeWatchdogSec=off\n"
                       "  RuntimeWatchdogSec = 15s \n"
                       "ShutdownWatchdogSec=2min\n"
                       "WatchdogDevice=/dev/watchdog1\n"
                       "[Other]\nRuntimeWatchdogSec=99s\n");
        assert_int_equal(w.runtime_ms, 15000);
        assert_int_equal(w.reboot_ms, 120000);
        assert_string_equal(w.device, "/dev/watchdog1");
        /* Bad values are ignored, as systemd ignores them. */
        parse_conf(&w, "[Manager]\nRuntimeWatchdogSec=soon\nRebootWatchdogSec=off\n");
        assert_int_equal(w.runtime_ms, 15000);
        assert_int_equal(w.reboot_ms, 0);
        /* Keys outside [Manager] count for nothing. */
        sd_watchdog_init(&w);
        parse_conf(&w, "RuntimeWatchdogSec=30s\n");
        assert_int_equal(w.runtime_ms, 0);
}

static void test_cmdline(void **state) {
        struct sd_watchdog w;
        char cmdline[] = "root=/dev/vda systemd.watchdog_sec=20s quiet systemd.watchdog_device=/dev/watchdog2";
        (void) state;
        sd_watchdog_init(&w);
        sd_watchdog_apply_cmdline(&w, cmdline);
        assert_int_equal(w.runtime_ms, 20000);
        assert_int_equal(w.reboot_ms, 20000);
        assert_string_equal(w.device, "/dev/watchdog2");
}

static void write_text(const char *root, const char *rel, const char *text) {
        char path[512], cmd[600];
        snprintf(path, sizeof path, "%s%s", root, rel);
        snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
        assert_int_equal(system(cmd), 0);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* system.conf, then drop-ins by file name across the directories, a name in
 * /etc masking the same name in /usr/lib; the command line last. */
static void test_load_order(void **state) {
        char root[] = "/tmp/test-sdwatchdog.XXXXXX", cmd[128];
        struct sd_watchdog w;
        (void) state;
        assert_non_null(mkdtemp(root));
        write_text(root, "/etc/systemd/system.conf", "[Manager]\nRuntimeWatchdogSec=5s\nRebootWatchdogSec=1min\n");
        write_text(root, "/usr/lib/systemd/system.conf.d/10-vendor.conf", "[Manager]\nRuntimeWatchdogSec=6s\n");
        write_text(root, "/usr/lib/systemd/system.conf.d/30-masked.conf", "[Manager]\nRuntimeWatchdogSec=99s\n");
        write_text(root, "/etc/systemd/system.conf.d/30-masked.conf", "[Manager]\nWatchdogDevice=/dev/watchdog3\n");
        write_text(root, "/run/systemd/system.conf.d/20-run.conf", "[Manager]\nRuntimeWatchdogSec=15s\n");
        write_text(root, "/etc/systemd/system.conf.d/not-a-dropin.txt", "[Manager]\nRuntimeWatchdogSec=1s\n");
        write_text(root, "/proc/cmdline", "quiet\n");
        sd_watchdog_load(&w, root);
        assert_int_equal(w.runtime_ms, 15000);
        assert_int_equal(w.reboot_ms, 60000);
        assert_string_equal(w.device, "/dev/watchdog3");
        write_text(root, "/proc/cmdline", "systemd.watchdog_sec=off\n");
        sd_watchdog_load(&w, root);
        assert_int_equal(w.runtime_ms, 0);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
}

static void test_ping_schedule(void **state) {
        (void) state;
        /* systemd pings at half the timeout. */
        assert_int_equal(watchdog_interval_ms(15), 7500);
        assert_int_equal(watchdog_interval_ms(1), 500);
        assert_int_equal(watchdog_interval_ms(0), 1000); /* unknown timeout: every second */
        assert_int_equal(watchdog_due_in_ms(10000, 10000, 7500), 7500);
        assert_int_equal(watchdog_due_in_ms(16000, 10000, 7500), 1500);
        assert_int_equal(watchdog_due_in_ms(17500, 10000, 7500), 0);
        assert_int_equal(watchdog_due_in_ms(99999, 10000, 7500), 0);
        assert_int_equal(watchdog_due_in_ms(5, 10, 7500), 0);
}

static void test_device_state(void **state) {
        char path[] = "/tmp/test-hwwd.XXXXXX";
        (void) state;
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(hw_watchdog_state(path, NULL), -ENOTTY); /* not a character device */
        unlink(path);
        assert_int_equal(hw_watchdog_state(path, NULL), -ENOENT);
        /* A character device that sysfs tells nothing about. */
        assert_int_equal(hw_watchdog_state("/dev/null", NULL), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_key),
                cmocka_unit_test(test_timespans),
                cmocka_unit_test(test_system_conf),
                cmocka_unit_test(test_cmdline),
                cmocka_unit_test(test_load_order),
                cmocka_unit_test(test_ping_schedule),
                cmocka_unit_test(test_device_state),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
