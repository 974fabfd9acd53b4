/* no-signalfd PROGRAM [ARGS...]: run PROGRAM with signalfd() failing with
 * EMFILE, as under a file-descriptor shortage, for good (a seccomp filter,
 * inherited by every child): the guard must go on without one. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

        if (argc < 2 || !ctx) {
                fprintf(stderr, "usage: no-signalfd PROGRAM [ARGS...]\n");
                return 2;
        }
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EMFILE), SCMP_SYS(signalfd4), 0) < 0 ||
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EMFILE), SCMP_SYS(signalfd), 0) < 0 || seccomp_load(ctx) < 0) {
                fprintf(stderr, "no-signalfd: cannot install the filter\n");
                return 1;
        }
        seccomp_release(ctx);
        execv(argv[1], argv + 1);
        perror("no-signalfd: execv");
        return 127;
}
