# Live upgrade of initshim itself: the guard (and rescue-mode PID 1) move to
# the installed binary without a reboot (docs/design.md "Live upgrade").

# make_build BUILD DEST: a copy of build/initshim that reports BUILD, as a
# second build of the same version would (its marker patched, common/version.h).
make_build() {
        perl -0777 -e '
                my ($src, $dst, $build) = @ARGV;
                open(my $in, "<:raw", $src) or die "$src: $!"; local $/; my $b = <$in>;
                my $new = "initshim-build=$build";
                my $n = () = $b =~ /initshim-build=/g;
                $n == 1 or die "$n build markers in $src";
                $b =~ s/initshim-build=[^\0]*\0*/$new . ("\0" x (96 - length $new))/e or die "no marker";
                open(my $out, ">:raw", $dst) or die "$dst: $!"; print $out $b;' "$B/initshim" "$2" "$1" || fail "cannot make build $1"
        chmod 755 "$2"
}

# Boot build A from $UPG/initshim; build B waits beside it.
upgrade_setup() {
        UPG=$(mktemp -d /tmp/initshim-upg.XXXXXX)
        trap 'ns_stop; rm -rf "$UPG"' EXIT
        make_build "0.1 (test-A)" "$UPG/initshim"
        make_build "0.1 (test-B)" "$UPG/initshim-B"
        INITSHIM=$UPG/initshim
        export INITSHIM_BIN=$INITSHIM # for initshimctl: the installed binary
        boot_fake
        GUARD=$(pgrep -P "$NS" -x initshim-guard | head -n1)
        [ -n "$GUARD" ] || fail "no guard"
        wait_until 5 sh -c "grep -qx 'TracerPid:	$GUARD' /proc/$NS/status" || fail "PID 1 not traced by the guard"
        ctl status | grep -qx "guard-version: 0.1 (test-A)" || fail "status: $(ctl status)"
}

# What the package manager does: rename the new binary over the old one.
install_build_b() {
        mv "$UPG/initshim-B" "$UPG/initshim"
}

# Sample PID 1's tracer as fast as the shell can while $@ runs; fail if
# anyone but $GUARD (or nobody) traced it in any sample.
traced_throughout() {
        ( trap - EXIT; while :; do grep '^TracerPid' "/proc/$NS/status"; done ) > "$UPG/tracers" 2>/dev/null &
        local sampler=$!
        "$@"; local rc=$?
        kill "$sampler"; wait "$sampler" 2>/dev/null
        [ "$rc" = 0 ] || return "$rc"
        echo "    $(wc -l < "$UPG/tracers") samples of PID 1's TracerPid during the upgrade"
        ! grep -vx "TracerPid:	$GUARD" "$UPG/tracers" || fail "PID 1 was not traced by the guard throughout"
}

test_guard_upgrade_keeps_pid1_traced_and_takes_over_with_the_new_build() {
        upgrade_setup
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        ctl status --prometheus | grep -qx "initshim_running_build_mismatch 0" || fail "metrics: $(ctl status --prometheus)"
        install_build_b
        ctl status | grep -qx "version-mismatch: the guard runs 0.1 (test-A); 'initshimctl upgrade' moves it to 0.1 (test-B)" ||
                fail "no mismatch shown: $(ctl status)"
        ctl status --prometheus | grep -qx "initshim_running_build_mismatch 1" || fail "metrics: $(ctl status --prometheus)"
        traced_throughout ctl upgrade > "$UPG/out" || fail "upgrade: $(cat "$UPG/out")"
        cat "$UPG/out"
        grep -q "^last-upgrade: guard 0.1 (test-A) -> 0.1 (test-B), PID 1 traced throughout, unattended [0-9]* us" "$UPG/out" ||
                fail "no measured window: $(cat "$UPG/out")"
        [ "$(pgrep -P "$NS" -x initshim-guard)" = "$GUARD" ] || fail "the guard's pid changed"
        [ "$(readlink "/proc/$GUARD/exe")" = "$UPG/initshim" ] || fail "the guard runs $(readlink "/proc/$GUARD/exe")"
        ctl status > "$UPG/status"
        grep -qx "guard-version: 0.1 (test-B)" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        ! grep -q "^version-mismatch" "$UPG/status" || fail "still a mismatch: $(cat "$UPG/status")"
        grep -q "^guard: running (pid [0-9]*), tracing PID 1" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        ctl status --prometheus | grep -qx "initshim_running_build_mismatch 0" || fail "metrics: $(ctl status --prometheus)"
        # A crash afterwards is taken over by build B.
        fake segv
        wait_until 10 mode_is rescue || fail "no rescue mode after the upgrade"
        [ "$(pid1_exe)" = "$UPG/initshim" ] || fail "PID 1 is $(pid1_exe)"
        ctl status | grep -qx "pid1-version: initshim 0.1 (test-B)" || fail "PID 1 is not build B: $(ctl status)"
        in_ns kill -0 "$svc" || fail "service $svc died"
}

test_upgrade_refuses_a_binary_others_can_write() {
        upgrade_setup
        install_build_b
        chmod 777 "$UPG/initshim"
        ! ctl upgrade > "$UPG/out" 2>&1 || fail "upgraded to a world-writable binary"
        grep -q "cannot upgrade the guard now: .* only root can write" "$UPG/out" || fail "said: $(cat "$UPG/out")"
        [ "$(readlink "/proc/$GUARD/exe")" = "$UPG/initshim (deleted)" ] || fail "the guard runs $(readlink "/proc/$GUARD/exe")"
        ctl status | grep -qx "guard-version: 0.1 (test-A)" || fail "status: $(ctl status)"
}

# make_bad_builds DIR: one file per defect a live upgrade must refuse in the
# installed binary (common/version.h, initshim_check_binary), each named
# after the words of its refusal; DIR/list has "NAME|WORDS" lines.
make_bad_builds() {
        local d=$1 other
        mkdir -p "$d"
        make_build "0.1 (test-B)" "$d/good"
        other=183 # EM_AARCH64; on aarch64, EM_X86_64
        [ "$(uname -m)" = aarch64 ] && other=62
        perl -0777 -pe "substr(\$_, 18, 2) = pack('v', $other)" "$d/good" > "$d/arch"
        head -c $(($(stat -c %s "$d/good") - 4096)) "$d/good" > "$d/truncated"
        perl -0777 -pe 's/initshim-build=/notanyth-build=/' "$d/good" > "$d/foreign"
        cp "$(readlink -f /bin/true)" "$d/dynamic" # Debian's: linked with glibc's loader
        printf '#!/bin/sh\nexit 0\n' > "$d/script"
        chmod 755 "$d"/*
        cat > "$d/list" <<'LIST'
arch|an ELF binary for another machine
truncated|truncated
foreign|not initshim
dynamic|dynamically linked
script|not an ELF binary
LIST
}

# refuse_each PREFIX: for each bad build installed in turn (renamed over the
# installed binary, as a package manager does), `initshimctl upgrade` fails
# and says "PREFIX PATH is WORDS".
refuse_each() {
        local prefix=$1 name words
        while IFS='|' read -r name words; do
                cp "$UPG/bad/$name" "$UPG/initshim.new" && mv "$UPG/initshim.new" "$UPG/initshim" || fail "install $name"
                ! ctl upgrade > "$UPG/out" 2>&1 || fail "upgraded to the $name binary: $(cat "$UPG/out")"
                grep -qF "$prefix $UPG/initshim is $words" "$UPG/out" || fail "$name refused as: $(cat "$UPG/out")"
                echo "    $name: $(grep -o 'is .*' "$UPG/out" | head -n1)"
        done < "$UPG/bad/list"
}

test_guard_refuses_to_upgrade_to_a_binary_that_is_not_a_complete_static_initshim() {
        upgrade_setup
        make_bad_builds "$UPG/bad"
        refuse_each "cannot upgrade the guard now:"
        [ "$(pgrep -P "$NS" -x initshim-guard)" = "$GUARD" ] || fail "the guard's pid changed"
        [ "$(readlink "/proc/$GUARD/exe")" = "$UPG/initshim (deleted)" ] || fail "the guard runs $(readlink "/proc/$GUARD/exe")"
        ctl status > "$UPG/status"
        grep -qx "guard-version: 0.1 (test-A)" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        grep -qx "installed: refused: $UPG/initshim is not an ELF binary" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        ! grep -q "^version-mismatch" "$UPG/status" || fail "a mismatch with a binary that is not initshim: $(cat "$UPG/status")"
        ! ctl status --prometheus | grep -q "^initshim_running_build_mismatch" || fail "a mismatch series with a binary that is not initshim"
        grep -q "^guard: running (pid [0-9]*), \(tracing PID 1\|following the fresh exec\)" "$UPG/status" ||
                fail "status: $(cat "$UPG/status")"
        grep -qx "TracerPid:	$GUARD" "/proc/$NS/status" || fail "PID 1 not traced by the guard"
        # Still able to upgrade, and to take a crash over with the build it runs.
        cp "$UPG/bad/good" "$UPG/initshim.new" && mv "$UPG/initshim.new" "$UPG/initshim"
        ctl upgrade > "$UPG/out" || fail "upgrade to the good build: $(cat "$UPG/out")"
        grep -q "^upgrading the guard from initshim 0.1 (test-A) to 0.1 (test-B) ($UPG/initshim)" "$UPG/out" ||
                fail "answer: $(cat "$UPG/out")"
        ctl status | grep -qx "guard-version: 0.1 (test-B)" || fail "status: $(ctl status)"
}

test_rescue_mode_refuses_to_upgrade_to_a_binary_that_is_not_a_complete_static_initshim() {
        upgrade_setup
        make_bad_builds "$UPG/bad"
        to_rescue "crash before the upgrade"
        refuse_each "cannot upgrade now:"
        ns_alive || fail "PID 1 died"
        [ "$(pid1_exe)" = "$UPG/initshim (deleted)" ] || fail "PID 1 runs $(pid1_exe)"
        [ "$(readlink "/proc/$GUARD/exe")" = "$UPG/initshim (deleted)" ] || fail "the guard runs $(readlink "/proc/$GUARD/exe")"
        wait_until 5 mode_is rescue || fail "rescue mode does not answer"
        ctl status > "$UPG/status"
        grep -qx "pid1-version: initshim 0.1 (test-A)" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        grep -qx "guard-version: 0.1 (test-A)" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        ! grep -q "upgraded from" "$T/log" || fail "something was upgraded: $(grep "upgraded from" "$T/log")"
}

test_rescue_mode_pid1_upgrades_in_place_with_its_state() {
        upgrade_setup
        fake spawn svc
        wait_until 5 in_ns test -s /run/fake-systemd.svc.pid || fail "no service"
        svc=$(in_ns cat /run/fake-systemd.svc.pid)
        to_rescue "crash before the upgrade"
        ctl status | grep -qx "pid1-version: initshim 0.1 (test-A)" || fail "status: $(ctl status)"
        since=$(ctl status | sed -n 's/^mode-since: \([0-9]*\)\..*/\1/p')
        install_build_b
        ctl status | grep -qx "version-mismatch: PID 1 runs 0.1 (test-A); 'initshimctl upgrade' moves it to 0.1 (test-B)" ||
                fail "no mismatch shown: $(ctl status)"
        ctl status --prometheus | grep -qx "initshim_running_build_mismatch 1" || fail "metrics: $(ctl status --prometheus)"
        ctl upgrade > "$UPG/out" || fail "upgrade: $(cat "$UPG/out")"
        cat "$UPG/out"
        ns_alive || fail "PID 1 died"
        [ "$(pid1_exe)" = "$UPG/initshim" ] || fail "PID 1 runs $(pid1_exe)"
        [ "$(readlink "/proc/$GUARD/exe")" = "$UPG/initshim" ] || fail "the guard runs $(readlink "/proc/$GUARD/exe")"
        grep -q "rescue mode: PID 1 upgraded from initshim 0.1 (test-A) to 0.1 (test-B) in [0-9]* us" "$T/log" ||
                fail "re-exec not logged"
        wait_until 5 mode_is rescue || fail "rescue mode does not answer after the upgrade"
        ctl status > "$UPG/status"
        grep -qx "pid1-version: initshim 0.1 (test-B)" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        grep -qx "last-takeover: crash before the upgrade" "$UPG/status" || fail "reason lost: $(cat "$UPG/status")"
        grep -qx "guard-version: 0.1 (test-B)" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        now=$(sed -n 's/^mode-since: \([0-9]*\)\..*/\1/p' "$UPG/status")
        [ "$now" -ge "$since" ] || fail "mode-since restarted: ${since}s before, ${now}s after"
        ! grep -q "^version-mismatch" "$UPG/status" || fail "still a mismatch: $(cat "$UPG/status")"
        grep -q "^guard: running (pid [0-9]*), tracing PID 1" "$UPG/status" || fail "status: $(cat "$UPG/status")"
        ctl status --prometheus | grep -qx "initshim_running_build_mismatch 0" || fail "metrics: $(ctl status --prometheus)"
        [ "$(awk '/^TracerPid/ {print $2}' "/proc/$NS/status")" = "$GUARD" ] || fail "PID 1 not traced by the guard"
        in_ns kill -0 "$svc" || fail "service $svc died"
        # Still PID 1's job: orphans are reaped by the new binary.
        in_ns "$B/tests/storm" 200 50 || fail "storm"
        wait_until 10 no_zombies || fail "zombies left"
}
