#!/bin/bash
# e2e-description: systemd 252 frozen by the cgroup freezer on init.scope, default liveness settings: initshim's guard and control parser live in /initshim from the start, `initshimctl status` and `initshimctl takeover` are answered with PID 1 frozen, the takeover thaws init.scope and keeps the services
# e2e-bed: qemu
# e2e-timeout: 240
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-expect-log: E2E-PASS freeze-takeover-252
# e2e-expect-log: cgroup /init.scope was frozen: thawed it
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
if [ "$E2E_PHASE" = rescue ]; then
	e2e_initshim_checks rescue
	e2e_expect "takeover reason" "takeover requested by the operator" "$(e2e_status_field last-takeover)"
	e2e_check_pids
	e2e_expect "init.scope thawed" 0 "$(cat /sys/fs/cgroup/init.scope/cgroup.freeze)"
	e2e_pass "frozen PID 1 taken over on request, services kept"
fi
e2e_boot_checks 252 /usr/lib/systemd/systemd
for p in initshim-guard initshim-ctl; do
	pid=$(pgrep -o -x "$p") || e2e_fail "no $p process"
	e2e_expect "cgroup of $p (pid $pid)" "0::/initshim" "$(grep '^0::' "/proc/$pid/cgroup")"
done
e2e_expect "PID 1's cgroup" "0::/init.scope" "$(grep '^0::' /proc/1/cgroup)"
e2e_start_probe_service
e2e_record_pids
e2e_hold
e2e_log "freezing init.scope"
echo 1 >/sys/fs/cgroup/init.scope/cgroup.freeze
timeout 10 bash -c 'until grep -qx "frozen 1" /sys/fs/cgroup/init.scope/cgroup.events; do sleep 0.1; done' ||
	e2e_fail "init.scope did not freeze"
status=$(initshimctl --timeout 10 status 2>&1) || e2e_fail "status not answered with PID 1 frozen: $status"
e2e_expect "mode with PID 1 frozen" normal "$(printf '%s\n' "$status" | sed -n 's/^mode: //p')"
start=$SECONDS
answer=$(initshimctl --timeout 10 takeover 2>&1) || e2e_fail "takeover not answered with PID 1 frozen: $answer"
e2e_log "takeover answered in $((SECONDS - start)) s: $answer"
