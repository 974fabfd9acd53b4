#include "common/util.h"

#include <ctype.h>
#include <signal.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

ssize_t read_file(const char *path, char *buf, size_t len) {
        size_t got = 0;
        int fd, r = 0;

        if (len == 0)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        while (got < len - 1) {
                ssize_t n = read(fd, buf + got, len - 1 - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        close(fd);
        buf[got] = '\0';
        return r < 0 ? r : (ssize_t) got;
}

ssize_t read_first_line(const char *path, char *buf, size_t len) {
        ssize_t n = read_file(path, buf, len);

        if (n >= 0)
                buf[strcspn(buf, "\n")] = '\0';
        return n;
}

const char *read_proc_status_field(long pid, const char *key, char *buf, size_t len) {
        char path[64], *p;
        size_t kl = strlen(key);

        snprintf(path, sizeof path, "/proc/%ld/status", pid);
        if (read_file(path, buf, len) <= 0)
                return NULL;
        /* Every key starts a line; the first line is Name:. */
        for (p = buf; p; p = strchr(p, '\n')) {
                if (*p == '\n')
                        p++;
                if (strncmp(p, key, kl) == 0 && p[kl] == ':')
                        return p + kl + 1;
        }
        return NULL;
}

int write_file_atomic(const char *path, const char *buf, size_t len, mode_t mode) {
        char tmp[512];
        int fd, r;

        if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, buf, len);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int copy_string(char *dst, size_t n, const char *src) {
        size_t l = strlen(src);

        if (n == 0)
                return -ENAMETOOLONG;
        if (l >= n) {
                memcpy(dst, src, n - 1);
                dst[n - 1] = '\0';
                return -ENAMETOOLONG;
        }
        memcpy(dst, src, l + 1);
        return 0;
}

static int parse_u64_prefix(const char *s, uint64_t *v, const char **end) {
        uint64_t x = 0;
        const char *p = s;

        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                unsigned d = (unsigned) (*p - '0');
                if (x > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                x = x * 10 + d;
        }
        *v = x;
        *end = p;
        return 0;
}

static int scale(uint64_t v, uint64_t mul, uint64_t *ret) {
        if (mul != 0 && v > UINT64_MAX / mul)
                return -ERANGE;
        *ret = v * mul;
        return 0;
}

int parse_duration_ms(const char *s, uint64_t *ret) {
        uint64_t v;
        const char *end;
        int r = parse_u64_prefix(s, &v, &end);

        if (r < 0)
                return r;
        if (*end == '\0' || strcmp(end, "s") == 0)
                return scale(v, 1000, ret);
        if (strcmp(end, "ms") == 0)
                return scale(v, 1, ret);
        if (strcmp(end, "min") == 0)
                return scale(v, 60000, ret);
        return -EINVAL;
}

int parse_size(const char *s, uint64_t *ret) {
        uint64_t v;
        const char *end;
        int r = parse_u64_prefix(s, &v, &end);

        if (r < 0)
                return r;
        if (*end == '\0')
                return scale(v, 1, ret);
        if (strcasecmp(end, "K") == 0)
                return scale(v, 1ULL << 10, ret);
        if (strcasecmp(end, "M") == 0)
                return scale(v, 1ULL << 20, ret);
        if (strcasecmp(end, "G") == 0)
                return scale(v, 1ULL << 30, ret);
        return -EINVAL;
}

int parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

uint64_t now_ns(void) {
        struct timespec ts;

        /* CLOCK_MONOTONIC cannot fail with a valid pointer. */
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

uint64_t now_ms(void) {
        return now_ns() / 1000000ULL;
}

int foreach_number(const char *dir, int (*fn)(long n, int skip_fd, void *data), void *data) {
        char buf[4096];
        int r = 0, dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
                return -errno;
        while (r == 0) {
                long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
                if (n <= 0)
                        break;
                for (long off = 0; off < n && r == 0;) {
                        struct dirent64 *de = (struct dirent64 *) (buf + off);
                        off += de->d_reclen;
                        if (isdigit((unsigned char) de->d_name[0]))
                                r = fn(atol(de->d_name), dfd, data);
                }
        }
        close(dfd);
        return r;
}

int parse_proc_stat(const char *text, char *state, long *ppid, unsigned long *flags) {
        const char *p = strrchr(text, ')'); /* comm may hold spaces and ')' */
        long pgrp, session, tty, tpgid;
        unsigned long fl;

        if (!p || sscanf(p + 1, " %c %ld %ld %ld %ld %ld %lu", state, ppid, &pgrp, &session, &tty, &tpgid, &fl) != 7)
                return -EINVAL;
        if (flags)
                *flags = fl;
        return 0;
}

int read_proc_stat(long pid, char *state, long *ppid, unsigned long *flags) {
        char path[64], text[512];

        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        if (read_file(path, text, sizeof text) < 0)
                return -ESRCH;
        return parse_proc_stat(text, state, ppid, flags);
}

struct close_ctx {
        int from;
        const int *keep;
        size_t n_keep;
};

static int close_one(long fd, int skip_fd, void *data) {
        const struct close_ctx *c = data;
        bool k = fd < c->from || fd == skip_fd;

        for (size_t i = 0; i < c->n_keep; i++)
                k = k || c->keep[i] == fd;
        if (!k)
                (void) close((int) fd);
        return 0;
}

void close_fds_from(int from, const int *keep, size_t n_keep) {
        struct close_ctx c = { from, keep, n_keep };

        /* /proc/self/fd: works with any RLIMIT_NOFILE. Without /proc, a
         * bounded loop. */
        if (foreach_number("/proc/self/fd", close_one, &c) == -ENOENT || access("/proc/self/fd", F_OK) < 0)
                for (int fd = from; fd < 4096; fd++)
                        (void) close_one(fd, -1, &c);
}

char *strip(char *s) {
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
                *--e = '\0';
        return s;
}

const char *signal_name(int sig) {
        static char buf[24];
        const char *abbrev;

        if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
                snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
                return buf;
        }
        abbrev = sigabbrev_np(sig);
        if (!abbrev) {
                snprintf(buf, sizeof buf, "signal %d", sig);
                return buf;
        }
        snprintf(buf, sizeof buf, "SIG%s", abbrev);
        return buf;
}

static void sift_down(pid_t *a, size_t root, size_t n) {
        for (size_t child; (child = 2 * root + 1) < n; root = child) {
                if (child + 1 < n && a[child + 1] > a[child])
                        child++;
                if (a[root] >= a[child])
                        return;
                pid_t t = a[root];
                a[root] = a[child];
                a[child] = t;
        }
}

void sort_pids(pid_t *pids, size_t n) {
        for (size_t i = n / 2; i-- > 0;)
                sift_down(pids, i, n);
        for (size_t end = n; end-- > 1;) {
                pid_t t = pids[0];
                pids[0] = pids[end];
                pids[end] = t;
                sift_down(pids, 0, end);
        }
}

void text_vput(struct text_out *o, const char *fmt, va_list ap) {
        int l;

        if (o->cut || o->len + 1 >= o->n) {
                o->cut = true;
                return;
        }
        l = vsnprintf(o->buf + o->len, o->n - o->len, fmt, ap);
        if (l < 0 || (size_t) l >= o->n - o->len) {
                o->cut = true;
                o->len = l < 0 ? o->len : o->n - 1;
                return;
        }
        o->len += (size_t) l;
}

void text_put(struct text_out *o, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        text_vput(o, fmt, ap);
        va_end(ap);
}
