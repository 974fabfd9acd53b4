#!/bin/bash
# e2e-description: arm64 guest (TCG), one boot: systemd 252 under initshim with the guard attached; test_inject passes; kill -STOP 1 harmless; kill -SEGV 1 taken over with services alive; back to a fresh systemd; a frozen PID 1 taken over (initshimctl takeover); rescue-mode reboot
# e2e-bed: arm64
# e2e-timeout: 600
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-expect-log: E2E-MARK arm64-252 step 1: boot, test_inject, kill -STOP 1
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIGSEGV
# e2e-expect-log: E2E-MARK arm64-252 step 2: rescue after SIGSEGV
# e2e-expect-log: leaving rescue mode: stopping left-over services, then executing /lib/systemd/systemd
# e2e-expect-log: E2E-MARK arm64-252 step 3: fresh systemd, freezing it
# e2e-expect-log: E2E-PASS arm64-252
# e2e-expect-log: reboot: Restarting system
# e2e-reject-log: E2E-FAIL arm64-252
#
# The arm64 scenarios share one boot (each TCG boot costs minutes): the steps
# follow each other through PID 1's phases, the next one named in
# $E2E_STATE/arm64-step (/run outlives every exec of PID 1).
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh

step_file=$E2E_STATE/arm64-step
test_inject=/usr/lib/initshim-e2e/test_inject

# PID 1's state letter in /proc/1/stat (T: stopped, t: in a ptrace stop).
pid1_state() {
	local rest
	read -r rest </proc/1/stat
	rest=${rest##*) }
	echo "${rest%% *}"
}

# The injection integration test, natively on arm64: every case passes.
run_test_inject() {
	local out rc t0=$SECONDS
	e2e_log "running test_inject"
	out=$("$test_inject" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/  test_inject: /'
	[ "$rc" -eq 0 ] || e2e_fail "test_inject exited with status $rc: $(printf '%s\n' "$out" | grep -m3 '^not ok' | tr '\n' ' ')"
	printf '%s\n' "$out" | grep -q -E '^[1-9][0-9]* passed, 0 failed$' ||
		e2e_fail "test_inject did not report all passed: $(printf '%s\n' "$out" | tail -n 1)"
	e2e_log "ok: test_inject: $(printf '%s\n' "$out" | tail -n 1) (in $((SECONDS - t0)) s)"
}

# kill -STOP 1 must change nothing. PID 1 handles the signal before it runs
# any other user code, so once it answers a request sent after the kill, the
# stop has been dealt with: it must answer, not be stopped, still be the
# same program, traced by the same guard, with no takeover.
check_stop_harmless() {
	local answer=$1 exe takeover
	exe=$(e2e_pid1_exe)
	takeover=$(e2e_status_field last-takeover)
	e2e_log "sending SIGSTOP to PID 1 ($exe)"
	kill -STOP 1 || e2e_fail "kill -STOP 1 failed"
	timeout 60 bash -c "$answer" >/dev/null 2>&1 ||
		e2e_fail "PID 1 does not answer after kill -STOP 1 (state $(pid1_state))"
	case $(pid1_state) in T) e2e_fail "PID 1 is stopped after kill -STOP 1" ;; esac
	e2e_expect "PID 1 executable after kill -STOP 1" "$exe" "$(e2e_pid1_exe)"
	e2e_expect "last takeover after kill -STOP 1" "$takeover" "$(e2e_status_field last-takeover)"
	e2e_guard_traces_pid1
}

case $E2E_PHASE:$(cat "$step_file" 2>/dev/null) in
systemd:)
	e2e_mark "step 1: boot, test_inject, kill -STOP 1"
	e2e_expect "machine (uname -m)" aarch64 "$(uname -m)"
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	e2e_guard_traces_pid1
	run_test_inject
	check_stop_harmless 'systemctl show -p Version'
	e2e_start_probe_service
	e2e_record_pids
	echo segv >"$step_file"
	e2e_hold # the rescue phase carries on
	rm -f /core*
	e2e_log "sending SIGSEGV to PID 1"
	kill -SEGV 1
	;;
rescue:segv)
	e2e_mark "step 2: rescue after SIGSEGV"
	e2e_expect "PID 1 executable" /usr/sbin/initshim "$(e2e_pid1_exe)"
	e2e_initshim_checks rescue
	e2e_check_pids
	reason=$(e2e_status_field last-takeover)
	e2e_log "takeover: $reason"
	[[ $reason == *"crash: SIGSEGV"* ]] || e2e_fail "takeover reason: $reason"
	ls /core* >/dev/null 2>&1 || e2e_fail "no core dump written by systemd's crash handler"
	e2e_orphan_storm 100
	e2e_wait_no_zombies 30
	check_stop_harmless 'initshimctl status | grep -q "^mode: rescue"'
	# Back to a fresh systemd, which starts this scenario again.
	echo hang >"$step_file"
	e2e_hold
	initshimctl exec 252 >"$E2E_STATE/exec.out" 2>&1
	;;
systemd:hang)
	e2e_mark "step 3: fresh systemd, freezing it"
	e2e_log "initshimctl exec 252 said: $(cat "$E2E_STATE/exec.out")"
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	e2e_guard_traces_pid1
	e2e_start_probe_service
	e2e_record_pids
	echo frozen >"$step_file"
	e2e_hold
	e2e_log "freezing init.scope, then initshimctl takeover"
	echo 1 >/sys/fs/cgroup/init.scope/cgroup.freeze
	timeout 30 bash -c 'until grep -qx "frozen 1" /sys/fs/cgroup/init.scope/cgroup.events; do sleep 0.1; done' ||
		e2e_fail "init.scope did not freeze"
	initshimctl takeover || e2e_log "initshimctl takeover: status $?"
	;;
rescue:frozen)
	e2e_expect "PID 1 executable" /usr/sbin/initshim "$(e2e_pid1_exe)"
	e2e_initshim_checks rescue
	e2e_check_pids
	reason=$(e2e_status_field last-takeover)
	e2e_log "takeover: $reason"
	[[ $reason == *"requested by the operator"* ]] || e2e_fail "takeover reason: $reason"
	e2e_expect "init.scope thawed" 0 "$(cat /sys/fs/cgroup/init.scope/cgroup.freeze)"
	e2e_verdict PASS "arm64: guard, test_inject, SIGSTOP, SIGSEGV and hang takeovers"
	e2e_hold
	initshimctl reboot || e2e_console "initshimctl reboot failed"
	;;
*)
	e2e_fail "unexpected phase $E2E_PHASE at step '$(cat "$step_file" 2>/dev/null)'"
	;;
esac
exit 0
