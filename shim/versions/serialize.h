/* Zero-restart recovery (issue 18, docs/recovery.md "Adopt"): after systemd
 * crashed, its serialization is gone but the cgroup tree, the invocation
 * ids and the processes survive. These pure functions turn what discovery
 * found (one text line per unit) into the text a systemd reads with
 * `--deserialize N`: a manager section, a blank line, then per unit its
 * name, key=value lines and a blank line. The format is internal to
 * systemd and unversioned: only versions tested here are accepted.
 * No allocation: every buffer is the caller's. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ADOPT_UNITS_MAX 256
#define ADOPT_NAME_MAX 128
#define ADOPT_CGROUP_MAX 256
#define ADOPT_INVOCATION_LEN 32
#define ADOPT_PORTS_MAX 4      /* Listen*= of one socket unit */
#define ADOPT_ADDRESS_MAX 112  /* an AF_UNIX path (108) and then some */

enum adopt_kind {
        ADOPT_SERVICE, /* state=running with its main PID */
        ADOPT_SLICE,   /* state=active, so its services keep their parent */
        ADOPT_SOCKET,  /* state=listening or running, with its fds */
        ADOPT_SCOPE,   /* state=running, its cgroup's processes */
};

/* A socket unit's Listen*= as the unit file says it (the address systemd
 * compares), and the fd rescue mode hands over for it. */
enum adopt_port_kind {
        ADOPT_PORT_STREAM,    /* ListenStream= */
        ADOPT_PORT_DGRAM,     /* ListenDatagram= */
        ADOPT_PORT_SEQPACKET, /* ListenSequentialPacket= */
        ADOPT_PORT_NETLINK,   /* ListenNetlink= "FAMILY GROUP" */
};

/* The kind's word in discovery's text ("stream"...), and its socket type
 * (SOCK_STREAM...; netlink: SOCK_RAW, as systemd parses ListenNetlink=). */
const char *adopt_port_kind_name(enum adopt_port_kind kind);
int adopt_port_kind_type(enum adopt_port_kind kind);

struct adopt_port {
        enum adopt_port_kind kind;
        int fd;
        char address[ADOPT_ADDRESS_MAX];
};

struct adopt_unit {
        enum adopt_kind kind;
        char name[ADOPT_NAME_MAX];     /* "web.service" */
        char cgroup[ADOPT_CGROUP_MAX]; /* "/system.slice/web.service" */
        char invocation_id[ADOPT_INVOCATION_LEN + 1];
        pid_t main_pid;
        uint64_t start_mono_usec; /* the main process's start, CLOCK_MONOTONIC */
        /* PrivateTmp= directories the main process has as /tmp and /var/tmp
         * ("" if none, or not sure): systemd's exec runtime, so that the stop
         * removes them (and a restart gets new ones). */
        char tmp_dir[ADOPT_CGROUP_MAX], var_tmp_dir[ADOPT_CGROUP_MAX];
        /* WatchdogSec= as the main process got it (WATCHDOG_USEC=), 0 if none */
        uint64_t watchdog_usec;
        /* Set by rescue mode, not discovery: journald's notify socket was
         * connected to the new one (init/notify.h adopt_reconnect_notify), so
         * its WATCHDOG=1 arrives and its watchdog need not be overridden. */
        bool notify_reconnected;
        /* A RemainAfterExit=yes service whose processes ended: state=exited,
         * no main PID, no cgroup (systemd pruned it). */
        bool exited;
        /* Sockets: running (Accept=no, its service adopted) or listening. */
        bool running;
        unsigned n_ports;
        struct adopt_port ports[ADOPT_PORTS_MAX];
};

/* The manager's clocks when the text is written (watchdog timestamps are
 * "now"; start times are converted to realtime from them). */
struct adopt_clock {
        uint64_t realtime_usec, monotonic_usec;
};

/* Pure: may the serialization of systemd MAJOR be synthesized? Only the
 * versions whose format was read and tested (252, 257). */
bool adopt_version_supported(unsigned major);

/* Pure: is s a valid unit name of the given kind (no blank, no '/', the
 * right suffix, 1..ADOPT_NAME_MAX-1 bytes)? */
bool adopt_unit_name_valid(const char *s, enum adopt_kind kind);

/* Discovery's text, one unit a line:
 *   service NAME CGROUP MAIN_PID START_MONO_USEC INVOCATION_ID [OPTION...]
 *     options: tmp=DIR var-tmp=DIR (PrivateTmp=, both or neither),
 *              watchdog-usec=N (the main process's WATCHDOG_USEC=)
 *   slice NAME CGROUP
 *   exited NAME INVOCATION_ID    (a RemainAfterExit=yes service, active)
 *   scope NAME CGROUP INVOCATION_ID
 *   socket NAME listening|running FD stream|dgram|seqpacket|netlink ADDRESS
 *                                (one line per port, consecutive; a netlink
 *                                ADDRESS is "FAMILY GROUP")
 *   skip NAME REASON...          (left out: stopped as a left-over)
 * Parse into units (at most max); skip lines are ignored here. 0 and *n, or
 * -EINVAL with the bad line's number in *bad_line (nothing is trusted from a
 * text with a malformed line), -E2BIG when more than max. */
int adopt_parse(const char *text, struct adopt_unit *units, size_t max, size_t *n, unsigned *bad_line);

/* Pure: has discovery's text a line "WORD NAME ..." ("service", "skip"...)? */
bool adopt_text_names(const char *text, const char *word, const char *name);

#define ADOPT_NOTIFY_SOCKET "/run/systemd/notify"

/* Write the serialization of units into buf (with notify_fd >= 0, the
 * manager section hands systemd that fd as its notify socket, bound at
 * ADOPT_NOTIFY_SOCKET; len bytes, NUL-terminated).
 * Returns its length, or -ENOBUFS if it does not fit, -EINVAL for a unit
 * with an empty name or no main PID. */
int adopt_serialize(const struct adopt_unit *units, size_t n, const struct adopt_clock *now, int notify_fd, char *buf,
                    size_t len);

/* Pure: is cgroup path (of a left-over process) one of the adopted
 * services' or scopes' cgroups or below one? */
bool adopt_cgroup_adopted(const struct adopt_unit *units, size_t n, const char *path);

/* Pure: N of "--deserialize N" or "--deserialize=N" in a command line as
 * /proc/PID/cmdline holds it (len bytes, NUL-separated): the fd a systemd
 * reads its serialization from. -ENOENT if absent, -EINVAL if not a number. */
int adopt_deserialize_fd_arg(const char *cmdline, size_t len);
