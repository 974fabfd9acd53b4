#!/bin/bash
# e2e-description: initshimctl exec switches the running PID 1 252 -> 254 -> 247 -> 252 with state kept: each step verified by the manager's own version, services keep PIDs and states; a broken candidate is refused
# e2e-bed: qemu
# e2e-timeout: 300
# e2e-config: liveness-interval = 5s
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
units="systemd-journald.service systemd-logind.service dbus.service e2e-probe.service multi-user.target"
states() { local u; for u in $units; do printf '%s=%s ' "$u" "$(systemctl is-active "$u")"; done; }
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_start_probe_service
e2e_record_pids
before=$(states)
e2e_log "states: $before"
for v in 254 247 252; do
	out=$(initshimctl exec "$v" 2>&1) || e2e_fail "switch to $v: $out"
	e2e_log "exec $v: $out"
	e2e_expect "manager version after the switch (asked of PID 1)" "$v" "$(e2e_manager_major)"
	e2e_check_pids
	e2e_expect "unit states after the switch to $v" "$before" "$(states)"
done
cp /usr/lib/systemd-254/systemd /tmp/writable-systemd
chmod 0777 /tmp/writable-systemd
out=$(initshimctl exec /tmp/writable-systemd 2>&1) && e2e_fail "a world-writable binary was accepted: $out"
[[ $out == *"writable by group or others"* ]] || e2e_fail "not refused for being writable: $out"
e2e_log "refused as it should: $out"
e2e_expect "manager version after the refusal" 252 "$(e2e_manager_major)"
e2e_check_pids
e2e_pass "252 -> 254 -> 247 -> 252 with state kept"
