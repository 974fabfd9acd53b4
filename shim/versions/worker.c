#include "versions/worker.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The worker process: default signals, killed with its owner. Its owner's
 * fds are all O_CLOEXEC: kept (the log's included) and gone at any exec. */
static void worker_body(worker_fn fn, const void *arg, int out_fd, pid_t owner) __attribute__((noreturn));
static void worker_body(worker_fn fn, const void *arg, int out_fd, pid_t owner) {
        static char out[WORKER_RESULT_MAX];
        sigset_t none;
        size_t n;

        for (int sig = 1; sig < NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != owner)
                _exit(1);
        n = fn(arg, out, sizeof out - 1);
        (void) write_all(out_fd, out, n < sizeof out ? n : sizeof out - 1);
        _exit(0);
}

int worker_start(struct worker *w, worker_fn fn, const void *arg, uint64_t timeout_ms) {
        pid_t owner = getpid(), pid;
        int p[2];

        if (w->busy)
                return -EBUSY;
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]), close(p[1]);
                return r;
        }
        if (pid == 0) {
                close(p[0]);
                worker_body(fn, arg, p[1], owner);
        }
        close(p[1]);
        w->pid = pid;
        w->fd = p[0];
        w->busy = true;
        w->timed_out = false;
        w->len = 0;
        w->result[0] = '\0';
        w->deadline_ms = now_ms() + timeout_ms;
        return 0;
}

static void finish(struct worker *w) {
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -1;
        w->result[w->len] = '\0';
}

bool worker_poll(struct worker *w) {
        if (!w->busy)
                return false;
        while (w->fd >= 0) {
                ssize_t n = read(w->fd, w->result + w->len, sizeof w->result - 1 - w->len);
                if (n > 0) {
                        w->len += (size_t) n;
                        if (w->len < sizeof w->result - 1)
                                continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                finish(w); /* EOF, full, or a read error: what we have is all */
        }
        if (w->fd >= 0 && now_ms() >= w->deadline_ms) {
                w->timed_out = true;
                if (w->pid > 0)
                        (void) kill(w->pid, SIGKILL);
                finish(w);
        }
        return w->fd < 0;
}

void worker_done(struct worker *w) {
        if (w->fd >= 0)
                finish(w);
        w->busy = false;
}

int worker_fd(const struct worker *w) {
        return w->busy ? w->fd : -1;
}

int worker_timeout_ms(const struct worker *w) {
        uint64_t now;

        if (!w->busy || w->fd < 0)
                return -1;
        now = now_ms();
        return w->deadline_ms > now ? (int) (w->deadline_ms - now) : 0;
}

bool worker_child_exited(struct worker *w, pid_t pid) {
        if (pid <= 0 || pid != w->pid)
                return false;
        w->pid = 0;
        return true;
}
