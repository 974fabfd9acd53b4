#!/bin/bash
# e2e-description: bench: the guard's steady-state cost under real systemd 252: service starts and stops with the guard attached and detached (alternating blocks)
# e2e-bed: qemu
# e2e-timeout: 1500
# Guest side of tests/bench/steady.sh. bench.blocks=B bench.cycles=N
# bench.dcycles=M bench.idle=S on the command line: B blocks per arm of N
# start+stop cycles with the guard attached (as booted) and M with it
# detached (`initshimctl guard stop`, PID 1 untraced); the arms alternate
# block by block, the order swapped every block. Then S seconds idle with
# the guard attached, for its CPU time without load.
# shellcheck source=../../e2e/lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
BLOCKS=$(e2e_cmdline_value bench.blocks)
CYCLES=$(e2e_cmdline_value bench.cycles)
DCYCLES=$(e2e_cmdline_value bench.dcycles)
IDLE=$(e2e_cmdline_value bench.idle)
BLOCKS=${BLOCKS:-10} CYCLES=${CYCLES:-50} DCYCLES=${DCYCLES:-20} IDLE=${IDLE:-30}
e2e_wait_running 200
guard=$(cat /run/initshim/guard.pid)
{ [ -n "$guard" ] && [ -d "/proc/$guard" ]; } || e2e_fail "no guard (guard.pid: $guard)"
# utime+stime and cutime+cstime of the guard, in clock ticks.
cpu() {
	local s
	s=$(cat "/proc/$guard/stat")
	# shellcheck disable=SC2086 # split into fields (the first is field 3)
	set -- ${s##*) }
	echo "$((${12} + ${13})) $((${14} + ${15}))"
}
traced() { [ "$(awk '/^TracerPid/ {print $2}' /proc/1/status)" = "$guard" ]; }
e2e_restartable_service bench-steady
D=/run/bench-steady
mkdir -p $D
: >$D/start.guard; : >$D/stop.guard; : >$D/start.detached; : >$D/stop.detached
gstops=0 gcpu=0 gccpu=0 gtime=0
hz=$(getconf CLK_TCK)
block() { # arm
	local arm=$1 i n=$DCYCLES t0 t1 t2 s0 s1 c0 c1 cc0 cc1 w0
	if [ "$arm" = guard ]; then
		n=$CYCLES
		traced || initshimctl guard start >/dev/null || e2e_fail "guard start"
		traced || e2e_fail "PID 1 not traced after guard start"
	else
		traced && { initshimctl guard stop >/dev/null || e2e_fail "guard stop"; }
		traced && e2e_fail "PID 1 still traced after guard stop"
	fi
	s0=$(e2e_guard_ptrace_stops)
	read -r c0 cc0 < <(cpu)
	w0=$EPOCHREALTIME
	: >"$D/block"
	for ((i = 0; i < n; i++)); do
		t0=$EPOCHREALTIME
		systemctl start bench-steady.service || e2e_fail "start failed"
		t1=$EPOCHREALTIME
		systemctl stop bench-steady.service || e2e_fail "stop failed"
		t2=$EPOCHREALTIME
		echo $((${t1/./} - ${t0/./})) >>"$D/start.$arm"
		echo $((${t1/./} - ${t0/./})) >>"$D/block"
		echo $((${t2/./} - ${t1/./})) >>"$D/stop.$arm"
	done
	# Median start latency of this block, to show the spread between blocks.
	e2e_announce "BENCH block_${arm}_start_med_us=$(med "$D/block")"
	if [ "$arm" = guard ]; then
		s1=$(e2e_guard_ptrace_stops)
		read -r c1 cc1 < <(cpu)
		gstops=$((gstops + s1 - s0))
		gcpu=$((gcpu + c1 - c0)) gccpu=$((gccpu + cc1 - cc0))
		gtime=$((gtime + ${EPOCHREALTIME/./} - ${w0/./}))
	fi
}
med() { sort -n "$1" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
e2e_log "$BLOCKS blocks per arm of $CYCLES (guard attached) / $DCYCLES (detached) start/stop cycles"
for ((b = 0; b < BLOCKS; b++)); do
	if ((b % 2)); then block detached; block guard; else block guard; block detached; fi
	e2e_log "block $b done"
done
traced || initshimctl guard start >/dev/null
# The guard's CPU time without load (its periodic checks), and its stops.
s0=$(e2e_guard_ptrace_stops)
read -r c0 cc0 < <(cpu)
sleep "$IDLE" # the measurement is of an idle period: nothing to wait for
s1=$(e2e_guard_ptrace_stops)
read -r c1 cc1 < <(cpu)
e2e_announce "BENCH idle_s=$IDLE"
e2e_announce "BENCH idle_stops=$((s1 - s0))"
e2e_announce "BENCH idle_cpu_ms=$(((c1 - c0) * 1000 / hz))"
e2e_announce "BENCH idle_children_cpu_ms=$(((cc1 - cc0) * 1000 / hz))"
sum() { awk '{s += $1} END {print s}' "$1"; }
for arm in guard detached; do
	e2e_announce "BENCH ${arm}_start_med_us=$(med "$D/start.$arm")"
	e2e_announce "BENCH ${arm}_stop_med_us=$(med "$D/stop.$arm")"
	e2e_announce "BENCH ${arm}_total_us=$(( $(sum "$D/start.$arm") + $(sum "$D/stop.$arm") ))"
	e2e_announce "BENCH ${arm}_cycles=$(wc -l <"$D/start.$arm")"
done
e2e_announce "BENCH guard_stops=$gstops"
e2e_announce "BENCH guard_cpu_ms=$((gcpu * 1000 / hz))"
e2e_announce "BENCH guard_children_cpu_ms=$((gccpu * 1000 / hz))"
e2e_announce "BENCH guard_wall_ms=$((gtime / 1000))"
e2e_announce "BENCH guard_rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$guard/status")"
e2e_announce "BENCH guard_anon_kb=$(awk '/^RssAnon/ {print $2}' "/proc/$guard/status")"
e2e_announce "BENCH guard_hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$guard/status")"
e2e_announce "BENCH pid1_rss_kb=$(awk '/^VmRSS/ {print $2}' /proc/1/status)"
e2e_pass "$BLOCKS blocks of $CYCLES / $DCYCLES cycles"
