/* The control parser's sandbox: a process inside it tries what a parser
 * taken over by an attacker would, and each attempt must be refused (the
 * process killed, or EPERM/EACCES). The confinement layer alone (chroot,
 * unprivileged ids, no capabilities) is tried too, without the seccomp
 * filter, so that each layer is known to hold on its own.
 * Needs root (chroot, setresuid); skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "control/server.h"

enum layers { CONFINE = 1, FULL = 2 };

#define NEED_ROOT()                     \
        do {                            \
                (void) state;           \
                if (geteuid() != 0)     \
                        skip();         \
        } while (0)

static char root[64] = "/tmp/initshim-sandbox.XXXXXX";
static char secret_path[96];
static pid_t test_pid; /* the parser's owner, as seen from the sandbox */
static int secret_fd;  /* opened before the sandbox: must not survive it */

typedef int (*action_fn)(void);

static int ret(int r) {
        return r < 0 ? -errno : 0;
}
static int open_existing_file(void) {
        int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        return ret(fd);
}
static int openat_existing_dir(void) {
        return ret(openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}
static int create_new_file(void) {
        return ret(open("/created-by-parser", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
}
static int execute_shell(void) {
        char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "true", NULL };
        return ret(execv("/bin/sh", argv));
}
static int open_socket(void) {
        return ret(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
}
static int write_inherited_fd(void) {
        return ret((int) write(secret_fd, "x", 1));
}
static int write_stderr(void) {
        return ret((int) write(STDERR_FILENO, "x", 1));
}
static int ptrace_owner(void) {
        return ret((int) ptrace(PTRACE_ATTACH, test_pid, NULL, NULL));
}
static int signal_pid1(void) {
        return ret(kill(1, 0)); /* signal 0: only the permission check */
}
static int signal_owner(void) {
        return ret(kill(test_pid, 0));
}
static int chroot_escape(void) {
        return ret(chroot("."));
}
static int chdir_out(void) {
        return ret(chdir(".."));
}
static int become_root(void) {
        return ret(setuid(0));
}
static int fork_child(void) {
        pid_t p = fork();
        if (p == 0)
                _exit(0);
        return ret(p);
}

struct outcome {
        bool killed;
        int sig;
        int err; /* what the action returned: 0 or -errno */
};

/* Child: enter the sandbox on these pipes, report ready, wait for "go",
 * run the action and report its result on the one writable fd. */
static void __attribute__((noreturn)) sandboxed_child(int layers, action_fn act, const int *fifo, const int *ack,
                                                      const int *msg) {
        struct ctl_sandbox sb = { .root = root, .uid = CTL_PARSER_UID, .gid = CTL_PARSER_GID,
                                  .fifo_fd = fifo[0], .ack_fd = ack[0], .msg_fd = msg[1], .lock_fd = -1 };
        const char *step = NULL;
        int r = layers == FULL ? ctl_sandbox_enter(&sb, &step) : ctl_sandbox_confine(&sb, &step);
        char go;

        if (r < 0) {
                (void) !write(msg[1], &r, sizeof r);
                _exit(10);
        }
        r = 1; /* ready */
        if (write(msg[1], &r, sizeof r) != sizeof r || read(ack[0], &go, 1) != 1)
                _exit(11);
        r = act();
        (void) !write(msg[1], &r, sizeof r);
        _exit(0);
}

static int read_int(int fd, int *v) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10000) != 1)
                return -ETIMEDOUT;
        return read(fd, v, sizeof *v) == sizeof *v ? 0 : -EIO;
}

/* inspect (optional) runs in the parent while the child waits in its sandbox. */
static struct outcome run_sandboxed(int layers, action_fn act, void (*inspect)(pid_t)) {
        int fifo[2], ack[2], msg[2], v, st;
        struct outcome o = { .err = 1 };
        pid_t pid;

        assert_int_equal(pipe2(fifo, O_CLOEXEC), 0);
        assert_int_equal(pipe2(ack, O_CLOEXEC), 0);
        assert_int_equal(pipe2(msg, O_CLOEXEC), 0);
        secret_fd = open(secret_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(secret_fd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                sandboxed_child(layers, act, fifo, ack, msg);
        close(fifo[0]), close(ack[0]), close(msg[1]), close(secret_fd);
        assert_int_equal(read_int(msg[0], &v), 0);
        assert_int_equal(v, 1); /* entered the sandbox (else v is its -errno) */
        if (inspect)
                inspect(pid);
        assert_int_equal(write(ack[1], "g", 1), 1);
        if (read_int(msg[0], &v) == 0)
                o.err = v;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        o.killed = WIFSIGNALED(st);
        o.sig = o.killed ? WTERMSIG(st) : 0;
        close(fifo[1]), close(ack[1]), close(msg[0]);
        return o;
}

static const struct {
        const char *what;
        action_fn act;
} forbidden[] = {
        { "open an existing file", open_existing_file },
        { "openat an existing directory", openat_existing_dir },
        { "create a new file", create_new_file },
        { "execve a shell", execute_shell },
        { "open a socket", open_socket },
        { "write to an inherited fd", write_inherited_fd },
        { "write to stderr", write_stderr },
        { "ptrace its owner", ptrace_owner },
        { "signal PID 1", signal_pid1 },
        { "signal its owner", signal_owner },
        { "chroot out", chroot_escape },
        { "chdir out", chdir_out },
        { "setuid(0)", become_root },
        { "fork", fork_child },
};

static void test_forbidden_actions_are_refused(void **state) {
        NEED_ROOT();
        for (size_t i = 0; i < ELEMENTSOF(forbidden); i++) {
                struct outcome o = run_sandboxed(FULL, forbidden[i].act, NULL);
                bool refused = o.killed || o.err == -EPERM || o.err == -EACCES;
                if (!refused)
                        fail_msg("sandboxed parser could %s (result %d, signal %d)", forbidden[i].what, o.err, o.sig);
                if (o.killed)
                        assert_int_equal(o.sig, SIGSYS);
        }
        char created[96];
        struct stat st;
        snprintf(created, sizeof created, "%s/created-by-parser", root);
        assert_int_equal(stat(created, &st), -1);
}

/* The confinement without the filter: each forbidden action that reaches
 * the kernel fails for lack of a file, a privilege or an fd. */
static void test_confinement_alone_refuses(void **state) {
        NEED_ROOT();
        static const struct {
                action_fn act;
                int err;
        } expect[] = {
                { open_existing_file, -ENOENT }, /* the host's files are not in its root */
                { create_new_file, -EACCES },
                { execute_shell, -ENOENT },
                { write_inherited_fd, -EBADF },
                { write_stderr, -EBADF },
                { ptrace_owner, -EPERM },
                { signal_pid1, -EPERM },
                { signal_owner, -EPERM },
                { chroot_escape, -EPERM },
                { become_root, -EPERM },
        };
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                struct outcome o = run_sandboxed(CONFINE, expect[i].act, NULL);
                assert_false(o.killed);
                assert_int_equal(o.err, expect[i].err);
        }
}

static void assert_status_field(pid_t pid, const char *key, const char *want) {
        char buf[4096];
        const char *v = read_proc_status_field(pid, key, buf, sizeof buf);
        assert_non_null(v);
        while (*v == ' ' || *v == '\t')
                v++;
        if (strncmp(v, want, strlen(want)) != 0)
                fail_msg("%s: '%.40s', want '%s'", key, v, want);
}

static void assert_groups_empty(pid_t pid) {
        char buf[4096];
        const char *v = read_proc_status_field(pid, "Groups", buf, sizeof buf);
        assert_non_null(v);
        v += strspn(v, " \t");
        if (*v != '\n' && *v != '\0')
                fail_msg("Groups: '%.40s', want none", v);
}

static int count_fd(long fd, int skip_fd, void *data) {
        (void) fd, (void) skip_fd;
        ++*(int *) data;
        return 0;
}

/* What the kernel says about a process in the sandbox. */
static void inspect_sandboxed(pid_t pid) {
        char path[64], target[256];
        int n = 0;
        ssize_t l;

        assert_status_field(pid, "Uid", "65534\t65534\t65534\t65534");
        assert_status_field(pid, "Gid", "65534\t65534\t65534\t65534");
        assert_groups_empty(pid);
        assert_status_field(pid, "CapEff", "0000000000000000");
        assert_status_field(pid, "CapPrm", "0000000000000000");
        assert_status_field(pid, "CapBnd", "0000000000000000");
        assert_status_field(pid, "CapAmb", "0000000000000000");
        assert_status_field(pid, "NoNewPrivs", "1");
        assert_status_field(pid, "Seccomp", "2");
        snprintf(path, sizeof path, "/proc/%d/root", (int) pid);
        l = readlink(path, target, sizeof target - 1);
        assert_true(l > 0);
        target[l] = '\0';
        assert_string_equal(target, root);
        /* fifo, ack and msg: nothing else, not even 0-2 (lock_fd is -1 here). */
        snprintf(path, sizeof path, "/proc/%d/fd", (int) pid);
        assert_int_equal(foreach_number(path, count_fd, &n), 0);
        assert_int_equal(n, 3);
}

static int do_what_the_parser_does(void) {
        return 0; /* reading ack and writing msg is what run_sandboxed did */
}

static void test_sandbox_state_and_allowed_io(void **state) {
        NEED_ROOT();
        struct outcome o = run_sandboxed(FULL, do_what_the_parser_does, inspect_sandboxed);
        assert_false(o.killed);
        assert_int_equal(o.err, 0);
}

static int child_confine(const char *dir) {
        struct ctl_sandbox sb = { .root = dir, .uid = CTL_PARSER_UID, .gid = CTL_PARSER_GID,
                                  .fifo_fd = -1, .ack_fd = -1, .msg_fd = -1, .lock_fd = -1 };
        int st;
        pid_t pid = fork();
        if (pid == 0)
                _exit(ctl_sandbox_confine(&sb, NULL) == -EPERM ? 0 : 1);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_writable_root_is_refused(void **state) {
        NEED_ROOT();
        char dir[] = "/tmp/initshim-sandbox-ww.XXXXXX";
        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 0777), 0);
        assert_int_equal(child_confine(dir), 0);
        rmdir(dir);
}

static int setup(void **state) {
        (void) state;
        if (geteuid() != 0)
                return 0;
        test_pid = getpid();
        if (!mkdtemp(root) || chmod(root, 0555) < 0)
                return -1;
        snprintf(secret_path, sizeof secret_path, "%s.secret", root);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        if (geteuid() == 0) {
                unlink(secret_path);
                rmdir(root);
        }
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sandbox_state_and_allowed_io),
                cmocka_unit_test(test_forbidden_actions_are_refused),
                cmocka_unit_test(test_confinement_alone_refuses),
                cmocka_unit_test(test_writable_root_is_refused),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
