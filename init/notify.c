/* journald's notify socket reconnected by PID 1 (notify.h). No allocation. */
#include "notify.h"

#include "common/util.h"
#include "common/proc.h"
#include "versions/discover.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

struct reconnect {
        pid_t pid;
        int pidfd;
        const char *path;
        int by_path, unpeered; /* the fd found of each kind, or -1 */
        unsigned n_by_path, n_unpeered;
};

static void keep(int *slot, unsigned *count, int fd) {
        if (*slot >= 0)
                (void) close(*slot);
        *slot = fd;
        ++*count;
}

static int reconnect_one(long fdnum, int skip_fd, void *data) {
        struct reconnect *c = data;
        struct sockaddr_un sa;
        socklen_t l;
        int fd = proc_copy_socket_fd(c->pid, c->pidfd, fdnum), domain = 0, type = 0;
        socklen_t il = sizeof domain;
        (void) skip_fd;

        if (fd < 0)
                return fd == -ENOSYS || fd == -EPERM ? fd : 0;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &il) < 0 || domain != AF_UNIX ||
            (il = sizeof type, getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) < 0) || type != SOCK_DGRAM)
                goto skip;
        /* No address of its own (journald's /dev/log and journal/socket have one). */
        l = sizeof sa;
        if (getsockname(fd, (struct sockaddr *) &sa, &l) < 0 || l != sizeof(sa_family_t))
                goto skip;
        l = sizeof sa;
        memset(&sa, 0, sizeof sa);
        if (getpeername(fd, (struct sockaddr *) &sa, &l) == 0) {
                size_t k = l > offsetof(struct sockaddr_un, sun_path) ? l - offsetof(struct sockaddr_un, sun_path) : 0;
                if (k > 0 && k <= sizeof sa.sun_path && strnlen(sa.sun_path, k) == strlen(c->path) &&
                    strncmp(sa.sun_path, c->path, k) == 0) {
                        keep(&c->by_path, &c->n_by_path, fd);
                        return 0;
                }
        } else if (errno == ENOTCONN) {
                keep(&c->unpeered, &c->n_unpeered, fd);
                return 0;
        }
skip:
        (void) close(fd);
        return 0;
}

int adopt_reconnect_notify(pid_t pid, unsigned long long start_usec, const char *path) {
        struct reconnect c = { pid, -1, path, -1, -1, 0, 0 };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[64];
        int r, fd;

        if (pid <= 1 || !path || strlen(path) >= sizeof sa.sun_path)
                return -EINVAL;
        c.pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (c.pidfd < 0)
                return -errno;
        if (start_usec) {
                unsigned long long usec;
                if (adopt_process_start_usec(pid, &usec) < 0 || usec != start_usec) {
                        (void) close(c.pidfd);
                        return -ESRCH;
                }
        }
        snprintf(dir, sizeof dir, "/proc/%d/fd", (int) pid);
        r = foreach_number(dir, reconnect_one, &c);
        fd = c.n_by_path ? c.by_path : c.unpeered;
        if (r < 0)
                ;
        else if ((c.n_by_path ? c.n_by_path : c.n_unpeered) == 0)
                r = -ENOENT;
        else if ((c.n_by_path ? c.n_by_path : c.n_unpeered) > 1)
                r = -EEXIST;
        else {
                memcpy(sa.sun_path, path, strlen(path) + 1);
                r = connect(fd, (struct sockaddr *) &sa,
                            (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1)) < 0
                        ? -errno
                        : 0;
        }
        if (c.by_path >= 0)
                (void) close(c.by_path);
        if (c.unpeered >= 0)
                (void) close(c.unpeered);
        (void) close(c.pidfd);
        return r;
}
