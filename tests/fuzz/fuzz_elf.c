/* The ELF check of a candidate systemd (shim/versions/preflight.c
 * preflight_elf_header()): the first bytes of whatever file a
 * `initshimctl guard switch` or the configuration names. preflight_file()
 * hands it what pread() returned of the first 64 bytes; here it gets any
 * length, in a block of exactly that size. */
#include "fuzz.h"
#include "versions/preflight.h"

#include <elf.h>
#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        unsigned char *hdr = (unsigned char *) fuzz_copy(data, size, 0);
        char why[128], tiny[4];
        int r = preflight_elf_header(hdr, size, why, sizeof why);

        FUZZ_ASSERT(r == 0 || r == -ENOEXEC);
        if (r == 0) {
                /* Only a 64-bit little-endian ELF for this machine passes. */
                uint16_t machine;
                FUZZ_ASSERT(size >= 20 && memcmp(hdr, ELFMAG, SELFMAG) == 0);
                FUZZ_ASSERT(hdr[EI_CLASS] == ELFCLASS64 && hdr[EI_DATA] == ELFDATA2LSB);
                memcpy(&machine, hdr + 18, sizeof machine);
#if defined(__x86_64__)
                FUZZ_ASSERT(machine == EM_X86_64);
#elif defined(__aarch64__)
                FUZZ_ASSERT(machine == EM_AARCH64);
#endif
        } else {
                FUZZ_ASSERT(fuzz_terminated(why, sizeof why) && why[0] != '\0');
        }
        /* The reason is cut, never overflowed, in a small buffer. */
        FUZZ_ASSERT(preflight_elf_header(hdr, size, tiny, sizeof tiny) == r);
        FUZZ_ASSERT(r == 0 || fuzz_terminated(tiny, sizeof tiny));
        free(hdr);
        return 0;
}
