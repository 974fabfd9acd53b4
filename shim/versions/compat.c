#include "versions/compat.h"
#include "common/util.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

int compat_systemd_major(const char *version_line, unsigned *major) {
        const char *p;
        char *end;
        unsigned long v;

        if (!version_line || strncmp(version_line, "systemd ", 8) != 0)
                return -EINVAL;
        p = version_line + 8;
        if (*p < '0' || *p > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(p, &end, 10);
        if (errno != 0 || v == 0 || v > 9999 || (*end != '\0' && *end != ' ' && *end != '\n'))
                return -EINVAL;
        *major = (unsigned) v;
        return 0;
}

enum cgroup_mount compat_cgroup_mount_from_magic(long root_type, long unified_type) {
        if (root_type == CGROUP2_SUPER_MAGIC)
                return CGROUP_MOUNT_UNIFIED;
        if (root_type != TMPFS_MAGIC)
                return CGROUP_MOUNT_UNKNOWN;
        return unified_type == CGROUP2_SUPER_MAGIC ? CGROUP_MOUNT_HYBRID : CGROUP_MOUNT_LEGACY;
}

const char *compat_cgroup_mount_name(enum cgroup_mount m) {
        switch (m) {
        case CGROUP_MOUNT_UNIFIED:
                return "unified (cgroup v2)";
        case CGROUP_MOUNT_HYBRID:
                return "hybrid (cgroup v1 + v2)";
        case CGROUP_MOUNT_LEGACY:
                return "legacy (cgroup v1)";
        case CGROUP_MOUNT_UNKNOWN:
                break;
        }
        return "unknown";
}

int compat_cgroup_allows(unsigned major, enum cgroup_mount m, char *why, size_t whylen) {
        if (major < COMPAT_CGROUP_V1_GONE || (m != CGROUP_MOUNT_LEGACY && m != CGROUP_MOUNT_HYBRID))
                return 0;
        snprintf(why, whylen,
                 "systemd %u needs the unified cgroup hierarchy (v1 removed in %u), /sys/fs/cgroup is %s",
                 major, COMPAT_CGROUP_V1_GONE, compat_cgroup_mount_name(m));
        return -EOPNOTSUPP;
}

enum cgroup_mount compat_cgroup_mount_detect(void) {
        struct statfs root, unified;

        if (statfs("/sys/fs/cgroup", &root) < 0)
                return CGROUP_MOUNT_UNKNOWN;
        if (statfs("/sys/fs/cgroup/unified", &unified) < 0)
                unified.f_type = 0;
        return compat_cgroup_mount_from_magic((long) root.f_type, (long) unified.f_type);
}

int compat_check_cgroup(const char *version_line, char *why, size_t whylen) {
        unsigned major;

        if (compat_systemd_major(version_line, &major) < 0)
                return 0;
        return compat_cgroup_allows(major, compat_cgroup_mount_detect(), why, whylen);
}

/* -1 unset, 0 a false boolean, 1 anything else (yes, exec, ...). */
static int restrict_value(const char *v, size_t len) {
        char buf[16];
        bool b;

        if (len == 0 || len >= sizeof buf)
                return len == 0 ? 0 : 1;
        memcpy(buf, v, len);
        buf[len] = '\0';
        if (parse_bool(buf, &b) == 0)
                return b ? 1 : 0;
        return 1;
}

/* The last "systemd.restrict_filesystem_access[=V]" word of the command line. */
static int cmdline_restrict(const char *cmdline) {
        static const char key[] = "systemd.restrict_filesystem_access";
        const char *p = cmdline;
        int r = -1;

        while (p && *p) {
                size_t len;
                p += strspn(p, " \t\n");
                len = strcspn(p, " \t\n");
                if (len >= sizeof key - 1 && strncmp(p, key, sizeof key - 1) == 0) {
                        if (len == sizeof key - 1)
                                r = 1;
                        else if (p[sizeof key - 1] == '=')
                                r = restrict_value(p + sizeof key, len - sizeof key);
                }
                p += len;
        }
        return r;
}

/* The last RestrictFileSystemAccess= of section [Manager]. */
static int conf_restrict(const char *conf) {
        static const char key[] = "RestrictFileSystemAccess=";
        const char *p = conf;
        bool manager = false;
        int r = -1;

        while (p && *p) {
                size_t len = strcspn(p, "\n");
                const char *l = p;
                size_t n;

                p += len + (p[len] == '\n');
                while (len > 0 && (*l == ' ' || *l == '\t'))
                        l++, len--;
                while (len > 0 && (l[len - 1] == ' ' || l[len - 1] == '\t' || l[len - 1] == '\r'))
                        len--;
                if (len > 0 && l[0] == '[')
                        manager = len == 9 && strncmp(l, "[Manager]", 9) == 0;
                else if (manager && len >= sizeof key - 1 && strncmp(l, key, sizeof key - 1) == 0) {
                        n = len - (sizeof key - 1);
                        r = restrict_value(l + sizeof key - 1, n);
                }
        }
        return r;
}

int compat_restrict_fsaccess(const char *kernel_cmdline, const char *system_conf) {
        int r = cmdline_restrict(kernel_cmdline);

        return r >= 0 ? r : conf_restrict(system_conf);
}

void compat_attach_eperm_why(int yama_scope, bool bpf_lsm, int restrict_fsaccess, char *why, size_t whylen) {
        if (restrict_fsaccess > 0)
                snprintf(why, whylen, "systemd's RestrictFileSystemAccess= (v261+) is on: its BPF LSM "
                                      "denies ptrace of PID 1 to everyone");
        else if (yama_scope == 3)
                snprintf(why, whylen, "Yama ptrace_scope=3 forbids every ptrace attach");
        else if (bpf_lsm && restrict_fsaccess < 0)
                snprintf(why, whylen, "an LSM forbids it (a BPF LSM is active: systemd 261+'s "
                                      "RestrictFileSystemAccess= set elsewhere than system.conf?)");
        else
                snprintf(why, whylen, "an LSM forbids it");
}

/* "bpf" in the comma-separated list of /sys/kernel/security/lsm. */
static bool lsm_has_bpf(const char *list) {
        const char *p = list;

        while (*p) {
                size_t len = strcspn(p, ",\n");
                if (len == 3 && strncmp(p, "bpf", 3) == 0)
                        return true;
                p += len;
                p += strspn(p, ",\n");
        }
        return false;
}

void compat_attach_eperm_explain(char *why, size_t whylen) {
        char cmdline[4096], conf[8192], lsm[256], yama[16];
        int yama_scope = -1;

        if (read_first_line("/proc/sys/kernel/yama/ptrace_scope", yama, sizeof yama) > 0)
                yama_scope = yama[0] >= '0' && yama[0] <= '3' && yama[1] == '\0' ? yama[0] - '0' : -1;
        if (read_file("/sys/kernel/security/lsm", lsm, sizeof lsm) < 0)
                lsm[0] = '\0';
        if (read_file("/proc/cmdline", cmdline, sizeof cmdline) < 0)
                cmdline[0] = '\0';
        if (read_file("/etc/systemd/system.conf", conf, sizeof conf) < 0)
                conf[0] = '\0';
        compat_attach_eperm_why(yama_scope, lsm_has_bpf(lsm), compat_restrict_fsaccess(cmdline, conf), why, whylen);
}
