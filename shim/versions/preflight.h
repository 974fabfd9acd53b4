/* Checks a systemd binary before initshim runs it on request:
 * regular file, root-owned, not writable by group or others, an ELF for this
 * machine whose loader passes the same checks, `PATH --version` exits 0
 * within a timeout (one deadline for the output and the exit) and its first
 * line identifies systemd; from 255 on, the systemd-executor it will run
 * passes the same checks and says the same version (versions/bundle.h).
 * Paths that are not regular files are refused without being opened (a FIFO
 * would block). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define PREFLIGHT_TIMEOUT_MS 5000
/* The most one preflight_run() takes: two runs of `--version` (the binary,
 * then its systemd-executor), each with its deadline and a bounded reap
 * after SIGKILL, and a margin. A worker running one is killed after this. */
#define PREFLIGHT_WORKER_MS (2 * PREFLIGHT_TIMEOUT_MS + 3000)

/* Static checks only (no process is started). 0 or -errno, reason in why. */
int preflight_file(const char *path, char *why, size_t whylen);
/* Pure: is this ELF header (at least 20 bytes) for the machine we run on? */
int preflight_elf_header(const unsigned char *hdr, size_t len, char *why, size_t whylen);
/* Pure: does this first line of `--version` identify systemd ("systemd NNN"
 * followed by the end or a blank)? 0 and its number, or -ENOEXEC and why. */
int preflight_identify(const char *first_line, unsigned *number, char *why, size_t whylen);
/* Runs `path --version` (stdout only, its own process group): 0 and its
 * first line when it exits 0 within timeout_ms, else -errno and why. Waits
 * (bounded, as preflight_run): from a worker only. */
int preflight_version_line(const char *path, uint64_t timeout_ms, char *line, size_t n, char *why, size_t whylen);
/* Static checks, then run `path --version`; its first line goes to version.
 * Reaps its own child with waitpid(pid) and never waits past timeout_ms
 * (plus 1 s after a SIGKILL), but it does wait: PID 1 and the guard call it
 * only from a worker process (versions/worker.h), never in their main loop. */
int preflight_run(const char *path, uint64_t timeout_ms, char *version, size_t vlen, char *why, size_t whylen);

/* A worker_fn (versions/worker.h): preflight_run(path) as text. */
size_t preflight_work(const void *path, char *out, size_t n);
/* Back from that text (and whether the worker was killed at its deadline):
 * 0 and the version, or -errno and why. */
int preflight_result(const char *result, bool timed_out, char *version, size_t vlen, char *why, size_t whylen);

/* A passed preflight is remembered (static storage, nothing allocated) by
 * what identifies the file and its content: device, inode, size, mode,
 * owner, group, mtime and ctime (any write, chmod, chown or replacement
 * changes one of them), and the same of the systemd-executor beside it (a
 * bundle's, or 255+'s own at the compile-time path), which preflight also
 * ran. A later check of the same pair skips `--version`; any difference
 * runs it again. */
struct preflight_file_id {
        dev_t dev;
        ino_t ino;
        off_t size;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        struct timespec mtime, ctime;
};
struct preflight_id {
        struct preflight_file_id binary;
        /* All zero with executor_errno set when no executor is beside it. */
        struct preflight_file_id executor;
        int executor_errno;
};
#define PREFLIGHT_CACHE_SLOTS 8
/* The identity of the binary PATH, whose stat() is st, and of the
 * systemd-executor beside PATH (stat()ed here). */
void preflight_id_of(const struct stat *st, const char *path, struct preflight_id *id);
bool preflight_id_equal(const struct preflight_id *a, const struct preflight_id *b);
/* Remember that the file identified by id passed with this version line
 * (the oldest of PREFLIGHT_CACHE_SLOTS is forgotten). */
void preflight_cache_put(const struct preflight_id *id, const char *version);
/* The version line of a remembered pass of exactly this file, or false. */
bool preflight_cache_get(const struct preflight_id *id, char *version, size_t vlen);
void preflight_cache_clear(void);
