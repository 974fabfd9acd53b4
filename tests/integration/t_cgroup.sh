# initshim's own processes live outside PID 1's cgroup from their start, so
# that freezing PID 1's cgroup (the honest way to make systemd unresponsive)
# leaves the control channel and the guard's checks working.

# boot_in_cgroup CONFIG: boot the fake systemd in a cgroup v2 subtree of its
# own that the namespace sees as its root (a cgroup namespace with cgroup2
# mounted on /sys/fs/cgroup), as the kernel starts init in the root cgroup.
# Sets CG (host directory) and CGREL (as the host's /proc/PID/cgroup shows
# it). Returns 1 where no writable cgroup2 hierarchy exists.
boot_in_cgroup() {
        local root self
        if [ -e /sys/fs/cgroup/cgroup.controllers ]; then root=/sys/fs/cgroup
        elif [ -e /sys/fs/cgroup/unified/cgroup.procs ]; then root=/sys/fs/cgroup/unified
        else return 1; fi
        CGREL=/initshim-it-cg-$$
        CG=$root$CGREL
        mkdir "$CG" || return 1
        # Thawed first: a frozen process would not die.
        trap 'thaw; ns_stop; drop_cgroups' EXIT
        self=$(sed -n 's/^0:://p' /proc/self/cgroup)
        # unshare inherits our cgroup: its cgroup namespace is rooted there.
        echo $$ >"$CG/cgroup.procs" || fail "cannot enter $CG"
        NS_UNSHARE=--cgroup NS_ENV=NS_CGROUP2=1 boot_fake "$1"
        # Only the namespace stays: not unshare, which waits outside it.
        echo $$ >"$root$self/cgroup.procs" && echo "$UNSHARE" >"$root$self/cgroup.procs" ||
                fail "cannot return to $self"
}

thaw() { [ -n "${CG:-}" ] && echo 0 >"$CG/init.scope/cgroup.freeze" 2>/dev/null; true; }

drop_cgroups() {
        local d
        [ -n "${CG:-}" ] || return 0
        for d in "$CG"/*/ "$CG"; do
                [ -d "$d" ] || continue
                wait_until 5 sh -c "[ ! -s '$d/cgroup.procs' ]"
                rmdir "$d" 2>/dev/null
        done
        true
}

# What systemd 252+ does first (manager_setup_cgroup): create init.scope and
# move every process of the root cgroup into it.
systemd_takes_the_root_cgroup() {
        mkdir -p "$CG/init.scope"
        local pid
        for pid in $(cat "$CG/cgroup.procs"); do
                echo "$pid" >"$CG/init.scope/cgroup.procs" 2>/dev/null
        done
        grep -qx "0::$CGREL/init.scope" "/proc/$NS/cgroup" || fail "PID 1 not in init.scope: $(cat "/proc/$NS/cgroup")"
}

freeze_pid1_cgroup() {
        echo 1 >"$CG/init.scope/cgroup.freeze"
        wait_until 10 grep -qx "frozen 1" "$CG/init.scope/cgroup.events" || fail "init.scope did not freeze"
}

cgroup_of_pid() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }
host_pid_of() { pgrep --ns "$NS" -x "$1" | head -n1; }
# Every child the guard has (the parser, a prober) is in /initshim.
guard_children_outside() {
        local guard=$1 child cg n=0
        for child in $(pgrep -P "$guard"); do
                # A prober may exit between pgrep and the read: nothing to judge.
                cg=$(cgroup_of_pid "$child" 2>/dev/null) && [ -n "$cg" ] || continue
                [ "$cg" = "$CGREL/initshim" ] || return 1
                n=$((n + 1))
        done
        [ "$n" -gt 0 ]
}

test_control_answers_with_pid1_cgroup_frozen() {
        boot_in_cgroup "" || { echo "SKIP: no writable cgroup2 hierarchy"; return 0; }
        wait_until 10 host_pid_of initshim-ctl >/dev/null || fail "no control parser"
        guard=$(host_pid_of initshim-guard) parser=$(host_pid_of initshim-ctl)
        # From their start, before systemd sets up init.scope.
        [ "$(cgroup_of_pid "$guard")" = "$CGREL/initshim" ] || fail "guard in $(cgroup_of_pid "$guard")"
        [ "$(cgroup_of_pid "$parser")" = "$CGREL/initshim" ] || fail "parser born in $(cgroup_of_pid "$parser")"
        systemd_takes_the_root_cgroup
        wait_until 10 sh -c "[ \"\$(sed -n 's/^0:://p' /proc/$guard/cgroup)\" != '$CGREL/init.scope' ]" ||
                fail "guard stays in init.scope"
        guard_children_outside "$guard" || fail "a child of the guard is in PID 1's cgroup"
        freeze_pid1_cgroup
        ctl_quick status | grep -qx "mode: normal" || fail "status not answered with init.scope frozen"
        in_ns "$CTL" --timeout 10 takeover | grep -q "taking PID 1 over" || fail "takeover not answered"
        wait_until 20 mode_is rescue || fail "no takeover of the frozen PID 1"
        [ "$(cat "$CG/init.scope/cgroup.freeze")" = 0 ] || fail "init.scope left frozen"
        grep -q "cgroup /init.scope was frozen: thawed it" "$T/log" ||
                fail "thaw not logged"
}

test_frozen_pid1_is_taken_over_without_a_reexec_wait() {
        # The prober's Ping times out and counts; a frozen PID 1 cannot act on
        # SIGTERM, so the guard does not wait reexec-timeout for a re-exec.
        boot_in_cgroup "liveness-interval = 1s
liveness-timeout = 1s
liveness-failures = 2
reexec-timeout = 600s" || { echo "SKIP: no writable cgroup2 hierarchy"; return 0; }
        wait_until 20 sh -c "nsenter -t $NS -p -m -- $CTL --timeout 3 status | grep -q '^check-liveness: ok'" ||
                fail "liveness never ok"
        guard=$(host_pid_of initshim-guard)
        systemd_takes_the_root_cgroup
        freeze_pid1_cgroup
        # A prober stuck on the frozen bus is caught in the act: outside too.
        wait_until 10 sh -c "[ \$(pgrep -P $guard -x initshim-guard | wc -l) -gt 0 ]" || fail "no prober seen"
        guard_children_outside "$guard" || fail "a prober is in PID 1's cgroup"
        wait_until 30 mode_is rescue || fail "frozen PID 1 not taken over (reexec-timeout is 600 s)"
        ctl status | grep -q "^last-takeover: unresponsive.*cgroup is frozen" || fail "status: $(ctl status | grep last-takeover)"
        [ "$(cat "$CG/init.scope/cgroup.freeze")" = 0 ] || fail "init.scope left frozen"
}

test_guard_goes_on_without_a_signalfd() {
        # signalfd fails for good (EMFILE): the guard must not exit; it
        # temporizes, still serves the control FIFO and follows PID 1's execs.
        NS_ENV="NS_WRAP=$B/tests/no-signalfd" boot_fake
        ctl_quick status | grep -q "^guard: running" || fail "guard not running: $(ctl_quick status 2>&1 | grep guard)"
        grep -q "signalfd failed; going on" "$T/log" || fail "no signalfd failure logged"
        fake reexec
        wait_until 10 fake_ready 2 || fail "PID 1's re-exec not followed (a ptrace stop left unserviced?)"
        [ "$(awk '/^TracerPid/ {print $2}' "/proc/$NS/status")" != 0 ] || fail "PID 1 no longer traced"
        ctl_quick status | grep -qx "mode: normal" || fail "status not answered after the re-exec"
}
