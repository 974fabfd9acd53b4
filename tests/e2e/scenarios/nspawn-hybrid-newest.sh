#!/bin/bash
# e2e-description: The newest systemd (forky) as PID 1 of a container on the host's hybrid cgroup hierarchy (nspawn's default here) refuses to run (cgroup v1 is gone from 258) and exits, which would end the container: initshim takes the exit over, the container lives on in rescue mode; initshimctl versions names the cause and rescue mode's initshimctl exec is refused by preflight
# e2e-bed: nspawn
# e2e-image: forky
# e2e-nspawn-cgroup: host
# e2e-timeout: 120
# e2e-config: on-failure = hold
# systemd's own refusal, then initshim's takeover of its exit.
# e2e-expect-log: Detected unsupported legacy cgroup hierarchy, refusing execution
# e2e-expect-log: PID 1 is initshim in rescue mode, [0-9]+ us after the takeover began
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
major=$(e2e_image_major)
if [ "$E2E_PHASE" != rescue ]; then
	# nspawn gives the container the host's kind of hierarchy: on a host
	# that mounts cgroup2 only there is nothing to refuse.
	[ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] ||
		e2e_fail "/sys/fs/cgroup is cgroup2 in the container (a unified host?): nothing to refuse; this scenario needs the host's legacy or hybrid hierarchy"
	e2e_fail "systemd $major runs on /sys/fs/cgroup of type $(stat -fc %T /sys/fs/cgroup): it should have refused"
fi
e2e_in_container || e2e_fail "not in a container: this is the nspawn bed's scenario"
# The host's kind: this machine's (and CI's) hierarchy is hybrid.
e2e_expect "/sys/fs/cgroup's type (the host's hybrid hierarchy)" tmpfs "$(stat -fc %T /sys/fs/cgroup)"
e2e_expect "PID 1 executable" /usr/sbin/initshim "$(e2e_pid1_exe)"
e2e_initshim_checks rescue
reason=$(e2e_status_field last-takeover)
[[ $reason == "exit: /usr/lib/systemd/systemd exited with status "*" right after exec"* ]] ||
	e2e_fail "takeover reason: $reason"
e2e_log "ok: takeover: $reason"
e2e_versions_expect "^$major .*refused: systemd $major needs the unified cgroup hierarchy" \
	"$major refused for the cgroup hierarchy"
e2e_log "ok: preflight refuses $major here"
# Rescue mode's fresh start takes only a version that passes preflight.
out=$(initshimctl exec 2>&1) && e2e_fail "initshimctl exec was accepted: $out"
[[ $out == *"no configured systemd passes preflight"* ]] || e2e_fail "initshimctl exec refused for another reason: $out"
e2e_log "ok: initshimctl exec refused: $out"
e2e_initshim_checks rescue
e2e_pass "systemd $major on a hybrid hierarchy: refused, its exit taken over, the container in rescue mode"
