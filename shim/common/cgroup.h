/* Which cgroup a process is in, and whether the operator keeps it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The cgroup path systemd tracks a process by: the unified ("0::") path,
 * or on hybrid/legacy hosts the name=systemd one. "" if unknown. */
int cgroup_of(pid_t pid, char *buf, size_t n);
/* Pure: pick that path out of the text of /proc/PID/cgroup. */
int cgroup_pick(const char *proc_cgroup, char *buf, size_t n);
/* Pure: is path ("/machine.slice/x.scope") under one of the blank-separated
 * prefixes ("machine.slice kubepods")? init.scope is always kept: it holds
 * PID 1 and the guard. */
bool cgroup_is_kept(const char *path, const char *keep_list);

/* Move the calling process out of PID 1's cgroup into its own top-level
 * cgroup ("/initshim"), so that freezing or killing PID 1's cgroup
 * (init.scope) does not take the guard with it. cgroup v2 (and the
 * name=systemd and freezer hierarchies on hybrid hosts). 0 if moved or
 * already elsewhere, -errno otherwise. */
int cgroup_escape_pid1(void);
/* The same for another process of ours (the guard's control parser, which
 * systemd moved into init.scope with the guard). */
int cgroup_escape_pid1_pid(pid_t who);
