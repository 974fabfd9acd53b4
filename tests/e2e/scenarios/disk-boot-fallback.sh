#!/bin/bash
# e2e-description: disk root (initramfs-tools), two boots: the default version, a bundle of the newest systemd that hangs at boot (a copy whose systemd, as PID 1, listens on its private socket and blocks in its start-up), the guard counts the boot, takes over and rescue mode reboots (on-failure=reboot); the next boot skips it (boot-tries=1) and boots the fallback 252, the count kept on the disk in /var/lib/initshim
# e2e-bed: disk
# e2e-initramfs: initramfs-tools
# e2e-boots: 2
# e2e-timeout: 400
# The newest bundle, and a copy of it that, as PID 1, listens on
# /run/systemd/private and then blocks for good (a version stuck in its
# start-up: Pings unanswered, SIGTERM blocked), tests/e2e/host/bundles.sh.
# It passes preflight (its --version is untouched). rw: no systemd remounts /
# in boot 1.
# e2e-bundle: forky systemd libsystemd-shared
# e2e-bundle-break: forky hang hang
# e2e-cmdline: init=/sbin/initshim
# e2e-config: default = hang
# e2e-config: fallback = 252
# e2e-config: boot-tries = 1
# e2e-config: on-failure = reboot
# Unresponsive after 3 unanswered Pings 3 s apart, taken over 5 s after the
# re-exec it cannot do: boot 1 ends within about half a minute, and a busy
# real systemd in boot 2 would need a 9 s stall to be suspected.
# e2e-config: liveness-interval = 3s
# e2e-config: liveness-timeout = 3s
# e2e-config: liveness-failures = 3
# e2e-config: reexec-timeout = 5s
# e2e-expect-log: initshim\[1\]: executing /usr/lib/initshim/bundles/hang/systemd
# e2e-expect-log: boot: counting this boot of /usr/lib/initshim/bundles/hang/systemd
# e2e-expect-log: health: unresponsive.*taking over
# e2e-expect-log: on-failure=reboot
# e2e-expect-log: reboot: Restarting system
# e2e-expect-log: skipping /usr/lib/initshim/bundles/hang/systemd
# e2e-expect-log: initshim\[1\]: executing /lib/systemd/systemd
# e2e-expect-log: E2E-PASS disk-boot-fallback
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
# Boot 1 has no systemd to start this; rescue mode starts it only when it
# holds, i.e. when on-failure=reboot did not reboot.
[ "$E2E_PHASE" = systemd ] || e2e_fail "rescue mode holds after the takeover of the hung default (on-failure=reboot)"
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_expect "manager major version" 252 "$(e2e_manager_major)"
e2e_log "boot counts on the disk ($(findmnt -n -o SOURCE -T /var/lib/initshim)):"
sed 's/^/  /' /var/lib/initshim/boot-failures 2>&1
e2e_versions_expect '^hang .*\[default\]; 1 boot without reaching healthy' "1 unhealthy boot of the 'hang' bundle" \
	'^252 .*\[fallback running\]' "252 as the running fallback"
# 252's own boot was counted too, and is cleared once the guard sees it
# healthy (Ping answered, SystemState running).
deadline=$((SECONDS + 30))
while initshimctl versions | grep -q '^252 .*without reaching healthy'; do
	[ $SECONDS -lt $deadline ] || e2e_fail "252's boot count not cleared: $(initshimctl versions | grep '^252 ')"
	sleep 1
done
e2e_log "ok: 252's boot count cleared"
e2e_pass "the hung default was skipped at the next boot"
