/* What glibc has and musl has not, for the musl build of the shipped
 * binaries (Makefile: LIBC=musl includes this in every object). The code is
 * written for glibc; this keeps it compiling on both without #ifdefs. */
#pragma once

#if !defined(__GLIBC__)
#include <signal.h>
#include <stddef.h>

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
