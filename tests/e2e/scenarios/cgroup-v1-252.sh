#!/bin/bash
# e2e-description: systemd 252 booted on the legacy cgroup hierarchy (systemd.unified_cgroup_hierarchy=0): preflight refuses a switch to the newest bundle (cgroup v1 is gone from 258) and 252 runs on; a crash with on-failure=restart stops the left-over services, keeps a scope in machine.slice with its PID, and a fresh 252 comes up with one of each service
# e2e-bed: qemu
# e2e-timeout: 360
# e2e-cmdline: systemd.unified_cgroup_hierarchy=0
# e2e-bundle: forky systemd libsystemd-shared
# e2e-config: on-failure = restart
# e2e-config: keep-cgroups = machine.slice
# e2e-config: stop-timeout = 5s
# e2e-expect-log: on-failure=restart: bringing up
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
# shellcheck disable=SC1091 # written by host/beds.sh
. /usr/lib/initshim-e2e/image.env
marker=$E2E_STATE/cgroup-v1-crashed
if [ ! -e "$marker" ]; then
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	e2e_expect "/sys/fs/cgroup's type (legacy: a tmpfs of v1 controllers)" tmpfs "$(stat -fc %T /sys/fs/cgroup)"
	newest=${E2E_BUNDLES##* }
	[ -n "$newest" ] || e2e_fail "no bundle of the newest systemd in the image"
	out=$(initshimctl exec "$newest" 2>&1) && e2e_fail "a switch to $newest on cgroup v1 was accepted: $out"
	[[ $out == *"needs the unified cgroup hierarchy"* ]] || e2e_fail "refused for another reason: $out"
	e2e_log "ok: $newest refused: $out"
	e2e_expect "manager version after the refusal" 252 "$(e2e_manager_major)"
	e2e_start_probe_service
	touch "$marker"
	e2e_kept_scope_then_segv
	exit 0
fi
e2e_expect "/sys/fs/cgroup's type" tmpfs "$(stat -fc %T /sys/fs/cgroup)"
e2e_restarted_with_kept_scope 'name=systemd:/machine.slice/e2e-kept.scope'
e2e_pass "cgroup v1: newest refused by preflight; crash restarted with services once, kept scope alive"
