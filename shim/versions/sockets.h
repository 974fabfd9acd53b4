/* Socket units for on-failure=adopt (issue 18, docs/recovery.md "Adopt"):
 * which of the crashed PID 1's listening sockets (the copies rescue mode
 * holds, ptrace/sockets.h) belong to which socket unit, read from the unit
 * files as systemd reads them. A unit whose every Listen*= is one of those
 * sockets was listening at the crash: the new systemd gets its fds through
 * the serialization (socket=FD TYPE ADDRESS, netlink=FD ADDRESS, as
 * socket.c socket_deserialize_item reads them in 252 and 257). Runs in
 * discovery's worker. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "versions/serialize.h"
#include "common/util.h"

/* The system unit directories, highest priority first (lookup paths of
 * systemd 252 and 257, Debian's /lib included). */
extern const char *const adopt_unit_dirs[];

/* The [Socket] settings of one unit that discovery understands. */
struct socket_unit_spec {
        unsigned n_ports;
        struct adopt_port ports[ADOPT_PORTS_MAX]; /* fd -1 */
        bool accept;
        char service[ADOPT_NAME_MAX]; /* Service=, or NAME's .service */
        const char *unsupported;      /* why it cannot be adopted, or NULL */
};

/* Read unit NAME as systemd would: its fragment from the first of dirs
 * holding it (not a link to /dev/null or another name), then the drop-ins
 * (NAME.d/, socket.d/ and the dash-prefix ones, *.conf, the first of each
 * file name by priority, in name order). 0, -ENOENT (no fragment or
 * masked), or -errno. Unsupported settings leave spec->unsupported set. */
int adopt_read_socket_unit(const char *const *dirs, const char *name, struct socket_unit_spec *spec);

/* Pure: parse one Listen*= value of kind into what a socket must be to
 * match it; -EINVAL for what discovery does not handle (specifiers,
 * FIFOs, vsock, an interface). */
int adopt_port_parse(enum adopt_port_kind kind, const char *value, struct adopt_port *port);

/* Is fd the socket port describes (type, family, address; netlink:
 * protocol and groups)? */
bool adopt_port_matches(int fd, const struct adopt_port *port);

/* For each socket unit in dirs with all its ports among fds (n_fds of
 * them), append "socket NAME STATE FD KIND ADDRESS" lines to o: STATE is
 * "running" for an Accept=no unit whose service is adopted ("service SVC "
 * line in o already), else "listening". A unit with some but not all of
 * its ports there gets a "skip NAME REASON" line. -ENOBUFS if o is cut. */
int adopt_discover_sockets(const char *const *dirs, const int *fds, size_t n_fds, struct text_out *o);
