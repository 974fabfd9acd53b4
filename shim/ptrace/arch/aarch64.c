/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * aarch64 register logic.  The pure part compiles everywhere (unit tests run
 * it on x86_64); the ptrace part only on aarch64.
 *
 * Kernel behaviour relied on:
 *  - arch/arm64/kernel/ptrace.c: NT_PRSTATUS is struct user_pt_regs (no
 *    orig_x0, no syscall number).  The number lives in pt_regs->syscallno,
 *    read and written through the NT_ARM_SYSTEM_CALL regset (an int;
 *    system_call_get()/system_call_set()).  At syscall-stops x7 reads 0 at
 *    entry and 1 at exit and the tracer's write to x7 is discarded
 *    (report_syscall() saves and restores it).
 *  - entry (el0_svc_common()): x0 is copied to orig_x0 and x8 to syscallno
 *    *before* the entry stop; after it the kernel dispatches on syscallno as
 *    the tracer left it and reads the arguments from x0..x5.  Setting
 *    syscallno = -1 skips the call; x0 is then the result.
 *  - arch/arm64/kernel/signal.c do_signal(): if in_syscall (syscallno != -1)
 *    it forgets the syscall and, for the four restart codes, sets
 *    x0 = orig_x0, pc -= 4 *before* get_signal(), i.e. before any ptrace
 *    signal/group/interrupt stop.  After get_signal() it only acts if pc
 *    still equals that restart address (-EINTR conversion when a handler
 *    runs; x8 = __NR_restart_syscall for -ERESTART_RESTARTBLOCK).
 */
#include <errno.h>
#include <string.h>

#include "arch.h"

const uint8_t aarch64_syscall_insn[AARCH64_SYSCALL_INSN_LEN] = { 0x01, 0x00, 0x00, 0xd4 };

bool aarch64_is_syscall_insn(const uint8_t *bytes) {
        uint32_t insn = (uint32_t) bytes[0] | (uint32_t) bytes[1] << 8 |
                        (uint32_t) bytes[2] << 16 | (uint32_t) bytes[3] << 24;
        /* Only `svc #0`: Linux ignores the immediate, but #0 is what every
         * libc emits and what we would write ourselves. */
        return insn == AARCH64_SVC0;
}

uint64_t aarch64_ip(const struct aarch64_regs *r) { return r->pc; }
void aarch64_set_ip(struct aarch64_regs *r, uint64_t v) { r->pc = v; }
uint64_t aarch64_sp(const struct aarch64_regs *r) { return r->sp; }
void aarch64_set_sp(struct aarch64_regs *r, uint64_t v) { r->sp = v; }

uint64_t aarch64_arg(const struct aarch64_regs *r, unsigned i) {
        return i < 6 ? r->regs[i] : 0;
}

void aarch64_set_arg(struct aarch64_regs *r, unsigned i, uint64_t v) {
        if (i < 6)
                r->regs[i] = v;
}

long aarch64_retval(const struct aarch64_regs *r) { return (long) r->regs[0]; }
void aarch64_set_retval(struct aarch64_regs *r, long v) { r->regs[0] = (uint64_t) v; }
long aarch64_syscall_nr(const struct aarch64_regs *r) { return (long) r->syscallno; }
void aarch64_set_syscall_nr(struct aarch64_regs *r, long nr) { r->syscallno = nr; }

bool aarch64_in_syscall(const struct aarch64_regs *r) {
        return r->syscallno != AARCH64_NO_SYSCALL;
}

int aarch64_check_abi(const struct aarch64_regs *r) {
        return (r->pstate & AARCH64_PSR_MODE32_BIT) ? -EOPNOTSUPP : 0;
}

enum arch_sysdir aarch64_syscall_dir_hint(const struct aarch64_regs *r) {
        switch (r->regs[7]) {
        case 0: return ARCH_SYSDIR_ENTRY;
        case 1: return ARCH_SYSDIR_EXIT;
        default: return ARCH_SYSDIR_UNKNOWN;
        }
}

void aarch64_prepare_execve_entry(struct aarch64_regs *r, uint64_t path,
                                  uint64_t argv, uint64_t envp) {
        r->syscallno = AARCH64_NR_EXECVE;
        r->regs[0] = path;
        r->regs[1] = argv;
        r->regs[2] = envp;
}

void aarch64_prepare_execve_insn(struct aarch64_regs *r, uint64_t insn, uint64_t sp,
                                 uint64_t path, uint64_t argv, uint64_t envp) {
        r->pc = insn;
        r->sp = sp;
        r->regs[8] = AARCH64_NR_EXECVE;
        r->regs[0] = path;
        r->regs[1] = argv;
        r->regs[2] = envp;
        r->syscallno = AARCH64_NO_SYSCALL;
        /* We are not branching there: a stale BTYPE from a stop right after
         * an indirect branch would fault on a BTI-guarded page. */
        r->pstate &= ~(uint64_t) AARCH64_PSR_BTYPE_MASK;
}

enum arch_restart aarch64_restart_fixup(struct aarch64_regs *r, const uint64_t *orig_arg0) {
        if (!aarch64_in_syscall(r))
                return ARCH_RESTART_NONE; /* signal stops: already rewound by do_signal() */

        enum arch_restart ret = ARCH_RESTART_NONE;
        switch ((long) r->regs[0]) {
        case -ARCH_ERESTARTSYS:
        case -ARCH_ERESTARTNOINTR:
        case -ARCH_ERESTARTNOHAND:
        case -ARCH_ERESTART_RESTARTBLOCK:
                if (!orig_arg0) {
                        r->regs[0] = (uint64_t) -EINTR;
                        ret = ARCH_RESTART_EINTR;
                        break;
                }
                r->regs[8] = (long) r->regs[0] == -ARCH_ERESTART_RESTARTBLOCK
                        ? (uint64_t) AARCH64_NR_RESTART_SYSCALL
                        : (uint64_t) r->syscallno;
                r->regs[0] = *orig_arg0;
                r->pc -= AARCH64_SYSCALL_INSN_LEN;
                ret = ARCH_RESTART_REWOUND;
                break;
        default:
                break;
        }
        r->syscallno = AARCH64_NO_SYSCALL;
        return ret;
}

void aarch64_rewind_syscall(struct aarch64_regs *r, long nr) {
        r->pc -= AARCH64_SYSCALL_INSN_LEN;
        r->regs[8] = (uint64_t) nr;
        r->syscallno = AARCH64_NO_SYSCALL;
}

size_t aarch64_insn_candidates(const struct aarch64_regs *r, uint64_t *out, size_t max) {
        /* pc - 4: the svc of a syscall that returned without rewind (e.g.
         * -EINTR, or a syscall-exit-stop).  pc itself (a rewound svc) is not
         * safe, see aarch64_insn_addr_ok(). */
        if (max < 1 || r->pc < AARCH64_SYSCALL_INSN_LEN || (r->pc & 3))
                return 0;
        out[0] = r->pc - AARCH64_SYSCALL_INSN_LEN;
        return 1;
}

bool aarch64_insn_addr_ok(const struct aarch64_regs *r, uint64_t addr) {
        return addr != r->pc && (addr & 3) == 0;
}

size_t aarch64_poke_candidates(const struct aarch64_regs *r, uint64_t *out, size_t max) {
        size_t n = 0;

        if (r->pc & 3)
                return 0;
        if (n < max && r->pc >= AARCH64_SYSCALL_INSN_LEN)
                out[n++] = r->pc - AARCH64_SYSCALL_INSN_LEN;
        if (n < max)
                out[n++] = r->pc + AARCH64_SYSCALL_INSN_LEN;
        return n;
}

#if defined(__aarch64__)
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <asm/ptrace.h>

#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif

_Static_assert(offsetof(struct aarch64_regs, syscallno) == sizeof(struct user_pt_regs),
               "aarch64_regs must start with a mirror of user_pt_regs");
_Static_assert(offsetof(struct aarch64_regs, pc) == offsetof(struct user_pt_regs, pc),
               "pc offset");

int arch_regs_get(pid_t pid, struct regs *r) {
        struct iovec iov = { .iov_base = &r->a, .iov_len = sizeof(struct user_pt_regs) };
        int nr = -1;

        if (ptrace(PTRACE_GETREGSET, pid, (void *) NT_PRSTATUS, &iov) < 0)
                return -errno;
        if (iov.iov_len != sizeof(struct user_pt_regs))
                return -EOPNOTSUPP; /* arm32 compat task */

        iov = (struct iovec) { .iov_base = &nr, .iov_len = sizeof(nr) };
        if (ptrace(PTRACE_GETREGSET, pid, (void *) NT_ARM_SYSTEM_CALL, &iov) < 0)
                return -errno;
        r->a.syscallno = nr;
        return 0;
}

int arch_regs_set(pid_t pid, const struct regs *r) {
        struct iovec iov = { .iov_base = (void *) &r->a, .iov_len = sizeof(struct user_pt_regs) };
        int nr = (int) r->a.syscallno;

        if (ptrace(PTRACE_SETREGSET, pid, (void *) NT_PRSTATUS, &iov) < 0)
                return -errno;
        iov = (struct iovec) { .iov_base = &nr, .iov_len = sizeof(nr) };
        if (ptrace(PTRACE_SETREGSET, pid, (void *) NT_ARM_SYSTEM_CALL, &iov) < 0)
                return -errno;
        return 0;
}
#endif
