/* The parser's seccomp program is generated at build time (the shipped
 * binaries carry no libseccomp): what ctl_sandbox_filter installs must be,
 * instruction for instruction, what libseccomp itself would load for the
 * same rules and the same fds (shim/control/sandbox-rules.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/sandbox-rules.h"
#include "common/util.h"
#include "control/server.h"

/* libseccomp's program for these fds, on this machine's architecture. */
static size_t libseccomp_program(int fifo, int ack, int msg, struct sock_filter *prog, size_t cap) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        FILE *f = tmpfile();
        size_t n;

        assert_non_null(ctx);
        assert_non_null(f);
        assert_int_equal(sandbox_rules_add(ctx, fifo, ack, msg), 0);
        assert_int_equal(seccomp_export_bpf(ctx, fileno(f)), 0);
        seccomp_release(ctx);
        rewind(f);
        n = fread(prog, sizeof *prog, cap, f);
        fclose(f);
        assert_true(n > 0 && n < cap);
        return n;
}

static void check_same_program(int fifo, int ack, int msg) {
        static struct sock_filter want[BPF_MAXINSNS], got[BPF_MAXINSNS];
        struct ctl_sandbox sb = { .fifo_fd = fifo, .ack_fd = ack, .msg_fd = msg, .lock_fd = -1 };
        size_t n = libseccomp_program(fifo, ack, msg, want, BPF_MAXINSNS);
        int r = ctl_sandbox_program(&sb, got, BPF_MAXINSNS);

        assert_int_equal(r, (int) n);
        assert_memory_equal(got, want, n * sizeof *want);
}

/* A classic-BPF interpreter for what libseccomp emits: the action. */
static uint32_t run_bpf(const struct sock_filter *prog, size_t len, const struct seccomp_data *d) {
        uint32_t a = 0;

        for (size_t pc = 0; pc < len; pc++) {
                const struct sock_filter *i = &prog[pc];
                bool jump = false;

                switch (i->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        assert_true(i->k + 4 <= sizeof *d);
                        memcpy(&a, (const char *) d + i->k, 4);
                        continue;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= i->k;
                        continue;
                case BPF_RET | BPF_K:
                        return i->k;
                case BPF_JMP | BPF_JA:
                        pc += i->k;
                        continue;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        jump = a == i->k;
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        jump = a > i->k;
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        jump = a >= i->k;
                        break;
                case BPF_JMP | BPF_JSET | BPF_K:
                        jump = (a & i->k) != 0;
                        break;
                default:
                        fail_msg("instruction 0x%x not known to this test", i->code);
                }
                pc += jump ? i->jt : i->jf;
        }
        fail_msg("the program ran off its end");
        return 0;
}

/* The same decision as libseccomp's program for every syscall number of
 * interest (and every number below 1024, x32's too), on this architecture
 * and another, with the fd argument each fd, a neighbour, or with high bits. */
static void check_same_decisions(int fifo, int ack, int msg) {
        static struct sock_filter want[BPF_MAXINSNS], got[BPF_MAXINSNS];
        struct ctl_sandbox sb = { .fifo_fd = fifo, .ack_fd = ack, .msg_fd = msg, .lock_fd = -1 };
        size_t n = libseccomp_program(fifo, ack, msg, want, BPF_MAXINSNS);
        int len = ctl_sandbox_program(&sb, got, BPF_MAXINSNS);
        const uint64_t args[] = { (uint64_t) fifo, (uint64_t) ack, (uint64_t) msg, (uint64_t) fifo + 1,
                                  (uint64_t) msg - 1, (uint64_t) ack | (1ull << 32), 0, 1, 2, UINT64_MAX };
        const uint32_t arches[] = { seccomp_arch_native(), SCMP_ARCH_X86, SCMP_ARCH_AARCH64 };
        unsigned allowed = 0;

        assert_true(len > 0);
        for (size_t a = 0; a < ELEMENTSOF(arches); a++)
                for (uint32_t nr = 0; nr < 2048; nr++)
                        for (size_t i = 0; i < ELEMENTSOF(args); i++) {
                                struct seccomp_data d = { .arch = arches[a],
                                                          .nr = (int) (nr < 1024 ? nr : 0x40000000u + nr - 1024) };

                                d.args[0] = args[i];
                                assert_int_equal(run_bpf(got, (size_t) len, &d), run_bpf(want, n, &d));
                                allowed += run_bpf(got, (size_t) len, &d) == SCMP_ACT_ALLOW;
                        }
        assert_true(allowed > 0);
}

static void installed_program_is_libseccomps(void **state) {
        (void) state;
        /* fds in the order libseccomp sorts its conditions: the very same program */
        check_same_program(0, 1, 2);
        check_same_program(3, 4, 5);
        /* in any order: the same decisions */
        check_same_decisions(3, 4, 5);
        check_same_decisions(7, 3, 12);
        check_same_decisions(5, 5, 6);
        check_same_decisions(1023, 65535, 1 << 20);
}

static void refuses_a_negative_fd_or_a_short_buffer(void **state) {
        struct ctl_sandbox sb = { .fifo_fd = 3, .ack_fd = -1, .msg_fd = 5, .lock_fd = -1 };
        struct sock_filter prog[BPF_MAXINSNS];

        (void) state;
        assert_int_equal(ctl_sandbox_program(&sb, prog, BPF_MAXINSNS), -EBADF);
        sb.ack_fd = 4;
        assert_int_equal(ctl_sandbox_program(&sb, prog, 3), -ENOBUFS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(installed_program_is_libseccomps),
                cmocka_unit_test(refuses_a_negative_fd_or_a_short_buffer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
