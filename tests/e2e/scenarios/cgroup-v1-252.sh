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
	systemd-run --scope --slice=machine.slice --unit=e2e-kept /bin/sleep 2000000 >/dev/null 2>&1 &
	timeout 30 bash -c 'until systemctl is-active -q e2e-kept.scope; do sleep 0.1; done' ||
		e2e_fail "kept scope did not start"
	pgrep -f 'sleep 2000000' >"$E2E_STATE/kept.pid"
	pgrep -o -x systemd-journal >"$E2E_STATE/journald.pid"
	if [ "$(wc -l <"$E2E_STATE/kept.pid")" != 1 ] || [ ! -s "$E2E_STATE/journald.pid" ]; then
		e2e_fail "kept process ($(cat "$E2E_STATE/kept.pid")) or journald ($(cat "$E2E_STATE/journald.pid")) not found"
	fi
	e2e_log "kept scope pid $(cat "$E2E_STATE/kept.pid") in $(tr '\n' ' ' <"/proc/$(cat "$E2E_STATE/kept.pid")/cgroup")"
	touch "$marker"
	e2e_hold
	e2e_log "sending SIGSEGV to PID 1"
	kill -SEGV 1
	exit 0
fi
e2e_wait_running 200
e2e_expect "PID 1 executable" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
e2e_expect "/sys/fs/cgroup's type" tmpfs "$(stat -fc %T /sys/fs/cgroup)"
for p in systemd-journal systemd-logind dbus-daemon systemd-udevd; do
	e2e_expect "number of $p processes (no second copy)" 1 "$(e2e_count_procs "$p")"
done
[ "$(pgrep -o -x systemd-journal)" != "$(cat "$E2E_STATE/journald.pid")" ] ||
	e2e_fail "journald was not restarted: the old copy was not stopped"
kept=$(cat "$E2E_STATE/kept.pid")
kill -0 "$kept" 2>/dev/null || e2e_fail "the process in the kept scope ($kept) was stopped"
grep -q 'name=systemd:/machine.slice/e2e-kept.scope' "/proc/$kept/cgroup" ||
	e2e_fail "kept process moved: $(tr '\n' ' ' <"/proc/$kept/cgroup")"
e2e_log "ok: kept scope process $kept still runs"
e2e_initshim_checks normal
[[ $(e2e_status_field last-takeover) == *"crash: SIGSEGV"* ]] || e2e_fail "last takeover: $(e2e_status_field last-takeover)"
e2e_pass "cgroup v1: newest refused by preflight; crash restarted with services once, kept scope alive"
