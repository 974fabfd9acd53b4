#!/bin/bash
# Soak test: "never die, never block" under a random, seeded mix of faults and
# load, for SOAK_SECONDS (default 120). initshim is PID 1 of a PID namespace
# booting the fake systemd (tests/integration/lib.sh ns_start), with
# on-failure = restart and a kept cgroup. See docs/testing.md, "Soak".
#
# Events: crashes of "systemd" (kill -SEGV/-ABRT 1, its own segv/abort, in
# each crash-handler mode), restarted by the policy or, with on-failure
# switched to hold for that crash, held in rescue mode for 2-15 s under the
# other events until `initshimctl exec`; hangs (blocked, spinning) taken over
# by the health checks or by `initshimctl takeover`; SIGKILL of the guard
# (then `initshimctl guard start`) and of the control parser; floods of
# garbage and of status requests written straight into /run/initshim/control,
# a partial line; `initshimctl exec` while a switch is in flight; exec of bad
# candidates (a FIFO, a missing file, a world-writable one, a script);
# re-exec; RLIMIT_NOFILE 64 on PID 1 and the guard; a full /run; orphan
# storms and late orphans; new services (kept and not kept).
#
# Checks, one line each, then "soak: N passed, N failed":
#   pid1      PID 1 of the namespace is alive (same process) at every sample
#   reaping   no zombie child of PID 1 older than SOAK_ZOMBIE_AGE (8 s) at any
#             sample (four samples a second), none left at the end
#   requests  every status request (two client loops, and the floods' own)
#             and every operator request is answered or refused with an
#             error; "nobody reads" only while the guard is known dead
#   services  every service in the kept cgroup runs to the end; one outside it
#             only ends by the restart policy ("stopping left-over pid N")
#   recovery  after every fault, PID 1 is systemd again, traced by a guard,
#             within SOAK_RECOVER (60 s)
#
# SOAK_SEED=N replays a run's sequence of events (timing differs).
# SOAK_KEEP=1 keeps the work directory (it is kept anyway when a check fails).
# Functions are called through "ev_$name"; VAR= empties a variable.
# shellcheck disable=SC2317,SC1007
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then
        echo "soak: needs root (PID and mount namespaces, cgroups)" >&2
        exit 1
fi
. tests/integration/lib.sh

SOAK_SECONDS=${SOAK_SECONDS:-120}
SOAK_SEED=${SOAK_SEED:-$(($(date +%s%N) / 1000 % 2147483647))}
ZOMBIE_AGE_MAX_MS=$((${SOAK_ZOMBIE_AGE:-8} * 1000))
RECOVER_MAX=${SOAK_RECOVER:-60}
FLOOD=$B/tests/soak-flood
STORM=$B/tests/storm
for f in "$INITSHIM" "$CTL" "$FAKE" "$FLOOD" "$STORM"; do
        [ -x "$f" ] || { echo "soak: $f missing (make soak builds it)" >&2; exit 1; }
done

W=$(mktemp -d /tmp/initshim-soak.XXXXXX)
RANDOM=$SOAK_SEED
BG=()            # background jobs (pids) of this script
declare -A EV_DONE  # events done, by kind
declare -A EV_SKIP  # events skipped (precondition not met), by kind
RECOVERIES=0 RECOVER_FAILS=0 RECOVER_SLOWEST=0
UNGUARDED_SINCE= RUN_FULL_UNTIL= NOFILE_LOW_UNTIL= GUARD_START_AT= HOLD_UNTIL=
SVC_SEQ=0 FLOOD_SEQ=0

now_ms() { NOW=${EPOCHREALTIME/./}; NOW=$((10#$NOW / 1000)); }
now_ms; T0=$NOW
# rand N: R is a random number in [0, N), from the seeded sequence.
rand() { R=$((RANDOM % $1)); }
pick() { rand $#; shift "$R"; P=$1; }
say() {
        now_ms
        printf 'soak: [%6.1fs] %s\n' "$(((NOW - T0) / 100))e-1" "$*" | tee -a "$W/events.log"
}

# --- cgroups: the test's own processes and the "containers" are kept -------
# Everything this script starts (status clients, floods, orphans, PID 1
# itself) lives in $CG/kept, which keep-cgroups names: the restart policy
# must not stop it. Services moved to $CG/svc are left-overs to the policy.
cg_setup() {
        if [ -e /sys/fs/cgroup/cgroup.controllers ]; then CG_ROOT=/sys/fs/cgroup
        elif [ -e /sys/fs/cgroup/unified/cgroup.procs ]; then CG_ROOT=/sys/fs/cgroup/unified
        else return 1; fi
        CG=initshim-soak-$$
        CG_HOME=$(sed -n 's/^0:://p' /proc/$$/cgroup)
        mkdir -p "$CG_ROOT/$CG/kept" "$CG_ROOT/$CG/svc" || return 1
        echo $$ >"$CG_ROOT/$CG/kept/cgroup.procs"
}
cg_remove() { rmdir "$CG_ROOT/$CG/kept" "$CG_ROOT/$CG/svc" "$CG_ROOT/$CG"; }
cg_cleanup() {
        [ -n "${CG:-}" ] || return 0
        echo $$ >"$CG_ROOT$CG_HOME/cgroup.procs" 2>/dev/null
        wait_until 10 cg_remove || echo "soak: could not remove $CG_ROOT/$CG" >&2
}

cleanup() {
        local keep=${SOAK_KEEP:-}
        : >"$W/stop"
        for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
        [ -n "${T:-}" ] && [ -e "$T/log" ] && cp "$T/log" "$W/initshim.log"
        ns_stop
        for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
        cg_cleanup
        [ -e "$W/keep" ] && keep=1
        if [ -z "$keep" ]; then rm -rf "$W"
        elif [ -z "${VERDICT:-}" ]; then echo "soak: work directory kept: $W"; fi
}
trap cleanup EXIT
# The whole run is bounded, whatever happens to the product under test.
trap 'exit 1' TERM INT
(
        trap 'kill $sleeper 2>/dev/null; exit 0' TERM
        sleep $((SOAK_SECONDS + 400)) &
        sleeper=$!
        wait $sleeper && echo "soak: overall deadline passed" >&2 && kill -TERM $$
) &
WATCHDOG=$!
BG+=("$WATCHDOG")

if ! cg_setup; then
        echo "soak: 0 passed, 0 failed (skipped: no writable cgroup v2 hierarchy for the kept cgroup)"
        exit 0
fi

# --- the namespace -----------------------------------------------------------
FAKE2=$W/fake2 WW=$W/ww
cp "$FAKE" "$FAKE2" && cp "$FAKE" "$WW" && chmod 0755 "$FAKE2" && chmod 0777 "$WW" || exit 1
printf '#!/bin/sh\nexit 0\n' >"$W/script" && chmod 0755 "$W/script"
ns_start "version fake = $FAKE
version fake2 = $FAKE2
version ww = $WW
default = fake
on-failure = restart
restart-limit = 50
restart-interval = 60s
stop-timeout = 2s
keep-cgroups = $CG/kept
liveness-interval = 500ms
liveness-timeout = 1s
liveness-failures = 2
reexec-timeout = 2s"
wait_until 10 fake_ready 1 || fail "fake systemd did not come up"
# A small /run, so that filling it is cheap; a FIFO as a candidate binary.
in_ns mount -o remount,size=16m /run || fail "cannot resize the namespace's /run"
in_ns sh -c 'mkfifo -m 0755 /run/soak.fifo' || fail "cannot make /run/soak.fifo"

proc_stat() { # NSPID: "STATE STARTTIME" of a process of the namespace
        local l r
        { read -r l <"/proc/$NS/root/proc/$1/stat"; } 2>/dev/null || return 1
        r=${l##*) }
        # shellcheck disable=SC2086
        set -- $r
        echo "$1 ${20}"
}
P1_START=$(awk '{print $22}' "/proc/$NS/stat")
echo "$NS $P1_START" >"$W/pid1"
say "seed $SOAK_SEED (replay: SOAK_SEED=$SOAK_SEED), ${SOAK_SECONDS}s; PID 1 is host pid $NS; work directory $W"

# --- samplers and clients (background) ---------------------------------------
# PID 1 alive, and the age of every zombie child of PID 1 since first seen.
sampler() {
        local l r s key n=0 max=0 age pid worst=
        declare -A seen cur reported
        while [ ! -e "$W/stop-sampler" ]; do
                now_ms
                if ! { read -r l <"/proc/$NS/stat"; } 2>/dev/null; then
                        echo "$NOW PID 1 is gone" >>"$W/violations.pid1"
                        break
                fi
                r=${l##*) }
                # shellcheck disable=SC2086
                set -- $r
                if [ "$1" = Z ] || [ "$1" = X ] || [ "${20}" != "$P1_START" ]; then
                        echo "$NOW PID 1 died (state $1, start ${20})" >>"$W/violations.pid1"
                        break
                fi
                cur=()
                for s in /proc/"$NS"/root/proc/[0-9]*/stat; do
                        { read -r l <"$s"; } 2>/dev/null || continue
                        r=${l##*) }
                        [ "${r:0:4}" = "Z 1 " ] || continue
                        # shellcheck disable=SC2086
                        set -- $r
                        pid=${s%/stat} && pid=${pid##*/}
                        key=$pid:${20}
                        cur[$key]=1
                        [ -n "${seen[$key]:-}" ] || seen[$key]=$NOW
                        age=$((NOW - seen[$key]))
                        if [ "$age" -gt "$max" ]; then max=$age worst=$key; fi
                        if [ "$age" -gt "$ZOMBIE_AGE_MAX_MS" ] && [ -z "${reported[$key]:-}" ]; then
                                reported[$key]=1
                                echo "zombie (pid:start $key) older than $((ZOMBIE_AGE_MAX_MS / 1000)) s at $(((NOW - T0) / 1000)) s" >>"$W/violations.reaping"
                        fi
                done
                for key in "${!seen[@]}"; do [ -n "${cur[$key]:-}" ] || unset "seen[$key]"; done
                n=$((n + 1))
                echo "$n $max $worst" >"$W/sampler.tmp" && mv "$W/sampler.tmp" "$W/sampler"
                sleep 0.25 # the sampling period
        done
}

# classify RC OUTPUT: how a status request ended.
classify_status() {
        case $1 in
        0) [[ $2 == *"mode: "* ]] && C=answered || C=failed ;;
        1) [[ $2 == "initshimctl: error: "* ]] && C=refused || C=failed ;;
        3) [[ $2 == *"initshimctl: nobody reads"* ]] && C=unserved || C=failed ;;
        *) C=failed ;;
        esac
}
# One line per request: T_START T_END KIND CLASS RC DETAIL.
log_request() {
        printf '%s %s %s %s %s %s\n' "$1" "$2" "$3" "$4" "$5" "$(head -c 300 <<<"$6" | tr '\n' '|')" >>"$W/requests"
}
# A legitimate client: `initshimctl status` with its default timeout (10 s),
# paced a few a second. Events that may lose a request in flight (SIGKILL of a
# parser or of the guard: a documented limit) close the gate and wait for the
# requests in flight first.
status_client() {
        local out rc t0
        RANDOM=$((SOAK_SEED + $1))
        while [ ! -e "$W/stop" ] && [ -e "/proc/$NS" ]; do
                if [ -e "$W/gate" ]; then sleep 0.02; continue; fi
                now_ms; t0=$NOW
                out=$(flock -o -s "$W/inflight.lock" timeout 60 nsenter -t "$NS" -p -m -- "$CTL" status 2>&1)
                rc=$?
                now_ms
                classify_status "$rc" "$out"
                log_request "$t0" "$NOW" status "$C" "$rc" "$out"
                sleep "0.$((RANDOM % 4))$((RANDOM % 10))" # pacing, not synchronisation
        done
}

sampler &
BG+=($!)
SAMPLER=$!
for i in 1 2; do
        status_client "$i" &
        BG+=($!)
done

# Close the gate and wait (bounded) until no request is in flight; fd 9 holds
# the lock until release.
quiesce() {
        : >"$W/gate"
        exec 9>>"$W/inflight.lock"
        flock -x -w 60 9 && return 0
        exec 9>&-
        rm -f "$W/gate"
        return 1
}
release() { exec 9>&-; rm -f "$W/gate"; }

# operator KIND EXPECT ARGS...: an initshimctl request by the operator;
# EXPECT is answered, refused or either. Records it; returns 0 if as expected.
# 45 s unless ARGS say otherwise: more than a switch's grace (30 s), less
# than exec's default 300 s, which would stall the run.
operator() {
        local kind=$1 expect=$2 out rc t0 c
        shift 2
        [ "$1" = --timeout ] || set -- --timeout 45 "$@"
        now_ms; t0=$NOW
        # The environment of the boot (lib.sh ns_start): a guard started by
        # `guard start` keeps it, and rescue mode inherits the guard's.
        out=$(flock -o -s "$W/inflight.lock" timeout 120 nsenter -t "$NS" -p -m -- \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin INITSHIM_LOG=stderr INITSHIM_BIN="$INITSHIM" \
                INITSHIM_CONF="$T/initshim.conf" "$CTL" "$@" 2>&1)
        rc=$?
        now_ms
        case $rc in
        0) c=answered ;;
        1) [[ $out == "initshimctl: error: "* ]] && c=refused || c=failed ;;
        *) c=failed ;;
        esac
        if [ "$c" != failed ] && [ "$expect" != either ] && [ "$c" != "$expect" ]; then
                c=failed out="expected $expect: $out"
        fi
        log_request "$t0" "$NOW" "$kind" "$c" "$rc" "$*: $out"
        OUT=$out
        [ "$c" != failed ]
}

# --- state of the namespace --------------------------------------------------
fake_cmd() { in_ns timeout 5 sh -c "printf '%s\n' '$*' > /run/fake-systemd.cmd"; }
guard_pid() { pgrep -P "$NS" -x initshim-guard | head -n1; }
# Back to normal: systemd (one of the fakes) is PID 1 and up, traced by a guard.
settled() {
        local exe tracer
        exe=$(readlink "/proc/$NS/exe") || return 1
        [ "$exe" = "$FAKE" ] || [ "$exe" = "$FAKE2" ] || return 1
        tracer=$(awk '/^TracerPid/ {print $2}' "/proc/$NS/status")
        [ -n "$tracer" ] && [ "$tracer" != 0 ] && [ "$(cat "/proc/$tracer/comm" 2>/dev/null)" = initshim-guard ] &&
                ready_is_new
}
# The fake writes /run/fake-systemd.ready (by rename: a new inode) when it
# is up. Before a fault that replaces it, the run notes the current one.
READY=/run/fake-systemd.ready OLD_READY=
expect_new_fake() { OLD_READY=$(stat -c %i "/proc/$NS/root$READY" 2>/dev/null || echo none); }
ready_is_new() {
        local i
        i=$(stat -c %i "/proc/$NS/root$READY" 2>/dev/null) || return 1
        [ -z "$OLD_READY" ] || [ "$i" != "$OLD_READY" ]
}
# What the processes of initshim are doing, for the work directory.
diagnose() {
        local p ns
        now_ms
        ns=$(readlink "/proc/$NS/ns/pid")
        echo "--- at $(((NOW - T0) / 1000)) s: PID 1 $(readlink "/proc/$NS/exe"), tracer $(awk '/^TracerPid/ {print $2}' "/proc/$NS/status")"
        # shellcheck disable=SC2012 # /proc/PID/fd: numbers and link targets
        for p in $(pgrep -x 'initshim|initshim-guard|initshim-ctl|fake-systemd'); do
                [ "$(readlink "/proc/$p/ns/pid")" = "$ns" ] || continue
                echo "$p ($(awk '/^NSpid/ {print $3}' "/proc/$p/status")) $(cat "/proc/$p/comm") ppid $(awk '{print $4}' "/proc/$p/stat") state $(awk '{print $3}' "/proc/$p/stat") wchan $(cat "/proc/$p/wchan") fds: $(ls -l "/proc/$p/fd" 2>/dev/null | awk 'NR > 1 {printf "%s>%s ", $9, $11}')"
        done
}
pid1_is_initshim() { [ "$(readlink "/proc/$NS/exe")" = "$INITSHIM" ]; }
await_recovery() {
        local t0
        now_ms; t0=$NOW
        if wait_until "$RECOVER_MAX" settled; then
                now_ms
                OLD_READY=
                RECOVERIES=$((RECOVERIES + 1))
                [ $((NOW - t0)) -gt "$RECOVER_SLOWEST" ] && RECOVER_SLOWEST=$((NOW - t0))
                return 0
        fi
        RECOVER_FAILS=$((RECOVER_FAILS + 1))
        say "NOT RECOVERED within ${RECOVER_MAX}s after $1: PID 1 is $(readlink "/proc/$NS/exe"), tracer $(awk '/^TracerPid/ {print $2}' "/proc/$NS/status")"
        echo "$1" >>"$W/violations.recovery"
        # The operator's way out of rescue mode, so that the run can go on;
        # a fake that is still the old one (the fault did not happen) will do.
        pid1_is_initshim && operator repair either exec >/dev/null
        OLD_READY=
        wait_until "$RECOVER_MAX" settled
}

# Services: NAME NSPID STARTTIME KIND LOGLINE STATE, one a line.
spawn_service() {
        local kind=$1 name pid st
        SVC_SEQ=$((SVC_SEQ + 1))
        name=svc$SVC_SEQ
        fake_cmd spawn "$name" || return 1
        wait_until 5 test -s "/proc/$NS/root/run/fake-systemd.$name.pid" || return 1
        pid=$(cat "/proc/$NS/root/run/fake-systemd.$name.pid")
        if [ "$kind" = svc ]; then
                in_ns sh -c "echo $pid > $CG_ROOT/$CG/svc/cgroup.procs" || { say "cannot move $pid out of the kept cgroup"; return 1; }
        fi
        st=$(proc_stat "$pid") || return 1
        echo "$name $pid ${st#* } $kind $(($(wc -l <"$T/log") + 1)) alive" >>"$W/services"
        say "service $name pid $pid ($kind)"
}
# Update the services' states; print the lost ones.
check_services() {
        local name pid start kind line state st
        [ -e "$W/services" ] || return 0
        while read -r name pid start kind line state; do
                if [ "$state" = alive ]; then
                        st=$(proc_stat "$pid")
                        if [ "${st#* }" = "$start" ] && [ "${st% *}" != Z ] && [ "${st% *}" != X ]; then
                                :
                        elif [ "$kind" = svc ] && tail -n "+$line" "$T/log" | grep -q "stopping left-over pid $pid in "; then
                                state=stopped
                        else
                                state=lost
                                echo "service $name ($kind, pid $pid) is gone (now: '${st:-no process}') and no policy stopped it" >>"$W/violations.services"
                        fi
                fi
                echo "$name $pid $start $kind $line $state"
        done <"$W/services" >"$W/services.new"
        mv "$W/services.new" "$W/services"
}

# --- events --------------------------------------------------------------------
# Each event draws its random numbers before it looks at the namespace, so
# that a replay (SOAK_SEED) draws the same sequence whatever was skipped.
ev_crash() {
        local how mode
        pick freeze container pause; mode=$P
        pick kill-SEGV kill-ABRT segv abort; how=$P
        settled || return 1
        say "crash: $how, crash handler ends in $mode"
        fake_cmd crash-mode "$mode" || return 1
        expect_new_fake
        case $how in
        kill-*) in_ns kill -s "${how#kill-}" 1 ;;
        *) fake_cmd "$how" ;;
        esac
        await_recovery "crash ($how, $mode)"
}

# Rescue mode reads the config afresh at every takeover: a crash while it
# says "hold" keeps initshim as PID 1 for a while, under the other events,
# until the operator's `initshimctl exec`.
conf_policy() {
        sed "s/^on-failure = .*/on-failure = $1/" "$T/initshim.conf" >"$T/initshim.conf.new" &&
                mv "$T/initshim.conf.new" "$T/initshim.conf"
}
ev_hold() {
        local hold_ms
        rand 13000; hold_ms=$((2000 + R))
        settled || return 1
        conf_policy hold || return 1
        say "crash (kill -SEGV) with on-failure = hold: rescue mode until the operator's exec"
        expect_new_fake
        in_ns kill -s SEGV 1
        if ! wait_until 10 pid1_is_initshim; then
                conf_policy restart
                echo "crash with on-failure = hold: PID 1 did not become initshim" >>"$W/violations.recovery"
                RECOVER_FAILS=$((RECOVER_FAILS + 1))
                await_recovery "a crash under on-failure = hold"
                return 0
        fi
        conf_policy restart
        now_ms; HOLD_UNTIL=$((NOW + hold_ms))
}
hold_end() {
        HOLD_UNTIL=
        say "leaving rescue mode: initshimctl exec"
        operator exec-rescue answered exec >/dev/null
        await_recovery "exec from rescue mode"
}

ev_hang() {
        local how by
        pick block spin; how=$P
        pick health operator; by=$P
        settled || return 1
        say "hang: $how, taken over by the $by"
        expect_new_fake
        fake_cmd "$how" || return 1
        [ "$by" = operator ] && operator takeover answered takeover >/dev/null
        await_recovery "hang ($how, $by)"
}

guard_and_parser_gone() {
        local st
        st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
        [ -z "$st" ] || [ "$st" = Z ] || return 1
        [ -z "$(in_ns pgrep -x initshim-ctl)" ]
}
ev_kill_guard() {
        local g delay
        rand 3000; delay=$((500 + R))
        settled || return 1
        quiesce || return 1
        g=$(guard_pid)
        if [ -z "$g" ]; then release; return 1; fi
        now_ms; UNGUARDED_SINCE=$NOW
        kill -KILL "$g"
        # Until the guard and its parser (killed by PR_SET_PDEATHSIG) are
        # gone, a request may still land in the FIFO and be lost with them:
        # the documented limit of a SIGKILL. Clients wait for that.
        wait_until 10 guard_and_parser_gone "$g" || say "guard $g or its parser still there"
        release
        GUARD_START_AT=$((NOW + delay))
        say "SIGKILL to the guard (host pid $g)"
}
guard_start() {
        now_ms
        if operator guard-start answered guard start >/dev/null; then
                now_ms
                echo "$UNGUARDED_SINCE $NOW" >>"$W/unguarded"
                say "guard started again"
                UNGUARDED_SINCE= GUARD_START_AT=
        else
                say "guard start failed: ${OUT%%$'\n'*}"
                diagnose >>"$W/diagnosis"
                echo "guard start failed at $(((NOW - T0) / 1000)) s: $(tr '\n' '|' <<<"$OUT")" >>"$W/violations.recovery"
                RECOVER_FAILS=$((RECOVER_FAILS + 1))
                GUARD_START_AT=$((NOW + 2000))
        fi
}

ev_kill_parser() {
        local p n=0
        quiesce || return 1
        for p in $(in_ns pgrep -x initshim-ctl); do
                in_ns kill -KILL "$p" && n=$((n + 1))
        done
        release
        say "SIGKILL to $n parser(s)${1:+ ($1 mode)}"
        [ "$n" -gt 0 ]
}

ev_flood_garbage() {
        local n
        rand 500; n=$((R + 20))
        FLOOD_SEQ=$((FLOOD_SEQ + 1))
        say "flood: $n bad lines"
        # Under the lock too: a partial line waits until the flood is over.
        flock -o -s "$W/inflight.lock" timeout 60 nsenter -t "$NS" -p -m -- "$FLOOD" "$((SOAK_SEED + FLOOD_SEQ))" garbage "$n" >/dev/null 2>&1 &
        BG+=($!)
}

ev_flood_requests() {
        local n
        rand 100; n=$((R + 10))
        [ -z "$UNGUARDED_SINCE" ] || return 1
        FLOOD_SEQ=$((FLOOD_SEQ + 1))
        say "flood: $n status requests"
        (
                now_ms; t0=$NOW
                out=$(flock -o -s "$W/inflight.lock" timeout 60 nsenter -t "$NS" -p -m -- "$FLOOD" "$((SOAK_SEED + FLOOD_SEQ))" requests "$n" 2>&1)
                rc=$?
                now_ms
                echo "$t0 $NOW $n $rc $(tr '\n' '|' <<<"$out")" >>"$W/floods"
        ) &
        BG+=($!)
}

# A partial line while no other client writes, until the server has read it;
# then requests go on. (A request already queued behind unread bytes of a
# partial line cannot be told from them: that race is not the server's.)
ev_partial() {
        local out
        FLOOD_SEQ=$((FLOOD_SEQ + 1))
        quiesce || return 1
        out=$(timeout 30 nsenter -t "$NS" -p -m -- "$FLOOD" "$((SOAK_SEED + FLOOD_SEQ))" partial 2>&1)
        release
        say "a partial line (no newline) into the FIFO: ${out:-no answer}"
}

last_class() { awk -v k="$1" '$3 == k {c = $4} END {print c}' "$W/requests"; }
ev_switch() {
        local target other next delay
        pick exec crash nothing; next=$P
        rand 10; delay=$R
        settled || return 1
        if [ "$(readlink "/proc/$NS/exe")" = "$FAKE" ]; then target=fake2 other=fake; else target=fake other=fake2; fi
        say "switch to $target, then $next while it is in flight"
        expect_new_fake
        operator switch either exec "$target" >/dev/null &
        local sw=$!
        # The second action at a random instant of the switch (the fault's
        # timing, not a wait for a condition).
        sleep "0.$delay"
        case $next in
        exec) operator switch-again either exec "$other" >/dev/null ;;
        crash) in_ns kill -s SEGV 1 ;;
        esac
        wait "$sw"
        # A switch refused (with an error: e.g. the guard was busy with the
        # crash) starts no new systemd: nothing to wait for.
        local switched=no
        [ "$(last_class switch)" = answered ] && switched=yes
        [ "$next" = exec ] && [ "$(last_class switch-again)" = answered ] && switched=yes
        [ "$next" = crash ] || [ "$switched" = yes ] || OLD_READY=
        await_recovery "switch to $target ($next)"
}

ev_exec_bad() {
        local what exe
        pick /run/soak.fifo /nonexistent/systemd nosuchversion ww "$W/script"; what=$P
        settled || [ -n "$HOLD_UNTIL" ] || return 1
        exe=$(readlink "/proc/$NS/exe")
        say "exec of a bad candidate: $what"
        operator exec-bad refused --timeout 10 exec "$what" >/dev/null || say "exec $what: $OUT"
        # A preflight that blocked on the FIFO is released (no-op otherwise).
        [ "$what" = /run/soak.fifo ] && in_ns timeout 2 sh -c ': > /run/soak.fifo' 2>/dev/null
        [ "$(readlink "/proc/$NS/exe")" = "$exe" ] ||
                echo "exec of $what changed PID 1 from $exe to $(readlink "/proc/$NS/exe")" >>"$W/violations.recovery"
        return 0
}

ev_reexec() {
        settled || return 1
        say "re-exec (initshimctl exec)"
        expect_new_fake
        operator reexec answered exec >/dev/null
        await_recovery "re-exec"
}

# RLIMIT_NOFILE 64 on PID 1 and the guard for a while (their children
# inherit it), then what each had before. The soft limit only: raising a hard
# limit back needs CAP_SYS_RESOURCE, which a container may not have.
ev_nofile() {
        local p soft low_ms
        rand 12000; low_ms=$((3000 + R))
        [ -z "$NOFILE_LOW_UNTIL" ] || return 1
        NOFILE_SAVED=()
        for p in "$NS" $(guard_pid); do
                soft=$(prlimit --pid "$p" --nofile --noheadings --raw --output SOFT) || continue
                NOFILE_SAVED+=("$p:$soft")
                prlimit --pid "$p" --nofile=64: || say "prlimit on $p failed"
        done
        now_ms; NOFILE_LOW_UNTIL=$((NOW + low_ms))
        say "RLIMIT_NOFILE 64 on ${NOFILE_SAVED[*]%%:*} (PID 1 and the guard)"
}
nofile_restore() {
        local e p
        for e in "${NOFILE_SAVED[@]}"; do
                p=${e%%:*}
                # A guard killed meanwhile is gone; PID 1 never is.
                [ "$p" = "$NS" ] || kill -0 "$p" 2>/dev/null || continue
                prlimit --pid "$p" --nofile="${e#*:}": || say "cannot restore RLIMIT_NOFILE of $p"
        done
        NOFILE_LOW_UNTIL=
        say "RLIMIT_NOFILE restored"
}

ev_fullrun() {
        local avail full_ms
        rand 5000; full_ms=$((1000 + R))
        [ -z "$RUN_FULL_UNTIL" ] || return 1
        # dd ends with ENOSPC: that is the point. Checked: nothing left.
        in_ns sh -c 'dd if=/dev/zero of=/run/soak.fill bs=64k 2>/dev/null; exit 0'
        avail=$(in_ns df --output=avail /run | tail -n1 | tr -d ' ')
        now_ms; RUN_FULL_UNTIL=$((NOW + full_ms))
        say "/run full ($avail kB free)"
}
run_free() {
        in_ns rm -f /run/soak.fill || say "cannot remove /run/soak.fill"
        RUN_FULL_UNTIL=
        say "/run has room again"
}

ev_storm() {
        local n
        rand 3000; n=$((R + 100))
        say "orphan storm: $n"
        timeout 60 nsenter -t "$NS" -p -m -- "$STORM" "$n" 200 >/dev/null 2>&1 &
        BG+=($!)
}

ev_orphans() {
        local n
        rand 40; n=$((R + 5))
        say "$n late orphans"
        # shellcheck disable=SC2016 # $RANDOM is the namespace's bash's
        nsenter -t "$NS" -p -m -- bash -c 'for ((i = 0; i < '"$n"'; i++)); do sleep "$((RANDOM % 3)).$((RANDOM % 10))" & done' &
        BG+=($!)
}

ev_spawn() {
        local kind
        pick kept svc; kind=$P
        settled && [ -z "$RUN_FULL_UNTIL" ] || return 1
        spawn_service "$kind"
}

EVENTS=(crash crash crash hold hold hang hang kill_guard kill_guard kill_parser kill_parser kill_parser
        flood_garbage flood_garbage flood_garbage flood_requests flood_requests partial partial
        switch switch exec_bad exec_bad reexec nofile fullrun storm storm storm orphans orphans spawn spawn)
# Events that need a guard wait for settled(), which needs one: while it is
# dead a crash would end the container as without initshim (the documented
# limit, not a finding).

# --- the run -------------------------------------------------------------------
for k in kept kept svc svc; do spawn_service "$k" || fail "cannot start the first services"; done
END=$((SECONDS + SOAK_SECONDS))
while [ "$SECONDS" -lt "$END" ]; do
        ns_alive || { say "PID 1 is gone: stopping the events"; break; }
        now_ms
        [ -n "$GUARD_START_AT" ] && [ "$NOW" -ge "$GUARD_START_AT" ] && guard_start
        [ -n "$NOFILE_LOW_UNTIL" ] && [ "$NOW" -ge "$NOFILE_LOW_UNTIL" ] && nofile_restore
        [ -n "$RUN_FULL_UNTIL" ] && [ "$NOW" -ge "$RUN_FULL_UNTIL" ] && run_free
        [ -n "$HOLD_UNTIL" ] && [ "$NOW" -ge "$HOLD_UNTIL" ] && hold_end
        pick "${EVENTS[@]}"; ev=$P
        if "ev_$ev"; then
                EV_DONE[$ev]=$((${EV_DONE[$ev]:-0} + 1))
        else
                EV_SKIP[$ev]=$((${EV_SKIP[$ev]:-0} + 1))
        fi
        check_services
        rand 10
        sleep "0.$R" # pacing between events
done

# --- the end: undo, settle, check ------------------------------------------------
say "events over; undoing the lasting faults"
[ -n "$NOFILE_LOW_UNTIL" ] && nofile_restore
[ -n "$RUN_FULL_UNTIL" ] && run_free
[ -n "$HOLD_UNTIL" ] && hold_end
[ -n "$UNGUARDED_SINCE" ] && guard_start
ns_alive && await_recovery "the end of the run"
no_zombies_now() { [ "$(ns_zombies)" = 0 ]; }
if ns_alive && ! wait_until 15 no_zombies_now; then
        echo "$(ns_zombies) zombies left under PID 1 at the end" >>"$W/violations.reaping"
fi
check_services
: >"$W/stop"
for p in "${BG[@]}"; do
        [ "$p" = "$WATCHDOG" ] || [ "$p" = "$SAMPLER" ] || wait "$p" 2>/dev/null
done
: >"$W/stop-sampler"
wait "$SAMPLER"
ns_alive || echo "PID 1 is gone at the end" >>"$W/violations.pid1"
# A guard that could not be started again: dead until the end (the
# recovery check has failed already).
now_ms
[ -n "$UNGUARDED_SINCE" ] && echo "$UNGUARDED_SINCE $NOW" >>"$W/unguarded"

# --- figures -------------------------------------------------------------------
passed=0 failed=0
check() { # NAME VIOLATIONS-FILE SUMMARY
        if [ -s "$2" ]; then
                failed=$((failed + 1))
                echo "FAIL $1: $3"
                sed 's/^/    /' "$2" | head -n 15
        else
                passed=$((passed + 1))
                echo "PASS $1: $3"
        fi
}
ev_line=
for k in $(printf '%s\n' "${!EV_DONE[@]}" | sort); do ev_line="$ev_line $k ${EV_DONE[$k]},"; done
sk_line=
for k in $(printf '%s\n' "${!EV_SKIP[@]}" | sort); do sk_line="$sk_line $k ${EV_SKIP[$k]},"; done
echo "soak: events survived:${ev_line%,}"
echo "soak: events skipped (precondition not met):${sk_line%,}"

# Requests: "nobody reads" counts as a refusal only inside a window in which
# the guard was dead (killed by the run, not yet started again).
touch "$W/unguarded" "$W/requests" "$W/floods"
# Each failure names the last event before it (events.log: "soak: [ 12.3s] ...").
awk -v t0="$T0" 'BEGIN { n = 0; ne = 0 }
        FILENAME == ARGV[1] { ws[n] = $1; we[n] = $2; n++; next }
        FILENAME == ARGV[2] {
                if (match($0, /^soak: \[ *[0-9.]+s\] /)) {
                        et[ne] = t0 + 1000 * substr($0, 8, RLENGTH - 10)
                        ev[ne++] = substr($0, RLENGTH + 1)
                }
                next
        }
        {
                c = $4
                if (c == "unserved") {
                        ok = 0
                        for (i = 0; i < n; i++) if ($1 <= we[i] && $2 >= ws[i]) ok = 1
                        c = ok ? "unserved" : "failed"
                }
                count[$3 " " c]++
                kinds[$3] = 1
                if (c == "failed") {
                        d = $0
                        for (i = 1; i <= 5; i++) sub(/^[^ ]* /, "", d)
                        last = "none"
                        for (i = 0; i < ne; i++) if (et[i] <= $1) last = sprintf("%.1fs %s", (et[i] - t0) / 1000, ev[i])
                        printf "%s request at %.1fs-%.1fs (last event: %s): rc %s: %s\n", $3, ($1 - t0) / 1000, ($2 - t0) / 1000, last, $5, d > "'"$W/violations.requests"'"
                }
        }
        END {
                for (k in kinds)
                        printf "soak: requests %s: %d answered, %d refused, %d \"nobody reads\" while the guard was dead, %d failed\n", k, count[k " answered"], count[k " refused"], count[k " unserved"], count[k " failed"]
        }' "$W/unguarded" "$W/events.log" "$W/requests" | sort
awk -v t0="$T0" '{
                n += $3
                if ($5 == "answered") { a += $6; r += $8; f += $10 } else { f += $3 }
                d = $0
                for (i = 1; i <= 4; i++) sub(/^[^ ]* /, "", d)
                if ($4 != 0) printf "flood of %d requests at %.1fs-%.1fs: rc %s: %s\n", $3, ($1 - t0) / 1000, ($2 - t0) / 1000, $4, d >> "'"$W/violations.requests"'"
        }
        END { printf "soak: requests flood: %d sent, %d answered, %d refused, %d failed\n", n, a, r, f }' "$W/floods"

read -r samples max_age worst <"$W/sampler" 2>/dev/null || samples=0 max_age=0 worst=
[ "$samples" -gt 0 ] || echo "the sampler took no sample" >>"$W/violations.pid1"
svc_alive=$(awk '$6 == "alive"' "$W/services" | wc -l)
svc_stopped=$(awk '$6 == "stopped"' "$W/services" | wc -l)
svc_lost=$(awk '$6 == "lost"' "$W/services" | wc -l)
echo "soak: $samples samples; max zombie age $((max_age / 1000)).$((max_age % 1000 / 100)) s${worst:+ (pid:start $worst)}"
echo "soak: services: $svc_alive alive, $svc_stopped stopped by the restart policy, $svc_lost lost"
echo "soak: recoveries: $RECOVERIES, slowest $((RECOVER_SLOWEST / 1000)).$((RECOVER_SLOWEST % 1000 / 100)) s, $RECOVER_FAILS failed"

check pid1 "$W/violations.pid1" "PID 1 alive in all $samples samples"
check reaping "$W/violations.reaping" "no zombie older than $((ZOMBIE_AGE_MAX_MS / 1000)) s (max $((max_age / 1000)).$((max_age % 1000 / 100)) s), none at the end"
check requests "$W/violations.requests" "every request answered or refused"
check services "$W/violations.services" "no service lost ($svc_alive alive, $svc_stopped stopped by policy)"
check recovery "$W/violations.recovery" "$RECOVERIES recoveries, none failed"
[ "$failed" -gt 0 ] && : >"$W/keep"
if [ -e "$W/keep" ] || [ -n "${SOAK_KEEP:-}" ]; then
        echo "soak: work directory kept: $W (replay: SOAK_SEED=$SOAK_SEED)"
fi
VERDICT=1
echo "soak: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
