/* The commented /etc/initshim.conf that `make install` and the Debian package
 * ship (shim/config/initshim.conf): as shipped it changes nothing, and each
 * commented value is the default it claims to be and parses without a
 * problem. Run from the source tree's top (make unit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "config/config.h"

#define SHIPPED "shim/config/initshim.conf"

static unsigned reports;

static void report(const char *source, unsigned line, const char *msg) {
        reports++;
        print_message("%s:%u: %s\n", source, line, msg);
}

static void load_shipped(char *buf, size_t len) {
        ssize_t n = read_file(SHIPPED, buf, len);
        assert_true(n > 0);
        assert_true((size_t) n < len - 1);
}

static void test_shipped_file_changes_nothing(void **state) {
        static char text[16384];
        struct config shipped, defaults;
        (void) state;

        load_shipped(text, sizeof text);
        config_init(&defaults);
        config_init(&shipped);
        reports = 0;
        config_parse_text(&shipped, text, SHIPPED, report);
        assert_int_equal(reports, 0);
        assert_memory_equal(&shipped, &defaults, sizeof defaults);
}

/* "#key = value" lines become "key = value"; "# prose" stays a comment. */
static void uncomment_settings(char *text) {
        for (char *p = text; *p; p++)
                if (*p == '#' && (p == text || p[-1] == '\n') && p[1] >= 'a' && p[1] <= 'z')
                        *p = ' ';
}

static void test_commented_values_are_the_defaults(void **state) {
        static char text[16384];
        struct config uncommented, defaults;
        (void) state;

        load_shipped(text, sizeof text);
        uncomment_settings(text);
        config_init(&defaults);
        config_init(&uncommented);
        reports = 0;
        config_parse_text(&uncommented, text, SHIPPED, report);
        assert_int_equal(reports, 0);
        /* The versions and the rescue command are examples, not defaults. */
        assert_int_equal(uncommented.n_versions, 1);
        assert_string_equal(uncommented.default_version, "252");
        assert_non_null(config_find_version(&uncommented, "252"));
        assert_true(uncommented.rescue_command[0] != '\0');
        memcpy(uncommented.versions, defaults.versions, sizeof defaults.versions);
        uncommented.n_versions = defaults.n_versions;
        memcpy(uncommented.default_version, defaults.default_version, sizeof defaults.default_version);
        memcpy(uncommented.fallback_version, defaults.fallback_version, sizeof defaults.fallback_version);
        memcpy(uncommented.rescue_command, defaults.rescue_command, sizeof defaults.rescue_command);
        assert_memory_equal(&uncommented, &defaults, sizeof defaults);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shipped_file_changes_nothing),
                cmocka_unit_test(test_commented_values_are_the_defaults),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
