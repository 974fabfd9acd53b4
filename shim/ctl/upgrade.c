#include "ctl/upgrade.h"
#include "common/proc.h"
#include "common/util.h"
#include "common/version.h"
#include "control/protocol.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Is PID 1 initshim (rescue mode) right now? Its own file says which build. */
static bool pid1_build(char *buf, size_t n) {
        return pid1_is_rescue_initshim() && read_first_line(PID1_VERSION_FILE, buf, n) > 0;
}

void ctl_print_installed(void) {
        char installed[96], running[96], why[192];

        /* What a live upgrade would check: a binary it would refuse is shown
         * as such, and no mismatch with it is claimed. */
        int r = initshim_check_binary(initshim_installed_path(), installed, sizeof installed, why, sizeof why);

        if (r < 0) {
                printf("installed: %s: %s\n", r == -ENOENT ? "none" : "refused", why);
                return;
        }
        printf("installed: %s (%s)\n", installed, initshim_installed_path());
        if (read_first_line(GUARD_VERSION_FILE, running, sizeof running) > 0 && strcmp(running, installed) != 0)
                printf("version-mismatch: the guard runs %s; 'initshimctl upgrade' moves it to %s\n", running,
                       installed);
        if (pid1_build(running, sizeof running) && strcmp(running, installed) != 0)
                printf("version-mismatch: PID 1 runs %s; 'initshimctl upgrade' moves it to %s\n", running,
                       installed);
}

static bool upgraded(const char *installed) {
        char running[96];

        if (read_first_line(GUARD_VERSION_FILE, running, sizeof running) <= 0 || strcmp(running, installed) != 0)
                return false;
        return !pid1_build(running, sizeof running) || strcmp(running, installed) == 0;
}

int ctl_wait_upgraded(int timeout_s) {
        char installed[96], line[192];
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;

        if (initshim_build_of_file(initshim_installed_path(), installed, sizeof installed) < 0) {
                fprintf(stderr, "initshimctl: cannot read the build of %s\n", initshim_installed_path());
                return 1;
        }
        while (!upgraded(installed)) {
                if (now_ms() >= deadline) {
                        fprintf(stderr, "initshimctl: initshim does not run %s after %d s (see the log)\n", installed,
                                timeout_s);
                        return 1;
                }
                (void) poll(NULL, 0, 20);
        }
        printf("running %s\n", installed);
        if (read_first_line(LAST_UPGRADE_FILE, line, sizeof line) > 0)
                printf("last-upgrade: %s\n", line);
        return 0;
}
