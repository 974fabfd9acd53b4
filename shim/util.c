#include "util.h"

#include <ctype.h>
#include <signal.h>
#include <dirent.h>
#include <errno.h>
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

void close_fds_from(int from, const int *keep, size_t n_keep) {
        /* Walk /proc/self/fd with getdents64 on a stack buffer: no allocation,
         * works with any RLIMIT_NOFILE. Fall back to a bounded loop. */
        char buf[4096];
        int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0) {
                for (int fd = from; fd < 4096; fd++) {
                        bool k = false;
                        for (size_t i = 0; i < n_keep; i++)
                                k = k || keep[i] == fd;
                        if (!k)
                                (void) close(fd);
                }
                return;
        }
        for (;;) {
                long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
                if (n <= 0)
                        break;
                for (long off = 0; off < n;) {
                        struct dirent64 *de = (struct dirent64 *) (buf + off);
                        off += de->d_reclen;
                        if (!isdigit((unsigned char) de->d_name[0]))
                                continue;
                        int fd = atoi(de->d_name);
                        bool k = fd < from || fd == dfd;
                        for (size_t i = 0; i < n_keep; i++)
                                k = k || keep[i] == fd;
                        if (!k)
                                (void) close(fd);
                }
        }
        close(dfd);
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
