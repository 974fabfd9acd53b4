# The guard's tracer: a started binary that exits must not end PID 1; a
# takeover that cannot be made never holds PID 1 stopped for good.

# Rescue mode answers, and gives this reason for its last takeover (the
# guard's status, until it hands the FIFO over, may say the same in mode normal).
rescue_for() {
        local s
        s=$(ctl_quick status 2>/dev/null) && echo "$s" | grep -qx "mode: rescue" &&
                echo "$s" | grep -q "^last-takeover: .*$1"
}

# `initshimctl exec` in rescue mode starts a binary that passes preflight
# (its --version reads like systemd's) and exits at once as PID 1: the guard
# turns its exit into rescue mode again instead of letting init die.
test_exec_of_exiting_binary_is_taken_back() {
        boot_fake "version fake = $FAKE"
        to_rescue
        in_ns sh -c 'echo 3 > /run/fake-systemd.exit-at-start'
        out=$(ctl exec fake) || fail "exec refused: $out"
        wait_until 10 rescue_for "exited with status 3 right after exec" ||
                fail "not taken back (PID 1 $(ns_alive && echo alive || echo dead)): $(ctl_quick status 2>&1)"
        grep -q "exited with status 3 right after exec" "$T/log" || fail "reason not logged"
        in_ns test ! -e /run/fake-systemd.exit-at-start || fail "the binary did not run"
        # Rescue mode still works: a good start brings systemd back.
        out=$(ctl exec fake) || fail "second exec refused: $out"
        wait_until 10 fake_ready 1 || fail "fake not back"
        wait_until 10 mode_is normal || fail "guard not serving"
}

# The configured systemd exits right after the boot exec'd it (a word on
# the kernel command line reaches its arguments).
test_boot_of_exiting_systemd_falls_to_rescue() {
        ns_start "systemd = $FAKE
on-failure = hold" exit=4
        wait_until 10 rescue_for "exited with status 4 right after exec" ||
                fail "not taken back (PID 1 $(ns_alive && echo alive || echo dead))"
}

# A takeover whose execve fails where resuming PID 1 would end it: the
# guard holds PID 1 stopped, but only until its escalation's deadlines.
# The injected execve fails with EACCES while the guard's binary (a copy
# here) has no execute bit.
boot_copy() {
        COPY_DIR=$(mktemp -d /tmp/initshim-copy.XXXXXX)
        cp "$INITSHIM" "$COPY_DIR/initshim"; chmod 755 "$COPY_DIR/initshim"
        INITSHIM=$COPY_DIR/initshim
        trap 'ns_stop; rm -rf "$COPY_DIR"' EXIT
        boot_fake "${1:-}"
}
pid1_state() { awk '{print $3}' "/proc/$NS/stat"; }
guard_says() { ctl_quick status 2>/dev/null | grep -q "^guard: .*$1"; }

test_failed_takeover_is_retried() {
        boot_copy
        fake crash-mode container # the handler ends in exit_group: resuming it would end PID 1
        chmod a-x "$INITSHIM"
        fake segv
        wait_until 10 grep -q "holding PID 1 stopped" "$T/log" || fail "takeover did not fail as set up"
        [ "$(pid1_state)" = t ] || fail "PID 1 not held (state $(pid1_state))"
        chmod 755 "$INITSHIM"
        wait_until 10 rescue_for "crash: SIGSEGV" || fail "no retry brought rescue mode"
        grep -q "retrying the injection" "$T/log" || fail "retry not logged"
}

test_failed_takeover_ends_in_detach_not_a_stopped_pid1() {
        boot_copy
        fake crash-mode freeze # the handler ends in waitid(P_ALL), then pause
        chmod a-x "$INITSHIM"
        fake segv
        wait_until 10 grep -q "holding PID 1 stopped" "$T/log" || fail "takeover did not fail as set up"
        # Retries, one attempt at a fresh stop, then the last resort.
        wait_until 30 untraced || fail "PID 1 still traced, state $(pid1_state): $(grep guard: "$T/log" | tail -n 3)"
        grep -q "one more attempt at a fresh stop" "$T/log" || fail "no fresh-stop attempt"
        ns_alive || fail "PID 1 died"
        [ "$(pid1_state)" != t ] || fail "PID 1 left stopped"
        wait_until 5 guard_says "NOT tracing PID 1: detached after 5 failed takeover attempts" ||
                fail "status: $(ctl_quick status 2>&1)"
        # The operator can fix the cause and take the frozen PID 1 over.
        chmod 755 "$INITSHIM"
        ctl guard start | grep -q "tracing PID 1" || fail "guard start"
        ctl takeover | grep -q "taking PID 1 over" || fail "takeover refused"
        wait_until 10 mode_is rescue || fail "no rescue mode after the manual takeover"
}

vfork_child() { pgrep -P "$NS" -x fake-systemd; }

# PID 1 waits in the kernel where PTRACE_INTERRUPT does not reach it:
# `guard stop` must not hang the guard; PID 1 is detached once it stops.
test_guard_stop_does_not_hang_on_an_unstoppable_pid1() {
        boot_fake
        wait_until 5 mode_is normal || fail "no guard"
        fake vfork-hang
        wait_until 5 vfork_child >/dev/null || fail "no vfork child"
        out=$(ctl --timeout 10 guard stop) || fail "guard stop hung: $out"
        ctl_quick status | grep -q "^guard: .*detaching from PID 1" || fail "status: $(ctl_quick status 2>&1)"
        kill -KILL "$(vfork_child)"
        wait_until 10 untraced || fail "not detached once PID 1 could stop"
        fake dump /run/alive
        wait_until 5 in_ns test -e /run/alive.done || fail "PID 1 does not run"
}

# The same PID 1 asked to be taken over: the guard gives up after its
# interrupts (PID 1 was never stopped) instead of waiting for good.
test_takeover_of_unstoppable_pid1_is_abandoned() {
        boot_fake
        wait_until 5 mode_is normal || fail "no guard"
        fake vfork-hang
        wait_until 5 vfork_child >/dev/null || fail "no vfork child"
        ctl takeover | grep -q "taking PID 1 over" || fail "takeover refused"
        wait_until 15 grep -q "takeover of PID 1 abandoned" "$T/log" || fail "still interrupting: $(ctl_quick status 2>&1)"
        wait_until 5 guard_says "tracing PID 1" || fail "status: $(ctl_quick status 2>&1)"
        kill -KILL "$(vfork_child)"
        fake dump /run/alive
        wait_until 5 in_ns test -e /run/alive.done || fail "PID 1 does not run"
        mode_is normal || fail "mode: $(ctl_quick status 2>&1)"
}
