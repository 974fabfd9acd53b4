#include "common/cgroup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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

static int move_pid(const char *root, pid_t who) {
        char dir[128], procs[160], pid[24];
        int fd, r;

        snprintf(dir, sizeof dir, "%s/initshim", root);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
        fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int l = snprintf(pid, sizeof pid, "%d\n", (int) who);
        r = write_all(fd, pid, (size_t) l);
        close(fd);
        return r;
}

int cgroup_escape_pid1_pid(pid_t who) {
        char mine[256], pid1[256];
        int r = 0;

        if (cgroup_of(who, mine, sizeof mine) < 0 || cgroup_of(1, pid1, sizeof pid1) < 0)
                return -ENOENT;
        /* Only out of systemd's init.scope: anywhere else PID 1's cgroup is
         * not ours to rearrange (a test namespace, a container's parent). */
        if (strcmp(mine, pid1) != 0 || strcmp(pid1, "/init.scope") != 0)
                return 0;
        if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
                return move_pid("/sys/fs/cgroup", who);
        /* Hybrid or legacy: where systemd tracks us, and the freezer. */
        if (access("/sys/fs/cgroup/systemd/cgroup.procs", F_OK) == 0)
                r = move_pid("/sys/fs/cgroup/systemd", who);
        if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0)
                (void) move_pid("/sys/fs/cgroup/unified", who);
        if (access("/sys/fs/cgroup/freezer/cgroup.procs", F_OK) == 0)
                (void) move_pid("/sys/fs/cgroup/freezer", who);
        return r;
}

int cgroup_escape_pid1(void) {
        return cgroup_escape_pid1_pid(getpid());
}
