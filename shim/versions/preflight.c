#include "versions/preflight.h"
#include "common/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#else
#error "unsupported architecture"
#endif

int preflight_elf_header(const unsigned char *hdr, size_t len, char *why, size_t whylen) {
        uint16_t machine;

        if (len < 20 || memcmp(hdr, ELFMAG, SELFMAG) != 0) {
                snprintf(why, whylen, "not an ELF binary");
                return -ENOEXEC;
        }
        if (hdr[EI_CLASS] != ELFCLASS64 || hdr[EI_DATA] != ELFDATA2LSB) {
                snprintf(why, whylen, "not a 64-bit little-endian ELF");
                return -ENOEXEC;
        }
        memcpy(&machine, hdr + 18, sizeof machine);
        if (machine != NATIVE_MACHINE) {
                snprintf(why, whylen, "ELF for another machine (e_machine %u)", machine);
                return -ENOEXEC;
        }
        return 0;
}

int preflight_file(const char *path, char *why, size_t whylen) {
        unsigned char hdr[64];
        struct stat st;
        ssize_t n;
        int fd, r;

        why[0] = '\0';
        if (path[0] != '/') {
                snprintf(why, whylen, "not an absolute path");
                return -EINVAL;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                snprintf(why, whylen, "cannot open: %s", strerror(errno));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(why, whylen, "cannot stat: %s", strerror(errno));
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(why, whylen, "not a regular file");
                r = -EINVAL;
                goto out;
        }
        if (st.st_uid != 0) {
                snprintf(why, whylen, "owned by uid %u, not root", (unsigned) st.st_uid);
                r = -EPERM;
                goto out;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(why, whylen, "writable by group or others (mode %04o)", (unsigned) (st.st_mode & 07777));
                r = -EPERM;
                goto out;
        }
        if (!(st.st_mode & S_IXUSR)) {
                snprintf(why, whylen, "not executable");
                r = -EACCES;
                goto out;
        }
        n = pread(fd, hdr, sizeof hdr, 0);
        r = preflight_elf_header(hdr, n < 0 ? 0 : (size_t) n, why, whylen);
out:
        close(fd);
        return r;
}

int preflight_run(const char *path, uint64_t timeout_ms, char *version, size_t vlen, char *why, size_t whylen) {
        char out[512];
        size_t got = 0;
        int p[2], r, st = 0;
        pid_t pid;
        uint64_t deadline;

        version[0] = '\0';
        r = preflight_file(path, why, whylen);
        if (r < 0)
                return r;
        if (pipe2(p, O_CLOEXEC) < 0) {
                r = -errno;
                snprintf(why, whylen, "pipe: %s", strerror(errno));
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(p[0]), close(p[1]);
                snprintf(why, whylen, "fork: %s", strerror(errno));
                return r;
        }
        if (pid == 0) {
                sigset_t none;
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                for (int sig = 1; sig < NSIG; sig++)
                        (void) signal(sig, SIG_DFL);
                (void) dup2(p[1], STDOUT_FILENO);
                if (devnull >= 0) {
                        (void) dup2(devnull, STDIN_FILENO);
                        (void) dup2(devnull, STDERR_FILENO);
                }
                execl(path, path, "--version", (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        deadline = now_ms() + timeout_ms;
        for (;;) {
                uint64_t now = now_ms();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                struct pollfd pfd = { .fd = p[0], .events = POLLIN };
                int pr = poll(&pfd, 1, (int) (deadline - now));
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0) {
                        r = pr == 0 ? -ETIMEDOUT : -errno;
                        break;
                }
                ssize_t n = read(p[0], out + got, sizeof out - 1 - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break; /* EOF: child closed stdout */
                got += (size_t) n;
                if (got == sizeof out - 1)
                        break;
        }
        close(p[0]);
        if (r == -ETIMEDOUT) {
                (void) kill(pid, SIGKILL);
                snprintf(why, whylen, "'%s --version' did not finish within %llu ms", path,
                         (unsigned long long) timeout_ms);
        }
        /* Waits for this one child only: PID 1's reaper is not disturbed. */
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return r;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                if (WIFSIGNALED(st))
                        snprintf(why, whylen, "'%s --version' was killed by %s", path, signal_name(WTERMSIG(st)));
                else
                        snprintf(why, whylen, "'%s --version' exited with status %d%s", path, WEXITSTATUS(st),
                                 WEXITSTATUS(st) == 127 ? " (cannot execute: missing libraries?)" : "");
                return -ENOEXEC;
        }
        out[got] = '\0';
        out[strcspn(out, "\n")] = '\0';
        (void) copy_string(version, vlen, out);
        return 0;
}
