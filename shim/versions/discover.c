/* Discovery of adoptable services (discover.h). Runs in a worker child:
 * it may allocate (opendir), but every error only leaves a unit out. */
#include "versions/discover.h"
#include "versions/serialize.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define PROCS_MAX 64

int adopt_parse_stat(const char *text, char *state, long *ppid, unsigned long long *start_ticks) {
        const char *p = text ? strrchr(text, ')') : NULL;
        char *end;

        if (!p || p[1] != ' ' || !p[2])
                return -EINVAL;
        *state = p[2];
        p += 3;
        /* Fields 4 (ppid) to 22 (starttime), blank-separated numbers. */
        for (int field = 4; field <= 22; field++) {
                while (*p == ' ')
                        p++;
                errno = 0;
                long long v = strtoll(p, &end, 10);
                if (end == p || errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
                        return -EINVAL;
                if (field == 4)
                        *ppid = (long) v;
                if (field == 22) {
                        if (v < 0)
                                return -EINVAL;
                        *start_ticks = (unsigned long long) v;
                }
                p = end;
        }
        return 0;
}

static int read_stat(pid_t pid, char *state, long *ppid, unsigned long long *start) {
        char path[64], text[1024];

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        if (read_file(path, text, sizeof text) < 0)
                return -ESRCH;
        return adopt_parse_stat(text, state, ppid, start);
}

pid_t adopt_pick_main_pid(const pid_t *pids, size_t n, unsigned long long *start_ticks, const char **why) {
        pid_t best = 0;
        unsigned long long best_start = 0, start;
        unsigned live = 0;
        char state;
        long ppid;

        for (size_t i = 0; i < n; i++) {
                if (read_stat(pids[i], &state, &ppid, &start) < 0 || state == 'Z' || state == 'X')
                        continue;
                live++;
                if (ppid == 1 && (!best || start < best_start)) {
                        best = pids[i];
                        best_start = start;
                }
        }
        if (live == 0) {
                *why = "no live process in the unit's own cgroup";
                return -ESRCH;
        }
        if (!best) {
                *why = "no process of the unit is a child of PID 1";
                return -ESRCH;
        }
        *start_ticks = best_start;
        return best;
}

struct disc {
        char *out;
        size_t n, len;
        bool overflow;
        long ticks_per_s;
};

static void emit(struct disc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct disc *d, const char *fmt, ...) {
        va_list ap;
        int l;

        if (d->overflow)
                return;
        va_start(ap, fmt);
        l = vsnprintf(d->out + d->len, d->n - d->len, fmt, ap);
        va_end(ap);
        if (l < 0 || (size_t) l >= d->n - d->len)
                d->overflow = true;
        else
                d->len += (size_t) l;
}

/* cgroup.procs into pids; -E2BIG past PROCS_MAX (too busy to be sure). */
static int read_procs(const char *dir, pid_t *pids, size_t *n) {
        char path[512], text[PROCS_MAX * 12];
        ssize_t l;

        snprintf(path, sizeof path, "%s/cgroup.procs", dir);
        l = read_file(path, text, sizeof text);
        if (l < 0)
                return (int) l;
        if ((size_t) l >= sizeof text - 1)
                return -E2BIG;
        *n = 0;
        for (char *p = text, *end; *p; p = end) {
                long v = strtol(p, &end, 10);
                if (end == p || v <= 0 || v > INT32_MAX || *n == PROCS_MAX)
                        return -EINVAL;
                pids[(*n)++] = (pid_t) v;
                while (*end == '\n')
                        end++;
        }
        return 0;
}

static int read_invocation(const char *dir, char id[ADOPT_INVOCATION_LEN + 1]) {
        ssize_t l = getxattr(dir, "trusted.invocation_id", id, ADOPT_INVOCATION_LEN);

        if (l != ADOPT_INVOCATION_LEN)
                l = getxattr(dir, "user.invocation_id", id, ADOPT_INVOCATION_LEN);
        if (l != ADOPT_INVOCATION_LEN)
                return -ENODATA;
        id[ADOPT_INVOCATION_LEN] = '\0';
        return 0;
}

static void service(struct disc *d, const char *dir, const char *cgroup, const char *name) {
        pid_t pids[PROCS_MAX], main_pid;
        size_t n = 0;
        unsigned long long start = 0;
        char id[ADOPT_INVOCATION_LEN + 1];
        const char *why = NULL;
        int r = read_procs(dir, pids, &n);

        if (r < 0)
                why = r == -E2BIG || r == -EINVAL ? "too many processes to be sure" : "cgroup.procs unreadable";
        else if (n == 0)
                why = "no process in the unit's own cgroup";
        else if (read_invocation(dir, id) < 0)
                why = "no invocation id on its cgroup";
        else if ((main_pid = adopt_pick_main_pid(pids, n, &start, &why)) > 0) {
                emit(d, "service %s %s %d %llu %s\n", name, cgroup, (int) main_pid,
                     start * 1000000ULL / (unsigned long long) d->ticks_per_s, id);
                return;
        }
        emit(d, "skip %s %s\n", name, why);
}

/* dir (path on disk) is the cgroup at cgroup (path in the hierarchy). */
static void walk(struct disc *d, const char *dir, const char *cgroup, unsigned depth) {
        DIR *dp = depth < 8 ? opendir(dir) : NULL;
        struct dirent *e;
        char sub[512], subcg[ADOPT_CGROUP_MAX];

        if (!dp)
                return;
        while ((e = readdir(dp))) {
                bool is_slice = adopt_unit_name_valid(e->d_name, ADOPT_SLICE);
                bool is_service = adopt_unit_name_valid(e->d_name, ADOPT_SERVICE);
                if ((!is_slice && !is_service) || e->d_type != DT_DIR)
                        continue;
                if ((size_t) snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= sizeof sub ||
                    (size_t) snprintf(subcg, sizeof subcg, "%s/%s", cgroup, e->d_name) >= sizeof subcg) {
                        emit(d, "skip %s path too long\n", e->d_name);
                        continue;
                }
                if (is_service)
                        service(d, sub, subcg, e->d_name);
                else {
                        emit(d, "slice %s %s\n", e->d_name, subcg);
                        walk(d, sub, subcg, depth + 1);
                }
        }
        closedir(dp);
}

int adopt_discover(const char *root, char *out, size_t n) {
        struct disc d = { out, n, 0, false, sysconf(_SC_CLK_TCK) };
        char top[512], probe[512];
        struct stat st;

        if (n == 0)
                return -ENOBUFS;
        out[0] = '\0';
        if (d.ticks_per_s <= 0)
                return -EINVAL;
        /* cgroup v2 only: on v1 the xattr and the procs live elsewhere. */
        snprintf(probe, sizeof probe, "%s/cgroup.controllers", root);
        if (stat(probe, &st) < 0)
                return -EOPNOTSUPP;
        snprintf(top, sizeof top, "%s/system.slice", root);
        if (stat(top, &st) < 0)
                return -errno;
        emit(&d, "slice system.slice /system.slice\n");
        walk(&d, top, "/system.slice", 0);
        if (d.overflow) {
                out[0] = '\0';
                return -ENOBUFS;
        }
        return (int) d.len;
}
