/* Socket units for on-failure=adopt (sockets.h). Runs in discovery's
 * worker: it may allocate (opendir), but every error only leaves a unit
 * out. Unit files are read as 252's and 257's load-fragment.c and
 * socket-netlink.c read the settings used here. */
#include "versions/sockets.h"
#include "common/util.h"
#include "versions/unitfile.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

const char *const adopt_unit_dirs[] = {
        "/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient",
        "/run/systemd/generator.early", "/etc/systemd/system",        "/etc/systemd/system.attached",
        "/run/systemd/system",          "/run/systemd/system.attached", "/run/systemd/generator",
        "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",    "/lib/systemd/system",
        "/run/systemd/generator.late",  NULL,
};

#define SOCKET_UNITS_MAX 256

/* socket-util.c netlink_family_table (the index is the protocol). */
static const char *const netlink_families[] = {
        [NETLINK_ROUTE] = "route",          [NETLINK_FIREWALL] = "firewall",
        [NETLINK_INET_DIAG] = "inet-diag",  [NETLINK_NFLOG] = "nflog",
        [NETLINK_XFRM] = "xfrm",            [NETLINK_SELINUX] = "selinux",
        [NETLINK_ISCSI] = "iscsi",          [NETLINK_AUDIT] = "audit",
        [NETLINK_FIB_LOOKUP] = "fib-lookup", [NETLINK_CONNECTOR] = "connector",
        [NETLINK_NETFILTER] = "netfilter",  [NETLINK_IP6_FW] = "ip6-fw",
        [NETLINK_DNRTMSG] = "dnrtmsg",      [NETLINK_KOBJECT_UEVENT] = "kobject-uevent",
        [NETLINK_GENERIC] = "generic",      [NETLINK_SCSITRANSPORT] = "scsitransport",
        [NETLINK_ECRYPTFS] = "ecryptfs",    [NETLINK_RDMA] = "rdma",
};

static int netlink_protocol(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(netlink_families); i++)
                if (netlink_families[i] && strlen(netlink_families[i]) == len &&
                    strncmp(netlink_families[i], name, len) == 0)
                        return (int) i;
        return -EINVAL;
}

static int parse_port_number(const char *s, unsigned *port) {
        char *end;
        unsigned long v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v == 0 || v > 65535)
                return -EINVAL;
        *port = (unsigned) v;
        return 0;
}

/* An inet Listen*= value: "PORT" (the any address, of either family:
 * family 0), "A.B.C.D:PORT" or "[V6]:PORT" (socket-netlink.c
 * socket_address_parse, without interfaces). 0 or -EINVAL. */
struct inet_value {
        int family;
        struct in_addr a4;
        struct in6_addr a6;
        unsigned port;
};

static int parse_inet(const char *value, struct inet_value *v) {
        const char *colon = strrchr(value, ':');
        char host[64];
        size_t hl;

        memset(v, 0, sizeof *v);
        if (!colon)
                return parse_port_number(value, &v->port);
        hl = (size_t) (colon - value);
        if (parse_port_number(colon + 1, &v->port) < 0 || hl >= sizeof host)
                return -EINVAL;
        memcpy(host, value, hl);
        host[hl] = '\0';
        if (host[0] != '[') {
                v->family = AF_INET;
                return inet_pton(AF_INET, host, &v->a4) == 1 ? 0 : -EINVAL;
        }
        if (hl < 3 || host[hl - 1] != ']')
                return -EINVAL;
        host[hl - 1] = '\0';
        v->family = AF_INET6;
        return inet_pton(AF_INET6, host + 1, &v->a6) == 1 ? 0 : -EINVAL;
}

int adopt_port_parse(enum adopt_port_kind kind, const char *value, struct adopt_port *port) {
        size_t l = strlen(value);

        memset(port, 0, sizeof *port);
        port->kind = kind;
        port->fd = -1;
        if (l == 0 || l >= ADOPT_ADDRESS_MAX || strchr(value, '%'))
                return -EINVAL;
        if (kind == ADOPT_PORT_NETLINK) {
                /* "FAMILY [GROUP]", one blank between */
                size_t k = strcspn(value, " \t");
                unsigned group = 0;
                if (netlink_protocol(value, k) < 0 ||
                    (value[k] && (value[k] != ' ' || parse_port_number(value + k + 1, &group) < 0)))
                        return -EINVAL;
        } else if (value[0] == '/' || value[0] == '@') {
                if (l >= sizeof(((struct sockaddr_un *) 0)->sun_path) || strpbrk(value, " \t"))
                        return -EINVAL;
        } else {
                struct inet_value v;
                if (parse_inet(value, &v) < 0)
                        return -EINVAL;
        }
        memcpy(port->address, value, l + 1);
        return 0;
}

static int sock_int(int fd, int level, int opt) {
        int v = -1;
        socklen_t l = sizeof v;

        return getsockopt(fd, level, opt, &v, &l) < 0 ? -1 : v;
}

static bool unix_matches(const struct sockaddr_un *sa, socklen_t l, const char *address) {
        size_t k = l > offsetof(struct sockaddr_un, sun_path) ? l - offsetof(struct sockaddr_un, sun_path) : 0;

        if (address[0] == '@') /* abstract: NUL, then the name, no terminator */
                return k == strlen(address) && sa->sun_path[0] == '\0' &&
                       memcmp(sa->sun_path + 1, address + 1, k - 1) == 0;
        return k > 0 && strnlen(sa->sun_path, k) == strlen(address) &&
               strncmp(sa->sun_path, address, strlen(address)) == 0;
}

static bool inet_matches(const struct sockaddr_storage *ss, const char *address) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) ss;
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;
        struct inet_value v;

        if (parse_inet(address, &v) < 0)
                return false;
        if (ss->ss_family == AF_INET6)
                return (v.family == 0 || v.family == AF_INET6) && ntohs(in6->sin6_port) == v.port &&
                       memcmp(&v.a6, &in6->sin6_addr, sizeof v.a6) == 0; /* a port alone: in6addr_any, all zero */
        return ss->ss_family == AF_INET && (v.family == 0 || v.family == AF_INET) && ntohs(in->sin_port) == v.port &&
               v.a4.s_addr == in->sin_addr.s_addr; /* a port alone: INADDR_ANY, zero */
}

static bool netlink_matches(int fd, const struct sockaddr_storage *ss, const char *address) {
        size_t k = strcspn(address, " ");
        unsigned group = 0;

        if (ss->ss_family != AF_NETLINK || sock_int(fd, SOL_SOCKET, SO_PROTOCOL) != netlink_protocol(address, k) ||
            (address[k] && parse_port_number(address + k + 1, &group) < 0))
                return false;
        return ((const struct sockaddr_nl *) ss)->nl_groups == group;
}

bool adopt_port_matches(int fd, const struct adopt_port *port) {
        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;

        memset(&ss, 0, sizeof ss);
        if (getsockname(fd, (struct sockaddr *) &ss, &l) < 0)
                return false;
        if (port->kind == ADOPT_PORT_NETLINK)
                return netlink_matches(fd, &ss, port->address);
        if (sock_int(fd, SOL_SOCKET, SO_TYPE) != adopt_port_kind_type(port->kind))
                return false;
        if (port->address[0] == '/' || port->address[0] == '@')
                return ss.ss_family == AF_UNIX && unix_matches((const struct sockaddr_un *) &ss, l, port->address);
        return inet_matches(&ss, port->address);
}

/* ---- the [Socket] section ---------------------------------------------------- */

static int listen_kind(const char *key, enum adopt_port_kind *kind) {
        static const struct {
                const char *key;
                int kind;
        } keys[] = {
                { "ListenStream", ADOPT_PORT_STREAM },         { "ListenDatagram", ADOPT_PORT_DGRAM },
                { "ListenSequentialPacket", ADOPT_PORT_SEQPACKET }, { "ListenNetlink", ADOPT_PORT_NETLINK },
                { "ListenFIFO", -1 },                          { "ListenSpecial", -1 },
                { "ListenMessageQueue", -1 },                  { "ListenUSBFunction", -1 },
        };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strcmp(key, keys[i].key) == 0) {
                        if (keys[i].kind < 0)
                                return -EOPNOTSUPP;
                        *kind = (enum adopt_port_kind) keys[i].kind;
                        return 0;
                }
        return -ENOENT;
}

/* unitfile.h's unit_setting_fn, for a struct socket_unit_spec. */
static void setting(const char *key, const char *value, void *data) {
        struct socket_unit_spec *spec = data;
        enum adopt_port_kind kind;
        int r = listen_kind(key, &kind);
        bool b;

        if (r == -EOPNOTSUPP)
                spec->unsupported = "a FIFO, special file, message queue or USB function";
        else if (r == 0 && !*value)
                spec->n_ports = 0; /* an empty assignment removes all ports */
        else if (r == 0 && spec->n_ports == ADOPT_PORTS_MAX)
                spec->unsupported = "too many Listen*= settings";
        else if (r == 0 && adopt_port_parse(kind, value, &spec->ports[spec->n_ports]) < 0)
                spec->unsupported = "a Listen*= value discovery does not handle";
        else if (r == 0)
                spec->n_ports++;
        else if (strcmp(key, "Accept") == 0 && parse_bool(value, &b) == 0)
                spec->accept = b;
        else if (strcmp(key, "Accept") == 0)
                spec->unsupported = "Accept= not a boolean";
        else if (strcmp(key, "Service") == 0 && copy_string(spec->service, sizeof spec->service, value) < 0)
                spec->unsupported = "Service= too long";
}

int adopt_read_socket_unit(const char *const *dirs, const char *name, struct socket_unit_spec *spec) {
        int r;

        memset(spec, 0, sizeof *spec);
        r = unit_file_read(dirs, name, "Socket", setting, spec);
        if (r < 0)
                return r;
        if (!spec->service[0])
                snprintf(spec->service, sizeof spec->service, "%.*s.service", (int) (strlen(name) - 7), name);
        return 0;
}

/* ---- discovery ----------------------------------------------------------------- */

struct names {
        char name[SOCKET_UNITS_MAX][ADOPT_NAME_MAX];
        size_t n;
};

/* Every NAME.socket (no template, no instance) in dirs, once. */
static void list_socket_units(const char *const *dirs, struct names *u) {
        for (size_t i = 0; dirs[i]; i++) {
                DIR *dp = opendir(dirs[i]);
                struct dirent *e;
                if (!dp)
                        continue;
                while ((e = readdir(dp)) && u->n < SOCKET_UNITS_MAX) {
                        size_t j;
                        if (!adopt_unit_name_valid(e->d_name, ADOPT_SOCKET) || strchr(e->d_name, '@'))
                                continue;
                        for (j = 0; j < u->n && strcmp(u->name[j], e->d_name) != 0; j++)
                                ;
                        if (j == u->n)
                                strcpy(u->name[u->n++], e->d_name);
                }
                closedir(dp);
        }
}

/* Match each port of spec to one of fds not yet used; the number matched. */
static unsigned match_ports(struct socket_unit_spec *spec, const int *fds, size_t n_fds, bool *used) {
        unsigned matched = 0;

        for (unsigned p = 0; p < spec->n_ports; p++)
                for (size_t i = 0; i < n_fds; i++)
                        if (!used[i] && adopt_port_matches(fds[i], &spec->ports[p])) {
                                spec->ports[p].fd = fds[i];
                                matched++;
                                break;
                        }
        return matched;
}

int adopt_discover_sockets(const char *const *dirs, const int *fds, size_t n_fds, struct text_out *o) {
        static struct names units;
        static struct socket_unit_spec spec;
        bool used[64] = { false };

        if (n_fds > ELEMENTSOF(used))
                n_fds = ELEMENTSOF(used);
        if (n_fds == 0)
                return 0;
        units.n = 0;
        list_socket_units(dirs, &units);
        for (size_t u = 0; u < units.n; u++) {
                const char *name = units.name[u];
                int r = adopt_read_socket_unit(dirs, name, &spec);
                if (r < 0 || spec.n_ports == 0)
                        continue;
                unsigned matched = match_ports(&spec, fds, n_fds, used);
                if (matched == 0)
                        continue; /* not listening at the crash */
                if (spec.unsupported || matched < spec.n_ports) {
                        text_put(o, "skip %s %s\n", name,
                            spec.unsupported ? spec.unsupported : "some of its sockets were not open at the crash");
                        continue;
                }
                bool running = !spec.accept && adopt_text_names(o->buf, "service", spec.service);
                for (unsigned p = 0; p < spec.n_ports; p++) {
                        for (size_t i = 0; i < n_fds; i++)
                                used[i] |= fds[i] == spec.ports[p].fd;
                        text_put(o, "socket %s %s %d %s %s\n", name, running ? "running" : "listening", spec.ports[p].fd,
                            adopt_port_kind_name(spec.ports[p].kind), spec.ports[p].address);
                }
        }
        return o->cut ? -ENOBUFS : 0;
}
