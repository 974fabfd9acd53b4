#!/bin/bash
# e2e-description: the guard costs nothing in steady state: no ptrace stop over many service restarts, small resident set, oom_score_adj -1000; guard stop/start detach and re-attach
# e2e-bed: qemu
# e2e-timeout: 600
# e2e-config: liveness-interval = 0
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
# Any stop per restart shows as a difference after 50 as after 1,000 (the
# assertion is equality); tests/bench/steady.sh measures 1,000. Under TCG a
# restart costs ~2 s: 200 made this the longest scenario (7.8 min).
RESTARTS=${RESTARTS:-50}
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_guard_traces_pid1
guard=$(cat /run/initshim/guard.pid)
e2e_expect "guard oom_score_adj" -1000 "$(cat "/proc/$guard/oom_score_adj")"
# A service that may restart without systemd's start rate limit.
e2e_restartable_service e2e-steady
systemctl start e2e-steady.service || e2e_fail "cannot start the test service"
s0=$(e2e_guard_ptrace_stops) || e2e_fail "status reports no ptrace stops: $(initshimctl status 2>&1 | grep '^guard:')"
e2e_log "ptrace stops before: $s0; restarting a service $RESTARTS times"
start=$SECONDS
for ((i = 0; i < RESTARTS; i++)); do
	systemctl restart e2e-steady.service || e2e_fail "restart $i failed"
done
s1=$(e2e_guard_ptrace_stops) || e2e_fail "status reports no ptrace stops: $(initshimctl status 2>&1 | grep '^guard:')"
e2e_log "$RESTARTS restarts in $((SECONDS - start)) s; ptrace stops after: $s1"
e2e_expect "ptrace stops caused by $RESTARTS service restarts" "$s0" "$s1"
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$guard/status")
anon=$(awk '/^RssAnon/ {print $2}' "/proc/$guard/status")
e2e_log "guard VmRSS $rss kB (anonymous $anon kB)"
[ "$rss" -lt 1024 ] || e2e_fail "guard resident memory $rss kB, not under 1 MiB"
# Detach for strace/gdb, and back.
initshimctl guard stop >/dev/null || e2e_fail "guard stop"
e2e_expect "PID 1 traced after guard stop" 0 "$(awk '/^TracerPid/ {print $2}' /proc/1/status)"
initshimctl status | grep -q "NOT tracing PID 1: detached on request" || e2e_fail "status does not say unguarded"
initshimctl guard start >/dev/null || e2e_fail "guard start"
e2e_expect "PID 1 traced after guard start" "$guard" "$(awk '/^TracerPid/ {print $2}' /proc/1/status)"
e2e_pass "zero stops over $RESTARTS restarts, guard RSS $rss kB"
