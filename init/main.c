/* initshim: a fault-tolerant PID 1 shim for systemd hosts. See initshim(8). */
#include "control/server.h"
#include "guard/spawn.h"
#include "guard/upgrade.h"
#include "config/load.h"
#include "common/log.h"
#include "common/proc.h"
#include "control/status.h"
#include "pid1.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* `initshim --guard`: attach a guard to a PID 1 that was not booted with
 * initshim (initshim-guard.service, or `initshimctl guard start`). */
static int guard_standalone(void) {
        static struct config cfg;
        struct guard_options o = { .ready_fd = -1, .serve = true };
        int g;

        log_open("initshim-guard");
        log_set_stderr(true);
        load_config(&cfg);
        if (ctl_setup_paths() < 0)
                return 1;
        if ((g = guard_find()) > 0) {
                log_info("a guard is already running (pid %d)", g);
                return 0;
        }
        /* Rescue-mode PID 1 owns the FIFO itself. */
        if (pid1_is_rescue_initshim())
                o.serve = false;
        log_set_stderr(false);
        guard_main(&cfg, &o);
}

/* `initshim --guard-upgraded ...`: the guard re-executed by `initshimctl
 * upgrade`, still tracing PID 1 (guard/upgrade.h). Always becomes the guard. */
static int guard_upgraded(int argc, char **argv) {
        static struct config cfg;
        static struct guard_handover h;
        struct guard_options o = { .ready_fd = -1, .handover = &h };

        log_open("initshim-guard");
        if (guard_handover_parse(argc - 1, argv + 1, &h) < 0)
                log_warning("guard: bad hand-over arguments from the previous guard; going on with defaults");
        load_config(&cfg);
        (void) ctl_setup_paths();
        o.serve = h.serve;
        guard_main(&cfg, &o);
}

static int usage(FILE *f) {
        fprintf(f,
                "usage: initshim             (as PID 1: boot, exec systemd)\n"
                "       initshim --rescue [--reason TEXT]   (PID 1 rescue mode)\n"
                "       initshim --guard      (attach a guard to a running PID 1)\n"
                "       initshim --version\n"
                "See initshim(8).\n");
        return f == stderr ? 1 : 0;
}

int main(int argc, char **argv, char **envp) {
        uint64_t start_ns = now_ns();

        /* As PID 1 every other argument is the kernel's, for systemd: only an
         * exact "--rescue" first is ours. */
        if (argc >= 2 && strcmp(argv[1], "--rescue") == 0) {
                const char *reason = "requested";
                const struct rescue_handover *up = NULL;
                if (argc >= 4 && strcmp(argv[2], "--reason") == 0)
                        reason = argv[3];
                if (argc >= 5 && strcmp(argv[2], "--reason") == 0)
                        up = pid1_upgrade_parse(argc - 4, argv + 4);
                if (getpid() != 1) {
                        fprintf(stderr, "initshim: rescue mode is for PID 1\n");
                        return 1;
                }
                rescue_main(reason, NULL, up);
        }
        if (getpid() == 1)
                boot_main(argc, argv, envp, start_ns);

        if (argc >= 2 && strcmp(argv[1], GUARD_UPGRADE_FLAG) == 0)
                return guard_upgraded(argc, argv);
        if (argc >= 2 && strcmp(argv[1], "--guard") == 0)
                return guard_standalone();

        if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
                printf("initshim %s\n", initshim_build());
                return 0;
        }
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return usage(stdout);
        fprintf(stderr, "initshim: must run as PID 1 (init=/sbin/initshim); use initshimctl to control it\n");
        return usage(stderr);
}
