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

enum cgroup_hierarchy {
        CGROUP_UNIFIED,       /* cgroup v2: /sys/fs/cgroup, or .../unified on hybrid hosts */
        CGROUP_NAMED_SYSTEMD, /* v1: where systemd tracks processes on legacy/hybrid hosts */
        CGROUP_FREEZER,       /* v1 freezer */
};
/* Pure: the path of hierarchy h in the text of /proc/PID/cgroup. */
int cgroup_pick_hierarchy(const char *proc_cgroup, enum cgroup_hierarchy h, char *buf, size_t n);
/* Pure: must a process at `mine` leave, PID 1 being at `pid1`? Only when it
 * shares PID 1's cgroup and that is systemd's init.scope, or the root one
 * (before systemd runs) when the root is PID 1's own (root_is_ours). */
bool cgroup_should_leave(const char *mine, const char *pid1, bool root_is_ours);

/* Move the calling process and its children out of PID 1's cgroup into
 * "/initshim", in each hierarchy where they share it, so that freezing or
 * killing PID 1's cgroup (init.scope) does not take them along; what it
 * forks afterwards is born there. Called first thing by the guard, so that
 * systemd, which moves the processes of the root cgroup into init.scope
 * when it starts, finds none of ours there; and again periodically (a v1
 * name=systemd hierarchy only exists once systemd mounted it). *moved gets
 * a bit (1 << hierarchy) for each hierarchy moved in. 0, or the first
 * -errno met. */
int cgroup_escape_pid1(unsigned *moved);
/* Is PID's cgroup frozen (v2 cgroup.freeze/cgroup.events, or a v1 freezer)? */
bool cgroup_is_frozen(pid_t pid);
