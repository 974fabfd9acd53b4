#include "versions/preflight.h"
#include "versions/bundle.h"
#include "versions/compat.h"
#include "common/elf.h"
#include "common/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int preflight_elf_header(const unsigned char *hdr, size_t len, char *why, size_t whylen) {
        return elf_native_header(hdr, len, why, whylen);
}

/* Never open what is not a regular file: a FIFO would block the open (and
 * PID 1 with it), a device could do anything. Stat first, open without
 * blocking, then check the opened file is the one stat saw. */
static int open_regular(const char *path, char *why, size_t whylen) {
        struct stat before, st;
        int fd, r;

        if (stat(path, &before) < 0) {
                r = -errno;
                /* The words users and scripts know from before the stat. */
                snprintf(why, whylen, "cannot open: %s", strerror(errno));
                return r;
        }
        if (!S_ISREG(before.st_mode)) {
                snprintf(why, whylen, "not a regular file");
                return -EINVAL;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                snprintf(why, whylen, "cannot open: %s", strerror(errno));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
                snprintf(why, whylen, "not a regular file (changed while checked)");
                close(fd);
                return -EINVAL;
        }
        return fd;
}

static int check_ownership_and_mode(const struct stat *st, char *why, size_t whylen) {
        if (st->st_uid != 0) {
                snprintf(why, whylen, "owned by uid %u, not root", (unsigned) st->st_uid);
                return -EPERM;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(why, whylen, "writable by group or others (mode %04o)", (unsigned) (st->st_mode & 07777));
                return -EPERM;
        }
        if (!(st->st_mode & S_IXUSR)) {
                snprintf(why, whylen, "not executable");
                return -EACCES;
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
        fd = open_regular(path, why, whylen);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(why, whylen, "cannot stat: %s", strerror(errno));
                goto out;
        }
        r = check_ownership_and_mode(&st, why, whylen);
        if (r < 0)
                goto out;
        n = pread(fd, hdr, sizeof hdr, 0);
        r = preflight_elf_header(hdr, n < 0 ? 0 : (size_t) n, why, whylen);
out:
        close(fd);
        return r;
}

int preflight_identify(const char *first_line, unsigned *number, char *why, size_t whylen) {
        const char *p = first_line;
        unsigned long v = 0;
        size_t digits = 0;

        /* systemd's own words since long before 200: "systemd 252 (252.22-1~deb12u1)". */
        if (strncmp(p, "systemd ", 8) != 0)
                goto refuse;
        for (p += 8; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
                v = v * 10 + (unsigned long) (*p - '0');
        if (digits == 0 || digits == 6 || (*p != '\0' && *p != ' '))
                goto refuse;
        if (number)
                *number = (unsigned) v;
        return 0;
refuse:
        snprintf(why, whylen, "not systemd: '--version' says \"%.60s\", not \"systemd NNN (...)\"", first_line);
        return -ENOEXEC;
}

/* The --version child: stdout to the pipe, the rest to /dev/null, its own
 * process group (all of it is killed on timeout), killed if its parent dies. */
static void exec_version_child(const char *path, int out_fd) __attribute__((noreturn));
static void exec_version_child(const char *path, int out_fd) {
        sigset_t none;
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        (void) setpgid(0, 0);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) dup2(out_fd, STDOUT_FILENO);
        if (devnull >= 0) {
                (void) dup2(devnull, STDIN_FILENO);
                (void) dup2(devnull, STDERR_FILENO);
        }
        execl(path, path, "--version", (char *) NULL);
        _exit(127);
}

/* Read the child's output until EOF or the deadline; what does not fit in
 * out is read and dropped, so that a chatty child is not stuck on a full
 * pipe. -ETIMEDOUT at the deadline. */
static int read_until_eof(int fd, uint64_t deadline, char *out, size_t n, size_t *got) {
        char sink[256];

        for (;;) {
                uint64_t now = now_ms();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int pr = poll(&pfd, 1, (int) (deadline - now));
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr < 0)
                        return -errno;
                if (pr == 0)
                        return -ETIMEDOUT;
                bool room = *got < n - 1;
                ssize_t k = room ? read(fd, out + *got, n - 1 - *got) : read(fd, sink, sizeof sink);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                if (room)
                        *got += (size_t) k;
        }
}

/* Wait for pid's exit until the deadline, never longer. -ETIMEDOUT if it
 * is still running then. */
static int reap_until(pid_t pid, uint64_t deadline, int *st) {
        for (;;) {
                pid_t r = waitpid(pid, st, WNOHANG);
                if (r == pid)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                (void) poll(NULL, 0, 5);
        }
}

static int describe_exit(const char *path, int st, char *why, size_t whylen) {
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        if (WIFSIGNALED(st))
                snprintf(why, whylen, "'%s --version' was killed by %s", path, signal_name(WTERMSIG(st)));
        else
                snprintf(why, whylen, "'%s --version' exited with status %d%s", path, WEXITSTATUS(st),
                         WEXITSTATUS(st) == 127 ? " (cannot execute: missing libraries?)" : "");
        return -ENOEXEC;
}

int preflight_version_line(const char *path, uint64_t timeout_ms, char *line, size_t n, char *why, size_t whylen) {
        char out[512];
        size_t got = 0;
        int p[2], r, st = 0;
        pid_t pid;
        uint64_t deadline;

        line[0] = '\0';
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
        if (pid == 0)
                exec_version_child(path, p[1]);
        close(p[1]);
        /* One deadline for the whole run: output, then exit. */
        deadline = now_ms() + timeout_ms;
        r = read_until_eof(p[0], deadline, out, sizeof out, &got);
        close(p[0]);
        if (r == 0)
                r = reap_until(pid, deadline, &st);
        if (r < 0) {
                (void) kill(-pid, SIGKILL);
                (void) kill(pid, SIGKILL);
                /* Bounded even now (a child in D state): left to a reaper. */
                (void) reap_until(pid, now_ms() + 1000, &st);
                if (r == -ETIMEDOUT)
                        snprintf(why, whylen, "'%s --version' did not finish within %llu ms", path,
                                 (unsigned long long) timeout_ms);
                else
                        snprintf(why, whylen, "'%s --version': %s", path, strerror(-r));
                return r;
        }
        r = describe_exit(path, st, why, whylen);
        if (r < 0)
                return r;
        out[got] = '\0';
        out[strcspn(out, "\n")] = '\0';
        (void) copy_string(line, n, out);
        return 0;
}

int preflight_run(const char *path, uint64_t timeout_ms, char *version, size_t vlen, char *why, size_t whylen) {
        struct elf_paths ep;
        char line[160];
        unsigned major = 0;
        int r;

        version[0] = '\0';
        r = preflight_file(path, why, whylen);
        if (r < 0)
                return r;
        /* Its loader (a bundle's own, or the host's) before running it:
         * a missing one would only show as "exit status 127". */
        r = bundle_check_elf(path, &ep, why, whylen);
        if (r < 0)
                return r;
        r = preflight_version_line(path, timeout_ms, line, sizeof line, why, whylen);
        if (r < 0)
                return r;
        r = preflight_identify(line, &major, why, whylen);
        if (r < 0)
                return r;
        /* 255+: the systemd-executor it will run (a bundle's own). */
        r = bundle_check_executor(path, major, ep.runpath, timeout_ms, why, whylen);
        if (r < 0)
                return r;
        (void) copy_string(version, vlen, line);
        /* A version that cannot run on the mounted cgroup hierarchy (>= 258
         * on v1) would freeze as PID 1: refused here instead. */
        return compat_check_cgroup(line, why, whylen);
}

size_t preflight_work(const void *path, char *out, size_t n) {
        char version[128], why[256];
        int r = preflight_run(path, PREFLIGHT_TIMEOUT_MS, version, sizeof version, why, sizeof why);
        int l = r == 0 ? snprintf(out, n, "ok\n%s", version) : snprintf(out, n, "refused\n%s", why);

        return l < 0 ? 0 : (size_t) l < n ? (size_t) l : n - 1;
}

int preflight_result(const char *result, bool timed_out, char *version, size_t vlen, char *why, size_t whylen) {
        version[0] = why[0] = '\0';
        if (strncmp(result, "ok\n", 3) == 0 && !timed_out) {
                (void) copy_string(version, vlen, result + 3);
                return 0;
        }
        if (strncmp(result, "refused\n", 8) == 0 && !timed_out) {
                (void) copy_string(why, whylen, result + 8);
                return -ENOEXEC;
        }
        snprintf(why, whylen, "preflight did not finish within %u ms", (unsigned) PREFLIGHT_WORKER_MS);
        return -ETIMEDOUT;
}

/* ---- the cache of passes ---------------------------------------------------- */

static struct {
        bool used;
        struct preflight_id id;
        char version[128];
} cache[PREFLIGHT_CACHE_SLOTS];
static unsigned cache_next;

static void file_id_of(const struct stat *st, struct preflight_file_id *id) {
        memset(id, 0, sizeof *id);
        id->dev = st->st_dev;
        id->ino = st->st_ino;
        id->size = st->st_size;
        id->mode = st->st_mode;
        id->uid = st->st_uid;
        id->gid = st->st_gid;
        id->mtime = st->st_mtim;
        id->ctime = st->st_ctim;
}

void preflight_id_of(const struct stat *st, const char *path, struct preflight_id *id) {
        char executor[PATH_MAX];
        struct stat est;
        int r;

        memset(id, 0, sizeof *id);
        file_id_of(st, &id->binary);
        r = bundle_executor_beside(path, executor, sizeof executor);
        if (r == 0 && stat(executor, &est) < 0)
                r = -errno;
        if (r < 0)
                id->executor_errno = -r;
        else
                file_id_of(&est, &id->executor);
}

static bool file_id_equal(const struct preflight_file_id *a, const struct preflight_file_id *b) {
        return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mode == b->mode &&
               a->uid == b->uid && a->gid == b->gid && a->mtime.tv_sec == b->mtime.tv_sec &&
               a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
               a->ctime.tv_nsec == b->ctime.tv_nsec;
}

bool preflight_id_equal(const struct preflight_id *a, const struct preflight_id *b) {
        return file_id_equal(&a->binary, &b->binary) && file_id_equal(&a->executor, &b->executor) &&
               a->executor_errno == b->executor_errno;
}

void preflight_cache_put(const struct preflight_id *id, const char *version) {
        unsigned i;

        for (i = 0; i < PREFLIGHT_CACHE_SLOTS; i++)
                if (cache[i].used && cache[i].id.binary.dev == id->binary.dev && cache[i].id.binary.ino == id->binary.ino)
                        break; /* the same file: its entry is replaced */
        if (i == PREFLIGHT_CACHE_SLOTS)
                i = cache_next++ % PREFLIGHT_CACHE_SLOTS;
        cache[i].used = true;
        cache[i].id = *id;
        (void) copy_string(cache[i].version, sizeof cache[i].version, version);
}

bool preflight_cache_get(const struct preflight_id *id, char *version, size_t vlen) {
        for (unsigned i = 0; i < PREFLIGHT_CACHE_SLOTS; i++)
                if (cache[i].used && preflight_id_equal(&cache[i].id, id)) {
                        (void) copy_string(version, vlen, cache[i].version);
                        return true;
                }
        return false;
}

void preflight_cache_clear(void) {
        memset(cache, 0, sizeof cache);
        cache_next = 0;
}
