# Switching the systemd binary with state kept, and rolling back.

two_fakes() {
        A=/tmp/initshim-fakeA.$$ Bf=/tmp/initshim-fakeB.$$
        cp "$FAKE" "$A"; cp "$FAKE" "$Bf"; chmod 755 "$A" "$Bf"
}
rm_fakes() { rm -f "$A" "$Bf" "${BAD:-}"; }
guard_stops() { ctl status | sed -n 's/.* \([0-9][0-9]*\) ptrace stops.*/\1/p'; }
# The guard no longer follows a fresh exec (docs/ptrace.md) syscall by syscall.
guard_steady() { ! ctl_quick status | grep -q '^guard: .*following'; }

test_switch_keeps_state_and_services() {
        two_fakes
        boot_fake "systemd = $A
version a = $A
version b = $Bf
default = a
liveness-interval = 0"
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        # The boot's watch over the fresh exec (docs/ptrace.md) ends first:
        # its stops are not the switch's.
        wait_until 10 guard_steady || fail "the guard still follows the boot's exec"
        out=$(ctl exec b) || fail "switch refused: $out"
        echo "$out" | grep -q "switched to $Bf" || fail "answer: $out"
        [ "$(pid1_exe)" = "$Bf" ] || fail "PID 1 runs $(pid1_exe)"
        wait_until 10 fake_ready 2 || fail "state not handed over (--deserialize): $(in_ns cat /run/fake-systemd.ready)"
        [ "$(in_ns cat /run/fake-systemd.svc.pid)" = "$svc" ] && in_ns kill -0 "$svc" || fail "service lost"
        # A version change is systemd's own re-exec landed in the other
        # binary: the SIGTERM's delivery (to the fake's handler; systemd
        # reads it from a signalfd, no stop), the re-exec's exec event, that
        # execve's exit stop, the injected execve's entry and exec event: 5,
        # plus at most one syscall stop the boot's exec window left pending.
        # Following the serializing systemd syscall by syscall (the old way)
        # took 25 with this fake.
        n=$(grep -o "now runs $Bf (execve injected; [0-9]* ptrace stops" "$T/log" | head -n1 | grep -o '[0-9]* ptrace' | cut -d' ' -f1)
        [ -n "$n" ] && [ "$n" -le 6 ] || fail "the switch took ${n:-?} ptrace stops: $(grep 'now runs' "$T/log")"
        # And back.
        out=$(ctl exec a) || fail "switch back refused: $out"
        [ "$(pid1_exe)" = "$A" ] || fail "PID 1 runs $(pid1_exe)"
        wait_until 10 fake_ready 3 || fail "state not handed over the second time"
        in_ns kill -0 "$svc" || fail "service lost"
        ctl status | grep -q "^last-switch: $Bf -> $A: switched to $A" || fail "status: $(ctl status)"
        rm_fakes
}

test_switch_refuses_broken_candidate() {
        two_fakes
        BAD=/tmp/initshim-bad.$$; printf '#!/bin/sh\nexit 0\n' > "$BAD"; chmod 755 "$BAD"
        boot_fake "systemd = $A
version bad = $BAD
version ww = $Bf
liveness-interval = 0"
        chmod 0777 "$Bf"
        out=$(ctl exec bad 2>&1) && fail "non-ELF accepted"
        echo "$out" | grep -q "refused: not an ELF.*nothing changed" || fail "answer: $out"
        out=$(ctl exec ww 2>&1) && fail "world-writable accepted"
        echo "$out" | grep -q "writable by group or others" || fail "answer: $out"
        [ "$(pid1_exe)" = "$A" ] && fake_ready 1 || fail "something changed"
        rm_fakes
}

test_switch_rolls_back_a_version_that_does_not_answer() {
        two_fakes
        boot_fake "systemd = $A
version a = $A
version b = $Bf
liveness-interval = 0
switch-grace = 2s"
        # b comes up deaf: it never answers Ping.
        in_ns sh -c 'echo deaf > /run/fake-systemd.start-deaf'
        out=$(ctl exec b 2>&1) && fail "a deaf version was confirmed: $out"
        echo "$out" | grep -q "rolled back to $A with state kept" || fail "answer: $out"
        [ "$(pid1_exe)" = "$A" ] || fail "PID 1 runs $(pid1_exe)"
        # Answered only once the previous version answers in turn.
        grep -q "switch: PID 1 runs $A again and answers" "$T/log" || fail "answered before $A answered"
        ctl versions | grep -q "^b " || fail "no versions"
        grep -q "marked $Bf bad" "$T/log" || fail "not marked bad"
        ctl status | grep -q "^last-switch: $A -> $Bf: error: no answer to Ping .* rolled back to $A" ||
                fail "status: $(ctl status)"
        rm_fakes
}

test_switch_rolls_back_a_version_that_crashes() {
        two_fakes
        boot_fake "systemd = $A
version a = $A
version b = $Bf
on-failure = restart
stop-timeout = 1s
liveness-interval = 0
switch-grace = 5s"
        in_ns sh -c 'echo crash > /run/fake-systemd.start-crash'
        out=$(ctl exec b 2>&1) && fail "a crashing version was confirmed: $out"
        echo "$out" | grep -q "failed after the switch" || fail "answer: $out"
        wait_until 20 fake_ready 1 || fail "previous version not restarted"
        [ "$(pid1_exe)" = "$A" ] || fail "PID 1 runs $(pid1_exe), not the last good one"
        grep -q "marked $Bf bad: crashed right after a switch" "$T/log" || fail "not marked bad"
        ctl status | grep -q "^last-switch: $A -> $Bf: error: $Bf failed after the switch" || fail "status: $(ctl status)"
        rm_fakes
}

# The target's execve fails where its preflight passed (its mount became
# noexec; the file is unchanged, so the remembered pass is used): PID 1
# goes on in the binary its own re-exec loaded, with its state.
# The fake writes its generation once it has re-executed: wait for it
# (it may lag the switch's answer).
fake_ready_any() {
        local g
        for g; do
                fake_ready "$g" && return 0
        done
        return 1
}

test_switch_whose_execve_fails_rolls_back() {
        two_fakes
        D=/tmp/initshim-vdir.$$
        boot_fake "systemd = $A
version a = $A
version b = $D/b
liveness-interval = 0"
        in_ns mkdir -p "$D" && in_ns mount -t tmpfs -o mode=0755 tmpfs "$D" && in_ns cp "$Bf" "$D/b" &&
                in_ns chmod 755 "$D/b" || fail "cannot set up $D"
        out=$(ctl exec b) || fail "switch refused: $out"
        out=$(ctl exec a) || fail "switch back refused: $out"
        wait_until 10 fake_ready 3 || fail "state not handed over"
        in_ns mount -o remount,noexec "$D" || fail "remount"
        out=$(ctl exec b 2>&1) && fail "a switch to a binary that cannot be executed was confirmed: $out"
        echo "$out" | grep -q "could not execute $D/b (Permission denied); rolled back" || fail "answer: $out"
        grep -q "$D/b passed preflight before and has not changed" "$T/log" || fail "preflight not remembered"
        [ "$(pid1_exe)" = "$A" ] || fail "PID 1 runs $(pid1_exe)"
        wait_until 10 fake_ready 4 || fail "state not kept through the rollback: $(in_ns cat /run/fake-systemd.ready)"
        ctl status | grep -q "^mode: normal" || fail "status: $(ctl status)"
        in_ns umount "$D"
        rm_fakes
}


# The binary PID 1 runs already: its own re-exec keeps its state, and the
# guard does not follow it syscall by syscall.

test_switch_to_the_running_binary_is_a_plain_reexec() {
        two_fakes
        boot_fake "systemd = $A
version a = $A
version b = $Bf
liveness-interval = 0"
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        # The boot's watch over the fresh exec (docs/ptrace.md) ends first:
        # its stops are not the switch's.
        wait_until 10 guard_steady || fail "the guard still follows the boot's exec"
        s0=$(guard_stops)
        out=$(ctl exec a) || fail "switch refused: $out"
        echo "$out" | grep -q "switched to $A" || fail "answer: $out"
        [ "$(pid1_exe)" = "$A" ] || fail "PID 1 runs $(pid1_exe)"
        wait_until 10 fake_ready 2 || fail "state not handed over (--deserialize): $(in_ns cat /run/fake-systemd.ready)"
        in_ns kill -0 "$svc" || fail "service lost"
        s1=$(guard_stops)
        [ -n "$s0" ] && [ -n "$s1" ] && [ $((s1 - s0)) -le 3 ] ||
                fail "the guard followed PID 1's re-exec: ptrace stops $s0 -> $s1"
        rm_fakes
}

# PID 1 runs b under a's name: its own re-exec goes to a, and the guard
# then switches it to b after all.
test_switch_to_the_running_binary_that_reexecs_another() {
        two_fakes
        boot_fake "systemd = $A
version a = $A
version b = $Bf
liveness-interval = 0"
        out=$(ctl exec b) || fail "switch refused: $out"
        [ "$(pid1_exe)" = "$Bf" ] || fail "first switch: PID 1 runs $(pid1_exe)"
        wait_until 10 fake_ready 2 || fail "first switch: state not handed over"
        out=$(ctl exec b) || fail "second switch refused: $out"
        echo "$out" | grep -q "switched to $Bf" || fail "answer: $out"
        [ "$(pid1_exe)" = "$Bf" ] || fail "PID 1 runs $(pid1_exe)"
        # Its state went through every re-exec (generation 1 at boot, +1 each).
        wait_until 10 fake_ready_any 3 4 || fail "state not handed over: $(in_ns cat /run/fake-systemd.ready)"
        rm_fakes
}
