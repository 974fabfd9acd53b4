#include "common/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#else
#error "unsupported architecture"
#endif

int elf_native_header(const unsigned char *hdr, size_t len, char *why, size_t whylen) {
        uint16_t machine;

        if (len < 20 || memcmp(hdr, ELFMAG, SELFMAG) != 0) {
                snprintf(why, whylen, "not an ELF binary");
                return -ENOEXEC;
        }
        if (hdr[EI_CLASS] != ELFCLASS64 || hdr[EI_DATA] != ELFDATA2LSB) {
                snprintf(why, whylen, "not a 64-bit little-endian ELF");
                return -ENOEXEC;
        }
        memcpy(&machine, hdr + 18, sizeof machine);
        if (machine != NATIVE_MACHINE) {
                snprintf(why, whylen, "an ELF binary for another machine (e_machine %u)", machine);
                return -ENOEXEC;
        }
        return 0;
}
