/* execve keeps the signal mask, pending signals, ignored dispositions and the
 * umask (execve(2), "What is preserved"). A crashed systemd leaves every
 * signal blocked, SIGCHLD at SIG_IGN|SA_NOCLDWAIT (so nothing would be left
 * to reap) and umask 0. Rescue mode starts by undoing all of it. */
#include "common/log.h"
#include "pid1.h"
#include "control/protocol.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CORE_PATTERN "/proc/sys/kernel/core_pattern"
#define CORE_PATTERN_SAVED RUN_DIR "/core_pattern"

void reset_inherited_state(sigset_t *discarded) {
        static const struct timespec zero = { 0, 0 };
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t all;
        int sig;

        /* Pending signals were sent to a frozen systemd, possibly long ago; acting
         * on a stale Ctrl-Alt-Del now would surprise the operator. Drop them;
         * they are logged once logging is set up (log_discarded_signals). */
        sigemptyset(discarded);
        sigfillset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        while ((sig = sigtimedwait(&all, NULL, &zero)) > 0)
                (void) sigaddset(discarded, sig);

        for (sig = 1; sig < NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                /* Fails only for the two above and glibc's internal RT signals. */
                (void) sigaction(sig, &dfl, NULL);
        }
        (void) umask(0022);

        /* Stdio: keep what is open (a console), fill holes with /dev/null so a
         * later open() never lands on 0-2. */
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int n = open("/dev/null", O_RDWR | O_NOCTTY);
                        if (n >= 0 && n != fd) {
                                (void) dup2(n, fd);
                                (void) close(n);
                        }
                }
}

void log_discarded_signals(const sigset_t *discarded) {
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(discarded, sig) == 1)
                        log_notice("discarding %s left pending by the previous PID 1", signal_name(sig));
}

void save_core_pattern(void) {
        char buf[256];
        ssize_t n = read_file(CORE_PATTERN, buf, sizeof buf);

        if (n <= 0 || strncmp(buf, "|/bin/false", 11) == 0)
                return;
        (void) write_file_atomic(CORE_PATTERN_SAVED, buf, (size_t) n, 0600);
}

void restore_core_pattern(void) {
        char cur[256], saved[256];
        ssize_t n = read_file(CORE_PATTERN, cur, sizeof cur);
        int r;

        /* systemd's crash handler points core_pattern at /bin/false so that
         * systemd-coredump (a service of the dead PID 1) is not invoked. */
        if (n < 0 || strncmp(cur, "|/bin/false", 11) != 0)
                return;
        n = read_file(CORE_PATTERN_SAVED, saved, sizeof saved);
        if (n <= 0)
                n = (ssize_t) strlen(strcpy(saved, "core"));
        saved[strcspn(saved, "\n")] = '\0';
        int fd = open(CORE_PATTERN, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                log_errno(-errno, LOG_WARNING, "cannot restore core_pattern");
                return;
        }
        r = write_all(fd, saved, strlen(saved));
        close(fd);
        if (r < 0)
                log_errno(r, LOG_WARNING, "cannot restore core_pattern");
        else
                log_notice("core_pattern restored to '%s'", saved);
}
