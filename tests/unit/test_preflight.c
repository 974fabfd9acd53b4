#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "versions/preflight.h"

static char dir[] = "/tmp/initshim-preflight.XXXXXX";

static int setup(void **state) {
        (void) state;
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[128];
        (void) state;
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd);
}

static const char *copy(const char *from, const char *name, mode_t mode, uid_t uid) {
        static char path[256];
        char cmd[512];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        snprintf(cmd, sizeof cmd, "cp %s %s", from, path);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(chmod(path, mode), 0);
        if (uid != 0)
                assert_int_equal(chown(path, uid, uid), 0);
        return path;
}

static void test_elf_header(void **state) {
        unsigned char h[64] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB };
        char why[128];
        uint16_t m = EM_X86_64;
        (void) state;
#if defined(__aarch64__)
        m = EM_AARCH64;
#endif
        memcpy(h + 18, &m, 2);
        assert_int_equal(preflight_elf_header(h, sizeof h, why, sizeof why), 0);
        m = EM_ARM;
        memcpy(h + 18, &m, 2);
        assert_int_equal(preflight_elf_header(h, sizeof h, why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "another machine"));
        h[EI_CLASS] = ELFCLASS32;
        assert_int_equal(preflight_elf_header(h, sizeof h, why, sizeof why), -ENOEXEC);
        assert_int_equal(preflight_elf_header((const unsigned char *) "#!/bin/sh\n", 10, why, sizeof why), -ENOEXEC);
}

static void test_file_checks(void **state) {
        char why[160];
        (void) state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(preflight_file(copy("/bin/true", "ok", 0755, 0), why, sizeof why), 0);
        assert_int_equal(preflight_file(copy("/bin/true", "ww", 0757, 0), why, sizeof why), -EPERM);
        assert_non_null(strstr(why, "writable by group or others"));
        assert_int_equal(preflight_file(copy("/bin/true", "gw", 0775, 0), why, sizeof why), -EPERM);
        assert_int_equal(preflight_file(copy("/bin/true", "nobody", 0755, 65534), why, sizeof why), -EPERM);
        assert_non_null(strstr(why, "not root"));
        assert_int_equal(preflight_file(copy("/bin/true", "noexec", 0644, 0), why, sizeof why), -EACCES);
        assert_true(preflight_file("/nonexistent/x", why, sizeof why) < 0);
        assert_int_equal(preflight_file("relative", why, sizeof why), -EINVAL);
        assert_int_equal(preflight_file("/tmp", why, sizeof why), -EINVAL);
}

static void test_identify(void **state) {
        char why[256];
        unsigned v = 0;
        (void) state;
        /* First lines of real systemd 247, 252, 254, 257 and of our fake. */
        assert_int_equal(preflight_identify("systemd 247 (247.3-7+deb11u4)", &v, why, sizeof why), 0);
        assert_int_equal(v, 247);
        assert_int_equal(preflight_identify("systemd 252 (252.22-1~deb12u1)", &v, why, sizeof why), 0);
        assert_int_equal(v, 252);
        assert_int_equal(preflight_identify("systemd 254 (254.5-1)", &v, why, sizeof why), 0);
        assert_int_equal(preflight_identify("systemd 257 (257.2-3)", &v, why, sizeof why), 0);
        assert_int_equal(v, 257);
        assert_int_equal(preflight_identify("systemd 999 (fake)", &v, why, sizeof why), 0);
        assert_int_equal(preflight_identify("systemd 239", &v, why, sizeof why), 0);
        assert_int_equal(preflight_identify("true (GNU coreutils) 9.1", &v, why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "not systemd"));
        assert_int_equal(preflight_identify("", &v, why, sizeof why), -ENOEXEC);
        assert_int_equal(preflight_identify("systemd", &v, why, sizeof why), -ENOEXEC);
        assert_int_equal(preflight_identify("systemd x", &v, why, sizeof why), -ENOEXEC);
        assert_int_equal(preflight_identify("systemd 25x", &v, why, sizeof why), -ENOEXEC);
        assert_int_equal(preflight_identify("systemd-shutdown 252", &v, why, sizeof why), -ENOEXEC);
        assert_int_equal(preflight_identify("systemd 1234567 (x)", &v, why, sizeof why), -ENOEXEC);
}

static void test_run_version(void **state) {
        char why[256], ver[128];
        (void) state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(preflight_run(copy("build/tests/fake-systemd", "fake", 0755, 0), 5000, ver, sizeof ver, why,
                                       sizeof why),
                         0);
        assert_string_equal(ver, "systemd 252 (fake)");
        /* Exits 0 but is not systemd: refused, so nothing is stopped for it. */
        assert_int_equal(preflight_run(copy("/bin/true", "t", 0755, 0), 5000, ver, sizeof ver, why, sizeof why),
                         -ENOEXEC);
        assert_non_null(strstr(why, "not systemd"));
        assert_string_equal(ver, "");
        assert_int_equal(preflight_run(copy("/bin/false", "f", 0755, 0), 5000, ver, sizeof ver, why, sizeof why),
                         -ENOEXEC);
        assert_non_null(strstr(why, "exited with status 1"));
        assert_string_equal(ver, "");
        assert_int_equal(preflight_run(copy("/bin/ls", "l", 0755, 0), 5000, ver, sizeof ver, why, sizeof why),
                         -ENOEXEC);
        assert_non_null(strstr(why, "ls (GNU coreutils)"));
        /* A binary that hangs on --version: bounded, killed, reaped. */
        assert_int_equal(preflight_run(copy("build/tests/hang", "h", 0755, 0), 200, ver, sizeof ver, why, sizeof why),
                         -ETIMEDOUT);
        assert_non_null(strstr(why, "did not finish within 200 ms"));
        /* One that closes stdout and never exits: the same deadline holds. */
        assert_int_equal(preflight_run(copy("build/tests/slow-version", "s", 0755, 0), 300, ver, sizeof ver, why,
                                       sizeof why),
                         -ETIMEDOUT);
        assert_non_null(strstr(why, "did not finish within 300 ms"));
}

static void test_fifo_not_opened(void **state) {
        char why[160];
        (void) state;
        unlink("/tmp/initshim-preflight-fifo");
        assert_int_equal(mkfifo("/tmp/initshim-preflight-fifo", 0700), 0);
        /* Would block forever in open() if preflight opened it. */
        assert_int_equal(preflight_file("/tmp/initshim-preflight-fifo", why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "not a regular file"));
        unlink("/tmp/initshim-preflight-fifo");
}

/* A binary with nothing beside it: no systemd-executor. */
#define NOWHERE "/nonexistent-initshim-test/systemd"

/* A pass is remembered for exactly that file: any change of what
 * identifies it forgets it; the oldest slot goes first. */
static void test_cache(void **state) {
        struct stat st;
        struct preflight_id id, other;
        char v[128];
        (void) state;
        preflight_cache_clear();
        memset(&st, 0, sizeof st);
        st.st_dev = 8, st.st_ino = 1234, st.st_size = 100000, st.st_mode = S_IFREG | 0755;
        st.st_mtim.tv_sec = 1000, st.st_ctim.tv_sec = 1000;
        preflight_id_of(&st, NOWHERE, &id);
        assert_false(preflight_cache_get(&id, v, sizeof v));
        preflight_cache_put(&id, "systemd 252 (252.22-1~deb12u1)");
        assert_true(preflight_cache_get(&id, v, sizeof v));
        assert_string_equal(v, "systemd 252 (252.22-1~deb12u1)");
        /* Each field counts. */
        struct stat changed[8];
        for (int i = 0; i < 8; i++)
                changed[i] = st;
        changed[0].st_dev++;
        changed[1].st_ino++;
        changed[2].st_size++;
        changed[3].st_mode = S_IFREG | 0775;
        changed[4].st_uid = 1;
        changed[5].st_gid = 1;
        changed[6].st_mtim.tv_nsec = 1;
        changed[7].st_ctim.tv_sec++;
        for (int i = 0; i < 8; i++) {
                preflight_id_of(&changed[i], NOWHERE, &other);
                assert_false(preflight_id_equal(&id, &other));
                assert_false(preflight_cache_get(&other, v, sizeof v));
        }
        /* The same file passing again replaces its entry (a new ctime). */
        preflight_id_of(&changed[7], NOWHERE, &other);
        preflight_cache_put(&other, "systemd 252 (again)");
        assert_false(preflight_cache_get(&id, v, sizeof v));
        assert_true(preflight_cache_get(&other, v, sizeof v));
        /* Slots: the oldest is forgotten. */
        preflight_cache_clear();
        for (int i = 0; i <= PREFLIGHT_CACHE_SLOTS; i++) {
                st.st_ino = 5000 + i;
                preflight_id_of(&st, NOWHERE, &id);
                preflight_cache_put(&id, "systemd 254 (254)");
        }
        st.st_ino = 5000;
        preflight_id_of(&st, NOWHERE, &id);
        assert_false(preflight_cache_get(&id, v, sizeof v));
        st.st_ino = 5000 + PREFLIGHT_CACHE_SLOTS;
        preflight_id_of(&st, NOWHERE, &id);
        assert_true(preflight_cache_get(&id, v, sizeof v));
        preflight_cache_clear();
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static bool cached(const char *path) {
        struct preflight_id id;
        struct stat st;
        char v[128];

        assert_int_equal(stat(path, &st), 0);
        preflight_id_of(&st, path, &id);
        return preflight_cache_get(&id, v, sizeof v);
}

/* A bundle's pass also names its systemd-executor: replacing it, or
 * taking it away, forgets the pass although the binary is the same. */
static void test_cache_executor(void **state) {
        char tmpdir[] = "/tmp/initshim-preflight-XXXXXX", bin[64], exe[64], exe_new[64];
        struct preflight_id id;
        struct stat st;
        (void) state;
        preflight_cache_clear();
        assert_non_null(mkdtemp(tmpdir));
        snprintf(bin, sizeof bin, "%s/systemd", tmpdir);
        snprintf(exe, sizeof exe, "%s/systemd-executor", tmpdir);
        snprintf(exe_new, sizeof exe_new, "%s/executor.new", tmpdir);
        write_file(bin, "binary");
        write_file(exe, "executor one");
        assert_int_equal(stat(bin, &st), 0);
        preflight_id_of(&st, bin, &id);
        preflight_cache_put(&id, "systemd 257 (257.13-1)");
        assert_true(cached(bin));
        /* Replaced by rename, as a package or make-bundle does. */
        write_file(exe_new, "executor two");
        assert_int_equal(rename(exe_new, exe), 0);
        assert_false(cached(bin));
        /* Passing again with the new one is remembered again... */
        preflight_id_of(&st, bin, &id);
        preflight_cache_put(&id, "systemd 257 (257.13-1)");
        assert_true(cached(bin));
        /* ...and taking it away forgets it. */
        assert_int_equal(unlink(exe), 0);
        assert_false(cached(bin));
        assert_int_equal(unlink(bin), 0);
        assert_int_equal(rmdir(tmpdir), 0);
        preflight_cache_clear();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_elf_header),
                cmocka_unit_test(test_file_checks),
                cmocka_unit_test(test_identify),
                cmocka_unit_test(test_run_version),
                cmocka_unit_test(test_fifo_not_opened),
                cmocka_unit_test(test_cache),
                cmocka_unit_test(test_cache_executor),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
