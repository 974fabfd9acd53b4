#!/bin/bash
# Guest half of tests/e2e/demo.sh: a short, readable tour of a machine whose
# PID 1 went kernel -> /sbin/initshim -> systemd, then through a crash of
# systemd, rescue mode and back. Runs as the e2e scenario "demo", in three
# runs: under systemd, in rescue mode (rescue-command), under systemd again.
# e2e-config: on-failure = hold
# e2e-timeout: 240
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
show_sh() { printf '$ %s\n' "$1"; sh -c "$1" 2>&1 | sed 's/^/  /'; }
services() { show_sh "ps -o pid,comm -p \"\$(pgrep -d, -x 'systemd-journal|systemd-logind|dbus-daemon')\""; }
marker=$E2E_STATE/demo-crashed

if [ "$E2E_PHASE" = rescue ]; then
	step "systemd crashed. The guard let its crash handler run (core dump), then made PID 1 exec initshim"
	show readlink /proc/1/exe
	show initshimctl status
	step "The services systemd started are still running, with the same PIDs as before the crash"
	services
	step "PID 1 still reaps: 300 orphans re-parented to it, then the zombies left under PID 1"
	e2e_orphan_storm 300
	e2e_wait_no_zombies 10
	# shellcheck disable=SC2016 # shown, then run by a shell in the guest
	show_sh 'echo "zombies under PID 1: $(ps -eo stat=,ppid= | awk '"'"'$1 ~ /^Z/ && $2 == 1'"'"' | wc -l)"'
	step "Bringing systemd back: initshimctl exec stops the left-over services, then execs systemd fresh"
	e2e_hold
	show initshimctl exec
	exit 0
fi

if [ -e "$marker" ]; then
	step "systemd is PID 1 again, booted fresh by initshim; each service runs once"
	show timeout 150 systemctl is-system-running --wait
	show readlink /proc/1/exe
	services
	show_sh "initshimctl status | grep -E '^(mode|pid1|last-takeover|guard):'"
	step "Powering off through systemd (the guard steps aside for systemd-shutdown)"
	e2e_pass
fi

step "Waiting for systemd to finish booting"
show timeout 150 systemctl is-system-running --wait

step "PID 1 is Debian's systemd, started by initshim"
show readlink /proc/1/exe
show systemctl show -p Version
show_sh "dmesg | grep -E 'initshim(-guard)?\\[' | head -n 6"

step "initshim's view (initshimctl status)"
show initshimctl status

step "PID 1 and initshim's own processes (the guard traces PID 1)"
show_sh "ps -o pid,ppid,stat,comm,args -p \"1 \$(pgrep -d ' ' '^initshim')\""

step "Services before the crash"
services

step "Crashing systemd: kill -SEGV 1 (without initshim the machine would freeze, a container would die)"
touch "$marker"
e2e_hold
kill -SEGV 1
