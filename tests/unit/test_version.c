/* initshim_check_image(): what a live upgrade accepts as the installed
 * initshim (common/version.h). Each refusal on a small synthesized ELF whose
 * only defect is the one tested; the real build and this test binary too. */
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
#include <sys/mman.h>
#include <unistd.h>

#include "common/version.h"

#if defined(__aarch64__)
#define MACHINE EM_AARCH64
#else
#define MACHINE EM_X86_64
#endif

#define DATA_OFF 0x1000
#define IMAGE_SIZE 0x4000 /* the data segment: DATA_OFF to the end */

static unsigned char img[IMAGE_SIZE];

/* A static initshim in miniature: ELF header, a read-only and a writable
 * PT_LOAD, the build marker in the writable one at offset marker_at. */
static void make_image(size_t marker_at) {
        Elf64_Ehdr *eh = (Elf64_Ehdr *) img;
        Elf64_Phdr *ph = (Elf64_Phdr *) (img + sizeof *eh);
        static const char marker[] = "initshim-build=0.1 (unit)";

        memset(img, 0, sizeof img);
        memcpy(eh->e_ident, ELFMAG, SELFMAG);
        eh->e_ident[EI_CLASS] = ELFCLASS64;
        eh->e_ident[EI_DATA] = ELFDATA2LSB;
        eh->e_ident[EI_VERSION] = EV_CURRENT;
        eh->e_type = ET_EXEC;
        eh->e_machine = MACHINE;
        eh->e_version = EV_CURRENT;
        eh->e_phoff = sizeof *eh;
        eh->e_ehsize = sizeof *eh;
        eh->e_phentsize = sizeof *ph;
        eh->e_phnum = 2;
        ph[0] = (Elf64_Phdr) { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0, .p_filesz = DATA_OFF };
        ph[1] = (Elf64_Phdr) { .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = DATA_OFF,
                               .p_filesz = IMAGE_SIZE - DATA_OFF };
        if (marker_at)
                memcpy(img + marker_at, marker, sizeof marker);
}

/* initshim_check_image() of the first len bytes of img. */
static int check(size_t len, char *build, char *why, size_t whylen) {
        int fd = memfd_create("image", MFD_CLOEXEC), r;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, img, len), (ssize_t) len);
        r = initshim_check_image(fd, build, INITSHIM_BUILD_MARKER_SIZE, why, whylen);
        close(fd);
        return r;
}

static void refused(size_t len, const char *expected) {
        char build[INITSHIM_BUILD_MARKER_SIZE], why[192];

        assert_int_equal(check(len, build, why, sizeof why), -ENOEXEC);
        if (!strstr(why, expected))
                fail_msg("refused as \"%s\", expected \"%s\"", why, expected);
        assert_string_equal(build, "");
}

static void test_complete_static_initshim(void **state) {
        char build[INITSHIM_BUILD_MARKER_SIZE], why[192];
        (void) state;
        make_image(DATA_OFF + 0x100);
        assert_int_equal(check(IMAGE_SIZE, build, why, sizeof why), 0);
        assert_string_equal(build, "0.1 (unit)");
        /* Across the scanner's 4 KiB reads. */
        make_image(DATA_OFF + 4096 - 7);
        assert_int_equal(check(IMAGE_SIZE, build, why, sizeof why), 0);
        assert_string_equal(build, "0.1 (unit)");
}

static void test_not_elf(void **state) {
        (void) state;
        make_image(DATA_OFF + 0x100);
        memcpy(img, "#!/bin/sh\n", 10);
        refused(IMAGE_SIZE, "not an ELF binary");
        refused(3, "not an ELF binary");
}

static void test_other_machine(void **state) {
        Elf64_Ehdr *eh = (Elf64_Ehdr *) img;
        (void) state;
        make_image(DATA_OFF + 0x100);
        eh->e_machine = MACHINE == EM_X86_64 ? EM_AARCH64 : EM_X86_64;
        refused(IMAGE_SIZE, "another machine");
        make_image(DATA_OFF + 0x100);
        eh->e_ident[EI_CLASS] = ELFCLASS32;
        refused(IMAGE_SIZE, "not a 64-bit little-endian ELF");
}

static void test_not_executable(void **state) {
        (void) state;
        make_image(DATA_OFF + 0x100);
        ((Elf64_Ehdr *) img)->e_type = ET_REL;
        refused(IMAGE_SIZE, "not an executable");
        make_image(DATA_OFF + 0x100);
        ((Elf64_Ehdr *) img)->e_phnum = 0;
        refused(IMAGE_SIZE, "not an executable");
}

static void test_truncated(void **state) {
        (void) state;
        make_image(DATA_OFF + 0x100);
        refused(IMAGE_SIZE - 1, "truncated");
        refused(DATA_OFF + 0x200, "truncated"); /* the marker is there, the rest is not */
        refused(sizeof(Elf64_Ehdr) + 10, "truncated");
        refused(40, "truncated");
        /* Section headers past the end. */
        make_image(DATA_OFF + 0x100);
        ((Elf64_Ehdr *) img)->e_shoff = IMAGE_SIZE - 64;
        ((Elf64_Ehdr *) img)->e_shentsize = sizeof(Elf64_Shdr);
        ((Elf64_Ehdr *) img)->e_shnum = 2;
        refused(IMAGE_SIZE, "truncated");
}

static void test_dynamically_linked(void **state) {
        Elf64_Phdr *ph = (Elf64_Phdr *) (img + sizeof(Elf64_Ehdr));
        (void) state;
        make_image(DATA_OFF + 0x100);
        ((Elf64_Ehdr *) img)->e_phnum = 3;
        ph[2] = (Elf64_Phdr) { .p_type = PT_INTERP, .p_flags = PF_R, .p_offset = 0x200, .p_filesz = 28 };
        memcpy(img + 0x200, "/lib64/ld-linux-x86-64.so.2", 28);
        refused(IMAGE_SIZE, "dynamically linked");
}

static void test_not_initshim(void **state) {
        Elf64_Phdr *ph = (Elf64_Phdr *) (img + sizeof(Elf64_Ehdr));
        (void) state;
        make_image(0);
        refused(IMAGE_SIZE, "not initshim");
        /* A marker outside the writable data is not initshim's (a string
         * that mentions it, in another program's text). */
        make_image(0x400);
        refused(IMAGE_SIZE, "not initshim");
        make_image(DATA_OFF + 0x100);
        ph[1].p_flags = PF_R;
        refused(IMAGE_SIZE, "not initshim");
}

/* The real ones: this test binary links glibc dynamically; the build's
 * initshim (when `make unit` runs after `make all`) is accepted. */
static void test_real_binaries(void **state) {
        char build[INITSHIM_BUILD_MARKER_SIZE], why[192];
        int fd;
        (void) state;
        fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(initshim_check_image(fd, build, sizeof build, why, sizeof why), -ENOEXEC);
        assert_non_null(strstr(why, "dynamically linked"));
        close(fd);
        fd = open("build/initshim", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                skip();
        if (initshim_check_image(fd, build, sizeof build, why, sizeof why) != 0)
                fail_msg("build/initshim refused: %s", why);
        assert_true(strncmp(build, INITSHIM_VERSION " (", strlen(INITSHIM_VERSION) + 2) == 0);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_complete_static_initshim),
                cmocka_unit_test(test_not_elf),
                cmocka_unit_test(test_other_machine),
                cmocka_unit_test(test_not_executable),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_dynamically_linked),
                cmocka_unit_test(test_not_initshim),
                cmocka_unit_test(test_real_binaries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
