/* /etc/initshim.conf (shim/config/config.c config_parse_text() and
 * config_set()). The file is root's, but a typo or a truncated write must
 * not give PID 1 a half-set configuration: every bad line is reported and
 * changes nothing (config.h). */
#include "config_check.h"
#include "common/util.h"

#include <errno.h>

/* Each "key = value" line straight to config_set(): on an error the
 * configuration is what it was, and err says why. Lines are split the way
 * config_parse_text() splits them (config_check.h checks the result). */
static void check_lines_one_by_one(char *text) {
        struct config c, before;
        char err[192], *save = NULL;

        config_init(&c);
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                char *key = strip(line), *value = strip(eq + 1);
                memcpy(&before, &c, sizeof c);
                int r = config_set(&c, key, value, err, sizeof err);
                FUZZ_ASSERT(fuzz_terminated(err, sizeof err));
                if (r < 0) {
                        FUZZ_ASSERT(r == -EINVAL || r == -ENOENT);
                        FUZZ_ASSERT(err[0] != '\0');
                        FUZZ_ASSERT(memcmp(&before, &c, sizeof c) == 0);
                }
        }
        check_config(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct config c;
        char *text = fuzz_copy(data, size, 1);

        config_init(&c);
        fuzz_reports = 0;
        unsigned problems = config_parse_text(&c, text, "fuzz.conf", fuzz_report);
        FUZZ_ASSERT(problems == fuzz_reports);
        check_config(&c);

        memcpy(text, data, size); /* config_parse_text() cut it up */
        text[size] = '\0';
        check_lines_one_by_one(text);
        free(text);
        return 0;
}
