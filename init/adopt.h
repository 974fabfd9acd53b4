/* on-failure = adopt (issue 18, docs/recovery.md "Adopt"): bring systemd
 * back after a crash without restarting the services still running. A
 * worker discovers them (versions/discover.h); PID 1 spares their cgroups
 * from the left-overs' stop, then synthesizes a --deserialize text into a
 * memfd and executes systemd with it. Anything unsure: the caller falls
 * back to today's fresh start, with the reason logged and in ADOPT_FILE. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Start discovery for the systemd whose `--version` line is version_line.
 * 0, or -errno with the reason (unsupported version, fork failed) logged. */
int adopt_begin(const char *version_line);
/* The worker's pipe and deadline for the main loop's poll(). */
int adopt_fd(void);
int adopt_timeout_ms(void);
bool adopt_child_exited(pid_t pid);
/* Read the worker without blocking; true once discovery is over. Then
 * adopted() says whether services are adopted (else: restart as today). */
bool adopt_poll(void);
bool adopted(void);
/* recover.c: is this left-over process's cgroup an adopted service's? */
bool adopt_spares(const char *cgroup);
/* Just before the exec: the serialization in an inheritable memfd, and
 * argv = path --system --deserialize FD. 0, or -errno (logged; the caller
 * executes systemd fresh, having stopped nothing adopted: see rescue.c). */
int adopt_exec_argv(const char *path, char **argv, size_t max);
/* The exec failed: close the memfd, forget the adoption. */
void adopt_abandon(void);
