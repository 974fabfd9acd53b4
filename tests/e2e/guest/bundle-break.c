/* A library that breaks a copy of a real version bundle after its preflight
 * (tests/e2e/host/bundles.sh, "# e2e-bundle-break:"). The copy's systemd
 * gets it as its first DT_NEEDED (patchelf --add-needed), so it comes before
 * libc in the symbol search; `systemd --version` (preflight) is untouched.
 *
 * BREAK_NOBUS: bind() of /run/systemd/private fails with EACCES. systemd
 * ignores that failure ("(void) bus_init_private(m)" in src/core/manager.c):
 * the manager runs on, deserializes, runs units and re-executes on SIGTERM,
 * but nothing reaches it on its private bus, so it never answers the guard's
 * Ping: the switch is rolled back with state kept.
 *
 * BREAK_HANG: as PID 1, bind and listen on /run/systemd/private, then block
 * for good (as a version stuck in its start-up would): connections queue,
 * nothing answers, and SIGTERM stays blocked (systemd reads its signals from
 * a signalfd): no re-exec; the guard takes it over. It listens first because
 * a PID 1 with no socket at all counts as starting (not failing) for
 * SOCKET_GRACE_MS, 5 minutes (shim/health/health.c).
 *
 * Built on the host for the guest (both x86_64 Debian 12, glibc 2.36). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#if !defined(BREAK_NOBUS) && !defined(BREAK_HANG)
#error "define BREAK_NOBUS or BREAK_HANG"
#endif

static int is_private(const struct sockaddr *sa, socklen_t len) {
        static const char private_path[] = "/run/systemd/private";
        const struct sockaddr_un *un = (const struct sockaddr_un *) sa;

        return sa && len >= offsetof(struct sockaddr_un, sun_path) + sizeof private_path &&
               un->sun_family == AF_UNIX && memcmp(un->sun_path, private_path, sizeof private_path) == 0;
}

int bind(int fd, const struct sockaddr *sa, socklen_t len) {
        if (!is_private(sa, len) || getpid() != 1)
                return (int) syscall(SYS_bind, fd, sa, len);
#if defined(BREAK_NOBUS)
        errno = EACCES;
        return -1;
#else
        if (syscall(SYS_bind, fd, sa, len) == 0 && syscall(SYS_listen, fd, 16) == 0)
                for (;;)
                        pause();
        return -1; /* not listening: its boot fails anyway */
#endif
}
