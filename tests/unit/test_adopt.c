/* Zero-restart recovery: the synthesized --deserialize text and discovery
 * (shim/versions/serialize.c, discover.c). */
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
#include <sys/xattr.h>
#include <unistd.h>

#include "versions/discover.h"
#include "versions/serialize.h"

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"

static const char discovered[] = "slice system.slice /system.slice\n"
                                 "service web.service /system.slice/web.service 812 5000000 " ID1 "\n"
                                 "skip cron.service no process of the unit is a child of PID 1\n"
                                 "service systemd-journald.service /system.slice/systemd-journald.service 300 "
                                 "2000000 " ID2 "\n";

static void test_parse_and_serialize(void **state) {
        static struct adopt_unit u[8];
        static char buf[4096];
        struct adopt_clock now = { .realtime_usec = 1700000000000000ULL, .monotonic_usec = 60000000 };
        size_t n;
        unsigned bad;
        (void) state;

        assert_int_equal(adopt_parse(discovered, u, 8, &n, &bad), 0);
        assert_int_equal(n, 3);
        int l = adopt_serialize(u, n, &now, buf, sizeof buf);
        assert_true(l > 0);
        assert_int_equal((size_t) l, strlen(buf));
        /* Manager section empty, then each unit as systemd 252/257 reads it. */
        const char *web = "web.service\nstate=running\nmain-pid=812\ncgroup=/system.slice/web.service\n"
                          "cgroup-realized=yes\ninvocation-id=" ID1 "\n"
                          /* started 55 s before now, in both clocks */
                          "active-enter-timestamp=1699999945000000 5000000\n"
                          "watchdog-timestamp=1700000000000000 60000000\n\n";
        assert_int_equal(buf[0], '\n');
        assert_non_null(strstr(buf, "\nsystem.slice\nstate=active\n"));
        assert_non_null(strstr(buf, web));
        assert_null(strstr(buf, "cron.service"));
        /* journald's watchdog is off: its notify socket died with PID 1. */
        const char *j = strstr(buf, "systemd-journald.service\n");
        assert_non_null(j);
        assert_non_null(strstr(j, "watchdog-override-usec=0\n"));
        assert_null(strstr(buf, "web.service\nstate=running\nmain-pid=812\ncgroup=/system.slice/web.service\n"
                                "cgroup-realized=yes\ninvocation-id=" ID1 "\nactive-enter-timestamp=1699999945000000 "
                                "5000000\nwatchdog-timestamp=1700000000000000 60000000\nwatchdog-override"));
        assert_true(adopt_cgroup_adopted(u, n, "/system.slice/web.service"));
        assert_true(adopt_cgroup_adopted(u, n, "/system.slice/web.service/sub"));
        assert_false(adopt_cgroup_adopted(u, n, "/system.slice/web.service2"));
        assert_false(adopt_cgroup_adopted(u, n, "/system.slice/cron.service"));
        assert_false(adopt_cgroup_adopted(u, n, "/system.slice")); /* slices are not spared */
}

/* Nothing is trusted from a malformed discovery. */
static void test_parse_rejects(void **state) {
        static struct adopt_unit u[4];
        size_t n = 99;
        unsigned bad;
        static const char *const wrong[] = {
                "service web.service /system.slice/web.service 1 0 " ID1,       /* PID 1 */
                "service web.service /system.slice/web.service 0 0 " ID1,       /* no pid */
                "service web.service /system.slice/web.service -5 0 " ID1,
                "service web.service /system.slice/web.service 99999999999 0 " ID1,
                "service web.service /system.slice/other.service 812 0 " ID1,   /* cgroup of another unit */
                "service web.service /system.slice/xweb.service 812 0 " ID1,
                "service web.service system.slice/web.service 812 0 " ID1,      /* relative */
                "service web.service /system.slice/web.service 812 0 0123",     /* short id */
                "service web.service /system.slice/web.service 812 0 " ID1 " extra",
                "service web.slice /system.slice/web.slice 812 0 " ID1,
                "service a/b.service /system.slice/a/b.service 812 0 " ID1,
                "service web.service /system.slice/web.service 812 12x " ID1,
                "slice system.slice",
                "target multi-user.target",
        };
        (void) state;

        for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
                char text[512];
                snprintf(text, sizeof text, "slice system.slice /system.slice\n%s\n", wrong[i]);
                assert_int_equal(adopt_parse(text, u, 4, &n, &bad), -EINVAL);
                assert_int_equal(bad, 2);
                assert_int_equal(n, 0);
        }
        assert_int_equal(adopt_parse("slice a.slice /a.slice\nslice b.slice /b.slice\n", u, 1, &n, &bad), -E2BIG);
        assert_int_equal(adopt_parse("", u, 4, &n, &bad), 0);
        assert_int_equal(n, 0);
}

static void test_serialize_bounds(void **state) {
        static struct adopt_unit u[1];
        static char buf[64];
        struct adopt_clock now = { 1, 1 };
        size_t n;
        unsigned bad;
        (void) state;

        assert_int_equal(adopt_parse("service web.service /system.slice/web.service 812 0 " ID1 "\n", u, 1, &n, &bad),
                         0);
        assert_int_equal(adopt_serialize(u, 1, &now, buf, sizeof buf), -ENOBUFS);
        assert_string_equal(buf, "");
        u[0].main_pid = 0;
        assert_int_equal(adopt_serialize(u, 1, &now, buf, sizeof buf), -EINVAL);
        /* A start time after "now" (clock skew) is clamped to now. */
        static char big[1024];
        u[0].main_pid = 812;
        u[0].start_mono_usec = 99;
        assert_true(adopt_serialize(u, 1, &(struct adopt_clock){ 1000, 50 }, big, sizeof big) > 0);
        assert_non_null(strstr(big, "active-enter-timestamp=1000 50\n"));
}

static void test_versions(void **state) {
        (void) state;
        assert_true(adopt_version_supported(252));
        assert_true(adopt_version_supported(257));
        assert_false(adopt_version_supported(254));
        assert_false(adopt_version_supported(258));
        assert_false(adopt_version_supported(0));
}

static void test_parse_stat(void **state) {
        char st;
        long ppid;
        unsigned long long start;
        const char *text = "812 (we b) S 1 812 812 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 50\n";
        (void) state;

        assert_int_equal(adopt_parse_stat(text, &st, &ppid, &start), 0);
        assert_int_equal(st, 'S');
        assert_int_equal(ppid, 1);
        assert_int_equal(start, 4242);
        assert_int_equal(adopt_parse_stat("812 (x) S 1 2 3\n", &st, &ppid, &start), -EINVAL);
        assert_int_equal(adopt_parse_stat("garbage", &st, &ppid, &start), -EINVAL);
}

/* Our own process is no child of PID 1 (in this test): never picked. */
static void test_pick_main_pid(void **state) {
        pid_t self = getpid(), gone = 0x7ffffff0;
        unsigned long long start;
        const char *why = NULL;
        (void) state;

        if (getppid() != 1) {
                assert_int_equal(adopt_pick_main_pid(&self, 1, &start, &why), -ESRCH);
                assert_string_equal(why, "no process of the unit is a child of PID 1");
        }
        assert_int_equal(adopt_pick_main_pid(&gone, 1, &start, &why), -ESRCH);
        assert_string_equal(why, "no live process in the unit's own cgroup");
}

/* A fake cgroup tree: a service whose only process is not PID 1's child is
 * skipped with its reason, an empty one too; the slices are listed. */
static void test_discover_tree(void **state) {
        char root[] = "/tmp/test_adopt.XXXXXX", path[256], out[2048];
        (void) state;

        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof path, "%s/cgroup.controllers", root);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(path, sizeof path, "%s/system.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/system.slice/empty.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/system.slice/empty.service/cgroup.procs", root);
        assert_non_null(f = fopen(path, "w"));
        fclose(f);
        snprintf(path, sizeof path, "%s/system.slice/system-getty.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/system.slice/system-getty.slice/getty@tty1.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        /* An id on the cgroup, if this file system takes user xattrs. */
        bool has_xattr = setxattr(path, "user.invocation_id", ID1, 32, 0) == 0;
        snprintf(path, sizeof path, "%s/system.slice/system-getty.slice/getty@tty1.service/cgroup.procs", root);
        assert_non_null(f = fopen(path, "w"));
        fprintf(f, "%d\n", (int) getpid());
        fclose(f);

        assert_true(adopt_discover(root, out, sizeof out) > 0);
        assert_non_null(strstr(out, "slice system.slice /system.slice\n"));
        assert_non_null(strstr(out, "slice system-getty.slice /system.slice/system-getty.slice\n"));
        assert_non_null(strstr(out, "skip empty.service no process in the unit's own cgroup\n"));
        if (getppid() != 1)
                assert_non_null(strstr(out, has_xattr ? "skip getty@tty1.service no process of the unit is a child of PID 1\n"
                                                      : "skip getty@tty1.service no invocation id on its cgroup\n"));
        assert_null(strstr(out, "\nservice "));
        assert_int_equal(adopt_discover(root, out, 8), -ENOBUFS);
        snprintf(path, sizeof path, "rm -rf %s", root);
        assert_int_equal(system(path), 0);
        /* Not cgroup v2: refused. */
        assert_int_equal(adopt_discover("/nonexistent", out, sizeof out), -EOPNOTSUPP);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_serialize), cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_serialize_bounds),    cmocka_unit_test(test_versions),
                cmocka_unit_test(test_parse_stat),          cmocka_unit_test(test_pick_main_pid),
                cmocka_unit_test(test_discover_tree),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
