/* Checks a systemd binary before initshim runs it on request:
 * regular file, root-owned, not writable by group or others, an ELF for this
 * machine, and `PATH --version` exits 0 within a timeout. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define PREFLIGHT_TIMEOUT_MS 5000

/* Static checks only (no process is started). 0 or -errno, reason in why. */
int preflight_file(const char *path, char *why, size_t whylen);
/* Pure: is this ELF header (at least 20 bytes) for the machine we run on? */
int preflight_elf_header(const unsigned char *hdr, size_t len, char *why, size_t whylen);
/* Static checks, then run `path --version`; its first line goes to version.
 * Reaps its own child with waitpid(pid), so it is safe inside PID 1. */
int preflight_run(const char *path, uint64_t timeout_ms, char *version, size_t vlen, char *why, size_t whylen);
