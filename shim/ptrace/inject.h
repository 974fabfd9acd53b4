/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ptrace injection: make a stopped tracee call execve().
 *
 * Mechanism only, no policy: the caller attaches (PTRACE_SEIZE with
 * PTRACE_O_TRACESYSGOOD|PTRACE_O_TRACEEXEC, never PTRACE_O_EXITKILL), waits
 * for stops, decides, and resumes.  Every function is called on a tracee in
 * a ptrace-stop (not a PTRACE_LISTEN state), does no allocation, and returns
 * 0 (or a count) on success and -errno on failure.  Not thread-safe with
 * respect to the same tracee.  See docs/ptrace.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ptrace/arch/arch.h"

/* ---- registers ---------------------------------------------------------- */

/* PTRACE_GETREGSET NT_PRSTATUS (+ NT_ARM_SYSTEM_CALL on aarch64).  The
 * accessors regs_ip(), regs_sp(), regs_arg(r, i), regs_retval(),
 * regs_syscall_nr() and their regs_set_*() counterparts are in arch/arch.h.
 * regs_syscall_nr() is orig_rax on x86_64 and the NT_ARM_SYSTEM_CALL value
 * on aarch64; -1 when the thread is not in a syscall. */
int regs_get(pid_t pid, struct regs *r);
int regs_set(pid_t pid, const struct regs *r);

/* ---- what kind of stop is this ------------------------------------------ */

enum inject_stop_kind {
        INJECT_STOP_NONE          = 0, /* not a syscall stop (signal, group, event) */
        INJECT_STOP_SYSCALL_ENTRY = 1,
        INJECT_STOP_SYSCALL_EXIT  = 2,
        INJECT_STOP_SECCOMP       = 3, /* PTRACE_EVENT_SECCOMP: behaves as an entry */
};

struct inject_syscall_stop {
        enum inject_stop_kind kind;
        bool exact;        /* true: PTRACE_GET_SYSCALL_INFO (Linux >= 5.3) said so;
                            * false: guessed from registers, see below */
        uint32_t arch;     /* AUDIT_ARCH_* when exact, else 0 */
        long nr;           /* ENTRY/SECCOMP: syscall number; else -1 */
        uint64_t args[6];  /* ENTRY/SECCOMP */
        long ret;          /* EXIT: return value (negative errno on error) */
        uint64_t ip, sp;
};

/* Classify the current stop.  With PTRACE_GET_SYSCALL_INFO the answer is
 * exact for any stop.  Without it (old kernels) the caller must only ask at
 * a syscall-stop (WSTOPSIG == SIGTRAP|0x80): then ENTRY/EXIT are guessed
 * (x86_64: rax == -ENOSYS at entry -- wrong for a syscall that returned
 * -ENOSYS; aarch64: x7 == 0/1, reliable), and a tracer that needs certainty
 * tracks the alternation of entry and exit stops itself. */
int inject_syscall_stop(pid_t pid, struct inject_syscall_stop *s);

/* ---- injection ---------------------------------------------------------- */

/* Flags. */
enum {
        INJECT_F_NO_POKETEXT    = 1u << 0, /* never write a syscall insn into text */
        INJECT_F_FORCE_POKETEXT = 1u << 1, /* always write one (tests, or distrust text) */
        INJECT_F_NO_VM_WRITEV   = 1u << 2, /* PTRACE_POKEDATA only */
        INJECT_F_NO_VM_READV    = 1u << 3, /* PTRACE_PEEKDATA only */
};

/* How the execve was set up (diagnostics). */
enum inject_via {
        INJECT_VIA_NONE = 0,
        INJECT_VIA_SYSCALL_ENTRY, /* rewrote the syscall at its entry stop */
        INJECT_VIA_INSN_AT_IP,    /* the syscall insn just before ip (interrupted syscall) */
        INJECT_VIA_INSN_FOUND,    /* a syscall insn found in an executable mapping */
        INJECT_VIA_INSN_POKED,    /* a syscall insn written with PTRACE_POKETEXT */
};

/* Filled by the inject_* functions; pass it to inject_rollback().  Plain
 * data, may live anywhere. */
struct inject_state {
        struct regs saved;      /* registers as found at the stop */
        struct regs restore;    /* what inject_rollback() installs */
        enum inject_via via;
        uint64_t insn_addr;     /* syscall instruction used (not for VIA_SYSCALL_ENTRY) */
        uint64_t blob_addr;     /* where path/argv/envp were written */
        size_t blob_len;
        uint64_t text_addr;     /* word-aligned start of poked text, 0 if none */
        uint64_t text_orig[2];  /* original words there */
        unsigned text_words;
        bool mem_fallback;      /* process_vm_writev failed, PTRACE_POKEDATA was used */
        bool blob_fallback;     /* no room below sp (stack overflow): the block went to
                                 * the bottom of the nearest writable mapping above sp,
                                 * overwriting what was there (rollback cannot undo it) */
        bool valid;
};

/* Largest path + argv + envp block (strings, pointer arrays, alignment).
 * It is assembled on the caller's stack. */
#define INJECT_BLOB_MAX 16384u

/* At a syscall-entry-stop (PTRACE_SYSCALL + TRACESYSGOOD, SIGTRAP|0x80, or a
 * PTRACE_EVENT_SECCOMP stop) rewrite the syscall about to run into
 * execve(path, argv, envp).  path/argv/envp are copied below the tracee's
 * stack pointer (beyond the x86_64 red zone), sp itself is not changed.
 * argv/envp may be NULL (= empty).  Resume with PTRACE_SYSCALL or PTRACE_CONT
 * and signal 0: success shows as PTRACE_EVENT_EXEC (then, under
 * PTRACE_SYSCALL, the execve's exit stop with 0); failure as the
 * syscall-exit-stop with -errno in the return register (read it with
 * inject_syscall_stop()).  The tracee then sees that error as the result of
 * its original syscall unless inject_rollback() is called at that exit stop,
 * which makes it re-execute the original syscall.
 * Errors: -EINVAL (not an entry stop, when the kernel can tell), -EOPNOTSUPP
 * (compat/x32 syscall), -E2BIG (block > INJECT_BLOB_MAX), -ENOSPC/-EFAULT
 * (no room below sp), ptrace errors (-ESRCH: not stopped).  On error the
 * tracee's registers are unchanged. */
int inject_execve_at_syscall_entry(pid_t pid, const char *path,
                                   char *const argv[], char *const envp[],
                                   unsigned flags, struct inject_state *st);

/* At any other ptrace-stop (PTRACE_INTERRUPT / group-stop, signal-delivery-
 * stop, syscall-exit-stop, event stop) make the tracee execute execve() when
 * resumed: ip is moved to a syscall instruction (the one that entered an
 * interrupted syscall, else one found in an executable mapping -- the vDSO
 * has one -- else one written over the text at ip), the registers are set
 * for execve with the kernel's restart logic disarmed, and sp is moved below
 * the copied strings so that a signal frame cannot overwrite them.  If
 * nothing can be written below sp (a stack-overflow crash leaves sp in the
 * guard gap) the strings go to the lowest 16 KiB of the nearest writable
 * mapping at or above sp (st->blob_fallback).  If the
 * stop turns out to be a syscall-entry/seccomp stop (known exactly only with
 * PTRACE_GET_SYSCALL_INFO) this defers to inject_execve_at_syscall_entry().
 * Resume with signal 0 (a pending signal-delivery is thereby suppressed).
 * Success: PTRACE_EVENT_EXEC.  Failure: under PTRACE_SYSCALL the execve's
 * entry stop, then its exit stop with -errno; the tracee must then be
 * rolled back with inject_rollback() (at either stop), or it would return
 * into the middle of unrelated code.  If nothing can be resumed safely,
 * the caller still holds the tracee stopped.
 * Errors: as above, plus -ENOEXEC (no syscall instruction usable and
 * INJECT_F_NO_POKETEXT).  On error the tracee is unchanged. */
int inject_execve_at_stop(pid_t pid, const char *path,
                          char *const argv[], char *const envp[],
                          unsigned flags, struct inject_state *st);

/* At the syscall-exit-stop of an execve that succeeded (after its
 * PTRACE_EVENT_EXEC, resumed with PTRACE_SYSCALL), before the new image ran
 * a single instruction: make it execve(path) again with the argv and envp
 * the kernel just laid out on its initial stack (used in place: only the
 * path is copied), so that a re-exec with `--deserialize N` lands in another
 * binary with its arguments, environment and inherited fds unchanged.  The
 * syscall instruction comes from the vDSO (or is poked), as for
 * inject_execve_at_stop().  Resume with signal 0.  Success:
 * PTRACE_EVENT_EXEC.  Failure: under PTRACE_SYSCALL the execve's entry stop,
 * then its exit stop with -errno; inject_rollback() there puts the tracee
 * back at the entry point of the image it had exec'd, which then runs as if
 * nothing had happened.
 * Errors: -EINVAL (not the exit stop of a successful execve/execveat, when
 * the kernel can tell, or no initial stack at sp), -EOPNOTSUPP, -E2BIG,
 * ptrace errors.  On error the tracee is unchanged. */
#define INJECT_EXEC_ARGC_MAX 4096u
int inject_execve_at_exec_exit(pid_t pid, const char *path, unsigned flags,
                               struct inject_state *st);

/* Undo an injection whose execve failed (or was not yet run): call it at the
 * execve's syscall-entry-stop or syscall-exit-stop, or at the very stop where
 * the injection was made.  Restores poked text and installs st->restore:
 *  - after inject_execve_at_syscall_entry(): the original syscall is executed
 *    again with its original arguments (a new entry stop follows under
 *    PTRACE_SYSCALL);
 *  - after inject_execve_at_stop(): the state the tracee would have had had
 *    the tracer just resumed it (an interrupted syscall is restarted; aarch64
 *    at a syscall-exit-stop: -EINTR, see docs).
 * The blob below sp is left (it is below the stack pointer, i.e. dead). */
int inject_rollback(pid_t pid, const struct inject_state *st);

/* ---- pure helpers (unit-tested) ------------------------------------------ */

struct inject_layout {
        uint64_t base;   /* remote address of the block, ARCH_STACK_ALIGN-aligned */
        size_t len;      /* bytes to copy from the local buffer, multiple of 8 */
        uint64_t path;   /* remote address of the path string */
        uint64_t argv;   /* remote address of argv[] (NULL-terminated) */
        uint64_t envp;   /* remote address of envp[] (NULL-terminated) */
};

/* Lay out, in buf, the block [argv pointers, NULL, envp pointers, NULL,
 * path, argv strings, envp strings] as it must appear at a remote address
 * ending at or below `top` (exclusive), base aligned to 16, pointers
 * already translated to remote addresses (native byte order).  argv/envp
 * NULL mean empty.  -EINVAL (no path), -E2BIG (bufsz too small), -ENOSPC
 * (top too low). */
int inject_layout_execve(void *buf, size_t bufsz, uint64_t top, const char *path,
                         char *const argv[], char *const envp[],
                         struct inject_layout *out);

/* The highest address (exclusive) the block may use for a given stack
 * pointer: sp minus the red zone, aligned down to 16. */
uint64_t inject_stack_top(uint64_t sp, unsigned red_zone);
