# The guard: takeover of a crashed or hung PID 1, signal safety, survival.

tracer_of_pid1() { awk '/^TracerPid/ {print $2}' "/proc/$NS/status"; }
guard_pid() { in_ns pgrep -x initshim-guard | head -n1; }
# The guard as the host sees it (PID 1's child; its probers are the guard's).
guard_host_pid() { pgrep -P "$NS" -x initshim-guard; }

# crash VARIANT HOW: boot, start a service, crash PID 1, expect rescue mode
# with the service alive and PID 1 still PID 1. CRASH_WAIT=pidfd: the crash
# handler waits for its core-dump child as systemd 262's does.
crash_and_expect_rescue() {
        local variant=$1 how=$2
        boot_fake
        wait_until 5 sh -c "[ \$(awk '/^TracerPid/ {print \$2}' /proc/$NS/status) != 0 ]" || fail "PID 1 not traced"
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        fake crash-mode "$variant"
        [ -z "${CRASH_WAIT:-}" ] || fake crash-wait "$CRASH_WAIT"
        case $how in
        segv | abort) fake "$how" ;;
        kill-*) in_ns kill -s "${how#kill-}" 1 ;;
        esac
        wait_until 10 mode_is rescue || fail "no rescue mode after $how ($variant)"
        [ "$(pid1_exe)" = "$INITSHIM" ] || fail "PID 1 is $(pid1_exe)"
        [ "$(cat "/proc/$NS/comm")" = initshim ] || fail "PID 1's name is '$(cat "/proc/$NS/comm")'"
        in_ns kill -0 "$svc" || fail "service $svc died"
        in_ns grep -q "Freezing execution" /run/fake-systemd.log || fail "crash handler did not run"
        ctl status | grep -q "^last-takeover: crash: SIG" || fail "status: $(ctl status)"
        grep -q "is initshim in rescue mode, [0-9]* us after SIG" "$T/log" || fail "takeover time not logged"
        # Orphans are still reaped afterwards.
        in_ns "$B/tests/storm" 500 100 || fail "storm"
        wait_until 10 no_zombies || fail "zombies left"
}

test_crash_freeze_segv() { crash_and_expect_rescue freeze segv; }
test_crash_container_exit() { crash_and_expect_rescue container segv; }
test_crash_old_pause() { crash_and_expect_rescue pause abort; }
test_crash_kill_segv() { crash_and_expect_rescue freeze kill-SEGV; }
test_crash_kill_abrt() { crash_and_expect_rescue container kill-ABRT; }

test_crash_handler_waiting_with_pidfd_is_taken_over_at_its_freeze() {
        # systemd 262's crash handler waits for its core-dump child with
        # pidfd_open and waitid(P_PIDFD) before freeze()'s waitid(P_ALL):
        # that first wait is not the end, the takeover comes after it.
        CRASH_WAIT=pidfd crash_and_expect_rescue freeze segv
        in_ns grep -q "^core-dump child [0-9]* waited for (pidfd)$" /run/fake-systemd.log ||
                fail "the crash handler's waitid(P_PIDFD) did not return before the takeover: $(in_ns cat /run/fake-systemd.log)"
}

test_crash_handler_that_never_ends_is_interrupted() {
        # A crash handler that spins after the core dump, making no syscall:
        # after crash-timeout the guard interrupts it and injects.
        boot_fake "crash-timeout = 1s"
        fake crash-mode spin
        fake segv
        wait_until 10 mode_is rescue || fail "spinning crash handler not taken over"
        grep -q "crash handler made no terminal syscall within 1000 ms, interrupting it" "$T/log" || fail "not said"
}

# expect_crash_action_let_through MODE RC: the fake's crash handler ends in
# reboot(2) (systemd's CrashAction=MODE); the guard lets it, and the kernel
# ends the namespace's init with the signal of RC (128 + SIGHUP for a
# restart, 128 + SIGINT for a power-off or halt).
expect_crash_action_let_through() {
        boot_fake
        fake crash-mode "$1"
        fake segv
        wait_until 20 sh -c "! kill -0 $NS" || fail "no $1"
        wait "$UNSHARE"; rc=$?; UNSHARE=
        [ "$rc" = "$2" ] || fail "namespace ended with $rc, want $2 ($1)"
        grep -q "reboots (crash_reboot): letting it" "$T/log" || fail "not said"
}

test_crash_reboot_is_let_through() {
        # systemd configured to reboot on a crash (crash_reboot): the guard lets it.
        expect_crash_action_let_through reboot 129
}

test_crash_poweroff_is_let_through() {
        # CrashAction=poweroff (256+): reboot(RB_POWER_OFF) at once, let through.
        expect_crash_action_let_through poweroff 130
}

test_second_crash_is_taken_over_again() {
        crash_and_expect_rescue freeze segv
        # The crashed fake's ready file would satisfy the wait below at once.
        in_ns rm -f /run/fake-systemd.ready
        ctl exec >/dev/null || fail "exec refused"
        wait_until 20 fake_ready 1 || fail "fake not back"
        wait_until 5 sh -c "[ \$(awk '/^TracerPid/ {print \$2}' /proc/$NS/status) != 0 ]" || fail "not traced after return"
        fake crash-mode container
        fake segv
        wait_until 10 mode_is rescue || fail "second crash not taken over"
        ns_alive || fail "PID 1 died"
}

test_stop_and_unhandled_signals_leave_pid1_running() {
        boot_fake
        wait_until 5 mode_is normal || fail "no guard"
        in_ns kill -STOP 1; in_ns kill -TSTP 1; in_ns kill -TTIN 1; in_ns kill -USR2 1
        fake dump /run/alive
        wait_until 5 in_ns test -e /run/alive.done || fail "PID 1 stopped by a signal it does not handle"
        state=$(awk '{print $3}' "/proc/$NS/stat")
        [ -n "$state" ] && [ "$state" != T ] && [ "$state" != t ] || fail "PID 1 in state '$state'"
        # Signals it does handle are delivered.
        in_ns kill -HUP 1
        wait_until 5 in_ns grep -qx 1 /run/fake-systemd.signals || fail "SIGHUP not delivered"
}

test_guard_killed_leaves_pid1_unharmed() {
        boot_fake
        wait_until 5 mode_is normal || fail "no guard"
        in_ns kill -KILL "$(guard_pid)"
        wait_until 5 untraced || fail "still traced"
        out=$(ctl --timeout 1 status 2>/dev/null); rc=$?
        [ "$rc" = 3 ] && echo "$out" | grep -q "^guard: not running: PID 1 is unguarded" || fail "status ($rc): $out"
        fake dump /run/alive
        wait_until 5 in_ns test -e /run/alive.done || fail "PID 1 harmed"
        out=$(in_ns env INITSHIM_BIN="$INITSHIM" "$CTL" guard start) || fail "guard start: $out"
        wait_until 5 sh -c "[ \$(awk '/^TracerPid/ {print \$2}' /proc/$NS/status) != 0 ]" || fail "new guard not tracing"
        fake segv
        wait_until 10 mode_is rescue || fail "crash not taken over by the new guard"
}

test_guard_started_later_serves_when_systemd_lives_under_an_initshim_path() {
        # Rescue mode is told by PID 1's name, not by its exe path: a systemd
        # under a directory named "initshim..." (a bundle, a checkout) is still
        # systemd, and a guard started for it must serve the control FIFO.
        local dir
        dir=$(mktemp -d /tmp/initshim-versions.XXXXXX); cp "$FAKE" "$dir/systemd"
        ns_start "systemd = $dir/systemd
on-failure = hold"
        wait_until 10 fake_ready 1 || { rm -rf "$dir"; fail "fake systemd did not come up"; }
        rm -rf "$dir" # PID 1 keeps running its (now deleted) binary
        wait_until 5 mode_is normal || fail "no guard"
        in_ns kill -KILL "$(guard_pid)"
        wait_until 5 untraced || fail "still traced"
        out=$(in_ns env INITSHIM_BIN="$INITSHIM" "$CTL" guard start) || fail "guard start: $out"
        out=$(ctl --timeout 5 status) || fail "the new guard does not serve: $out"
        echo "$out" | grep -qx "mode: normal" || fail "status: $out"
}

test_guard_has_its_own_session() {
        # A container's systemd drops its controlling terminal; the kernel then
        # sends SIGHUP to its foreground group, which must not include the guard.
        boot_fake
        wait_until 5 mode_is normal || fail "no guard"
        g=$(pgrep -P "$NS" -x initshim-guard)
        [ -n "$g" ] || fail "no guard"
        gsid=$(awk '{print $6}' "/proc/$g/stat") psid=$(awk '{print $6}' "/proc/$NS/stat")
        [ -n "$gsid" ] && [ -n "$psid" ] || fail "no session ids"
        [ "$gsid" != "$psid" ] || fail "guard shares PID 1's session"
        kill -HUP "$g"
        ctl ping | grep -q pong || fail "guard died of SIGHUP"
        kill -0 "$g" || fail "guard died of SIGHUP"
}

test_guard_stop_and_start() {
        boot_fake
        wait_until 5 mode_is normal || fail "no guard"
        ctl guard stop | grep -q detached || fail "stop"
        wait_until 5 untraced || fail "still traced"
        ctl status | grep -q "NOT tracing PID 1: detached on request" || fail "status: $(ctl status)"
        ctl guard start | grep -q "tracing PID 1" || fail "start"
        [ "$(tracer_of_pid1)" = "$(guard_host_pid)" ] || fail "not traced by the guard: tracer '$(tracer_of_pid1)'"
}

test_takeover_of_spinning_pid1() {
        boot_fake
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        fake spin
        ctl takeover | grep -q "taking PID 1 over" || fail "takeover refused"
        wait_until 10 mode_is rescue || fail "spinning PID 1 not taken over"
        in_ns kill -0 "$(in_ns cat /run/fake-systemd.svc.pid)" || fail "service died"
}

test_takeover_of_blocked_pid1() {
        boot_fake
        fake_block
        ctl takeover >/dev/null || fail "takeover refused"
        wait_until 10 mode_is rescue || fail "blocked PID 1 not taken over"
        ctl status | grep -q "takeover requested by the operator" || fail "reason: $(ctl status)"
}

test_takeover_after_binary_replaced() {
        # /sbin/initshim replaced or deleted after boot: the guard execs its open fd.
        local copy
        copy=$(mktemp /tmp/initshim-copy.XXXXXX); cp "$INITSHIM" "$copy"; chmod 755 "$copy"
        INITSHIM_SAVED=$INITSHIM INITSHIM=$copy
        boot_fake
        wait_until 5 mode_is normal || fail "no guard"
        rm -f "$copy"
        fake segv
        wait_until 10 mode_is rescue || fail "no takeover with the binary deleted"
        INITSHIM=$INITSHIM_SAVED
}

# CPU ticks (utime+stime) of a host pid.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

test_guard_idles_in_every_mode() {
        boot_fake "liveness-interval = 200ms
liveness-timeout = 500ms
zombie-age = 1s"
        wait_until 5 mode_is normal || fail "no guard"
        g=$(pgrep -P "$NS" -x initshim-guard)
        [ -n "$g" ] || fail "no guard"
        for mode in normal rescue; do
                [ "$mode" = rescue ] && to_rescue
                t0=$(ticks "$g")
                # Idleness is CPU over elapsed time: here the sleep is the
                # measurement window, not a stand-in for a condition.
                sleep 1
                t1=$(ticks "$g")
                [[ $t0 =~ ^[0-9]+$ && $t1 =~ ^[0-9]+$ ]] || fail "guard gone in $mode mode"
                [ $((t1 - t0)) -lt 30 ] || fail "guard busy in $mode mode: $((t1 - t0)) ticks in 1 s"
        done
}
