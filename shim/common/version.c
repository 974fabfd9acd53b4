#include "common/version.h"
#include "common/util.h"
#include "common/log.h"
#include "common/elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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

/* The marker within [off, off + len) of fd, read in small chunks (the
 * guard's resident set): 0 with the build in out, -ENOENT, or -errno. */
static int marker_in_range(int fd, uint64_t off, uint64_t len, char *out, size_t n) {
        static char buf[4096];
        const uint64_t end = off + len;
        size_t kept = 0;
        int r = -ENOENT;

        while (off < end) {
                size_t want = sizeof buf - kept;
                ssize_t l;

                if (want > end - off)
                        want = (size_t) (end - off);
                l = pread(fd, buf + kept, want, (off_t) off);
                if (l < 0 && errno == EINTR)
                        continue;
                if (l <= 0)
                        return l < 0 ? -errno : -EIO;
                off += (uint64_t) l;
                kept += (size_t) l;
                r = find_marker(buf, kept, out, n);
                if (r == 0)
                        return 0;
                /* The marker may straddle two reads: keep the tail. */
                if (kept > INITSHIM_BUILD_MARKER_SIZE) {
                        memmove(buf, buf + kept - INITSHIM_BUILD_MARKER_SIZE, INITSHIM_BUILD_MARKER_SIZE);
                        kept = INITSHIM_BUILD_MARKER_SIZE;
                }
        }
        return r == -EAGAIN ? 0 : -ENOENT; /* a marker cut short at the end is still one */
}

#define MAX_PHDRS 32
#define MAX_MARKER_SCAN (4u << 20)

/* The file's program headers into ph (at most MAX_PHDRS), the end of what
 * its headers describe into extent: the count, or -ENOEXEC with why. */
static int read_phdrs(int fd, const Elf64_Ehdr *eh, Elf64_Phdr *ph, uint64_t *extent, char *why, size_t n) {
        const size_t sz = (size_t) eh->e_phnum * sizeof *ph;

        if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
                return snprintf(why, n, "not an executable (ELF type %u)", eh->e_type), -ENOEXEC;
        if (eh->e_phentsize != sizeof *ph || eh->e_phnum == 0 || eh->e_phnum > MAX_PHDRS ||
            eh->e_phoff > UINT64_MAX / 2 || (eh->e_shnum && eh->e_shentsize != sizeof(Elf64_Shdr)) ||
            eh->e_shoff > UINT64_MAX / 2)
                return snprintf(why, n, "not an executable (unexpected ELF headers)"), -ENOEXEC;
        *extent = eh->e_phoff + sz;
        if (eh->e_shoff + (uint64_t) eh->e_shnum * sizeof(Elf64_Shdr) > *extent)
                *extent = eh->e_shoff + (uint64_t) eh->e_shnum * sizeof(Elf64_Shdr);
        if (pread(fd, ph, sz, (off_t) eh->e_phoff) != (ssize_t) sz)
                return snprintf(why, n, "truncated (its program headers are cut)"), -ENOEXEC;
        for (int i = 0; i < eh->e_phnum; i++) {
                if (ph[i].p_offset > UINT64_MAX / 2 || ph[i].p_filesz > UINT64_MAX / 2)
                        return snprintf(why, n, "not an executable (unexpected segment %d)", i), -ENOEXEC;
                if (ph[i].p_offset + ph[i].p_filesz > *extent)
                        *extent = ph[i].p_offset + ph[i].p_filesz;
        }
        return eh->e_phnum;
}

/* initshim's build marker lives in its writable data (version.c's
 * initshim_build_marker): look for it there only. */
static int find_build(int fd, const Elf64_Phdr *ph, int phnum, char *build, size_t bn) {
        for (int i = 0; i < phnum; i++) {
                if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_W) || ph[i].p_filesz > MAX_MARKER_SCAN)
                        continue;
                int r = marker_in_range(fd, ph[i].p_offset, ph[i].p_filesz, build, bn);
                if (r != -ENOENT)
                        return r;
        }
        return -ENOENT;
}

int initshim_check_image(int fd, char *build, size_t bn, char *why, size_t n) {
        static Elf64_Phdr ph[MAX_PHDRS];
        Elf64_Ehdr eh;
        struct stat st;
        uint64_t extent;
        ssize_t l;
        int phnum, r;

        build[0] = '\0';
        if (fstat(fd, &st) < 0)
                return r = -errno, snprintf(why, n, "unreadable: %s", strerror(errno)), r;
        l = pread(fd, &eh, sizeof eh, 0);
        r = elf_native_header((const unsigned char *) &eh, l < 0 ? 0 : (size_t) l, why, n);
        if (r < 0)
                return r;
        if (l != (ssize_t) sizeof eh)
                return snprintf(why, n, "truncated (%lld bytes)", (long long) st.st_size), -ENOEXEC;
        phnum = read_phdrs(fd, &eh, ph, &extent, why, n);
        if (phnum < 0)
                return phnum;
        if ((uint64_t) st.st_size < extent)
                return snprintf(why, n, "truncated (%lld bytes, its ELF headers describe %llu)",
                                (long long) st.st_size, (unsigned long long) extent), -ENOEXEC;
        for (int i = 0; i < phnum; i++)
                if (ph[i].p_type == PT_INTERP)
                        return snprintf(why, n, "dynamically linked (it needs a loader and libraries, "
                                                "which a broken /usr takes away)"), -ENOEXEC;
        r = find_build(fd, ph, phnum, build, bn);
        if (r == -ENOENT)
                return snprintf(why, n, "not initshim (no initshim build marker in its data)"), -ENOEXEC;
        if (r < 0)
                return snprintf(why, n, "unreadable: %s", strerror(-r)), r;
        return 0;
}

int initshim_check_binary(const char *path, char *build, size_t bn, char *why, size_t n) {
        char what[160];
        struct stat st, opened;
        int fd, r;

        build[0] = '\0';
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
        if (fstat(fd, &opened) < 0 || opened.st_dev != st.st_dev || opened.st_ino != st.st_ino)
                r = -EAGAIN, snprintf(what, sizeof what, "replaced while checked");
        else
                r = initshim_check_image(fd, build, bn, what, sizeof what);
        close(fd);
        if (r < 0)
                snprintf(why, n, "%s is %s", path, what);
        return r;
}

void initshim_publish_build(const char *path) {
        char line[80];
        int l = snprintf(line, sizeof line, "%s\n", initshim_build());

        if (write_file_atomic(path, line, (size_t) l, 0644) < 0)
                log_warning("cannot write %s", path);
}
