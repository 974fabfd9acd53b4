/* The guard's two command-line entry points (`initshim --guard`,
 * `initshim --guard-upgraded ...`); init/main.c only dispatches to them. */
#include "guard/spawn.h"
#include "guard/upgrade.h"
#include "config/load.h"
#include "control/server.h"
#include "common/log.h"
#include "common/proc.h"

int guard_standalone_main(void) {
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

int guard_upgraded_main(int argc, char **argv) {
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
