/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x86_64 register logic.  The pure part compiles everywhere (unit tests run
 * it on any host); the ptrace part only on x86_64.
 *
 * Kernel behaviour relied on (arch/x86/kernel/signal.c, v5.10..v6.x):
 *   arch_do_signal_or_restart(): after get_signal() (where ptrace stops
 *   happen) found no handler to run, and only if syscall_get_nr() (=orig_ax)
 *   != -1:  -ERESTARTNOHAND/-ERESTARTSYS/-ERESTARTNOINTR -> ax = orig_ax,
 *   ip -= 2;  -ERESTART_RESTARTBLOCK -> ax = __NR_restart_syscall, ip -= 2.
 *   handle_signal() does the same keyed on orig_ax when a handler runs.
 * So a tracer that moves ip while rax still holds a restart code must set
 * orig_rax = -1 or the kernel moves it again (we always do).  At a syscall-entry-stop the kernel dispatches on orig_ax as left
 * by the tracer (syscall_trace_enter() returns syscall_get_nr()), rax reads
 * -ENOSYS there.
 */
#include <errno.h>
#include <string.h>

#include "arch.h"

const uint8_t x86_64_syscall_insn[X86_64_SYSCALL_INSN_LEN] = { 0x0f, 0x05 };

bool x86_64_is_syscall_insn(const uint8_t *bytes) {
        return bytes[0] == 0x0f && bytes[1] == 0x05;
}

uint64_t x86_64_ip(const struct x86_64_regs *r) { return r->rip; }
void x86_64_set_ip(struct x86_64_regs *r, uint64_t v) { r->rip = v; }
uint64_t x86_64_sp(const struct x86_64_regs *r) { return r->rsp; }
void x86_64_set_sp(struct x86_64_regs *r, uint64_t v) { r->rsp = v; }

uint64_t x86_64_arg(const struct x86_64_regs *r, unsigned i) {
        switch (i) {
        case 0: return r->rdi;
        case 1: return r->rsi;
        case 2: return r->rdx;
        case 3: return r->r10;
        case 4: return r->r8;
        case 5: return r->r9;
        default: return 0;
        }
}

void x86_64_set_arg(struct x86_64_regs *r, unsigned i, uint64_t v) {
        switch (i) {
        case 0: r->rdi = v; break;
        case 1: r->rsi = v; break;
        case 2: r->rdx = v; break;
        case 3: r->r10 = v; break;
        case 4: r->r8 = v; break;
        case 5: r->r9 = v; break;
        default: break;
        }
}

long x86_64_retval(const struct x86_64_regs *r) { return (long) r->rax; }
void x86_64_set_retval(struct x86_64_regs *r, long v) { r->rax = (uint64_t) v; }
long x86_64_syscall_nr(const struct x86_64_regs *r) { return (long) r->orig_rax; }
void x86_64_set_syscall_nr(struct x86_64_regs *r, long nr) { r->orig_rax = (uint64_t) nr; }

bool x86_64_in_syscall(const struct x86_64_regs *r) {
        return (long) r->orig_rax != -1;
}

int x86_64_check_abi(const struct x86_64_regs *r) {
        if (r->cs != X86_64_USER_CS)
                return -EOPNOTSUPP; /* 32-bit code (cs 0x23) */
        if (x86_64_in_syscall(r) && (r->orig_rax & X86_64_X32_SYSCALL_BIT))
                return -EOPNOTSUPP; /* x32 syscall: different numbers */
        return 0;
}

enum arch_sysdir x86_64_syscall_dir_hint(const struct x86_64_regs *r) {
        if (!x86_64_in_syscall(r))
                return ARCH_SYSDIR_UNKNOWN;
        return (long) r->rax == -ENOSYS ? ARCH_SYSDIR_ENTRY : ARCH_SYSDIR_EXIT;
}

void x86_64_prepare_execve_entry(struct x86_64_regs *r, uint64_t path,
                                 uint64_t argv, uint64_t envp) {
        r->orig_rax = X86_64_NR_EXECVE;
        r->rdi = path;
        r->rsi = argv;
        r->rdx = envp;
}

void x86_64_prepare_execve_insn(struct x86_64_regs *r, uint64_t insn, uint64_t sp,
                                uint64_t path, uint64_t argv, uint64_t envp) {
        r->rip = insn;
        r->rsp = sp;
        r->rax = X86_64_NR_EXECVE;
        r->orig_rax = (uint64_t) -1;
        r->rdi = path;
        r->rsi = argv;
        r->rdx = envp;
}

enum arch_restart x86_64_restart_fixup(struct x86_64_regs *r, const uint64_t *orig_arg0) {
        (void) orig_arg0;

        if (!x86_64_in_syscall(r))
                return ARCH_RESTART_NONE;

        enum arch_restart ret = ARCH_RESTART_NONE;
        switch ((long) r->rax) {
        case -ARCH_ERESTARTSYS:
        case -ARCH_ERESTARTNOINTR:
        case -ARCH_ERESTARTNOHAND:
                r->rax = r->orig_rax;
                r->rip -= X86_64_SYSCALL_INSN_LEN;
                ret = ARCH_RESTART_REWOUND;
                break;
        case -ARCH_ERESTART_RESTARTBLOCK:
                r->rax = X86_64_NR_RESTART_SYSCALL;
                r->rip -= X86_64_SYSCALL_INSN_LEN;
                ret = ARCH_RESTART_REWOUND;
                break;
        default:
                break;
        }
        /* Disarm the kernel's own restart logic in every case: we have done
         * it, or there was nothing to do. */
        r->orig_rax = (uint64_t) -1;
        return ret;
}

void x86_64_rewind_syscall(struct x86_64_regs *r, long nr) {
        r->rip -= X86_64_SYSCALL_INSN_LEN;
        r->rax = (uint64_t) nr;
        r->orig_rax = (uint64_t) -1;
}

size_t x86_64_insn_candidates(const struct x86_64_regs *r, uint64_t *out, size_t max) {
        /* After a syscall (interrupted or not) the instruction that entered
         * it ends at rip.  The bytes are checked by the caller, so this is
         * right whenever they read 0f 05, even by accident. */
        if (max < 1 || r->rip < X86_64_SYSCALL_INSN_LEN)
                return 0;
        out[0] = r->rip - X86_64_SYSCALL_INSN_LEN;
        return 1;
}

bool x86_64_insn_addr_ok(const struct x86_64_regs *r, uint64_t addr) {
        (void) r;
        (void) addr;
        return true; /* orig_rax = -1 makes every address safe */
}

size_t x86_64_poke_candidates(const struct x86_64_regs *r, uint64_t *out, size_t max) {
        if (max < 1)
                return 0;
        out[0] = r->rip;
        return 1;
}

#if defined(__x86_64__)
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

_Static_assert(sizeof(struct x86_64_regs) == sizeof(struct user_regs_struct),
               "x86_64_regs must mirror user_regs_struct");
_Static_assert(offsetof(struct x86_64_regs, orig_rax) == offsetof(struct user_regs_struct, orig_rax),
               "orig_rax offset");
_Static_assert(offsetof(struct x86_64_regs, rip) == offsetof(struct user_regs_struct, rip),
               "rip offset");
_Static_assert(offsetof(struct x86_64_regs, gs) == offsetof(struct user_regs_struct, gs),
               "gs offset");

int arch_regs_get(pid_t pid, struct regs *r) {
        struct iovec iov = { .iov_base = &r->a, .iov_len = sizeof(r->a) };

        if (ptrace(PTRACE_GETREGSET, pid, (void *) NT_PRSTATUS, &iov) < 0)
                return -errno;
        /* A 32-bit tracee gets the 17-word i386 layout. */
        if (iov.iov_len != sizeof(r->a))
                return -EOPNOTSUPP;
        return 0;
}

int arch_regs_set(pid_t pid, const struct regs *r) {
        struct iovec iov = { .iov_base = (void *) &r->a, .iov_len = sizeof(r->a) };

        if (ptrace(PTRACE_SETREGSET, pid, (void *) NT_PRSTATUS, &iov) < 0)
                return -errno;
        return 0;
}
#endif
