# Boot counting: a default that never becomes healthy is skipped after
# boot-tries boots, in favour of the fallback; a healthy boot clears it.

upgrade_checked() { ctl_quick status | grep -q '^check-upgrade: [a-z]*: PID 1 runs'; }

test_boot_fallback_after_unhealthy_boots() {
        local st=/tmp/initshim-bootstate.$$ conf
        rm -rf "$st"
        conf="systemd = $FAKE
version good = $FAKE
version sick = /tmp/initshim-sick.$$
default = sick
fallback = good
boot-tries = 2
liveness-interval = 300ms
liveness-timeout = 500ms
zombie-age = 1s
state-dir = $st"
        # "sick" is the fake started deaf: it never answers, never becomes healthy.
        cp "$FAKE" /tmp/initshim-sick.$$; chmod 755 /tmp/initshim-sick.$$
        for boot in 1 2; do
                ns_start "$conf" deaf
                wait_until 10 fake_ready 1 || fail "boot $boot: sick did not start"
                [ "$(pid1_exe)" = /tmp/initshim-sick.$$ ] || fail "boot $boot runs $(pid1_exe)"
                wait_until 10 grep -q "counting this boot of /tmp/initshim-sick.$$ ($boot without" "$T/log" ||
                        fail "boot $boot not counted"
                ns_stop
        done
        ns_start "$conf" deaf
        wait_until 10 fake_ready 1 || fail "boot 3: nothing started"
        [ "$(pid1_exe)" = "$FAKE" ] || fail "boot 3 runs $(pid1_exe), not the fallback"
        ctl versions | grep -q "^sick .*2 boots without reaching healthy" || fail "versions: $(ctl versions)"
        grep -q "skipping /tmp/initshim-sick.$$ (default version): it did not become healthy in its last 2 boots" "$T/log" ||
                fail "skip not said"
        # Running the fallback is deliberate, not an upgrade pending.
        wait_until 10 upgrade_checked || fail "upgrade never checked: $(ctl status | grep check-upgrade)"
        ctl status | grep -q '^check-upgrade: ok' || fail "$(ctl status | grep check-upgrade)"
        ns_stop
        rm -rf "$st" /tmp/initshim-sick.$$
}

test_healthy_boot_clears_the_count() {
        local st=/tmp/initshim-bootstate.$$
        rm -rf "$st"; mkdir -p "$st"
        printf '%s\t1\n' "$FAKE" > "$st/boot-failures"
        ns_start "systemd = $FAKE
liveness-interval = 300ms
liveness-timeout = 500ms
zombie-age = 1s
state-dir = $st"
        wait_until 10 grep -q "boot: $FAKE is healthy" "$T/log" || fail "healthy boot not noticed"
        ! grep -q "$FAKE" "$st/boot-failures" || fail "count not cleared: $(cat "$st/boot-failures")"
        ns_stop
        rm -rf "$st"
}

pid1_state_is() { ctl_quick status | grep -qx "pid1-state: $1"; }

test_boot_is_healthy_only_when_finished() {
        local st=/tmp/initshim-bootstate.$$
        rm -rf "$st"
        # Starting from the first probe: written after ns_start, a probe could come first.
        NS_ENV="NS_FAKE_STATE=starting" ns_start "systemd = $FAKE
liveness-interval = 200ms
liveness-timeout = 500ms
zombie-age = 1s
state-dir = $st"
        wait_until 10 fake_ready 1 || fail "no boot"
        wait_until 10 pid1_state_is starting || fail "state not read: $(ctl status | grep pid1-state)"
        wait_until 10 grep -q "counting this boot" "$T/log" || fail "not counted"
        ! grep -q "is healthy" "$T/log" || fail "healthy while still starting"
        in_ns sh -c 'echo running > /run/fake-systemd.state'
        wait_until 10 grep -q "boot: $FAKE is healthy" "$T/log" || fail "finished boot not noticed"
        ns_stop
        rm -rf "$st"
}
