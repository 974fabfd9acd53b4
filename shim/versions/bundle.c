#include "versions/bundle.h"
#include "versions/preflight.h"
#include "common/util.h"
#include "config/config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ELF_MAX_PHDRS 64
#define ELF_MAX_DYNS 1024

/* The file offset of virtual address a, through the PT_LOAD segments. */
static int vaddr_to_offset(const Elf64_Phdr *ph, size_t n, uint64_t a, uint64_t *off, uint64_t *room) {
        for (size_t i = 0; i < n; i++) {
                if (ph[i].p_type != PT_LOAD || a < ph[i].p_vaddr || a - ph[i].p_vaddr >= ph[i].p_filesz)
                        continue;
                *off = ph[i].p_offset + (a - ph[i].p_vaddr);
                *room = ph[i].p_filesz - (a - ph[i].p_vaddr);
                return *off < ph[i].p_offset ? -ENOEXEC : 0; /* wrapped */
        }
        return -ENOEXEC;
}

/* A NUL-terminated string of at most n-1 bytes at off (room bytes there). */
static int read_cstring(elf_read_fn rd, void *ctx, uint64_t off, uint64_t room, char *out, size_t n) {
        size_t want = room < n - 1 ? (size_t) room : n - 1;
        int r;

        out[0] = '\0';
        if (off > UINT64_MAX - want)
                return -ENOEXEC;

        for (size_t got = 0; got < want; got++) {
                r = rd(ctx, out + got, 1, off + got);
                if (r < 0) {
                        out[got] = '\0';
                        return r;
                }
                if (out[got] == '\0')
                        return 0;
        }
        out[want] = '\0';
        return -ENAMETOOLONG; /* no NUL within the segment, or longer than out */
}

/* DT_STRTAB, DT_STRSZ, DT_RUNPATH and DT_RPATH of the PT_DYNAMIC at ph. */
static int read_dynamic(elf_read_fn rd, void *ctx, const Elf64_Phdr *ph, uint64_t v[4]) {
        uint64_t n = ph->p_filesz / sizeof(Elf64_Dyn);

        v[0] = v[1] = v[2] = v[3] = UINT64_MAX;
        if (ph->p_offset > UINT64_MAX - (uint64_t) ELF_MAX_DYNS * sizeof(Elf64_Dyn))
                return -ENOEXEC;
        for (uint64_t i = 0; i < n && i < ELF_MAX_DYNS; i++) {
                Elf64_Dyn d;
                int r = rd(ctx, &d, sizeof d, ph->p_offset + i * sizeof d);
                if (r < 0)
                        return r;
                if (d.d_tag == DT_NULL)
                        break;
                if (d.d_tag == DT_STRTAB)
                        v[0] = d.d_un.d_val;
                else if (d.d_tag == DT_STRSZ)
                        v[1] = d.d_un.d_val;
                else if (d.d_tag == DT_RUNPATH)
                        v[2] = d.d_un.d_val;
                else if (d.d_tag == DT_RPATH)
                        v[3] = d.d_un.d_val;
        }
        return 0;
}

/* The RUNPATH (else RPATH) string, as ld.so and systemd's build-path.c pick it. */
static int read_runpath(elf_read_fn rd, void *ctx, const Elf64_Phdr *ph, size_t n, const Elf64_Phdr *dyn,
                        char *out, size_t outlen, char *why, size_t whylen) {
        uint64_t v[4], off, room;
        int r = read_dynamic(rd, ctx, dyn, v);

        if (r < 0) {
                snprintf(why, whylen, "cannot read the dynamic section: %s", strerror(-r));
                return r;
        }
        uint64_t idx = v[2] != UINT64_MAX ? v[2] : v[3];
        if (idx == UINT64_MAX)
                return 0;
        if (v[0] == UINT64_MAX || v[1] == UINT64_MAX || idx >= v[1] ||
            vaddr_to_offset(ph, n, v[0], &off, &room) < 0 || idx >= room || off + idx < off) {
                snprintf(why, whylen, "RUNPATH outside the string table");
                return -ENOEXEC;
        }
        room -= idx;
        if (room > v[1] - idx)
                room = v[1] - idx;
        r = read_cstring(rd, ctx, off + idx, room, out, outlen);
        if (r < 0)
                snprintf(why, whylen, "RUNPATH unreadable or longer than %zu bytes", outlen - 1);
        return r == -ENAMETOOLONG ? -ENOEXEC : r;
}

static int read_phdrs(elf_read_fn rd, void *ctx, Elf64_Phdr *ph, size_t *n, char *why, size_t whylen) {
        Elf64_Ehdr eh;
        int r = rd(ctx, &eh, sizeof eh, 0);

        if (r < 0) {
                snprintf(why, whylen, "cannot read the ELF header: %s", strerror(-r));
                return r;
        }
        if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
            eh.e_ident[EI_DATA] != ELFDATA2LSB) {
                snprintf(why, whylen, "not a 64-bit little-endian ELF");
                return -ENOEXEC;
        }
        if (eh.e_phnum > ELF_MAX_PHDRS || (eh.e_phnum > 0 && eh.e_phentsize != sizeof(Elf64_Phdr)) ||
            eh.e_phoff > UINT64_MAX - ELF_MAX_PHDRS * sizeof(Elf64_Phdr)) {
                snprintf(why, whylen, "unexpected program headers (%u of %u bytes)", eh.e_phnum, eh.e_phentsize);
                return -ENOEXEC;
        }
        for (size_t i = 0; i < eh.e_phnum; i++) {
                r = rd(ctx, &ph[i], sizeof ph[i], eh.e_phoff + i * sizeof ph[i]);
                if (r < 0) {
                        snprintf(why, whylen, "cannot read program header %zu: %s", i, strerror(-r));
                        return r == -EIO ? -ENOEXEC : r;
                }
        }
        *n = eh.e_phnum;
        return 0;
}

/* The loader or the RUNPATH named by program header i, if it is one of those. */
static int read_phdr_paths(elf_read_fn rd, void *ctx, const Elf64_Phdr *ph, size_t n, size_t i, struct elf_paths *p,
                           char *why, size_t whylen) {
        int r;

        if (ph[i].p_type == PT_INTERP) {
                r = read_cstring(rd, ctx, ph[i].p_offset, ph[i].p_filesz, p->interp, sizeof p->interp);
                if (r < 0 || p->interp[0] == '\0') {
                        snprintf(why, whylen, "unreadable PT_INTERP");
                        return r == -ENAMETOOLONG || r == 0 ? -ENOEXEC : r;
                }
        } else if (ph[i].p_type == PT_DYNAMIC && p->runpath[0] == '\0')
                return read_runpath(rd, ctx, ph, n, &ph[i], p->runpath, sizeof p->runpath, why, whylen);
        return 0;
}

int bundle_elf_paths(elf_read_fn rd, void *ctx, struct elf_paths *p, char *why, size_t whylen) {
        Elf64_Phdr ph[ELF_MAX_PHDRS];
        size_t n = 0;
        int r;

        p->interp[0] = p->runpath[0] = '\0';
        why[0] = '\0';
        r = read_phdrs(rd, ctx, ph, &n, why, whylen);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = read_phdr_paths(rd, ctx, ph, n, i, p, why, whylen);
        if (r < 0)
                p->interp[0] = p->runpath[0] = '\0';
        return r;
}

int bundle_runpath_is_origin(const char *runpath) {
        /* build-path.c: startswith(runpath, "$ORIGIN/"); ld.so also knows ${ORIGIN}. */
        return strncmp(runpath, "$ORIGIN/", 8) == 0;
}

int bundle_executor_beside(const char *binary, char *out, size_t n) {
        const char *slash = strrchr(binary, '/');

        if (!slash || binary[0] != '/')
                return -EINVAL;
        int l = snprintf(out, n, "%.*s/%s", (int) (slash - binary), binary, BUNDLE_EXECUTOR_NAME);
        return l < 0 || (size_t) l >= n ? -ENAMETOOLONG : 0;
}

static int fd_read(void *ctx, void *buf, size_t n, uint64_t off) {
        size_t got = 0;

        while (got < n) {
                ssize_t k = pread(*(int *) ctx, (char *) buf + got, n - got, (off_t) (off + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                got += (size_t) k;
        }
        return 0;
}

int bundle_check_elf(const char *path, struct elf_paths *p, char *why, size_t whylen) {
        char sub[200];
        struct stat st;
        int fd, r;

        /* preflight_file() saw a regular file: still never block on an open. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
                return r;
        }
        r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
        if (r == 0)
                r = bundle_elf_paths(fd_read, &fd, p, sub, sizeof sub);
        else
                snprintf(sub, sizeof sub, "not a regular file");
        close(fd);
        if (r < 0) {
                snprintf(why, whylen, "%s: %s", path, sub);
                return r;
        }
        if (p->interp[0] == '\0')
                return 0;
        /* The loader runs as PID 1 too: the same checks as the binary. */
        r = preflight_file(p->interp, sub, sizeof sub);
        if (r < 0)
                snprintf(why, whylen, "%s: its loader %s: %s", path, p->interp, sub);
        return r;
}

/* Which executor systemd PATH (RUNPATH runpath) will pin, as pin_callout_binary(). */
static int executor_to_check(const char *path, const char *runpath, char *exe, size_t n, char *why, size_t whylen) {
        struct stat st;
        bool origin = bundle_runpath_is_origin(runpath);
        int r = bundle_executor_beside(path, exe, n);

        if (r < 0) {
                snprintf(why, whylen, "%s: path too long", path);
                return r;
        }
        bool beside = lstat(exe, &st) == 0;
        if (origin && !beside) {
                snprintf(why, whylen, "bundle incomplete: no %s beside %s (systemd 255+ needs one)", BUNDLE_EXECUTOR_NAME,
                         path);
                return -ENOENT;
        }
        if (beside && !origin && strcmp(exe, BUNDLE_EXECUTOR_DEFAULT) != 0) {
                snprintf(why, whylen,
                         "bundle not usable: %s would not run the %s beside it (its RUNPATH is '%s', not "
                         "'$ORIGIN/...': see tools/make-bundle)",
                         path, BUNDLE_EXECUTOR_NAME, runpath);
                return -ENOEXEC;
        }
        if (!origin)
                (void) copy_string(exe, n, BUNDLE_EXECUTOR_DEFAULT);
        return 0;
}

int bundle_check_executor(const char *path, unsigned major, const char *runpath, uint64_t timeout_ms, char *why,
                          size_t whylen) {
        char exe[CONFIG_PATH_MAX], line[160], sub[200];
        struct elf_paths ep;
        unsigned emajor = 0;
        int r;

        if (major < BUNDLE_EXECUTOR_SINCE)
                return 0;
        r = executor_to_check(path, runpath, exe, sizeof exe, why, whylen);
        if (r < 0)
                return r;
        r = preflight_file(exe, sub, sizeof sub);
        if (r == 0)
                r = bundle_check_elf(exe, &ep, sub, sizeof sub);
        if (r == 0)
                r = preflight_version_line(exe, timeout_ms, line, sizeof line, sub, sizeof sub);
        if (r == 0 && preflight_identify(line, &emajor, sub, sizeof sub) < 0)
                r = -ENOEXEC;
        if (r == 0 && emajor != major) {
                snprintf(sub, sizeof sub, "it is systemd %u, not %u", emajor, major);
                r = -ENOEXEC;
        }
        if (r < 0)
                snprintf(why, whylen, "systemd %u needs its %s (255+): %s: %s", major, BUNDLE_EXECUTOR_NAME, exe, sub);
        return r;
}
