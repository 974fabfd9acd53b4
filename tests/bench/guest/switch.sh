#!/bin/bash
# e2e-description: bench: state-preserving switch under real systemd: initshimctl exec of the same version against systemctl daemon-reexec (alternating), and version changes 252 -> 254 -> 252
# e2e-bed: qemu
# e2e-timeout: 900
# Guest side of tests/bench/switch.sh. bench.rounds=N: N of each of the
# same-version pair, alternating (order swapped every round); bench.vrounds=M:
# M changes 252 -> 254 and M back. Each timed from the command's start to its
# return, and to the first answer of the new manager (`systemctl show -p
# Version`, over PID 1's private socket, retried until it answers).
# shellcheck source=../../e2e/lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
ROUNDS=$(e2e_cmdline_value bench.rounds)
VROUNDS=$(e2e_cmdline_value bench.vrounds)
ROUNDS=${ROUNDS:-10} VROUNDS=${VROUNDS:-5}
e2e_wait_running 200
e2e_start_probe_service
e2e_record_pids
us() { echo "${EPOCHREALTIME/./}"; }
# timed KEY EXPECTED_MAJOR CMD...: BENCH KEY_ret_us, KEY_ready_us and
# KEY_stops (the guard's ptrace stops it caused). The kernel-log mark just
# before it lets the host split it with the guard's own log lines.
timed() {
	local key=$1 major=$2 t0 t1 t2 v out s0
	shift 2
	s0=$(e2e_guard_ptrace_stops)
	e2e_announce "BENCH mark=$key"
	t0=$(us)
	out=$("$@" 2>&1) || e2e_fail "$*: $out"
	t1=$(us)
	until v=$(systemctl show -p Version --value 2>/dev/null) && [ -n "$v" ]; do :; done
	t2=$(us)
	e2e_expect "manager version after $*" "$major" "${v%%[.~-]*}"
	e2e_announce "BENCH ${key}_ret_us=$((t1 - t0))"
	e2e_announce "BENCH ${key}_ready_us=$((t2 - t0))"
	e2e_announce "BENCH ${key}_stops=$(($(e2e_guard_ptrace_stops) - s0))"
}
# What the guard's preflight runs on every initshimctl exec VERSION (and once
# more after each exec of PID 1): the candidate's --version.
for v in /lib/systemd/systemd /usr/lib/systemd-254/systemd; do
	for _ in 1 2 3; do
		t0=$(us)
		"$v" --version >/dev/null
		e2e_announce "BENCH version_us=$(($(us) - t0))"
	done
done
for ((r = 0; r < ROUNDS; r++)); do
	if ((r % 2)); then
		timed reexec 252 systemctl daemon-reexec
		timed exec252 252 initshimctl exec 252
	else
		timed exec252 252 initshimctl exec 252
		timed reexec 252 systemctl daemon-reexec
	fi
done
for ((r = 0; r < VROUNDS; r++)); do
	timed to254 254 initshimctl exec 254
	timed to252 252 initshimctl exec 252
done
e2e_check_pids
e2e_pass "$ROUNDS same-version pairs, $VROUNDS version changes"
