# Helpers for integration tests: initshim as PID 1 of a fresh PID + mount
# namespace, booting the scripted fake systemd (fake-systemd.c).
# Needs root. Every wait is for a condition, bounded by a deadline.

B=${B:-$PWD/build}
FAKE=$B/tests/fake-systemd
INITSHIM=$B/initshim
CTL=$B/initshimctl

# wait_until TIMEOUT_S CMD...: poll a condition until it holds.
wait_until() {
        local deadline=$((SECONDS + $1)); shift
        until "$@" 2>/dev/null; do
                [ "$SECONDS" -lt "$deadline" ] || return 1
                sleep 0.02
        done
}

fail() { echo "FAIL: $*" >&2; [ -n "${T:-}" ] && { echo "--- initshim log:" >&2; tail -n 40 "$T/log" >&2; }; exit 1; }

# ns_start CONFIG_TEXT [ARGS...]: boot initshim with that config. Sets T (work
# dir), NS (host pid of the namespace's PID 1), UNSHARE (its parent).
# The host's systemd is masked inside the namespace: a fallback must never
# boot the real one here.
ns_start() {
        T=$(mktemp -d /tmp/initshim-it.XXXXXX)
        # Version state in the test's directory, never the host's /var/lib;
        # metrics in the namespace's /run, never the host's node_exporter's
        # (last, so that the test's lines keep their numbers).
        printf 'state-dir = %s\n%s\n%s\n' "$T/state" "$1" "${NS_METRICS:-metrics-file = /run/initshim.prom}" \
                > "$T/initshim.conf"; shift
        : > "$T/masked"
        unshare --pid --fork --mount --mount-proc --propagation private ${NS_UNSHARE:-} -- \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin INITSHIM_LOG=stderr \
                INITSHIM_CONF="$T/initshim.conf" INITSHIM_BIN="$INITSHIM" TESTVAR="a b=c" ${NS_ENV:-} \
                /bin/bash -c 'mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
                        # With NS_UNSHARE=--cgroup: the namespace sees its own cgroup2 tree (t_cgroup.sh).
                        if [ -n "${NS_CGROUP2:-}" ]; then mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1; fi
                        # NS_ENV="NS_FAKE_STATE=starting": the fake reports that state from its first probe on.
                        if [ -n "${NS_FAKE_STATE:-}" ]; then echo "$NS_FAKE_STATE" > /run/fake-systemd.state || exit 1; fi
                        # Start from a clean fd table, as the kernel starts init.
                        for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
                        for p in /lib/systemd/systemd /usr/lib/systemd/systemd /lib/systemd/systemd-shutdown /usr/lib/systemd/systemd-shutdown; do
                                [ -e "$p" ] && mount --bind "'"$T"'/masked" "$p"
                        done
                        exec env -u PWD -u SHLVL -u NS_CGROUP2 -u NS_FAKE_STATE -u NS_WRAP ${NS_WRAP:-} "$0" "$@"' "$INITSHIM" "$@" > "$T/log" 2>&1 &
        UNSHARE=$!
        wait_until 5 pgrep -P "$UNSHARE" >/dev/null || fail "namespace did not start"
        NS=$(pgrep -P "$UNSHARE" | head -n1)
}

ns_stop() {
        [ -n "${NS:-}" ] && kill -KILL "$NS" 2>/dev/null
        [ -n "${UNSHARE:-}" ] && wait "$UNSHARE" 2>/dev/null
        [ -n "${T:-}" ] && [ -z "${KEEP:-}" ] && rm -rf "$T"
        NS= UNSHARE=
}

# Run a command inside the namespace (PID and mount).
in_ns() { nsenter -t "$NS" -p -m -- "$@"; }
ctl() { in_ns "$CTL" "$@"; }
ctl_quick() { in_ns "$CTL" --timeout 3 "$@"; }
fake() { in_ns sh -c "printf '%s\n' '$*' > /run/fake-systemd.cmd"; }
# fake block, then wait until the fake has blocked its signals (SIGINT's
# bit, 0x2, in SigBlk's last hex digit): it reads its command when it gets
# to it, and a test acting before that races it.
fake_block() {
        fake block
        wait_until 5 sh -c "awk '/^SigBlk/ {print \$2}' /proc/$NS/status | grep -q '[2367abef]\$'" ||
                fail "the fake did not block its signals: $(grep SigBlk "/proc/$NS/status")"
}
fake_ready() { in_ns grep -q "generation ${1:-}" /run/fake-systemd.ready; }
pid1_exe() { readlink "/proc/$NS/exe"; }
mode_is() { ctl_quick status 2>/dev/null | grep -qx "mode: $1"; }
ns_alive() { kill -0 "$NS" 2>/dev/null; }
# Zombies among PID 1's children, as the namespace sees them.
ns_zombies() { in_ns sh -c 'n=0; for s in /proc/[0-9]*/stat; do read -r l < "$s" 2>/dev/null || continue; r=${l##*) }; set -- $r; [ "$1" = Z ] && [ "$2" = 1 ] && n=$((n+1)); done; echo $n'; }

# Boot the fake as systemd, then make it "crash" into rescue mode.
# Rescue mode holds unless a test asks for another policy ($1 wins).
boot_fake() {
        ns_start "systemd = $FAKE
on-failure = hold
${1:-}"
        wait_until 10 fake_ready 1 || fail "fake systemd did not come up"
}
to_rescue() {
        fake rescue "${1:-test crash}"
        wait_until 10 mode_is rescue || fail "no rescue mode"
}

# A cgroup v2 directory for processes the recovery must keep; sets KEEP_CG
# (path as /proc/PID/cgroup shows it) and KEEP_DIR. Skips (returns 1) where
# no writable unified hierarchy exists.
make_kept_cgroup() {
        local root
        if [ -e /sys/fs/cgroup/cgroup.controllers ]; then root=/sys/fs/cgroup
        elif [ -e /sys/fs/cgroup/unified/cgroup.procs ]; then root=/sys/fs/cgroup/unified
        else return 1; fi
        KEEP_CG=initshim-it-$$/kept
        KEEP_DIR=$root/$KEEP_CG
        mkdir -p "$KEEP_DIR"
}
drop_kept_cgroup() { [ -n "${KEEP_DIR:-}" ] && rmdir "$KEEP_DIR" "${KEEP_DIR%/kept}" 2>/dev/null; true; }
no_zombies() { [ "$(ns_zombies)" = 0 ]; }
untraced() { [ "$(awk '/^TracerPid/ {print $2}' "/proc/$NS/status")" = 0 ]; }
