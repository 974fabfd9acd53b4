/* The control parser process: the only code that reads untrusted bytes from
 * the control FIFO. A child of the control owner, it opens the FIFO, takes
 * the ownership lock, then enters its sandbox: from there on it reads the
 * FIFO and its owner's acks, writes messages to its owner, and can do
 * nothing else (no open, no exec, no socket, no signal, no id change).
 * Everything it forwards has been validated; the owner checks it again. */
#include "control/server.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The owner gives up on an answer after 600 s; we wait a little longer. */
#define ACK_TIMEOUT_MS 660000
/* A client's request arrives whole (one write under PIPE_BUF): a line whose
 * newline has not come this long after its first byte is never one. */
#define PARTIAL_LINE_MS 1000

_Static_assert(sizeof(struct ctl_msg) <= PIPE_BUF, "a message must reach the owner in one write");

static volatile sig_atomic_t stop_requested;
/* SIGTERM is blocked except while we wait in ppoll(): no lost wake-up. */
static sigset_t wait_mask;

static void on_term(int sig) {
        (void) sig;
        stop_requested = 1;
}

static int fail_step(const char **step, const char *what, int r) {
        if (step)
                *step = what;
        return r;
}

/* Remove every capability for good: the bounding set and the ambient set
 * first (setresuid clears the others), then check that none is left. */
static int drop_capability_sets(void) {
        for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        return 0;
}

/* setresuid() empties the permitted and effective sets, not the inheritable
 * one (a container manager such as systemd-nspawn may leave it filled):
 * lowering it needs no privilege. */
static int clear_capabilities(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = { { 0 }, { 0 } };

        return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int check_no_capabilities(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        for (int i = 0; i < 2; i++)
                if (d[i].effective || d[i].permitted || d[i].inheritable)
                        return -EPERM;
        return 0;
}

static int enter_empty_root(const char *root) {
        struct stat st;

        if (lstat(root, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0022) != 0)
                return -EPERM;
        if (chroot(root) < 0 || chdir("/") < 0)
                return -errno;
        return 0;
}

static int drop_ids(uid_t uid, gid_t gid) {
        /* A user namespace may forbid setgroups(); then there must be none. */
        if (setgroups(0, NULL) < 0 && getgroups(0, NULL) != 0)
                return -errno;
        if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return -errno;
        return 0;
}

int ctl_sandbox_confine(const struct ctl_sandbox *sb, const char **step) {
        const int keep[] = { sb->fifo_fd, sb->ack_fd, sb->msg_fd, sb->lock_fd };
        int r;

        /* Before the chroot: the walk needs /proc. */
        close_fds_from(0, keep, ELEMENTSOF(keep));
        if ((r = enter_empty_root(sb->root)) < 0)
                return fail_step(step, "chroot into the empty root", r);
        if ((r = drop_capability_sets()) < 0)
                return fail_step(step, "drop the capability bounding set", r);
        if ((r = drop_ids(sb->uid, sb->gid)) < 0)
                return fail_step(step, "change to the unprivileged uid/gid", r);
        if ((r = clear_capabilities()) < 0)
                return fail_step(step, "clear the capability sets", r);
        if ((r = check_no_capabilities()) < 0)
                return fail_step(step, "verify that no capability is left", r);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return fail_step(step, "set no_new_privs", -errno);
        /* A change of credentials clears the parent-death signal: again. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return fail_step(step, "set the parent-death signal", -errno);
        return 0;
}

/* The allowlist of shim/control/sandbox-rules.h, generated at build time
 * by libseccomp for this architecture (tools/sandbox-filter-gen.c). */
#include "sandbox-filter.h"

static void patch_fd(struct sock_filter *prog, const unsigned short *sites, size_t n, int fd) {
        for (size_t i = 0; i < n; i++)
                prog[sites[i]].k = (uint32_t) fd;
}

int ctl_sandbox_program(const struct ctl_sandbox *sb, struct sock_filter *prog, size_t cap) {
        if (cap < ELEMENTSOF(sandbox_filter_template))
                return -ENOBUFS;
        if (sb->fifo_fd < 0 || sb->ack_fd < 0 || sb->msg_fd < 0)
                return -EBADF;
        memcpy(prog, sandbox_filter_template, sizeof sandbox_filter_template);
        patch_fd(prog, sandbox_filter_fifo_sites, ELEMENTSOF(sandbox_filter_fifo_sites), sb->fifo_fd);
        patch_fd(prog, sandbox_filter_ack_sites, ELEMENTSOF(sandbox_filter_ack_sites), sb->ack_fd);
        patch_fd(prog, sandbox_filter_msg_sites, ELEMENTSOF(sandbox_filter_msg_sites), sb->msg_fd);
        return (int) ELEMENTSOF(sandbox_filter_template);
}

int ctl_sandbox_filter(const struct ctl_sandbox *sb, const char **step) {
        static struct sock_filter prog[ELEMENTSOF(sandbox_filter_template)];
        struct sock_fprog fprog = { .filter = prog };
        int r = ctl_sandbox_program(sb, prog, ELEMENTSOF(prog));

        if (r < 0)
                return fail_step(step, "build the seccomp filter", r);
        fprog.len = (unsigned short) r;
        /* As libseccomp's seccomp_load: no_new_privs first (set already by
         * ctl_sandbox_confine when both layers are entered). */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
                return fail_step(step, "install the seccomp filter", -errno);
        return 0;
}

int ctl_sandbox_enter(const struct ctl_sandbox *sb, const char **step) {
        int r = ctl_sandbox_confine(sb, step);

        return r < 0 ? r : ctl_sandbox_filter(sb, step);
}

/* Tell the owner something. The pipe is empty (lock-step) and the message
 * under PIPE_BUF: one write that does not block. */
static int send_msg(int fd, enum ctl_msg_kind kind, const struct request *req, const char *reason) {
        static struct ctl_msg m;
        size_t i;

        memset(&m, 0, sizeof m);
        m.kind = kind;
        if (kind == CTL_MSG_REQUEST)
                m.req = *req;
        else if (req)
                memcpy(m.req.reply, req->reply, sizeof m.req.reply);
        for (i = 0; reason && reason[i] && i < sizeof m.reason - 1; i++)
                m.reason[i] = (reason[i] >= 0x20 && reason[i] <= 0x7e) ? reason[i] : '?';
        return write_all(fd, &m, sizeof m);
}

/* Wait until fd is readable, at most timeout_ms (< 0: no limit), with
 * SIGTERM let in. 1 readable, 0 timeout, -EINTR, or -errno. */
static int wait_readable(int fd, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        struct timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = (long) (timeout_ms % 1000) * 1000000L };
        int r = ppoll(&p, 1, timeout_ms < 0 ? NULL : &ts, &wait_mask);

        return r < 0 ? -errno : r;
}

static int remaining_ms(uint64_t deadline) {
        uint64_t now = now_ms();

        if (now >= deadline)
                return 0;
        return deadline - now > INT_MAX ? INT_MAX : (int) (deadline - now);
}

/* Read one line, a byte at a time so that we never take more than one
 * request out of the FIFO: what we have not read stays for the next owner.
 * Returns the line's length (NUL-terminated, cut to cap - 1; *total is the
 * real length), -EINTR when asked to stop between lines, -ETIMEDOUT when an
 * unfinished line of *total bytes was dropped, or -errno. */
static ssize_t read_line(int fd, char *line, size_t cap, size_t *total) {
        uint64_t deadline = 0;
        size_t n = 0;

        *total = 0;
        for (;;) {
                char ch;
                ssize_t r;

                if (stop_requested && *total == 0)
                        return -EINTR;
                r = read(fd, &ch, 1);
                if (r == 1) {
                        if (ch == '\n')
                                break;
                        if ((*total)++ == 0)
                                deadline = now_ms() + PARTIAL_LINE_MS;
                        if (n + 1 < cap)
                                line[n++] = ch;
                        continue;
                }
                /* r == 0 cannot be: we hold the FIFO open for writing too. */
                if (r < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                /* Mid-line and nothing more: not a client's request, which
                 * arrives whole. Let it go, rather than wait on its writer. */
                if (*total > 0 && (stop_requested || remaining_ms(deadline) == 0))
                        return -ETIMEDOUT;
                r = wait_readable(fd, *total > 0 ? remaining_ms(deadline) : -1);
                if (r < 0 && r != -EINTR)
                        return r;
        }
        line[n] = '\0';
        return (ssize_t) n;
}

/* The owner's ack: it has dealt with our message. -EINTR when asked to
 * stop (a request handed over is the owner's to answer), -EPIPE when the
 * owner closed its end. */
static int wait_ack(int fd) {
        uint64_t deadline = now_ms() + ACK_TIMEOUT_MS;

        for (;;) {
                char a;
                ssize_t r;

                if (stop_requested)
                        return -EINTR;
                r = read(fd, &a, 1);
                if (r == 1)
                        return a == CTL_ACK ? 0 : -EBADMSG;
                if (r == 0)
                        return -EPIPE;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (remaining_ms(deadline) == 0)
                        return -ETIMEDOUT;
                r = wait_readable(fd, remaining_ms(deadline));
                if (r < 0 && r != -EINTR)
                        return r;
        }
}

static int tell_owner(int msg_fd, int ack_fd, enum ctl_msg_kind kind, const struct request *req, const char *why) {
        int r = send_msg(msg_fd, kind, req, why);

        return r < 0 ? r : wait_ack(ack_fd);
}

/* One complete line: hand it over as a request, a refusal or a log line. */
static int handle_line(int msg_fd, int ack_fd, const char *line, size_t len) {
        static struct request req;
        char err[160], why[200];
        int r = request_parse(line, len, &req, err, sizeof err);

        if (r == 0)
                return tell_owner(msg_fd, ack_fd, CTL_MSG_REQUEST, &req, NULL);
        if (req.reply[0])
                return tell_owner(msg_fd, ack_fd, CTL_MSG_REFUSED, &req, err);
        /* Nobody to answer. */
        snprintf(why, sizeof why, "refused request: %s", err);
        return tell_owner(msg_fd, ack_fd, CTL_MSG_LOG, NULL, why);
}

static int handle_unfinished_line(int msg_fd, int ack_fd, size_t len) {
        char why[160];

        snprintf(why, sizeof why, "dropped an unfinished line of %zu bytes (no newline within %d ms: not a request)",
                 len, PARTIAL_LINE_MS);
        return tell_owner(msg_fd, ack_fd, CTL_MSG_LOG, NULL, why);
}

static void __attribute__((noreturn)) serve(int fifo, int msg_fd, int ack_fd) {
        static char line[PROTO_LINE_MAX + 1];

        for (;;) {
                size_t total;
                ssize_t n = read_line(fifo, line, sizeof line, &total);
                int r = 0;

                if (n == -EINTR)
                        _exit(0);
                if (n == -ETIMEDOUT)
                        r = handle_unfinished_line(msg_fd, ack_fd, total);
                else if (n < 0) {
                        (void) send_msg(msg_fd, CTL_MSG_LOG, NULL, "parser cannot read " CONTROL_FIFO);
                        _exit(5);
                } else if (total == 0)
                        continue; /* the newline a client sends first */
                else
                        r = handle_line(msg_fd, ack_fd, line, (size_t) n);
                /* Stopped, or the owner went away: what we handed over is its own. */
                if (r == -EINTR || r == -EPIPE)
                        _exit(0);
                if (r < 0)
                        _exit(r == -ETIMEDOUT ? 7 : 6);
        }
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

/* Exactly one reader: wait here until the previous owner's parser is gone.
 * We already hold the FIFO open, so nothing written meanwhile is lost. */
static int take_lock(void) {
        struct stat st;
        int fd = open(CONTROL_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);

        if (fd < 0)
                return log_errno(-errno, LOG_ERR, "control: cannot open " CONTROL_LOCK);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0) {
                close(fd);
                log_error("control: " CONTROL_LOCK " is not a root-owned file, not serving");
                return -EPERM;
        }
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR || stop_requested)
                        _exit(0);
        return fd;
}

/* Leave the owner's signal set-up and fds behind. */
static void leave_owner_state(int req_w, int rep_r) {
        struct sigaction sa = { .sa_handler = on_term };
        const int keep[] = { req_w, rep_r };
        sigset_t none;

        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        (void) sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: waits return EINTR */
        (void) signal(SIGPIPE, SIG_IGN);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_NAME, "initshim-ctl");
        log_close();
        close_fds_from(3, keep, ELEMENTSOF(keep));
        log_open("initshim-ctl");
        log_set_console(false);
}

void ctl_parser_main(int req_w, int rep_r) {
        pid_t owner = getppid();
        struct ctl_sandbox sb = { .root = CTL_EMPTY_DIR, .uid = CTL_PARSER_UID, .gid = CTL_PARSER_GID,
                                  .ack_fd = rep_r, .msg_fd = req_w };
        const char *step = "?";
        char why[160];
        sigset_t term;
        int r;

        leave_owner_state(req_w, rep_r);
        if ((sb.fifo_fd = open_fifo()) < 0 || (sb.lock_fd = take_lock()) < 0)
                _exit(3);
        /* From here on SIGTERM comes in only while we wait (wait_mask). */
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &term, &wait_mask);
        /* Logging needs a file: the log's fd goes with the rest, and the
         * owner logs for us from now on. */
        log_close();
        r = ctl_sandbox_confine(&sb, &step);
        if (r == 0 && getppid() != owner)
                _exit(0); /* the owner died before the parent-death signal was set again */
        if (r == 0)
                r = ctl_sandbox_filter(&sb, &step);
        if (r < 0) {
                snprintf(why, sizeof why, "parser cannot %s (%s), not serving", step, strerror(-r));
                (void) send_msg(req_w, CTL_MSG_LOG, NULL, why);
                _exit(4);
        }
        serve(sb.fifo_fd, req_w, rep_r);
}
