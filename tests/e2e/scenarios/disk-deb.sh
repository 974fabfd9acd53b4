#!/bin/bash
# e2e-description: the Debian package on a disk root (initramfs-tools): dpkg -i and `initshimctl boot enable` at image preparation; boot 1 gets init=/sbin/initshim from the GRUB drop-in, the guard traces PID 1; `dpkg -i` of a second build of the package (version +e2e1) moves the running guard to it live; kill -SEGV 1 is taken over by that build and systemd restarted; then `dpkg -r initshim` under that chain and a reboot; boot 2 is plain systemd from an initramfs without initshim
# e2e-bed: disk
# e2e-initramfs: initramfs-tools
# e2e-install: deb
# e2e-deb-upgrade: /var/lib/initshim-e2e/initshim-new.deb
# e2e-prepare: initshimctl boot enable
# e2e-boots: 2
# Two boots, a restart and three initramfs regenerations (install,
# upgrade, remove) under TCG.
# e2e-timeout: 900
# e2e-config: on-failure = restart
# e2e-config: stop-timeout = 5s
# e2e-expect-log: initshim\[1\]: executing /lib/systemd/systemd
# e2e-expect-log: initshim-guard\[[0-9]+\]: guard: upgraded from initshim 0\.1 \([^)]*deb0\.1\) to 0\.1 \([^)]*deb0\.1\+e2e1\); PID 1 stayed traced
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIG
# e2e-expect-log: initshim\[1\]: rescue mode: PID 1 runs initshim 0\.1 \([^)]*deb0\.1\+e2e1\)
# e2e-expect-log: on-failure=restart: bringing up
# e2e-expect-log: reboot: Restarting system
# e2e-expect-log: E2E-PASS disk-deb
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
# On the disk: boot 2 finds it. In /run: this boot only.
removed=/var/lib/initshim-e2e/deb-removed
crashed=$E2E_STATE/deb-crashed
upgrade_deb=/var/lib/initshim-e2e/initshim-new.deb
upgraded=$E2E_STATE/deb-upgraded-build

initramfs_has_initshim() { lsinitramfs "/boot/initrd.img-$(uname -r)" | grep -q -E '(^|/)sbin/initshim$'; }

# The live upgrade: dpkg -i of the second build on the running guest; its
# postinst moves the running guard to it (initshimctl upgrade). Records the
# build in $upgraded for the takeover's checks.
deb_upgrade_live() {
	local a b b_version out status guard
	a=$(e2e_status_field guard-version)
	b_version=$(dpkg-deb -f "$upgrade_deb" Version)
	e2e_log "upgrading the package: guard runs $a; dpkg -i of initshim $b_version"
	# docs/operations.md, "Upgrading initshim", runs these commands.
	cd "${upgrade_deb%/*}" || e2e_fail "no ${upgrade_deb%/*}"
	out=$(dpkg -i initshim-new.deb 2>&1) || e2e_fail "dpkg -i $upgrade_deb: $out"
	cd / || e2e_fail "cd /"
	printf '%s\n' "$out" | sed 's/^/  dpkg: /'
	# shellcheck disable=SC2016 # a dpkg-query format
	e2e_expect "package version" "$b_version" "$(dpkg-query -W -f '${Version}' initshim)"
	printf '%s\n' "$out" | grep -q '^initshim: running initshim upgraded live: ' ||
		e2e_fail "the postinst did not upgrade the running initshim live"
	status=$(initshimctl status) || e2e_fail "initshimctl status: $status"
	printf '%s\n' "$status" | sed 's/^/  /'
	b=$(printf '%s\n' "$status" | sed -n 's/^installed: \(.*\) (\/sbin\/initshim)$/\1/p')
	[[ $b == *"deb$b_version)" ]] || e2e_fail "installed build: '$b', not package $b_version's"
	[ "$b" != "$a" ] || e2e_fail "the second package has the same build as the first: $a"
	e2e_expect "guard-version after the upgrade" "$b" "$(printf '%s\n' "$status" | sed -n 's/^guard-version: //p')"
	printf '%s\n' "$status" | grep '^version-mismatch' && e2e_fail "a version mismatch after the upgrade"
	e2e_expect "initshim_running_build_mismatch" 0 \
		"$(initshimctl status --prometheus | sed -n 's/^initshim_running_build_mismatch //p')"
	printf '%s\n' "$status" | grep -q "^last-upgrade: guard $a -> $b, PID 1 traced throughout, unattended [0-9]* us" ||
		e2e_fail "last-upgrade: $(printf '%s\n' "$status" | grep '^last-upgrade')"
	printf '%s\n' "$status" | grep -q '^guard: running (pid [0-9]*), tracing PID 1' ||
		e2e_fail "guard: $(printf '%s\n' "$status" | grep '^guard:')"
	guard=$(cat /run/initshim/guard.pid)
	e2e_expect "the guard's executable" /usr/sbin/initshim "$(readlink "/proc/$guard/exe")"
	e2e_guard_traces_pid1
	# What an operator runs when the postinst could not: again, to the same build.
	out=$(initshimctl upgrade 2>&1) || e2e_fail "initshimctl upgrade: $out"
	printf '%s\n' "$out" | sed 's/^/  /'
	e2e_expect "initshimctl upgrade" "running $b" "$(printf '%s\n' "$out" | grep '^running ')"
	e2e_expect "the guard's pid after initshimctl upgrade" "$guard" "$(cat /run/initshim/guard.pid)"
	e2e_guard_traces_pid1
	printf '%s\n' "$b" >"$upgraded"
	e2e_log "ok: the guard moved live from $a to $b; PID 1 traced throughout"
}

if [ -e "$removed" ]; then
	# Boot 2: the bed's GRUB stand-in found no drop-in, and booted the
	# initramfs that the removal regenerated.
	e2e_expect "init= on the kernel command line" "" "$(e2e_cmdline_value init)"
	E2E_WITHOUT_INITSHIM=1 # removed: no initshimctl, no /run/initshim
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	e2e_expect "initshim processes" 0 "$(e2e_count_procs initshim)"
	e2e_expect "initshim-guard processes" 0 "$(e2e_count_procs initshim-guard)"
	e2e_expect "PID 1's tracer" 0 "$(awk '$1 == "TracerPid:" { print $2 }' /proc/1/status)"
	[ -e /run/initshim ] && e2e_fail "/run/initshim exists: initshim ran"
	initramfs_has_initshim && e2e_fail "the initramfs still has initshim"
	e2e_pass "after dpkg -r initshim, plain systemd boots"
fi

if [ ! -e "$crashed" ]; then
	# Boot 1: what the package and `initshimctl boot enable` set up.
	e2e_expect "root file system" "/dev/vda ext4" "$(findmnt -n -o SOURCE,FSTYPE /)"
	# shellcheck disable=SC2016 # a dpkg-query format
	e2e_expect "package initshim" "install ok installed" "$(dpkg-query -W -f '${Status}' initshim)"
	e2e_expect "init= from the GRUB drop-in" /sbin/initshim "$(e2e_cmdline_value init)"
	initshimctl boot status | grep -q '^config: enabled (init=/sbin/initshim)' ||
		e2e_fail "initshimctl boot status: $(initshimctl boot status)"
	initramfs_has_initshim || e2e_fail "the package's update-initramfs trigger did not put initshim in the initramfs"
	e2e_log "ok: the initramfs has the hook's initshim"
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	e2e_guard_traces_pid1
	deb_upgrade_live
	touch "$crashed"
	e2e_hold # carried on by the fresh systemd's run of this script
	e2e_log "sending SIGSEGV to PID 1"
	kill -SEGV 1
	exit 0
fi

# Boot 1, after the takeover: rescue mode stopped the left-overs and
# started systemd fresh (on-failure=restart), still guarded.
e2e_wait_running 200
e2e_expect "PID 1 executable" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
e2e_initshim_checks normal
e2e_guard_traces_pid1
[[ $(e2e_status_field last-takeover) == *"crash: SIGSEGV"* ]] ||
	e2e_fail "last takeover: $(e2e_status_field last-takeover)"
# Taken over by the upgraded build: rescue mode recorded which it ran.
e2e_expect "the build rescue mode ran" "$(cat "$upgraded")" "$(cat /run/initshim/pid1-version)"
e2e_expect "guard-version" "$(cat "$upgraded")" "$(e2e_status_field guard-version)"
initshimctl status | grep '^version-mismatch' && e2e_fail "a version mismatch after the takeover"
e2e_log "ok: the crash was taken over by $(cat "$upgraded")"

# Remove the package under the running initshim chain.
out=$(dpkg -r initshim 2>&1) || e2e_fail "dpkg -r initshim: $out"
printf '%s\n' "$out" | sed 's/^/  dpkg: /'
# shellcheck disable=SC2016 # a dpkg-query format
e2e_expect "package initshim" "deinstall ok config-files" "$(dpkg-query -W -f '${Status}' initshim)"
[ -e /usr/sbin/initshim ] && e2e_fail "/usr/sbin/initshim is still there"
[ -e /etc/default/grub.d/initshim.cfg ] && e2e_fail "the GRUB drop-in is still there"
initramfs_has_initshim && e2e_fail "the removal did not regenerate the initramfs without initshim"
e2e_log "ok: binaries, GRUB drop-in and the initramfs's copy gone"
# Until the reboot, the guard works on from its open copy of the binary.
e2e_guard_traces_pid1
mkdir -p "${removed%/*}"
touch "$removed"
sync
e2e_hold # the verdict comes from boot 2
systemctl --no-block reboot
