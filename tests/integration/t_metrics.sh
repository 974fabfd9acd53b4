# Prometheus metrics (docs/metrics.md): the guard's textfile and
# `initshimctl status --prometheus`, checked with promtool, in both modes.

# ns_start (lib.sh) points metrics-file here, in the namespace's own /run.
PROM=/run/initshim.prom
prom_file() { in_ns cat "$PROM" 2>/dev/null; }
# prom_has LINE: the textfile has exactly this sample line.
prom_has() { prom_file | grep -qxF "$1"; }
status_has() { ctl_quick status --prometheus | grep -qxF "$1"; }
# The metric and labels of each sample, values dropped (they move: RSS, stops).
series() { grep -v '^#' | sed 's/ [0-9.e+-]*$//' | sort; }
promtool_ok() { promtool check metrics >/dev/null 2>&1 <<<"$1" || fail "promtool: $(promtool check metrics <<<"$1" 2>&1)"; }

test_metrics_counters_survive_crash_and_exec_back() {
        boot_fake
        wait_until 10 prom_has 'initshim_mode{mode="normal"} 1' || fail "no textfile in normal mode: $(prom_file)"
        wait_until 10 prom_has 'initshim_guard_attached 1' || fail "guard not attached: $(prom_file)"
        prom_has 'initshim_build_info{version="0.1"} 1' || fail "no build_info: $(prom_file)"
        prom_has 'initshim_takeovers_total{reason="crash"} 0' || fail "takeovers before any: $(prom_file)"
        promtool_ok "$(prom_file)"

        fake segv
        wait_until 10 mode_is rescue || fail "no rescue mode"
        wait_until 10 prom_has 'initshim_mode{mode="rescue"} 1' || fail "textfile not in rescue mode: $(prom_file)"
        prom_has 'initshim_takeovers_total{reason="crash"} 1' || fail "takeover not counted: $(prom_file)"
        ! prom_has 'initshim_last_takeover_timestamp_seconds 0' || fail "no takeover time: $(prom_file)"
        # Rescue-mode PID 1 answers with the same series, counters included.
        out=$(ctl status --prometheus) || fail "status --prometheus in rescue mode: $out"
        promtool_ok "$out"
        grep -qxF 'initshim_mode{mode="rescue"} 1' <<<"$out" || fail "rescue answer: $out"
        grep -qxF 'initshim_takeovers_total{reason="crash"} 1' <<<"$out" || fail "rescue answer: $out"
        [ "$(series <<<"$out")" = "$(prom_file | series)" ] || fail "answer and file differ: $(diff <(series <<<"$out") <(prom_file | series))"

        in_ns rm -f /run/fake-systemd.ready
        ctl exec >/dev/null || fail "exec refused"
        wait_until 20 fake_ready 1 || fail "fake not back"
        wait_until 10 prom_has 'initshim_mode{mode="normal"} 1' || fail "textfile not back to normal: $(prom_file)"
        prom_has 'initshim_takeovers_total{reason="crash"} 1' || fail "counter lost on exec back: $(prom_file)"
        wait_until 10 mode_is normal || fail "guard not serving"
        out=$(ctl status --prometheus) || fail "status --prometheus in normal mode: $out"
        promtool_ok "$out"
        grep -q '^initshim_health_check{check="liveness",state="ok"} [01]$' <<<"$out" || fail "no health: $out"

        fake crash-mode container
        fake segv
        wait_until 10 mode_is rescue || fail "second crash not taken over"
        wait_until 10 prom_has 'initshim_takeovers_total{reason="crash"} 2' || fail "second takeover not counted: $(prom_file)"
}

# The counters live in /run/initshim: a guard started afresh goes on from them.
test_metrics_counters_survive_a_new_guard() {
        boot_fake
        wait_until 10 prom_has 'initshim_guard_attached 1' || fail "no textfile: $(prom_file)"
        ctl takeover >/dev/null || fail "takeover refused"
        wait_until 10 mode_is rescue || fail "no rescue mode"
        wait_until 10 prom_has 'initshim_takeovers_total{reason="operator"} 1' || fail "not counted: $(prom_file)"
        ctl guard stop >/dev/null || fail "guard stop"
        wait_until 10 status_has 'initshim_guard_attached 0' || fail "guard still attached: $(ctl status --prometheus)"
        # The new guard's first textfile comes at once: it must hold the old count.
        in_ns rm -f "$PROM"
        ctl guard start >/dev/null || fail "guard start"
        wait_until 10 prom_has 'initshim_guard_attached 1' || fail "new guard not attached: $(prom_file)"
        prom_has 'initshim_takeovers_total{reason="operator"} 1' || fail "new guard lost the count: $(prom_file)"
}

# Version switches by outcome: one that answers, one rolled back.
test_metrics_count_switches_by_outcome() {
        A=/tmp/initshim-fakeA.$$ Bf=/tmp/initshim-fakeB.$$
        cp "$FAKE" "$A"; cp "$FAKE" "$Bf"; chmod 755 "$A" "$Bf"
        boot_fake "systemd = $A
version a = $A
version b = $Bf
liveness-interval = 0
switch-grace = 2s"
        out=$(ctl exec b) || fail "switch refused: $out"
        wait_until 20 prom_has 'initshim_switches_total{outcome="ok"} 1' || fail "switch not counted ok: $(prom_file | grep switches)"
        in_ns sh -c 'echo deaf > /run/fake-systemd.start-deaf'
        out=$(ctl exec a 2>&1) && fail "a deaf version was confirmed: $out"
        wait_until 20 prom_has 'initshim_switches_total{outcome="rolled_back"} 1' || fail "rollback not counted: $(prom_file | grep switches)"
        prom_has 'initshim_switches_total{outcome="ok"} 1' || fail "ok count changed: $(prom_file | grep switches)"
        prom_has 'initshim_switches_total{outcome="failed"} 0' || fail "counted as failed: $(prom_file | grep switches)"
        rm -f "$A" "$Bf"
}

test_metrics_off() {
        NS_METRICS="metrics-file = off" boot_fake
        wait_until 10 in_ns test -s /run/initshim/metrics.state || fail "no state file"
        out=$(ctl status --prometheus) || fail "status --prometheus: $out"
        promtool_ok "$out"
        ! in_ns test -e "$PROM" || fail "wrote $PROM though off"
}

test_alert_rules_pass_promtool() {
        out=$(promtool check rules docs/alerts/initshim.rules.yml 2>&1) || fail "promtool check rules: $out"
        out=$(promtool test rules tests/integration/alerts.test.yml 2>&1) || fail "promtool test rules: $out"
}
