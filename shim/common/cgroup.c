#include "common/cgroup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

int cgroup_pick(const char *text, char *buf, size_t n) {
        const char *unified = NULL, *named = NULL, *p;
        size_t ul = 0, nl = 0, l;

        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);
                if (len > 3 && strncmp(line, "0::", 3) == 0)
                        unified = line + 3, ul = len - 3;
                else if ((p = memmem(line, len, ":name=systemd:", 14)))
                        named = p + 14, nl = len - (size_t) (p + 14 - line);
                line += len + (end ? 1 : 0);
        }
        /* Hybrid hosts leave every process at "/" in the unified tree. */
        if (unified && !(ul == 1 && unified[0] == '/'))
                p = unified, l = ul;
        else if (named)
                p = named, l = nl;
        else if (unified)
                p = unified, l = ul;
        else {
                buf[0] = '\0';
                return -ENOENT;
        }
        if (l >= n) {
                buf[0] = '\0';
                return -ENAMETOOLONG;
        }
        memcpy(buf, p, l);
        buf[l] = '\0';
        return 0;
}

int cgroup_of(pid_t pid, char *buf, size_t n) {
        char path[64], text[2048];

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        if (read_file(path, text, sizeof text) < 0) {
                buf[0] = '\0';
                return -ESRCH;
        }
        return cgroup_pick(text, buf, n);
}

static bool under(const char *path, const char *prefix, size_t plen) {
        /* path "/a/b/c" is under "a/b" and "/a/b", not under "a/bc". */
        if (path[0] == '/')
                path++;
        if (prefix[0] == '/')
                prefix++, plen--;
        while (plen > 0 && prefix[plen - 1] == '/')
                plen--;
        if (plen == 0)
                return false;
        return strncmp(path, prefix, plen) == 0 && (path[plen] == '\0' || path[plen] == '/');
}

bool cgroup_is_kept(const char *path, const char *keep_list) {
        if (under(path, "init.scope", 10))
                return true;
        for (const char *p = keep_list; *p;) {
                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                size_t l = strcspn(p, " \t,");
                if (l > 0 && under(path, p, l))
                        return true;
                p += l;
        }
        return false;
}

/* Pure: does line (len bytes) of /proc/PID/cgroup belong to hierarchy h? */
static bool line_is_hierarchy(const char *line, size_t len, enum cgroup_hierarchy h) {
        const char *ctl = memchr(line, ':', len), *end;

        if (!ctl)
                return false;
        ctl++;
        end = memchr(ctl, ':', len - (size_t) (ctl - line));
        if (!end)
                return false;
        if (h == CGROUP_UNIFIED)
                return strncmp(line, "0::", 3) == 0;
        if (h == CGROUP_NAMED_SYSTEMD)
                return end - ctl == 12 && strncmp(ctl, "name=systemd", 12) == 0;
        /* The freezer may share a hierarchy with other v1 controllers. */
        for (const char *p = ctl; p < end;) {
                size_t l = strcspn(p, ",:");
                if (l == 7 && strncmp(p, "freezer", 7) == 0)
                        return true;
                p += l + 1;
        }
        return false;
}

int cgroup_pick_hierarchy(const char *text, enum cgroup_hierarchy h, char *buf, size_t n) {
        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);
                const char *path = memchr(line, ':', len);
                if (path)
                        path = memchr(path + 1, ':', len - (size_t) (path + 1 - line));
                if (path && line_is_hierarchy(line, len, h)) {
                        size_t l = len - (size_t) (path + 1 - line);
                        if (l >= n) {
                                buf[0] = '\0';
                                return -ENAMETOOLONG;
                        }
                        memcpy(buf, path + 1, l);
                        buf[l] = '\0';
                        return 0;
                }
                line += len + (end ? 1 : 0);
        }
        buf[0] = '\0';
        return -ENOENT;
}

/* Kernel constants (include/linux/proc_ns.h): the initial namespaces. */
#define PROC_PID_INIT_INO 0xEFFFFFFCU
#define PROC_CGROUP_INIT_INO 0xEFFFFFFBU

static bool ns_is_initial(const char *path, unsigned long ino) {
        struct stat st;

        return stat(path, &st) == 0 && st.st_ino == ino;
}

/* Is a root cgroup ("/") PID 1's own to rearrange? On the host (the initial
 * PID namespace) and in a container with its own cgroup namespace, yes; a
 * mere PID namespace (a test) sees the host's root cgroup: not ours. */
static bool root_cgroup_is_ours(void) {
        return ns_is_initial("/proc/self/ns/pid", PROC_PID_INIT_INO) ||
               !ns_is_initial("/proc/self/ns/cgroup", PROC_CGROUP_INIT_INO);
}

bool cgroup_should_leave(const char *mine, const char *pid1, bool root_is_ours) {
        if (!mine[0] || strcmp(mine, pid1) != 0)
                return false;
        return strcmp(pid1, "/init.scope") == 0 || (strcmp(pid1, "/") == 0 && root_is_ours);
}

/* Before systemd runs nothing mounts cgroup2 (initshim mounts /proc, /dev,
 * /run only): a detached mount of our own reaches it without adding
 * anything to the mount table. Same single hierarchy, no options given. */
/* The new mount API's constants (linux/mount.h), which not every C library's
 * headers carry (musl's do not). */
enum {
        MOUNT_API_FSOPEN_CLOEXEC = 0x1,
        MOUNT_API_FSCONFIG_CMD_CREATE = 6,
        MOUNT_API_FSMOUNT_CLOEXEC = 0x1,
};

static int open_detached_cgroup2(void) {
#if defined(SYS_fsopen) && defined(SYS_fsconfig) && defined(SYS_fsmount)
        int fs = (int) syscall(SYS_fsopen, "cgroup2", MOUNT_API_FSOPEN_CLOEXEC), mnt;

        if (fs < 0)
                return -errno;
        if (syscall(SYS_fsconfig, fs, MOUNT_API_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                int r = -errno;
                close(fs);
                return r;
        }
        mnt = (int) syscall(SYS_fsmount, fs, MOUNT_API_FSMOUNT_CLOEXEC, 0);
        int r = mnt < 0 ? -errno : mnt;
        close(fs);
        return r;
#else
        return -ENOSYS;
#endif
}

static bool cgroup2_mounted(void) {
        static char mountinfo[65536];

        /* Unreadable: assume mounted, the cautious answer. */
        return read_file("/proc/self/mountinfo", mountinfo, sizeof mountinfo) < 0 || strstr(mountinfo, " - cgroup2 ");
}

static int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* The root of hierarchy h, as a directory fd; -errno if not reachable. */
static int open_hierarchy(enum cgroup_hierarchy h) {
        switch (h) {
        case CGROUP_UNIFIED:
                if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
                        return open_dir("/sys/fs/cgroup");
                if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0)
                        return open_dir("/sys/fs/cgroup/unified");
                /* /sys/fs/cgroup in use by v1 (legacy host): leave cgroup2 alone. */
                if (access("/sys/fs/cgroup/cgroup.procs", F_OK) == 0 ||
                    access("/sys/fs/cgroup/systemd/cgroup.procs", F_OK) == 0)
                        return -ENOENT;
                /* Mounted elsewhere: a mount of ours without options would
                 * reset its root options (nsdelegate...); leave it. */
                if (cgroup2_mounted())
                        return -ENOENT;
                return open_detached_cgroup2();
        case CGROUP_NAMED_SYSTEMD:
                return open_dir("/sys/fs/cgroup/systemd");
        case CGROUP_FREEZER:
                return open_dir("/sys/fs/cgroup/freezer");
        }
        return -EINVAL;
}

static int write_pid(int fd, pid_t pid) {
        char buf[24];
        int l = snprintf(buf, sizeof buf, "%d\n", (int) pid);

        return write_all(fd, buf, (size_t) l);
}

/* Our children go with us: those forked before we moved (the control
 * parser, a prober) would stay behind in PID 1's cgroup. */
static void move_children(int procs_fd) {
        char path[64], list[1024], *p, *end;
        ssize_t n;

        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int) getpid());
        n = read_file(path, list, sizeof list);
        for (p = list; n > 0 && *p;) {
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (pid > 1)
                        (void) write_pid(procs_fd, (pid_t) pid); /* ESRCH: gone meanwhile */
                p = end;
        }
}

/* Into "initshim" under the root of hierarchy h: ourselves, then our children
 * (anything we fork from now on is born there). */
static int move_into_own_cgroup(enum cgroup_hierarchy h) {
        int root = open_hierarchy(h), fd, r;

        if (root < 0)
                return root;
        if (mkdirat(root, "initshim", 0755) < 0 && errno != EEXIST) {
                r = -errno;
                close(root);
                return r;
        }
        fd = openat(root, "initshim/cgroup.procs", O_WRONLY | O_CLOEXEC);
        r = fd < 0 ? -errno : 0;
        close(root);
        if (r < 0)
                return r;
        r = write_pid(fd, getpid());
        if (r == 0)
                move_children(fd);
        close(fd);
        return r;
}

static int escape_hierarchy(enum cgroup_hierarchy h, bool root_is_ours) {
        char text[2048], mine[256], pid1[256];

        if (read_file("/proc/self/cgroup", text, sizeof text) < 0 ||
            cgroup_pick_hierarchy(text, h, mine, sizeof mine) < 0)
                return 0; /* not on this host */
        if (read_file("/proc/1/cgroup", text, sizeof text) < 0 ||
            cgroup_pick_hierarchy(text, h, pid1, sizeof pid1) < 0)
                return -ESRCH;
        if (!cgroup_should_leave(mine, pid1, root_is_ours))
                return 0;
        int r = move_into_own_cgroup(h);
        if (r == -ENOENT)
                return 0; /* that hierarchy is not in use (yet): nothing to leave */
        return r < 0 ? r : 1;
}

int cgroup_escape_pid1(unsigned *moved) {
        static const enum cgroup_hierarchy all[] = { CGROUP_UNIFIED, CGROUP_NAMED_SYSTEMD, CGROUP_FREEZER };
        bool ours = root_cgroup_is_ours();
        int r = 0;

        *moved = 0;
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                int k = escape_hierarchy(all[i], ours);
                if (k > 0)
                        *moved |= 1u << all[i];
                else if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

/* Pure: "frozen 1" among the lines of a cgroup.events. */
static bool events_say_frozen(const char *events) {
        for (const char *p = events; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, "frozen 1", 8) == 0)
                        return true;
        return false;
}

bool cgroup_is_frozen(pid_t pid) {
        char path[96], text[2048], cg[256], state[256];
        const char *root = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup"
                                                                                  : "/sys/fs/cgroup/unified";

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        if (read_file(path, text, sizeof text) < 0)
                return false;
        /* cgroup.freeze asked, or cgroup.events says it is done: either way
         * PID 1 cannot act on a signal until someone thaws it. */
        if (cgroup_pick_hierarchy(text, CGROUP_UNIFIED, cg, sizeof cg) == 0 && strcmp(cg, "/") != 0) {
                snprintf(state, sizeof state, "%s%s/cgroup.freeze", root, cg);
                if (read_file(state, state, sizeof state) > 0 && state[0] == '1')
                        return true;
                snprintf(state, sizeof state, "%s%s/cgroup.events", root, cg);
                if (read_file(state, state, sizeof state) > 0 && events_say_frozen(state))
                        return true;
        }
        if (cgroup_pick_hierarchy(text, CGROUP_FREEZER, cg, sizeof cg) == 0 && strcmp(cg, "/") != 0) {
                snprintf(state, sizeof state, "/sys/fs/cgroup/freezer%s/freezer.state", cg);
                if (read_file(state, state, sizeof state) > 0 && strncmp(state, "THAWED", 6) != 0)
                        return true;
        }
        return false;
}
