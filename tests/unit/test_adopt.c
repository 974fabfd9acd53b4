/* Zero-restart recovery: the synthesized --deserialize text, discovery
 * (shim/versions/serialize.c, discover.c) and journald's notify socket
 * reconnected (init/notify.c). */
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
#include <time.h>
#include <unistd.h>

#include "versions/discover.h"
#include "versions/serialize.h"
#include "versions/sockets.h"
#include "ptrace/sockets.h"
#include "common/util.h"
#include "notify.h"
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>

static const char *const no_dirs[] = { NULL };

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

static unsigned long long boottime_usec(void) {
        struct timespec ts;
        assert_int_equal(clock_gettime(CLOCK_BOOTTIME, &ts), 0);
        return (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000ULL;
}

/* A child forked now started now, to the clock tick /proc counts in (the
 * kernel's count is CLOCK_BOOTTIME's, the same as CLOCK_MONOTONIC's on a
 * machine never suspended); a process that is gone has no start time. */
static void test_process_start_usec(void **state) {
        unsigned long long before, after, child, self, tick = 1000000ULL / (unsigned long long) sysconf(_SC_CLK_TCK);
        pid_t gone = 0x7ffffff0, pid;
        int hold[2];
        char c;
        (void) state;

        assert_int_equal(pipe(hold), 0);
        before = boottime_usec();
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(hold[1]);
                _exit(read(hold[0], &c, 1) == 0 ? 0 : 1);
        }
        close(hold[0]);
        assert_int_equal(adopt_process_start_usec(pid, &child), 0);
        after = boottime_usec();
        assert_true(child + tick >= before);
        assert_true(child <= after);
        close(hold[1]);
        assert_int_equal(waitpid(pid, NULL, 0), pid);

        assert_int_equal(adopt_process_start_usec(getpid(), &self), 0);
        assert_true(self > 0);
        assert_true(self <= child);
        assert_int_equal(adopt_process_start_usec(gone, &self), -ESRCH);
}

static void put_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

/* A stand-in cgroup v2 root (mkdtemp'd root): cgroup.controllers,
 * system.slice, and the invocation links' directory into units (n bytes). */
static void fake_cgroup_root(char *root, char *units, size_t n) {
        char path[512];

        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof path, "%s/cgroup.controllers", root);
        put_file(path, "");
        snprintf(path, sizeof path, "%s/system.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(units, n, "%s/units", root);
        assert_int_equal(mkdir(units, 0755), 0);
}

/* A fake cgroup tree: a service whose only process is not PID 1's child is
 * skipped with its reason, an empty one too; the slices are listed. */
static void test_discover_tree(void **state) {
        char root[] = "/tmp/test_adopt.XXXXXX", path[256], out[2048], self[32];
        (void) state;

        snprintf(self, sizeof self, "%d\n", (int) getpid());
        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof path, "%s/cgroup.controllers", root);
        put_file(path, "");
        snprintf(path, sizeof path, "%s/system.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/system.slice/empty.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/system.slice/empty.service/cgroup.procs", root);
        put_file(path, "");
        snprintf(path, sizeof path, "%s/system.slice/system-getty.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/system.slice/system-getty.slice/getty@tty1.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        /* An id on the cgroup, if this file system takes user xattrs. */
        bool has_xattr = setxattr(path, "user.invocation_id", ID1, 32, 0) == 0;
        snprintf(path, sizeof path, "%s/system.slice/system-getty.slice/getty@tty1.service/cgroup.procs", root);
        put_file(path, self);

        /* A unit that was not active at the crash: an id and a process in its
         * cgroup, but no invocation link (systemd removed it at the stop). */
        snprintf(path, sizeof path, "%s/system.slice/stopped.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        if (has_xattr)
                assert_int_equal(setxattr(path, "user.invocation_id", ID1, 32, 0), 0);
        snprintf(path, sizeof path, "%s/system.slice/stopped.service/cgroup.procs", root);
        put_file(path, self);
        char units[300];
        snprintf(units, sizeof units, "%s/units", root);
        assert_int_equal(mkdir(units, 0755), 0);
        snprintf(path, sizeof path, "%s/invocation:getty@tty1.service", units);
        assert_int_equal(symlink(ID1, path), 0);

        assert_true(adopt_discover(root, units, no_dirs, NULL, 0, out, sizeof out) > 0);
        if (has_xattr)
                assert_non_null(strstr(out, "skip stopped.service not active at the crash (no invocation link in /run/systemd/units)\n"));
        assert_non_null(strstr(out, "slice system.slice /system.slice\n"));
        assert_non_null(strstr(out, "slice system-getty.slice /system.slice/system-getty.slice\n"));
        assert_non_null(strstr(out, "skip empty.service no process in the unit's cgroup or its sub-cgroups\n"));
        if (getppid() != 1)
                assert_non_null(strstr(out, has_xattr ? "skip getty@tty1.service no process of the unit is a child of PID 1\n"
                                                      : "skip getty@tty1.service no invocation id on its cgroup\n"));
        assert_null(strstr(out, "\nservice "));
        assert_int_equal(adopt_discover(root, units, no_dirs, NULL, 0, out, 8), -ENOBUFS);
        snprintf(path, sizeof path, "rm -rf %s", root);
        assert_int_equal(system(path), 0);
        /* Not cgroup v2: refused. */
        assert_int_equal(adopt_discover("/nonexistent", units, no_dirs, NULL, 0, out, sizeof out), -EOPNOTSUPP);
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

        fake_cgroup_root(root, units, sizeof units);

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

        assert_true(adopt_discover(root, units, no_dirs, NULL, 0, out, sizeof out) > 0);
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

/* ---- socket units (versions/sockets.c, ptrace/sockets.c) ---------------------- */

static int listen_unix(int type, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t l = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + (path[0] != '@'));
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        memcpy(sa.sun_path, path, strlen(path));
        if (path[0] == '@')
                sa.sun_path[0] = '\0';
        unlink(path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, l), 0);
        if (type != SOCK_DGRAM)
                assert_int_equal(listen(fd, 4), 0);
        return fd;
}

/* A TCP socket listening on 127.0.0.1, its "127.0.0.1:PORT" into address. */
static int listen_tcp(char *address, size_t n) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &l), 0);
        snprintf(address, n, "127.0.0.1:%u", ntohs(sa.sin_port));
        return fd;
}

static void test_socket_is_listening(void **state) {
        (void) state;
        assert_true(pid1_socket_is_listening(AF_UNIX, SOCK_STREAM, true, true, false));
        assert_false(pid1_socket_is_listening(AF_UNIX, SOCK_STREAM, false, true, true)); /* a connection */
        assert_true(pid1_socket_is_listening(AF_INET6, SOCK_SEQPACKET, true, true, false));
        assert_true(pid1_socket_is_listening(AF_UNIX, SOCK_DGRAM, false, true, false)); /* /dev/log */
        assert_false(pid1_socket_is_listening(AF_UNIX, SOCK_DGRAM, false, false, true)); /* a client's */
        assert_false(pid1_socket_is_listening(AF_UNIX, SOCK_DGRAM, false, true, true));
        assert_true(pid1_socket_is_listening(AF_NETLINK, SOCK_RAW, false, false, false));
        assert_false(pid1_socket_is_listening(AF_PACKET, SOCK_RAW, false, true, false));
}

static void test_port_parse(void **state) {
        struct adopt_port p;
        (void) state;

        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, "/run/dbus/system_bus_socket", &p), 0);
        assert_string_equal(p.address, "/run/dbus/system_bus_socket");
        assert_int_equal(p.fd, -1);
        assert_int_equal(adopt_port_parse(ADOPT_PORT_DGRAM, "@abstract", &p), 0);
        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, "22", &p), 0);
        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, "127.0.0.1:7777", &p), 0);
        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, "[::1]:7777", &p), 0);
        assert_int_equal(adopt_port_parse(ADOPT_PORT_NETLINK, "kobject-uevent 1", &p), 0);
        assert_int_equal(adopt_port_parse(ADOPT_PORT_NETLINK, "audit", &p), 0);
        const char *bad[] = { "", "%t/x.sock", "0", "65536", "1.2.3:80", "[::1:80", "[::1%eth0]:80", "vsock:2:80",
                              "host.example:80", "/a path", "127.0.0.1:0", NULL };
        for (size_t i = 0; bad[i]; i++)
                assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, bad[i], &p), -EINVAL);
        assert_int_equal(adopt_port_parse(ADOPT_PORT_NETLINK, "nosuch 1", &p), -EINVAL);
        assert_int_equal(adopt_port_parse(ADOPT_PORT_NETLINK, "route x", &p), -EINVAL);
}

static void test_port_matches(void **state) {
        char dir[] = "/tmp/test_adopt_ports.XXXXXX", path[256], tcp[64];
        struct adopt_port p;
        (void) state;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/s.sock", dir);
        int stream = listen_unix(SOCK_STREAM, path);
        int dgram = listen_unix(SOCK_DGRAM, "@initshim-test-adopt-ports");
        int inet = listen_tcp(tcp, sizeof tcp);

        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, path, &p), 0);
        assert_true(adopt_port_matches(stream, &p));
        assert_false(adopt_port_matches(dgram, &p));
        assert_false(adopt_port_matches(inet, &p));
        assert_int_equal(adopt_port_parse(ADOPT_PORT_SEQPACKET, path, &p), 0);
        assert_false(adopt_port_matches(stream, &p)); /* the type counts */
        assert_int_equal(adopt_port_parse(ADOPT_PORT_DGRAM, "@initshim-test-adopt-ports", &p), 0);
        assert_true(adopt_port_matches(dgram, &p));
        assert_int_equal(adopt_port_parse(ADOPT_PORT_DGRAM, "@initshim-test-adopt-port", &p), 0);
        assert_false(adopt_port_matches(dgram, &p));
        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, tcp, &p), 0);
        assert_true(adopt_port_matches(inet, &p));
        assert_false(adopt_port_matches(stream, &p));
        /* A port alone is the any address, not the loopback one. */
        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, strchr(tcp, ':') + 1, &p), 0);
        assert_false(adopt_port_matches(inet, &p));

        /* A port alone: the any address, IPv4 or IPv6 (systemd's choice). */
        struct sockaddr_in any4 = { .sin_family = AF_INET };
        struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
        socklen_t sl = sizeof any4;
        char value[64];
        int s4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(s4, (struct sockaddr *) &any4, sizeof any4), 0);
        assert_int_equal(listen(s4, 4), 0);
        assert_int_equal(getsockname(s4, (struct sockaddr *) &any4, &sl), 0);
        snprintf(value, sizeof value, "%u", ntohs(any4.sin_port));
        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, value, &p), 0);
        assert_true(adopt_port_matches(s4, &p));
        snprintf(value, sizeof value, "127.0.0.1:%u", ntohs(any4.sin_port));
        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, value, &p), 0);
        assert_false(adopt_port_matches(s4, &p));
        close(s4);
        int s6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sl = sizeof any6;
        if (s6 >= 0 && bind(s6, (struct sockaddr *) &any6, sizeof any6) == 0 && listen(s6, 4) == 0 &&
            getsockname(s6, (struct sockaddr *) &any6, &sl) == 0) {
                snprintf(value, sizeof value, "%u", ntohs(any6.sin6_port));
                assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, value, &p), 0);
                assert_true(adopt_port_matches(s6, &p));
                snprintf(value, sizeof value, "[::]:%u", ntohs(any6.sin6_port));
                assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, value, &p), 0);
                assert_true(adopt_port_matches(s6, &p));
                snprintf(value, sizeof value, "[::1]:%u", ntohs(any6.sin6_port));
                assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, value, &p), 0);
                assert_false(adopt_port_matches(s6, &p));
                snprintf(value, sizeof value, "0.0.0.0:%u", ntohs(any6.sin6_port));
                assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, value, &p), 0);
                assert_false(adopt_port_matches(s6, &p)); /* another family */
        } else {
                print_message("no IPv6 here: its half was not run\n");
        }
        if (s6 >= 0)
                close(s6);

        int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        struct sockaddr_nl snl = { .nl_family = AF_NETLINK, .nl_groups = 1 };
        if (nl >= 0 && bind(nl, (struct sockaddr *) &snl, sizeof snl) == 0) {
                assert_int_equal(adopt_port_parse(ADOPT_PORT_NETLINK, "kobject-uevent 1", &p), 0);
                assert_true(adopt_port_matches(nl, &p));
                assert_int_equal(adopt_port_parse(ADOPT_PORT_NETLINK, "audit 1", &p), 0);
                assert_false(adopt_port_matches(nl, &p));
                assert_int_equal(adopt_port_parse(ADOPT_PORT_NETLINK, "kobject-uevent 2", &p), 0);
                assert_false(adopt_port_matches(nl, &p));
        }
        if (nl >= 0)
                close(nl);
        close(stream), close(dgram), close(inet);
        unlink(path);
        rmdir(dir);
}

/* Two unit directories, high and low priority, under root. */
static void unit_dirs(char *root, char high[256], char low[256], const char *dirs[3]) {
        assert_non_null(mkdtemp(root));
        snprintf(high, 256, "%s/etc", root);
        snprintf(low, 256, "%s/lib", root);
        assert_int_equal(mkdir(high, 0755), 0);
        assert_int_equal(mkdir(low, 0755), 0);
        dirs[0] = high, dirs[1] = low, dirs[2] = NULL;
}

static void put_unit(const char *dir, const char *sub, const char *name, const char *text) {
        char path[512];

        snprintf(path, sizeof path, "%s/%s", dir, sub);
        (void) mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
        put_file(path, text);
}

static void test_read_socket_unit(void **state) {
        char root[] = "/tmp/test_adopt_units.XXXXXX", high[256], low[256], path[512];
        const char *dirs[3];
        static struct socket_unit_spec spec;
        (void) state;

        unit_dirs(root, high, low, dirs);
        put_unit(low, ".", "a-b.socket", "[Unit]\nDescription=x\n[Socket]\nListenStream=/run/x\nListenDatagram=/run/d\n");
        /* The high directory's 10-b.conf hides the low one's; the empty
         * assignment drops the ports before it; prefix and type drop-ins. */
        put_unit(high, "a-b.socket.d", "10-b.conf", "[Socket]\nListenStream=\nListenStream=/run/y\n");
        put_unit(low, "a-b.socket.d", "10-b.conf", "[Socket]\nListenStream=/run/z\n");
        put_unit(low, "a-.socket.d", "20-accept.conf", "[Socket]\nAccept=yes\n");
        put_unit(low, "socket.d", "30-svc.conf", "[Socket]\nService=other.service\n");
        put_unit(low, "a-b.socket.d", "05-early.conf", "[Service]\nListenStream=/not/socket/section\n");
        assert_int_equal(adopt_read_socket_unit(dirs, "a-b.socket", &spec), 0);
        assert_null(spec.unsupported);
        assert_int_equal(spec.n_ports, 1);
        assert_string_equal(spec.ports[0].address, "/run/y");
        assert_int_equal(spec.ports[0].kind, ADOPT_PORT_STREAM);
        assert_true(spec.accept);
        assert_string_equal(spec.service, "other.service");

        put_unit(low, ".", "plain.socket", "[Socket]\nListenSequentialPacket=/run/udev/control\n");
        assert_int_equal(adopt_read_socket_unit(dirs, "plain.socket", &spec), 0);
        assert_string_equal(spec.service, "other.service"); /* socket.d applies to all */
        assert_false(spec.accept);
        put_unit(low, ".", "fifo.socket", "[Socket]\nListenFIFO=/run/f\n");
        assert_int_equal(adopt_read_socket_unit(dirs, "fifo.socket", &spec), 0);
        assert_non_null(spec.unsupported);
        put_unit(low, ".", "cont.socket", "[Socket]\nListenStream=/run/a \\\n /run/b\n");
        assert_int_equal(adopt_read_socket_unit(dirs, "cont.socket", &spec), -EINVAL);
        /* Masked, an alias, absent: not read. */
        snprintf(path, sizeof path, "%s/plain.socket", high);
        assert_int_equal(symlink("/dev/null", path), 0);
        assert_int_equal(adopt_read_socket_unit(dirs, "plain.socket", &spec), -ENOENT);
        snprintf(path, sizeof path, "%s/alias.socket", high);
        snprintf(high, 256, "%s/a-b.socket", low);
        assert_int_equal(symlink(high, path), 0);
        assert_int_equal(adopt_read_socket_unit(dirs, "alias.socket", &spec), -ENOENT);
        assert_int_equal(adopt_read_socket_unit(dirs, "none.socket", &spec), -ENOENT);
        snprintf(path, sizeof path, "rm -rf %s", root);
        assert_int_equal(system(path), 0);
}

static void test_discover_sockets(void **state) {
        char root[] = "/tmp/test_adopt_sockd.XXXXXX", high[256], low[256], p1[300], p2[300], tcp[64], unit[512];
        const char *dirs[3];
        static char out[4096];
        static struct adopt_unit u[8];
        size_t n;
        unsigned bad;
        (void) state;

        unit_dirs(root, high, low, dirs);
        snprintf(p1, sizeof p1, "%s/one.sock", root);
        snprintf(p2, sizeof p2, "%s/two.sock", root);
        int fds[4] = { listen_unix(SOCK_STREAM, p1), listen_unix(SOCK_DGRAM, p2), listen_tcp(tcp, sizeof tcp), -1 };
        fds[3] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); /* matches nothing */
        snprintf(unit, sizeof unit, "[Socket]\nListenStream=%s\nListenDatagram=%s\n", p1, p2);
        put_unit(low, ".", "both.socket", unit);
        snprintf(unit, sizeof unit, "[Socket]\nListenStream=%s\nAccept=yes\n", tcp);
        put_unit(high, ".", "web.socket", unit);
        put_unit(low, ".", "idle.socket", "[Socket]\nListenStream=/run/initshim-test-nothing-here\n");
        snprintf(unit, sizeof unit, "[Socket]\nListenStream=%s\nListenStream=/run/initshim-test-gone\n", p1);
        put_unit(low, ".", "half.socket", unit);
        put_unit(low, ".", "templ@.socket", "[Socket]\nListenStream=/run/x\n");

        struct text_out o = { out, sizeof out, 0, false };
        text_put(&o, "service both.service /system.slice/both.service 42 1 %s\n", ID1);
        assert_int_equal(adopt_discover_sockets(dirs, fds, 4, &o), 0);
        assert_int_equal(o.len, strlen(out));
        char want[512];
        snprintf(want, sizeof want, "socket both.socket running %d stream %s\nsocket both.socket running %d dgram %s\n",
                 fds[0], p1, fds[1], p2);
        assert_non_null(strstr(out, want));
        snprintf(want, sizeof want, "socket web.socket listening %d stream %s\n", fds[2], tcp);
        assert_non_null(strstr(out, want));
        assert_null(strstr(out, "idle.socket"));
        assert_null(strstr(out, "templ"));
        /* half.socket's first port is both.socket's, taken already, or missing: */
        assert_null(strstr(out, "socket half.socket"));

        /* What PID 1 reads back, and the text the new systemd gets. */
        assert_int_equal(adopt_parse(out, u, 8, &n, &bad), 0);
        assert_int_equal(n, 3); /* the service, both.socket, web.socket */
        static char buf[4096];
        struct adopt_clock now = { 1700000000000000ULL, 60000000 };
        assert_true(adopt_serialize(u, n, &now, -1, buf, sizeof buf) > 0);
        snprintf(want, sizeof want, "\nboth.socket\nstate=running\nsocket=%d 1 %s\nsocket=%d 2 %s\n\n", fds[0], p1,
                 fds[1], p2);
        assert_non_null(strstr(buf, want));
        snprintf(want, sizeof want, "\nweb.socket\nstate=listening\nsocket=%d 1 %s\n\n", fds[2], tcp);
        assert_non_null(strstr(buf, want));

        /* Nothing to match against: nothing added. */
        o = (struct text_out) { out, sizeof out, 0, false };
        out[0] = '\0';
        assert_int_equal(adopt_discover_sockets(dirs, NULL, 0, &o), 0);
        assert_int_equal(o.len, 0);
        o = (struct text_out) { out, 16, 0, false };
        assert_int_equal(adopt_discover_sockets(dirs, fds, 4, &o), -ENOBUFS);
        for (int i = 0; i < 4; i++)
                close(fds[i]);
        snprintf(unit, sizeof unit, "rm -rf %s", root);
        assert_int_equal(system(unit), 0);
}

static void test_parse_socket_lines(void **state) {
        static struct adopt_unit u[4];
        size_t n;
        unsigned bad;
        (void) state;

        assert_int_equal(adopt_parse("socket a.socket listening 5 stream /run/a\nsocket a.socket listening 6 netlink "
                                     "kobject-uevent 1\nsocket b.socket running 7 dgram @x\n",
                                     u, 4, &n, &bad),
                         0);
        assert_int_equal(n, 2);
        assert_int_equal(u[0].n_ports, 2);
        assert_string_equal(u[0].ports[1].address, "kobject-uevent 1");
        assert_false(u[0].running);
        assert_true(u[1].running);
        const char *bad_lines[] = {
                "socket a.service listening 5 stream /run/a\n",  /* not a socket unit */
                "socket a.socket idle 5 stream /run/a\n",        /* state */
                "socket a.socket listening 2 stream /run/a\n",   /* stdio */
                "socket a.socket listening x stream /run/a\n",
                "socket a.socket listening 5 fifo /run/a\n",
                "socket a.socket listening 5 stream run/a\n",    /* relative */
                "socket a.socket listening 5 stream /run/a extra\n",
                "socket a.socket listening 5 netlink audit\n",   /* netlink: two words */
                "socket a.socket listening 5 stream /a\nsocket a.socket running 6 stream /b\n", /* one state */
                "socket a.socket listening 5 stream /a\nsocket a.socket listening 5 stream /b\n", /* one fd, once */
                "socket a.socket listening 5 stream /a\nsocket a.socket listening 6 stream /b\n"
                "socket a.socket listening 7 stream /c\nsocket a.socket listening 8 stream /d\n"
                "socket a.socket listening 9 stream /e\n", /* ADOPT_PORTS_MAX */
                NULL,
        };
        for (size_t i = 0; bad_lines[i]; i++)
                assert_int_equal(adopt_parse(bad_lines[i], u, 4, &n, &bad), -EINVAL);
        /* Discovery's lines by word and name, whole words only. */
        const char *text = "service a.service /system.slice/a.service 42 1 " ID1 "\nskip b.service no process\n";
        assert_true(adopt_text_names(text, "service", "a.service"));
        assert_true(adopt_text_names(text, "skip", "b.service"));
        assert_false(adopt_text_names(text, "skip", "a.service"));
        assert_false(adopt_text_names(text, "service", "a.servic"));
        assert_false(adopt_text_names(text, "servic", "a.service"));
        assert_false(adopt_text_names("", "service", "a.service"));
        assert_int_equal(adopt_parse("socket a.socket listening 5 stream /a\nsocket b.socket listening 6 stream /b\n",
                                     u, 1, &n, &bad),
                         -E2BIG);
}

/* The guard's side: copies of a process's listening sockets, listed. */
static void test_capture_sockets(void **state) {
        char dir[] = "/tmp/test_adopt_capture.XXXXXX", path[256], list[256], text[512];
        int go[2];
        (void) state;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/l.sock", dir);
        snprintf(list, sizeof list, "%s/pid1-sockets", dir);
        assert_int_equal(pipe(go), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int pair[2];
                close_fds_from(3, &go[0], 1); /* only its own sockets */
                (void) listen_unix(SOCK_STREAM, path);
                if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) /* a connection: not kept */
                        _exit(1);
                char c;
                if (write(STDOUT_FILENO, "", 0) < 0 || read(go[0], &c, 1) < 0)
                        _exit(1);
                _exit(0);
        }
        close(go[0]);
        /* Wait for the child's socket (its path appears). */
        for (int i = 0; i < 500 && access(path, F_OK) < 0; i++)
                usleep(10000);
        usleep(20000);
        int r = pid1_sockets_capture(pid, list);
        if (r == -ENOSYS || r == -EPERM) {
                skip();
        }
        assert_int_equal(r, 1);
        assert_int_equal(pid1_sockets_held(), 1);
        assert_int_equal(pid1_sockets_capture(pid, list), 1); /* held already: a no-op */
        assert_true(read_file(list, text, sizeof text) > 0);
        char want[64];
        snprintf(want, sizeof want, "guard=%d\nfd=", (int) getpid());
        assert_int_equal(strncmp(text, want, strlen(want)), 0);
        int fd = atoi(text + strlen(want));
        struct adopt_port p;
        assert_int_equal(adopt_port_parse(ADOPT_PORT_STREAM, path, &p), 0);
        assert_true(adopt_port_matches(fd, &p));
        close(go[1]);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        /* The copy outlives the process. */
        assert_true(adopt_port_matches(fd, &p));
        assert_int_equal(pid1_sockets_release(list), 1);
        assert_int_equal(pid1_sockets_held(), 0);
        assert_int_equal(access(list, F_OK), -1);
        assert_int_equal(fcntl(fd, F_GETFD), -1);
        unlink(path);
        rmdir(dir);
}

/* A RemainAfterExit=yes service that exited: active (its invocation link)
 * with no cgroup (systemd pruned it). Taken for "exited" only when its unit
 * file says RemainAfterExit=yes and it is in system.slice. */
static void test_discover_exited(void **state) {
        char root[] = "/tmp/test_adopt_exited.XXXXXX", path[512], units[300], high[300], low[300];
        static char out[4096];
        const char *dirs[3];
        (void) state;

        fake_cgroup_root(root, units, sizeof units);
        snprintf(high, sizeof high, "%s/etc", root);
        snprintf(low, sizeof low, "%s/lib", root);
        assert_int_equal(mkdir(high, 0755), 0);
        assert_int_equal(mkdir(low, 0755), 0);
        dirs[0] = high, dirs[1] = low, dirs[2] = NULL;
        put_unit(low, ".", "setup.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n");
        put_unit(low, ".", "plain.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n");
        put_unit(low, ".", "late.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n");
        put_unit(high, "late.service.d", "remain.conf", "[Service]\nRemainAfterExit=true\n");
        put_unit(low, ".", "elsewhere.service", "[Service]\nRemainAfterExit=yes\nSlice=machine.slice\n");
        put_unit(low, ".", "inst@.service", "[Service]\nRemainAfterExit=yes\n");
        const char *active[] = { "setup.service", "plain.service", "late.service", "elsewhere.service",
                                 "inst@one.service", "nofile.service", "x.socket", NULL };
        for (size_t i = 0; active[i]; i++) {
                snprintf(path, sizeof path, "%s/invocation:%s", units, active[i]);
                assert_int_equal(symlink(ID1, path), 0);
        }
        /* Has a cgroup: the walk's business, not an exited one. */
        snprintf(path, sizeof path, "%s/system.slice/inst@one.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/system.slice/inst@one.service/cgroup.procs", root);
        put_file(path, "");

        assert_true(adopt_discover(root, units, dirs, NULL, 0, out, sizeof out) > 0);
        assert_non_null(strstr(out, "exited setup.service " ID1 "\n"));
        assert_non_null(strstr(out, "exited late.service " ID1 "\n")); /* from its drop-in */
        assert_null(strstr(out, "exited plain.service"));
        assert_null(strstr(out, "exited elsewhere.service"));
        assert_null(strstr(out, "exited nofile.service"));
        assert_null(strstr(out, "x.socket"));
        assert_null(strstr(out, "exited inst@one.service"));
        assert_non_null(strstr(out, "skip inst@one.service "));
        /* Its template's RemainAfterExit= counts once the cgroup is gone. */
        snprintf(path, sizeof path, "rm -rf %s/system.slice/inst@one.service", root);
        assert_int_equal(system(path), 0);
        assert_true(adopt_discover(root, units, dirs, NULL, 0, out, sizeof out) > 0);
        assert_non_null(strstr(out, "exited inst@one.service " ID1 "\n"));

        /* PID 1's side: state=exited, no main PID, no cgroup. */
        static struct adopt_unit u[16];
        static char buf[4096];
        size_t n;
        unsigned bad;
        struct adopt_clock now = { 1700000000000000ULL, 60000000 };
        assert_int_equal(adopt_parse(out, u, 16, &n, &bad), 0);
        assert_true(adopt_serialize(u, n, &now, -1, buf, sizeof buf) > 0);
        assert_non_null(strstr(buf, "\nsetup.service\nstate=exited\ninvocation-id=" ID1 "\nexported-invocation-id=yes\n\n"));
        assert_false(adopt_cgroup_adopted(u, n, "/system.slice/other.service"));
        assert_int_equal(adopt_parse("exited a.service\n", u, 16, &n, &bad), -EINVAL);
        assert_int_equal(adopt_parse("exited a.socket " ID1 "\n", u, 16, &n, &bad), -EINVAL);
        snprintf(path, sizeof path, "rm -rf %s", root);
        assert_int_equal(system(path), 0);
}

/* Login sessions: user.slice is walked too; a scope is adopted with its
 * cgroup (no main PID) and spared by the left-overs' stop. */
static void test_discover_scope(void **state) {
        char root[] = "/tmp/test_adopt_scope.XXXXXX", path[512], units[300], pidline[32];
        static char out[4096];
        (void) state;

        fake_cgroup_root(root, units, sizeof units);
        snprintf(path, sizeof path, "%s/user.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/user.slice/user-0.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/user.slice/user-0.slice/session-1.scope", root);
        assert_int_equal(mkdir(path, 0755), 0);
        bool has_xattr = setxattr(path, "user.invocation_id", ID1, 32, 0) == 0;
        snprintf(path, sizeof path, "%s/user.slice/user-0.slice/session-1.scope/cgroup.procs", root);
        snprintf(pidline, sizeof pidline, "%d\n", (int) getpid());
        put_file(path, pidline);
        snprintf(path, sizeof path, "%s/invocation:session-1.scope", units);
        assert_int_equal(symlink(ID1, path), 0);

        /* 252 realizes a scope's cgroup before it draws the id: no xattr,
         * the id is its link's. */
        snprintf(path, sizeof path, "%s/user.slice/user-0.slice/session-2.scope", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/user.slice/user-0.slice/session-2.scope/cgroup.procs", root);
        put_file(path, pidline);
        snprintf(path, sizeof path, "%s/invocation:session-2.scope", units);
        assert_int_equal(symlink(ID2, path), 0);

        assert_true(adopt_discover(root, units, no_dirs, NULL, 0, out, sizeof out) > 0);
        assert_non_null(strstr(out, "slice user.slice /user.slice\n"));
        assert_non_null(strstr(out, "slice user-0.slice /user.slice/user-0.slice\n"));
        assert_non_null(strstr(out, "scope session-2.scope /user.slice/user-0.slice/session-2.scope " ID2 "\n"));
        if (!has_xattr)
                print_message("no user xattrs here: the xattr half was not run\n");
        else
                assert_non_null(strstr(out, "scope session-1.scope /user.slice/user-0.slice/session-1.scope " ID1 "\n"));
        snprintf(path, sizeof path, "rm -rf %s", root);
        assert_int_equal(system(path), 0);

        static struct adopt_unit u[8];
        static char buf[4096];
        size_t n;
        unsigned bad;
        struct adopt_clock now = { 1700000000000000ULL, 60000000 };
        assert_int_equal(adopt_parse("scope session-1.scope /user.slice/user-0.slice/session-1.scope " ID1 "\n"
                                     "service systemd-logind.service /system.slice/systemd-logind.service 42 1 " ID1 "\n",
                                     u, 8, &n, &bad),
                         0);
        assert_int_equal(n, 2);
        assert_true(adopt_serialize(u, n, &now, -1, buf, sizeof buf) > 0);
        assert_non_null(strstr(buf, "\nsession-1.scope\nstate=running\ncgroup=/user.slice/user-0.slice/session-1.scope\n"
                                    "cgroup-realized=yes\ninvocation-id=" ID1 "\nexported-invocation-id=yes\n\n"));
        /* logind adopted: systemd broadcasts its signals again. */
        assert_non_null(strstr(buf, "subscribed=org.freedesktop.login1\n"));
        assert_true(strstr(buf, "subscribed=") < strstr(buf, "\n\n"));
        assert_true(adopt_cgroup_adopted(u, n, "/user.slice/user-0.slice/session-1.scope"));
        assert_false(adopt_cgroup_adopted(u, n, "/user.slice/user-0.slice/session-2.scope"));
        assert_int_equal(adopt_parse("scope session-1.service /user.slice/session-1.service " ID1 "\n", u, 8, &n, &bad),
                         -EINVAL);
        assert_int_equal(adopt_parse("scope session-1.scope /user.slice/other.scope " ID1 "\n", u, 8, &n, &bad),
                         -EINVAL);
        /* Without logind, no subscriber is named. */
        assert_int_equal(adopt_parse("scope session-1.scope /user.slice/session-1.scope " ID1 "\n", u, 8, &n, &bad), 0);
        assert_true(adopt_serialize(u, n, &now, -1, buf, sizeof buf) > 0);
        assert_null(strstr(buf, "subscribed="));
}

/* Just before the exec: a main PID that ended or now names another
 * process (its start time differs) is not handed to systemd. */
static void test_drop_changed(void **state) {
        static struct adopt_unit u[8];
        unsigned long long start;
        size_t n;
        unsigned bad;
        char text[1024];
        (void) state;

        assert_int_equal(adopt_process_start_usec(getpid(), &start), 0);
        snprintf(text, sizeof text,
                 "slice system.slice /system.slice\n"
                 "service same.service /system.slice/same.service %d %llu " ID1 "\n"
                 "service reused.service /system.slice/reused.service %d %llu " ID1 "\n"
                 "exited done.service " ID1 "\n"
                 "service gone.service /system.slice/gone.service %d 1 " ID1 "\n"
                 "socket a.socket running 5 stream /run/a\n",
                 (int) getpid(), start, (int) getpid(), start + 1000000, INT32_MAX - 1);
        assert_int_equal(adopt_parse(text, u, 8, &n, &bad), 0);
        assert_int_equal(n, 6);
        assert_true(u[5].running);
        n = adopt_drop_changed(u, n);
        assert_int_equal(n, 4);
        assert_string_equal(u[0].name, "system.slice");
        assert_string_equal(u[1].name, "same.service");
        assert_string_equal(u[2].name, "done.service");
        assert_string_equal(u[3].name, "a.socket");
        assert_false(u[3].running); /* its service may be one dropped */
        /* Nothing dropped: sockets keep their state. */
        assert_int_equal(adopt_parse(text, u, 8, &n, &bad), 0);
        u[2].main_pid = getpid(), u[2].start_mono_usec = start; /* reused.service, now right */
        u[4].main_pid = getpid(), u[4].start_mono_usec = start; /* gone.service, now right */
        assert_int_equal(adopt_drop_changed(u, n), 6);
        assert_true(u[5].running);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_serialize), cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_serialize_bounds),    cmocka_unit_test(test_versions),
                cmocka_unit_test(test_parse_stat),          cmocka_unit_test(test_pick_main_pid),
                cmocka_unit_test(test_discover_tree),       cmocka_unit_test(test_serialize_private_tmp),
                cmocka_unit_test(test_find_private),        cmocka_unit_test(test_environ_watchdog),
                cmocka_unit_test(test_deserialize_fd_arg),  cmocka_unit_test(test_discover_subcgroup),
                cmocka_unit_test(test_reconnect_notify),    cmocka_unit_test(test_socket_is_listening),
                cmocka_unit_test(test_port_parse),          cmocka_unit_test(test_port_matches),
                cmocka_unit_test(test_read_socket_unit),    cmocka_unit_test(test_discover_sockets),
                cmocka_unit_test(test_parse_socket_lines),  cmocka_unit_test(test_capture_sockets),
                cmocka_unit_test(test_discover_exited),     cmocka_unit_test(test_discover_scope),
                cmocka_unit_test(test_process_start_usec),  cmocka_unit_test(test_drop_changed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
