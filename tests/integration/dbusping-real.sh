#!/bin/bash
# The D-Bus liveness probe (shim/health/dbusping.c, via build/tests/dbusping-probe)
# against real servers. Root. Prints what it does; see docs/health.md.
#
#  1. Real systemd: the host's /lib/systemd/systemd booted as PID 1 of a
#     systemd-nspawn container (--volatile=overlay on a bind mount of /,
#     private network) into dbp-boot.target: basic.target plus
#     dbp-slow.service, a 1.5 s oneshot, so that the boot stays "starting"
#     for a while (the unit files are bind-mounted into /run/systemd/system).
#     The probe runs in the container's PID namespace (PID 1 refuses peers
#     whose PID it cannot see) and reaches the socket through
#     /proc/PID/root/run/systemd/private. Checks: Ping answered; SystemState
#     (Properties.Get) read every 50 ms from then on until it is "running" or
#     "degraded", bounded, in boot order and with "starting" seen; a failed
#     unit makes it "degraded", reset-failed "running" again; an unknown
#     property gives EREMOTEIO with UnknownProperty, a non-string one EBADMSG;
#     Version matches systemd --version;
#     1000 pings in one process leave no fd in the probe and none in PID 1;
#     from outside PID 1's PID namespace the connection is refused; PID 1
#     stopped (SIGSTOP: "hung"), so connect() still succeeds but the probe
#     says ETIMEDOUT on time (for SystemState too); after SIGCONT it answers again and PID 1's fd
#     count returns to where it was.
#  2. dbus-daemon on a unix socket: answers Peer.Ping without Hello.
#  3. Scripted servers (python3): accepts but never answers -> ETIMEDOUT on
#     time, each connection closed at its deadline (the server sees EOF then,
#     not when the probe exits); REJECTED -> EPROTO; missing path -> ENOENT
#     and a socket nobody listens on -> ECONNREFUSED, at once.
#
# Exit 0 when everything ran and passed, 1 on any failure, 77 when no real
# systemd could be set up (the other parts still ran and passed).
set -u
cd "$(dirname "$0")/../.."
B=${B:-$PWD/build}
PROBE=$B/tests/dbusping-probe
BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}

if [ "$(id -u)" != 0 ]; then
        echo "dbusping-real: needs root" >&2
        exit 1
fi

pass=0 failed=0 skipped=0
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $*"; }
say() { echo "-- $*"; }
# wait_for SECONDS CMD...: poll a condition until it holds, bounded.
wait_for() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@" 2>/dev/null; do
                [ "$SECONDS" -lt "$deadline" ] || return 1
                sleep 0.05
        done
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

W=$(mktemp -d /tmp/dbusping-real.XXXXXX)
ROOT= NSPAWN= P1= DAEMON= PYSRV=()

cleanup() {
        [ -n "$P1" ] && kill -CONT "$P1" 2>/dev/null
        if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
                # nspawn turns SIGTERM into a clean poweroff of the container.
                kill -TERM "$NSPAWN" 2>/dev/null
                for _ in $(seq 200); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$NSPAWN" 2>/dev/null
        fi
        [ -n "$NSPAWN" ] && wait "$NSPAWN" 2>/dev/null
        [ -n "$ROOT" ] && { umount "$ROOT" 2>/dev/null; rmdir "$ROOT" 2>/dev/null; }
        [ -n "$DAEMON" ] && { kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; }
        for p in "${PYSRV[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        rm -rf "$W"
}
trap cleanup EXIT

if [ ! -x "$PROBE" ]; then
        say "building $PROBE"
        make -s "$PROBE" >/dev/null 2>&1 || {
                PROBE=$W/dbusping-probe
                gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Ishim -static -o "$PROBE" \
                        tests/integration/dbusping-probe.c shim/health/dbusping.c || { bad "cannot build the probe"; exit 1; }
        }
fi

# expect OUTPUT REGEX WHAT
expect() {
        if grep -Eq "$2" <<<"$1"; then ok "$3: $(tr '\n' ' ' <<<"$1")"; else bad "$3: got '$(tr '\n' ' ' <<<"$1")', want /$2/"; fi
}
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# ---- 1. real systemd as PID 1 of a container ------------------------------
real_systemd() {
        local sd=/lib/systemd/systemd
        [ -x "$sd" ] || sd=/usr/lib/systemd/systemd
        if ! command -v systemd-nspawn >/dev/null || [ ! -x "$sd" ]; then
                skip "real systemd: systemd-nspawn or $sd missing (package systemd-container)"
                return 77
        fi
        say "real systemd: $("$sd" --version | head -n1) as PID 1 of systemd-nspawn --volatile=overlay"
        ROOT=$(mktemp -d /tmp/dbusping-root.XXXXXX)
        mount --bind / "$ROOT" || { skip "real systemd: cannot bind-mount /"; ROOT=; return 77; }
        local t0 t1 out u binds=()
        # The boot target: basic.target, then a job that takes 1.5 s; and a
        # unit that fails, started later to see "degraded".
        printf '%s\n' '[Service]' 'Type=oneshot' 'ExecStart=/bin/sleep 1.5' >"$W/dbp-slow.service"
        printf '%s\n' '[Unit]' 'Requires=basic.target dbp-slow.service' 'After=basic.target dbp-slow.service' \
                >"$W/dbp-boot.target"
        printf '%s\n' '[Service]' 'Type=oneshot' 'ExecStart=/bin/false' >"$W/dbp-fail.service"
        for u in dbp-slow.service dbp-boot.target dbp-fail.service; do
                binds+=("--bind-ro=$W/$u:/run/systemd/system/$u")
        done
        t0=$(now_ms)
        setsid systemd-nspawn --quiet --register=no --keep-unit --volatile=overlay --private-network "${binds[@]}" \
                -D "$ROOT" "$sd" --unit=dbp-boot.target </dev/null >"$W/nspawn.log" 2>&1 &
        NSPAWN=$!
        local deadline=$((SECONDS + BOOT_TIMEOUT))
        while [ $SECONDS -lt $deadline ]; do
                kill -0 "$NSPAWN" 2>/dev/null || break
                # Every time: nspawn's first child may be its short-lived
                # outer child, not the container's PID 1.
                P1=$(pgrep -P "$NSPAWN" | tail -n1)
                if [ -n "$P1" ] && [ -S "/proc/$P1/root/run/systemd/private" ] &&
                        nsenter -t "$P1" -p -- "$PROBE" "/proc/$P1/root/run/systemd/private" 1000 >/dev/null 2>&1; then
                        break
                fi
                sleep 0.2
        done
        t1=$(now_ms)
        local sock=/proc/$P1/root/run/systemd/private
        if [ -z "$P1" ] || ! [ -S "$sock" ]; then
                skip "real systemd: container did not come up in ${BOOT_TIMEOUT}s"
                tail -n 20 "$W/nspawn.log" | sed 's/^/    /'
                return 77
        fi
        say "container PID 1 is host pid $P1, private socket up after $((t1 - t0)) ms"
        # The probe must run in PID 1's PID namespace (see below); /proc is the host's.
        in_ns() { nsenter -t "$P1" -p -- "$@"; }

        out=$(in_ns "$PROBE" "$sock" 2000)
        expect "$out" '^ok [0-9]+' "real systemd answers Peer.Ping (RTT us)"
        system_state "$sd" "$sock"

        # Once no job is left (nothing starts or stops any more), count
        # PID 1's fds around 1000 pings.
        no_jobs() { [ -z "$(nsenter -t "$P1" -a -- systemctl list-jobs --no-legend 2>&1)" ]; }
        wait_for 30 no_jobs || bad "jobs still queued: $(nsenter -t "$P1" -a -- systemctl list-jobs --no-legend 2>&1)"
        local base after
        base=$(fd_count "$P1")
        t0=$(now_ms)
        out=$(in_ns "$PROBE" "$sock" 2000 1000)
        t1=$(now_ms)
        expect "$out" '^count 1000 ok 1000 failed 0 fds ([0-9]+) \1 ' "1000 pings, no fd left in the probe ($((t1 - t0)) ms in all)"
        for _ in $(seq 50); do after=$(fd_count "$P1"); [ "$after" -le "$base" ] && break; sleep 0.1; done
        if [ "$after" -le "$base" ]; then ok "PID 1 keeps no connection: $base fds before, $after after"
        else bad "PID 1 had $base fds before 1000 pings and $after after"; fi

        # PID 1 refuses a peer whose PID it cannot see (getpeercred() -> ENODATA,
        # "Incoming private connection from unprivileged client, refusing").
        out=$("$PROBE" "$sock" 2000)
        expect "$out" '^error: ECONNRESET' "from outside PID 1's PID namespace the connection is refused"

        # Hung PID 1: the listen backlog still takes connections.
        kill -STOP "$P1"
        t0=$(now_ms)
        out=$(in_ns "$PROBE" "$sock" 500)
        t1=$(now_ms)
        expect "$out" '^error: ETIMEDOUT' "PID 1 stopped: timeout after $((t1 - t0)) ms (limit 500)"
        [ $((t1 - t0)) -ge 500 ] && [ $((t1 - t0)) -lt 1500 ] && ok "timeout on time" || bad "timeout took $((t1 - t0)) ms"
        out=$(in_ns "$PROBE" "$sock" 100 20)
        expect "$out" '^count 20 ok 0 failed 20 fds ([0-9]+) \1 ' "20 timeouts against a stopped PID 1, no fd left in the probe"
        t0=$(now_ms)
        out=$(in_ns "$PROBE" "$sock" 300 --state)
        t1=$(now_ms)
        expect "$out" '^error: ETIMEDOUT' "PID 1 stopped: SystemState times out too, after $((t1 - t0)) ms (limit 300)"
        kill -CONT "$P1"
        out=$(in_ns "$PROBE" "$sock" 5000)
        expect "$out" '^ok [0-9]+' "PID 1 continued: answers again"
        for _ in $(seq 50); do after=$(fd_count "$P1"); [ "$after" -le "$base" ] && break; sleep 0.1; done
        if [ "$after" -le "$base" ]; then ok "PID 1 dropped the 22 abandoned connections: $after fds (was $base)"
        else bad "PID 1 has $after fds after the timeouts, had $base"; fi
        return 0
}

# system_state SYSTEMD SOCKET: SystemState (Properties.Get) from the first
# answered ping until the boot finished, then other properties.
system_state() {
        local sd=$1 sock=$2 out st last="" states="" t0 end
        t0=$(now_ms)
        end=$((t0 + BOOT_TIMEOUT * 1000))
        while [ "$(now_ms)" -lt "$end" ]; do
                out=$(in_ns "$PROBE" "$sock" 1000 --state)
                st=$(sed -n 's/^ok \([a-z]*\) .*/\1/p' <<<"$out")
                if [ -z "$st" ]; then
                        bad "reading SystemState during the boot: $out"
                        break
                fi
                if [ "$st" != "$last" ]; then
                        states="$states${states:+ -> }$st at $(($(now_ms) - t0)) ms"
                        last=$st
                fi
                case $st in running | degraded) break ;; esac
                sleep 0.05
        done
        case $last in
        running | degraded) ok "SystemState until the boot finished: $states" ;;
        *) bad "SystemState not running/degraded within ${BOOT_TIMEOUT}s: $states" ;;
        esac
        # Forward only: initializing (basic.target not active yet), starting
        # (boot jobs left: dbp-slow.service), then running, or degraded if a
        # unit failed (src/core/manager.c manager_state()).
        if grep -Eq '^(initializing at [0-9]+ ms -> )?starting at [0-9]+ ms -> (running|degraded) at' <<<"$states"; then
                ok "SystemState in boot order, starting seen while dbp-slow.service ran"
        else
                bad "unexpected SystemState sequence: $states"
        fi

        # A failed unit: degraded; reset-failed: running again. systemctl is
        # only the tool to change the state (in all of PID 1's namespaces).
        if [ "$last" = running ]; then
                nsenter -t "$P1" -a -- systemctl start dbp-fail.service >/dev/null 2>&1
                out=$(in_ns "$PROBE" "$sock" 2000 --state)
                expect "$out" '^ok degraded [0-9]+' "a unit failed: SystemState"
                nsenter -t "$P1" -a -- systemctl reset-failed >/dev/null 2>&1
                out=$(in_ns "$PROBE" "$sock" 2000 --state)
                expect "$out" '^ok running [0-9]+' "after reset-failed: SystemState"
        else
                skip "degraded -> running: the boot ended degraded already"
        fi

        out=$(in_ns "$PROBE" "$sock" 2000 --property NoSuchProperty)
        expect "$out" '^error: EREMOTEIO: org\.freedesktop\.DBus\.Error\.UnknownProperty ' "unknown property"
        out=$(in_ns "$PROBE" "$sock" 2000 --property NNames)
        expect "$out" "^error: EBADMSG: property is a 'u', not a string" "a property that is not a string"
        local version
        version=$("$sd" --version | sed -n '1s/.*(\(.*\)).*/\1/p')
        out=$(in_ns "$PROBE" "$sock" 2000 --property Version)
        if [ -n "$version" ] && [ "${out#ok "$version" }" != "$out" ]; then
                ok "Version property is systemd --version's $version: $out"
        else
                bad "Version property: got '$out', want ok '$version'"
        fi
}

# ---- 2. dbus-daemon -------------------------------------------------------
dbus_daemon() {
        if ! command -v dbus-daemon >/dev/null; then
                skip "dbus-daemon not installed (package dbus-daemon)"
                return
        fi
        say "$(dbus-daemon --version | head -n1) on unix:path=$W/bus"
        dbus-daemon --session --address="unix:path=$W/bus" --nofork --nopidfile >"$W/daemon.log" 2>&1 &
        DAEMON=$!
        local out
        if ! wait_for 5 test -S "$W/bus"; then
                bad "dbus-daemon did not create $W/bus: $(cat "$W/daemon.log")"
                kill "$DAEMON"; wait "$DAEMON" 2>/dev/null; DAEMON=
                return
        fi
        out=$("$PROBE" "$W/bus" 2000)
        expect "$out" '^ok [0-9]+' "dbus-daemon answers Peer.Ping without Hello"
        kill "$DAEMON"; wait "$DAEMON" 2>/dev/null; DAEMON=
}

# ---- 3. scripted servers --------------------------------------------------
scripted() {
        if ! command -v python3 >/dev/null; then
                skip "scripted servers: python3 missing"
                return
        fi
        cat >"$W/server.py" <<'EOF'
# server.py PATH MODE LOG: accept connections; log, per connection, the
# seconds from accept to the client's EOF. MODE silent: read and ignore
# everything. reject: answer the AUTH line with REJECTED, then ignore.
# refuse: bind, never listen.
import socket, sys, threading, time
path, mode, log = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
if mode == "refuse":
    time.sleep(60)
    sys.exit(0)
s.listen(64)
s.settimeout(60)
def handle(c):
    t0 = time.monotonic()
    c.settimeout(30)
    try:
        if mode == "reject":
            buf = b""
            while b"\r\n" not in buf:
                d = c.recv(256)
                if not d:
                    break
                buf += d
            c.sendall(b"REJECTED EXTERNAL\r\n")
        while c.recv(4096):
            pass
    except OSError:
        pass
    with open(log, "a") as f:
        f.write("%.3f\n" % (time.monotonic() - t0))
    c.close()
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF
        local m out t0 t1
        for m in silent reject refuse; do
                python3 "$W/server.py" "$W/$m.sock" "$m" "$W/$m.log" &
                PYSRV+=($!)
        done
        for m in silent reject refuse; do
                # python3's start-up takes seconds on a loaded machine.
                wait_for 30 test -S "$W/$m.sock" || { bad "scripted server '$m' did not bind $W/$m.sock"; return; }
        done

        t0=$(now_ms)
        out=$("$PROBE" "$W/silent.sock" 300)
        t1=$(now_ms)
        expect "$out" '^error: ETIMEDOUT: timeout during auth' "server accepts, reads, never answers: timeout after $((t1 - t0)) ms (limit 300)"
        [ $((t1 - t0)) -ge 300 ] && [ $((t1 - t0)) -lt 1300 ] && ok "timeout on time" || bad "timeout took $((t1 - t0)) ms"
        : >"$W/silent.log"
        out=$("$PROBE" "$W/silent.sock" 200 5)
        expect "$out" '^count 5 ok 0 failed 5 fds ([0-9]+) \1 ' "5 timeouts in one process, no fd left"
        # The server logs each connection when it sees its end: wait for the
        # five. Each ended by its 200 ms deadline, while the probe still ran
        # (no lower bound: a loaded server may accept one only after the
        # probe gave up on it, and then sees its end at once).
        five_logged() { [ "$(wc -l <"$W/silent.log")" -ge 5 ]; }
        wait_for 10 five_logged
        if [ "$(wc -l <"$W/silent.log")" = 5 ] && awk '$1 > 0.6 { exit 1 }' "$W/silent.log"; then
                ok "server saw each connection closed at the deadline: $(tr '\n' ' ' <"$W/silent.log")s"
        else
                bad "server's accept-to-EOF times: $(tr '\n' ' ' <"$W/silent.log")"
        fi

        out=$("$PROBE" "$W/reject.sock" 2000)
        expect "$out" '^error: EPROTO: auth rejected: REJECTED EXTERNAL' "server rejects auth"

        t0=$(now_ms)
        out=$("$PROBE" "$W/nonexistent.sock" 2000)
        t1=$(now_ms)
        expect "$out" '^error: ENOENT' "missing socket, $((t1 - t0)) ms"
        out=$("$PROBE" "$W/refuse.sock" 2000)
        expect "$out" '^error: ECONNREFUSED' "socket nobody listens on"
}

real_systemd
rs=$?
dbus_daemon
scripted
echo "dbusping-real: $pass passed, $failed failed, $skipped skipped"
[ "$failed" -gt 0 ] && exit 1
[ "$rs" = 77 ] && exit 77
exit 0
