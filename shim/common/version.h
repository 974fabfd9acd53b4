/* initshim's version and build, as every process of it reports them.
 *
 * The build tells apart two builds of one version: `git describe --always
 * --dirty` of the tree built (INITSHIM_BUILD_ID, set by the Makefile), or
 * "unknown" outside git. It lives in a fixed-size, NUL-padded marker
 * ("initshim-build=0.1 (g1234abc)") that initshimctl finds in a binary
 * without running it, and that tests patch in a copy to make a "build B". */
#pragma once
#include <stddef.h>

#define INITSHIM_VERSION "0.1"
#define INITSHIM_BUILD_MARKER "initshim-build="
#define INITSHIM_BUILD_MARKER_SIZE 96

/* "0.1 (g1234abc)": this binary's version and build. */
const char *initshim_build(void);
/* Our build into path (/run/initshim/guard-version, pid1-version): what
 * status compares with the installed binary. Logged if it cannot be written. */
void initshim_publish_build(const char *path);
/* The same string read from the binary at path (not run): 0, -ENOENT if it
 * has no marker, or another negative errno. Reads the file: not for the
 * main loops of PID 1 or the guard. */
int initshim_build_of_file(const char *path, char *buf, size_t n);
/* The installed binary a live upgrade moves to: $INITSHIM_BIN (absolute)
 * or /sbin/initshim. */
const char *initshim_installed_path(void);
/* May PID 1 or the guard become path (a live upgrade)? It must be a
 * root-owned regular file only root can write, executable, and a complete
 * static initshim for this machine (initshim_check_image). 0 with its build
 * ("0.1 (g1234abc)") in build, or a negative errno and why ("PATH is ...").
 * stat() before open(), then bounded preads: never blocks on a FIFO. */
int initshim_check_binary(const char *path, char *build, size_t bn, char *why, size_t n);
/* The same on an open file: a 64-bit ELF executable for this machine, not
 * shorter than its ELF headers describe, without PT_INTERP (static), whose
 * writable data holds an initshim build marker. 0 and the build, or a
 * negative errno and why (an adjective phrase: "truncated (...)"). Reads at
 * most its headers and its data segment, a few KiB at a time. */
int initshim_check_image(int fd, char *build, size_t bn, char *why, size_t n);
