# Nothing slow in PID 1's or the guard's main loop (issue 13): candidates
# that are not systemd, FIFOs, a --version that never exits, a crash while
# a `versions` request is in flight, SIGTERM in rescue mode.

SLOW=/tmp/initshim-slow-version.$$
slow_candidate() { cp "$B/tests/slow-version" "$SLOW"; chmod 755 "$SLOW"; }
# Orphans for PID 1 to reap: each sh exits at once, its sleep is re-parented.
make_orphans() { in_ns sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sh -c "sleep 0.2 &"; done'; }
# A service that records the SIGTERM it gets and lingers until released.
start_term_recorder() {
        in_ns setsid sh -c 'echo $$ > /run/svc.pid; trap "echo term > /run/svc.term" TERM
                while [ ! -e /run/svc.release ]; do sleep 0.05; done' > /dev/null 2>&1 < /dev/null &
        wait_until 5 in_ns test -s /run/svc.pid || fail "no service"
}

test_exec_refuses_what_is_not_systemd() {
        boot_fake "stop-timeout = 2s"
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        to_rescue
        out=$(ctl exec /bin/true 2>&1) && fail "/bin/true accepted: $out"
        echo "$out" | grep -q "refused: not systemd" || fail "answer: $out"
        script=/tmp/initshim-script.$$; printf '#!/bin/sh\necho "systemd 252 (252)"\n' > "$script"; chmod 755 "$script"
        out=$(ctl exec "$script" 2>&1) && fail "a script accepted: $out"
        rm -f "$script"
        echo "$out" | grep -q "refused: not an ELF" || fail "answer: $out"
        ns_alive && mode_is rescue || fail "PID 1 gone or not in rescue mode"
        in_ns kill -0 "$svc" || fail "left-over service stopped for a refused exec"
}

test_exec_of_a_fifo_is_refused_while_pid1_reaps() {
        boot_fake
        to_rescue
        fifo=/tmp/initshim-fifo.$$; rm -f "$fifo"; mkfifo -m 0755 "$fifo"
        make_orphans
        out=$(ctl_quick exec "$fifo" 2>&1) && fail "a FIFO accepted: $out"
        rm -f "$fifo"
        echo "$out" | grep -q "refused: not a regular file" || fail "answer: $out"
        make_orphans
        wait_until 5 no_zombies || fail "$(ns_zombies) zombies: PID 1 does not reap"
}

test_takeover_with_systemd_a_fifo_reaps_and_holds() {
        P=/tmp/initshim-fake-fifo.$$; cp "$FAKE" "$P"; chmod 755 "$P"
        ns_start "systemd = $P
on-failure = restart"
        wait_until 10 fake_ready 1 || fail "fake systemd did not come up"
        # The configured binary becomes a FIFO; the restart after the crash must not hang on it.
        rm -f "$P"; mkfifo -m 0755 "$P"
        fake rescue "test crash"
        wait_until 10 mode_is rescue || { rm -f "$P"; fail "no rescue mode: PID 1 hangs"; }
        wait_until 10 grep -q "not a regular file" "$T/log" || { rm -f "$P"; fail "FIFO not refused"; }
        rm -f "$P"
        make_orphans
        wait_until 5 no_zombies || fail "$(ns_zombies) zombies: PID 1 does not reap"
}

test_versions_with_a_hanging_candidate_is_answered_and_pid1_reaps() {
        slow_candidate
        boot_fake "version slow = $SLOW
version fake = $FAKE"
        to_rescue
        ctl versions > "$T/versions.out" 2>&1 &
        client=$!
        wait_until 5 in_ns pgrep -f "$SLOW --version" > /dev/null || fail "preflight of the slow candidate not started"
        make_orphans
        wait_until 5 no_zombies || fail "$(ns_zombies) zombies while a preflight hangs"
        wait "$client" || fail "versions failed: $(cat "$T/versions.out")"
        grep -q "^slow .*refused: '$SLOW --version' did not finish within 5000 ms" "$T/versions.out" ||
                fail "verdict: $(cat "$T/versions.out")"
        grep -q "^fake .* ok: systemd 252 (fake)" "$T/versions.out" || fail "verdict: $(cat "$T/versions.out")"
        in_ns pgrep -f "$SLOW" > /dev/null && fail "the slow candidate was left running"
        rm -f "$SLOW"
}

test_crash_during_a_pending_versions_request_is_taken_over() {
        slow_candidate
        boot_fake "version slow = $SLOW"
        ctl versions > "$T/versions.out" 2>&1 &
        client=$!
        wait_until 5 in_ns pgrep -f "$SLOW --version" > /dev/null || fail "preflight of the slow candidate not started"
        fake segv
        wait_until 10 mode_is rescue || fail "crash not taken over while versions was pending"
        # Taken over before the slow preflight's deadline: the request still waits.
        kill -0 "$client" 2>/dev/null || fail "versions answered before the takeover: the guard waited for it"
        wait "$client" || fail "versions failed: $(cat "$T/versions.out")"
        grep -q "^slow .*did not finish within 5000 ms" "$T/versions.out" || fail "verdict: $(cat "$T/versions.out")"
        rm -f "$SLOW"
}

test_nonroot_initshimctl_says_permission_denied() {
        boot_fake
        out=$(in_ns setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" status 2>&1)
        rc=$?
        [ $rc -ne 0 ] || fail "exit 0 without permission: $out"
        echo "$out" | grep -q "unguarded" && fail "claims PID 1 is unguarded: $out"
        echo "$out" | grep -q "permission denied" || fail "output: $out"
}

test_sigterm_in_rescue_mode_stops_services_in_order_and_brings_systemd_back() {
        boot_fake "stop-timeout = 60s"
        to_rescue
        start_term_recorder
        svc=$(in_ns cat /run/svc.pid)
        kill -TERM "$NS"
        wait_until 10 in_ns test -e /run/svc.term || fail "the service got no SIGTERM"
        in_ns kill -0 "$svc" || fail "the service was killed outright"
        # While the service takes its time to stop, PID 1 serves and reaps.
        mode_is rescue || fail "PID 1 does not answer while stopping left-overs"
        make_orphans
        wait_until 5 no_zombies || fail "$(ns_zombies) zombies while stopping left-overs"
        in_ns touch /run/svc.release
        wait_until 20 mode_is normal || fail "systemd not back after SIGTERM"
        [ "$(pid1_exe)" = "$FAKE" ] || fail "PID 1 is $(pid1_exe)"
        grep -q "ignored SIGTERM: killed" "$T/log" && fail "services were SIGKILLed"
        true
}
