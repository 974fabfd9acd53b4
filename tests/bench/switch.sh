#!/bin/bash
# Figure 5, state-preserving switch under real systemd 252, in a
# systemd-nspawn container (native speed) and in the VM (TCG).
#
# One guest per bed: ROUNDS pairs of `initshimctl exec 252` (252 running:
# the guard makes systemd re-execute with its state kept and confirms it
# answers) against `systemctl daemon-reexec` (systemd's own, the anchor),
# alternating; then VROUNDS version changes 252 -> 254 and back. Each is
# timed to the command's return and to the new manager's first answer on its
# private socket (`systemctl show -p Version`, retried): `systemctl
# daemon-reexec` returns as soon as the old manager drops the connection,
# before the new one is up, so the ratio is taken on the second.
#
# In the VM each is split with the kernel-log timestamps of a mark the guest
# writes just before the command and of the guard's log lines: until the
# guard starts the switch ("guard: switching": the request, the candidate's
# preflight), until PID 1 executes the new binary ("PID 1 is now": systemd
# serializing; for a version change the guard injects the target's execve
# at the exit stop of systemd's own re-exec), and until the new manager
# answers. Also
# the guard's ptrace stops per command, and what `systemd --version` (the
# preflight) costs.
#
# ROUNDS=10 VROUNDS=5 BEDS="nspawn qemu" by default (about 5 minutes, nearly
# all of it the VM). Figures, not assertions.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROUNDS=${ROUNDS:-10}
VROUNDS=${VROUNDS:-5}
BEDS=${BEDS:-nspawn qemu}
# shellcheck source=lib-vm.sh
. tests/bench/lib-vm.sh
bench_machine
vm_setup

KEYS=(exec252:"initshimctl exec 252 (252 running)" reexec:"systemctl daemon-reexec"
	to254:"initshimctl exec 254 (252 -> 254)" to252:"initshimctl exec 252 (254 -> 252)")
med() { bench_values "$BENCH_LOG" "$1" | median; }
ms() { awk -v x="$1" 'BEGIN {if (x == "-") print "-"; else printf "%.0f", x / 1000}'; }

# Phases of each command, from the console's kernel timestamps (VM only:
# a container's console has none). Prints "KEY to_switch to_exec to_answer".
phases() {
	tr -d '\r' <"$BENCH_LOG" | awk '
	match($0, /^\[ *[0-9]+\.[0-9]+\]/) { ts = substr($0, 2, RLENGTH - 2) + 0 }
	RSTART != 1 { next }
	/BENCH mark=/ { k = $0; sub(/.*BENCH mark=/, "", k); tm = ts; tsw = ""; tex = ""; next }
	k != "" && /guard: switching PID/ && tsw == "" { tsw = ts }
	k != "" && /guard: PID 1 is now/ && tex == "" { tex = ts }
	k != "" && index($0, "BENCH " k "_ready_us=") {
		v = $0; sub(/.*_ready_us=/, "", v)
		if (tex == "") { k = ""; next }
		pre = (tsw == "") ? 0 : tsw - tm
		ser = tex - ((tsw == "") ? tm : tsw)
		printf "%s %d %d %d\n", k, pre * 1000, ser * 1000, (tm + v / 1e6 - tex) * 1000
		k = ""
	}'
}

report() { # bed label
	local bed=$1 k
	echo "switch: $2, real systemd 252, $ROUNDS alternating pairs, $VROUNDS version changes each way; medians in ms"
	printf '  %-38s %9s %9s %8s\n' "" returned answers stops
	for k in "${KEYS[@]}"; do
		printf '  %-38s %9s %9s %8s\n' "${k#*:}" "$(ms "$(med "${k%%:*}_ret_us")")" \
			"$(ms "$(med "${k%%:*}_ready_us")")" "$(med "${k%%:*}_stops")"
	done
	echo "  ratio initshimctl exec 252 / daemon-reexec, until the manager answers: $(ratio "$(med exec252_ready_us)" "$(med reexec_ready_us)")"
	echo "  ratio 252 -> 254 / daemon-reexec: $(ratio "$(med to254_ready_us)" "$(med reexec_ready_us)")"
	if [ "$bed" = qemu ]; then
		phases >"$E2E_WORK/phases"
		printf '  %-38s %9s %9s %9s\n' "phases, medians (ms)" "to switch" "to exec" "to answer"
		for k in "${KEYS[@]}"; do
			col() { awk -v k="${k%%:*}" -v c="$1" '$1 == k {print $c}' "$E2E_WORK/phases" | median; }
			printf '  %-38s %9s %9s %9s\n' "${k#*:}" "$(col 2)" "$(col 3)" "$(col 4)"
		done
	fi
	echo "  systemd --version (what the preflight runs), 252 and 254, ms: $(bench_values "$BENCH_LOG" version_us | awk '{print $1 / 1000}' | stats)"
	echo "  all samples until the manager answers (ms): exec252 [$(bench_values "$BENCH_LOG" exec252_ready_us | awk '{printf "%.0f ", $1 / 1000}')]" \
		"reexec [$(bench_values "$BENCH_LOG" reexec_ready_us | awk '{printf "%.0f ", $1 / 1000}')]"
}

for bed in $BEDS; do
	case $bed in
	nspawn) label="systemd-nspawn container" ;;
	qemu) label="VM (TCG)" ;;
	*) echo "switch: unknown bed $bed"; continue ;;
	esac
	bench_guest switch "bench-switch-$bed" "bed: $bed" "cmdline: bench.rounds=$ROUNDS bench.vrounds=$VROUNDS" ||
		echo "switch: the $label failed (console log in ${E2E_RESULTS#"$E2E_REPO"/}/); partial figures:"
	report "$bed" "$label"
done
echo "  other QEMU guests seen running beside ours: up to $BENCH_QEMU_OTHERS"
