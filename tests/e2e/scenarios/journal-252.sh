#!/bin/bash
# e2e-description: logs and metrics on a real systemd 252: the guard's lines carry priority and identifier (journalctl -t initshim-guard -p warning / -p err), the Prometheus textfile appears under node_exporter's directory, counts a switch there and back and a kill -SEGV 1 takeover across initshimctl exec; runs the commands of docs/operations.md
# e2e-bed: qemu
# e2e-timeout: 600
# e2e-config: on-failure = hold
# e2e-expect-log: E2E-MARK journal-252 step 1: journal, metrics, switch, guard stop/start
# e2e-expect-log: E2E-MARK journal-252 step 2: rescue after SIGSEGV
# e2e-expect-log: E2E-MARK journal-252 step 3: fresh systemd, counters kept
# e2e-expect-log: E2E-PASS journal-252
# e2e-reject-log: E2E-FAIL journal-252
#
# The commands of docs/operations.md run here verbatim (tests/integration/
# t_operations.sh checks that each marked command of the guide appears in
# the test its block names).
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh

step_file=$E2E_STATE/journal-step
prom=/var/lib/prometheus/node-exporter/initshim.prom

# wait_for SECONDS WHAT CMD...: until CMD succeeds.
wait_for() {
	local deadline=$((SECONDS + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || e2e_fail "$what"
		sleep 0.2
	done
}
prom_has() { grep -qxF "$1" "$prom"; }
journal_has() { # PRIORITY TEXT
	journalctl -t initshim-guard -p "$1" -o cat | grep -qF "$2"
}

step_journal() {
	# A refused switch logs at warning; -p warning shows it, -p err does not.
	out=$(initshimctl exec /nonexistent/systemd 2>&1) && e2e_fail "a missing binary was accepted: $out"
	e2e_log "refused as expected: $out"
	wait_for 30 "the refusal is not in journalctl -t initshim-guard -p warning: $(journalctl -t initshim-guard -o cat | tail -n 5)" \
		journal_has warning "switch: refusing /nonexistent/systemd"
	! journal_has err "switch: refusing /nonexistent/systemd" || e2e_fail "a warning shows with -p err"
	journalctl -t initshim-guard -p warning -o json | grep -F "switch: refusing /nonexistent/systemd" |
		grep -F '"PRIORITY":"4"' | grep -qF '"SYSLOG_FACILITY":"3"' ||
		e2e_fail "not priority 4, facility daemon: $(journalctl -t initshim-guard -p warning -o json | tail -n 1)"
	e2e_log "ok: journalctl -t initshim-guard -p warning shows the refusal, -p err does not"
	# The operator's guide: take the guard off for debugging, and back.
	initshimctl guard stop
	e2e_expect "PID 1 traced after guard stop" 0 "$(awk '/^TracerPid/ {print $2}' /proc/1/status)"
	initshimctl guard start
	e2e_guard_traces_pid1
	wait_for 30 "the notice is not in the journal" journal_has notice "detached from PID 1 on request"
	! journal_has warning "detached from PID 1 on request" || e2e_fail "a notice shows with -p warning"
	journalctl -t initshim-guard -p warning
}

step_metrics() {
	# node_exporter's directory appears: the guard writes there (within its 15 s).
	mkdir -p /var/lib/prometheus/node-exporter
	wait_for 40 "no $prom" prom_has 'initshim_mode{mode="normal"} 1'
	prom_has 'initshim_guard_attached 1' || e2e_fail "guard not attached: $(cat "$prom")"
	prom_has 'initshim_takeovers_total{reason="crash"} 0' || e2e_fail "takeovers: $(cat "$prom")"
	e2e_expect "mode in status --prometheus" 1 "$(initshimctl status --prometheus | grep -c '^initshim_mode{mode="normal"} 1$')"
	e2e_log "ok: $prom written by the guard"
}

step_switch() {
	# The guide's switch to another systemd and back.
	initshimctl versions
	initshimctl exec 254
	e2e_expect "manager after exec 254" 254 "$(e2e_manager_major)"
	initshimctl exec 252
	e2e_expect "manager after exec 252" 252 "$(e2e_manager_major)"
	wait_for 40 "switches not counted: $(grep switches "$prom")" prom_has 'initshim_switches_total{outcome="ok"} 2'
}

case $E2E_PHASE:$(cat "$step_file" 2>/dev/null) in
systemd:)
	e2e_mark "step 1: journal, metrics, switch, guard stop/start"
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	initshimctl status
	initshimctl status --prometheus
	step_metrics
	step_journal
	step_switch
	echo segv >"$step_file"
	e2e_hold # the rescue phase carries on
	rm -f /core*
	e2e_log "sending SIGSEGV to PID 1"
	kill -SEGV 1
	;;
rescue:segv)
	e2e_mark "step 2: rescue after SIGSEGV"
	e2e_initshim_checks rescue
	# The guide's "after an alert": read the status, collect the core dump.
	initshimctl status
	initshimctl status --prometheus
	initshimctl status --prometheus | grep -qxF 'initshim_mode{mode="rescue"} 1' || e2e_fail "status --prometheus: not rescue"
	initshimctl status --prometheus | grep -qxF 'initshim_takeovers_total{reason="crash"} 1' ||
		e2e_fail "takeover not counted: $(initshimctl status --prometheus | grep takeovers)"
	cat /proc/sys/kernel/core_pattern
	ls -l /core*
	echo back >"$step_file"
	e2e_hold
	initshimctl exec >"$E2E_STATE/exec.out" 2>&1
	;;
systemd:back)
	e2e_mark "step 3: fresh systemd, counters kept"
	e2e_log "initshimctl exec said: $(cat "$E2E_STATE/exec.out")"
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	wait_for 40 "textfile not back to normal: $(cat "$prom")" prom_has 'initshim_mode{mode="normal"} 1'
	prom_has 'initshim_takeovers_total{reason="crash"} 1' || e2e_fail "takeover count lost: $(grep takeovers "$prom")"
	prom_has 'initshim_switches_total{outcome="ok"} 2' || e2e_fail "switch count lost: $(grep switches "$prom")"
	cat "$prom"
	journal_has crit "is initshim in rescue mode" || e2e_fail "the takeover is not in journalctl -t initshim-guard -p crit"
	e2e_pass "journal priorities, textfile and counters across a takeover"
	;;
*)
	e2e_fail "unexpected phase $E2E_PHASE at step '$(cat "$step_file" 2>/dev/null)'"
	;;
esac
exit 0
