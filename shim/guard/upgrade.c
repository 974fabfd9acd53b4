#include "guard/upgrade.h"
#include "common/log.h"
#include "common/util.h"
#include "common/version.h"
#include "control/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

int guard_upgrade_exec(const char *path, const struct guard_handover *h) {
        char start[24], since[24];
        char *argv[] = { (char *) "initshim", (char *) GUARD_UPGRADE_FLAG, start, since,
                         (char *) (h->serve ? "serve" : "quiet"), (char *) (h->traced ? "traced" : "detached"),
                         (char *) h->old_build, NULL };

        snprintf(start, sizeof start, "%" PRIu64, h->start_ns);
        snprintf(since, sizeof since, "%" PRIu64, h->mode_since_ms);
        (void) execve(path, argv, environ);
        return -errno;
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !*s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

int guard_handover_parse(int argc, char **argv, struct guard_handover *h) {
        memset(h, 0, sizeof *h);
        h->start_ns = now_ns();
        h->mode_since_ms = now_ms();
        h->traced = true;
        (void) copy_string(h->old_build, sizeof h->old_build, "unknown");
        if (argc < 6 || parse_u64(argv[1], &h->start_ns) < 0 || parse_u64(argv[2], &h->mode_since_ms) < 0 ||
            h->start_ns > now_ns() || h->mode_since_ms > now_ms()) {
                h->start_ns = now_ns();
                h->mode_since_ms = now_ms();
                return -EINVAL;
        }
        h->serve = strcmp(argv[3], "serve") == 0;
        h->traced = strcmp(argv[4], "detached") != 0;
        (void) copy_string(h->old_build, sizeof h->old_build, argv[5]);
        return 0;
}

void guard_upgrade_adopt(struct tracer *t, bool keep) {
        static char status[4096];
        const char *tracer_pid = read_proc_status_field(1, "TracerPid", status, sizeof status);

        if (tracer_pid && strtol(tracer_pid, NULL, 10) == (long) getpid()) {
                t->pid = 1;
                t->state = TRACER_RUNNING;
                t->last_error[0] = '\0';
                if (!keep) {
                        log_notice("guard: upgraded guard leaves PID 1 untraced, as the previous one did");
                        tracer_detach(t);
                }
                return;
        }
        if (!keep)
                return;
        log_warning("guard: the upgraded guard does not trace PID 1 (TracerPid %s): seizing it",
                    tracer_pid ? tracer_pid : "?");
        (void) tracer_attach(t, 1);
}

void guard_upgrade_report(const struct guard_handover *h, const struct tracer *t) {
        char line[192];
        uint64_t us = (now_ns() - h->start_ns) / 1000;
        int l;

        l = snprintf(line, sizeof line, "guard %s -> %s, PID 1 %s, unattended %" PRIu64 " us\n", h->old_build,
                     initshim_build(), t->state != TRACER_DETACHED ? "traced throughout" : "NOT traced", us);
        log_notice("guard: upgraded from initshim %s to %s; PID 1 %s, its stops unattended for %" PRIu64 " us",
                   h->old_build, initshim_build(),
                   t->state != TRACER_DETACHED ? "stayed traced" : "is NOT traced", us);
        if (write_file_atomic(LAST_UPGRADE_FILE, line, (size_t) l, 0644) < 0)
                log_warning("guard: cannot write " LAST_UPGRADE_FILE);
}
