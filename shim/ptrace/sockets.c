/* PID 1's listening sockets, copied at a takeover (sockets.h). */
#include "ptrace/sockets.h"
#include "common/log.h"
#include "common/util.h"
#include "common/proc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

static int held[PID1_SOCKETS_MAX];
static int n_held;

bool pid1_socket_is_listening(int domain, int type, bool accepting, bool bound, bool peered) {
        if (domain == AF_NETLINK)
                return true;
        if (domain != AF_UNIX && domain != AF_INET && domain != AF_INET6)
                return false;
        if (type == SOCK_STREAM || type == SOCK_SEQPACKET)
                return accepting;
        return type == SOCK_DGRAM && bound && !peered;
}

/* Has fd an address of its own (a path, an abstract name, a port)? */
static bool has_address(int fd, int domain) {
        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;

        memset(&ss, 0, sizeof ss);
        if (getsockname(fd, (struct sockaddr *) &ss, &l) < 0)
                return false;
        if (domain == AF_UNIX)
                return l > sizeof(sa_family_t);
        if (domain == AF_INET)
                return ((struct sockaddr_in *) &ss)->sin_port != 0;
        return ((struct sockaddr_in6 *) &ss)->sin6_port != 0;
}

static bool worth_keeping(int fd) {
        int domain = 0, type = 0, accepting = 0;
        socklen_t l = sizeof domain;
        struct sockaddr_storage ss;
        socklen_t pl = sizeof ss;

        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) < 0)
                return false;
        l = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
                return false;
        l = sizeof accepting;
        if ((type == SOCK_STREAM || type == SOCK_SEQPACKET) &&
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &l) < 0)
                return false;
        bool datagram = type == SOCK_DGRAM && domain != AF_NETLINK;
        bool bound = datagram && has_address(fd, domain);
        bool peered = datagram && getpeername(fd, (struct sockaddr *) &ss, &pl) == 0;
        return pid1_socket_is_listening(domain, type, accepting != 0, bound, peered);
}

struct capture {
        pid_t pid;
        int pidfd;
        unsigned skipped; /* no room */
};

static int capture_one(long fdnum, int skip_fd, void *data) {
        struct capture *c = data;
        int fd = proc_copy_socket_fd(c->pid, c->pidfd, fdnum);
        (void) skip_fd;

        if (fd < 0)
                return fd == -ENOSYS || fd == -EPERM ? fd : 0;
        if (!worth_keeping(fd)) {
                (void) close(fd);
                return 0;
        }
        if (n_held == PID1_SOCKETS_MAX) {
                c->skipped++;
                (void) close(fd);
                return 0;
        }
        held[n_held++] = fd;
        return 0;
}

static int write_list(const char *list_file) {
        char text[32 + PID1_SOCKETS_MAX * 16];
        size_t len = (size_t) snprintf(text, sizeof text, "guard=%d\n", (int) getpid());

        for (int i = 0; i < n_held; i++)
                len += (size_t) snprintf(text + len, sizeof text - len, "fd=%d\n", held[i]);
        return write_file_atomic(list_file, text, len, 0600);
}

int pid1_sockets_capture(pid_t pid, const char *list_file) {
        struct capture c = { pid, -1, 0 };
        char dir[64];
        int r;

        if (n_held > 0)
                return n_held;
        c.pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (c.pidfd < 0)
                return log_errno(-errno, LOG_WARNING, "guard: cannot keep PID %d's listening sockets (pidfd_open)",
                                 (int) pid);
        snprintf(dir, sizeof dir, "/proc/%d/fd", (int) pid);
        r = foreach_number(dir, capture_one, &c);
        (void) close(c.pidfd);
        if (r < 0 || (r = write_list(list_file)) < 0) {
                log_errno(r, LOG_WARNING, "guard: cannot keep PID %d's listening sockets", (int) pid);
                (void) pid1_sockets_release(list_file);
                return r;
        }
        log_notice("guard: kept copies of PID %d's %d listening sockets for rescue mode%s", (int) pid, n_held,
                   c.skipped ? " (some left out: too many)" : "");
        return n_held;
}

int pid1_sockets_release(const char *list_file) {
        int n = n_held;

        while (n_held > 0)
                (void) close(held[--n_held]);
        if (list_file)
                (void) unlink(list_file);
        return n;
}

int pid1_sockets_held(void) {
        return n_held;
}
