#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/magic.h>
#include <string.h>

#include "versions/compat.h"

static void test_systemd_major(void **state) {
        unsigned m = 0;
        (void) state;
        assert_int_equal(compat_systemd_major("systemd 257 (257.13-1~deb13u1)", &m), 0);
        assert_int_equal(m, 257);
        assert_int_equal(compat_systemd_major("systemd 262 (262-1)\n", &m), 0);
        assert_int_equal(m, 262);
        assert_int_equal(compat_systemd_major("systemd 219", &m), 0);
        assert_int_equal(m, 219);
        assert_int_equal(compat_systemd_major("fake-systemd 1.0", &m), -EINVAL);
        assert_int_equal(compat_systemd_major("systemd v257", &m), -EINVAL);
        assert_int_equal(compat_systemd_major("systemd 257x", &m), -EINVAL);
        assert_int_equal(compat_systemd_major("systemd 99999999999999999999", &m), -EINVAL);
        assert_int_equal(compat_systemd_major(NULL, &m), -EINVAL);
}

static void test_cgroup_mount_from_magic(void **state) {
        (void) state;
        assert_int_equal(compat_cgroup_mount_from_magic(CGROUP2_SUPER_MAGIC, 0), CGROUP_MOUNT_UNIFIED);
        assert_int_equal(compat_cgroup_mount_from_magic(TMPFS_MAGIC, CGROUP2_SUPER_MAGIC), CGROUP_MOUNT_HYBRID);
        assert_int_equal(compat_cgroup_mount_from_magic(TMPFS_MAGIC, 0), CGROUP_MOUNT_LEGACY);
        assert_int_equal(compat_cgroup_mount_from_magic(0, 0), CGROUP_MOUNT_UNKNOWN);
}

/* A 258+ candidate on a v1 mount is refused (it would freeze at start-up);
 * older ones and unified or unknown mounts pass. */
static void test_cgroup_allows(void **state) {
        char why[256] = "";
        (void) state;
        assert_int_equal(compat_cgroup_allows(262, CGROUP_MOUNT_LEGACY, why, sizeof why), -EOPNOTSUPP);
        assert_non_null(strstr(why, "systemd 262 needs the unified cgroup hierarchy"));
        assert_non_null(strstr(why, "legacy"));
        assert_int_equal(compat_cgroup_allows(258, CGROUP_MOUNT_HYBRID, why, sizeof why), -EOPNOTSUPP);
        assert_non_null(strstr(why, "hybrid"));
        assert_int_equal(compat_cgroup_allows(262, CGROUP_MOUNT_UNIFIED, why, sizeof why), 0);
        assert_int_equal(compat_cgroup_allows(262, CGROUP_MOUNT_UNKNOWN, why, sizeof why), 0);
        assert_int_equal(compat_cgroup_allows(257, CGROUP_MOUNT_LEGACY, why, sizeof why), 0);
        assert_int_equal(compat_cgroup_allows(247, CGROUP_MOUNT_HYBRID, why, sizeof why), 0);
}

/* On this machine's own mount: a 262 candidate is refused on a v1 or hybrid
 * mount and passes on a unified one; 252 passes everywhere; a line without
 * a version is left to the other checks. */
static void test_check_cgroup_here(void **state) {
        enum cgroup_mount m = compat_cgroup_mount_detect();
        char why[256] = "";
        (void) state;
        if (m == CGROUP_MOUNT_UNKNOWN)
                skip();
        if (m == CGROUP_MOUNT_UNIFIED)
                assert_int_equal(compat_check_cgroup("systemd 262 (262-1)", why, sizeof why), 0);
        else {
                assert_int_equal(compat_check_cgroup("systemd 262 (262-1)", why, sizeof why), -EOPNOTSUPP);
                assert_non_null(strstr(why, compat_cgroup_mount_name(m)));
        }
        assert_int_equal(compat_check_cgroup("systemd 252 (252.39-1~deb12u2)", why, sizeof why), 0);
        assert_int_equal(compat_check_cgroup("something else", why, sizeof why), 0);
}

static void test_restrict_fsaccess(void **state) {
        (void) state;
        assert_int_equal(compat_restrict_fsaccess(NULL, NULL), -1);
        assert_int_equal(compat_restrict_fsaccess("root=/dev/vda quiet", "[Manager]\n#RestrictFileSystemAccess=no\n"), -1);
        assert_int_equal(compat_restrict_fsaccess("", "[Manager]\nRestrictFileSystemAccess=yes\n"), 1);
        assert_int_equal(compat_restrict_fsaccess("", "[Manager]\n  RestrictFileSystemAccess=exec \n"), 1);
        assert_int_equal(compat_restrict_fsaccess("", "[Manager]\nRestrictFileSystemAccess=yes\nRestrictFileSystemAccess=no\n"), 0);
        /* Only [Manager] counts. */
        assert_int_equal(compat_restrict_fsaccess("", "[Other]\nRestrictFileSystemAccess=yes\n"), -1);
        /* The kernel command line wins over system.conf. */
        assert_int_equal(compat_restrict_fsaccess("quiet systemd.restrict_filesystem_access=no",
                                                  "[Manager]\nRestrictFileSystemAccess=yes\n"), 0);
        assert_int_equal(compat_restrict_fsaccess("systemd.restrict_filesystem_access=yes ro", NULL), 1);
        assert_int_equal(compat_restrict_fsaccess("systemd.restrict_filesystem_access", NULL), 1);
        assert_int_equal(compat_restrict_fsaccess("systemd.restrict_filesystem_accessx=1", NULL), -1);
}

static void test_attach_eperm_why(void **state) {
        char why[256];
        (void) state;
        compat_attach_eperm_why(1, true, 1, why, sizeof why);
        assert_non_null(strstr(why, "RestrictFileSystemAccess= (v261+) is on"));
        compat_attach_eperm_why(3, false, -1, why, sizeof why);
        assert_non_null(strstr(why, "Yama ptrace_scope=3"));
        compat_attach_eperm_why(1, true, -1, why, sizeof why);
        assert_non_null(strstr(why, "BPF LSM is active"));
        compat_attach_eperm_why(1, true, 0, why, sizeof why);
        assert_string_equal(why, "an LSM forbids it");
        compat_attach_eperm_why(-1, false, -1, why, sizeof why);
        assert_string_equal(why, "an LSM forbids it");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_systemd_major),
                cmocka_unit_test(test_cgroup_mount_from_magic),
                cmocka_unit_test(test_cgroup_allows),
                cmocka_unit_test(test_check_cgroup_here),
                cmocka_unit_test(test_restrict_fsaccess),
                cmocka_unit_test(test_attach_eperm_why),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
