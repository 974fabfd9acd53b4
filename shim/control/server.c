#include "control/server.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESPAWN_MIN_MS 200
#define RESPAWN_MAX_MS 10000
/* A parser that ran this long before it died was healthy: its death starts
 * the backoff again instead of costing the longest delay. */
#define PARSER_HEALTHY_MS 60000
/* A version switch answers when it is verified. */
#define ANSWER_TIMEOUT_MS 600000

void ctl_server_init(struct ctl_server *s) {
        struct stat st;

        *s = (struct ctl_server){ .req_fd = -1, .rep_fd = -1, .wanted = true, .hold_fd = -1 };
        s->hold_fd = open(CONTROL_FIFO, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        if (s->hold_fd >= 0 && (fstat(s->hold_fd, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_uid != 0)) {
                (void) close(s->hold_fd);
                s->hold_fd = -1;
        }
}

static int check_owned_dir(const char *path, mode_t forbidden) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & forbidden) != 0)
                return -EPERM;
        return 0;
}

static int make_owned_dir(const char *path, mode_t mode, mode_t forbidden) {
        int r;

        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return log_errno(-errno, LOG_ERR, "cannot create %s", path);
        r = check_owned_dir(path, forbidden);
        if (r < 0)
                return log_errno(r, LOG_ERR, "%s is not a root-owned directory closed to others, refusing it", path);
        return 0;
}

int ctl_setup_paths(void) {
        struct stat st;
        int r;

        if ((r = make_owned_dir(RUN_DIR, 0700, 0077)) < 0 || (r = make_owned_dir(REPLY_DIR, 0700, 0077)) < 0)
                return r;
        /* Nobody may write into the parser's root; the parser needs nothing in it. */
        if ((r = make_owned_dir(CTL_EMPTY_DIR, 0555, 0022)) < 0)
                return r;
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

static void close_fd(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
        *fd = -1;
}

static void close_pipes(struct ctl_server *s) {
        close_fd(&s->req_fd);
        close_fd(&s->rep_fd);
}

void ctl_server_forget(struct ctl_server *s) {
        close_pipes(s);
        close_fd(&s->hold_fd);
        s->parser = 0;
        s->wanted = false;
        s->pending[0] = '\0';
}

void ctl_forget_inherited_fds(int keep_fd) {
        log_close();
        close_fds_from(3, &keep_fd, keep_fd >= 0 ? 1 : 0);
}

int ctl_reply_open(int dir_fd, const char *name, uid_t owner) {
        struct stat before, after;
        int fd;

        /* A plain name in dir_fd: no '/', no "." or "..". */
        if (!reply_name_valid(name, strnlen(name, PROTO_NAME_MAX + 1)))
                return -EINVAL;
        /* Look before opening: opening a device or a file has effects. */
        if (fstatat(dir_fd, name, &before, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISFIFO(before.st_mode) || before.st_uid != owner)
                return -EPERM;
        /* Non-blocking: a client that gave up (ENXIO, no reader) cannot wedge us. */
        fd = openat(dir_fd, name, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &after) < 0 || !S_ISFIFO(after.st_mode) || after.st_dev != before.st_dev ||
            after.st_ino != before.st_ino) {
                (void) close(fd);
                return -EPERM; /* replaced between the look and the open */
        }
        return fd;
}

/* Write an answer to the client NAME; never blocks. */
static int reply_to_client(const char *name, const char *text) {
        size_t len = strnlen(text, PROTO_REPLY_MAX);
        struct stat st;
        int dir, fd, r = 0;

        dir = open(REPLY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return log_errno(-errno, LOG_WARNING, "control: cannot answer '%s': " REPLY_DIR, name);
        if (fstat(dir, &st) < 0 || st.st_uid != 0 || (st.st_mode & 0077) != 0) {
                (void) close(dir);
                log_warning("control: " REPLY_DIR " is not a root-owned 0700 directory, not answering '%s'", name);
                return -EPERM;
        }
        fd = ctl_reply_open(dir, name, geteuid());
        (void) close(dir);
        if (fd == -ENXIO)
                return log_errno(fd, LOG_INFO, "control: client '%s' went away before its answer", name);
        if (fd < 0)
                return log_errno(fd, LOG_WARNING, "control: not answering '%s': its reply path is not our FIFO", name);
        /* Under PIPE_BUF into a non-blocking pipe: all of it, or EAGAIN. */
        if (write(fd, text, len) != (ssize_t) len)
                r = log_errno(-errno, LOG_WARNING, "control: cannot write the answer to '%s'", name);
        (void) close(fd);
        return r;
}

static void ack_parser(struct ctl_server *s) {
        const char a = CTL_ACK;

        /* A parser that is gone needs none (SIGPIPE is blocked in owners). */
        if (s->rep_fd >= 0)
                (void) !write(s->rep_fd, &a, 1);
}

static bool printable_string(const char *s, size_t size) {
        const char *end = memchr(s, '\0', size);

        if (!end)
                return false;
        for (; s < end; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
                        return false;
        return true;
}

/* The parser is sandboxed, not trusted: check what it sends. */
static bool msg_valid(const struct ctl_msg *m) {
        const struct request *q = &m->req;

        if (!printable_string(m->reason, sizeof m->reason) || !printable_string(q->arg, sizeof q->arg) ||
            !printable_string(q->reply, sizeof q->reply))
                return false;
        switch (m->kind) {
        case CTL_MSG_REQUEST:
                return (unsigned) q->verb < _VERB_MAX && reply_name_valid(q->reply, strlen(q->reply));
        case CTL_MSG_REFUSED:
                return reply_name_valid(q->reply, strlen(q->reply));
        case CTL_MSG_LOG:
                return true;
        }
        return false;
}

static int start_parser_process(struct ctl_server *s) {
        int req[2], rep[2];
        pid_t pid;

        /* Non-blocking: the owner never blocks on its parser, which may be
         * stopped or dead; in lock-step neither side finds a pipe full. */
        if (pipe2(req, O_CLOEXEC | O_NONBLOCK) < 0)
                return log_errno(-errno, LOG_WARNING, "control: pipe");
        if (pipe2(rep, O_CLOEXEC | O_NONBLOCK) < 0) {
                int r = -errno;
                close(req[0]), close(req[1]);
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
                ctl_server_forget(s);
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
        s->parser_since_ms = now_ms();
        return 0;
}

static void expire_pending(struct ctl_server *s) {
        if (!s->pending[0] || now_ms() < s->pending_deadline_ms)
                return;
        log_warning("control: request of '%s' not answered within %d s", s->pending, ANSWER_TIMEOUT_MS / 1000);
        (void) ctl_server_answer(s, "error: initshim did not answer in time\n");
}

int ctl_server_start(struct ctl_server *s) {
        expire_pending(s);
        if (!s->wanted || s->parser > 0 || s->pending[0])
                return 0;
        if (now_ms() < s->next_spawn_ms)
                return -EAGAIN;
        return start_parser_process(s);
}

static void kill_parser(struct ctl_server *s) {
        if (s->parser > 0)
                (void) kill(s->parser, SIGKILL);
        close_pipes(s);
}

/* Read one message; -EAGAIN if none, -EPIPE when the parser went away. */
static int read_msg(struct ctl_server *s, struct ctl_msg *m) {
        ssize_t n;

        if (s->req_fd < 0)
                return -EAGAIN;
        n = read(s->req_fd, m, sizeof *m);
        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? -EAGAIN : -errno;
        if (n == 0) {
                close_pipes(s); /* parser went away; the reaper logs why */
                return -EPIPE;
        }
        /* Lock-step: one message, then the parser waits for our ack. */
        if ((size_t) n != sizeof *m || !msg_valid(m) || (m->kind == CTL_MSG_REQUEST && s->pending[0])) {
                log_error("control: parser %d sent a malformed message, killing it", (int) s->parser);
                kill_parser(s);
                return -EBADMSG;
        }
        return 0;
}

/* What needs no owner's decision: refusals and log lines. */
static void handle_plain_msg(struct ctl_server *s, const struct ctl_msg *m) {
        static char text[sizeof m->reason + 16];

        if (m->kind == CTL_MSG_REFUSED) {
                log_warning("control: refused request of '%s': %s", m->req.reply, m->reason);
                snprintf(text, sizeof text, "error: %s\n", m->reason);
                (void) reply_to_client(m->req.reply, text);
        } else
                log_warning("control: %s", m->reason);
        ack_parser(s);
}

int ctl_server_receive(struct ctl_server *s, struct request *req) {
        static struct ctl_msg m;
        int r = read_msg(s, &m);

        if (r < 0)
                return r;
        if (m.kind != CTL_MSG_REQUEST) {
                handle_plain_msg(s, &m);
                return -EAGAIN;
        }
        memcpy(s->pending, m.req.reply, sizeof s->pending);
        s->pending_deadline_ms = now_ms() + ANSWER_TIMEOUT_MS;
        *req = m.req;
        return 0;
}

int ctl_server_answer(struct ctl_server *s, const char *text) {
        int r;

        if (!s->pending[0]) {
                log_warning("control: no request waits for this answer (it timed out): dropped");
                return -ENOENT;
        }
        r = reply_to_client(s->pending, text);
        s->pending[0] = '\0';
        ack_parser(s);
        return r;
}

/* During a stop: what the parser hands over now is not acted on. */
static void refuse_handed_over(struct ctl_server *s) {
        static struct ctl_msg m;

        while (read_msg(s, &m) == 0) {
                if (m.kind != CTL_MSG_REQUEST) {
                        handle_plain_msg(s, &m);
                        continue;
                }
                log_info("control: '%s' asked while the control role changes hands: retry", m.req.reply);
                (void) reply_to_client(m.req.reply, PROTO_RETRY "control is changing hands\n");
                ack_parser(s);
        }
}

/* Wait until the parser is reaped or the deadline passes, answering what
 * it hands over meanwhile; true once reaped. */
static bool reap_parser_until(struct ctl_server *s, uint64_t deadline) {
        for (;;) {
                int st;
                pid_t r;
                uint64_t now;

                refuse_handed_over(s);
                r = waitpid(s->parser, &st, WNOHANG);
                if (r == s->parser || (r < 0 && errno == ECHILD))
                        return true;
                now = now_ms();
                if (now >= deadline)
                        return false;
                struct pollfd p = { .fd = s->req_fd, .events = POLLIN };
                /* Short ticks: the parser's exit shows in waitpid, not in poll. */
                (void) poll(&p, 1, deadline - now < 5 ? (int) (deadline - now) : 5);
        }
}

void ctl_server_stop(struct ctl_server *s, uint64_t timeout_ms) {
        uint64_t start = now_ms();
        pid_t pid = s->parser;

        s->wanted = false;
        if (pid > 0) {
                (void) kill(pid, SIGTERM);
                if (!reap_parser_until(s, start + timeout_ms * 3 / 4)) {
                        log_warning("control: parser %d did not stop in time, killing it", (int) pid);
                        (void) kill(pid, SIGKILL);
                        if (!reap_parser_until(s, start + timeout_ms))
                                log_warning("control: parser %d not gone yet, left to the reaper", (int) pid);
                }
        }
        refuse_handed_over(s);
        close_pipes(s);
        s->parser = 0;
}

bool ctl_server_child_exited(struct ctl_server *s, pid_t pid, int wstatus) {
        uint64_t now = now_ms(), delay;

        if (pid <= 0 || pid != s->parser)
                return false;
        s->parser = 0;
        /* What it sent before it went (a log line saying why) comes first. */
        refuse_handed_over(s);
        close_pipes(s);
        if (!s->wanted)
                return true;
        if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
                s->crashes = 0;
                s->next_spawn_ms = now;
                return true;
        }
        if (now - s->parser_since_ms >= PARSER_HEALTHY_MS)
                s->crashes = 0;
        delay = (uint64_t) RESPAWN_MIN_MS << (s->crashes < 6 ? s->crashes : 6);
        if (delay > RESPAWN_MAX_MS)
                delay = RESPAWN_MAX_MS;
        s->crashes++;
        s->next_spawn_ms = now + delay;
        if (WIFSIGNALED(wstatus))
                log_warning("control: parser %d killed by %s, restarting in %llu ms", (int) pid,
                            signal_name(WTERMSIG(wstatus)), (unsigned long long) delay);
        else
                log_warning("control: parser %d exited with status %d, restarting in %llu ms", (int) pid,
                            WEXITSTATUS(wstatus), (unsigned long long) delay);
        return true;
}

int ctl_server_timeout_ms(const struct ctl_server *s) {
        uint64_t now = now_ms(), next = UINT64_MAX;

        if (s->pending[0])
                next = s->pending_deadline_ms;
        else if (s->wanted && s->parser <= 0)
                next = s->next_spawn_ms;
        if (next == UINT64_MAX)
                return -1;
        if (next <= now)
                return 0;
        return next - now > INT32_MAX ? INT32_MAX : (int) (next - now);
}
