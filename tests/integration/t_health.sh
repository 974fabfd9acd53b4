# Health checks and escalation, with fast thresholds. The fake answers
# Peer.Ping on /run/systemd/private and re-execs itself on SIGTERM.

FAST="liveness-interval = 300ms
liveness-timeout = 500ms
liveness-failures = 3
reexec-timeout = 2s
zombie-age = 1s
zombie-limit = 20"

check_is() { ctl_quick status | grep -q "^check-$1: $2"; }
pings() { ctl_quick status | awk '/^pings:/ {print $2}'; }
pings_at_least() { [ "$(pings)" -ge "$1" ]; }

test_liveness_ok_on_a_healthy_pid1() {
        boot_fake "$FAST"
        wait_until 10 check_is liveness "ok: Ping answered" || fail "$(ctl status)"
}

test_hung_pid1_is_taken_over() {
        boot_fake "$FAST"
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        wait_until 10 check_is liveness ok || fail "not healthy first"
        fake_block
        wait_until 20 mode_is rescue || fail "hung PID 1 not taken over"
        ctl status | grep -q "^last-takeover: unresponsive: Ping failed .*a re-exec did not help" ||
                fail "reason: $(ctl status | grep last-takeover)"
        grep -q "asking for a state-preserving re-exec" "$T/log" || fail "re-exec not tried first"
        in_ns kill -0 "$svc" || fail "service died"
}

test_slow_but_healthy_is_not_taken_over() {
        boot_fake "$FAST"
        fake slow 300
        wait_until 10 check_is liveness "degraded: Ping answered in 3" || fail "slow not seen: $(ctl status)"
        start=$(pings)
        [[ $start =~ ^[0-9]+$ ]] || fail "no ping count: $(ctl status)"
        # Many more intervals than failures + re-exec timeout need.
        wait_until 30 pings_at_least $((start + 12)) || fail "pings stalled"
        mode_is normal || fail "slow PID 1 was taken over"
        fake_ready 1 || fail "slow PID 1 was re-executed (auto-reexec does not include slow)"
}

test_deaf_pid1_recovers_by_reexec() {
        boot_fake "$FAST"
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        wait_until 10 check_is liveness ok || fail "not healthy first"
        fake deaf
        wait_until 20 fake_ready 2 || fail "no state-preserving re-exec"
        wait_until 10 check_is liveness ok || fail "not healthy after re-exec"
        mode_is normal || fail "taken over although the re-exec helped"
        [ "$(in_ns cat /run/fake-systemd.svc.pid)" = "$svc" ] && in_ns kill -0 "$svc" || fail "service changed"
}

test_memory_leak_is_fixed_by_reexec() {
        boot_fake "$FAST
memory-limit = 64M"
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        fake leak 100
        wait_until 20 fake_ready 2 || fail "no re-exec on the leak"
        wait_until 10 check_is memory "ok" || fail "memory still high: $(ctl status | grep check-memory)"
        rss=$(awk '/^VmRSS/ {print $2}' "/proc/$NS/status")
        [ "$rss" -lt 65536 ] || fail "RSS $rss kB after re-exec"
        in_ns kill -0 "$svc" || fail "service died"
        mode_is normal || fail "taken over"
}

test_zombie_accumulation_under_frozen_pid1() {
        boot_fake "$FAST
liveness-interval = 0"
        fake nowait
        fake_block
        in_ns "$B/tests/storm" 100 50 || fail "storm"
        wait_until 20 mode_is rescue || fail "zombie pile-up not acted on: $(ctl status | grep check-zombies)"
        ctl status | grep -q "^last-takeover: unresponsive: .*zombie" || fail "reason: $(ctl status | grep last-takeover)"
        wait_until 10 no_zombies || fail "zombies left in rescue mode"
}

test_upgrade_pending_is_noticed_and_reexec_picks_new_binary() {
        cp "$FAKE" /tmp/initshim-fakebin.$$; chmod 755 /tmp/initshim-fakebin.$$
        boot_fake "$FAST
systemd = /tmp/initshim-fakebin.$$
auto-reexec = upgrade"
        wait_until 10 check_is upgrade ok || fail "$(ctl status | grep check-upgrade)"
        cp "$FAKE" /tmp/initshim-fakebin.$$.new; mv -f /tmp/initshim-fakebin.$$.new /tmp/initshim-fakebin.$$
        wait_until 20 fake_ready 2 || fail "no re-exec after the upgrade: $(ctl status | grep check-upgrade)"
        grep -q "upgrade degraded: PID 1 runs a deleted binary" "$T/log" || fail "not noticed"
        wait_until 10 check_is upgrade ok || fail "still pending after re-exec"
        rm -f /tmp/initshim-fakebin.$$
}
