/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-architecture register logic for the ptrace injection library.
 *
 * Two layers:
 *
 *  1. Pure functions over a mirror of each architecture's register file,
 *     prefixed x86_64_ and aarch64_.  They compile on every host, do no
 *     system calls and are unit-tested on x86_64 for BOTH architectures
 *     (tests/unit/test_arch.c).
 *
 *  2. The native view: `struct regs` wraps the mirror of the architecture
 *     we are compiled for, the regs_* inline accessors forward to the
 *     matching pure function, and arch_regs_get()/arch_regs_set() do the
 *     real PTRACE_GETREGSET/SETREGSET (implemented only in the native
 *     arch's .c file, under #if defined(__x86_64__) / __aarch64__).
 *
 * Everything assumes a 64-bit little-endian tracee of the tracer's own
 * architecture (PID 1 on the same machine).  Compat tasks (i386, arm32)
 * are detected by regset size and refused with -EOPNOTSUPP.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The kernel-internal restart codes (include/linux/errno.h).  User space
 * never sees them, but a tracer does, in the return register of a syscall
 * interrupted by a signal or a ptrace stop. */
#define ARCH_ERESTARTSYS           512
#define ARCH_ERESTARTNOINTR        513
#define ARCH_ERESTARTNOHAND        514
#define ARCH_ERESTART_RESTARTBLOCK 516

/* Every pointer we write into the tracee is 8 bytes; stacks are aligned to
 * 16 on both architectures (SysV x86-64 ABI, AAPCS64). */
#define ARCH_WORD_SIZE   8u
#define ARCH_STACK_ALIGN 16u

/* Result of *_restart_fixup(). */
enum arch_restart {
        ARCH_RESTART_NONE    = 0, /* not an interrupted syscall: nothing to redo */
        ARCH_RESTART_REWOUND = 1, /* registers now re-execute the syscall insn */
        ARCH_RESTART_EINTR   = 2, /* could not rewind (aarch64, orig_x0 lost): returns -EINTR */
};

/* What a syscall-stop looks like from the registers alone (fallback for
 * kernels without PTRACE_GET_SYSCALL_INFO, < 5.3). */
enum arch_sysdir {
        ARCH_SYSDIR_UNKNOWN = 0,
        ARCH_SYSDIR_ENTRY   = 1,
        ARCH_SYSDIR_EXIT    = 2,
};

/* ------------------------------------------------------------------------ */
/* x86_64                                                                   */
/* ------------------------------------------------------------------------ */

#define X86_64_NR_EXECVE          59
#define X86_64_NR_EXECVEAT        322
#define X86_64_NR_RESTART_SYSCALL 219
#define X86_64_X32_SYSCALL_BIT    0x40000000L
#define X86_64_RED_ZONE           128u  /* SysV ABI 3.2.2 */
#define X86_64_SYSCALL_INSN_LEN   2u    /* 0f 05; int $0x80 (cd 80) is 2 too */
#define X86_64_SYSCALL_INSN_ALIGN 1u
#define X86_64_USER_CS            0x33u /* __USER_CS: 64-bit code segment */
#define X86_64_AUDIT_ARCH         0xc000003eu /* AUDIT_ARCH_X86_64 */

/* Mirror of <sys/user.h> struct user_regs_struct (= NT_PRSTATUS payload). */
struct x86_64_regs {
        uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
        uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
        uint64_t fs_base, gs_base, ds, es, fs, gs;
};

extern const uint8_t x86_64_syscall_insn[X86_64_SYSCALL_INSN_LEN];

bool x86_64_is_syscall_insn(const uint8_t *bytes);          /* reads 2 bytes */
uint64_t x86_64_ip(const struct x86_64_regs *r);
void x86_64_set_ip(struct x86_64_regs *r, uint64_t v);
uint64_t x86_64_sp(const struct x86_64_regs *r);
void x86_64_set_sp(struct x86_64_regs *r, uint64_t v);
uint64_t x86_64_arg(const struct x86_64_regs *r, unsigned i); /* i < 6 */
void x86_64_set_arg(struct x86_64_regs *r, unsigned i, uint64_t v);
long x86_64_retval(const struct x86_64_regs *r);
void x86_64_set_retval(struct x86_64_regs *r, long v);
/* Number of the syscall the task is in (entry/exit stop) or returned from,
 * -1 when not in a syscall: orig_rax. */
long x86_64_syscall_nr(const struct x86_64_regs *r);
void x86_64_set_syscall_nr(struct x86_64_regs *r, long nr);
bool x86_64_in_syscall(const struct x86_64_regs *r);
/* 0 when the task runs 64-bit code, -EOPNOTSUPP otherwise. */
int x86_64_check_abi(const struct x86_64_regs *r);
/* Fallback entry/exit guess at a syscall-stop: rax == -ENOSYS at entry
 * (ambiguous: a syscall can return -ENOSYS). */
enum arch_sysdir x86_64_syscall_dir_hint(const struct x86_64_regs *r);

/* At a syscall-entry-stop: turn the syscall about to run into
 * execve(path, argv, envp).  orig_rax is what the kernel dispatches on after
 * the stop (arch/x86/entry/common.c: syscall_trace_enter() re-reads it). */
void x86_64_prepare_execve_entry(struct x86_64_regs *r, uint64_t path,
                                 uint64_t argv, uint64_t envp);
/* At any other stop: run execve by executing the syscall instruction at
 * `insn` with rax = __NR_execve.  The kernel's post-stop restart logic
 * (arch_do_signal_or_restart(), handle_signal()) acts only if orig_ax != -1
 * AND ax holds a -ERESTART* code; overwriting rax already defeats it,
 * orig_rax = -1 says "not in a syscall" explicitly on top. */
void x86_64_prepare_execve_insn(struct x86_64_regs *r, uint64_t insn, uint64_t sp,
                                uint64_t path, uint64_t argv, uint64_t envp);
/* Apply, in the registers, the restart the kernel would do itself after a
 * stop in an interrupted syscall with no handler to run, and disarm the
 * kernel's own (orig_rax = -1).  orig_arg0 is unused on x86_64 (rdi is not
 * clobbered by the return value). */
enum arch_restart x86_64_restart_fixup(struct x86_64_regs *r, const uint64_t *orig_arg0);
/* Make the task re-execute syscall `nr` with its current argument registers
 * from the instruction that entered it: ip -= 2, rax = nr, orig_rax = -1.
 * Used to undo an entry rewrite after a failed execve. */
void x86_64_rewind_syscall(struct x86_64_regs *r, long nr);
/* Addresses worth checking for an existing syscall instruction, nearest
 * first; returns how many were stored (<= max). */
size_t x86_64_insn_candidates(const struct x86_64_regs *r, uint64_t *out, size_t max);
/* May the injected execve use the syscall instruction at `addr`? */
bool x86_64_insn_addr_ok(const struct x86_64_regs *r, uint64_t addr);
/* Where to write a syscall instruction if none is found, in order. */
size_t x86_64_poke_candidates(const struct x86_64_regs *r, uint64_t *out, size_t max);

/* ------------------------------------------------------------------------ */
/* aarch64                                                                  */
/* ------------------------------------------------------------------------ */

#define AARCH64_NR_EXECVE          221
#define AARCH64_NR_EXECVEAT        281
#define AARCH64_NR_RESTART_SYSCALL 128
#define AARCH64_RED_ZONE           0u   /* AAPCS64 has none */
#define AARCH64_SYSCALL_INSN_LEN   4u
#define AARCH64_SYSCALL_INSN_ALIGN 4u
#define AARCH64_SVC0               0xd4000001u /* svc #0 */
#define AARCH64_PSR_BTYPE_MASK     0x00000c00u /* PSTATE.BTYPE (BTI) */
#define AARCH64_PSR_MODE32_BIT     0x00000010u
#define AARCH64_NO_SYSCALL         (-1L)
#define AARCH64_AUDIT_ARCH         0xc00000b7u /* AUDIT_ARCH_AARCH64 */

/* Mirror of <asm/ptrace.h> struct user_pt_regs (NT_PRSTATUS payload) plus
 * the syscall number the kernel keeps in pt_regs->syscallno, which ptrace
 * exposes only through the NT_ARM_SYSTEM_CALL regset (an int). */
struct aarch64_regs {
        uint64_t regs[31];
        uint64_t sp;
        uint64_t pc;
        uint64_t pstate;
        int64_t syscallno; /* NT_ARM_SYSTEM_CALL; -1 = NO_SYSCALL */
};

extern const uint8_t aarch64_syscall_insn[AARCH64_SYSCALL_INSN_LEN];

bool aarch64_is_syscall_insn(const uint8_t *bytes);          /* reads 4 bytes, LE */
uint64_t aarch64_ip(const struct aarch64_regs *r);
void aarch64_set_ip(struct aarch64_regs *r, uint64_t v);
uint64_t aarch64_sp(const struct aarch64_regs *r);
void aarch64_set_sp(struct aarch64_regs *r, uint64_t v);
uint64_t aarch64_arg(const struct aarch64_regs *r, unsigned i);
void aarch64_set_arg(struct aarch64_regs *r, unsigned i, uint64_t v);
long aarch64_retval(const struct aarch64_regs *r);
void aarch64_set_retval(struct aarch64_regs *r, long v);
long aarch64_syscall_nr(const struct aarch64_regs *r);
void aarch64_set_syscall_nr(struct aarch64_regs *r, long nr);
bool aarch64_in_syscall(const struct aarch64_regs *r);
int aarch64_check_abi(const struct aarch64_regs *r);
/* At a syscall-stop the kernel shows x7 = 0 at entry, 1 at exit
 * (arch/arm64/kernel/ptrace.c, report_syscall(): PTRACE_SYSCALL_ENTER/EXIT). */
enum arch_sysdir aarch64_syscall_dir_hint(const struct aarch64_regs *r);
/* At entry only syscallno matters (el0_svc_common() dispatches on the value
 * syscall_trace_enter() returns, i.e. pt_regs->syscallno), x0..x2 carry the
 * arguments.  x8 is left alone. */
void aarch64_prepare_execve_entry(struct aarch64_regs *r, uint64_t path,
                                  uint64_t argv, uint64_t envp);
/* pc = insn, x8 = __NR_execve, syscallno = -1 (not in a syscall: do_signal()
 * then does no restart processing), PSTATE.BTYPE cleared. */
void aarch64_prepare_execve_insn(struct aarch64_regs *r, uint64_t insn, uint64_t sp,
                                 uint64_t path, uint64_t argv, uint64_t envp);
/* At a syscall-exit-stop with a restart code in x0: x0 = orig_x0 (which
 * ptrace cannot read: pass the x0 seen at the entry stop, or NULL), pc -= 4,
 * x8 = nr or __NR_restart_syscall, syscallno = -1.  Without orig_x0 the
 * syscall cannot be redone and x0 becomes -EINTR.  At signal/group stops the
 * kernel has already done the rewind before the stop (do_signal(): "so that
 * a debugger will see the already changed PC") and syscallno is -1: NONE. */
enum arch_restart aarch64_restart_fixup(struct aarch64_regs *r, const uint64_t *orig_arg0);
void aarch64_rewind_syscall(struct aarch64_regs *r, long nr);
size_t aarch64_insn_candidates(const struct aarch64_regs *r, uint64_t *out, size_t max);
/* Never the current pc: after a signal/group stop in a restarted syscall the
 * kernel compares pc with its restart address once the tracer lets go, and
 * for -ERESTART_RESTARTBLOCK would overwrite x8 with __NR_restart_syscall
 * (do_signal(): "if a debugger has chosen to restart at a different PC,
 * ignore the restart"). */
bool aarch64_insn_addr_ok(const struct aarch64_regs *r, uint64_t addr);
size_t aarch64_poke_candidates(const struct aarch64_regs *r, uint64_t *out, size_t max);

/* ------------------------------------------------------------------------ */
/* Native view                                                              */
/* ------------------------------------------------------------------------ */

#if defined(__x86_64__)
#  define ARCH_NAME              "x86_64"
#  define ARCH_FN(f)             x86_64_##f
#  define ARCH_NR_EXECVE         X86_64_NR_EXECVE
#  define ARCH_NR_EXECVEAT       X86_64_NR_EXECVEAT
#  define ARCH_RED_ZONE          X86_64_RED_ZONE
#  define ARCH_SYSCALL_INSN_LEN  X86_64_SYSCALL_INSN_LEN
#  define ARCH_SYSCALL_INSN_ALIGN X86_64_SYSCALL_INSN_ALIGN
#  define ARCH_AUDIT_ARCH        X86_64_AUDIT_ARCH
typedef struct x86_64_regs arch_regs_t;
#elif defined(__aarch64__)
#  define ARCH_NAME              "aarch64"
#  define ARCH_FN(f)             aarch64_##f
#  define ARCH_NR_EXECVE         AARCH64_NR_EXECVE
#  define ARCH_NR_EXECVEAT       AARCH64_NR_EXECVEAT
#  define ARCH_RED_ZONE          AARCH64_RED_ZONE
#  define ARCH_SYSCALL_INSN_LEN  AARCH64_SYSCALL_INSN_LEN
#  define ARCH_SYSCALL_INSN_ALIGN AARCH64_SYSCALL_INSN_ALIGN
#  define ARCH_AUDIT_ARCH        AARCH64_AUDIT_ARCH
typedef struct aarch64_regs arch_regs_t;
#else
#  error "initshim: ptrace injection supports x86_64 and aarch64 only"
#endif

/* Register snapshot of one stopped thread.  Fixed size, plain data: copy it
 * with `=`.  `a` is the architecture's mirror struct (see above). */
struct regs {
        arch_regs_t a;
};

#define ARCH_SYSCALL_INSN ARCH_FN(syscall_insn)

/* Real ptrace, native architecture only (shim/arch/<arch>.c).  0 or -errno;
 * -EOPNOTSUPP for a compat (32-bit) tracee. */
int arch_regs_get(pid_t pid, struct regs *r);
int arch_regs_set(pid_t pid, const struct regs *r);

static inline uint64_t regs_ip(const struct regs *r) { return ARCH_FN(ip)(&r->a); }
static inline void regs_set_ip(struct regs *r, uint64_t v) { ARCH_FN(set_ip)(&r->a, v); }
static inline uint64_t regs_sp(const struct regs *r) { return ARCH_FN(sp)(&r->a); }
static inline void regs_set_sp(struct regs *r, uint64_t v) { ARCH_FN(set_sp)(&r->a, v); }
static inline uint64_t regs_arg(const struct regs *r, unsigned i) { return ARCH_FN(arg)(&r->a, i); }
static inline void regs_set_arg(struct regs *r, unsigned i, uint64_t v) { ARCH_FN(set_arg)(&r->a, i, v); }
static inline long regs_retval(const struct regs *r) { return ARCH_FN(retval)(&r->a); }
static inline void regs_set_retval(struct regs *r, long v) { ARCH_FN(set_retval)(&r->a, v); }
static inline long regs_syscall_nr(const struct regs *r) { return ARCH_FN(syscall_nr)(&r->a); }
static inline void regs_set_syscall_nr(struct regs *r, long nr) { ARCH_FN(set_syscall_nr)(&r->a, nr); }
static inline bool regs_in_syscall(const struct regs *r) { return ARCH_FN(in_syscall)(&r->a); }
