#include "config/load.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>

static void report_config_problem(const char *source, unsigned line, const char *msg) {
        /* Always on the console too: a typo must be visible, never fatal. */
        if (line)
                log_console(LOG_WARNING, "%s:%u: %s (using defaults)", source, line, msg);
        else
                log_console(LOG_WARNING, "%s: %s (using defaults)", source, msg);
}

void load_config(struct config *c) {
        static char cmdline[4096];
        const char *path = getenv("INITSHIM_CONF");

        config_init(c);
        (void) config_load_file(c, path && path[0] ? path : CONFIG_FILE_DEFAULT, report_config_problem);
        if (read_file("/proc/cmdline", cmdline, sizeof cmdline) >= 0)
                (void) config_apply_cmdline(c, cmdline, report_config_problem);
        log_set_console(c->console);
}
