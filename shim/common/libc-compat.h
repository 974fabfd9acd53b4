/* What glibc has and musl has not, for the musl build of the shipped
 * binaries (Makefile: LIBC=musl includes this in every object). The code is
 * written for glibc; this keeps it compiling on both without #ifdefs. */
#pragma once

#if !defined(__GLIBC__)
#include <signal.h>
#include <stddef.h>

/* Signals are numbered as systemd (built on glibc) numbers them: SIGRTMIN
 * is 34 there, 35 in musl (which keeps 32-34 for itself and leaves them
 * out of its signal sets). initshim uses no musl thread or timer machinery:
 * the kernel's full set of 64 is ours. */
#undef SIGRTMIN
#define SIGRTMIN 34

static inline int compat_sig_bit(int sig, unsigned long **word, unsigned long *bit, sigset_t *set) {
        if (sig < 1 || sig > 64)
                return -1;
        *word = (unsigned long *) (void *) set + (sig - 1) / (8 * sizeof(unsigned long));
        *bit = 1UL << ((sig - 1) % (8 * sizeof(unsigned long)));
        return 0;
}
static inline int compat_sigaddset(sigset_t *set, int sig) {
        unsigned long *w, b;
        if (compat_sig_bit(sig, &w, &b, set) < 0)
                return -1;
        *w |= b;
        return 0;
}
static inline int compat_sigdelset(sigset_t *set, int sig) {
        unsigned long *w, b;
        if (compat_sig_bit(sig, &w, &b, set) < 0)
                return -1;
        *w &= ~b;
        return 0;
}
static inline int compat_sigismember(const sigset_t *set, int sig) {
        unsigned long *w, b;
        if (compat_sig_bit(sig, &w, &b, (sigset_t *) set) < 0)
                return -1;
        return (*w & b) != 0;
}
static inline int compat_sigfillset(sigset_t *set) {
        sigemptyset(set);
        for (int sig = 1; sig <= 64; sig++)
                (void) compat_sigaddset(set, sig);
        return 0;
}
#define sigaddset compat_sigaddset
#define sigdelset compat_sigdelset
#define sigismember compat_sigismember
#define sigfillset compat_sigfillset

/* glibc names the type of ptrace's first argument; musl takes an int. */
enum __ptrace_request { PTRACE_REQUEST_ANY_ = -1 };

/* glibc 2.32's signal abbreviation ("SEGV"), NULL when unknown. */
static inline const char *sigabbrev_np(int sig) {
        static const char *const names[] = {
                [SIGHUP] = "HUP",   [SIGINT] = "INT",       [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
                [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",     [SIGBUS] = "BUS",   [SIGFPE] = "FPE",
                [SIGKILL] = "KILL", [SIGUSR1] = "USR1",     [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
                [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",     [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
                [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",     [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
                [SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",     [SIGURG] = "URG",   [SIGXCPU] = "XCPU",
                [SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
                [SIGIO] = "IO",     [SIGPWR] = "PWR",       [SIGSYS] = "SYS",
        };

        if (sig <= 0 || (size_t) sig >= sizeof names / sizeof names[0])
                return NULL;
        return names[sig];
}
#endif
