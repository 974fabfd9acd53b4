#include "control/server.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESPAWN_MIN_MS 200
#define RESPAWN_MAX_MS 10000

void ctl_server_init(struct ctl_server *s) {
        struct stat st;

        *s = (struct ctl_server){ .req_fd = -1, .rep_fd = -1, .wanted = true, .hold_fd = -1 };
        s->hold_fd = open(CONTROL_FIFO, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        if (s->hold_fd >= 0 && (fstat(s->hold_fd, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_uid != 0)) {
                (void) close(s->hold_fd);
                s->hold_fd = -1;
        }
}

static int check_owned_dir(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0077) != 0)
                return -EPERM;
        return 0;
}

int ctl_setup_paths(void) {
        struct stat st;
        int r;

        if (mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST)
                return log_errno(-errno, LOG_ERR, "cannot create " RUN_DIR);
        if ((r = check_owned_dir(RUN_DIR)) < 0)
                return log_errno(r, LOG_ERR, RUN_DIR " is not a root-owned 0700 directory, refusing it");
        if (mkdir(REPLY_DIR, 0700) < 0 && errno != EEXIST)
                return log_errno(-errno, LOG_ERR, "cannot create " REPLY_DIR);
        if ((r = check_owned_dir(REPLY_DIR)) < 0)
                return log_errno(r, LOG_ERR, REPLY_DIR " is not a root-owned 0700 directory, refusing it");
        if (mknod(CONTROL_FIFO, S_IFIFO | 0600, 0) < 0 && errno != EEXIST)
                return log_errno(-errno, LOG_ERR, "cannot create " CONTROL_FIFO);
        if (lstat(CONTROL_FIFO, &st) < 0)
                return log_errno(-errno, LOG_ERR, "cannot stat " CONTROL_FIFO);
        if (!S_ISFIFO(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0077) != 0) {
                log_error(CONTROL_FIFO " is not a root-owned 0600 FIFO, refusing it");
                return -EPERM;
        }
        return 0;
}

static void close_pipes(struct ctl_server *s) {
        if (s->req_fd >= 0)
                (void) close(s->req_fd);
        if (s->rep_fd >= 0)
                (void) close(s->rep_fd);
        s->req_fd = s->rep_fd = -1;
}

int ctl_server_start(struct ctl_server *s) {
        int req[2], rep[2];
        pid_t pid;

        if (!s->wanted || s->parser > 0)
                return 0;
        if (now_ms() < s->next_spawn_ms)
                return -EAGAIN;
        if (pipe2(req, O_CLOEXEC) < 0)
                return log_errno(-errno, LOG_WARNING, "control: pipe");
        if (pipe2(rep, O_CLOEXEC) < 0) {
                int r = -errno;
                close(req[0]);
                close(req[1]);
                return log_errno(r, LOG_WARNING, "control: pipe");
        }
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(req[0]), close(req[1]), close(rep[0]), close(rep[1]);
                s->next_spawn_ms = now_ms() + RESPAWN_MIN_MS;
                return log_errno(r, LOG_WARNING, "control: cannot fork the parser, will retry");
        }
        if (pid == 0) {
                close(req[0]);
                close(rep[1]);
                ctl_parser_main(req[1], rep[0]);
        }
        close(req[1]);
        close(rep[0]);
        close_pipes(s);
        s->req_fd = req[0];
        s->rep_fd = rep[1];
        s->parser = pid;
        return 0;
}

static void kill_parser(struct ctl_server *s) {
        if (s->parser > 0)
                (void) kill(s->parser, SIGKILL);
        close_pipes(s);
}

int ctl_server_receive(struct ctl_server *s, struct request *req) {
        ssize_t n;

        if (s->req_fd < 0)
                return -EAGAIN;
        n = read(s->req_fd, req, sizeof *req);
        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? -EAGAIN : -errno;
        if (n == 0) {
                close_pipes(s); /* parser went away; the reaper logs why */
                return -EPIPE;
        }
        if ((size_t) n != sizeof *req || (unsigned) req->verb >= _VERB_MAX ||
            memchr(req->reply, '\0', sizeof req->reply) == NULL || memchr(req->arg, '\0', sizeof req->arg) == NULL ||
            !reply_name_valid(req->reply, strlen(req->reply))) {
                log_error("control: parser sent a malformed request, killing it");
                kill_parser(s);
                return -EBADMSG;
        }
        return 0;
}

int ctl_server_answer(struct ctl_server *s, const char *text) {
        static struct reply rep;
        size_t l = strlen(text);

        if (s->rep_fd < 0)
                return -EPIPE;
        if (l > sizeof rep.text)
                l = sizeof rep.text;
        rep.len = (uint32_t) l;
        memcpy(rep.text, text, l);
        return write_all(s->rep_fd, &rep, sizeof rep.len + l);
}

void ctl_server_stop(struct ctl_server *s, uint64_t timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;
        pid_t pid = s->parser;

        s->wanted = false;
        if (pid <= 0)
                return;
        (void) kill(pid, SIGTERM);
        /* Closing our ends wakes a parser that waits for an answer. */
        close_pipes(s);
        for (;;) {
                int st;
                pid_t r = waitpid(pid, &st, WNOHANG);
                if (r == pid || (r < 0 && errno == ECHILD))
                        break;
                if (now_ms() >= deadline) {
                        log_warning("control: parser %d did not stop in time, killing it", (int) pid);
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &st, 0);
                        break;
                }
                (void) poll(NULL, 0, 5);
        }
        s->parser = 0;
}

bool ctl_server_child_exited(struct ctl_server *s, pid_t pid, int wstatus) {
        if (pid <= 0 || pid != s->parser)
                return false;
        s->parser = 0;
        close_pipes(s);
        if (!s->wanted)
                return true;
        if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
                s->crashes = 0;
                s->next_spawn_ms = now_ms();
        } else {
                uint64_t delay = (uint64_t) RESPAWN_MIN_MS << (s->crashes < 6 ? s->crashes : 6);
                if (delay > RESPAWN_MAX_MS)
                        delay = RESPAWN_MAX_MS;
                s->crashes++;
                s->next_spawn_ms = now_ms() + delay;
                if (WIFSIGNALED(wstatus))
                        log_warning("control: parser %d killed by %s, restarting in %llu ms", (int) pid,
                                    signal_name(WTERMSIG(wstatus)), (unsigned long long) delay);
                else
                        log_warning("control: parser %d exited with status %d, restarting in %llu ms", (int) pid,
                                    WEXITSTATUS(wstatus), (unsigned long long) delay);
        }
        return true;
}

int ctl_server_timeout_ms(const struct ctl_server *s) {
        uint64_t now;

        if (!s->wanted || s->parser > 0)
                return -1;
        now = now_ms();
        return s->next_spawn_ms > now ? (int) (s->next_spawn_ms - now) : 0;
}
