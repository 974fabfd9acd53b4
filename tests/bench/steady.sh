#!/bin/bash
# Figure 2, steady-state cost of the guard, in the VM under real systemd 252.
#
# One guest, default configuration; BLOCKS blocks per arm of `systemctl
# start` + `systemctl stop` cycles of a Type=exec service, alternating block
# by block between the guard attached (as booted; CYCLES per block) and
# detached (`initshimctl guard stop`: PID 1 untraced, the anchor; DCYCLES per
# block), order swapped every block. Reports, over the attached blocks: the
# guard's ptrace stops (initshimctl status), its CPU time (and its
# children's: the D-Bus probes), its resident set after the load; the median
# latency of a start and of a stop in each arm, with their ratio; then the
# guard's CPU time over IDLE seconds without load.
#
# Then, at native speed in a PID namespace with the fake systemd as PID 1
# (default configuration): the guard's CPU time over NS_IDLE idle seconds
# with the namespace nearly empty and with NS_PROCS sleeping processes in it
# (not PID 1's children): the guard's periodic check looks for zombie
# children of PID 1 every 5 s, in PID 1's children files.
#
# BLOCKS=10 CYCLES=50 DCYCLES=20 IDLE=30 NS_IDLE=30 NS_PROCS=5000 BEDS="ns vm"
# by default (BEDS=ns: the namespace part only, about 70 s):
# 1,000 service starts/stops with the guard attached, 400 detached (about 13
# minutes, nearly all of it the VM, where a start+stop cycle takes ~0.9 s).
# Figures, not assertions.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
BLOCKS=${BLOCKS:-10}
CYCLES=${CYCLES:-50}
DCYCLES=${DCYCLES:-20}
IDLE=${IDLE:-30}
NS_IDLE=${NS_IDLE:-30}
NS_PROCS=${NS_PROCS:-5000}
BEDS=${BEDS:-ns vm}
# shellcheck source=lib-vm.sh
. tests/bench/lib-vm.sh
bench_machine

# --- the guard's idle CPU time against the number of processes --------------
B=$PWD/build
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
# ns_idle_cpu N: guard CPU (ms) over NS_IDLE s with N sleeping processes.
ns_idle_cpu() {
	local n=$1 g c0 c1 filler
	ns_start "systemd = $FAKE"
	if ! wait_until 10 fake_ready 1; then
		ns_stop
		echo -
		return
	fi
	g=$(in_ns cat /run/initshim/guard.pid)
	in_ns bash -c "for ((i = 0; i < $n; i++)); do sleep 100000 & done; wait" >/dev/null 2>&1 &
	filler=$!
	wait_until 120 bash -c "[ \$(nsenter -t $NS -p -m -- pgrep -c -x sleep) -ge $n ]"
	sleep 1
	# shellcheck disable=SC2016 # awk's fields
	c0=$(in_ns awk '{print $14 + $15}' "/proc/$g/stat")
	sleep "$NS_IDLE"
	# shellcheck disable=SC2016 # awk's fields
	c1=$(in_ns awk '{print $14 + $15}' "/proc/$g/stat")
	ns_stop
	kill "$filler" 2>/dev/null
	wait "$filler" 2>/dev/null
	echo $(((c1 - c0) * 1000 / $(getconf CLK_TCK)))
}
ns_few=- ns_many=-
case " $BEDS " in *" ns "*)
	ns_few=$(ns_idle_cpu 0)
	ns_many=$(ns_idle_cpu "$NS_PROCS") ;;
esac
echo "steady: guard idle in a PID namespace (fake systemd, native speed), CPU over $NS_IDLE s:" \
	"$ns_few ms with ~3 processes, $ns_many ms with $NS_PROCS more (goal <= 50 ms)"
case " $BEDS " in *" vm "*) ;; *) exit 0 ;; esac

vm_setup
bench_guest steady bench-steady "cmdline: bench.blocks=$BLOCKS bench.cycles=$CYCLES bench.dcycles=$DCYCLES bench.idle=$IDLE" ||
	{ echo "steady: the guest failed (console log in ${E2E_RESULTS#"$E2E_REPO"/}/)"; exit 1; }
v() { bench_values "$BENCH_LOG" "$1" | tail -n 1; }
ms() { awk -v x="$1" 'BEGIN {printf "%.1f", x / 1000}'; }
gs=$(v guard_start_med_us) ds=$(v detached_start_med_us)
gp=$(v guard_stop_med_us) dp=$(v detached_stop_med_us)
n=$(v guard_cycles)
echo "steady: real systemd 252 in the VM (TCG), $BLOCKS blocks per arm of $CYCLES (attached) / $DCYCLES (detached) start+stop cycles, alternating"
echo "  guard attached, over $n starts + $n stops: $(v guard_stops) ptrace stops;" \
	"guard CPU $(v guard_cpu_ms) ms (its probes: $(v guard_children_cpu_ms) ms) in $(($(v guard_wall_ms) / 1000)) s"
echo "  guard resident set after the load: $(v guard_rss_kb) kB ($(v guard_anon_kb) kB anonymous, peak $(v guard_hwm_kb) kB); PID 1 (systemd): $(v pid1_rss_kb) kB"
printf '  %-28s %12s %12s %7s\n' "median latency (ms)" attached detached ratio
printf '  %-28s %12s %12s %7s\n' "systemctl start" "$(ms "$gs")" "$(ms "$ds")" "$(ratio "$gs" "$ds")"
printf '  %-28s %12s %12s %7s\n' "systemctl stop" "$(ms "$gp")" "$(ms "$dp")" "$(ratio "$gp" "$dp")"
gt=$(($(v guard_total_us) / $(v guard_cycles))) dt=$(($(v detached_total_us) / $(v detached_cycles)))
printf '  %-28s %12s %12s %7s\n' "mean start+stop cycle" "$(ms "$gt")" "$(ms "$dt")" "$(ratio "$gt" "$dt")"
echo "  per-block median start (ms): attached [$(bench_values "$BENCH_LOG" block_guard_start_med_us | awk '{printf "%.0f ", $1 / 1000}')]" \
	"detached [$(bench_values "$BENCH_LOG" block_detached_start_med_us | awk '{printf "%.0f ", $1 / 1000}')]"
echo "  idle, attached, $(v idle_s) s: $(v idle_stops) ptrace stops, guard CPU $(v idle_cpu_ms) ms (its probes: $(v idle_children_cpu_ms) ms)"
echo "  other QEMU guests seen running beside ours: up to $BENCH_QEMU_OTHERS"
