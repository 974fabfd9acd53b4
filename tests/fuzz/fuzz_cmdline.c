/* The kernel command line's initshim.KEY=VALUE words
 * (shim/config/config.c config_apply_cmdline()): whoever edits the boot
 * loader's entry writes them, quotes and all. /proc/cmdline is at most a
 * few KiB and NUL-terminated. */
#include "config_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct config c;
        char *cmdline = fuzz_copy(data, size, 1);

        config_init(&c);
        fuzz_reports = 0;
        unsigned problems = config_apply_cmdline(&c, cmdline, fuzz_report);
        FUZZ_ASSERT(problems == fuzz_reports);
        check_config(&c);
        free(cmdline);
        return 0;
}
