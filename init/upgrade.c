/* Live upgrade of rescue-mode PID 1: re-execute the installed binary with
 * the state that matters kept (docs/design.md "Live upgrade"):
 *   initshim --rescue --reason REASON --upgraded MODE_SINCE_MS START_NS OLD_BUILD
 * execve keeps the PID, every child, the services and the guard. */
#include "pid1.h"
#include "common/log.h"
#include "common/util.h"
#include "common/version.h"
#include "control/protocol.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static struct rescue_handover handover;

int pid1_upgrade_exec(const char *reason, uint64_t mode_since_ms) {
        const char *path = initshim_installed_path();
        char since[24], start[24], old[64];
        char *argv[] = { (char *) "initshim", (char *) "--rescue", (char *) "--reason", (char *) reason,
                         (char *) PID1_UPGRADED_FLAG, since, start, old, NULL };

        (void) copy_string(old, sizeof old, initshim_build());
        snprintf(since, sizeof since, "%" PRIu64, mode_since_ms);
        snprintf(start, sizeof start, "%" PRIu64, now_ns());
        log_notice("rescue mode: upgrading PID 1 to %s", path);
        (void) execve(path, argv, environ);
        return log_errno(-errno, LOG_ERR, "cannot execute %s; rescue mode goes on", path);
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        *ret = strtoull(s, &end, 10);
        return errno || *end ? -EINVAL : 0;
}

/* argv from "--upgraded" on. Bad input: not an upgrade (a plain rescue). */
const struct rescue_handover *pid1_upgrade_parse(int argc, char **argv) {
        struct rescue_handover h = { 0 };

        if (argc < 4 || strcmp(argv[0], PID1_UPGRADED_FLAG) != 0 || parse_u64(argv[1], &h.mode_since_ms) < 0 ||
            parse_u64(argv[2], &h.start_ns) < 0 || h.mode_since_ms > now_ms() || h.start_ns > now_ns())
                return NULL;
        (void) copy_string(h.old_build, sizeof h.old_build, argv[3]);
        handover = h;
        return &handover;
}

void pid1_upgrade_report(const struct rescue_handover *h) {
        char line[192];
        uint64_t us = (now_ns() - h->start_ns) / 1000;
        int l = snprintf(line, sizeof line, "PID 1 %s -> %s, re-executed in %" PRIu64 " us\n", h->old_build,
                         initshim_build(), us);

        log_notice("rescue mode: PID 1 upgraded from initshim %s to %s in %" PRIu64 " us", h->old_build,
                   initshim_build(), us);
        if (write_file_atomic(LAST_UPGRADE_FILE, line, (size_t) l, 0644) < 0)
                log_warning("cannot write " LAST_UPGRADE_FILE);
}
