# rdinit=/sbin/initshim: initshim in an "initramfs" (a tmpfs root holding
# initshim, its config with initrd-init = /init, and a stand-in /init,
# initrd-init.c) forks the guard and execs /init; /init deletes initshim and
# switches root to the real root (the host's /, bind-mounted), as run-init
# does. The guard must follow PID 1 there and take a crash over through its
# open fd of the deleted binary.

INITRD_INIT=$B/tests/initrd-init

# initrd_start CONFIG NEXT [noinit]: NEXT is the real root's init that /init
# execs. noinit: the initramfs has no /init, but a copy of the fake systemd.
initrd_start() {
        T=$(mktemp -d /tmp/initshim-it.XXXXXX)
        printf 'state-dir = %s\n%s\n' "$T/state" "$1" > "$T/initshim.conf"
        : > "$T/masked"
        unshare --pid --fork --mount --mount-proc --propagation private -- \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin INITSHIM_LOG=stderr \
                INITSHIM_CONF="$T/initshim.conf" INITSHIM_BIN="$INITSHIM" INITRD_NEXT="$2" NOINIT="${3:-}" \
                /bin/bash -c 'set -e
                        T='"$T"'
                        mount -t tmpfs -o mode=0755 tmpfs /run
                        for p in /lib/systemd/systemd /usr/lib/systemd/systemd /lib/systemd/systemd-shutdown /usr/lib/systemd/systemd-shutdown; do
                                [ -e "$p" ] && mount --bind "$T/masked" "$p"
                        done
                        R=$T/initrd
                        mkdir "$R"
                        mount -t tmpfs -o mode=0755 initramfs "$R"
                        mkdir -p "$R/sbin" "$R/newroot" "$R/dev" "$R$T"
                        cp "'"$INITSHIM"'" "$R/sbin/initshim"
                        if [ -z "$NOINIT" ]; then
                                cp "'"$INITRD_INIT"'" "$R/init"
                        else
                                mkdir -p "$R$(dirname "'"$FAKE"'")"
                                cp "'"$FAKE"'" "$R'"$FAKE"'"
                        fi
                        { cat "$T/initshim.conf"; echo "initrd-init = /init"; } > "$R$T/initshim.conf"
                        mount --rbind / "$R/newroot"
                        for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
                        exec env -u PWD -u SHLVL chroot "$R" /sbin/initshim' > "$T/log" 2>&1 &
        UNSHARE=$!
        wait_until 5 pgrep -P "$UNSHARE" >/dev/null || fail "namespace did not start"
        NS=$(pgrep -P "$UNSHARE" | head -n1)
}

guard_pid() { in_ns cat /run/initshim/guard.pid 2>/dev/null; }
# Guards are PID 1's children; their probers (forks) share the name.
tracer_of_pid1() { awk '/^TracerPid/ {print $2}' "/proc/$NS/status"; }
traced() { local t; t=$(tracer_of_pid1); [ -n "$t" ] && [ "$t" != 0 ]; }

test_initrd_guard_follows_switch_root_and_takes_over() {
        initrd_start "systemd = $FAKE
on-failure = hold" "$FAKE"
        wait_until 10 fake_ready 1 || fail "the fake systemd did not come up on the real root"
        grep -q "initrd stage: guard [0-9]* attached, executing /init" "$T/log" || fail "no initrd stage"
        grep -q "initrd-init: switched root" "$T/log" || fail "/init did not switch root"
        wait_until 10 grep -q "PID 1 switched root, the guard follows it" "$T/log" || fail "guard did not follow"
        wait_until 5 mode_is normal || fail "no control FIFO on the real root: $(ctl_quick status 2>&1)"
        local g
        g=$(guard_pid)
        [ -n "$g" ] || fail "no guard.pid on the real root"
        # The namespace's PIDs: compare through the namespace's /proc.
        [ "$(in_ns awk '/^TracerPid/ {print $2}' /proc/1/status)" = "$g" ] || fail "PID 1 is not traced by guard $g"
        [ "$(in_ns stat -L -c %d:%i /proc/"$g"/root)" = "$(in_ns stat -L -c %d:%i /proc/1/root)" ] ||
                fail "guard's root is $(in_ns readlink /proc/"$g"/root), PID 1's $(in_ns readlink /proc/1/root)"
        in_ns head -c 1 "/proc/$g/cmdline" | grep -q @ || fail "guard's argv[0] is not marked '@'"
        [ ! -e "$T/initrd/sbin/initshim" ] || fail "initshim still in the initramfs"
        fake segv
        wait_until 10 mode_is rescue || fail "crash after the switch-root not taken over"
        ns_alive || fail "PID 1 died"
        ns_stop
}

test_initrd_then_init_initshim_keeps_one_guard() {
        initrd_start "systemd = $FAKE
on-failure = hold" "$INITSHIM"
        wait_until 10 fake_ready 1 || fail "the fake systemd did not come up"
        # (The path as seen from outside PID 1's root.)
        [[ "$(pid1_exe)" == */newroot"$FAKE" ]] || fail "PID 1 runs $(pid1_exe)"
        wait_until 5 grep -q "the guard started in the initramfs traces PID 1 already" "$T/log" ||
                fail "initshim on the real root did not see the guard"
        [ "$(in_ns pgrep -c -x -P 1 initshim-guard)" = 1 ] || fail "$(in_ns pgrep -c -x -P 1 initshim-guard) guards"
        [ -n "$(guard_pid)" ] && traced || fail "PID 1 unguarded"
        wait_until 5 mode_is normal || fail "no control FIFO"
        ns_stop
}

test_initrd_without_init_boots_from_the_initramfs_with_one_guard() {
        initrd_start "systemd = $FAKE
on-failure = hold" "" noinit
        wait_until 10 in_ns grep -q "generation 1" "$T/initrd/run/fake-systemd.ready" ||
                fail "the initramfs's systemd did not come up"
        grep -q "initrd stage: cannot execute /init" "$T/log" || fail "failure not said"
        [ "$(in_ns pgrep -c -x -P 1 initshim-guard)" = 1 ] || fail "$(in_ns pgrep -c -x -P 1 initshim-guard) guards"
        traced || fail "PID 1 unguarded"
        wait_until 5 in_ns test -p "$T/initrd/run/initshim/control" || fail "no control FIFO"
        ns_stop
}
