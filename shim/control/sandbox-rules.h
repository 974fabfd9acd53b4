/* The control parser's seccomp allowlist, written with libseccomp. Only
 * build-time code includes this: tools/sandbox-filter-gen.c turns it into
 * a BPF program for the target architecture (the shipped binaries do not
 * carry libseccomp), and tests/unit/test_sandbox_filter.c checks that the
 * program installed at run time is libseccomp's own for the same rules.
 *
 * Allowed: ppoll, the clock, signal return and exit anywhere; read on
 * fifo_fd and ack_fd, write on msg_fd. Anything else kills the process. */
#pragma once

#include <seccomp.h>
#include <stddef.h>

static inline int sandbox_allow_on_fd(scmp_filter_ctx ctx, int nr, int fd) {
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t) fd));
}

/* ctx: made with seccomp_init(SCMP_ACT_KILL_PROCESS). 0 or -errno. */
static inline int sandbox_rules_add(scmp_filter_ctx ctx, int fifo_fd, int ack_fd, int msg_fd) {
        static const int anywhere[] = {
                SCMP_SYS(ppoll),     SCMP_SYS(clock_gettime),   SCMP_SYS(rt_sigreturn),
                SCMP_SYS(exit),      SCMP_SYS(exit_group),      SCMP_SYS(restart_syscall),
        };
        int r = 0;

        for (size_t i = 0; i < sizeof anywhere / sizeof anywhere[0] && r == 0; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, anywhere[i], 0);
        if (r == 0)
                r = sandbox_allow_on_fd(ctx, SCMP_SYS(read), fifo_fd);
        if (r == 0)
                r = sandbox_allow_on_fd(ctx, SCMP_SYS(read), ack_fd);
        if (r == 0)
                r = sandbox_allow_on_fd(ctx, SCMP_SYS(write), msg_fd);
        return r;
}

/* Stand-ins for the fds in the generated program, patched at run time:
 * values no real program constant takes (the generator checks). */
#define SANDBOX_FIFO_FD_MARK 0x5eed0f01
#define SANDBOX_ACK_FD_MARK  0x5eed0f02
#define SANDBOX_MSG_FD_MARK  0x5eed0f03
