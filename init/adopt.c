/* on-failure = adopt, PID 1's side (adopt.h). Static storage only. */
#include "adopt.h"
#include "notify.h"
#include "common/log.h"
#include "common/util.h"
#include "control/protocol.h"
#include "ptrace/sockets.h"
#include "versions/compat.h"
#include "versions/discover.h"
#include "versions/serialize.h"
#include "versions/sockets.h"
#include "versions/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ADOPT_UNITS_FILE RUN_DIR "/adopt.units" /* discovery's text */
#define ADOPT_FILE RUN_DIR "/adopt"             /* the last outcome, for the operator */
#define ADOPT_TEXT_FILE RUN_DIR "/adopt.text"   /* the text systemd was given */
#define ADOPT_TEXT_MAX 65536
#define ADOPT_WORKER_MS 20000

static struct worker discoverer = WORKER_INIT;
static struct adopt_unit units[ADOPT_UNITS_MAX];
static size_t n_units;
static bool active;
static int memfd = -1;
static int notify_fd = -1;
/* Copies of the crashed PID 1's listening sockets, taken from the guard
 * (ptrace/sockets.h): O_CLOEXEC, so that only those handed over survive
 * the exec. */
static int sockets[PID1_SOCKETS_MAX];
static size_t n_sockets;

static void outcome(const char *text) {
        (void) write_file_atomic(ADOPT_FILE, text, strlen(text), 0644);
}

static void refuse(const char *why) {
        char text[320];

        snprintf(text, sizeof text, "not adopting, services restart: %s\n", why);
        log_console(LOG_WARNING, "on-failure=adopt: %s", text);
        outcome(text);
        active = false;
        n_units = 0;
}

/* In the worker: discovery's text into ADOPT_UNITS_FILE; "ok" or why not. */
static size_t discover_work(const void *arg, char *out, size_t n) {
        static char text[ADOPT_TEXT_MAX];
        int r = adopt_discover("/sys/fs/cgroup", "/run/systemd/units", adopt_unit_dirs, sockets, n_sockets, text,
                               sizeof text);
        (void) arg;

        if (r >= 0)
                r = write_file_atomic(ADOPT_UNITS_FILE, text, (size_t) r, 0600);
        int l = r < 0 ? snprintf(out, n, "discovery failed: %s", strerror(-r)) : snprintf(out, n, "ok");
        return l < 0 ? 0 : (size_t) l < n ? (size_t) l : n - 1;
}

static void close_sockets(void) {
        while (n_sockets > 0)
                (void) close(sockets[--n_sockets]);
}

/* The guard's copies of the crashed PID 1's listening sockets, listed in
 * PID1_SOCKETS_FILE ("guard=PID", "fd=N" lines), into sockets[]. None is
 * not an error: the socket units are then not adopted. */
static void take_sockets(void) {
        static char text[32 + PID1_SOCKETS_MAX * 16];
        long guard = 0, fd;
        int pidfd;

        close_sockets();
        if (read_file(PID1_SOCKETS_FILE, text, sizeof text) <= 0 || sscanf(text, "guard=%ld", &guard) != 1 ||
            guard <= 1) {
                log_notice("on-failure=adopt: no copies of the crashed PID 1's listening sockets; socket units are "
                           "not adopted");
                return;
        }
        pidfd = (int) syscall(SYS_pidfd_open, (pid_t) guard, 0);
        if (pidfd < 0) {
                log_errno(-errno, LOG_WARNING, "on-failure=adopt: cannot reach the guard's socket copies");
                return;
        }
        for (const char *p = strstr(text, "\nfd="); p && n_sockets < PID1_SOCKETS_MAX; p = strstr(p + 1, "\nfd=")) {
                if (sscanf(p + 4, "%ld", &fd) != 1 || fd < 0 || fd > INT32_MAX)
                        continue;
                int copy = (int) syscall(SYS_pidfd_getfd, pidfd, (int) fd, 0);
                if (copy >= 0)
                        sockets[n_sockets++] = copy;
        }
        (void) close(pidfd);
        log_notice("on-failure=adopt: took %zu of the crashed PID 1's listening sockets from the guard", n_sockets);
}

/* Discovery named only fds it was given (rescue mode's copies). */
static bool ports_held(void) {
        for (size_t i = 0; i < n_units; i++)
                for (unsigned p = 0; units[i].kind == ADOPT_SOCKET && p < units[i].n_ports; p++) {
                        size_t k = 0;
                        while (k < n_sockets && sockets[k] != units[i].ports[p].fd)
                                k++;
                        if (k == n_sockets)
                                return false;
                }
        return true;
}

/* Left open across the exec: the fds the text hands over. */
static int hand_over_sockets(void) {
        for (size_t i = 0; i < n_units; i++)
                for (unsigned p = 0; units[i].kind == ADOPT_SOCKET && p < units[i].n_ports; p++)
                        if (fcntl(units[i].ports[p].fd, F_SETFD, 0) < 0)
                                return -errno;
        return 0;
}

int adopt_begin(const char *version_line) {
        unsigned major = 0;
        int r;

        n_units = 0;
        active = false;
        if (compat_systemd_major(version_line, &major) < 0 || !adopt_version_supported(major)) {
                refuse("the serialization format of this systemd version was not tested (only 252, 257)");
                return -EOPNOTSUPP;
        }
        take_sockets();
        r = worker_start(&discoverer, discover_work, NULL, ADOPT_WORKER_MS);
        if (r < 0) {
                refuse("cannot start discovery");
                return r;
        }
        return 0;
}

int adopt_fd(void) {
        return worker_fd(&discoverer);
}

int adopt_timeout_ms(void) {
        return worker_timeout_ms(&discoverer);
}

bool adopt_child_exited(pid_t pid) {
        return worker_child_exited(&discoverer, pid);
}

/* Say which services are not adopted, and why. Their processes are
 * stopped as left-overs and the new systemd sees them inactive: nothing
 * restarts them (Restart= applies to units it saw running) until the
 * operator's `systemctl start default.target`, if that pulls them in. */
static void log_skipped(const char *text) {
        for (const char *p = text; *p;) {
                size_t l = strcspn(p, "\n");
                if (strncmp(p, "skip ", 5) == 0) {
                        size_t k = strcspn(p + 5, " \n");
                        size_t rest = l - 5 - k;
                        log_notice("on-failure=adopt: not adopting %.*s (%.*s): stopped, and not started again "
                                   "until 'systemctl start default.target'",
                                   (int) k, p + 5, (int) (rest ? rest - 1 : 0), p + 5 + k + (rest ? 1 : 0));
                }
                p += l + (p[l] == '\n');
        }
}

static void load_units(void) {
        static char text[ADOPT_TEXT_MAX], why[128];
        unsigned bad = 0;
        size_t services = 0, exited = 0, socket_units = 0;
        ssize_t l = read_file(ADOPT_UNITS_FILE, text, sizeof text);

        if (l < 0 || (size_t) l >= sizeof text - 1) {
                refuse("discovery's result unreadable");
                return;
        }
        if (adopt_parse(text, units, ADOPT_UNITS_MAX, &n_units, &bad) < 0) {
                snprintf(why, sizeof why, "discovery's line %u malformed, or too many units", bad);
                refuse(why);
                return;
        }
        if (!ports_held()) {
                refuse("discovery named a socket rescue mode does not hold");
                return;
        }
        for (size_t i = 0; i < n_units; i++) {
                services += units[i].kind == ADOPT_SERVICE && !units[i].exited;
                exited += units[i].kind == ADOPT_SERVICE && units[i].exited;
                socket_units += units[i].kind == ADOPT_SOCKET;
        }
        /* Sure now that it serializes: a failure at the exec would come after
         * the stop that spared these services. */
        static char dry[ADOPT_TEXT_MAX];
        struct adopt_clock zero = { 1, 1 };
        if (adopt_serialize(units, n_units, &zero, 99, dry, sizeof dry) < 0) {
                refuse("the serialization does not fit");
                return;
        }
        log_skipped(text);
        active = true;
        snprintf(why, sizeof why, "adopting %zu running services, %zu exited services and %zu socket units\n", services,
                 exited, socket_units);
        log_notice("on-failure=adopt: %s", why);
        outcome(why);
}

bool adopt_poll(void) {
        if (!discoverer.busy)
                return true;
        if (!worker_poll(&discoverer))
                return false;
        if (discoverer.timed_out)
                refuse("discovery did not finish in time");
        else if (strcmp(discoverer.result, "ok") != 0)
                refuse(discoverer.result);
        else
                load_units();
        worker_done(&discoverer);
        return true;
}

bool adopted(void) {
        return active;
}

bool adopt_spares(const char *cgroup) {
        return active && adopt_cgroup_adopted(units, n_units, cgroup);
}

static int clock_usec(clockid_t id, uint64_t *out) {
        struct timespec ts;

        if (clock_gettime(id, &ts) < 0)
                return -errno;
        *out = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
        return 0;
}

/* The text into a memfd left open across the exec (no MFD_CLOEXEC). */
static int write_memfd(const char *text, size_t len) {
        int fd = memfd_create("initshim-adopt", 0);

        if (fd < 0)
                return -errno;
        for (size_t off = 0; off < len;) {
                ssize_t w = write(fd, text + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        int r = w < 0 ? -errno : -EIO;
                        close(fd);
                        return r;
                }
                off += (size_t) w;
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* systemd's notify socket, bound by rescue mode just before the exec and
 * left open across it (no SOCK_CLOEXEC): the text hands it over as
 * notify-fd=, so the WATCHDOG=1 (and READY=1) that services send while the
 * new systemd starts up wait in it. Bound anew, the crashed one's socket
 * file refused them, and a short WatchdogSec= ran out before the new
 * systemd listened (seen on 257 under TCG: a 4 s watchdog killed a fed
 * service). Set up as manager.c manager_setup_notify does; the fd, or
 * -errno (then systemd binds its own, as before). */
static int bind_notify(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, one = 1, buf = 8 << 20;
        socklen_t len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(ADOPT_NOTIFY_SOCKET) + 1);

        memcpy(sa.sun_path, ADOPT_NOTIFY_SOCKET, strlen(ADOPT_NOTIFY_SOCKET) + 1);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
            (unlink(ADOPT_NOTIFY_SOCKET) < 0 && errno != ENOENT) || bind(fd, (struct sockaddr *) &sa, len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* journald's notify socket still points at the crashed systemd's: connect
 * it to the one just bound (notify.h), so that its WATCHDOG=1 and its
 * stdout streams' FDSTORE=1 reach the new systemd; else they fail with
 * ENOTCONN, logged by journald at each attempt, and its watchdog is
 * overridden (serialize.c). */
static void reconnect_journald(void) {
        for (size_t i = 0; i < n_units; i++) {
                struct adopt_unit *u = &units[i];
                if (u->kind != ADOPT_SERVICE || u->exited || strcmp(u->name, "systemd-journald.service") != 0)
                        continue;
                int r = adopt_reconnect_notify(u->main_pid, u->start_mono_usec, ADOPT_NOTIFY_SOCKET);
                u->notify_reconnected = r == 0;
                if (r == 0)
                        log_notice("on-failure=adopt: connected %s's (PID %d) notify socket to the new " ADOPT_NOTIFY_SOCKET,
                                   u->name, (int) u->main_pid);
                else
                        log_errno(r, LOG_WARNING,
                                  "on-failure=adopt: cannot reconnect %s's (PID %d) notify socket (its watchdog is "
                                  "overridden; it logs each failed WATCHDOG=1)",
                                  u->name, (int) u->main_pid);
        }
}

int adopt_exec_argv(const char *path, char **argv, size_t max) {
        static char text[ADOPT_TEXT_MAX], fdarg[16];
        struct adopt_clock now;
        int r, l;

        if (!active || max < 5)
                return -EINVAL;
        if (notify_fd < 0) {
                notify_fd = bind_notify();
                if (notify_fd < 0) {
                        log_errno(notify_fd, LOG_WARNING, "on-failure=adopt: cannot bind " ADOPT_NOTIFY_SOCKET
                                                          " (systemd binds it; pings until then are lost)");
                        notify_fd = -1;
                }
        }
        if (notify_fd >= 0)
                reconnect_journald();
        n_units = adopt_drop_changed(units, n_units);
        if ((r = clock_usec(CLOCK_REALTIME, &now.realtime_usec)) < 0 ||
            (r = clock_usec(CLOCK_MONOTONIC, &now.monotonic_usec)) < 0 ||
            (r = l = adopt_serialize(units, n_units, &now, notify_fd, text, sizeof text)) < 0 ||
            (r = hand_over_sockets()) < 0 ||
            (r = memfd = write_memfd(text, (size_t) l)) < 0) {
                log_errno(r, LOG_ERR, "on-failure=adopt: cannot write the serialization");
                memfd = -1;
                return r;
        }
        /* A copy for the operator (and the e2e's comparison); not needed. */
        (void) write_file_atomic(ADOPT_TEXT_FILE, text, (size_t) l, 0600);
        snprintf(fdarg, sizeof fdarg, "%d", memfd);
        argv[0] = (char *) path;
        argv[1] = (char *) "--system";
        argv[2] = (char *) "--deserialize";
        argv[3] = fdarg;
        argv[4] = NULL;
        log_notice("on-failure=adopt: executing %s --deserialize %d (%d bytes); then "
                   "'systemctl start default.target' starts what was not adopted",
                   path, memfd, l);
        return 0;
}

void adopt_abandon(void) {
        if (memfd >= 0)
                (void) close(memfd);
        memfd = -1;
        if (notify_fd >= 0)
                (void) close(notify_fd);
        notify_fd = -1;
        close_sockets();
        active = false;
        n_units = 0;
}
