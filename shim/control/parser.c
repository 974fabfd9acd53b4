/* The control parser process: the only code that reads untrusted bytes from
 * the control FIFO. It runs as a child of the control owner, holds the
 * ownership lock, and after setup can only read, write, open reply FIFOs and
 * exit (seccomp allowlist). Everything it forwards has been validated. */
#include "control/server.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define ANSWER_TIMEOUT_MS 600000 /* a version switch answers when verified */

static volatile sig_atomic_t stop_requested;

static void on_term(int sig) {
        (void) sig;
        stop_requested = 1;
}

int ctl_parser_sandbox(void) {
        static const int allowed[] = {
                SCMP_SYS(read),         SCMP_SYS(write),      SCMP_SYS(openat),     SCMP_SYS(close),
                SCMP_SYS(fstat),        SCMP_SYS(newfstatat), SCMP_SYS(fcntl),      SCMP_SYS(poll),
                SCMP_SYS(ppoll),        SCMP_SYS(exit),       SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
                SCMP_SYS(restart_syscall), SCMP_SYS(clock_gettime), SCMP_SYS(getpid), SCMP_SYS(statx),
        };
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        int r;

        if (!ctx)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
                if (r < 0)
                        goto out;
        }
        r = seccomp_load(ctx);
out:
        seccomp_release(ctx);
        return r;
}

/* Open the FIFO and verify it is the one we made (not a symlink, a FIFO,
 * root-owned, not accessible to others). O_RDWR: we never see EOF, and the
 * pipe buffer outlives any one writer. */
static int open_fifo(void) {
        struct stat st;
        int fd = open(CONTROL_FIFO, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0)
                return log_errno(-errno, LOG_ERR, "control: cannot open " CONTROL_FIFO);
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0077) != 0) {
                close(fd);
                log_error("control: " CONTROL_FIFO " is not a root-owned 0600 FIFO, refusing to read it");
                return -EPERM;
        }
        return fd;
}

/* Read one line, a byte at a time so that we never take more than one
 * request out of the FIFO: what we have not read stays for the next owner.
 * Returns the line length (line NUL-terminated, truncated to cap), -EINTR
 * when asked to stop between requests, or -errno. *too_long reports a cut. */
static ssize_t read_line(int fd, char *line, size_t cap, bool *too_long) {
        size_t n = 0, total = 0;

        *too_long = false;
        for (;;) {
                char ch;
                ssize_t r;

                if (stop_requested && total == 0)
                        return -EINTR;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (total == 0 && poll(&p, 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                r = read(fd, &ch, 1);
                if (r < 0) {
                        if (errno == EINTR || errno == EAGAIN) {
                                /* Mid-line: the writer wrote the whole line at once,
                                 * so the rest is already there; keep going. */
                                if (total > 0 && errno == EAGAIN) {
                                        struct pollfd q = { .fd = fd, .events = POLLIN };
                                        if (poll(&q, 1, 1000) == 0)
                                                break; /* truncated garbage */
                                }
                                continue;
                        }
                        return -errno;
                }
                if (r == 0)
                        continue;
                if (ch == '\n')
                        break;
                total++;
                if (n + 1 < cap)
                        line[n++] = ch;
                else
                        *too_long = true;
        }
        line[n] = '\0';
        if (total >= PROTO_LINE_MAX)
                *too_long = true;
        return (ssize_t) n;
}

static void answer_client(int reply_dir, const char *name, const char *text, size_t len) {
        struct stat st;
        int fd;

        /* Non-blocking: a client that gave up must not wedge us. */
        fd = openat(reply_dir, name, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                log_warning("control: cannot answer '%s': %s", name, strerror(errno));
                return;
        }
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_uid != 0) {
                log_warning("control: reply path '%s' is not a root-owned FIFO, not answering", name);
                close(fd);
                return;
        }
        if (write_all(fd, text, len) < 0)
                log_warning("control: client '%s' went away before the answer", name);
        close(fd);
}

static int wait_answer(int rep_r, struct reply *rep) {
        size_t got = 0, want = sizeof rep->len;

        while (got < want) {
                struct pollfd p = { .fd = rep_r, .events = POLLIN };
                int r = poll(&p, 1, ANSWER_TIMEOUT_MS);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return r == 0 ? -ETIMEDOUT : -errno;
                ssize_t n = read(rep_r, (char *) rep + got, want - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n == 0 ? -EPIPE : -errno;
                got += (size_t) n;
                if (got == sizeof rep->len) {
                        if (rep->len > sizeof rep->text)
                                return -EBADMSG;
                        want += rep->len;
                }
        }
        return 0;
}

void ctl_parser_main(int req_w, int rep_r) {
        static char line[PROTO_LINE_MAX + 1];
        static struct request req;
        static struct reply rep;
        struct sigaction sa = { .sa_handler = on_term };
        sigset_t all;
        int fifo, reply_dir, lock, keep[3];
        char err[160];

        /* Leave the owner's signal set-up and fds behind. */
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        (void) sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: reads return EINTR */
        (void) signal(SIGPIPE, SIG_IGN);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_NAME, "initshim-ctl");
        log_open("initshim-ctl");
        log_set_console(false);
        keep[0] = req_w, keep[1] = rep_r, keep[2] = -1;
        close_fds_from(3, keep, 2);
        log_close();
        log_open(NULL);

        fifo = open_fifo();
        if (fifo < 0)
                _exit(3);
        reply_dir = open(REPLY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (reply_dir < 0)
                _exit(3);
        lock = open(CONTROL_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0) {
                log_errno(-errno, LOG_ERR, "control: cannot open " CONTROL_LOCK);
                _exit(3);
        }
        /* Exactly one reader: wait here until the previous owner's parser is
         * gone. We already hold the FIFO open, so nothing written meanwhile is
         * lost. */
        while (flock(lock, LOCK_EX) < 0) {
                if (errno != EINTR || stop_requested)
                        _exit(0);
        }
        if (ctl_parser_sandbox() < 0) {
                log_error("control: cannot install the parser's seccomp filter, not serving");
                _exit(4);
        }

        for (;;) {
                bool too_long;
                ssize_t n = read_line(fifo, line, sizeof line, &too_long);
                if (n == -EINTR)
                        _exit(0);
                if (n < 0)
                        _exit(5);
                int r = request_parse(line, (size_t) n, &req, err, sizeof err);
                if (r == 0 && too_long) {
                        r = -E2BIG;
                        snprintf(err, sizeof err, "request longer than %d bytes", PROTO_LINE_MAX - 1);
                }
                if (r < 0) {
                        log_warning("control: refused request: %s", err);
                        if (req.reply[0]) {
                                int l = snprintf(rep.text, sizeof rep.text, "error: %s\n", err);
                                answer_client(reply_dir, req.reply, rep.text, (size_t) l);
                        }
                        continue;
                }
                /* The owner answers every request it reads before it lets go of
                 * the control role; so if it closed the pipe without an answer it
                 * never saw this one, and the client may safely send it again. */
                r = write_all(req_w, &req, sizeof req);
                if (r == 0)
                        r = wait_answer(rep_r, &rep);
                if (r < 0) {
                        int l = r == -ETIMEDOUT
                                        ? snprintf(rep.text, sizeof rep.text, "error: initshim did not answer in time\n")
                                        : snprintf(rep.text, sizeof rep.text, PROTO_RETRY "control is changing hands\n");
                        answer_client(reply_dir, req.reply, rep.text, (size_t) l);
                        _exit(r == -ETIMEDOUT ? 7 : 0);
                }
                answer_client(reply_dir, req.reply, rep.text, rep.len);
        }
}
