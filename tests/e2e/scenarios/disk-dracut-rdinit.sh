#!/bin/bash
# e2e-description: disk root through a dracut initramfs, rdinit=/sbin/initshim: initshim in the initramfs forks the guard before the initramfs's /init runs; the guard follows the switch-root to the disk's systemd 252 and takes its crash (kill -SEGV 1) over
# dracut's /init, systemd in the initramfs, switches root with its state serialized to the disk's systemd.
# e2e-bed: disk
# e2e-initramfs: dracut
# e2e-cmdline: rdinit=/sbin/initshim
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-expect-log: initshim\[1\]: initrd stage: guard [0-9]+ attached, executing /init
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 switched root, the guard follows it
# e2e-expect-log: E2E-PASS disk-dracut-rdinit
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIG
# e2e-expect-log: reboot: Restarting system
# e2e-reject-log: no systemd could be executed
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
if [ "$E2E_PHASE" = systemd ]; then
	e2e_expect "root file system" "/dev/vda ext4" "$(findmnt -n -o SOURCE,FSTYPE /)"
	e2e_wait_running 150
	# The guard forked in the initramfs still traces PID 1, now the disk's systemd.
	e2e_guard_traces_pid1
	g=$(cat /run/initshim/guard.pid)
	dmesg | grep -q "initshim\[1\]: initrd stage: guard $g attached" ||
		e2e_fail "the guard (pid $g) is not the one initshim attached in the initramfs: $(dmesg | grep 'initrd stage')"
	e2e_log "ok: the guard is the one attached in the initramfs (pid $g)"
fi
# Rescue mode is the guard's open copy of the initramfs's initshim, whose
# file the switch-root deleted (docs/boot.md).
e2e_crash_scenario 252 /usr/lib/systemd/systemd kill-SEGV "/usr/sbin/initshim (deleted)"
