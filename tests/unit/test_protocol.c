#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "control/protocol.h"

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_requests),
                cmocka_unit_test(test_refused_requests),
                cmocka_unit_test(test_format),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
