/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ptrace injection of execve() into a stopped tracee.  See inject.h for the
 * contract and docs/ptrace.md for the mechanism.
 *
 * Written from the kernel sources (arch/x86/kernel/signal.c,
 * arch/arm64/kernel/{signal,ptrace}.c, kernel/ptrace.c) and after reading
 * how CRIU's compel (compel/arch/{x86,aarch64}/src/lib/infect.c) and strace
 * handle syscall restarts; no code taken from either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ptrace/inject.h"

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif

/* Layout of struct ptrace_syscall_info (include/uapi/linux/ptrace.h), kept
 * here so that building does not depend on the libc's copy.  Linux 6.16
 * turned pad[3] into reserved/flags; the layout is unchanged. */
struct sysinfo_raw {
        uint8_t op;
        uint8_t pad[3];
        uint32_t arch;
        uint64_t instruction_pointer;
        uint64_t stack_pointer;
        union {
                struct {
                        uint64_t nr;
                        uint64_t args[6];
                } entry;
                struct {
                        int64_t rval;
                        uint8_t is_error;
                } exit;
                struct {
                        uint64_t nr;
                        uint64_t args[6];
                        uint32_t ret_data;
                } seccomp;
        };
};

enum {
        SYSINFO_NONE = 0,
        SYSINFO_ENTRY = 1,
        SYSINFO_EXIT = 2,
        SYSINFO_SECCOMP = 3,
};

/* Scanning more than this much text for a syscall instruction means
 * something is odd; give up and write one. */
#define SCAN_LIMIT (64u << 20)
#define CHUNK 4096u

/* ------------------------------------------------------------------------ */
/* registers                                                                */
/* ------------------------------------------------------------------------ */

int regs_get(pid_t pid, struct regs *r) {
        if (!r)
                return -EINVAL;
        memset(r, 0, sizeof(*r));
        return arch_regs_get(pid, r);
}

int regs_set(pid_t pid, const struct regs *r) {
        if (!r)
                return -EINVAL;
        return arch_regs_set(pid, r);
}

/* ------------------------------------------------------------------------ */
/* stop classification                                                      */
/* ------------------------------------------------------------------------ */

/* PTRACE_GET_SYSCALL_INFO (Linux 5.3): exact. */
static void stop_from_syscall_info(const struct sysinfo_raw *info, struct inject_syscall_stop *s) {
        s->exact = true;
        s->arch = info->arch;
        s->ip = info->instruction_pointer;
        s->sp = info->stack_pointer;
        switch (info->op) {
        case SYSINFO_ENTRY:
                s->kind = INJECT_STOP_SYSCALL_ENTRY;
                s->nr = (long) info->entry.nr;
                memcpy(s->args, info->entry.args, sizeof(s->args));
                break;
        case SYSINFO_SECCOMP:
                s->kind = INJECT_STOP_SECCOMP;
                s->nr = (long) info->seccomp.nr;
                memcpy(s->args, info->seccomp.args, sizeof(s->args));
                break;
        case SYSINFO_EXIT:
                s->kind = INJECT_STOP_SYSCALL_EXIT;
                s->ret = (long) info->exit.rval;
                break;
        default:
                s->kind = INJECT_STOP_NONE;
                break;
        }
}

/* Older kernels: the architecture's hint from the registers. */
static void stop_from_regs(const struct regs *r, struct inject_syscall_stop *s) {
        s->ip = regs_ip(r);
        s->sp = regs_sp(r);
        switch (ARCH_FN(syscall_dir_hint)(&r->a)) {
        case ARCH_SYSDIR_ENTRY:
                s->kind = INJECT_STOP_SYSCALL_ENTRY;
                s->nr = regs_syscall_nr(r);
                for (unsigned i = 0; i < 6; i++)
                        s->args[i] = regs_arg(r, i);
                break;
        case ARCH_SYSDIR_EXIT:
                s->kind = INJECT_STOP_SYSCALL_EXIT;
                s->ret = regs_retval(r);
                break;
        default:
                s->kind = INJECT_STOP_NONE;
                break;
        }
}

int inject_syscall_stop(pid_t pid, struct inject_syscall_stop *s) {
        struct sysinfo_raw info;
        struct regs r;
        int ret;

        if (!s)
                return -EINVAL;
        memset(s, 0, sizeof(*s));
        s->nr = -1;

        memset(&info, 0, sizeof(info));
        if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *) sizeof(info), &info) >= 0) {
                stop_from_syscall_info(&info, s);
                return 0;
        }
        /* Kernels before 5.3 answer an unknown request with EIO. */
        if (errno != EIO && errno != EINVAL)
                return -errno;

        ret = regs_get(pid, &r);
        if (ret < 0)
                return ret;
        stop_from_regs(&r, s);
        return 0;
}

/* ------------------------------------------------------------------------ */
/* tracee memory                                                            */
/* ------------------------------------------------------------------------ */

static int peek_word(pid_t pid, uint64_t addr, uint64_t *out) {
        long w;

        errno = 0;
        w = ptrace(PTRACE_PEEKDATA, pid, (void *) (uintptr_t) addr, NULL);
        if (w == -1 && errno != 0)
                return -errno;
        *out = (uint64_t) w;
        return 0;
}

static int poke_word(pid_t pid, uint64_t addr, uint64_t w) {
        if (ptrace(PTRACE_POKEDATA, pid, (void *) (uintptr_t) addr, (void *) (uintptr_t) w) < 0)
                return -errno;
        return 0;
}

/* Byte-exact read through PTRACE_PEEKDATA. */
static int peek_bytes(pid_t pid, uint64_t addr, void *buf, size_t len) {
        uint8_t *p = buf;

        while (len > 0) {
                uint64_t a = addr & ~(uint64_t) 7, w;
                size_t off = (size_t) (addr - a), n = 8 - off;
                int r;

                if (n > len)
                        n = len;
                r = peek_word(pid, a, &w);
                if (r < 0)
                        return r;
                memcpy(p, (uint8_t *) &w + off, n);
                p += n;
                addr += n;
                len -= n;
        }
        return 0;
}

/* Byte-exact write through PTRACE_POKEDATA (read-modify-write at the
 * edges).  Works on read-only mappings too (FOLL_FORCE). */
static int poke_bytes(pid_t pid, uint64_t addr, const void *buf, size_t len) {
        const uint8_t *p = buf;

        while (len > 0) {
                uint64_t a = addr & ~(uint64_t) 7, w = 0;
                size_t off = (size_t) (addr - a), n = 8 - off;
                int r;

                if (n > len)
                        n = len;
                if (off != 0 || n != 8) {
                        r = peek_word(pid, a, &w);
                        if (r < 0)
                                return r;
                }
                memcpy((uint8_t *) &w + off, p, n);
                r = poke_word(pid, a, w);
                if (r < 0)
                        return r;
                p += n;
                addr += n;
                len -= n;
        }
        return 0;
}

static int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len, unsigned flags) {
        if (!(flags & INJECT_F_NO_VM_READV)) {
                struct iovec local = { .iov_base = buf, .iov_len = len };
                struct iovec remote = { .iov_base = (void *) (uintptr_t) addr, .iov_len = len };
                ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

                if (n == (ssize_t) len)
                        return 0;
                if (n > 0) {
                        /* Partial: fetch the rest word by word. */
                        return peek_bytes(pid, addr + (size_t) n, (uint8_t *) buf + n,
                                          len - (size_t) n);
                }
                /* EFAULT (unreadable or PROT_EXEC-only page), EPERM, ENOSYS:
                 * PEEKDATA may still work (it uses FOLL_FORCE). */
        }
        return peek_bytes(pid, addr, buf, len);
}

static int mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len,
                     unsigned flags, bool *fell_back) {
        if (!(flags & INJECT_F_NO_VM_WRITEV)) {
                struct iovec local = { .iov_base = (void *) buf, .iov_len = len };
                struct iovec remote = { .iov_base = (void *) (uintptr_t) addr, .iov_len = len };
                ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);

                if (n == (ssize_t) len)
                        return 0;
                /* Partial or failed: EFAULT below the stack VMA (GUP no
                 * longer grows stacks since Linux 6.5 and logs "GUP no longer
                 * grows the stack"), EPERM under some LSMs.  Redo all of it
                 * word by word: PTRACE_POKEDATA (access_remote_vm) does grow
                 * the stack -- observed on 6.18 even past the tracee's
                 * RLIMIT_STACK, the check uses the tracer's limit. */
        }
        if (fell_back)
                *fell_back = true;
        return poke_bytes(pid, addr, buf, len);
}

/* ------------------------------------------------------------------------ */
/* /proc/PID/maps                                                           */
/* ------------------------------------------------------------------------ */

struct map {
        uint64_t start, end;
        char perms[5];
        const char *name; /* "" for anonymous; may be truncated */
};

typedef int (*map_cb_t)(const struct map *m, void *userdata);

static bool parse_hex(const char **p, uint64_t *out) {
        const char *s = *p;
        uint64_t v = 0;
        bool any = false;

        for (;; s++) {
                unsigned d;
                if (*s >= '0' && *s <= '9')
                        d = (unsigned) (*s - '0');
                else if (*s >= 'a' && *s <= 'f')
                        d = (unsigned) (*s - 'a' + 10);
                else
                        break;
                v = v << 4 | d;
                any = true;
        }
        *p = s;
        *out = v;
        return any;
}

static const char *skip_field(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        while (*s && *s != ' ' && *s != '\t')
                s++;
        return s;
}

/* "start-end perms offset dev inode   name" */
static bool parse_map_line(const char *line, struct map *m) {
        const char *p = line;

        if (!parse_hex(&p, &m->start) || *p++ != '-')
                return false;
        if (!parse_hex(&p, &m->end) || *p++ != ' ')
                return false;
        for (unsigned i = 0; i < 4; i++) {
                if (!p[i])
                        return false;
                m->perms[i] = p[i];
        }
        m->perms[4] = 0;
        p += 4;
        p = skip_field(p); /* offset */
        p = skip_field(p); /* dev */
        p = skip_field(p); /* inode */
        while (*p == ' ' || *p == '\t')
                p++;
        m->name = p;
        return m->end > m->start;
}

/* Calls cb for each mapping; stops early when cb returns non-zero and
 * returns that value.  Lines longer than the buffer are truncated (only the
 * name can be that long). */
static int maps_foreach(pid_t pid, map_cb_t cb, void *userdata) {
        char path[64], buf[CHUNK];
        size_t have = 0;
        bool skipping = false;
        int fd, ret = 0;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        for (;;) {
                ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
                size_t start = 0;
                bool eof;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        ret = -errno;
                        break;
                }
                have += (size_t) n;
                eof = n == 0;

                while (start < have) {
                        char *nl = memchr(buf + start, '\n', have - start);
                        size_t end;
                        struct map m;

                        if (nl)
                                end = (size_t) (nl - buf);
                        else if (eof || (start == 0 && have == sizeof(buf) - 1))
                                end = have; /* last line, or head of an over-long one */
                        else
                                break;      /* need more data */
                        buf[end] = 0;
                        if (!skipping && parse_map_line(buf + start, &m)) {
                                ret = cb(&m, userdata);
                                if (ret != 0)
                                        goto out;
                        }
                        skipping = !nl && !eof; /* drop the rest of an over-long line */
                        start = nl ? end + 1 : have;
                }
                memmove(buf, buf + start, have - start);
                have -= start;
                if (eof)
                        break;
        }
out:
        (void) close(fd);
        return ret;
}

static bool map_is_vdso(const struct map *m) { return strcmp(m->name, "[vdso]") == 0; }
static bool map_is_vsyscall(const struct map *m) { return strcmp(m->name, "[vsyscall]") == 0; }
static bool map_is_exec(const struct map *m) { return m->perms[2] == 'x'; }

/* ------------------------------------------------------------------------ */
/* finding a syscall instruction                                            */
/* ------------------------------------------------------------------------ */

struct scan_ctx {
        pid_t pid;
        unsigned flags;
        const struct regs *r;
        bool vdso_pass;
        size_t scanned;
        uint64_t found;
};

static int scan_range(struct scan_ctx *c, uint64_t start, uint64_t end) {
        uint8_t buf[CHUNK];
        uint8_t carry = 0;
        bool have_carry = false;

        for (uint64_t a = start; a < end; a += CHUNK) {
                size_t len = end - a < CHUNK ? (size_t) (end - a) : CHUNK;

                if (c->scanned >= SCAN_LIMIT)
                        return 0;
                c->scanned += len;
                if (mem_read(c->pid, a, buf, len, c->flags) < 0) {
                        have_carry = false;
                        continue; /* unreadable page: try the next */
                }
#if ARCH_SYSCALL_INSN_LEN == 2
                if (have_carry) {
                        uint8_t two[2] = { carry, buf[0] };
                        if (ARCH_FN(is_syscall_insn)(two) &&
                            ARCH_FN(insn_addr_ok)(&c->r->a, a - 1)) {
                                c->found = a - 1;
                                return 1;
                        }
                }
                carry = buf[len - 1];
                have_carry = true;
#else
                (void) carry;
                (void) have_carry;
#endif
                for (size_t i = 0; i + ARCH_SYSCALL_INSN_LEN <= len; i += ARCH_SYSCALL_INSN_ALIGN) {
                        if (ARCH_FN(is_syscall_insn)(buf + i) &&
                            ARCH_FN(insn_addr_ok)(&c->r->a, a + i)) {
                                c->found = a + i;
                                return 1;
                        }
                }
        }
        return 0;
}

static int scan_cb(const struct map *m, void *userdata) {
        struct scan_ctx *c = userdata;

        if (!map_is_exec(m) || map_is_vsyscall(m))
                return 0;
        if (map_is_vdso(m) != c->vdso_pass)
                return 0;
        return scan_range(c, m->start, m->end);
}

/* The vDSO first: small, always mapped, and on x86_64 it holds `syscall`
 * instructions (the clock_gettime() etc. fallbacks); on arm64 `svc #0`. */
static int find_syscall_insn(pid_t pid, const struct regs *r, unsigned flags, uint64_t *out) {
        struct scan_ctx c = { .pid = pid, .flags = flags, .r = r };
        int ret;

        for (int pass = 0; pass < 2; pass++) {
                c.vdso_pass = pass == 0;
                ret = maps_foreach(pid, scan_cb, &c);
                if (ret < 0)
                        return ret;
                if (ret > 0) {
                        *out = c.found;
                        return 0;
                }
        }
        return -ENOENT;
}

struct poke_ctx {
        const struct regs *r;
        uint64_t cand[4];
        size_t ncand;
        uint64_t best;      /* first candidate inside an executable mapping */
        size_t best_rank;
        uint64_t fallback;  /* start of the first ordinary executable mapping */
};

static int poke_cb(const struct map *m, void *userdata) {
        struct poke_ctx *c = userdata;

        if (!map_is_exec(m) || map_is_vsyscall(m))
                return 0;
        for (size_t i = 0; i < c->ncand && i < c->best_rank; i++) {
                uint64_t a = c->cand[i];
                if (a >= m->start && a + ARCH_SYSCALL_INSN_LEN <= m->end &&
                    ARCH_FN(insn_addr_ok)(&c->r->a, a)) {
                        c->best = a;
                        c->best_rank = i;
                }
        }
        if (!c->fallback && !map_is_vdso(m)) {
                uint64_t a = m->start;
                if (!ARCH_FN(insn_addr_ok)(&c->r->a, a))
                        a += ARCH_SYSCALL_INSN_LEN;
                if (a + ARCH_SYSCALL_INSN_LEN <= m->end)
                        c->fallback = a;
        }
        return 0;
}

/* Where to write a syscall instruction: at ip (x86_64) / next to pc
 * (aarch64) when that is in executable memory, else at the start of the
 * first executable mapping.  The process is about to exec, and rollback
 * restores the text, so nothing needs to be preserved meanwhile. */
static int choose_poke_addr(pid_t pid, const struct regs *r, uint64_t *out) {
        struct poke_ctx c = { .r = r, .best_rank = SIZE_MAX };
        int ret;

        c.ncand = ARCH_FN(poke_candidates)(&r->a, c.cand, sizeof(c.cand) / sizeof(c.cand[0]));
        ret = maps_foreach(pid, poke_cb, &c);
        if (ret < 0)
                return ret;
        if (c.best_rank != SIZE_MAX)
                *out = c.best;
        else if (c.fallback)
                *out = c.fallback;
        else
                return -ENOEXEC;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* layout of path/argv/envp                                                 */
/* ------------------------------------------------------------------------ */

uint64_t inject_stack_top(uint64_t sp, unsigned red_zone) {
        if (sp < red_zone)
                return 0;
        return (sp - red_zone) & ~(uint64_t) (ARCH_STACK_ALIGN - 1);
}

/* Counts and sizes of a layout: pointers, then the strings, word-aligned. */
struct layout_size {
        size_t argc, envc, ptrbytes, len;
};

static int layout_measure(size_t bufsz, const char *path, char *const argv[], char *const envp[],
                          struct layout_size *z) {
        size_t strbytes = strlen(path) + 1;

        *z = (struct layout_size) { 0 };
        if (strbytes > bufsz)
                return -E2BIG;
        for (; argv && argv[z->argc]; z->argc++) {
                strbytes += strlen(argv[z->argc]) + 1;
                if (strbytes + (z->argc + 2) * ARCH_WORD_SIZE > bufsz)
                        return -E2BIG;
        }
        for (; envp && envp[z->envc]; z->envc++) {
                strbytes += strlen(envp[z->envc]) + 1;
                if (strbytes + (z->argc + z->envc + 3) * ARCH_WORD_SIZE > bufsz)
                        return -E2BIG;
        }
        z->ptrbytes = (z->argc + 1 + z->envc + 1) * ARCH_WORD_SIZE;
        z->len = (z->ptrbytes + strbytes + ARCH_WORD_SIZE - 1) & ~(size_t) (ARCH_WORD_SIZE - 1);
        return z->len > bufsz ? -E2BIG : 0;
}

/* Copy s to buf at *off; returns its address in the tracee (base + offset). */
static uint64_t layout_put_string(uint8_t *buf, uint64_t base, size_t *off, const char *s) {
        size_t l = strlen(s) + 1;
        uint64_t remote = base + *off;

        memcpy(buf + *off, s, l);
        *off += l;
        return remote;
}

static void layout_put_pointer(uint8_t *buf, size_t idx, uint64_t v) {
        memcpy(buf + idx * ARCH_WORD_SIZE, &v, sizeof v);
}

int inject_layout_execve(void *buf, size_t bufsz, uint64_t top, const char *path,
                         char *const argv[], char *const envp[],
                         struct inject_layout *out) {
        struct layout_size z;
        uint8_t *b = buf;
        uint64_t base;
        size_t off;
        int r;

        if (!buf || !out || !path)
                return -EINVAL;
        if ((r = layout_measure(bufsz, path, argv, envp, &z)) < 0)
                return r;
        top &= ~(uint64_t) (ARCH_STACK_ALIGN - 1);
        if (top < z.len + ARCH_STACK_ALIGN)
                return -ENOSPC;
        base = (top - z.len) & ~(uint64_t) (ARCH_STACK_ALIGN - 1);

        memset(b, 0, z.len);
        off = z.ptrbytes;
        out->path = layout_put_string(b, base, &off, path);
        for (size_t i = 0; i < z.argc; i++)
                layout_put_pointer(b, i, layout_put_string(b, base, &off, argv[i]));
        layout_put_pointer(b, z.argc, 0);
        for (size_t i = 0; i < z.envc; i++)
                layout_put_pointer(b, z.argc + 1 + i, layout_put_string(b, base, &off, envp[i]));
        layout_put_pointer(b, z.argc + 1 + z.envc, 0);

        out->base = base;
        out->len = z.len;
        out->argv = base;
        out->envp = base + (z.argc + 1) * ARCH_WORD_SIZE;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* injection                                                                */
/* ------------------------------------------------------------------------ */

static int write_blob(pid_t pid, uint64_t top, const char *path, char *const argv[],
                      char *const envp[], unsigned flags, struct inject_state *st,
                      struct inject_layout *lay) {
        _Alignas(16) uint8_t buf[INJECT_BLOB_MAX];
        int r;

        r = inject_layout_execve(buf, sizeof(buf), top, path, argv, envp, lay);
        if (r < 0)
                return r;
        r = mem_write(pid, lay->base, buf, lay->len, flags, &st->mem_fallback);
        if (r < 0)
                return r;
        st->blob_addr = lay->base;
        st->blob_len = lay->len;
        return 0;
}

struct fallback_ctx {
        uint64_t sp;
        uint64_t top;
};

static int fallback_cb(const struct map *m, void *userdata) {
        struct fallback_ctx *c = userdata;

        if (m->end <= c->sp || m->perms[1] != 'w')
                return 0;
        /* maps are sorted: the first writable one ending above sp */
        c->top = m->end - m->start > INJECT_BLOB_MAX ? m->start + INJECT_BLOB_MAX : m->end;
        return 1;
}

static int blob_fallback_top(pid_t pid, uint64_t sp, uint64_t *top) {
        struct fallback_ctx c = { .sp = sp };
        int r = maps_foreach(pid, fallback_cb, &c);

        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        *top = c.top;
        return 0;
}

static int check_entry(pid_t pid, struct inject_syscall_stop *ss) {
        int r = inject_syscall_stop(pid, ss);
        if (r < 0)
                return r;
        if (!ss->exact)
                return 0; /* trust the caller */
        if (ss->kind != INJECT_STOP_SYSCALL_ENTRY && ss->kind != INJECT_STOP_SECCOMP)
                return -EINVAL;
        if (ss->arch != ARCH_AUDIT_ARCH)
                return -EOPNOTSUPP;
        return 0;
}

/* Install r at a syscall-entry stop whose registers were e; on success
 * remember how to undo it (re-run the original syscall nr). */
static int commit_entry_rewrite(pid_t pid, const struct regs *e, const struct regs *r, long nr,
                                struct inject_state *st) {
        int ret = regs_set(pid, r);

        if (ret < 0) {
                (void) regs_set(pid, e);
                return ret;
        }
        st->saved = *e;
        st->restore = *e;
        ARCH_FN(rewind_syscall)(&st->restore.a, nr);
        st->via = INJECT_VIA_SYSCALL_ENTRY;
        st->valid = true;
        return 0;
}

static int entry_common(pid_t pid, const char *path, char *const argv[], char *const envp[],
                        unsigned flags, struct inject_state *st) {
        struct inject_layout lay;
        struct regs e, r;
        long nr;
        int ret;

        ret = regs_get(pid, &e);
        if (ret < 0)
                return ret;
        ret = ARCH_FN(check_abi)(&e.a);
        if (ret < 0)
                return ret;
        nr = regs_syscall_nr(&e);
        if (nr < 0)
                return -EINVAL; /* not in a syscall at all */

        ret = write_blob(pid, inject_stack_top(regs_sp(&e), ARCH_RED_ZONE), path, argv, envp,
                         flags, st, &lay);
        if (ret < 0)
                return ret;

        r = e;
        ARCH_FN(prepare_execve_entry)(&r.a, lay.path, lay.argv, lay.envp);
        return commit_entry_rewrite(pid, &e, &r, nr, st);
}

int inject_execve_at_syscall_entry(pid_t pid, const char *path,
                                   char *const argv[], char *const envp[],
                                   unsigned flags, struct inject_state *st) {
        struct inject_state local;
        struct inject_syscall_stop ss;
        int ret;

        if (!path)
                return -EINVAL;
        if (!st)
                st = &local;
        memset(st, 0, sizeof(*st));

        ret = check_entry(pid, &ss);
        if (ret < 0)
                return ret;
        return entry_common(pid, path, argv, envp, flags, st);
}

static int restore_text(pid_t pid, const struct inject_state *st) {
        int ret = 0;

        for (unsigned i = 0; i < st->text_words; i++) {
                int r = poke_word(pid, st->text_addr + 8 * i, st->text_orig[i]);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

/* Write the syscall instruction at addr with PTRACE_POKETEXT, remembering
 * the (at most two) words it overlaps. */
static int poke_insn(pid_t pid, uint64_t addr, struct inject_state *st) {
        uint64_t first = addr & ~(uint64_t) 7;
        uint64_t last = (addr + ARCH_SYSCALL_INSN_LEN - 1) & ~(uint64_t) 7;
        unsigned words = first == last ? 1 : 2;
        int r;

        for (unsigned i = 0; i < words; i++) {
                r = peek_word(pid, first + 8 * i, &st->text_orig[i]);
                if (r < 0)
                        return r;
        }
        st->text_addr = first;
        st->text_words = words;
        r = poke_bytes(pid, addr, ARCH_SYSCALL_INSN, ARCH_SYSCALL_INSN_LEN);
        if (r < 0) {
                (void) restore_text(pid, st);
                st->text_words = 0;
                st->text_addr = 0;
        }
        return r;
}

/* A syscall instruction to run the execve with: at (or next to) the ip, or
 * found in the tracee's text, or else an address to poke one at. */
static int pick_syscall_insn(pid_t pid, const struct regs *s, unsigned flags, uint64_t *insn,
                             enum inject_via *via) {
        uint64_t cand[4];
        int ret;

        *insn = 0;
        if (!(flags & INJECT_F_FORCE_POKETEXT)) {
                size_t n = ARCH_FN(insn_candidates)(&s->a, cand, sizeof(cand) / sizeof(cand[0]));

                for (size_t i = 0; i < n && !*insn; i++) {
                        uint8_t bytes[ARCH_SYSCALL_INSN_LEN];

                        if (!ARCH_FN(insn_addr_ok)(&s->a, cand[i]))
                                continue;
                        if (mem_read(pid, cand[i], bytes, sizeof(bytes), flags) < 0)
                                continue;
                        if (ARCH_FN(is_syscall_insn)(bytes)) {
                                *insn = cand[i];
                                *via = INJECT_VIA_INSN_AT_IP;
                        }
                }
                if (!*insn) {
                        ret = find_syscall_insn(pid, s, flags, insn);
                        if (ret == 0)
                                *via = INJECT_VIA_INSN_FOUND;
                        else if (ret == -ESRCH)
                                return ret;
                        /* else: /proc unreadable or nothing found: poke */
                }
        }
        if (!*insn) {
                if (flags & INJECT_F_NO_POKETEXT)
                        return -ENOEXEC;
                ret = choose_poke_addr(pid, s, insn);
                if (ret < 0)
                        return ret;
                *via = INJECT_VIA_INSN_POKED;
        }
        return 0;
}

/* path, argv and envp below the tracee's sp, or where there is room. */
static int place_blob(pid_t pid, const struct regs *s, const char *path, char *const argv[], char *const envp[],
                      unsigned flags, struct inject_state *st, struct inject_layout *lay) {
        int ret = write_blob(pid, inject_stack_top(regs_sp(s), ARCH_RED_ZONE), path, argv, envp, flags, st, lay);

        if (ret == -EFAULT || ret == -EIO || ret == -ENOSPC) {
                /* No memory below sp: a stack overflow (sp in the guard gap)
                 * or a wild sp.  Use the bottom of the nearest writable
                 * mapping at or above sp: the deepest, dead, frames. */
                uint64_t top;

                if (blob_fallback_top(pid, regs_sp(s), &top) == 0) {
                        st->mem_fallback = false;
                        ret = write_blob(pid, top, path, argv, envp, flags, st, lay);
                        if (ret == 0)
                                st->blob_fallback = true;
                }
        }
        return ret;
}

/* argv and envp: local arrays copied with the path, or (remote) arrays
 * already in the tracee, passed by address. */
struct vectors {
        char *const *argv;
        char *const *envp;
        uint64_t remote_argv, remote_envp;
        bool remote;
};

/* At a non-entry stop with registers s: move ip to a syscall instruction
 * and set up execve(path, argv, envp) there (inject_execve_at_stop()). */
static int inject_insn(pid_t pid, const struct regs *s, const char *path, const struct vectors *v,
                       unsigned flags, struct inject_state *st) {
        struct inject_layout lay;
        struct regs r, r0 = *s;
        uint64_t insn = 0;
        enum inject_via via = INJECT_VIA_NONE;
        int ret;

        /* What the tracee would do if simply resumed: restart an interrupted
         * syscall (x86_64; aarch64 did that before the stop), with the
         * kernel's own restart logic disarmed.  This is the rollback state. */
        (void) ARCH_FN(restart_fixup)(&r0.a, NULL);

        if ((ret = pick_syscall_insn(pid, s, flags, &insn, &via)) < 0)
                return ret;
        if ((ret = place_blob(pid, s, path, v->remote ? NULL : v->argv, v->remote ? NULL : v->envp, flags, st,
                              &lay)) < 0)
                return ret;
        if (v->remote) {
                lay.argv = v->remote_argv;
                lay.envp = v->remote_envp;
        }
        if (via == INJECT_VIA_INSN_POKED) {
                ret = poke_insn(pid, insn, st);
                if (ret < 0)
                        return ret;
        }

        r = *s;
        ARCH_FN(prepare_execve_insn)(&r.a, insn, lay.base, lay.path, lay.argv, lay.envp);
        ret = regs_set(pid, &r);
        if (ret < 0) {
                (void) regs_set(pid, s);
                (void) restore_text(pid, st);
                st->text_words = 0;
                return ret;
        }

        st->saved = *s;
        st->restore = r0;
        st->insn_addr = insn;
        st->via = via;
        st->valid = true;
        return 0;
}

int inject_execve_at_stop(pid_t pid, const char *path,
                          char *const argv[], char *const envp[],
                          unsigned flags, struct inject_state *st) {
        struct inject_state local;
        struct inject_syscall_stop ss;
        struct vectors v = { .argv = argv, .envp = envp };
        struct regs s;
        int ret;

        if (!path)
                return -EINVAL;
        if ((flags & INJECT_F_NO_POKETEXT) && (flags & INJECT_F_FORCE_POKETEXT))
                return -EINVAL;
        if (!st)
                st = &local;
        memset(st, 0, sizeof(*st));

        ret = inject_syscall_stop(pid, &ss);
        if (ret < 0)
                return ret;
        if (ss.exact && (ss.kind == INJECT_STOP_SYSCALL_ENTRY || ss.kind == INJECT_STOP_SECCOMP)) {
                if (ss.arch != ARCH_AUDIT_ARCH)
                        return -EOPNOTSUPP;
                return entry_common(pid, path, argv, envp, flags, st);
        }

        ret = regs_get(pid, &s);
        if (ret < 0)
                return ret;
        ret = ARCH_FN(check_abi)(&s.a);
        if (ret < 0)
                return ret;
        return inject_insn(pid, &s, path, &v, flags, st);
}

/* A fresh image's stack (both ABIs): sp -> argc, argv[0..argc-1], NULL,
 * envp[...], NULL, auxv.  The arrays are used where they are. */
static int initial_vectors(pid_t pid, uint64_t sp, unsigned flags, struct vectors *v) {
        uint64_t argc, end;
        int r = mem_read(pid, sp, &argc, sizeof argc, flags);

        if (r < 0)
                return r;
        if (argc > INJECT_EXEC_ARGC_MAX)
                return -EINVAL;
        r = mem_read(pid, sp + 8 * (argc + 1), &end, sizeof end, flags);
        if (r < 0)
                return r;
        if (end != 0)
                return -EINVAL; /* not an initial stack */
        v->remote_argv = sp + 8;
        v->remote_envp = sp + 8 * (argc + 2);
        v->remote = true;
        return 0;
}

int inject_execve_at_exec_exit(pid_t pid, const char *path, unsigned flags, struct inject_state *st) {
        struct inject_state local;
        struct inject_syscall_stop ss;
        struct vectors v = { 0 };
        struct regs s;
        long nr;
        int ret;

        if (!path || ((flags & INJECT_F_NO_POKETEXT) && (flags & INJECT_F_FORCE_POKETEXT)))
                return -EINVAL;
        if (!st)
                st = &local;
        memset(st, 0, sizeof(*st));

        ret = inject_syscall_stop(pid, &ss);
        if (ret < 0)
                return ret;
        if (ss.exact && (ss.kind != INJECT_STOP_SYSCALL_EXIT || ss.ret != 0))
                return -EINVAL; /* not the exit stop of a successful execve */
        ret = regs_get(pid, &s);
        if (ret < 0)
                return ret;
        ret = ARCH_FN(check_abi)(&s.a);
        if (ret < 0)
                return ret;
        nr = regs_syscall_nr(&s);
        if (nr != ARCH_NR_EXECVE && nr != ARCH_NR_EXECVEAT)
                return -EINVAL;
        ret = initial_vectors(pid, regs_sp(&s), flags, &v);
        if (ret < 0)
                return ret;
        return inject_insn(pid, &s, path, &v, flags, st);
}

int inject_rollback(pid_t pid, const struct inject_state *st) {
        int ret, r;

        if (!st || !st->valid)
                return -EINVAL;
        ret = restore_text(pid, st);
        r = regs_set(pid, &st->restore);
        return r < 0 ? r : ret;
}
