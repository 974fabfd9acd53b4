/* hijack PID PATH: make process PID, at its next system call, call
 * openat(AT_FDCWD, PATH, O_WRONLY|O_CREAT, 0644) instead -- what a control
 * parser taken over by an attacker would try first -- then let it go.
 * For t_control.sh: the parser must be killed for it, and PATH not created.
 * Needs CAP_SYS_PTRACE. Exit status 0 when the syscall was rewritten. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptrace/inject.h"

/* Below the stack pointer and the red zone: dead memory of the tracee. */
static int poke_string(pid_t pid, uint64_t addr, const char *s) {
        size_t len = strlen(s) + 1;

        for (size_t off = 0; off < len; off += sizeof(long)) {
                long word = 0;
                memcpy(&word, s + off, len - off < sizeof word ? len - off : sizeof word);
                if (ptrace(PTRACE_POKEDATA, pid, (void *) (addr + off), (void *) word) < 0)
                        return -errno;
        }
        return 0;
}

static int rewrite_into_openat(pid_t pid, const char *path) {
        struct regs r;
        uint64_t where;
        int e;

        if ((e = regs_get(pid, &r)) < 0)
                return e;
        where = (regs_sp(&r) - 4096) & ~(uint64_t) 15;
        if ((e = poke_string(pid, where, path)) < 0)
                return e;
        regs_set_syscall_nr(&r, SYS_openat);
        regs_set_arg(&r, 0, (uint64_t) (int64_t) AT_FDCWD);
        regs_set_arg(&r, 1, where);
        regs_set_arg(&r, 2, O_WRONLY | O_CREAT);
        regs_set_arg(&r, 3, 0644);
        return regs_set(pid, &r);
}

int main(int argc, char **argv) {
        struct inject_syscall_stop stop;
        pid_t pid;
        int st;

        if (argc != 3 || (pid = (pid_t) atoi(argv[1])) <= 0) {
                fprintf(stderr, "usage: hijack PID PATH\n");
                return 2;
        }
        alarm(10);
        if (ptrace(PTRACE_SEIZE, pid, NULL, (void *) (long) PTRACE_O_TRACESYSGOOD) < 0 ||
            ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
                perror("hijack: ptrace");
                return 1;
        }
        /* Step from stop to stop until the entry of a system call. */
        for (int i = 0; i < 20; i++) {
                if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) {
                        fprintf(stderr, "hijack: %d is gone\n", (int) pid);
                        return 1;
                }
                if (inject_syscall_stop(pid, &stop) == 0 && stop.kind == INJECT_STOP_SYSCALL_ENTRY) {
                        int r = rewrite_into_openat(pid, argv[2]);
                        (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
                        if (r < 0)
                                fprintf(stderr, "hijack: %s\n", strerror(-r));
                        return r < 0;
                }
                if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) < 0) {
                        perror("hijack: PTRACE_SYSCALL");
                        return 1;
                }
        }
        fprintf(stderr, "hijack: no system call entry seen\n");
        (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
        return 1;
}
