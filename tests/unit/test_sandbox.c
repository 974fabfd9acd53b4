/* The control parser's seccomp allowlist: what it must allow, and that
 * anything else kills the process (not merely fails). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/server.h"

static int run_sandboxed(int what) {
        int st;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int p[2];
                if (pipe(p) < 0 || ctl_parser_sandbox() < 0)
                        _exit(10);
                switch (what) {
                case 0: /* what the parser does */
                        if (write(p[1], "x", 1) != 1 || read(p[0], &st, 1) != 1)
                                _exit(11);
                        if (openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC) < 0)
                                _exit(12);
                        _exit(0);
                case 1:
                        (void) socket(AF_INET, SOCK_STREAM, 0);
                        _exit(0);
                case 2:
                        (void) fork();
                        _exit(0);
                case 3: {
                        char *argv[] = { (char *) "/bin/true", NULL };
                        execv("/bin/true", argv);
                        _exit(0);
                }
                }
                _exit(13);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return st;
}

static void test_allowed(void **state) {
        (void) state;
        int st = run_sandboxed(0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_forbidden_kills(void **state) {
        (void) state;
        for (int what = 1; what <= 3; what++) {
                int st = run_sandboxed(what);
                assert_true(WIFSIGNALED(st));
                assert_int_equal(WTERMSIG(st), SIGSYS);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_allowed),
                cmocka_unit_test(test_forbidden_kills),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
