#!/bin/bash
# e2e-description: bench: real systemd 252 crashes (SIGSEGV) bench.rounds times; each time the guard takes over and rescue mode restarts systemd (on-failure = restart)
# e2e-bed: qemu
# e2e-timeout: 1200
# e2e-config: on-failure = restart
# e2e-config: restart-limit = 1000
# e2e-config: stop-timeout = 5s
# e2e-config: liveness-interval = 0
# Guest side of tests/bench/takeover-real.sh. The guard logs each takeover
# (crash signal -> initshim --rescue running, and the part spent in systemd's
# crash handler) to the kernel log / the container's console; the host reads
# those lines. Here: count the rounds (in /run, which outlives the restarts)
# and measure the crash -> multi-user.target again time of each restart.
# shellcheck source=../../e2e/lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
ROUNDS=$(e2e_cmdline_value bench.rounds)
ROUNDS=${ROUNDS:-20}
S=$E2E_STATE/bench-takeover
mkdir -p "$S"
if [ "$E2E_PHASE" = rescue ]; then
	# on-failure = restart never leaves rescue mode holding, unless it failed.
	e2e_fail "rescue mode holds: $(e2e_status_field last-takeover)"
fi
e2e_wait_running 200
# CLOCK_MONOTONIC in microseconds (the same clock as systemd's timestamps).
now_us() { local t; read -r t _ </proc/uptime; echo $((${t/./} * 10000)); }
round=$(cat "$S/round" 2>/dev/null || echo 0)
if [ "$round" -gt 0 ]; then
	mu=$(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target)
	e2e_announce "BENCH restart_us=$((mu - $(cat "$S/crash_us")))"
	e2e_expect "PID 1 after restart $round" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
else
	[ -r /run/initshim/boot-exec-us ] && e2e_announce "BENCH boot_exec_us=$(cat /run/initshim/boot-exec-us)"
fi
if [ "$round" -ge "$ROUNDS" ]; then
	guard=$(cat /run/initshim/guard.pid)
	e2e_initshim_checks normal
	e2e_announce "BENCH guard_rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$guard/status")"
	s=$(cat "/proc/$guard/stat")
	# shellcheck disable=SC2086 # split into fields (the first is field 3)
	set -- ${s##*) }
	e2e_announce "BENCH guard_cpu_ms=$(((${12} + ${13}) * 1000 / $(getconf CLK_TCK)))"
	e2e_pass "$ROUNDS takeovers"
fi
echo $((round + 1)) >"$S/round"
# The core dumps of the crash handler: / of the VM is RAM.
rm -f /core*
e2e_log "round $((round + 1)) of $ROUNDS: SIGSEGV to PID 1"
e2e_hold
now_us >"$S/crash_us"
kill -SEGV 1
