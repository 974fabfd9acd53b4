#!/bin/bash
# e2e-description: systemctl soft-reboot of systemd 257 keeps the guard (argv[0] marked '@'): after the new userspace boots, the same guard process still traces PID 1 and a SEGV is still taken over
# e2e-bed: qemu
# e2e-image: trixie
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-expect-log: E2E-MARK soft-reboot-257 soft-rebooting
# e2e-expect-log: E2E-PASS soft-reboot-257
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
# On the root file system (the initramfs's tmpfs): survives the soft-reboot
# whatever becomes of /run.
marker=/e2e-soft-rebooted
if [ "$E2E_PHASE" = rescue ]; then
	e2e_initshim_checks rescue
	[[ $(e2e_status_field last-takeover) == *"crash: SIGSEGV"* ]] ||
		e2e_fail "takeover reason: $(e2e_status_field last-takeover)"
	e2e_expect "guard after the takeover" "$(cat "$marker")" "$(cat /run/initshim/guard.pid)"
	e2e_pass "systemd $(e2e_image_major): the guard survived soft-reboot and took a crash over afterwards"
fi
if [ ! -e "$marker" ]; then
	e2e_boot_checks "$(e2e_image_major)" /usr/lib/systemd/systemd
	e2e_guard_traces_pid1
	g=$(cat /run/initshim/guard.pid)
	# The mark is the mechanism; what counts is the outcome after the soft-reboot.
	e2e_log "the guard's argv[0]: $(tr '\0' '\n' <"/proc/$g/cmdline" | head -n 1)"
	echo "$g" >"$marker"
	e2e_hold
	e2e_mark soft-rebooting
	systemctl soft-reboot || e2e_fail "systemctl soft-reboot failed"
	exit 0
fi
g=$(cat "$marker")
e2e_log "after soft-reboot; the guard was pid $g"
e2e_wait_running 150
kill -0 "$g" 2>/dev/null || e2e_fail "the guard (pid $g) did not survive the soft-reboot"
e2e_expect "guard pid file" "$g" "$(cat /run/initshim/guard.pid 2>/dev/null)"
e2e_guard_traces_pid1
e2e_initshim_checks normal
e2e_hold
kill -SEGV 1
