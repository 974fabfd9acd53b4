#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "control/protocol.h"
#include "control/server.h"

static int parse(const char *line, struct request *req, char *err) {
        return request_parse(line, strlen(line), req, err, 160);
}

static void test_valid_requests(void **state) {
        struct request r;
        char err[160];
        (void) state;
        assert_int_equal(parse("ctl-1-2 status", &r, err), 0);
        assert_string_equal(r.reply, "ctl-1-2");
        assert_int_equal(r.verb, VERB_STATUS);
        assert_string_equal(r.arg, "");
        assert_int_equal(parse("x status json", &r, err), 0);
        assert_string_equal(r.arg, "json");
        assert_int_equal(parse("x exec 254", &r, err), 0);
        assert_int_equal(r.verb, VERB_EXEC);
        assert_string_equal(r.arg, "254");
        assert_int_equal(parse("x exec /usr/lib/systemd-254/systemd", &r, err), 0);
        for (int v = 0; v < _VERB_MAX; v++) {
                char line[64];
                strcpy(line, "n ");
                strcat(line, verb_to_string(v));
                if (v == VERB_GUARD) {
                        assert_int_equal(parse(line, &r, err), -EINVAL); /* needs start|stop */
                        strcat(line, " start");
                }
                assert_int_equal(parse(line, &r, err), 0);
                assert_int_equal(r.verb, v);
        }
}

static void test_refused_requests(void **state) {
        struct request r;
        char err[160], big[PROTO_LINE_MAX + 10];
        (void) state;
        assert_int_equal(parse("x frobnicate", &r, err), -EOPNOTSUPP);
        assert_string_equal(r.reply, "x"); /* still answerable */
        assert_non_null(strstr(err, "unknown command 'frobnicate'"));
        assert_int_equal(parse("x reboot now", &r, err), -EINVAL);
        assert_int_equal(parse("x exec a b", &r, err), -EINVAL);
        assert_int_equal(parse("x", &r, err), -EBADMSG);
        assert_int_equal(parse("x ", &r, err), -EBADMSG);
        assert_int_equal(parse("", &r, err), -EBADMSG);
        assert_string_equal(r.reply, "");
        assert_int_equal(parse("../etc/passwd status", &r, err), -EBADMSG);
        assert_int_equal(parse(".hidden status", &r, err), -EBADMSG);
        assert_int_equal(parse("a/b status", &r, err), -EBADMSG);
        assert_int_equal(parse("x status\x01", &r, err), -EBADMSG);
        assert_int_equal(parse("x st\xffus", &r, err), -EBADMSG);
        memset(big, 'a', sizeof big);
        memcpy(big, "x status ", 9);
        big[sizeof big - 1] = '\0';
        assert_int_equal(parse(big, &r, err), -E2BIG);
        assert_string_equal(r.reply, "x");
        char longname[PROTO_NAME_MAX + 10];
        memset(longname, 'n', PROTO_NAME_MAX + 1);
        strcpy(longname + PROTO_NAME_MAX + 1, " ping");
        assert_int_equal(parse(longname, &r, err), -EBADMSG);
}

static void test_format(void **state) {
        char buf[PROTO_LINE_MAX + 2], big[PROTO_LINE_MAX];
        (void) state;
        /* A newline first: whatever unfinished bytes precede it in the FIFO
         * end there, as a line of their own. */
        assert_int_equal(request_format(buf, sizeof buf, "n", "status", NULL), 10);
        assert_string_equal(buf, "\nn status\n");
        assert_int_equal(request_format(buf, sizeof buf, "n", "exec", "254"), 12);
        assert_string_equal(buf, "\nn exec 254\n");
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_int_equal(request_format(buf, sizeof buf, "n", "exec", big), -E2BIG);
        /* The longest line the server takes fits in one write under PIPE_BUF. */
        memset(big, 'a', PROTO_ARG_MAX - 1);
        big[PROTO_ARG_MAX - 1] = '\0';
        char name[PROTO_NAME_MAX + 1];
        memset(name, 'n', PROTO_NAME_MAX);
        name[PROTO_NAME_MAX] = '\0';
        int l = request_format(buf, sizeof buf, name, "status", big);
        assert_true(l > 0 && l <= PROTO_LINE_MAX + 1);
        /* What the client formats, the server parses back. */
        struct request r;
        char err[160];
        request_format(buf, sizeof buf, "ctl-9", "exec", "/x/systemd");
        assert_int_equal(request_parse(buf + 1, strlen(buf) - 2, &r, err, sizeof err), 0);
        assert_string_equal(r.arg, "/x/systemd");
}

/* The owner opens a client's reply path only when it is that client's
 * FIFO, and never blocks on it. */
static void test_reply_open_checks_before_opening(void **state) {
        char dir[] = "/tmp/initshim-reply.XXXXXX", path[128];
        int dfd, rfd, fd;
        (void) state;

        assert_non_null(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        snprintf(path, sizeof path, "%s/client", dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        /* No reader: the client is gone. Refused at once, not waited for. */
        assert_int_equal(ctl_reply_open(dfd, "client", geteuid()), -ENXIO);
        rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        assert_true(rfd >= 0);
        fd = ctl_reply_open(dfd, "client", geteuid());
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "ok\n", 3), 3);
        char got[4] = "";
        assert_int_equal(read(rfd, got, 3), 3);
        assert_memory_equal(got, "ok\n", 3);
        close(fd);
        /* Owned by someone else. */
        assert_int_equal(ctl_reply_open(dfd, "client", geteuid() + 1), -EPERM);
        /* A symlink to that very FIFO, a regular file, a directory. */
        snprintf(path, sizeof path, "%s/link", dir);
        assert_int_equal(symlink("client", path), 0);
        assert_int_equal(ctl_reply_open(dfd, "link", geteuid()), -EPERM);
        snprintf(path, sizeof path, "%s/file", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(ctl_reply_open(dfd, "file", geteuid()), -EPERM);
        snprintf(path, sizeof path, "%s/sub", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(ctl_reply_open(dfd, "sub", geteuid()), -EPERM);
        /* A character device (root only can make one). */
        snprintf(path, sizeof path, "%s/null", dir);
        if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) == 0)
                assert_int_equal(ctl_reply_open(dfd, "null", geteuid()), -EPERM);
        /* Not a plain name in the directory. */
        assert_int_equal(ctl_reply_open(dfd, "../client", geteuid()), -EINVAL);
        assert_int_equal(ctl_reply_open(dfd, "sub/x", geteuid()), -EINVAL);
        assert_int_equal(ctl_reply_open(dfd, ".", geteuid()), -EINVAL);
        assert_int_equal(ctl_reply_open(dfd, "missing", geteuid()), -ENOENT);
        close(rfd);
        close(dfd);
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

/* A stand-in parser: a child that waits to be killed (or, ignoring
 * SIGTERM, to be killed harder). */
static pid_t start_fake_parser(bool ignore_term) {
        int ready[2];
        char b;
        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (ignore_term)
                        signal(SIGTERM, SIG_IGN);
                (void) !write(ready[1], "r", 1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        assert_int_equal(read(ready[0], &b, 1), 1);
        close(ready[0]);
        return pid;
}

static struct ctl_server idle_server(void) {
        return (struct ctl_server){ .req_fd = -1, .rep_fd = -1, .hold_fd = -1, .wanted = true };
}

/* Many quick deaths back off to 10 s; a death after a long healthy run
 * starts over at 200 ms instead of costing the longest outage. */
static void test_crash_backoff_forgets_after_healthy_running(void **state) {
        struct ctl_server s = idle_server();
        (void) state;

        for (int i = 0; i < 8; i++) {
                s.parser = 1000 + i; /* never signalled: it is "dead" already */
                s.parser_since_ms = now_ms();
                assert_true(ctl_server_child_exited(&s, s.parser, SIGSEGV));
        }
        assert_true(ctl_server_timeout_ms(&s) > 5000);
        s.parser = 2000;
        s.parser_since_ms = now_ms() - 120000; /* ran two minutes */
        assert_true(ctl_server_child_exited(&s, s.parser, SIGSEGV));
        assert_true(ctl_server_timeout_ms(&s) <= 200);
        /* A clean exit (a hand-over) respawns at once. */
        s.parser = 2001;
        s.parser_since_ms = now_ms();
        assert_true(ctl_server_child_exited(&s, s.parser, 0));
        assert_int_equal(ctl_server_timeout_ms(&s), 0);
}

/* The parser is not trusted: a message that is not what it must send
 * gets it killed, and nothing is handed to the owner. */
static void test_malformed_message_kills_the_parser(void **state) {
        struct ctl_server s = idle_server();
        struct ctl_msg m = { .kind = CTL_MSG_REQUEST, .req = { .reply = "c", .verb = VERB_STATUS } };
        struct request req;
        int req_pipe[2], st;
        (void) state;

        const char *bad[] = { "short", "bad reply name", "verb out of range", "reason not printable" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct ctl_msg b = m;
                size_t len = sizeof b;
                assert_int_equal(pipe2(req_pipe, O_CLOEXEC | O_NONBLOCK), 0);
                s.req_fd = req_pipe[0];
                s.parser = start_fake_parser(false);
                if (i == 0)
                        len = 10;
                else if (i == 1)
                        strcpy(b.req.reply, "../x");
                else if (i == 2)
                        b.req.verb = _VERB_MAX;
                else
                        b.reason[0] = '\033';
                assert_int_equal(write(req_pipe[1], &b, len), (ssize_t) len);
                assert_int_equal(ctl_server_receive(&s, &req), -EBADMSG);
                assert_int_equal(waitpid(s.parser, &st, 0), s.parser);
                assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
                assert_int_equal(s.req_fd, -1);
                close(req_pipe[1]);
        }
        /* A well-formed one is handed over and owed an answer. */
        assert_int_equal(pipe2(req_pipe, O_CLOEXEC | O_NONBLOCK), 0);
        s.req_fd = req_pipe[0];
        s.parser = 0;
        assert_int_equal(write(req_pipe[1], &m, sizeof m), (ssize_t) sizeof m);
        assert_int_equal(ctl_server_receive(&s, &req), 0);
        assert_string_equal(req.reply, "c");
        assert_string_equal(s.pending, "c");
        /* No parser runs while an answer is owed. */
        assert_int_equal(ctl_server_start(&s), 0);
        assert_int_equal(s.parser, 0);
        close(req_pipe[0]);
        close(req_pipe[1]);
}

/* Stopping a parser that ignores SIGTERM returns (it is SIGKILLed) and
 * leaves no parser behind. */
static void test_stop_kills_a_parser_that_does_not_stop(void **state) {
        struct ctl_server s = idle_server();
        pid_t pid = start_fake_parser(true);
        (void) state;

        s.parser = pid;
        ctl_server_stop(&s, 400);
        assert_int_equal(s.parser, 0);
        assert_false(s.wanted);
        /* Reaped by the stop, or left to the reaper: either way, dead. */
        int st;
        pid_t r = waitpid(pid, &st, 0);
        assert_true((r < 0 && errno == ECHILD) || (r == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));
        assert_int_equal(kill(pid, 0), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_requests),
                cmocka_unit_test(test_refused_requests),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_reply_open_checks_before_opening),
                cmocka_unit_test(test_crash_backoff_forgets_after_healthy_running),
                cmocka_unit_test(test_malformed_message_kills_the_parser),
                cmocka_unit_test(test_stop_kills_a_parser_that_does_not_stop),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
