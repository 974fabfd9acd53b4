/* Discovery of adoptable services (discover.h). Runs in a worker child:
 * it may allocate (opendir), but every error only leaves a unit out. */
#include "versions/discover.h"
#include "versions/serialize.h"
#include "versions/sockets.h"
#include "versions/unitfile.h"
#include "common/util.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define PROCS_MAX 64
/* Sub-cgroups of a unit's cgroup looked into (a delegated subtree: 252's
 * udevd moves itself to .../systemd-udevd.service/udev, 257 starts it there
 * with DelegateSubgroup=udev): levels below the unit's, and how many. A
 * deeper or larger subtree is not adopted (not sure which is the main PID). */
#define SUBCG_DEPTH 3
#define SUBCG_MAX 16

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

/* /proc/PID/stat starttime (clock ticks since boot) in microseconds, the
 * unit of systemd's monotonic timestamps: one conversion for both users. */
static unsigned long long ticks_to_usec(unsigned long long ticks, long ticks_per_s) {
        return ticks * 1000000ULL / (unsigned long long) ticks_per_s;
}

int adopt_process_start_usec(pid_t pid, unsigned long long *usec) {
        long ticks_per_s = sysconf(_SC_CLK_TCK);
        unsigned long long ticks;
        char state;
        long ppid;
        int r;

        if (ticks_per_s <= 0)
                return -EINVAL;
        r = read_stat(pid, &state, &ppid, &ticks);
        if (r < 0)
                return r;
        *usec = ticks_to_usec(ticks, ticks_per_s);
        return 0;
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
                *why = "no live process in the unit's cgroup";
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
        const char *units_dir;
        const char *const *unit_dirs;
        struct text_out out;
        long ticks_per_s;
};

/* cgroup.procs appended to pids[*n...]; -E2BIG past PROCS_MAX in all (too
 * busy to be sure). */
static int read_procs(const char *dir, pid_t *pids, size_t *n) {
        char path[512], text[PROCS_MAX * 12];
        ssize_t l;

        if ((size_t) snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= sizeof path)
                return -ENAMETOOLONG;
        l = read_file(path, text, sizeof text);
        if (l < 0)
                return (int) l;
        if ((size_t) l >= sizeof text - 1)
                return -E2BIG;
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

/* The processes of the cgroup dir and of its sub-cgroups, depth levels
 * down at most, *subs counting the sub-cgroups seen: -E2BIG past
 * PROCS_MAX processes, SUBCG_MAX sub-cgroups or SUBCG_DEPTH levels. */
static int read_tree(const char *dir, unsigned depth, pid_t *pids, size_t *n, unsigned *subs) {
        char sub[512];
        struct dirent *e;
        DIR *dp;
        int r = read_procs(dir, pids, n);

        if (r < 0)
                return r;
        dp = opendir(dir);
        if (!dp)
                return -errno;
        while ((e = readdir(dp))) {
                if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (depth == SUBCG_DEPTH || ++*subs > SUBCG_MAX) {
                        r = -E2BIG;
                        break;
                }
                if ((size_t) snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= sizeof sub) {
                        r = -ENAMETOOLONG;
                        break;
                }
                r = read_tree(sub, depth + 1, pids, n, subs);
                if (r < 0)
                        break;
        }
        closedir(dp);
        return r;
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

/* systemd links UNITS_DIR/invocation:NAME when it starts a unit and
 * unlinks it when the unit becomes inactive or failed (unit.c
 * unit_export_state_files / unit_unlink_state_files, 252 and 257): without
 * it the unit was not running at the crash, whatever its cgroup holds (a
 * KillMode=process stray outlives its unit, invocation id and all). Its
 * existence is the test, not its target: 252 keeps the first id across a
 * Restart= (the unit never goes inactive and the link is not written
 * again) while the cgroup's xattr has the new one. */
static bool invocation_link(const struct disc *d, const char *name, char id[ADOPT_INVOCATION_LEN + 1]) {
        char path[512], target[ADOPT_INVOCATION_LEN + 2];
        ssize_t l;

        if ((size_t) snprintf(path, sizeof path, "%s/invocation:%s", d->units_dir, name) >= sizeof path)
                return false;
        l = readlink(path, target, sizeof target);
        if (l != ADOPT_INVOCATION_LEN)
                return false;
        memcpy(id, target, ADOPT_INVOCATION_LEN);
        id[ADOPT_INVOCATION_LEN] = '\0';
        return true;
}

int adopt_find_private(const char *dir, const char *name, const struct stat *seen, char *out, size_t n) {
        char sub[512];
        size_t k = strlen(name);
        DIR *dp = opendir(dir);
        struct dirent *e;
        struct stat st;
        unsigned found = 0;

        if (!dp)
                return -errno;
        while ((e = readdir(dp))) {
                /* systemd-private-BOOTID-NAME-XXXXXX, BOOTID 32 hex digits
                 * (namespace.c setup_one_tmp_dir) */
                const char *p = e->d_name;
                if (strncmp(p, "systemd-private-", 16) != 0 || strlen(p) != 16 + 32 + 1 + k + 1 + 6 ||
                    strspn(p + 16, "0123456789abcdef") != 32 || p[48] != '-' || strncmp(p + 49, name, k) != 0 ||
                    p[49 + k] != '-')
                        continue;
                if ((size_t) snprintf(sub, sizeof sub, "%s/%s/tmp", dir, e->d_name) >= sizeof sub ||
                    stat(sub, &st) < 0 || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino)
                        continue;
                found++;
                if ((size_t) snprintf(out, n, "%s/%s", dir, e->d_name) >= n)
                        found = 99;
        }
        closedir(dp);
        return found == 1 ? 0 : -ENOENT;
}

unsigned long long adopt_environ_watchdog_usec(const char *env, size_t len) {
        for (size_t i = 0; i < len;) {
                const char *v = env + i;
                size_t l = strnlen(v, len - i);
                if (l == len - i) /* not NUL-terminated: cut short, not sure */
                        return 0;
                if (l > 14 && strncmp(v, "WATCHDOG_USEC=", 14) == 0 && l < 14 + 21) {
                        char num[24], *end;
                        memcpy(num, v + 14, l - 14);
                        num[l - 14] = '\0';
                        errno = 0;
                        unsigned long long u = strtoull(num, &end, 10);
                        return num[0] >= '0' && num[0] <= '9' && !*end && errno == 0 ? u : 0;
                }
                i += l + 1;
        }
        return 0;
}

/* WatchdogSec= as systemd gave it to pid at its start, or 0. */
static unsigned long long watchdog_usec(pid_t pid) {
        static char env[32768];
        char path[64];
        ssize_t l;

        snprintf(path, sizeof path, "/proc/%d/environ", (int) pid);
        l = read_file(path, env, sizeof env);
        return l > 0 ? adopt_environ_watchdog_usec(env, (size_t) l) : 0;
}

/* The PrivateTmp= directories of pid into u->tmp_dir, u->var_tmp_dir, or
 * both empty: the process's /tmp and /var/tmp must each be exactly one
 * systemd-private-*-NAME-* directory's tmp/, by device and inode. */
static void find_private(pid_t pid, const char *name, char *tmp, char *var_tmp, size_t n) {
        char path[64];
        struct stat mine, host;

        tmp[0] = var_tmp[0] = '\0';
        snprintf(path, sizeof path, "/proc/%d/root/tmp", (int) pid);
        if (stat(path, &mine) < 0 || stat("/tmp", &host) < 0 ||
            (mine.st_dev == host.st_dev && mine.st_ino == host.st_ino) ||
            adopt_find_private("/tmp", name, &mine, tmp, n) < 0)
                goto none;
        snprintf(path, sizeof path, "/proc/%d/root/var/tmp", (int) pid);
        if (stat(path, &mine) < 0 || adopt_find_private("/var/tmp", name, &mine, var_tmp, n) < 0)
                goto none;
        return;
none:
        tmp[0] = var_tmp[0] = '\0';
}

/* What every unit adopted with its processes must have: processes in its
 * cgroup or sub-cgroups (into pids, *n), an invocation id (into id), its
 * invocation link. NULL, or why not. The invocation id, the cgroup systemd
 * is given and the link stay the unit's own. */
static const char *running_unit(const struct disc *d, const char *dir, const char *name, pid_t *pids, size_t *n,
                                char id[ADOPT_INVOCATION_LEN + 1]) {
        char linked[ADOPT_INVOCATION_LEN + 1];
        unsigned subs = 0;
        int r = read_tree(dir, 0, pids, n, &subs);

        if (r < 0)
                return r == -E2BIG || r == -EINVAL ? "too many processes or sub-cgroups to be sure"
                                                   : "cgroup.procs unreadable";
        if (*n == 0)
                return "no process in the unit's cgroup or its sub-cgroups";
        if (!invocation_link(d, name, linked))
                return "not active at the crash (no invocation link in /run/systemd/units)";
        /* A scope's cgroup is realized before its id is drawn (252:
         * scope_start, then scope_enter_running): no xattr; its link,
         * written after the id, has it. A scope never restarts. */
        if (read_invocation(dir, id) == 0)
                return NULL;
        if (!adopt_unit_name_valid(name, ADOPT_SCOPE))
                return "no invocation id on its cgroup";
        memcpy(id, linked, sizeof linked);
        return NULL;
}

/* A scope (a login session, systemd-run --scope): no main PID; systemd
 * watches its cgroup's processes again at coldplug (scope.c). */
static void scope(struct disc *d, const char *dir, const char *cgroup, const char *name) {
        pid_t pids[PROCS_MAX];
        size_t n = 0;
        char id[ADOPT_INVOCATION_LEN + 1];
        const char *why = running_unit(d, dir, name, pids, &n, id);

        if (why)
                text_put(&d->out, "skip %s %s\n", name, why);
        else
                text_put(&d->out, "scope %s %s %s\n", name, cgroup, id);
}

static void service(struct disc *d, const char *dir, const char *cgroup, const char *name) {
        pid_t pids[PROCS_MAX], main_pid;
        size_t n = 0;
        unsigned long long start = 0;
        char id[ADOPT_INVOCATION_LEN + 1];
        const char *why = running_unit(d, dir, name, pids, &n, id);

        if (!why && (main_pid = adopt_pick_main_pid(pids, n, &start, &why)) > 0) {
                char tmp[ADOPT_CGROUP_MAX], var_tmp[ADOPT_CGROUP_MAX];
                unsigned long long wd = watchdog_usec(main_pid);
                find_private(main_pid, name, tmp, var_tmp, sizeof tmp);
                text_put(&d->out, "service %s %s %d %llu %s", name, cgroup, (int) main_pid,
                     ticks_to_usec(start, d->ticks_per_s), id);
                if (tmp[0])
                        text_put(&d->out, " tmp=%s var-tmp=%s", tmp, var_tmp);
                if (wd)
                        text_put(&d->out, " watchdog-usec=%llu", wd);
                text_put(&d->out, "\n");
                return;
        }
        text_put(&d->out, "skip %s %s\n", name, why);
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
                bool is_scope = adopt_unit_name_valid(e->d_name, ADOPT_SCOPE);
                if ((!is_slice && !is_service && !is_scope) || e->d_type != DT_DIR)
                        continue;
                if ((size_t) snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= sizeof sub ||
                    (size_t) snprintf(subcg, sizeof subcg, "%s/%s", cgroup, e->d_name) >= sizeof subcg) {
                        text_put(&d->out, "skip %s path too long\n", e->d_name);
                        continue;
                }
                if (is_service)
                        service(d, sub, subcg, e->d_name);
                else if (is_scope)
                        scope(d, sub, subcg, e->d_name);
                else {
                        text_put(&d->out, "slice %s %s\n", e->d_name, subcg);
                        walk(d, sub, subcg, depth + 1);
                }
        }
        closedir(dp);
}

struct remain {
        bool remain_after_exit, other_slice;
};

static void remain_setting(const char *key, const char *value, void *data) {
        struct remain *r = data;
        bool b;

        if (strcmp(key, "RemainAfterExit") == 0)
                r->remain_after_exit = parse_bool(value, &b) == 0 && b;
        else if (strcmp(key, "Slice") == 0) /* where the walk did not look */
                r->other_slice = *value && strncmp(value, "system", 6) != 0 && strncmp(value, "user", 4) != 0;
}

/* A service that is active (its invocation link is there) but has no
 * cgroup under system.slice or user.slice: systemd prunes the cgroup of a service that
 * enters "exited" (service.c service_set_state, 252 and 257), the state
 * of a RemainAfterExit=yes service whose processes ended well. Only one
 * whose unit file says RemainAfterExit=yes, in one of those slices, is
 * taken for one: "exited NAME INVOCATION_ID". */
static void exited_services(struct disc *d) {
        char id[ADOPT_INVOCATION_LEN + 1];
        DIR *dp = opendir(d->units_dir);
        struct dirent *e;

        if (!dp)
                return;
        while ((e = readdir(dp))) {
                const char *name = e->d_name + 11;
                struct remain r = { false, false };
                if (strncmp(e->d_name, "invocation:", 11) != 0 || !adopt_unit_name_valid(name, ADOPT_SERVICE) ||
                    adopt_text_names(d->out.buf, "service", name) || adopt_text_names(d->out.buf, "skip", name) ||
                    !invocation_link(d, name, id))
                        continue;
                if (unit_file_read(d->unit_dirs, name, "Service", remain_setting, &r) < 0 || !r.remain_after_exit ||
                    r.other_slice)
                        continue;
                text_put(&d->out, "exited %s %s\n", name, id);
        }
        closedir(dp);
}

int adopt_discover(const char *root, const char *units_dir, const char *const *unit_dirs, const int *fds, size_t n_fds,
                   char *out, size_t n) {
        struct disc d = { units_dir, unit_dirs, { out, n, 0, false }, sysconf(_SC_CLK_TCK) };
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
        text_put(&d.out, "slice system.slice /system.slice\n");
        walk(&d, top, "/system.slice", 0);
        /* Login sessions: user-UID.slice, user@UID.service, session-N.scope. */
        snprintf(top, sizeof top, "%s/user.slice", root);
        if (stat(top, &st) == 0) {
                text_put(&d.out, "slice user.slice /user.slice\n");
                walk(&d, top, "/user.slice", 0);
        }
        exited_services(&d);
        /* After the services: a socket unit is "running" if its service is adopted. */
        adopt_discover_sockets(unit_dirs, fds, n_fds, &d.out);
        if (d.out.cut) {
                out[0] = '\0';
                return -ENOBUFS;
        }
        return (int) d.out.len;
}

size_t adopt_drop_changed(struct adopt_unit *units, size_t n) {
        size_t kept = 0;
        bool dropped = false;

        for (size_t i = 0; i < n; i++) {
                const struct adopt_unit *u = &units[i];
                unsigned long long start;
                if (u->kind == ADOPT_SERVICE && !u->exited &&
                    (adopt_process_start_usec(u->main_pid, &start) < 0 || start != u->start_mono_usec)) {
                        log_warning("on-failure=adopt: not adopting %s: its main PID %d ended or is another process "
                                    "since discovery",
                                    u->name, (int) u->main_pid);
                        dropped = true;
                        continue;
                }
                if (kept != i)
                        units[kept] = *u;
                kept++;
        }
        /* A socket is "running" while its service runs; the line does not
         * say which service: all listen, and systemd, polling them, turns
         * one whose service runs back to running at its next connection. */
        for (size_t i = 0; dropped && i < kept; i++)
                if (units[i].kind == ADOPT_SOCKET)
                        units[i].running = false;
        return kept;
}
