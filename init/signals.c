#include "pid1.h"

#include <signal.h>

enum pid1_action signal_action(int sig) {
        /* SIGRTMIN is glibc's, not the kernel's 32: systemd uses the same. */
        if (sig == SIGCHLD)
                return ACTION_CHILD;
        if (sig == SIGINT || sig == SIGRTMIN + 5)
                return ACTION_REBOOT;
        if (sig == SIGRTMIN + 4 || sig == SIGPWR)
                return ACTION_POWEROFF;
        if (sig == SIGRTMIN + 3)
                return ACTION_HALT;
        if (sig == SIGRTMIN + 13)
                return ACTION_HALT_NOW;
        if (sig == SIGRTMIN + 14)
                return ACTION_POWEROFF_NOW;
        if (sig == SIGRTMIN + 15)
                return ACTION_REBOOT_NOW;
        if (sig == SIGTERM)
                return ACTION_REEXEC;
        return ACTION_IGNORE;
}

const char *action_to_string(enum pid1_action a) {
        static const char *const names[_ACTION_MAX] = {
                [ACTION_IGNORE] = "ignore",          [ACTION_CHILD] = "reap",
                [ACTION_REBOOT] = "reboot",          [ACTION_POWEROFF] = "poweroff",
                [ACTION_HALT] = "halt",              [ACTION_REBOOT_NOW] = "immediate reboot",
                [ACTION_POWEROFF_NOW] = "immediate poweroff", [ACTION_HALT_NOW] = "immediate halt",
                [ACTION_REEXEC] = "exec systemd",
        };
        return (unsigned) a < _ACTION_MAX ? names[a] : "?";
}

void pid1_signal_set(sigset_t *set) {
        sigfillset(set);
        sigdelset(set, SIGKILL);
        sigdelset(set, SIGSTOP);
        sigdelset(set, SIGSEGV);
        sigdelset(set, SIGBUS);
        sigdelset(set, SIGILL);
        sigdelset(set, SIGFPE);
        sigdelset(set, SIGABRT);
        sigdelset(set, SIGSYS);
        sigdelset(set, SIGTRAP);
}
