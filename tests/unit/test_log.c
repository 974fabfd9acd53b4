/* The log line formatter: whatever the message and error, the line stays in
 * its buffer and ends with a newline (PID 1 logs through it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "common/log.h"

#define SIZE 1024
#define GUARD 64

static size_t format(char *buf, size_t size, int err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        size_t n = log_format_line(buf, size, LOG_ERR, "initshim-guard", 12345, err, fmt, ap);
        va_end(ap);
        return n;
}

static void assert_untouched(const char *canary) {
        for (size_t i = 0; i < GUARD; i++)
                assert_int_equal((unsigned char) canary[i], 0xA5);
}

/* A message of every length near the buffer's size, with the longest error
 * text glibc has: the line never leaves its buffer. */
static void test_long_message_and_error_stay_in_buffer(void **state) {
        (void) state;
        static char msg[SIZE * 2];
        static char buf[SIZE + GUARD];

        memset(msg, 'm', sizeof msg - 1);
        for (size_t len = SIZE - 100; len < SIZE + 100; len++) {
                memset(buf, 0xA5, sizeof buf);
                msg[len] = '\0';
                size_t n = format(buf, SIZE, ESHUTDOWN, "%s", msg);
                msg[len] = 'm';
                assert_true(n <= SIZE);
                assert_int_equal(buf[n - 1], '\n');
                assert_untouched(buf + SIZE);
                /* The error text survives truncation of the message. */
                buf[n - 1] = '\0';
                assert_non_null(strstr(buf, strerror(ESHUTDOWN)));
        }
}

static void test_short_line_is_whole(void **state) {
        (void) state;
        char buf[SIZE];
        size_t n = format(buf, sizeof buf, ENOENT, "cannot open %s", "/x");
        buf[n] = '\0';
        assert_string_equal(buf, "<27>initshim-guard[12345]: cannot open /x: No such file or directory\n");
        n = format(buf, sizeof buf, 0, "plain");
        buf[n] = '\0';
        assert_string_equal(buf, "<27>initshim-guard[12345]: plain\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_long_message_and_error_stay_in_buffer),
                cmocka_unit_test(test_short_line_is_whole),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
