#include "guard/spawn.h"
#include "control/server.h"
#include "common/log.h"
#include "common/util.h"
#include "control/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pid_t start_guard(const struct config *c, bool serve) {
        return start_guard_with(c, &(struct guard_options){ .ready_fd = -1, .serve = serve });
}

pid_t start_guard_with(const struct config *c, const struct guard_options *opts) {
        struct guard_options o = *opts;
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return log_errno(-errno, LOG_ERR, "cannot start the guard; PID 1 runs unguarded");
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]), close(p[1]);
                return log_errno(r, LOG_ERR, "cannot fork the guard; PID 1 runs unguarded");
        }
        if (pid == 0) {
                close(p[0]);
                /* Forked from rescue mode: PID 1's signalfd, FIFO and parser pipes are not ours. */
                ctl_forget_inherited_fds(p[1]);
                o.ready_fd = p[1];
                guard_main(c, &o);
        }
        close(p[1]);
        /* Wait (bounded) until the guard traces us, so that it follows systemd
         * from its first instruction. */
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        char b;
        int r;
        while ((r = poll(&pfd, 1, 2000)) < 0 && errno == EINTR)
                ;
        if (r <= 0 || read(p[0], &b, 1) != 1)
                log_warning("guard did not report in time; going on without waiting");
        close(p[0]);
        return pid;
}

int guard_find(void) {
        char buf[32], path[64], stat[512], *p;
        long pid, ppid;
        char state;

        if (read_file(GUARD_PID_FILE, buf, sizeof buf) <= 0)
                return -ESRCH;
        pid = strtol(buf, NULL, 10);
        if (pid <= 1)
                return -ESRCH;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        if (read_file(path, stat, sizeof stat) < 0 || !strstr(stat, "(" GUARD_COMM ")"))
                return -ESRCH;
        p = strrchr(stat, ')');
        if (!p || sscanf(p + 1, " %c %ld", &state, &ppid) != 2 || ppid != 1 || state == 'Z')
                return -ESRCH;
        return (int) pid;
}

void guard_describe(char *buf, size_t n) {
        char state[160];
        int pid = guard_find();

        if (pid <= 0) {
                snprintf(buf, n, "not running: PID 1 is unguarded");
                return;
        }
        if (read_first_line(GUARD_STATE_FILE, state, sizeof state) > 0) {
                snprintf(buf, n, "running (pid %d), %s", pid, state);
        } else
                snprintf(buf, n, "running (pid %d)", pid);
}
