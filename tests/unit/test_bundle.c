/* Version bundles (shim/versions/bundle.c): the ELF's loader and RUNPATH,
 * and preflight of a bundle, with stand-ins for its systemd and executor
 * (build/tests/says-version*, whose --version says what FILE.says holds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "versions/bundle.h"
#include "versions/preflight.h"

/* --- the ELF reader, on an image built in memory ------------------------ */

struct image {
        unsigned char b[4096];
        size_t len;
};

static int mem_read(void *ctx, void *buf, size_t n, uint64_t off) {
        const struct image *im = ctx;
        if (off > im->len || n > im->len - off)
                return -EIO;
        memcpy(buf, im->b + off, n);
        return 0;
}

/* Header, PT_INTERP, PT_LOAD (all of the file at vaddr 0x400000),
 * PT_DYNAMIC with STRTAB, STRSZ, RUNPATH and/or RPATH. */
static void build(struct image *im, const char *interp, const char *runpath, const char *rpath) {
        Elf64_Ehdr *eh = (Elf64_Ehdr *) im->b;
        Elf64_Phdr *ph = (Elf64_Phdr *) (im->b + 64);
        Elf64_Dyn *d = (Elf64_Dyn *) (im->b + 512);
        char *str = (char *) im->b + 1024;
        size_t s = 1, k = 0, n = 0;

        memset(im, 0, sizeof *im);
        im->len = 2048;
        memcpy(eh->e_ident, ELFMAG, SELFMAG);
        eh->e_ident[EI_CLASS] = ELFCLASS64;
        eh->e_ident[EI_DATA] = ELFDATA2LSB;
        eh->e_machine = EM_X86_64;
        eh->e_phoff = 64;
        eh->e_phentsize = sizeof(Elf64_Phdr);
        if (interp) {
                strcpy((char *) im->b + 400, interp);
                ph[n++] = (Elf64_Phdr) { .p_type = PT_INTERP, .p_offset = 400, .p_filesz = strlen(interp) + 1 };
        }
        ph[n++] = (Elf64_Phdr) { .p_type = PT_LOAD, .p_vaddr = 0x400000, .p_filesz = 2048 };
        ph[n++] = (Elf64_Phdr) { .p_type = PT_DYNAMIC, .p_offset = 512, .p_filesz = 8 * sizeof(Elf64_Dyn) };
        eh->e_phnum = (uint16_t) n;
        d[k++] = (Elf64_Dyn) { .d_tag = DT_STRTAB, .d_un.d_val = 0x400000 + 1024 };
        if (rpath) {
                d[k++] = (Elf64_Dyn) { .d_tag = DT_RPATH, .d_un.d_val = s };
                strcpy(str + s, rpath);
                s += strlen(rpath) + 1;
        }
        if (runpath) {
                d[k++] = (Elf64_Dyn) { .d_tag = DT_RUNPATH, .d_un.d_val = s };
                strcpy(str + s, runpath);
                s += strlen(runpath) + 1;
        }
        d[k++] = (Elf64_Dyn) { .d_tag = DT_STRSZ, .d_un.d_val = s };
}

static Elf64_Dyn *dyn(struct image *im, int64_t tag) {
        for (Elf64_Dyn *d = (Elf64_Dyn *) (im->b + 512); d->d_tag != DT_NULL; d++)
                if (d->d_tag == tag)
                        return d;
        fail();
        return NULL;
}

static void test_elf_paths(void **state) {
        struct image im;
        struct elf_paths p;
        char why[160];
        (void) state;

        build(&im, "/usr/lib/initshim/bundles/257/ld-linux-x86-64.so.2", "$ORIGIN/.", NULL);
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), 0);
        assert_string_equal(p.interp, "/usr/lib/initshim/bundles/257/ld-linux-x86-64.so.2");
        assert_string_equal(p.runpath, "$ORIGIN/.");
        /* RUNPATH wins over RPATH, as in ld.so and build-path.c. */
        build(&im, NULL, "/usr/lib/x86_64-linux-gnu/systemd", "$ORIGIN/old");
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), 0);
        assert_string_equal(p.interp, "");
        assert_string_equal(p.runpath, "/usr/lib/x86_64-linux-gnu/systemd");
        build(&im, NULL, NULL, "$ORIGIN/old");
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), 0);
        assert_string_equal(p.runpath, "$ORIGIN/old");
        build(&im, NULL, NULL, NULL);
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), 0);
        assert_string_equal(p.runpath, "");
}

static void test_elf_paths_refused(void **state) {
        struct image im;
        struct elf_paths p;
        char why[160];
        (void) state;

        /* The RUNPATH index past the string table's size. */
        build(&im, NULL, "$ORIGIN/.", NULL);
        dyn(&im, DT_RUNPATH)->d_un.d_val = 5000;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "RUNPATH outside"));
        /* The string table at an address no PT_LOAD maps. */
        build(&im, NULL, "$ORIGIN/.", NULL);
        dyn(&im, DT_STRTAB)->d_un.d_val = 0x10;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        /* No NUL before the end of the string table. */
        build(&im, NULL, "$ORIGIN/.", NULL);
        dyn(&im, DT_STRSZ)->d_un.d_val = 4;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        /* A PT_INTERP without its NUL, or past the end of the file. */
        build(&im, "/lib64/ld-linux-x86-64.so.2", NULL, NULL);
        ((Elf64_Phdr *) (im.b + 64))->p_filesz = 5;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "PT_INTERP"));
        build(&im, "/lib64/ld-linux-x86-64.so.2", NULL, NULL);
        ((Elf64_Phdr *) (im.b + 64))->p_offset = 5000;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -EIO);
        assert_string_equal(p.interp, "");
        /* An offset whose reads would wrap around to the start of the file. */
        ((Elf64_Phdr *) (im.b + 64))->p_offset = UINT64_MAX - 2;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        build(&im, NULL, "$ORIGIN/.", NULL);
        ((Elf64_Phdr *) (im.b + 64 + sizeof(Elf64_Phdr)))->p_offset = UINT64_MAX - 16;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        build(&im, NULL, NULL, NULL);
        ((Elf64_Ehdr *) im.b)->e_phoff = UINT64_MAX - 8;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        /* Too many program headers, or of another size. */
        build(&im, NULL, NULL, NULL);
        ((Elf64_Ehdr *) im.b)->e_phnum = 65;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        build(&im, NULL, NULL, NULL);
        ((Elf64_Ehdr *) im.b)->e_phentsize = 32;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        /* Not an ELF; a file shorter than a header. */
        build(&im, NULL, NULL, NULL);
        im.b[0] = '#';
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -ENOEXEC);
        im.len = 10;
        assert_int_equal(bundle_elf_paths(mem_read, &im, &p, why, sizeof why), -EIO);
}

static void test_pure_helpers(void **state) {
        char out[64];
        (void) state;
        assert_true(bundle_runpath_is_origin("$ORIGIN/."));
        assert_true(bundle_runpath_is_origin("$ORIGIN/../lib"));
        /* build-path.c wants the slash: "$ORIGIN" alone is not a build dir. */
        assert_false(bundle_runpath_is_origin("$ORIGIN"));
        assert_false(bundle_runpath_is_origin("/usr/lib/x86_64-linux-gnu/systemd"));
        assert_false(bundle_runpath_is_origin(""));
        assert_int_equal(bundle_executor_beside("/usr/lib/initshim/bundles/262/systemd", out, sizeof out), 0);
        assert_string_equal(out, "/usr/lib/initshim/bundles/262/systemd-executor");
        assert_int_equal(bundle_executor_beside("/systemd", out, sizeof out), 0);
        assert_string_equal(out, "/systemd-executor");
        assert_int_equal(bundle_executor_beside("relative/systemd", out, sizeof out), -EINVAL);
        assert_int_equal(bundle_executor_beside("/a/very/long/directory/name/for/sixteen/bytes/systemd", out, 16),
                         -ENAMETOOLONG);
}

/* --- preflight of a bundle, with the stand-ins --------------------------- */

/* The stand-ins say 257: 255+ needs an executor, and below 258 the cgroup
 * check (compat.c) passes on a v1 host too. */

static char dir[] = "/tmp/initshim-bundle.XXXXXX";
static char sd[128], ex[128];

static int setup(void **state) {
        (void) state;
        if (!mkdtemp(dir))
                return -1;
        snprintf(sd, sizeof sd, "%s/systemd", dir);
        snprintf(ex, sizeof ex, "%s/systemd-executor", dir);
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        (void) state;
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd);
}

static void put(const char *from, const char *to, mode_t mode, const char *says) {
        char cmd[512], path[256];
        FILE *f;

        unlink(to);
        snprintf(cmd, sizeof cmd, "cp %s %s", from, to);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(chmod(to, mode), 0);
        snprintf(path, sizeof path, "%s.says", to);
        assert_non_null(f = fopen(path, "we"));
        fprintf(f, "%s\n", says);
        fclose(f);
}

static int run(char *why, size_t whylen) {
        char ver[128];
        int r = preflight_run(sd, 3000, ver, sizeof ver, why, whylen);
        if (r == 0)
                assert_string_equal(ver, "systemd 257 (test)");
        else
                assert_string_equal(ver, "");
        return r;
}

static void test_bundle_preflight(void **state) {
        char why[512];
        (void) state;
        if (geteuid() != 0)
                skip();
        put("build/tests/says-version-origin", sd, 0755, "systemd 257 (test)");
        put("build/tests/says-version-origin", ex, 0755, "systemd 257 (test)");
        assert_int_equal(run(why, sizeof why), 0);

        /* Missing: refused, and says which file. */
        unlink(ex);
        assert_int_equal(run(why, sizeof why), -ENOENT);
        assert_non_null(strstr(why, "bundle incomplete: no systemd-executor beside"));
        assert_non_null(strstr(why, sd));
        /* Another version's executor (the serialization between the two is
         * version-specific). */
        put("build/tests/says-version-origin", ex, 0755, "systemd 256 (test)");
        assert_int_equal(run(why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "it is systemd 256, not 257"));
        /* The same file checks as the binary. */
        put("build/tests/says-version-origin", ex, 0775, "systemd 257 (test)");
        assert_int_equal(run(why, sizeof why), -EPERM);
        assert_non_null(strstr(why, "systemd-executor: writable by group or others"));
        put("build/tests/says-version-origin", ex, 0644, "systemd 257 (test)");
        assert_int_equal(run(why, sizeof why), -EACCES);
        assert_non_null(strstr(why, "not executable"));
        /* Broken: not systemd, exits non-zero, or not an ELF at all. */
        put("/bin/true", ex, 0755, "x");
        assert_int_equal(run(why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "needs its systemd-executor (255+)"));
        assert_non_null(strstr(why, "not systemd"));
        put("/bin/false", ex, 0755, "x");
        assert_int_equal(run(why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "exited with status 1"));
        put("tests/unit/says-version.c", ex, 0755, "x");
        assert_int_equal(run(why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "not an ELF"));
        /* Hangs: bounded by the same deadline. */
        put("build/tests/hang", ex, 0755, "x");
        assert_int_equal(run(why, sizeof why), -ETIMEDOUT);
        assert_non_null(strstr(why, "did not finish within 3000 ms"));
}

static void test_not_a_bundle(void **state) {
        char why[512];
        (void) state;
        if (geteuid() != 0)
                skip();
        /* An executor beside a binary that would not run it (no $ORIGIN RUNPATH). */
        put("build/tests/says-version", sd, 0755, "systemd 257 (test)");
        put("build/tests/says-version-origin", ex, 0755, "systemd 257 (test)");
        assert_int_equal(run(why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "would not run the systemd-executor beside it"));
        /* Below 255 nothing is needed, even beside a broken one. */
        put("build/tests/says-version", sd, 0755, "systemd 252 (test)");
        put("/bin/false", ex, 0755, "x");
        char ver[128];
        assert_int_equal(preflight_run(sd, 3000, ver, sizeof ver, why, sizeof why), 0);
        assert_string_equal(ver, "systemd 252 (test)");
        /* 255+ without a bundle: the compile-time path is what it runs. */
        unlink(ex);
        put("build/tests/says-version", sd, 0755, "systemd 257 (test)");
        if (access(BUNDLE_EXECUTOR_DEFAULT, F_OK) != 0) {
                assert_int_equal(run(why, sizeof why), -ENOENT);
                assert_non_null(strstr(why, "needs its systemd-executor (255+): " BUNDLE_EXECUTOR_DEFAULT));
        }
}

static void test_loader_checked(void **state) {
        struct image im;
        char why[512], ver[128];
        int fd;
        (void) state;
        if (geteuid() != 0)
                skip();
        /* A bundle whose private loader is gone: refused before anything
         * runs, with the loader's name (not "exit status 127"). */
        build(&im, "/nonexistent/ld-linux-x86-64.so.2", "$ORIGIN/.", NULL);
#if defined(__aarch64__)
        ((Elf64_Ehdr *) im.b)->e_machine = EM_AARCH64;
#endif
        unlink(sd);
        assert_true((fd = open(sd, O_WRONLY | O_CREAT | O_CLOEXEC, 0755)) >= 0);
        assert_int_equal(write(fd, im.b, im.len), (ssize_t) im.len);
        close(fd);
        assert_int_equal(preflight_run(sd, 3000, ver, sizeof ver, why, sizeof why), -ENOENT);
        assert_non_null(strstr(why, "its loader /nonexistent/ld-linux-x86-64.so.2: cannot open"));
        /* The same of an executor. */
        put("build/tests/says-version-origin", sd, 0755, "systemd 257 (test)");
        unlink(ex);
        assert_true((fd = open(ex, O_WRONLY | O_CREAT | O_CLOEXEC, 0755)) >= 0);
        assert_int_equal(write(fd, im.b, im.len), (ssize_t) im.len);
        close(fd);
        assert_int_equal(run(why, sizeof why), -ENOENT);
        assert_non_null(strstr(why, "systemd-executor: its loader /nonexistent/"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_elf_paths),
                cmocka_unit_test(test_elf_paths_refused),
                cmocka_unit_test(test_pure_helpers),
                cmocka_unit_test(test_bundle_preflight),
                cmocka_unit_test(test_not_a_bundle),
                cmocka_unit_test(test_loader_checked),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
