/* Zero-restart recovery: the synthesized --deserialize text and discovery
 * (shim/versions/serialize.c, discover.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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
        int l = adopt_serialize(u, n, &now, -1, buf, sizeof buf);
        assert_true(l > 0);
        assert_int_equal((size_t) l, strlen(buf));
        /* Manager section empty, then each unit as systemd 252/257 reads it. */
        const char *web = "web.service\nstate=running\nmain-pid=812\ncgroup=/system.slice/web.service\n"
                          "cgroup-realized=yes\ninvocation-id=" ID1 "\nexported-invocation-id=yes\n"
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
                                "cgroup-realized=yes\ninvocation-id=" ID1 "\nexported-invocation-id=yes\nactive-enter-timestamp=1699999945000000 "
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
                "service web.service /system.slice/web.service 812 0 " ID1 " a=1 b=2 c=3 d=4",
                /* PrivateTmp= directories: both, under /tmp and /var/tmp, systemd's names */
                "service web.service /system.slice/web.service 812 0 " ID1 " tmp=/tmp/systemd-private-b-web.service-x",
                "service web.service /system.slice/web.service 812 0 " ID1 " tmp=/etc var-tmp=/var/tmp/systemd-private-b-web.service-y",
                "service web.service /system.slice/web.service 812 0 " ID1
                " tmp=/tmp/systemd-private-b-web.service-x var-tmp=/var/tmp/other",
                "service web.service /system.slice/web.service 812 0 " ID1
                " tmp=/tmp/systemd-private-../x var-tmp=/var/tmp/systemd-private-b-web.service-y",
                "service web.service /system.slice/web.service 812 0 " ID1
                " tmp=/tmp/systemd-private-b-web.service-x/tmp var-tmp=/var/tmp/systemd-private-b-web.service-y",
                "service web.service /system.slice/web.service 812 0 " ID1
                " var-tmp=/var/tmp/systemd-private-b-web.service-y tmp=/tmp/systemd-private-b-web.service-x tmp=/tmp/systemd-private-b-web.service-x",
                "service web.service /system.slice/web.service 812 0 " ID1 " watchdog-usec=0",
                "service web.service /system.slice/web.service 812 0 " ID1 " watchdog-usec=5x",
                "service web.service /system.slice/web.service 812 0 " ID1 " watchdog-usec=5 watchdog-usec=6",
                "service web.service /system.slice/web.service 812 0 " ID1 " other=1",
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

/* A PrivateTmp= service: its directories become the manager section's
 * exec-runtime line, as execute.c exec_shared_runtime_deserialize_one reads it. */
static void test_serialize_private_tmp(void **state) {
        static struct adopt_unit u[4];
        static char buf[2048];
        struct adopt_clock now = { 1700000000000000ULL, 60000000 };
        size_t n;
        unsigned bad;
        (void) state;

        assert_int_equal(adopt_parse("slice system.slice /system.slice\n"
                                     "service a.service /system.slice/a.service 900 1000 " ID1
                                     " tmp=/tmp/systemd-private-" ID2 "-a.service-AbCdEf var-tmp=/var/tmp/systemd-private-" ID2
                                     "-a.service-GhIjKl\n"
                                     "service b.service /system.slice/b.service 901 1000 " ID2 " watchdog-usec=6000000\n",
                                     u, 4, &n, &bad),
                         0);
        assert_int_equal(n, 3);
        assert_true(adopt_serialize(u, n, &now, -1, buf, sizeof buf) > 0);
        assert_true(strncmp(buf,
                            "exec-runtime=a.service tmp-dir=/tmp/systemd-private-" ID2
                            "-a.service-AbCdEf var-tmp-dir=/var/tmp/systemd-private-" ID2 "-a.service-GhIjKl\n\n",
                            strlen("exec-runtime=a.service tmp-dir=/tmp/systemd-private-" ID2
                                   "-a.service-AbCdEf var-tmp-dir=/var/tmp/systemd-private-" ID2
                                   "-a.service-GhIjKl\n\n")) == 0);
        assert_null(strstr(buf, "exec-runtime=b.service"));
        assert_null(strstr(buf, "notify-fd="));
        /* With the notify socket rescue mode bound: in the manager section. */
        assert_true(adopt_serialize(u, n, &now, 7, buf, sizeof buf) > 0);
        const char *blank = strstr(buf, "\n\n");
        const char *nfd = strstr(buf, "notify-fd=7\nnotify-socket=/run/systemd/notify\n");
        assert_non_null(nfd);
        assert_non_null(blank);
        assert_true(nfd < blank);
        /* The watchdog's period, as 257 needs it to arm the watchdog at all;
         * none for a service without. */
        const char *b = strstr(buf, "\nb.service\n");
        assert_non_null(b);
        assert_non_null(strstr(b, "watchdog-original-usec=6000000\n"));
        assert_null(strstr(buf, "watchdog-original-usec=0"));
        assert_ptr_equal(strstr(buf, "watchdog-original-usec"), strstr(b, "watchdog-original-usec"));
}

/* The PrivateTmp= directory is found by the inode the process sees, and
 * only if exactly one matches. */
static void test_find_private(void **state) {
        char root[] = "/tmp/test_adopt_private.XXXXXX", path[512], out[256];
        struct stat seen, other;
        (void) state;

        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof path, "%s/systemd-private-" ID1 "-a.service-AAAAAA", root);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof path, "%s/systemd-private-" ID1 "-a.service-AAAAAA/tmp", root);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(stat(path, &seen), 0);
        /* Another unit's, whose name ends like this one's. */
        snprintf(path, sizeof path, "%s/systemd-private-" ID1 "-b-a.service-BBBBBB", root);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof path, "%s/systemd-private-" ID1 "-b-a.service-BBBBBB/tmp", root);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(stat(path, &other), 0);

        assert_int_equal(adopt_find_private(root, "a.service", &seen, out, sizeof out), 0);
        snprintf(path, sizeof path, "%s/systemd-private-" ID1 "-a.service-AAAAAA", root);
        assert_string_equal(out, path);
        /* The other directory is b-a.service's: not a.service's, although
         * its name ends in "-a.service-BBBBBB". */
        assert_int_equal(adopt_find_private(root, "a.service", &other, out, sizeof out), -ENOENT);
        assert_int_equal(adopt_find_private(root, "b-a.service", &other, out, sizeof out), 0);
        assert_int_equal(adopt_find_private(root, "b.service", &seen, out, sizeof out), -ENOENT);
        assert_int_equal(adopt_find_private(root, "a.service", &seen, out, 8), -ENOENT);
        assert_int_equal(adopt_find_private("/nonexistent", "a.service", &seen, out, sizeof out), -ENOENT);
        snprintf(path, sizeof path, "rm -rf %s", root);
        assert_int_equal(system(path), 0);
}

static void test_environ_watchdog(void **state) {
        static const char env[] = "PATH=/bin\0WATCHDOG_PID=5\0WATCHDOG_USEC=6000000\0HOME=/";
        (void) state;

        assert_int_equal(adopt_environ_watchdog_usec(env, sizeof env), 6000000);
        assert_int_equal(adopt_environ_watchdog_usec(env, 10), 0);
        /* cut inside the value: not sure, none */
        assert_int_equal(adopt_environ_watchdog_usec(env, 10 + 15 + 16), 0);
        assert_int_equal(adopt_environ_watchdog_usec("WATCHDOG_USEC=\0", 16), 0);
        assert_int_equal(adopt_environ_watchdog_usec("WATCHDOG_USEC=12a\0", 19), 0);
        assert_int_equal(adopt_environ_watchdog_usec("XWATCHDOG_USEC=12\0", 18), 0);
        assert_int_equal(adopt_environ_watchdog_usec("", 0), 0);
}

static void test_deserialize_fd_arg(void **state) {
        static const char two[] = "/usr/lib/systemd/systemd\0--system\0--deserialize\0" "27\0";
        static const char one[] = "/usr/lib/systemd/systemd\0--deserialize=9\0--system\0";
        (void) state;

        assert_int_equal(adopt_deserialize_fd_arg(two, sizeof two - 1), 27);
        assert_int_equal(adopt_deserialize_fd_arg(one, sizeof one - 1), 9);
        assert_int_equal(adopt_deserialize_fd_arg("/sbin/init\0splash\0", 18), -ENOENT);
        assert_int_equal(adopt_deserialize_fd_arg("systemd\0--deserialize\0", 22), -ENOENT);
        assert_int_equal(adopt_deserialize_fd_arg("systemd\0--deserialize\0x1\0", 25), -EINVAL);
        /* cut inside the number: not trusted */
        assert_int_equal(adopt_deserialize_fd_arg(two, sizeof two - 2), -ENOENT);
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
        assert_int_equal(adopt_serialize(u, 1, &now, -1, buf, sizeof buf), -ENOBUFS);
        assert_string_equal(buf, "");
        u[0].main_pid = 0;
        assert_int_equal(adopt_serialize(u, 1, &now, -1, buf, sizeof buf), -EINVAL);
        /* A start time after "now" (clock skew) is clamped to now. */
        static char big[1024];
        u[0].main_pid = 812;
        u[0].start_mono_usec = 99;
        assert_true(adopt_serialize(u, 1, &(struct adopt_clock){ 1000, 50 }, -1, big, sizeof big) > 0);
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
        assert_string_equal(why, "no live process in the unit's cgroup");
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

        /* A unit that was not active at the crash: an id and a process in its
         * cgroup, but no invocation link (systemd removed it at the stop). */
        snprintf(path, sizeof path, "%s/system.slice/stopped.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        if (has_xattr)
                assert_int_equal(setxattr(path, "user.invocation_id", ID1, 32, 0), 0);
        snprintf(path, sizeof path, "%s/system.slice/stopped.service/cgroup.procs", root);
        assert_non_null(f = fopen(path, "w"));
        fprintf(f, "%d\n", (int) getpid());
        fclose(f);
        char units[300];
        snprintf(units, sizeof units, "%s/units", root);
        assert_int_equal(mkdir(units, 0755), 0);
        snprintf(path, sizeof path, "%s/invocation:getty@tty1.service", units);
        assert_int_equal(symlink(ID1, path), 0);

        assert_true(adopt_discover(root, units, out, sizeof out) > 0);
        if (has_xattr)
                assert_non_null(strstr(out, "skip stopped.service not active at the crash (no invocation link in /run/systemd/units)\n"));
        assert_non_null(strstr(out, "slice system.slice /system.slice\n"));
        assert_non_null(strstr(out, "slice system-getty.slice /system.slice/system-getty.slice\n"));
        assert_non_null(strstr(out, "skip empty.service no process in the unit's cgroup or its sub-cgroups\n"));
        if (getppid() != 1)
                assert_non_null(strstr(out, has_xattr ? "skip getty@tty1.service no process of the unit is a child of PID 1\n"
                                                      : "skip getty@tty1.service no invocation id on its cgroup\n"));
        assert_null(strstr(out, "\nservice "));
        assert_int_equal(adopt_discover(root, units, out, 8), -ENOBUFS);
        snprintf(path, sizeof path, "rm -rf %s", root);
        assert_int_equal(system(path), 0);
        /* Not cgroup v2: refused. */
        assert_int_equal(adopt_discover("/nonexistent", units, out, sizeof out), -EOPNOTSUPP);
}

static void put_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

/* Some live process whose parent is PID 1 (a candidate main PID), or 0. */
static pid_t child_of_pid1(void) {
        DIR *dp = opendir("/proc");
        struct dirent *e;
        pid_t found = 0;

        assert_non_null(dp);
        while (!found && (e = readdir(dp))) {
                char path[64], text[1024], st;
                long ppid;
                unsigned long long start;
                int fd;
                ssize_t l;
                if (e->d_name[0] < '1' || e->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
                if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                        continue;
                l = read(fd, text, sizeof text - 1);
                close(fd);
                if (l <= 0)
                        continue;
                text[l] = '\0';
                if (adopt_parse_stat(text, &st, &ppid, &start) == 0 && ppid == 1 && st != 'Z')
                        found = (pid_t) atoi(e->d_name);
        }
        closedir(dp);
        return found;
}

/* A delegated subtree (252's and 257's udevd: its processes in
 * systemd-udevd.service/udev, none in the unit's own cgroup): the
 * sub-cgroups are read, the main PID is taken from them, and the line names
 * the unit's own cgroup; a subtree too large is refused. */
static void test_discover_subcgroup(void **state) {
        char root[] = "/tmp/test_adopt.XXXXXX", path[256], units[300], out[2048], line[256], pidline[32];
        pid_t main_pid = child_of_pid1();
        (void) state;

        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof path, "%s/cgroup.controllers", root);
        put_file(path, "");
        snprintf(path, sizeof path, "%s/system.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(units, sizeof units, "%s/units", root);
        assert_int_equal(mkdir(units, 0755), 0);

        /* udevd: own cgroup empty, main process (and a worker) in udev/. */
        snprintf(path, sizeof path, "%s/system.slice/systemd-udevd.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        bool has_xattr = setxattr(path, "user.invocation_id", ID1, 32, 0) == 0;
        snprintf(path, sizeof path, "%s/system.slice/systemd-udevd.service/cgroup.procs", root);
        put_file(path, "");
        snprintf(path, sizeof path, "%s/system.slice/systemd-udevd.service/udev", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/system.slice/systemd-udevd.service/udev/cgroup.procs", root);
        snprintf(pidline, sizeof pidline, "%d\n%d\n", (int) (main_pid ? main_pid : getpid()), (int) getpid());
        put_file(path, pidline);
        snprintf(path, sizeof path, "%s/invocation:systemd-udevd.service", units);
        assert_int_equal(symlink(ID1, path), 0);

        /* A subtree deeper than discovery looks: refused. */
        snprintf(path, sizeof path, "%s/system.slice/deep.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        for (int i = 0; i < 4; i++) {
                size_t k = strlen(path);
                snprintf(path + k, sizeof path - k, "/d");
                assert_int_equal(mkdir(path, 0755), 0);
        }
        snprintf(path, sizeof path, "%s/system.slice/deep.service", root);
        for (int i = 0; i <= 4; i++) {
                char procs[300];
                snprintf(procs, sizeof procs, "%s/cgroup.procs", path);
                put_file(procs, "");
                size_t k = strlen(path);
                snprintf(path + k, sizeof path - k, "/d");
        }

        assert_true(adopt_discover(root, units, out, sizeof out) > 0);
        assert_non_null(strstr(out, "skip deep.service too many processes or sub-cgroups to be sure\n"));
        if (!has_xattr) {
                assert_non_null(strstr(out, "skip systemd-udevd.service no invocation id on its cgroup\n"));
        } else if (main_pid) {
                /* service NAME CGROUP MAIN_PID ...: the unit's own cgroup */
                snprintf(line, sizeof line, "service systemd-udevd.service /system.slice/systemd-udevd.service %d ",
                         (int) main_pid);
                assert_non_null(strstr(out, line));
                size_t units_n = 0;
                unsigned bad = 0;
                static struct adopt_unit u[8];
                assert_int_equal(adopt_parse(out, u, 8, &units_n, &bad), 0);
                bool seen = false;
                for (size_t i = 0; i < units_n; i++)
                        if (strcmp(u[i].name, "systemd-udevd.service") == 0) {
                                seen = true;
                                assert_string_equal(u[i].cgroup, "/system.slice/systemd-udevd.service");
                                assert_int_equal(u[i].main_pid, main_pid);
                        }
                assert_true(seen);
        } else {
                /* No child of PID 1 here: the sub-cgroup was still read. */
                assert_non_null(strstr(out, "skip systemd-udevd.service no process of the unit is a child of PID 1\n"));
                print_message("no child of PID 1 found: the positive half was not run\n");
        }
        snprintf(path, sizeof path, "rm -rf %s", root);
        assert_int_equal(system(path), 0);
}

/* A stand-in for journald: a datagram socket connected once to the notify
 * socket (and an unconnected one beside it), sending on command. */
static int child_cmd(int to, int from, char cmd) {
        int e = -1;
        assert_int_equal(write(to, &cmd, 1), 1);
        assert_int_equal(read(from, &e, sizeof e), (ssize_t) sizeof e);
        return e;
}

static int bind_dgram(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        assert_true(fd >= 0);
        strcpy(sa.sun_path, path);
        unlink(path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        return fd;
}

static bool got_watchdog(int fd) {
        char buf[64];
        ssize_t l = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        return l == 10 && memcmp(buf, "WATCHDOG=1", 10) == 0;
}

/* The crashed systemd's notify socket is gone; after the reconnect the
 * stand-in's very socket sends to the new one: before its first failed
 * send (its peer still names the path) and after (no peer at all). */
static void test_reconnect_notify(void **state) {
        char dir[] = "/tmp/test_adopt.XXXXXX", path[108];
        int down[2], up[2], old_fd, new_fd;
        pid_t pid;
        (void) state;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/notify", dir);
        old_fd = bind_dgram(path);
        assert_int_equal(pipe(down), 0);
        assert_int_equal(pipe(up), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                int extra = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                char c;
                close(down[1]);
                close(up[0]);
                close(old_fd); /* the crash must end it */
                strcpy(sa.sun_path, path);
                if (fd < 0 || extra < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                        _exit(1);
                while (read(down[0], &c, 1) == 1) {
                        int e = 0;
                        if (c == 's')
                                e = send(fd, "WATCHDOG=1", 10, MSG_DONTWAIT) < 0 ? errno : 0;
                        else if (c == 'c')
                                close(extra);
                        else
                                _exit(0);
                        if (write(up[1], &e, sizeof e) != sizeof e)
                                _exit(1);
                }
                _exit(0);
        }
        close(down[0]);
        close(up[1]);
        assert_int_equal(child_cmd(down[1], up[0], 's'), 0);
        assert_true(got_watchdog(old_fd));
        /* The crash: the socket dies; rescue mode binds a new one there. */
        close(old_fd);
        new_fd = bind_dgram(path);
        int r = adopt_reconnect_notify(pid, 0, path);
        if (r == -ENOSYS || r == -EPERM) {
                print_message("pidfd_getfd unavailable (%s): not tested\n", strerror(-r));
                goto out;
        }
        /* Not that process (another start time): untouched. */
        assert_int_equal(adopt_reconnect_notify(pid, 1, path), -ESRCH);
        /* Peer named by the path: chosen over the unconnected one. */
        assert_int_equal(r, 0);
        assert_int_equal(child_cmd(down[1], up[0], 's'), 0);
        assert_true(got_watchdog(new_fd));

        /* A second crash, and the stand-in's failed sends disconnect it. */
        close(new_fd);
        unlink(path);
        assert_int_equal(child_cmd(down[1], up[0], 's'), ECONNREFUSED);
        assert_int_equal(child_cmd(down[1], up[0], 's'), ENOTCONN);
        new_fd = bind_dgram(path);
        /* Two sockets without a peer: not sure which, none touched. */
        assert_int_equal(adopt_reconnect_notify(pid, 0, path), -EEXIST);
        assert_int_equal(child_cmd(down[1], up[0], 's'), ENOTCONN);
        assert_int_equal(child_cmd(down[1], up[0], 'c'), 0);
        assert_int_equal(adopt_reconnect_notify(pid, 0, path), 0);
        assert_int_equal(child_cmd(down[1], up[0], 's'), 0);
        assert_true(got_watchdog(new_fd));
        /* Nothing of the kind in a process without such a socket. */
        assert_int_equal(adopt_reconnect_notify(getpid(), 0, path), -ENOENT);
out:
        close(down[1]);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        close(new_fd);
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_serialize), cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_serialize_bounds),    cmocka_unit_test(test_versions),
                cmocka_unit_test(test_parse_stat),          cmocka_unit_test(test_pick_main_pid),
                cmocka_unit_test(test_discover_tree),       cmocka_unit_test(test_serialize_private_tmp),
                cmocka_unit_test(test_find_private),        cmocka_unit_test(test_environ_watchdog),
                cmocka_unit_test(test_deserialize_fd_arg),  cmocka_unit_test(test_discover_subcgroup),
                cmocka_unit_test(test_reconnect_notify),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
