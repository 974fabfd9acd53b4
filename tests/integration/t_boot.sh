# Boot path: pass-through, fallbacks, refusing a forged FIFO.

test_argv_env_passthrough() {
        ns_start "systemd = $FAKE" single "--opt=x y" quiet
        wait_until 10 fake_ready 1 || fail "fake did not boot"
        fake dump /run/d
        wait_until 5 in_ns test -e /run/d.done || fail "no dump"
        in_ns cat /run/d.argv | tr '\0' '\n' > "$T/argv"
        printf '%s\n' "$FAKE" single "--opt=x y" quiet > "$T/argv.want"
        diff -u "$T/argv.want" "$T/argv" || fail "argv changed"
        in_ns cat /run/d.env | tr '\0' '\n' | sort > "$T/env"
        printf '%s\n' PATH=/usr/sbin:/usr/bin:/sbin:/bin INITSHIM_LOG=stderr "INITSHIM_CONF=$T/initshim.conf" \
                "INITSHIM_BIN=$INITSHIM" "TESTVAR=a b=c" | sort > "$T/env.want"
        diff -u "$T/env.want" "$T/env" || fail "environment changed"
        # Nothing extra: beyond 0-2 the fake holds only what it opened itself
        # (its command FIFO and its bus socket).
        fds=$(ls -l "/proc/$NS/fd") || fail "cannot list PID 1's fds"
        extra=$(awk '$9 >= 3 {print $11}' <<<"$fds" | grep -v -e '^/run/fake-systemd.cmd$' -e '^socket:')
        [ -z "$extra" ] || { ls -l "/proc/$NS/fd"; fail "systemd inherited extra fds: $extra"; }
        grep -q "us after start" "$T/log" || fail "boot time not reported"
}

test_fallback_when_default_missing() {
        ns_start "systemd = /nonexistent/systemd
version good = $FAKE
fallback = good"
        wait_until 10 fake_ready 1 || fail "fallback not booted"
        [ "$(pid1_exe)" = "$FAKE" ] || fail "PID 1 is $(pid1_exe)"
        grep -q "cannot execute /nonexistent/systemd" "$T/log" || fail "failure not logged"
}

test_forced_version_and_bad_config_do_not_stop_boot() {
        ns_start "this line is garbage
frobnicate = 1
on-failure = sometimes
systemd = $FAKE"
        wait_until 10 fake_ready 1 || fail "a config typo stopped the boot"
        grep -q "unknown key 'frobnicate'" "$T/log" || fail "unknown key not reported"
        grep -q "not one of hold, restart, reboot" "$T/log" || fail "bad value not reported"
        grep -q ":2: expected 'key = value'" "$T/log" || fail "garbage line not reported"
}

test_rescue_when_nothing_runs() {
        ns_start "systemd = /nonexistent/systemd"
        wait_until 10 mode_is rescue || fail "not in rescue mode"
        ns_alive || fail "PID 1 died"
        grep -q "no systemd could be executed" "$T/log" || fail "not said"
        ctl status | grep -q "^last-takeover: boot: no systemd could be executed" || fail "status lacks reason"
}

test_forged_fifo_is_refused() {
        ns_start "systemd = $FAKE" # boots; then forge a FIFO and a new rescue PID 1 must refuse it
        wait_until 10 fake_ready 1 || fail "fake did not boot"
        in_ns sh -c 'rm -f /run/initshim/control && ln -s /tmp/evil /run/initshim/control'
        fake rescue forged
        wait_until 10 grep -q "rescue mode: forged" "$T/log" || fail "no rescue"
        wait_until 5 grep -q "not a root-owned 0600 FIFO, refusing it" "$T/log" || fail "symlink FIFO accepted"
        ns_alive || fail "PID 1 died"
}
