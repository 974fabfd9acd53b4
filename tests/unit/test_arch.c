/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the pure register logic of the injection library, for both
 * x86_64 and aarch64 (the mirror structs compile on any host), and of the
 * layout of the execve() argument block.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ptrace/arch/arch.h"
#include "ptrace/inject.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static const long restart_codes[] = {
        -ARCH_ERESTARTSYS,
        -ARCH_ERESTARTNOINTR,
        -ARCH_ERESTARTNOHAND,
        -ARCH_ERESTART_RESTARTBLOCK,
};

/* A plausible x86_64 register file: stopped after `syscall` at 0x401002. */
static struct x86_64_regs x86_sample(void) {
        struct x86_64_regs r;

        memset(&r, 0xa5, sizeof(r));
        r.cs = X86_64_USER_CS;
        r.rip = 0x401002;
        r.rsp = 0x7ffc12345678;
        r.orig_rax = 34; /* pause */
        r.rax = (uint64_t) -ENOSYS;
        r.rdi = 1;
        r.rsi = 2;
        r.rdx = 3;
        r.r10 = 4;
        r.r8 = 5;
        r.r9 = 6;
        return r;
}

static struct aarch64_regs arm_sample(void) {
        struct aarch64_regs r;

        memset(&r, 0, sizeof(r));
        for (unsigned i = 0; i < 31; i++)
                r.regs[i] = 0x1000 + i;
        r.pc = 0x400104;
        r.sp = 0xfffff0001230;
        r.pstate = 0x60000000 | AARCH64_PSR_BTYPE_MASK; /* NZCV bits + BTYPE=3 */
        r.regs[8] = 73;   /* ppoll */
        r.syscallno = 73;
        return r;
}

/* ---- instruction recognition -------------------------------------------- */

static void test_x86_64_syscall_insn(void **state) {
        (void) state;
        static const uint8_t yes[] = { 0x0f, 0x05 };
        static const uint8_t sysenter[] = { 0x0f, 0x34 };
        static const uint8_t int80[] = { 0xcd, 0x80 };
        static const uint8_t swapped[] = { 0x05, 0x0f };
        static const uint8_t sysret[] = { 0x0f, 0x07 };

        assert_true(x86_64_is_syscall_insn(yes));
        assert_true(x86_64_is_syscall_insn(x86_64_syscall_insn));
        assert_false(x86_64_is_syscall_insn(sysenter));
        assert_false(x86_64_is_syscall_insn(int80)); /* i386 ABI: other numbers */
        assert_false(x86_64_is_syscall_insn(swapped));
        assert_false(x86_64_is_syscall_insn(sysret));
}

static void test_aarch64_syscall_insn(void **state) {
        (void) state;
        static const uint8_t svc0[] = { 0x01, 0x00, 0x00, 0xd4 };
        static const uint8_t svc1[] = { 0x21, 0x00, 0x00, 0xd4 };
        static const uint8_t hvc0[] = { 0x02, 0x00, 0x00, 0xd4 };
        static const uint8_t brk0[] = { 0x00, 0x00, 0x20, 0xd4 };
        static const uint8_t big_endian[] = { 0xd4, 0x00, 0x00, 0x01 };

        assert_true(aarch64_is_syscall_insn(svc0));
        assert_true(aarch64_is_syscall_insn(aarch64_syscall_insn));
        assert_false(aarch64_is_syscall_insn(svc1));
        assert_false(aarch64_is_syscall_insn(hvc0));
        assert_false(aarch64_is_syscall_insn(brk0));
        assert_false(aarch64_is_syscall_insn(big_endian));
}

/* ---- accessors ------------------------------------------------------------ */

static void test_x86_64_args(void **state) {
        (void) state;
        struct x86_64_regs r = x86_sample();

        for (unsigned i = 0; i < 6; i++)
                assert_int_equal(x86_64_arg(&r, i), i + 1);
        x86_64_set_arg(&r, 3, 0x44);
        assert_int_equal(r.r10, 0x44); /* not rcx: the kernel ABI */
        assert_int_equal(r.rcx, 0xa5a5a5a5a5a5a5a5ULL);
        assert_int_equal(x86_64_syscall_nr(&r), 34);
        assert_true(x86_64_in_syscall(&r));
        r.orig_rax = (uint64_t) -1;
        assert_false(x86_64_in_syscall(&r));
}

static void test_aarch64_args(void **state) {
        (void) state;
        struct aarch64_regs r = arm_sample();

        for (unsigned i = 0; i < 6; i++)
                assert_int_equal(aarch64_arg(&r, i), 0x1000 + i);
        assert_int_equal(aarch64_retval(&r), 0x1000); /* x0 doubles as result */
        assert_int_equal(aarch64_syscall_nr(&r), 73);
        r.syscallno = AARCH64_NO_SYSCALL;
        assert_false(aarch64_in_syscall(&r));
}

static void test_abi_checks(void **state) {
        (void) state;
        struct x86_64_regs x = x86_sample();
        struct aarch64_regs a = arm_sample();

        assert_int_equal(x86_64_check_abi(&x), 0);
        x.cs = 0x23;
        assert_int_equal(x86_64_check_abi(&x), -EOPNOTSUPP);
        x = x86_sample();
        x.orig_rax = X86_64_X32_SYSCALL_BIT | 59;
        assert_int_equal(x86_64_check_abi(&x), -EOPNOTSUPP);

        assert_int_equal(aarch64_check_abi(&a), 0);
        a.pstate |= AARCH64_PSR_MODE32_BIT;
        assert_int_equal(aarch64_check_abi(&a), -EOPNOTSUPP);
}

static void test_syscall_dir_hint(void **state) {
        (void) state;
        struct x86_64_regs x = x86_sample();
        struct aarch64_regs a = arm_sample();

        assert_int_equal(x86_64_syscall_dir_hint(&x), ARCH_SYSDIR_ENTRY);
        x.rax = 0;
        assert_int_equal(x86_64_syscall_dir_hint(&x), ARCH_SYSDIR_EXIT);
        x.orig_rax = (uint64_t) -1;
        assert_int_equal(x86_64_syscall_dir_hint(&x), ARCH_SYSDIR_UNKNOWN);

        a.regs[7] = 0;
        assert_int_equal(aarch64_syscall_dir_hint(&a), ARCH_SYSDIR_ENTRY);
        a.regs[7] = 1;
        assert_int_equal(aarch64_syscall_dir_hint(&a), ARCH_SYSDIR_EXIT);
        a.regs[7] = 0x1234;
        assert_int_equal(aarch64_syscall_dir_hint(&a), ARCH_SYSDIR_UNKNOWN);
}

/* ---- execve preparation ------------------------------------------------- */

static void test_x86_64_prepare_entry(void **state) {
        (void) state;
        struct x86_64_regs r = x86_sample(), before = r;

        x86_64_prepare_execve_entry(&r, 0x1111, 0x2222, 0x3333);
        assert_int_equal(r.orig_rax, X86_64_NR_EXECVE);
        assert_int_equal(r.rdi, 0x1111);
        assert_int_equal(r.rsi, 0x2222);
        assert_int_equal(r.rdx, 0x3333);
        /* ip, sp and rax (-ENOSYS at entry) untouched */
        assert_int_equal(r.rip, before.rip);
        assert_int_equal(r.rsp, before.rsp);
        assert_int_equal(r.rax, before.rax);
        assert_int_equal(r.r10, before.r10);
}

static void test_x86_64_prepare_insn(void **state) {
        (void) state;
        struct x86_64_regs r = x86_sample(), before = r;

        r.rax = (uint64_t) -ARCH_ERESTARTNOHAND;
        x86_64_prepare_execve_insn(&r, 0x7fff0000a10, 0x7ffc12340000, 0x1111, 0x2222, 0x3333);
        assert_int_equal(r.rip, 0x7fff0000a10);
        assert_int_equal(r.rsp, 0x7ffc12340000);
        assert_int_equal(r.rax, X86_64_NR_EXECVE);
        assert_int_equal((long) r.orig_rax, -1); /* kernel restart logic disarmed */
        assert_int_equal(r.rdi, 0x1111);
        assert_int_equal(r.rsi, 0x2222);
        assert_int_equal(r.rdx, 0x3333);
        assert_int_equal(r.cs, before.cs);
        assert_int_equal(r.rbx, before.rbx);
}

static void test_aarch64_prepare_entry(void **state) {
        (void) state;
        struct aarch64_regs r = arm_sample(), before = r;

        aarch64_prepare_execve_entry(&r, 0x1111, 0x2222, 0x3333);
        assert_int_equal(r.syscallno, AARCH64_NR_EXECVE); /* via NT_ARM_SYSTEM_CALL */
        assert_int_equal(r.regs[0], 0x1111);
        assert_int_equal(r.regs[1], 0x2222);
        assert_int_equal(r.regs[2], 0x3333);
        assert_int_equal(r.regs[8], before.regs[8]); /* x8 is not what the kernel uses now */
        assert_int_equal(r.pc, before.pc);
        assert_int_equal(r.sp, before.sp);
        assert_int_equal(r.pstate, before.pstate);
}

static void test_aarch64_prepare_insn(void **state) {
        (void) state;
        struct aarch64_regs r = arm_sample(), before = r;

        aarch64_prepare_execve_insn(&r, 0xffff8000a00c, 0xfffff0001000, 0x1111, 0x2222, 0x3333);
        assert_int_equal(r.pc, 0xffff8000a00c);
        assert_int_equal(r.sp, 0xfffff0001000);
        assert_int_equal(r.regs[8], AARCH64_NR_EXECVE);
        assert_int_equal(r.regs[0], 0x1111);
        assert_int_equal(r.regs[1], 0x2222);
        assert_int_equal(r.regs[2], 0x3333);
        assert_int_equal(r.syscallno, AARCH64_NO_SYSCALL);
        assert_int_equal(r.pstate & AARCH64_PSR_BTYPE_MASK, 0);
        assert_int_equal(r.pstate, before.pstate & ~(uint64_t) AARCH64_PSR_BTYPE_MASK);
        assert_int_equal(r.regs[3], before.regs[3]);
}

/* ---- restart fixups ----------------------------------------------------- */

static void test_x86_64_restart_each_code(void **state) {
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(restart_codes); i++) {
                struct x86_64_regs r = x86_sample();

                r.orig_rax = 247; /* waitid */
                r.rax = (uint64_t) restart_codes[i];
                assert_int_equal(x86_64_restart_fixup(&r, NULL), ARCH_RESTART_REWOUND);
                assert_int_equal(r.rip, 0x401000);
                assert_int_equal((long) r.orig_rax, -1);
                if (restart_codes[i] == -ARCH_ERESTART_RESTARTBLOCK)
                        assert_int_equal(r.rax, X86_64_NR_RESTART_SYSCALL);
                else
                        assert_int_equal(r.rax, 247);
                /* arguments survive: rdi is not the return register on x86 */
                assert_int_equal(r.rdi, 1);
                /* a second application must do nothing */
                struct x86_64_regs again = r;
                assert_int_equal(x86_64_restart_fixup(&again, NULL), ARCH_RESTART_NONE);
                assert_memory_equal(&again, &r, sizeof(r));
        }
}

static void test_x86_64_restart_not_restartable(void **state) {
        (void) state;
        struct x86_64_regs r = x86_sample();

        /* -EINTR: the kernel returns it to user space as is. */
        r.rax = (uint64_t) -EINTR;
        assert_int_equal(x86_64_restart_fixup(&r, NULL), ARCH_RESTART_NONE);
        assert_int_equal(r.rip, 0x401002);
        assert_int_equal((long) r.rax, -EINTR);
        assert_int_equal((long) r.orig_rax, -1);

        /* Not in a syscall: a restart code in rax is just data. */
        r = x86_sample();
        r.orig_rax = (uint64_t) -1;
        r.rax = (uint64_t) -ARCH_ERESTARTSYS;
        struct x86_64_regs before = r;
        assert_int_equal(x86_64_restart_fixup(&r, NULL), ARCH_RESTART_NONE);
        assert_memory_equal(&r, &before, sizeof(r));

        /* A syscall returning a success value */
        r = x86_sample();
        r.rax = 5;
        assert_int_equal(x86_64_restart_fixup(&r, NULL), ARCH_RESTART_NONE);
        assert_int_equal(r.rax, 5);
        assert_int_equal(r.rip, 0x401002);
}

static void test_aarch64_restart_each_code(void **state) {
        (void) state;
        const uint64_t orig_x0 = 0xdead0;

        for (size_t i = 0; i < ELEMENTSOF(restart_codes); i++) {
                struct aarch64_regs r = arm_sample();

                /* syscall-exit-stop of an interrupted call: x0 holds the code */
                r.regs[0] = (uint64_t) restart_codes[i];
                assert_int_equal(aarch64_restart_fixup(&r, &orig_x0), ARCH_RESTART_REWOUND);
                assert_int_equal(r.pc, 0x400100);
                assert_int_equal(r.regs[0], orig_x0);
                assert_int_equal(r.syscallno, AARCH64_NO_SYSCALL);
                if (restart_codes[i] == -ARCH_ERESTART_RESTARTBLOCK)
                        assert_int_equal(r.regs[8], AARCH64_NR_RESTART_SYSCALL);
                else
                        assert_int_equal(r.regs[8], 73);

                /* without the entry-time x0 the call cannot be redone */
                r = arm_sample();
                r.regs[0] = (uint64_t) restart_codes[i];
                assert_int_equal(aarch64_restart_fixup(&r, NULL), ARCH_RESTART_EINTR);
                assert_int_equal((long) r.regs[0], -EINTR);
                assert_int_equal(r.pc, 0x400104);
                assert_int_equal(r.syscallno, AARCH64_NO_SYSCALL);
        }
}

static void test_aarch64_restart_at_signal_stop(void **state) {
        (void) state;
        /* At a signal/group/interrupt stop do_signal() has already rewound:
         * syscallno == -1, pc on the svc, x0 = orig_x0.  Nothing to do. */
        struct aarch64_regs r = arm_sample(), before;

        r.syscallno = AARCH64_NO_SYSCALL;
        r.pc = 0x400100;
        r.regs[0] = (uint64_t) -ARCH_ERESTARTSYS; /* even if x0 happened to look like one */
        before = r;
        assert_int_equal(aarch64_restart_fixup(&r, NULL), ARCH_RESTART_NONE);
        assert_memory_equal(&r, &before, sizeof(r));

        r = arm_sample();
        r.regs[0] = (uint64_t) -EINTR;
        assert_int_equal(aarch64_restart_fixup(&r, NULL), ARCH_RESTART_NONE);
        assert_int_equal((long) r.regs[0], -EINTR);
        assert_int_equal(r.syscallno, AARCH64_NO_SYSCALL);
}

static void test_rewind_syscall(void **state) {
        (void) state;
        struct x86_64_regs x = x86_sample();
        struct aarch64_regs a = arm_sample();

        x86_64_rewind_syscall(&x, 34);
        assert_int_equal(x.rip, 0x401000);
        assert_int_equal(x.rax, 34);
        assert_int_equal((long) x.orig_rax, -1);
        assert_int_equal(x.rdi, 1);

        aarch64_rewind_syscall(&a, 73);
        assert_int_equal(a.pc, 0x400100);
        assert_int_equal(a.regs[8], 73);
        assert_int_equal(a.syscallno, AARCH64_NO_SYSCALL);
        assert_int_equal(a.regs[0], 0x1000);
}

static void test_insn_candidates(void **state) {
        (void) state;
        struct x86_64_regs x = x86_sample();
        struct aarch64_regs a = arm_sample();
        uint64_t c[4];

        assert_int_equal(x86_64_insn_candidates(&x, c, 4), 1);
        assert_int_equal(c[0], 0x401000);
        assert_true(x86_64_insn_addr_ok(&x, x.rip));
        assert_int_equal(x86_64_poke_candidates(&x, c, 4), 1);
        assert_int_equal(c[0], x.rip);

        assert_int_equal(aarch64_insn_candidates(&a, c, 4), 1);
        assert_int_equal(c[0], 0x400100);
        assert_false(aarch64_insn_addr_ok(&a, a.pc)); /* the rewound svc is unsafe */
        assert_true(aarch64_insn_addr_ok(&a, a.pc - 4));
        assert_false(aarch64_insn_addr_ok(&a, a.pc + 2)); /* misaligned */
        assert_int_equal(aarch64_poke_candidates(&a, c, 4), 2);
        assert_int_equal(c[0], a.pc - 4);
        assert_int_equal(c[1], a.pc + 4);
        for (unsigned i = 0; i < 2; i++)
                assert_true(aarch64_insn_addr_ok(&a, c[i]));
}

/* ---- stack layout -------------------------------------------------------- */

static uint64_t word_at(const uint8_t *buf, size_t off) {
        uint64_t w;
        memcpy(&w, buf + off, sizeof(w));
        return w;
}

/* Translate a remote address inside the block back into the local buffer. */
static const char *local_str(const uint8_t *buf, const struct inject_layout *l, uint64_t remote) {
        assert_true(remote >= l->base);
        assert_true(remote < l->base + l->len);
        return (const char *) buf + (remote - l->base);
}

static void check_layout(const char *path, char *const argv[], char *const envp[],
                         uint64_t sp, unsigned red_zone) {
        _Alignas(16) uint8_t buf[4096];
        struct inject_layout l;
        uint64_t top = inject_stack_top(sp, red_zone);
        size_t argc = 0, envc = 0;

        memset(buf, 0xee, sizeof(buf));
        assert_true(top <= sp - red_zone);
        assert_int_equal(top % 16, 0);
        assert_int_equal(inject_layout_execve(buf, sizeof(buf), top, path, argv, envp, &l), 0);

        assert_int_equal(l.base % 16, 0);
        assert_int_equal(l.len % 8, 0);
        assert_true(l.base + l.len <= top);            /* never in the red zone */
        assert_true(l.base + l.len > top - 16 - 8);    /* but close to it */
        assert_int_equal(l.argv, l.base);
        assert_int_equal(l.argv % 16, 0);
        assert_int_equal(l.envp % 8, 0);
        assert_string_equal(local_str(buf, &l, l.path), path);

        for (; argv && argv[argc]; argc++)
                assert_string_equal(local_str(buf, &l, word_at(buf, argc * 8)), argv[argc]);
        assert_int_equal(word_at(buf, argc * 8), 0); /* argv NULL terminator */
        assert_int_equal(l.envp, l.argv + (argc + 1) * 8);
        for (; envp && envp[envc]; envc++)
                assert_string_equal(local_str(buf, &l, word_at(buf, (argc + 1 + envc) * 8)),
                                    envp[envc]);
        assert_int_equal(word_at(buf, (argc + 1 + envc) * 8), 0); /* envp NULL terminator */
        /* the last string is NUL-terminated inside the block (or padding
         * follows it), and nothing is written past the block */
        assert_int_equal(buf[l.len - 1], 0);
        assert_int_equal(buf[l.len], 0xee);
}

static void test_layout_x86_64(void **state) {
        (void) state;
        char *argv[] = { (char *) "/sbin/initshim", (char *) "--rescue", (char *) "x", NULL };
        char *envp[] = { (char *) "TERM=linux", (char *) "HOME=/", NULL };

        check_layout("/sbin/initshim", argv, envp, 0x7ffc12345678, X86_64_RED_ZONE);
        check_layout("/p", argv, envp, 0x7ffc12345680, X86_64_RED_ZONE); /* aligned sp */
        check_layout("/sbin/initshim", NULL, NULL, 0x7ffc12345671, X86_64_RED_ZONE);
        assert_int_equal(inject_stack_top(0x7ffc12345678, X86_64_RED_ZONE), 0x7ffc123455f0);
}

static void test_layout_aarch64(void **state) {
        (void) state;
        char *argv[] = { (char *) "initshim", (char *) "--rescue", NULL };
        char *envp[] = { NULL };

        check_layout("/sbin/initshim", argv, envp, 0xfffff0001230, AARCH64_RED_ZONE);
        assert_int_equal(inject_stack_top(0xfffff0001238, AARCH64_RED_ZONE), 0xfffff0001230);
}

static void test_layout_exact_bytes(void **state) {
        (void) state;
        _Alignas(16) uint8_t buf[256];
        char *argv[] = { (char *) "a", NULL };
        char *envp[] = { (char *) "b=c", NULL };
        struct inject_layout l;

        /* 4 pointers (32) + "/x\0" (3) + "a\0" (2) + "b=c\0" (4) = 41 -> 48 */
        assert_int_equal(inject_layout_execve(buf, sizeof(buf), 0x10000, "/x", argv, envp, &l), 0);
        assert_int_equal(l.len, 48);
        assert_int_equal(l.base, 0x10000 - 48);
        assert_int_equal(l.path, l.base + 32);
        assert_int_equal(word_at(buf, 0), l.base + 35);
        assert_int_equal(word_at(buf, 8), 0);
        assert_int_equal(word_at(buf, 16), l.base + 37);
        assert_int_equal(word_at(buf, 24), 0);
        assert_memory_equal(buf + 32, "/x\0a\0b=c\0\0\0\0\0\0\0", 16);
}

static void test_layout_errors(void **state) {
        (void) state;
        _Alignas(16) uint8_t buf[64];
        char *argv[] = { (char *) "0123456789012345678901234567890123456789", NULL };
        struct inject_layout l;

        assert_int_equal(inject_layout_execve(buf, sizeof(buf), 0x10000, NULL, NULL, NULL, &l), -EINVAL);
        assert_int_equal(inject_layout_execve(buf, sizeof(buf), 0x10000, "/p", argv, argv, &l), -E2BIG);
        assert_int_equal(inject_layout_execve(buf, sizeof(buf), 0x20, "/p", NULL, NULL, &l), -ENOSPC);
        assert_int_equal(inject_stack_top(64, 128), 0);
        assert_int_equal(inject_layout_execve(buf, sizeof(buf), 0x10000, "/p", NULL, NULL, &l), 0);
        assert_int_equal(l.len, 24); /* two NULLs + "/p\0" rounded to 8 */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_x86_64_syscall_insn),
                cmocka_unit_test(test_aarch64_syscall_insn),
                cmocka_unit_test(test_x86_64_args),
                cmocka_unit_test(test_aarch64_args),
                cmocka_unit_test(test_abi_checks),
                cmocka_unit_test(test_syscall_dir_hint),
                cmocka_unit_test(test_x86_64_prepare_entry),
                cmocka_unit_test(test_x86_64_prepare_insn),
                cmocka_unit_test(test_aarch64_prepare_entry),
                cmocka_unit_test(test_aarch64_prepare_insn),
                cmocka_unit_test(test_x86_64_restart_each_code),
                cmocka_unit_test(test_x86_64_restart_not_restartable),
                cmocka_unit_test(test_aarch64_restart_each_code),
                cmocka_unit_test(test_aarch64_restart_at_signal_stop),
                cmocka_unit_test(test_rewind_syscall),
                cmocka_unit_test(test_insn_candidates),
                cmocka_unit_test(test_layout_x86_64),
                cmocka_unit_test(test_layout_aarch64),
                cmocka_unit_test(test_layout_exact_bytes),
                cmocka_unit_test(test_layout_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
