#!/bin/bash
# e2e-description: systemd 252 crashes (SIGSEGV); initshim takes PID 1 back, services live on, rescue mode answers and powers off
# e2e-bed: qemu
# e2e-timeout: 180
# Hold in rescue mode, so that the rescue phase below has a stable PID 1.
# e2e-config: on-failure = hold
# e2e-expect-log: reboot: Power down
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh

if [ "$E2E_PHASE" = rescue ]; then
	# Started by initshim's rescue-command: no systemd runs now.
	e2e_expect "PID 1 executable" /usr/sbin/initshim "$(e2e_pid1_exe)"
	e2e_initshim_checks rescue
	for p in systemd-journal systemd-logind dbus-daemon; do
		e2e_expect "number of $p processes after the crash" 1 "$(e2e_count_procs "$p")"
	done
	e2e_pass
fi

e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_hold # the verdict comes from the rescue phase
e2e_log "sending SIGSEGV to PID 1"
kill -SEGV 1
