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
        refused_after() { tail -n "+$((seen + 1))" "$T/log" | grep -q "refused request[^:]*: $1"; }
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
        echo "$out" | grep -q "^fake .* ok: systemd 252 (fake) \[default running\]" || fail "$out"
        echo "$out" | grep -q "^gone .* refused: cannot open" || fail "$out"
        echo "$out" | grep -q "^ww .* refused: writable by group or others" || fail "$out"
        to_rescue
        ctl versions | grep -q "^fake .* ok:" || fail "not in rescue mode"
}

# The parser PID 1 (rescue mode) or the guard (normal mode) runs.
parser_of() { in_ns pgrep -P "$1" -x initshim-ctl | head -n1; }
guard_pid() { in_ns pgrep -x initshim-guard | head -n1; }
has_parser() { [ -n "$(parser_of "$1")" ]; }
no_guard() { [ -z "$(guard_pid)" ]; }

# What the kernel says about the real parser: nobody, no capabilities, no
# new privileges, seccomp, chrooted into the empty root, four fds.
assert_parser_sandboxed() {
        local p=$1 s
        s=$(in_ns cat "/proc/$p/status") || fail "no parser $p"
        echo "$s" | grep -qP '^Uid:\t65534\t65534\t65534\t65534$' || fail "parser $p uid: $(echo "$s" | grep ^Uid)"
        echo "$s" | grep -qP '^Gid:\t65534\t65534\t65534\t65534$' || fail "parser $p gid: $(echo "$s" | grep ^Gid)"
        for f in CapEff CapPrm CapBnd CapAmb; do
                echo "$s" | grep -qP "^$f:\t0+$" || fail "parser $p: $(echo "$s" | grep "^$f")"
        done
        echo "$s" | grep -qP '^NoNewPrivs:\t1$' || fail "parser $p may gain privileges"
        echo "$s" | grep -qP '^Seccomp:\t2$' || fail "parser $p has no seccomp filter"
        [ "$(in_ns readlink "/proc/$p/root")" = /run/initshim/empty ] || fail "parser $p root: $(in_ns readlink "/proc/$p/root")"
        [ "$(in_ns ls "/proc/$p/fd" | wc -l)" = 4 ] || fail "parser $p fds: $(in_ns ls -l "/proc/$p/fd")"
}

test_parser_runs_sandboxed() {
        boot_fake
        wait_until 5 mode_is normal || fail "no server"
        g=$(guard_pid)
        wait_until 5 has_parser "$g" || fail "the guard runs no parser"
        assert_parser_sandboxed "$(parser_of "$g")"
        to_rescue
        wait_until 5 has_parser 1 || fail "PID 1 runs no parser"
        assert_parser_sandboxed "$(parser_of 1)"
}

# A parser taken over (here by ptrace) tries to create a file: it is killed
# for it, creates nothing, is replaced, and PID 1 answers the next status.
test_hijacked_parser_is_killed_and_replaced() {
        boot_fake
        to_rescue
        wait_until 5 has_parser 1 || fail "no parser"
        p=$(parser_of 1)
        in_ns "$B/tests/hijack" "$p" /run/initshim/pwned || fail "could not hijack the parser"
        wait_until 5 grep -q "parser $p killed by SIGSYS" "$T/log" || fail "hijacked parser not killed"
        [ ! -e "/proc/$NS/root/run/initshim/pwned" ] || fail "the hijacked parser created a file"
        ns_alive || fail "PID 1 died"
        replaced() { has_parser 1 && [ "$(parser_of 1)" != "$p" ]; }
        wait_until 5 replaced || fail "not replaced"
        ctl status | grep -qx "mode: rescue" || fail "no status after the parser's death"
}

# A writer that never ends its line (a byte every 0.5 s) must not cost any
# client its answer: each request arrives whole, after a newline of its own.
test_slow_writer_does_not_starve_clients() {
        boot_fake
        to_rescue
        in_ns sh -c 'exec 3>/run/initshim/control; printf x >&3; : > /run/dribbling
                     while :; do sleep 0.5; printf x >&3; done' &
        wait_until 5 test -e "/proc/$NS/root/run/dribbling" || fail "the slow writer did not start"
        pids=
        for i in 1 2 3 4; do
                in_ns "$CTL" --timeout 5 status > "$T/status.$i" 2>&1 &
                pids="$pids $!"
        done
        i=0
        for c in $pids; do
                i=$((i + 1))
                wait "$c" || fail "status $i failed while a slow writer ran: $(cat "$T/status.$i")"
                grep -qx "mode: rescue" "$T/status.$i" || fail "status $i: $(cat "$T/status.$i")"
        done
        wait_until 5 grep -q "dropped an unfinished line" "$T/log" || fail "unfinished line not dropped"
        ns_alive || fail "PID 1 died"
}

# A guard forked by rescue-mode PID 1 (initshimctl guard start) holds none of
# PID 1's fds: not its signalfd, not its parser's pipes, not its FIFO.
test_guard_started_in_rescue_holds_no_pid1_fds() {
        boot_fake
        to_rescue
        wait_until 5 has_parser 1 || fail "no parser"
        ctl guard stop > /dev/null || fail "guard stop"
        wait_until 5 no_guard || fail "guard did not stop"
        ctl guard start | grep -q "started a guard" || fail "guard start"
        g=$(guard_pid); [ -n "$g" ] || fail "no guard"
        pipes() { in_ns ls -l "/proc/$1/fd" | grep -o 'pipe:\[[0-9]*\]' | sort -u; }
        shared=$(comm -12 <(pipes 1) <(pipes "$g"))
        [ -z "$shared" ] || fail "guard holds PID 1's pipes: $shared; $(in_ns ls -l "/proc/$g/fd")"
        n=$(in_ns ls -l "/proc/$g/fd" | grep -c 'signalfd')
        [ "$n" = 1 ] || fail "guard holds $n signalfds: $(in_ns ls -l "/proc/$g/fd")"
        n=$(in_ns ls -l "/proc/$g/fd" | grep -c '/run/initshim/control$')
        [ "$n" -le 1 ] || fail "guard holds $n fds of the FIFO: $(in_ns ls -l "/proc/$g/fd")"
        ctl status | grep -q "^guard: running (pid $g)" || fail "status: $(ctl status)"
}

# A container manager may leave PID 1 an inheritable capability set
# (systemd-nspawn does): the parser still confines itself and serves.
test_parser_serves_with_inherited_capabilities() {
        local wrap
        wrap=$(mktemp /tmp/initshim-inh.XXXXXX)
        printf '#!/bin/sh\nexec setpriv --inh-caps=+net_admin,+sys_admin "$@"\n' >"$wrap"
        chmod 0755 "$wrap"
        NS_ENV="NS_WRAP=$wrap" boot_fake
        rm -f "$wrap"
        grep -q '^CapInh:[[:space:]]*0*[1-9a-f]' "/proc/$NS/status" || fail "PID 1 has no inheritable capabilities: $(grep CapInh "/proc/$NS/status")"
        wait_until 5 mode_is normal || fail "no answer: $(grep -i 'parser\|capabilit' "$T/log" | tail -n 3)"
        assert_parser_sandboxed "$(parser_of "$(guard_pid)")"
}
