/* Version state: bad marks, last good version, boot failure counts, in a
 * persistent directory with a volatile fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/vstate.h"

static char base[] = "/tmp/initshim-vstate.XXXXXX";
static char pers[64], vol[64];

static int setup(void **state) {
        (void) state;
        if (!mkdtemp(base))
                return -1;
        snprintf(pers, sizeof pers, "%s/var", base);
        snprintf(vol, sizeof vol, "%s/run", base);
        mkdir(vol, 0700);
        vstate_set_dirs(pers, vol);
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        (void) state;
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        return system(cmd);
}

static void test_bad_marks(void **state) {
        char reason[160];
        (void) state;
        assert_false(vstate_is_bad("/a", NULL, 0));
        assert_int_equal(vstate_mark_bad("/a", "crashed\tright\nafter"), 0);
        assert_int_equal(vstate_mark_bad("/b", "no answer"), 0);
        assert_true(vstate_is_bad("/a", reason, sizeof reason));
        assert_string_equal(reason, "crashed right after"); /* no tabs or newlines stored */
        assert_false(vstate_is_bad("/", NULL, 0));
        assert_false(vstate_is_bad("/ab", NULL, 0));
        assert_int_equal(vstate_mark_bad("/a", "again"), 0); /* replaced, not duplicated */
        assert_true(vstate_is_bad("/a", reason, sizeof reason));
        assert_string_equal(reason, "again");
        vstate_clear_bad("/a");
        assert_false(vstate_is_bad("/a", NULL, 0));
        assert_true(vstate_is_bad("/b", NULL, 0));
}

static void test_boot_failures_and_last_good(void **state) {
        char buf[256];
        (void) state;
        assert_int_equal(vstate_boot_failures("/sd"), 0);
        assert_int_equal(vstate_set_boot_failures("/sd", 2), 0);
        assert_int_equal(vstate_set_boot_failures("/other", 1), 0);
        assert_int_equal(vstate_boot_failures("/sd"), 2);
        assert_int_equal(vstate_set_boot_failures("/sd", 0), 0);
        assert_int_equal(vstate_boot_failures("/sd"), 0);
        assert_int_equal(vstate_boot_failures("/other"), 1);
        vstate_last_good(buf, sizeof buf);
        assert_string_equal(buf, "");
        assert_int_equal(vstate_set_last_good("/usr/lib/systemd-254/systemd"), 0);
        vstate_last_good(buf, sizeof buf);
        assert_string_equal(buf, "/usr/lib/systemd-254/systemd");
        /* Kept where it survives a reboot when that is writable. */
        snprintf(buf, sizeof buf, "%s/boot-failures", pers);
        assert_int_equal(access(buf, F_OK), 0);
}

static void test_volatile_when_persistent_is_read_only(void **state) {
        char ro[96];
        (void) state;
        /* A persistent directory below a file cannot be created: /run is used. */
        snprintf(ro, sizeof ro, "%s/file", base);
        FILE *f = fopen(ro, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(ro, sizeof ro, "%s/file/var", base);
        vstate_set_dirs(ro, vol);
        assert_int_equal(vstate_mark_bad("/x", "r"), 0);
        assert_true(vstate_is_bad("/x", NULL, 0));
        char p[128];
        snprintf(p, sizeof p, "%s/bad-versions", vol);
        assert_int_equal(access(p, F_OK), 0);
        vstate_set_dirs(pers, vol);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_marks),
                cmocka_unit_test(test_boot_failures_and_last_good),
                cmocka_unit_test(test_volatile_when_persistent_is_read_only),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
