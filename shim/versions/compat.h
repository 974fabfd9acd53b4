/* What a systemd version needs from the machine it runs on, and why the
 * guard may be refused: facts of systemd 255 to 262 (docs/versions.md).
 * The decisions are pure functions; the *_detect and *_explain functions
 * read the few files they need into stack buffers (no allocation), so the
 * guard and PID 1 may call them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* systemd 258 removed cgroup v1: on a legacy or hybrid mount its PID 1
 * refuses to start and freezes. */
#define COMPAT_CGROUP_V1_GONE 258

enum cgroup_mount {
        CGROUP_MOUNT_UNKNOWN,
        CGROUP_MOUNT_UNIFIED, /* cgroup2 on /sys/fs/cgroup */
        CGROUP_MOUNT_HYBRID,  /* tmpfs of v1 controllers, cgroup2 on /sys/fs/cgroup/unified */
        CGROUP_MOUNT_LEGACY,  /* tmpfs of v1 controllers only */
};

/* Pure: the major version out of `systemd --version`'s first line,
 * "systemd 257 (257.13-1~deb13u1)". 0 or -EINVAL. */
int compat_systemd_major(const char *version_line, unsigned *major);

/* Pure: the mount type from statfs(2)'s f_type of /sys/fs/cgroup and of
 * /sys/fs/cgroup/unified (0 when that does not exist). */
enum cgroup_mount compat_cgroup_mount_from_magic(long root_type, long unified_type);
const char *compat_cgroup_mount_name(enum cgroup_mount m);

/* Pure: can systemd MAJOR be PID 1 on this mount? 0, or -EOPNOTSUPP with
 * the reason in why. An unknown mount is not a reason to refuse. */
int compat_cgroup_allows(unsigned major, enum cgroup_mount m, char *why, size_t whylen);

/* statfs of /sys/fs/cgroup (and .../unified). */
enum cgroup_mount compat_cgroup_mount_detect(void);

/* The preflight hook: the candidate's `--version` line against the mounted
 * hierarchy. 0, or -EOPNOTSUPP with the reason in why. A line that names
 * no version passes (other checks judge it). */
int compat_check_cgroup(const char *version_line, char *why, size_t whylen);

/* systemd 261+'s RestrictFileSystemAccess= (a BPF LSM that denies ptrace
 * of PID 1): 1 on, 0 off, -1 not set. Pure; the kernel command line's
 * systemd.restrict_filesystem_access= wins over system.conf's [Manager]
 * RestrictFileSystemAccess=, as in systemd. Either text may be NULL. */
int compat_restrict_fsaccess(const char *kernel_cmdline, const char *system_conf);

/* Pure: why PTRACE_SEIZE of PID 1 failed with EPERM, most specific first:
 * yama_scope is /proc/sys/kernel/yama/ptrace_scope (-1 if absent),
 * bpf_lsm whether "bpf" is in /sys/kernel/security/lsm, restrict_fsaccess
 * as compat_restrict_fsaccess returns it. Writes a short clause to why. */
void compat_attach_eperm_why(int yama_scope, bool bpf_lsm, int restrict_fsaccess, char *why, size_t whylen);

/* compat_attach_eperm_why on this machine's files (/proc/sys/kernel/yama/
 * ptrace_scope, /sys/kernel/security/lsm, /proc/cmdline,
 * /etc/systemd/system.conf). */
void compat_attach_eperm_explain(char *why, size_t whylen);
