/* Synthesized `--deserialize` text (serialize.h). Keys and their readers,
 * systemd 252 / 257 (docs/recovery.md "Adopt"):
 *   state=running        service.c service_deserialize_item
 *   main-pid=            service_set_main_pid (sets main-pid-known)
 *   cgroup=, cgroup-realized=yes, invocation-id=
 *                        unit-serialize.c; without invocation-id a re-realize
 *                        deletes the cgroup's xattr
 *   exported-invocation-id=yes  discovery saw /run/systemd/units/invocation:NAME;
 *                        without it systemd never unlinks that link when the
 *                        unit stops, and a later discovery would take the
 *                        stopped unit for a running one
 *   active-enter-timestamp=  also RuntimeMaxSec='s base
 *   watchdog-timestamp=  without it the watchdog timer is armed from
 *                        monotonic 0: an immediate watchdog kill. Read only
 *                        by services with WatchdogSec=, harmless elsewhere.
 *   exec-runtime=NAME tmp-dir= var-tmp-dir=  (manager section) the
 *                        PrivateTmp= directories discovery matched to the main
 *                        process's /tmp and /var/tmp; without it coldplug makes
 *                        new ones and the stop leaves the real ones behind
 *   watchdog-original-usec=  WATCHDOG_USEC= of the main process's
 *                        environment (exec-invoke.c sets it from this very
 *                        value at the start). 257 arms no watchdog without it
 *                        (service_get_watchdog_usec: USEC_INFINITY).
 *   notify-fd=, notify-socket=  (manager section) a notify socket rescue mode
 *                        bound at /run/systemd/notify just before the exec:
 *                        WATCHDOG=1 and READY=1 sent while the new systemd
 *                        starts up wait in it instead of being refused
 *   subscribed=org.freedesktop.login1  (manager section) if logind is
 *                        adopted: systemd broadcasts unit and job signals
 *                        only while it has a subscriber
 *   watchdog-override-usec=0 for journald only, unless rescue mode
 *                        reconnected its notify socket: it was
 *                        connected once to the old PID 1's socket, its
 *                        WATCHDOG=1 no longer arrives. */
#include "versions/serialize.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool adopt_version_supported(unsigned major) {
        return major == 252 || major == 257;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t l = strlen(s), k = strlen(suffix);

        return l > k && strcmp(s + l - k, suffix) == 0;
}

bool adopt_unit_name_valid(const char *s, enum adopt_kind kind) {
        size_t l = s ? strlen(s) : 0;

        if (l == 0 || l >= ADOPT_NAME_MAX || strpbrk(s, " \t\n/"))
                return false;
        static const char *const suffixes[] = { [ADOPT_SERVICE] = ".service", [ADOPT_SLICE] = ".slice",
                                                [ADOPT_SOCKET] = ".socket", [ADOPT_SCOPE] = ".scope" };
        return ends_with(s, suffixes[kind]);
}

/* The cgroup's last component is the unit's name. */
static bool cgroup_names(const char *cgroup, const char *name) {
        size_t l = strlen(cgroup), k = strlen(name);

        return l > k && cgroup[l - k - 1] == '/' && strcmp(cgroup + l - k, name) == 0;
}

static bool cgroup_valid(const char *s) {
        size_t l = strlen(s);

        return l > 1 && l < ADOPT_CGROUP_MAX && s[0] == '/' && !strpbrk(s, " \t\n") && !strstr(s, "/../") &&
               !ends_with(s, "/..");
}

static bool invocation_valid(const char *s) {
        if (strlen(s) != ADOPT_INVOCATION_LEN)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static int parse_u64(const char *s, uint64_t *out) {
        char *end;
        unsigned long long v;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return -EINVAL;
        *out = v;
        return 0;
}

/* Split line (modified) into at most max blank-separated words. */
static size_t split_words(char *line, char **w, size_t max) {
        size_t n = 0;
        char *save = NULL;

        for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                if (n == max)
                        return max + 1;
                w[n++] = t;
        }
        return n;
}

/* PREFIX/systemd-private-... with no blank, no "..": a PrivateTmp= directory. */
static bool private_dir_valid(const char *s, const char *prefix) {
        size_t k = strlen(prefix);

        return strlen(s) < ADOPT_CGROUP_MAX && strncmp(s, prefix, k) == 0 &&
               strncmp(s + k, "/systemd-private-", 17) == 0 && !strchr(s + k + 1, '/') && !strstr(s, "..");
}

/* The optional words after a service's sixth: tmp=DIR var-tmp=DIR (both or
 * neither), watchdog-usec=N; each at most once. */
static int parse_service_options(char **w, size_t nw, struct adopt_unit *u) {
        const char *v;

        for (size_t i = 6; i < nw; i++) {
                if ((v = strchr(w[i], '=')) == NULL)
                        return -EINVAL;
                v++;
                if (strncmp(w[i], "tmp=", 4) == 0 && !u->tmp_dir[0] && private_dir_valid(v, "/tmp"))
                        strcpy(u->tmp_dir, v);
                else if (strncmp(w[i], "var-tmp=", 8) == 0 && !u->var_tmp_dir[0] && private_dir_valid(v, "/var/tmp"))
                        strcpy(u->var_tmp_dir, v);
                else if (strncmp(w[i], "watchdog-usec=", 14) == 0 && !u->watchdog_usec &&
                         parse_u64(v, &u->watchdog_usec) == 0 && u->watchdog_usec > 0)
                        continue;
                else
                        return -EINVAL;
        }
        return !u->tmp_dir[0] == !u->var_tmp_dir[0] ? 0 : -EINVAL;
}

static int parse_service(char **w, size_t nw, struct adopt_unit *u) {
        uint64_t pid, start;

        if (nw < 6 || nw > 9 || !adopt_unit_name_valid(w[1], ADOPT_SERVICE) || !cgroup_valid(w[2]) ||
            !cgroup_names(w[2], w[1]) || parse_u64(w[3], &pid) < 0 || pid <= 1 || pid > INT32_MAX ||
            parse_u64(w[4], &start) < 0 || !invocation_valid(w[5]))
                return -EINVAL;
        memset(u, 0, sizeof *u);
        if (parse_service_options(w, nw, u) < 0)
                return -EINVAL;
        u->kind = ADOPT_SERVICE;
        strcpy(u->name, w[1]);
        strcpy(u->cgroup, w[2]);
        strcpy(u->invocation_id, w[5]);
        u->main_pid = (pid_t) pid;
        u->start_mono_usec = start;
        return 0;
}

static int parse_exited(char **w, size_t nw, struct adopt_unit *u) {
        if (nw != 3 || !adopt_unit_name_valid(w[1], ADOPT_SERVICE) || !invocation_valid(w[2]))
                return -EINVAL;
        memset(u, 0, sizeof *u);
        u->kind = ADOPT_SERVICE;
        u->exited = true;
        strcpy(u->name, w[1]);
        strcpy(u->invocation_id, w[2]);
        return 0;
}

static int parse_scope(char **w, size_t nw, struct adopt_unit *u) {
        if (nw != 4 || !adopt_unit_name_valid(w[1], ADOPT_SCOPE) || !cgroup_valid(w[2]) || !cgroup_names(w[2], w[1]) ||
            !invocation_valid(w[3]))
                return -EINVAL;
        memset(u, 0, sizeof *u);
        u->kind = ADOPT_SCOPE;
        strcpy(u->name, w[1]);
        strcpy(u->cgroup, w[2]);
        strcpy(u->invocation_id, w[3]);
        return 0;
}

static int parse_slice(char **w, size_t nw, struct adopt_unit *u) {
        if (nw != 3 || !adopt_unit_name_valid(w[1], ADOPT_SLICE) || !cgroup_valid(w[2]) || !cgroup_names(w[2], w[1]))
                return -EINVAL;
        memset(u, 0, sizeof *u);
        u->kind = ADOPT_SLICE;
        strcpy(u->name, w[1]);
        strcpy(u->cgroup, w[2]);
        return 0;
}

static const struct {
        const char *name; /* in discovery's text */
        int type;         /* the socket's, as socket= says it */
} port_kinds[] = {
        [ADOPT_PORT_STREAM] = { "stream", SOCK_STREAM },
        [ADOPT_PORT_DGRAM] = { "dgram", SOCK_DGRAM },
        [ADOPT_PORT_SEQPACKET] = { "seqpacket", SOCK_SEQPACKET },
        [ADOPT_PORT_NETLINK] = { "netlink", SOCK_RAW },
};

const char *adopt_port_kind_name(enum adopt_port_kind kind) {
        return port_kinds[kind].name;
}

int adopt_port_kind_type(enum adopt_port_kind kind) {
        return port_kinds[kind].type;
}

static int port_kind(const char *s) {
        for (size_t i = 0; i < sizeof port_kinds / sizeof port_kinds[0]; i++)
                if (strcmp(s, port_kinds[i].name) == 0)
                        return (int) i;
        return -EINVAL;
}

bool adopt_text_names(const char *text, const char *word, const char *name) {
        size_t kw = strlen(word), kn = strlen(name);

        for (const char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n')
                if (strncmp(p, word, kw) == 0 && p[kw] == ' ' && strncmp(p + kw + 1, name, kn) == 0 &&
                    p[kw + 1 + kn] == ' ')
                        return true;
        return false;
}

/* socket NAME STATE FD KIND ADDRESS (netlink: ADDRESS is two words): a
 * port, added to the socket unit of the line before when it has that name,
 * else a new unit (*added). */
static int parse_socket(char **w, size_t nw, struct adopt_unit *units, size_t max, size_t *n) {
        int kind = nw >= 6 ? port_kind(w[4]) : -EINVAL;
        uint64_t fd, group;
        struct adopt_unit *u;
        struct adopt_port *p;

        if (kind < 0 || nw != (kind == ADOPT_PORT_NETLINK ? 7u : 6u) || !adopt_unit_name_valid(w[1], ADOPT_SOCKET) ||
            (strcmp(w[2], "listening") != 0 && strcmp(w[2], "running") != 0) || parse_u64(w[3], &fd) < 0 ||
            fd < 3 || fd > INT32_MAX || strlen(w[5]) + (nw == 7 ? strlen(w[6]) + 1 : 0) >= ADOPT_ADDRESS_MAX ||
            (nw == 7 && parse_u64(w[6], &group) < 0) || (kind != ADOPT_PORT_NETLINK && w[5][0] != '/' && w[5][0] != '@' && !strchr("0123456789[", w[5][0])))
                return -EINVAL;
        u = *n > 0 ? &units[*n - 1] : NULL;
        if (!u || u->kind != ADOPT_SOCKET || strcmp(u->name, w[1]) != 0) {
                if (*n == max)
                        return -E2BIG;
                u = &units[(*n)++];
                memset(u, 0, sizeof *u);
                u->kind = ADOPT_SOCKET;
                strcpy(u->name, w[1]);
                u->running = strcmp(w[2], "running") == 0;
        } else if (u->running != (strcmp(w[2], "running") == 0) || u->n_ports == ADOPT_PORTS_MAX)
                return -EINVAL;
        for (unsigned i = 0; i < u->n_ports; i++)
                if (u->ports[i].fd == (int) fd)
                        return -EINVAL;
        p = &u->ports[u->n_ports++];
        p->kind = (enum adopt_port_kind) kind;
        p->fd = (int) fd;
        snprintf(p->address, sizeof p->address, "%s%s%s", w[5], nw == 7 ? " " : "", nw == 7 ? w[6] : "");
        return 0;
}

/* One line into units[*n]; skip lines and empty lines add nothing. */
static int parse_line(char *line, struct adopt_unit *units, size_t max, size_t *n) {
        char *w[10];
        size_t nw = split_words(line, w, 9);

        if (nw == 0 || strcmp(w[0], "skip") == 0)
                return 0;
        if (strcmp(w[0], "socket") == 0)
                return parse_socket(w, nw, units, max, n);
        if (*n == max)
                return -E2BIG;
        if (strcmp(w[0], "service") == 0 && parse_service(w, nw, &units[*n]) == 0)
                return (void) (*n)++, 0;
        if (strcmp(w[0], "slice") == 0 && parse_slice(w, nw, &units[*n]) == 0)
                return (void) (*n)++, 0;
        if (strcmp(w[0], "exited") == 0 && parse_exited(w, nw, &units[*n]) == 0)
                return (void) (*n)++, 0;
        if (strcmp(w[0], "scope") == 0 && parse_scope(w, nw, &units[*n]) == 0)
                return (void) (*n)++, 0;
        return -EINVAL;
}

int adopt_parse(const char *text, struct adopt_unit *units, size_t max, size_t *n, unsigned *bad_line) {
        char line[1024];
        unsigned no = 0;
        int r;

        *n = 0;
        *bad_line = 0;
        for (const char *p = text; p && *p;) {
                size_t l = strcspn(p, "\n");
                no++;
                if (l >= sizeof line) {
                        *bad_line = no;
                        return -EINVAL;
                }
                memcpy(line, p, l);
                line[l] = '\0';
                p += l + (p[l] == '\n');
                r = parse_line(line, units, max, n);
                if (r < 0) {
                        *bad_line = no;
                        *n = 0;
                        return r;
                }
        }
        return 0;
}

/* A start time in the past, as systemd's "<realtime> <monotonic>" pair. */
static void put_start(struct text_out *o, uint64_t start_mono, const struct adopt_clock *now) {
        uint64_t mono = start_mono < now->monotonic_usec ? start_mono : now->monotonic_usec;
        uint64_t ago = now->monotonic_usec - mono;
        uint64_t rt = now->realtime_usec > ago ? now->realtime_usec - ago : 1;

        text_put(o, "active-enter-timestamp=%" PRIu64 " %" PRIu64 "\n", rt, mono);
}

/* service.c: "exited" is active with nothing running; coldplug neither
 * watches a PID nor realizes a cgroup for it. */
static void put_exited(struct text_out *o, const struct adopt_unit *u) {
        text_put(o, "%s\nstate=exited\ninvocation-id=%s\nexported-invocation-id=yes\n\n", u->name, u->invocation_id);
}

static void put_service(struct text_out *o, const struct adopt_unit *u, const struct adopt_clock *now) {
        text_put(o, "%s\nstate=running\nmain-pid=%d\n", u->name, (int) u->main_pid);
        text_put(o, "cgroup=%s\ncgroup-realized=yes\ninvocation-id=%s\nexported-invocation-id=yes\n", u->cgroup,
            u->invocation_id);
        put_start(o, u->start_mono_usec, now);
        text_put(o, "watchdog-timestamp=%" PRIu64 " %" PRIu64 "\n", now->realtime_usec, now->monotonic_usec);
        if (u->watchdog_usec)
                text_put(o, "watchdog-original-usec=%" PRIu64 "\n", u->watchdog_usec);
        if (strcmp(u->name, "systemd-journald.service") == 0 && !u->notify_reconnected)
                text_put(o, "watchdog-override-usec=0\n");
        text_put(o, "\n");
}

/* socket.c socket_deserialize_item: "socket=FD TYPE ADDRESS" (TYPE as a
 * number), "netlink=FD ADDRESS"; the address is matched against the unit's
 * own Listen*= as it parses them, so the unit file's spelling is right. */
static void put_socket(struct text_out *o, const struct adopt_unit *u) {
        text_put(o, "%s\nstate=%s\n", u->name, u->running ? "running" : "listening");
        for (unsigned i = 0; i < u->n_ports; i++) {
                const struct adopt_port *p = &u->ports[i];
                if (p->kind == ADOPT_PORT_NETLINK)
                        text_put(o, "netlink=%d %s\n", p->fd, p->address);
                else
                        text_put(o, "socket=%d %d %s\n", p->fd, adopt_port_kind_type(p->kind), p->address);
        }
        text_put(o, "\n");
}

int adopt_serialize(const struct adopt_unit *units, size_t n, const struct adopt_clock *now, int notify_fd, char *buf,
                    size_t len) {
        struct text_out o = { buf, len, 0, false };

        if (len == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++)
                if (!units[i].name[0] || (units[i].kind == ADOPT_SERVICE && !units[i].exited && units[i].main_pid <= 1))
                        return -EINVAL;
        /* The manager section: the PrivateTmp= runtimes (execute.c
         * exec_shared_runtime_deserialize_one, keyed by the unit's name) and
         * the notify socket rescue mode bound (manager-serialize.c notify-fd=,
         * notify-socket=). The new systemd binds its other sockets anew and
         * stamps itself; the blank line ends the section. */
        for (size_t i = 0; i < n; i++)
                if (units[i].kind == ADOPT_SERVICE && !units[i].exited && units[i].tmp_dir[0] && units[i].var_tmp_dir[0])
                        text_put(&o, "exec-runtime=%s tmp-dir=%s var-tmp-dir=%s\n", units[i].name, units[i].tmp_dir,
                            units[i].var_tmp_dir);
        if (notify_fd >= 0)
                text_put(&o, "notify-fd=%d\nnotify-socket=" ADOPT_NOTIFY_SOCKET "\n", notify_fd);
        /* The D-Bus clients that had called Subscribe() are unknown; while
         * systemd has any subscriber it broadcasts its unit and job signals
         * (dbus.c send_to_bus), which every client's match rules on the
         * adopted dbus-daemon then receive. logind subscribes once, at its
         * start, and needs them to end sessions: it stands for them all, by
         * its well-known name (sd_bus_track_add_name takes either kind). */
        for (size_t i = 0; i < n; i++)
                if (units[i].kind == ADOPT_SERVICE && !units[i].exited &&
                    strcmp(units[i].name, "systemd-logind.service") == 0)
                        text_put(&o, "subscribed=org.freedesktop.login1\n");
        text_put(&o, "\n");
        for (size_t i = 0; i < n; i++) {
                if (units[i].kind == ADOPT_SERVICE && units[i].exited)
                        put_exited(&o, &units[i]);
                else if (units[i].kind == ADOPT_SERVICE)
                        put_service(&o, &units[i], now);
                else if (units[i].kind == ADOPT_SOCKET)
                        put_socket(&o, &units[i]);
                else if (units[i].kind == ADOPT_SCOPE)
                        text_put(&o, "%s\nstate=running\ncgroup=%s\ncgroup-realized=yes\ninvocation-id=%s\nexported-invocation-id=yes\n\n",
                            units[i].name, units[i].cgroup, units[i].invocation_id);
                else
                        text_put(&o, "%s\nstate=active\ncgroup=%s\ncgroup-realized=yes\n\n", units[i].name,
                            units[i].cgroup);
        }
        if (o.cut) {
                buf[0] = '\0';
                return -ENOBUFS;
        }
        return (int) o.len;
}

bool adopt_cgroup_adopted(const struct adopt_unit *units, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(units[i].cgroup);
                if ((units[i].kind == ADOPT_SERVICE || units[i].kind == ADOPT_SCOPE) && l > 0 &&
                    strncmp(path, units[i].cgroup, l) == 0 &&
                    (path[l] == '\0' || path[l] == '/'))
                        return true;
        }
        return false;
}

int adopt_deserialize_fd_arg(const char *cmdline, size_t len) {
        const char *prev = NULL;
        uint64_t fd;

        for (size_t i = 0; i < len;) {
                const char *a = cmdline + i, *v = NULL;
                size_t l = strnlen(a, len - i);
                if (l == len - i) /* not NUL-terminated: cut short */
                        return -ENOENT;
                if (strncmp(a, "--deserialize=", 14) == 0)
                        v = a + 14;
                else if (prev && strcmp(prev, "--deserialize") == 0)
                        v = a;
                if (v)
                        return parse_u64(v, &fd) == 0 && fd <= INT32_MAX ? (int) fd : -EINVAL;
                prev = a;
                i += l + 1;
        }
        return -ENOENT;
}
