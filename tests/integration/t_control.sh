# The control FIFO: commands, refusals, the parser's sandbox, handoffs.

test_status_normal_mode() {
        boot_fake
        wait_until 5 mode_is normal || fail "no answer in normal mode"
        out=$(ctl status)
        echo "$out" | grep -qx "pid1: $FAKE" || fail "status: $out"
        echo "$out" | grep -q "^guard: running" || fail "status: $out"
        ctl status --json | grep -q '"mode":"normal"' || fail "json: $(ctl status --json)"
}

test_refusals_change_nothing() {
        boot_fake "version fake = $FAKE
version missing = /nonexistent"
        to_rescue
        out=$(ctl frobnicate 2>&1) && fail "unknown verb accepted"
        echo "$out" | grep -q "unknown command 'frobnicate'" || fail "answer: $out"
        out=$(ctl exec missing 2>&1) && fail "missing binary accepted"
        echo "$out" | grep -q "refused: cannot open" || fail "answer: $out"
        out=$(ctl exec nosuchversion 2>&1) && fail "unknown version accepted"
        echo "$out" | grep -q "unknown version" || fail "answer: $out"
        in_ns sh -c "cp $FAKE /run/ww && chmod 0777 /run/ww"
        out=$(ctl exec /run/ww 2>&1) && fail "world-writable binary accepted"
        echo "$out" | grep -q "writable by group or others" || fail "answer: $out"
        in_ns sh -c "cp $FAKE /run/nobody && chown 65534 /run/nobody"
        out=$(ctl exec /run/nobody 2>&1) && fail "non-root binary accepted"
        echo "$out" | grep -q "not root" || fail "answer: $out"
        in_ns sh -c 'printf "#!/bin/sh\nexit 3\n" > /run/script && chmod 0755 /run/script'
        out=$(ctl exec /run/script 2>&1) && fail "non-ELF accepted"
        echo "$out" | grep -q "not an ELF" || fail "answer: $out"
        mode_is rescue || fail "a refusal changed the mode"
        ns_alive || fail "PID 1 died"
}

test_garbage_and_oversized_lines() {
        boot_fake
        to_rescue
        in_ns mkfifo /run/initshim/reply/raw
        # Oversized, with a valid reply name: answered with an error.
        in_ns sh -c 'exec 3<>/run/initshim/reply/raw; (printf "raw status %0600d\n" 0 > /run/initshim/control); timeout 5 head -n1 <&3' > "$T/ans" || true
        grep -q "error: request longer than" "$T/ans" || fail "oversized: $(cat "$T/ans")"
        # Binary garbage and a line without any name: dropped, logged (the
        # oversized line above was logged already: only later lines count).
        local seen
        seen=$(wc -l < "$T/log")
        in_ns sh -c 'printf "\001\002\377garbage\n\n   \nraw \001\n" > /run/initshim/control'
        refused_after() { tail -n "+$((seen + 1))" "$T/log" | grep -q "refused request: $1"; }
        wait_until 5 refused_after "malformed request (no valid reply name)" || fail "nameless garbage not refused"
        wait_until 5 refused_after "request contains non-printable bytes" || fail "non-printable request not refused"
        ctl ping | grep -q pong || fail "server dead after garbage"
        ns_alive || fail "PID 1 died"
}

parser_pid() { in_ns pgrep -x initshim-ctl | head -n1; }

test_parser_killed_midrequest_is_replaced() {
        boot_fake
        to_rescue
        p=$(parser_pid); [ -n "$p" ] || fail "no parser"
        # The parser is the one with the seccomp filter, not PID 1.
        grep -q '^Seccomp:[[:space:]]*2' "/proc/$(pgrep -P "$NS" -x initshim-ctl | head -n1)/status" 2>/dev/null ||
                in_ns grep -q '^Seccomp:[[:space:]]*2' "/proc/$p/status" || fail "parser not sandboxed"
        in_ns grep -q '^Seccomp:[[:space:]]*0' /proc/1/status || fail "PID 1 has a seccomp filter"
        in_ns kill -STOP "$p"
        ctl ping > "$T/ping" 2>&1 &
        client=$!
        wait_until 5 sh -c "ls /proc/$NS/root/run/initshim/reply/ | grep -q ctl-" || fail "client did not start"
        in_ns kill -KILL "$p"
        wait "$client" || fail "request lost when the parser died: $(cat "$T/ping")"
        grep -q pong "$T/ping" || fail "answer: $(cat "$T/ping")"
        grep -q "parser .* killed by SIGKILL" "$T/log" || fail "death not logged"
        replaced() { local n; n=$(parser_pid); [ -n "$n" ] && [ "$n" != "$p" ]; }
        wait_until 5 replaced || fail "parser not replaced"
        ns_alive || fail "PID 1 died"
}

test_no_server_is_a_clear_error() {
        boot_fake
        wait_until 5 mode_is normal || fail "no server"
        g=$(in_ns pgrep -x initshim-guard)
        [ -n "$g" ] && in_ns kill -KILL $g || fail "no guard to kill"
        in_ns rm -f /run/initshim/control
        out=$(ctl --timeout 2 ping 2>&1) && fail "answered without a server"
        echo "$out" | grep -q "nobody reads\|not running\|no answer" || fail "unclear: $out"
}

test_versions_lists_preflight_verdicts() {
        cp "$FAKE" "/tmp/initshim-ww.$$"; chmod 0777 "/tmp/initshim-ww.$$"
        boot_fake "version fake = $FAKE
version gone = /nonexistent/systemd
version ww = /tmp/initshim-ww.$$
default = fake"
        out=$(ctl versions) || fail "versions: $out"
        rm -f "/tmp/initshim-ww.$$"
        echo "$out" | grep -q "^fake .* ok: systemd 999 (fake) \[default running\]" || fail "$out"
        echo "$out" | grep -q "^gone .* refused: cannot open" || fail "$out"
        echo "$out" | grep -q "^ww .* refused: writable by group or others" || fail "$out"
        to_rescue
        ctl versions | grep -q "^fake .* ok:" || fail "not in rescue mode"
}
