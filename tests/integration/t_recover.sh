# on-failure policies after a takeover: restart (stop left-overs, keep the
# kept cgroups, exec systemd fresh), its rate limit, reboot, hold.

svc_pid() { in_ns cat "/run/fake-systemd.$1.pid"; }

test_restart_stops_leftovers_and_keeps_containers() {
        make_kept_cgroup || { echo "no writable cgroup v2 here: skipped"; return 0; }
        trap 'ns_stop; drop_kept_cgroup' EXIT
        boot_fake "on-failure = restart
stop-timeout = 3s
keep-cgroups = $KEEP_CG"
        fake spawn svc
        fake spawn container
        wait_until 5 in_ns test -s /run/fake-systemd.container.pid || fail "no processes"
        svc=$(svc_pid svc) ctr=$(svc_pid container)
        in_ns sh -c "echo $ctr > $KEEP_DIR/cgroup.procs" || fail "cannot move into the kept cgroup"
        in_ns rm -f /run/fake-systemd.ready
        fake segv
        # Crash -> rescue -> restart -> a fresh fake systemd.
        wait_until 20 fake_ready 1 || fail "systemd not brought back"
        [ "$(pid1_exe)" = "$FAKE" ] || fail "PID 1 is $(pid1_exe)"
        ! in_ns kill -0 "$svc" 2>/dev/null || fail "left-over service survived: a fresh systemd would duplicate it"
        in_ns kill -0 "$ctr" || fail "process in a kept cgroup was stopped"
        grep -q "on-failure=restart" "$T/log" || fail "policy not logged"
        wait_until 10 mode_is normal || fail "guard not serving"
        ns_alive || fail "PID 1 died"
}

test_restart_rate_limit_then_hold() {
        boot_fake "on-failure = restart
restart-limit = 2
stop-timeout = 1s"
        for i in 1 2; do
                in_ns rm -f /run/fake-systemd.ready
                fake segv
                wait_until 20 fake_ready 1 || fail "restart $i did not happen"
                wait_until 10 mode_is normal || fail "guard not serving after restart $i"
        done
        fake segv
        wait_until 10 mode_is rescue || fail "third crash: not holding in rescue mode"
        grep -q "2 restarts within 3600 s already; holding" "$T/log" || fail "limit not logged"
        # Still a working PID 1 that reaps.
        in_ns "$B/tests/storm" 200 50 || fail "storm could not run"
        wait_until 10 no_zombies || fail "hold does not reap"
}

test_policy_reboot() {
        boot_fake "on-failure = reboot"
        fake segv
        wait_until 20 sh -c "! kill -0 $NS" || fail "no reboot"
        wait "$UNSHARE"; rc=$?; UNSHARE=
        [ "$rc" = 129 ] || fail "namespace ended with $rc, want 129 (reboot)"
}

test_policy_hold_waits_for_operator() {
        boot_fake "on-failure = hold"
        fake segv
        wait_until 10 mode_is rescue || fail "no rescue"
        grep -q "on-failure=hold: waiting for the operator" "$T/log" || fail "not said"
        [ "$(pid1_exe)" = "$INITSHIM" ] || fail "did not hold"
}

# A signal left pending by the crashed systemd (a Ctrl-Alt-Del it never
# read) is discarded, not acted on, and said through rescue mode's log
# once that is set up (before it, kmsg was not open yet).
test_pending_signal_discarded_and_logged() {
        NS_ENV=FAKE_PENDING_SIGINT=1 boot_fake
        to_rescue
        ns_alive || fail "PID 1 died"
        grep -n "rescue mode: test crash" "$T/log" | head -n1 > "$T/mode_line"
        grep -n "discarding SIGINT left pending by the previous PID 1" "$T/log" | head -n1 > "$T/discard_line"
        [ -s "$T/discard_line" ] || fail "the pending SIGINT was not logged"
        [ "$(cut -d: -f1 "$T/mode_line")" -lt "$(cut -d: -f1 "$T/discard_line")" ] ||
                fail "pending signal logged before logging was set up"
        ! grep -q "SIGINT from pid" "$T/log" || fail "the stale Ctrl-Alt-Del was acted on"
        mode_is rescue || fail "not in rescue mode any more"
}
