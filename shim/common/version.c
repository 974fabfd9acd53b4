#include "common/version.h"
#include "common/util.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#ifndef INITSHIM_BUILD_ID
#define INITSHIM_BUILD_ID "unknown"
#endif

/* Not static, not const: the compiler must not fold its contents into the
 * code, since a patched copy of the binary changes them. */
char initshim_build_marker[INITSHIM_BUILD_MARKER_SIZE] __attribute__((used)) =
        INITSHIM_BUILD_MARKER INITSHIM_VERSION " (" INITSHIM_BUILD_ID ")";

const char *initshim_build(void) {
        return initshim_build_marker + sizeof INITSHIM_BUILD_MARKER - 1;
}

/* Look for the marker in buf[0..len) and copy what follows it, up to a
 * NUL: 0 when complete, -EAGAIN when buf ends inside it, -ENOENT. The
 * needle is the marker itself, not a literal: a literal would be a second,
 * empty marker in .rodata. */
static int find_marker(const char *buf, size_t len, char *out, size_t n) {
        const size_t ml = sizeof INITSHIM_BUILD_MARKER - 1;
        const char *p = memmem(buf, len, initshim_build_marker, ml);
        size_t k = 0;

        if (!p)
                return -ENOENT;
        for (p += ml; p < buf + len && *p && k + 1 < n; p++)
                out[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
        out[k] = '\0';
        return p < buf + len ? 0 : -EAGAIN;
}

int initshim_build_of_file(const char *path, char *out, size_t n) {
        static char buf[65536 + INITSHIM_BUILD_MARKER_SIZE];
        size_t kept = 0;
        int fd, r;

        if (n == 0)
                return -EINVAL;
        out[0] = '\0';
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t l = read(fd, buf + kept, sizeof buf - kept);
                if (l < 0 && errno == EINTR)
                        continue;
                if (l <= 0) {
                        /* End of file: a marker cut short is still one. */
                        r = l < 0 ? -errno : find_marker(buf, kept, out, n) == -ENOENT ? -ENOENT : 0;
                        break;
                }
                kept += (size_t) l;
                r = find_marker(buf, kept, out, n);
                if (r == 0)
                        break;
                /* The marker may straddle two reads: keep the tail. */
                if (kept > INITSHIM_BUILD_MARKER_SIZE) {
                        memmove(buf, buf + kept - INITSHIM_BUILD_MARKER_SIZE, INITSHIM_BUILD_MARKER_SIZE);
                        kept = INITSHIM_BUILD_MARKER_SIZE;
                }
        }
        close(fd);
        return r;
}

const char *initshim_installed_path(void) {
        const char *bin = getenv("INITSHIM_BIN");

        return bin && bin[0] == '/' ? bin : "/sbin/initshim";
}

int initshim_check_binary(const char *path, char *why, size_t n) {
        unsigned char hdr[4];
        struct stat st;
        int fd, r = 0;

        /* stat first: open() of a FIFO would block. */
        if (stat(path, &st) < 0) {
                r = -errno;
                snprintf(why, n, "cannot open %s: %s", path, strerror(errno));
                return r;
        }
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) || !(st.st_mode & 0100)) {
                snprintf(why, n, "%s is not a root-owned executable file that only root can write", path);
                return -EPERM;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                snprintf(why, n, "cannot open %s: %s", path, strerror(errno));
                return r;
        }
        if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t) sizeof hdr || memcmp(hdr, "\177ELF", 4) != 0) {
                snprintf(why, n, "%s is not an ELF binary", path);
                r = -ENOEXEC;
        }
        close(fd);
        return r;
}


void initshim_publish_build(const char *path) {
        char line[80];
        int l = snprintf(line, sizeof line, "%s\n", initshim_build());

        if (write_file_atomic(path, line, (size_t) l, 0644) < 0)
                log_warning("cannot write %s", path);
}
