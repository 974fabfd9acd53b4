/* Copies of PID 1's listening sockets, for on-failure=adopt (issue 18,
 * docs/recovery.md "Adopt"). systemd's crash handler closes every fd
 * (freeze() in 252 and 257) and an injected execve closes the O_CLOEXEC
 * ones, so the socket units' listening sockets would die with the crashed
 * PID 1. The tracer takes copies (pidfd_getfd) when a takeover begins,
 * while PID 1 is stopped with its fds intact; rescue mode takes them from
 * the guard through the list written to a file, and hands the ones it can
 * match to socket units to the new systemd. The copies are closed at PID
 * 1's next exec of another binary, before it runs: a fresh systemd binds
 * its ports again. Static storage, no allocation. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#define PID1_SOCKETS_MAX 64

/* Pure: is a socket with these properties one a socket unit may own? A
 * listening stream or seqpacket socket, a bound datagram socket without a
 * peer (AF_UNIX with a path or abstract name, AF_INET/AF_INET6 with a
 * port), or a netlink socket. */
bool pid1_socket_is_listening(int domain, int type, bool accepting, bool bound, bool peered);

/* Copy pid's listening sockets (at most PID1_SOCKETS_MAX) and write their
 * numbers in this process to list_file ("guard=PID" then "fd=N" lines).
 * A no-op if copies are held already. The count, or -errno (nothing held). */
int pid1_sockets_capture(pid_t pid, const char *list_file);

/* Close the copies and remove list_file. The count closed. */
int pid1_sockets_release(const char *list_file);

/* How many copies are held. */
int pid1_sockets_held(void);
