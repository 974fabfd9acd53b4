#!/bin/bash
# e2e-description: bench: how long the boot took to multi-user.target (booted with or without initshim, with or without its guard: the host picks the command line)
# e2e-bed: qemu
# e2e-timeout: 240
# Guest side of tests/bench/boot.sh. All times are CLOCK_MONOTONIC in
# microseconds, i.e. since the kernel started (no suspend in a guest).
# shellcheck source=../../e2e/lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_wait_running 200
mono() { systemctl show -p "$2" --value "$1"; }
mu=$(mono multi-user.target ActiveEnterTimestampMonotonic)
# systemd's own start (its userspace timestamp) and the end of its boot.
sd=$(systemctl show -p UserspaceTimestampMonotonic --value)
fin=$(systemctl show -p FinishTimestampMonotonic --value)
# (The host takes the start of userspace from the console log: the
# kernel's "Run /sbin/initshim as init process" line.)
e2e_announce "BENCH systemd_start_us=$sd"
e2e_announce "BENCH multi_user_us=$mu"
e2e_announce "BENCH finish_us=$fin"
e2e_announce "BENCH pid1=$(e2e_pid1_exe)"
[ -r /run/initshim/boot-exec-us ] && e2e_announce "BENCH boot_exec_us=$(cat /run/initshim/boot-exec-us)"
# The guard serves initshimctl while systemd runs: without one, nobody answers.
if [ -r /run/initshim/guard.pid ] && kill -0 "$(cat /run/initshim/guard.pid)" 2>/dev/null; then
	e2e_announce "BENCH guard_stops=$(e2e_guard_ptrace_stops)"
	e2e_announce "BENCH status_boot_exec_us=$(e2e_status_field boot-exec | awk '{print $1}')"
fi
e2e_pass
