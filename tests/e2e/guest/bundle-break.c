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
 * BREAK_HANG: as PID 1, block before main() (as a version stuck at start-up
 * would): it never answers, nor acts on SIGTERM; the guard takes it over.
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

#if defined(BREAK_NOBUS)
int bind(int fd, const struct sockaddr *sa, socklen_t len) {
        static const char private_path[] = "/run/systemd/private";
        const struct sockaddr_un *un = (const struct sockaddr_un *) sa;

        if (sa && len >= offsetof(struct sockaddr_un, sun_path) + sizeof private_path &&
            un->sun_family == AF_UNIX && memcmp(un->sun_path, private_path, sizeof private_path) == 0) {
                errno = EACCES;
                return -1;
        }
        return (int) syscall(SYS_bind, fd, sa, len);
}
#elif defined(BREAK_HANG)
__attribute__((constructor)) static void hang_as_pid1(void) {
        if (getpid() != 1)
                return;
        for (;;)
                pause();
}
#else
#error "define BREAK_NOBUS or BREAK_HANG"
#endif
