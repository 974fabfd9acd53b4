/* Small readers of /proc/PID: what a process runs, which children are
 * zombies. No allocation. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Count zombie children of parent: the processes its tasks' children files
 * name (every process of /proc on a kernel without them). */
unsigned count_zombie_children(pid_t parent);
/* The same, with their pids (at most max). */
size_t list_zombie_children(pid_t parent, pid_t *out, size_t max);
/* readlink /proc/PID/exe into buf ("" on error). */
void read_exe(pid_t pid, char *buf, size_t n);
/* Is PID 1 initshim's rescue mode? It names itself "initshim" (comm); its
 * exe path says nothing: a systemd may live under a directory named so. */
bool pid1_is_rescue_initshim(void);
/* A copy (pidfd_getfd, O_CLOEXEC) of fd fdnum of process pid (pidfd its
 * pidfd) if that fd is a socket: the new fd, -ENOTSOCK if it is not one or
 * went away, -ENOSYS (before Linux 5.6) or -EPERM (no ptrace access) that
 * end a walk, or another -errno. */
int proc_copy_socket_fd(pid_t pid, int pidfd, long fdnum);
