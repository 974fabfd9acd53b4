/* ELF checks shared by the preflight of a systemd binary (versions/) and the
 * live upgrade's check of the installed initshim (common/version.c). */
#pragma once
#include <stddef.h>

/* Pure: is this ELF header (at least 20 bytes) a 64-bit little-endian ELF
 * for the machine we run on? 0, or -ENOEXEC and why. */
int elf_native_header(const unsigned char *hdr, size_t len, char *why, size_t whylen);
