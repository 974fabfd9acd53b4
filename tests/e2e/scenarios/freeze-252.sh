#!/bin/bash
# e2e-description: systemd 252 made unresponsive by the cgroup freezer on init.scope: the guard (in its own cgroup) sees Ping time out, skips the re-exec a frozen PID 1 cannot do (reexec-timeout is long), thaws and takes over
# e2e-bed: qemu
# e2e-timeout: 240
# e2e-config: on-failure = hold
# e2e-config: liveness-interval = 2s
# e2e-config: liveness-timeout = 2s
# e2e-config: liveness-failures = 2
# e2e-config: reexec-timeout = 600s
# e2e-result: host
# e2e-expect-log: E2E-PASS freeze-252
# e2e-expect-log: PID 1's cgroup is frozen, a re-exec cannot happen
# e2e-expect-log: cgroup /init.scope was frozen: thawed it
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
if [ "$E2E_PHASE" = rescue ]; then
	e2e_initshim_checks rescue
	reason=$(e2e_status_field last-takeover)
	[[ $reason == unresponsive* ]] || e2e_fail "takeover reason: $reason"
	e2e_log "takeover: $reason"
	e2e_check_pids
	e2e_expect "init.scope thawed" 0 "$(cat /sys/fs/cgroup/init.scope/cgroup.freeze)"
	e2e_pass "frozen PID 1 detected and taken over"
fi
e2e_boot_checks 252 /usr/lib/systemd/systemd
timeout 30 bash -c 'until initshimctl status | grep -q "^check-liveness: ok"; do sleep 0.2; done' ||
	e2e_fail "liveness never ok: $(initshimctl status | grep check-liveness)"
e2e_guard_traces_pid1
guard=$(cat /run/initshim/guard.pid)
guard_cgroup=$(cat "/proc/$guard/cgroup") || e2e_fail "cannot read the guard's cgroup"
[[ $guard_cgroup == *init.scope* ]] && e2e_fail "the guard is in init.scope: it would freeze with PID 1"
parser=$(pgrep -o -P "$guard" -x initshim-ctl) || e2e_fail "the guard runs no control parser"
parser_cgroup=$(cat "/proc/$parser/cgroup") || e2e_fail "cannot read the parser's cgroup"
[[ $parser_cgroup == *init.scope* ]] && e2e_fail "the control parser is in init.scope: it would freeze with PID 1"
e2e_log "guard cgroup: $guard_cgroup"
e2e_start_probe_service
e2e_record_pids
e2e_hold
e2e_log "freezing init.scope"
echo 1 >/sys/fs/cgroup/init.scope/cgroup.freeze
