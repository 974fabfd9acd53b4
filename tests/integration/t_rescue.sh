# Rescue mode: state reset, reaping, signals, handing PID 1 back.

test_rescue_resets_inherited_state() {
        boot_fake
        fake rescue crash
        wait_until 10 mode_is rescue || fail "no rescue"
        # The fake left: every signal blocked, SIGCHLD ignored, umask 0, a stray fd.
        st=$(cat "/proc/$NS/status") || fail "PID 1 gone"
        blk=$(awk '/^SigBlk/ {print $2}' <<<"$st")
        ign=$(awk '/^SigIgn/ {print $2}' <<<"$st")
        [[ $blk =~ ^[0-9a-f]{16}$ && $ign =~ ^[0-9a-f]{16}$ ]] || fail "no signal masks in /proc/$NS/status"
        # Fault signals (SEGV BUS ILL FPE ABRT TRAP SYS) must not be blocked.
        [ $(( 0x$blk & 0x400004f8 )) -eq 0 ] || fail "fault signals still blocked: $blk"
        [ $(( 0x$ign & (1 << 16) )) -eq 0 ] || fail "SIGCHLD still ignored: $ign"
        umask=$(awk '/^Umask/ {print $2}' <<<"$st")
        [ "$umask" = 0022 ] || fail "umask $umask"
        fds=$(ls -l "/proc/$NS/fd") || fail "cannot list PID 1's fds"
        stray=$(awk '$9 >= 3 && $11 == "/dev/null"' <<<"$fds")
        [ -z "$stray" ] || fail "fd left by the old PID 1 kept: $stray"
}

# Signals sent to a hung systemd (blocked, pending) are not acted on by the
# rescue mode that takes it over: a stale Ctrl-Alt-Del (SIGINT) must not
# reboot the machine minutes later. They are dropped, and said so.
test_rescue_discards_stale_signals() {
        boot_fake
        # SIGINT must be blocked before it is sent, or the handler takes it.
        fake_block
        # Blocked: the fake's handler does not run, the signal stays pending.
        in_ns kill -INT 1
        wait_until 5 sh -c "awk '/^SigPnd|^ShdPnd/ {print \$2}' /proc/$NS/status | grep -q '[2367abef]\$'" ||
                fail "SIGINT not pending: $(grep Pnd "/proc/$NS/status")"
        ctl takeover >/dev/null || fail "takeover refused"
        wait_until 10 mode_is rescue || fail "no rescue mode"
        grep -q "discarding SIGINT left pending by the previous PID 1" "$T/log" || fail "pending SIGINT not dropped"
        ! grep -q "SIGINT from pid" "$T/log" || fail "the stale SIGINT was acted on"
        ns_alive || fail "PID 1 ended on the stale SIGINT"
}

status_says_no_zombies() { ctl_quick status | grep -qx "zombies: 0"; }

test_rescue_reaps_orphan_storm() {
        boot_fake
        to_rescue
        in_ns "$B/tests/storm" 10000 500 || fail "storm could not run"
        wait_until 10 no_zombies || fail "$(ns_zombies) zombies left"
        ns_alive || fail "PID 1 died"
        # Status counts PID 1's zombie children when asked; the parser child
        # that served the previous request may be one for an instant.
        wait_until 5 status_says_no_zombies || fail "status: $(ctl status)"
}

test_services_survive_takeover() {
        boot_fake
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        to_rescue
        in_ns kill -0 "$svc" || fail "service $svc died in the takeover"
}

# Orderly shutdown from rescue mode in a PID namespace: own sequence (no
# systemd-shutdown in a container), then reboot(2) ends the namespace's init
# with SIGHUP (reboot) or SIGINT (halt, poweroff).
expect_ns_end() {
        local want=$1
        wait_until 20 sh -c "! kill -0 $NS" || fail "PID 1 still alive"
        wait "$UNSHARE"; rc=$?
        UNSHARE=
        [ "$rc" = "$want" ] || fail "namespace ended with $rc, want $want"
}

test_signal_table() {
        local sig want
        for pair in "RTMIN+5:129" "RTMIN+4:130" "RTMIN+3:130" "INT:129" "PWR:130" "RTMIN+15:129" "RTMIN+14:130" "RTMIN+13:130"; do
                sig=${pair%%:*} want=${pair##*:}
                boot_fake
                to_rescue
                fake_pid=
                in_ns sh -c 'sleep 1000 & echo $! > /run/bystander'
                kill -s "$sig" "$NS"
                expect_ns_end "$want"
                grep -q "SIG$sig from pid" "$T/log" || fail "SIG$sig not logged"
                rm -rf "$T"
        done
}

test_orderly_shutdown_stops_processes_first() {
        boot_fake
        to_rescue
        # A process that needs SIGTERM and half a second to leave cleanly,
        # and records it. Entered with nsenter, as `docker exec` does: not a
        # child of PID 1, which must wait for it all the same.
        in_ns sh -c 'trap "sleep 0.5; echo stopped > /tmp/'"${T##*/}"'-term; exit 0" TERM; : > /tmp/'"${T##*/}"'-ready; while :; do sleep 0.1; done' &
        # Ready only once its trap is set.
        wait_until 5 test -e "/tmp/${T##*/}-ready" || fail "no bystander"
        rm -f "/tmp/${T##*/}-ready"
        ctl poweroff | grep -q poweroff || fail "poweroff refused"
        expect_ns_end 130
        test -e "/tmp/${T##*/}-term" || fail "process was not asked to stop"
        rm -f "/tmp/${T##*/}-term"
        grep -q "(container)" "$T/log" || fail "container not detected"
}

test_unhandled_signal_is_ignored() {
        boot_fake
        to_rescue
        kill -USR1 "$NS"; kill -HUP "$NS"
        # From inside, even SIGSTOP is nothing to an init (from the parent
        # namespace it is forced, like SIGKILL).
        in_ns kill -STOP 1; in_ns kill -TSTP 1
        wait_until 5 grep -q "ignoring SIGHUP" "$T/log" || fail "not logged"
        ns_alive || fail "PID 1 died"
        mode_is rescue || fail "PID 1 not serving"
}

test_sigterm_execs_systemd_again() {
        boot_fake
        to_rescue
        kill -TERM "$NS"
        wait_until 10 fake_ready 1 || fail "systemd not exec'd on SIGTERM"
        [ "$(pid1_exe)" = "$FAKE" ] || fail "PID 1 is $(pid1_exe)"
        wait_until 10 mode_is normal || fail "guard not serving after return"
}

test_exec_request_returns_to_systemd() {
        boot_fake "version fake = $FAKE
stop-timeout = 2s"
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        to_rescue
        out=$(ctl exec fake) || fail "exec refused: $out"
        echo "$out" | grep -q "executing $FAKE" || fail "answer: $out"
        wait_until 10 fake_ready 1 || fail "fake not back"
        # A fresh systemd would start its services again: the old copy is stopped.
        ! in_ns kill -0 "$svc" 2>/dev/null || fail "left-over service $svc not stopped"
        grep -q "stopping left-over pid $svc" "$T/log" || fail "not logged"
        wait_until 10 mode_is normal || fail "guard not serving"
        # And once more: a second crash is handled the same way.
        to_rescue again
}
