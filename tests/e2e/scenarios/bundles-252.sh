#!/bin/bash
# e2e-description: on the 252 (bookworm) root, initshimctl exec switches PID 1 252 -> 257 bundle (its own glibc) -> newest bundle -> 252 with state kept: same PIDs, unit states, a running job; each bundle runs units through its own systemd-executor; a bundle missing its executor or with a broken one is refused and 252 runs on; a bundle that passes preflight but whose manager never answers on its private bus is switched to, marked bad and rolled back to 252 with state kept
# e2e-bed: qemu
# e2e-timeout: 480
# e2e-bundle: trixie systemd libsystemd-shared libc6 libssl3t64
# e2e-bundle: forky systemd libsystemd-shared
# e2e-bundle-break: forky nobus nobus
# e2e-config: liveness-interval = 5s
# A switch is confirmed in about 4 s here (252 -> 257): 10 s is the time the
# never-answering bundle costs.
# e2e-config: switch-grace = 10s
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
# shellcheck disable=SC1091 # written by host/beds.sh
. /usr/lib/initshim-e2e/image.env
read -r b257 newest <<<"$E2E_BUNDLES"
{ [ "$b257" = 257 ] && [ -n "$newest" ]; } || e2e_fail "bundles in the image: '$E2E_BUNDLES', expected 257 and the newest"
bdir=/usr/lib/initshim/bundles
units="systemd-journald.service systemd-logind.service dbus.service e2e-probe.service e2e-job.service multi-user.target"
states() { local u; for u in $units; do printf '%s=%s ' "$u" "$(systemctl is-active "$u")"; done; }
# The job of e2e-job.service, "ID UNIT TYPE STATE".
job() { systemctl list-jobs --no-legend --plain e2e-job.service 2>/dev/null | awk '{ print $1, $2, $3, $4 }'; }

e2e_boot_checks 252 /usr/lib/systemd/systemd
# Bookworm has no executor: a 255+ systemd that ran units through anything
# but its bundle's would fail to start them.
[ ! -e /usr/lib/systemd/systemd-executor ] || e2e_fail "the 252 root has a /usr/lib/systemd/systemd-executor"
out=$(initshimctl versions 2>&1)
e2e_log "$out"
for v in 257 "$newest"; do
	grep -q "^$v .* ok: systemd $v " <<<"$out" || e2e_fail "bundle $v does not pass preflight: $(grep "^$v " <<<"$out")"
done
e2e_start_probe_service
# A running job: a oneshot whose start lasts until a line comes through a
# FIFO (no sleep: the probe service is the only sleep process).
mkfifo /run/e2e-job-go /run/e2e-job-started
systemd-run --no-block --unit=e2e-job --service-type=oneshot --remain-after-exit \
	/bin/sh -c 'echo started >/run/e2e-job-started; read -r _ </run/e2e-job-go' >/dev/null 2>&1 ||
	e2e_fail "cannot queue e2e-job"
timeout 60 head -n 1 /run/e2e-job-started >/dev/null || e2e_fail "e2e-job's command did not start"
jobline=$(job)
[ "${jobline##* }" = running ] || e2e_fail "e2e-job's start is not running: '$jobline'"
e2e_record_pids
before=$(states)
e2e_log "states: $before; job: $jobline"

for v in 257 "$newest" 252; do
	t0=$SECONDS
	out=$(initshimctl exec "$v" 2>&1) || e2e_fail "switch to $v: $out"
	e2e_log "exec $v ($((SECONDS - t0)) s): $out"
	e2e_expect "manager version after the switch (asked of PID 1)" "$v" "$(e2e_manager_major)"
	if [ "$v" = 252 ]; then exe=/usr/lib/systemd/systemd; else exe=$bdir/$v/systemd; fi
	e2e_expect "PID 1 executable after the switch to $v" "$exe" "$(e2e_pid1_exe)"
	e2e_check_pids
	e2e_expect "unit states after the switch to $v" "$before" "$(states)"
	e2e_expect "e2e-job's running job after the switch to $v" "$jobline" "$(job)"
	# A new unit starts: through the bundle's own executor on 257+.
	r=$(systemd-run --wait --pipe --quiet --unit="e2e-new-$v" /bin/echo "started by $v" 2>&1) ||
		e2e_fail "systemd $v cannot start a unit: $r"
	e2e_expect "output of a unit started by $v" "started by $v" "$r"
done

timeout 30 sh -c 'echo go >/run/e2e-job-go' || e2e_fail "e2e-job's command no longer reads its FIFO"
# Joins the running job and returns when it is done.
timeout 60 systemctl start e2e-job.service || e2e_fail "e2e-job did not finish after the switches"
e2e_expect "e2e-job after the switches" active "$(systemctl is-active e2e-job.service)"
e2e_expect "jobs left of e2e-job" "" "$(job)"
e2e_expect "e2e-job's result" success "$(systemctl show -p Result --value e2e-job.service)"

# A bundle without its executor, then with a broken one: refused, and
# nothing changes.
cp -a "$bdir/$newest" "$bdir/broken"
rm "$bdir/broken/systemd-executor"
out=$(initshimctl exec "$bdir/broken/systemd" 2>&1) && e2e_fail "a bundle without executor was accepted: $out"
[[ $out == *"bundle incomplete: no systemd-executor beside $bdir/broken/systemd"* ]] ||
	e2e_fail "not refused for its missing executor: $out"
e2e_log "refused as it should: $out"
cp /bin/true "$bdir/broken/systemd-executor"
out=$(initshimctl exec "$bdir/broken/systemd" 2>&1) && e2e_fail "a bundle with a broken executor was accepted: $out"
[[ $out == *"needs its systemd-executor (255+): $bdir/broken/systemd-executor: not systemd"* ]] ||
	e2e_fail "not refused for its broken executor: $out"
e2e_log "refused as it should: $out"
e2e_expect "manager version after the refusals" 252 "$(e2e_manager_major)"
e2e_expect "PID 1 executable after the refusals" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
e2e_check_pids

# A bundle that passes preflight and fails after the switch: a copy of the
# newest whose systemd cannot bind /run/systemd/private (host/bundles.sh,
# e2e-bundle-break). systemd ignores that and runs on, deserialized, but
# nothing reaches it there: no answer to the guard's Ping within
# switch-grace, so the guard marks it bad and asks it to re-execute, which
# lands in 252 with the state it had.
nobus=$bdir/nobus/systemd
grep -q "^nobus .* ok: systemd $newest " <<<"$(initshimctl versions 2>&1)" ||
	e2e_fail "the nobus bundle does not pass preflight: $(initshimctl versions 2>&1 | grep '^nobus ')"
before=$(states)
t0=$SECONDS
initshimctl exec nobus >"$E2E_STATE/exec-nobus.out" 2>&1 &
execpid=$!
# It does run (the failure is not a refusal): PID 1 becomes the copy.
deadline=$((SECONDS + 60))
until [ "$(e2e_pid1_exe)" = "$nobus" ]; do
	kill -0 "$execpid" 2>/dev/null || break
	[ $SECONDS -lt $deadline ] || e2e_fail "PID 1 did not become $nobus"
	sleep 0.2
done
e2e_expect "PID 1 executable during the switch to nobus" "$nobus" "$(e2e_pid1_exe)"
# It unlinks 252's socket and cannot bind its own.
until [ ! -S /run/systemd/private ]; do
	kill -0 "$execpid" 2>/dev/null || e2e_fail "the switch ended before /run/systemd/private went away"
	[ $SECONDS -lt $deadline ] || e2e_fail "the nobus manager left /run/systemd/private"
	sleep 0.2
done
rc=0
wait "$execpid" || rc=$?
out=$(cat "$E2E_STATE/exec-nobus.out")
e2e_log "exec nobus ($((SECONDS - t0)) s, exit $rc): $out"
[ "$rc" != 0 ] || e2e_fail "the switch to a bundle that never answers succeeded: $out"
why="no answer to Ping within 10 s after the switch"
[[ $out == *"error: $why; rolled back to /usr/lib/systemd/systemd with state kept"* ]] ||
	e2e_fail "not rolled back with state kept: $out"
e2e_expect "manager version after the rollback" 252 "$(e2e_manager_major)"
e2e_expect "PID 1 executable after the rollback" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
e2e_check_pids
e2e_expect "unit states after the rollback" "$before" "$(states)"
r=$(systemd-run --wait --pipe --quiet --unit=e2e-new-rolled-back /bin/echo "started by 252" 2>&1) ||
	e2e_fail "systemd 252 cannot start a unit after the rollback: $r"
e2e_expect "output of a unit started after the rollback" "started by 252" "$r"
line=$(initshimctl versions 2>&1 | grep '^nobus ')
[[ $line == *"marked bad: $why"* ]] || e2e_fail "nobus not marked bad: $line"
e2e_log "versions: $line"
line=$(initshimctl status 2>&1 | grep '^last-switch: ')
[ "$line" = "last-switch: /usr/lib/systemd/systemd -> $nobus: error: $why; rolled back to /usr/lib/systemd/systemd with state kept" ] ||
	e2e_fail "status lacks the rollback: $line"
dmesg | grep -q "switch: $nobus failed: $why; switching back to /usr/lib/systemd/systemd" ||
	e2e_fail "the kernel log lacks the failure: $(dmesg | grep 'switch: ' | tail -n 5)"
e2e_log "ok: nobus rolled back, marked bad, said so"
e2e_initshim_checks normal
e2e_pass "252 -> 257 bundle -> $newest bundle -> 252 with state kept; broken bundles refused; a bundle that never answers rolled back with state kept"
