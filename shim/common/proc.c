#include "common/proc.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct zombie_ctx {
        pid_t parent;
        unsigned count;
        pid_t *out;
        size_t max;
};

static int zombie_one(long pid, int skip_fd, void *data) {
        struct zombie_ctx *z = data;
        char state;
        long ppid;
        (void) skip_fd;

        if (read_proc_stat(pid, &state, &ppid, NULL) == 0 && state == 'Z' && ppid == z->parent) {
                if (z->out && z->count < z->max)
                        z->out[z->count] = (pid_t) pid;
                z->count++;
        }
        return z->out && z->count >= z->max ? 1 : 0;
}

/* Each pid of a children file ("2 17 345 "), read in pieces: PID 1 may
 * have thousands. 0, or -errno when the file cannot be opened. */
static int foreach_pid_in(const char *path, struct zombie_ctx *z) {
        char buf[512];
        long pid = 0;
        bool digits = false;
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] >= '0' && buf[i] <= '9' && pid < INT_MAX / 10) {
                                pid = pid * 10 + (buf[i] - '0');
                                digits = true;
                                continue;
                        }
                        if (digits && zombie_one(pid, -1, z))
                                goto done;
                        pid = 0;
                        digits = false;
                }
        if (digits)
                (void) zombie_one(pid, -1, z);
done:
        close(fd);
        return 0;
}

struct task_ctx {
        pid_t parent;
        struct zombie_ctx *z;
        bool unavailable; /* a kernel without CONFIG_PROC_CHILDREN */
};

static int zombies_of_task(long tid, int skip_fd, void *data) {
        struct task_ctx *t = data;
        char path[96];
        (void) skip_fd;

        snprintf(path, sizeof path, "/proc/%d/task/%ld/children", (int) t->parent, tid);
        if (foreach_pid_in(path, t->z) == -ENOENT && access(path, F_OK) < 0) {
                snprintf(path, sizeof path, "/proc/%d/task/%ld", (int) t->parent, tid);
                t->unavailable = access(path, F_OK) == 0; /* the task itself is there */
        }
        return t->unavailable || (t->z->out && t->z->count >= t->z->max) ? 1 : 0;
}

/* Only the parent's children (each of its tasks' children file): the
 * parent's children are few where /proc may list thousands of processes.
 * Without children files, every process of /proc. */
size_t list_zombie_children(pid_t parent, pid_t *out, size_t max) {
        struct zombie_ctx z = { parent, 0, out, max };
        struct task_ctx t = { parent, &z, false };
        char dir[48];

        snprintf(dir, sizeof dir, "/proc/%d/task", (int) parent);
        (void) foreach_number(dir, zombies_of_task, &t);
        if (t.unavailable) {
                z.count = 0;
                (void) foreach_number("/proc", zombie_one, &z);
        }
        return z.count;
}

unsigned count_zombie_children(pid_t parent) {
        return (unsigned) list_zombie_children(parent, NULL, 0);
}

void read_exe(pid_t pid, char *buf, size_t n) {
        char path[64];
        ssize_t l;

        snprintf(path, sizeof path, "/proc/%d/exe", (int) pid);
        l = readlink(path, buf, n - 1);
        buf[l < 0 ? 0 : l] = '\0';
}

bool pid1_is_rescue_initshim(void) {
        char comm[32];

        return read_first_line("/proc/1/comm", comm, sizeof comm) > 0 && strcmp(comm, "initshim") == 0;
}

int proc_copy_socket_fd(pid_t pid, int pidfd, long fdnum) {
        char link[64], target[32];
        ssize_t l;
        int fd;

        snprintf(link, sizeof link, "/proc/%d/fd/%ld", (int) pid, fdnum);
        l = readlink(link, target, sizeof target - 1);
        if (l <= 0 || strncmp(target, "socket:[", 8) != 0)
                return -ENOTSOCK;
        fd = (int) syscall(SYS_pidfd_getfd, pidfd, (int) fdnum, 0);
        if (fd < 0)
                return errno == ENOSYS || errno == EPERM ? -errno : errno == EBADF ? -ENOTSOCK : -errno;
        return fd;
}
