#include "common/proc.h"
#include "common/util.h"

#include <stdio.h>
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

size_t list_zombie_children(pid_t parent, pid_t *out, size_t max) {
        struct zombie_ctx z = { parent, 0, out, max };
        (void) foreach_number("/proc", zombie_one, &z);
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
