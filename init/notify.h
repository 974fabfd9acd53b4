/* on-failure = adopt, just before the exec: journald's notify socket,
 * connected to the crashed systemd's, is connected to the new one
 * (adopt.c reconnect_journald). */
#pragma once
#include <sys/types.h>

/* journald connects a datagram socket to $NOTIFY_SOCKET once, at its start
 * (journald-server.c server_connect_notify, 252 and 257), and never again:
 * after the crash its WATCHDOG=1 (and stdout streams' FDSTORE=1) fail with
 * ENOTCONN forever. Connect that very socket (shared through a
 * pidfd_getfd() copy) to path, the notify socket rescue mode bound for the
 * new systemd. The socket is pid's one AF_UNIX SOCK_DGRAM socket with no
 * address of its own whose peer is path (the crashed socket's address,
 * before journald's first failed send), else its one such socket with no
 * peer at all (after it). start_usec, if not 0: pid's start time
 * (CLOCK_MONOTONIC, as discovery reads it), checked after pidfd_open().
 * No allocation. 0, -ENOENT (none), -EEXIST (several: not sure), -ESRCH
 * (not that process), or -errno (e.g. -ENOSYS before Linux 5.6). */
int adopt_reconnect_notify(pid_t pid, unsigned long long start_usec, const char *path);
