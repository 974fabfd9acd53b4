/* Version bundles (docs/versions.md): a directory holding a systemd binary,
 * its systemd-executor, their private libraries and maybe their own loader,
 * both binaries with the RUNPATH "$ORIGIN/..." (tools/make-bundle).
 *
 * systemd 255+ runs every unit through systemd-executor and will not start
 * without one. Which one it pins (src/basic/build-path.c,
 * pin_callout_binary(), 257 and 262): $SYSTEMD_EXECUTOR_PATH if set, else
 * the one beside /proc/self/exe when the binary's RUNPATH starts with
 * "$ORIGIN/" and that file opens, else the compile-time path. Preflight
 * checks the one it will pin: present, the same file checks as the binary,
 * `--version` answering the same major version. A systemd-executor beside
 * the binary marks a bundle.
 *
 * The ELF reading is a pure function over a read callback (fuzzed:
 * tests/fuzz/fuzz_elf_paths.c); the checks run in preflight's worker. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* The first systemd that needs systemd-executor. */
#define BUNDLE_EXECUTOR_SINCE 255
/* Debian's and upstream's compile-time path (LIBEXECDIR/systemd-executor). */
#define BUNDLE_EXECUTOR_DEFAULT "/usr/lib/systemd/systemd-executor"
#define BUNDLE_EXECUTOR_NAME "systemd-executor"

struct elf_paths {
        char interp[256];  /* PT_INTERP, "" if none (static) */
        char runpath[256]; /* DT_RUNPATH, else DT_RPATH, "" if none */
};

/* Reads exactly n bytes at off into buf: 0, or -errno (-EIO when short). */
typedef int (*elf_read_fn)(void *ctx, void *buf, size_t n, uint64_t off);

/* Pure: the loader and library search path of a 64-bit little-endian ELF
 * read through rd. 0, or -ENOEXEC / the reader's error with why. Bounded:
 * at most 64 program headers and 1024 dynamic entries are looked at. */
int bundle_elf_paths(elf_read_fn rd, void *ctx, struct elf_paths *p, char *why, size_t whylen);

/* Pure: does systemd look for its executor beside itself (RUNPATH "$ORIGIN/...")? */
int bundle_runpath_is_origin(const char *runpath);
/* Pure: DIR/systemd-executor for BINARY's directory. -ENAMETOOLONG, -EINVAL. */
int bundle_executor_beside(const char *binary, char *out, size_t n);

/* The ELF of PATH (a regular file) read from disk, and its loader checked:
 * present and passing preflight_file(). 0 or -errno with why. */
int bundle_check_elf(const char *path, struct elf_paths *p, char *why, size_t whylen);

/* For systemd PATH of major version MAJOR with RUNPATH runpath: the
 * executor it will pin is present, passes the file and loader checks, and
 * `--version` within timeout_ms says "systemd MAJOR". Nothing below
 * BUNDLE_EXECUTOR_SINCE. Waits (bounded): from a worker only. */
int bundle_check_executor(const char *path, unsigned major, const char *runpath, uint64_t timeout_ms, char *why,
                          size_t whylen);
