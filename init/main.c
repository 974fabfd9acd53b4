/* initshim: a fault-tolerant PID 1 shim for systemd hosts. See initshim(8). */
#include "guard/spawn.h"
#include "common/log.h"
#include "control/status.h"
#include "pid1.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
                return guard_upgraded_main(argc, argv);
        if (argc >= 2 && strcmp(argv[1], "--guard") == 0)
                return guard_standalone_main();

        if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
                printf("initshim %s\n", initshim_build());
                return 0;
        }
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return usage(stdout);
        fprintf(stderr, "initshim: must run as PID 1 (init=/sbin/initshim); use initshimctl to control it\n");
        return usage(stderr);
}
