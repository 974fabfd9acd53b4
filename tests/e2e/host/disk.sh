# The disk-root bed (# e2e-bed: disk): the guest boots as a normal Debian
# host does, from an ext4 root on virtio-blk (root=/dev/vda) through an
# initramfs made by the distribution's generator, initramfs-tools or dracut,
# with initshim installed the way `make install` installs it (binaries, the
# initramfs-tools hook, the dracut module).
#
#   $E2E_CACHE/disk/initramfs-tools/   the base tree (rootfs/) + ext4 modules,
#   $E2E_CACHE/disk/dracut/            /boot/config-KVER, /etc/fstab, and the
#                                      generator installed with apt in a chroot
#   $E2E_CACHE/disk/disk.stamp         hash of this file, image.stamp, kernel
#   $E2E_CACHE/disk/disk.info          what went in
#
# Per run (disk_prepare), for each generator a scenario of the run needs: an
# overlayfs over the cached tree, `make install` of the binaries under test
# (E2E_BIN) and of initramfs/, then the generator itself, in a chroot, writes
# /boot/initrd.img-KVER. The overlay's upper directory (E2E_WORK/disk-GEN/)
# then carries the installed files and the initramfs for every scenario.
#
# Per scenario (run_disk): overlay_stage's files over that over the cached
# tree, packed into a fresh ext4 image (mkfs.ext4 -d), booted with the
# generated initramfs; `# e2e-boots: N` boots it up to N times (QEMU once per
# boot, the image kept between boots).
#
# `# e2e-install: deb` (disk_image_deb below): initshim comes from the Debian
# package instead, installed with dpkg -i in the scenario's tree, and the bed
# stands in for GRUB: each boot's initramfs and init= come from the disk.
#
# Sourced after common.sh, image.sh and beds.sh. Entry points: disk_prepare
# (run.sh), run_disk (beds.sh).
# shellcheck shell=bash

E2E_DISK_CACHE=$E2E_CACHE/disk
# Generators and the packages that make up each tree (installed without
# recommends: initramfs-tools recommends busybox and zstd, which a standard
# Debian install has; dracut's recommends are cryptsetup, LVM, mdadm and
# the like, none of which this root uses).
declare -A E2E_DISK_PACKAGES=(
	[initramfs-tools]="initramfs-tools busybox zstd"
	[dracut]="dracut"
)
# Modules the disk root needs beyond the base tree's (E2E_GUEST_MODULES
# already has virtio_pci and virtio_blk): ext4 and, as its soft dependency,
# crc32c (metadata_csum); the CPU QEMU emulates has no SSE 4.2, so the
# generic one.
E2E_DISK_MODULES="ext4 crc32c_generic virtio_pci virtio_blk"
# Free space on each scenario's root file system beyond its files (journal,
# core dumps, the scenario's own files).
E2E_DISK_SLACK_MB=${E2E_DISK_SLACK_MB:-512}

# --- the cached trees ------------------------------------------------------

# The kernel the base image boots (its modules are in rootfs/lib/modules).
disk_kver() {
	local d
	for d in "$E2E_CACHE"/rootfs/lib/modules/*; do
		[ -d "$d" ] && { basename "$d"; return 0; }
	done
	e2e_die "no kernel modules in $E2E_CACHE/rootfs/lib/modules"
}

disk_stamp() {
	{
		cat "${BASH_SOURCE[0]}"
		cat "$E2E_CACHE/image.stamp"
		disk_kver
	} | sha256sum | cut -c1-16
}

# The base image's kernel package again, same version if the mirror still
# has it (image.sh removes its copy after the build).
disk_fetch_kernel() {
	local dest=$1 kver=$2 ver
	ver=$(sed -n "s/^kernel: linux-image-$kver //p" "$E2E_CACHE/image.info")
	(
		cd "$dest" || exit 1
		{ [ -n "$ver" ] && apt-get -q -o APT::Sandbox::User=root download "linux-image-$kver=$ver" >/dev/null 2>&1; } ||
			apt-get -q -o APT::Sandbox::User=root download "linux-image-$kver" >/dev/null
	) || e2e_die "cannot download linux-image-$kver"
}

# disk_add_modules ROOT DEB KVER: the modules of E2E_DISK_MODULES with their
# dependencies and soft dependencies, the kernel's config, a fresh depmod.
disk_add_modules() {
	local root=$1 kdeb=$2 kver=$3 m tmp=$1/tmp/kernel
	mkdir -p "$tmp"
	dpkg-deb -x "$kdeb" "$tmp"
	cp "$tmp/boot/config-$kver" "$root/boot/config-$kver"
	chroot "$root" depmod -b /tmp/kernel "$kver"
	# shellcheck disable=SC2086 # a module list
	image_copy_modules "$root" "$kver" $E2E_DISK_MODULES
	rm -rf "$tmp"
	chroot "$root" depmod "$kver"
	for m in ext4 virtio_blk virtio_pci; do
		chroot "$root" modinfo -k "$kver" -F filename "$m" >/dev/null 2>&1 ||
			grep -q "/$m.ko" "$root/lib/modules/$kver/modules.builtin" ||
			e2e_die "disk tree: module $m missing"
	done
}

# What a disk root has that an initramfs root does not.
disk_configure() {
	local root=$1
	printf '# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/vda / ext4 errors=remount-ro 0 1\n' \
		>"$root/etc/fstab"
	# No swap partition to resume from: initramfs-tools would look for one.
	# And the root's type is named: the fsck hook cannot probe /dev/vda in
	# a chroot, and would leave fsck out.
	mkdir -p "$root/etc/initramfs-tools/conf.d"
	echo RESUME=none >"$root/etc/initramfs-tools/conf.d/resume"
	echo FSTYPE=ext4 >"$root/etc/initramfs-tools/conf.d/fstype"
}

# apt inside a tree, with a throw-away source list and package lists under
# /var/tmp/e2e-apt (the mirror from the host's apt, at run time).
disk_apt() {
	local root=$1
	shift
	chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -q \
		-o Dir::Etc::SourceList=/var/tmp/e2e-apt/sources.list -o Dir::Etc::SourceParts=/var/tmp/e2e-apt/empty.d \
		-o Dir::State::Lists=/var/tmp/e2e-apt/lists -o APT::Sandbox::User=root "$@"
}

disk_chroot_mounts() { # ROOT up|down
	local root=$1
	if [ "$2" = up ]; then
		mount -t proc proc "$root/proc"
		mount -t sysfs sysfs "$root/sys"
		mount --bind /dev "$root/dev"
	else
		umount "$root/dev" "$root/sys" "$root/proc" 2>/dev/null ||
			umount -l "$root/dev" "$root/sys" "$root/proc" 2>/dev/null || true
	fi
}

# disk_rm DIR...: rm -rf, after unmounting whatever an interrupted build left
# mounted below (the chroot's /dev is the host's).
disk_rm() {
	local dir
	for dir in "$@"; do
		findmnt -rn -o TARGET | grep "^$dir/" | sort -r | xargs -r umount -l 2>/dev/null || true
		rm -rf --one-file-system "$dir"
	done
}

disk_build() {
	local stamp=$1 kver mirror gen t0 common=$E2E_DISK_CACHE/common.new debs=$E2E_DISK_CACHE/debs
	t0=$(e2e_now)
	kver=$(disk_kver)
	mirror=$(e2e_mirror)
	for gen in "${!E2E_DISK_PACKAGES[@]}"; do disk_rm "$E2E_DISK_CACHE/$gen.new"; done
	disk_rm "$common" "$debs"
	rm -f "$E2E_DISK_CACHE/disk.stamp"
	mkdir -p "$debs"
	e2e_say "disk: downloading linux-image-$kver (for the ext4 modules)"
	disk_fetch_kernel "$debs" "$kver"
	e2e_say "disk: common tree (rootfs + ext4 modules + fstab)"
	cp -a "$E2E_CACHE/rootfs" "$common"
	disk_add_modules "$common" "$debs"/linux-image-"$kver"_*.deb "$kver"
	rm -rf "$debs"
	disk_configure "$common"
	# One apt-get update for both trees.
	mkdir -p "$common/var/tmp/e2e-apt/lists/partial" "$common/var/tmp/e2e-apt/empty.d"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s bookworm main\n' "$mirror" \
		>"$common/var/tmp/e2e-apt/sources.list"
	# The host's name servers while apt runs in the tree.
	mv "$common/etc/resolv.conf" "$common/etc/resolv.conf.orig"
	cp -L /etc/resolv.conf "$common/etc/resolv.conf"
	# Nothing may be started from a chroot.
	printf '#!/bin/sh\nexit 101\n' >"$common/usr/sbin/policy-rc.d"
	chmod 0755 "$common/usr/sbin/policy-rc.d"
	disk_apt "$common" update >"$E2E_DISK_CACHE/apt.log" 2>&1 ||
		{ tail -20 "$E2E_DISK_CACHE/apt.log" >&2; e2e_die "apt-get update in the disk tree failed"; }
	for gen in "${!E2E_DISK_PACKAGES[@]}"; do
		e2e_say "disk: $gen tree (apt-get install ${E2E_DISK_PACKAGES[$gen]})"
		cp -a "$common" "$E2E_DISK_CACHE/$gen.new"
		disk_chroot_mounts "$E2E_DISK_CACHE/$gen.new" up
		# shellcheck disable=SC2086 # a package list
		if ! disk_apt "$E2E_DISK_CACHE/$gen.new" install -y --no-install-recommends \
			${E2E_DISK_PACKAGES[$gen]} >>"$E2E_DISK_CACHE/apt.log" 2>&1; then
			disk_chroot_mounts "$E2E_DISK_CACHE/$gen.new" down
			tail -20 "$E2E_DISK_CACHE/apt.log" >&2
			e2e_die "apt-get install ${E2E_DISK_PACKAGES[$gen]} in the $gen tree failed (log: $E2E_DISK_CACHE/apt.log)"
		fi
		disk_chroot_mounts "$E2E_DISK_CACHE/$gen.new" down
	done
	rm -rf "$common"
	{
		echo "kernel: $kver (modules added: $E2E_DISK_MODULES)"
		for gen in "${!E2E_DISK_PACKAGES[@]}"; do
			local root=$E2E_DISK_CACHE/$gen.new p
			rm -rf "$root/var/tmp/e2e-apt" "$root/usr/sbin/policy-rc.d" "$root"/var/cache/apt/archives/*.deb \
				"$root"/var/cache/apt/*.bin "$root/usr/share/doc" "$root/usr/share/man"
			mv "$root/etc/resolv.conf.orig" "$root/etc/resolv.conf"
			# shellcheck disable=SC2016 # a dpkg-query format
			for p in ${E2E_DISK_PACKAGES[$gen]}; do
				echo "$gen: $p $(chroot "$root" dpkg-query -W -f '${Version}' "$p")"
			done
			disk_rm "$E2E_DISK_CACHE/$gen"
			mv "$root" "$E2E_DISK_CACHE/$gen"
		done
		echo "built: $(date -u +%FT%TZ) in $(e2e_elapsed "$t0")s"
	} >"$E2E_DISK_CACHE/disk.info"
	echo "$stamp" >"$E2E_DISK_CACHE/disk.stamp"
	e2e_say "disk: trees built in $(e2e_elapsed "$t0")s"
}

# The generator trees are complete and current. Like image_ensure: the lock
# ($E2E_CACHE/disk/.lock, fd 8) is exclusive while building, then held
# shared so that no run rebuilds a tree another run's guests stand on.
disk_ensure() {
	local stamp gen ok=1
	mkdir -p "$E2E_DISK_CACHE"
	exec 8>"$E2E_DISK_CACHE/.lock"
	flock 8
	stamp=$(disk_stamp)
	for gen in "${!E2E_DISK_PACKAGES[@]}"; do [ -d "$E2E_DISK_CACHE/$gen" ] || ok=; done
	if [ "${E2E_REBUILD:-0}" = 1 ] || [ -z "$ok" ] || [ "$(cat "$E2E_DISK_CACHE/disk.stamp" 2>/dev/null)" != "$stamp" ]; then
		disk_build "$stamp"
	fi
	flock -s 8
}

# --- per run: initshim installed, the initramfs generated -------------------

# The /etc/initshim.conf of the tree when the initramfs is generated (the
# hook and the module copy it into the initramfs): the scenarios' common
# lines. A scenario's own e2e-config lines are on the disk only.
disk_base_config() {
	echo "# /etc/initshim.conf of the e2e disk tree (written by tests/e2e/host/disk.sh)"
	e2e_base_config
}

# disk_install ROOT: what `make install DESTDIR=ROOT` installs, with the
# binaries under test from E2E_BIN. Paths through /usr: /sbin and /lib are
# symlinks in the tree, and an overlayfs upper directory must not replace them.
disk_install() {
	local root=$1
	install -D -m 0755 "$E2E_BIN/initshim" "$root/usr/sbin/initshim"
	install -D -m 0755 "$E2E_BIN/initshimctl" "$root/usr/sbin/initshimctl"
	install -D -m 0644 "$E2E_REPO/shim/guard/initshim-guard.service" "$root/usr/lib/systemd/system/initshim-guard.service"
	install -D -m 0755 "$E2E_REPO/initramfs/initramfs-tools/hooks/initshim" \
		"$root/usr/share/initramfs-tools/hooks/initshim"
	install -D -m 0755 "$E2E_REPO/initramfs/dracut/90initshim/module-setup.sh" \
		"$root/usr/lib/dracut/modules.d/90initshim/module-setup.sh"
	disk_base_config >"$root/etc/initshim.conf"
	chmod 0644 "$root/etc/initshim.conf"
}

# disk_generate GEN: install, generate, check. On failure the reason goes to
# E2E_WORK/disk-GEN/error, and every scenario of that generator fails with it.
disk_generate() {
	local gen=$1 d=$E2E_WORK/disk-$1 kver t0 list rc=0 f root=$E2E_WORK/disk-$1/root initrd
	kver=$(disk_kver)
	initrd=/boot/initrd.img-$kver
	t0=$(e2e_now)
	mkdir -p "$d/upper" "$d/ovl-work" "$root"
	mount -t overlay "e2e-disk-$gen" \
		-o "lowerdir=$E2E_DISK_CACHE/$gen,upperdir=$d/upper,workdir=$d/ovl-work" "$root"
	disk_install "$root"
	disk_chroot_mounts "$root" up
	case $gen in
	initramfs-tools)
		chroot "$root" mkinitramfs -o "$initrd" "$kver" >"$d/generate.log" 2>&1 || rc=$?
		chroot "$root" lsinitramfs "$initrd" >"$d/contents" 2>>"$d/generate.log" || rc=$?
		;;
	dracut)
		chroot "$root" dracut --force --no-hostonly --kver "$kver" \
			--add-drivers "$E2E_DISK_MODULES" "$initrd" >"$d/generate.log" 2>&1 || rc=$?
		chroot "$root" lsinitrd "$initrd" >"$d/contents" 2>>"$d/generate.log" || rc=$?
		;;
	esac
	disk_chroot_mounts "$root" down
	[ "$rc" -eq 0 ] && cp "$root$initrd" "$d/initrd"
	umount "$root" || umount -l "$root"
	if [ "$rc" -ne 0 ]; then
		echo "$gen failed in the tree (exit status $rc): $(last_words "$d/generate.log")" >"$d/error"
	else
		# lsinitramfs prints paths, lsinitrd an ls -l listing.
		list=$(awk '{ print $NF }' "$d/contents")
		for f in sbin/initshim sbin/initshimctl etc/initshim.conf; do
			grep -q -x -E "(usr/)?$f" <<<"$list" && continue
			echo "the $gen initramfs lacks /$f (contents: $d/contents)" >"$d/error"
			break
		done
	fi
	if [ -s "$d/error" ]; then
		e2e_say "disk: $(cat "$d/error")"
	else
		e2e_say "disk: $gen initramfs with initshim, $(($(stat -c %s "$d/initrd") / 1024)) KiB, in $(e2e_elapsed "$t0")s"
	fi
}

# disk_prepare NAME...: the trees and initramfs images the disk scenarios
# among NAME... need, once per run.
disk_prepare() {
	local n s gen deb="" upgrade=""
	local -A need=()
	for n in "$@"; do
		s=$E2E_DIR/scenarios/$n.sh
		[ "$(scenario_meta1 "$s" bed)" = disk ] || continue
		gen=$(disk_generator "$s")
		[ -n "${E2E_DISK_PACKAGES[$gen]:-}" ] || e2e_die "$n: unknown e2e-initramfs '$gen' (initramfs-tools or dracut)"
		case $(disk_install_method "$s") in
		make) need[$gen]=1 ;;
		# The package's update-initramfs trigger runs dracut without
		# the bed's --add-drivers: initramfs-tools only.
		deb) [ "$gen" = initramfs-tools ] || e2e_die "$n: e2e-install: deb needs e2e-initramfs: initramfs-tools"; deb=1
		     [ -z "$(scenario_meta1 "$s" deb-upgrade)" ] || upgrade=1 ;;
		*) e2e_die "$n: unknown e2e-install '$(disk_install_method "$s")' (make or deb)" ;;
		esac
	done
	[ ${#need[@]} -gt 0 ] || [ -n "$deb" ] || return 0
	command -v mkfs.ext4 >/dev/null || e2e_die "mkfs.ext4 missing (e2fsprogs)"
	disk_ensure
	for gen in "${!need[@]}"; do disk_generate "$gen"; done
	[ -z "$deb" ] || disk_deb_build
	[ -z "$upgrade" ] || disk_deb_build_upgrade
}

disk_generator() {
	local g
	g=$(scenario_meta1 "$1" initramfs)
	echo "${g:-initramfs-tools}"
}

disk_install_method() {
	local m
	m=$(scenario_meta1 "$1" install)
	echo "${m:-make}"
}

# --- per scenario ------------------------------------------------------------

# disk_cmdline SCRIPT NAME: no rdinit= or init= of our own: a scenario
# names the one it wants.
disk_cmdline() {
	local script=$1 name=$2 extra
	extra=$(scenario_meta "$script" cmdline | tr '\n' ' ' | sed 's/ *$//')
	printf 'console=ttyS0 panic=-1 printk.devkmsg=on e2e.scenario=%s root=/dev/vda rw' "$name"
	[ -n "$extra" ] && printf ' %s' "$extra"
	echo
}

# disk_image WORK GEN: WORK/disk.img, an ext4 file system holding
# overlay_stage's files over the run's installed files over the cached tree.
disk_image() {
	local work=$1 gen=$2
	mkdir -p "$work/root"
	mount -t overlay "e2e-$E2E_CURRENT" -o "lowerdir=$work/overlay:$E2E_WORK/disk-$gen/upper:$E2E_DISK_CACHE/$gen" \
		"$work/root"
	disk_mkfs "$work"
	umount "$work/root" || umount -l "$work/root"
}

# disk_mkfs WORK: WORK/disk.img from the tree mounted on WORK/root.
disk_mkfs() {
	local work=$1 used
	used=$(du -sxm "$work/root" | cut -f1)
	rm -f "$work/disk.img"
	# Sparse: only what mkfs writes takes space.
	truncate -s "$((used + used / 4 + E2E_DISK_SLACK_MB))M" "$work/disk.img"
	mkfs.ext4 -q -F -L e2e-root -d "$work/root" "$work/disk.img" >"$work/mkfs.log" 2>&1 ||
		E2E_BED_ERROR="mkfs.ext4 -d failed: $(last_words "$work/mkfs.log")"
}

# --- the Debian package (# e2e-install: deb) ---------------------------------

# The package under test, once per run: E2E_DEB, or `make deb` of this tree
# built under the run's work directory.
disk_deb_build() {
	local t0
	t0=$(e2e_now)
	if [ -n "${E2E_DEB:-}" ]; then
		cp "$E2E_DEB" "$E2E_WORK/initshim.deb" || e2e_die "cannot read E2E_DEB=$E2E_DEB"
		return 0
	fi
	DEB_BUILD_OPTIONS=nocheck make -C "$E2E_REPO" --no-print-directory deb DEB_DIR="$E2E_WORK/debbuild" \
		>"$E2E_WORK/deb-build.log" 2>&1 || e2e_die "make deb failed: $(last_words "$E2E_WORK/deb-build.log")"
	cp "$E2E_WORK"/debbuild/initshim_*_amd64.deb "$E2E_WORK/initshim.deb"
	rm -rf "$E2E_WORK/debbuild"
	# shellcheck disable=SC2016 # a dpkg-deb format
	e2e_say "disk: $(dpkg-deb -W --showformat '${Package} ${Version}' "$E2E_WORK/initshim.deb") built in $(e2e_elapsed "$t0")s"
}

# The second package a live upgrade moves to (`# e2e-deb-upgrade: PATH`):
# E2E_DEB_UPGRADE, or this tree built again with one more changelog entry,
# version V+e2e1, so that its build differs (debian/rules: the build ends
# with the package's version).
disk_deb_build_upgrade() {
	local t0 src=$E2E_WORK/deb-upgrade-src v
	t0=$(e2e_now)
	if [ -n "${E2E_DEB:-}" ] || [ -n "${E2E_DEB_UPGRADE:-}" ]; then
		[ -n "${E2E_DEB_UPGRADE:-}" ] || e2e_die "E2E_DEB is set: set E2E_DEB_UPGRADE to the package to upgrade to"
		cp "$E2E_DEB_UPGRADE" "$E2E_WORK/initshim-upgrade.deb" || e2e_die "cannot read E2E_DEB_UPGRADE=$E2E_DEB_UPGRADE"
		return 0
	fi
	mkdir -p "$src"
	tar -C "$E2E_REPO" -c --exclude=./build --exclude=./.git --exclude=./results -f - . | tar -x -C "$src"
	v=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
	{
		printf 'initshim (%s+e2e1) unstable; urgency=medium\n\n' "$v"
		printf '  * The e2e bed'"'"'s second build of this tree, to upgrade to live.\n\n'
		printf ' -- initshim e2e <e2e@initshim.invalid>  %s\n\n' "$(date -R)"
		cat "$src/debian/changelog"
	} >"$src/debian/changelog.new" && mv "$src/debian/changelog.new" "$src/debian/changelog"
	DEB_BUILD_OPTIONS=nocheck make -C "$src" --no-print-directory deb DEB_DIR="$E2E_WORK/debbuild-upgrade" \
		>"$E2E_WORK/deb-upgrade-build.log" 2>&1 ||
		e2e_die "make deb of the upgrade failed: $(last_words "$E2E_WORK/deb-upgrade-build.log")"
	cp "$E2E_WORK"/debbuild-upgrade/initshim_*_amd64.deb "$E2E_WORK/initshim-upgrade.deb"
	rm -rf "$E2E_WORK/debbuild-upgrade" "$src"
	# shellcheck disable=SC2016 # a dpkg-deb format
	e2e_say "disk: $(dpkg-deb -W --showformat '${Package} ${Version}' "$E2E_WORK/initshim-upgrade.deb") (the upgrade) built in $(e2e_elapsed "$t0")s"
}

# disk_image_deb WORK SCRIPT: WORK/disk.img, a Debian host with a kernel in
# /boot and an initramfs made by update-initramfs, on which the package is
# installed with dpkg -i (its trigger regenerates the initramfs with the
# hook), then the scenario's /etc/initshim.conf written (an operator's edit of
# the conffile), the second package put at the path `# e2e-deb-upgrade:`
# names (if any), then each `# e2e-prepare: COMMAND` run in the tree. No
# files of make install: the stage's binaries go. Log: WORK/install.log.
disk_image_deb() {
	local work=$1 script=$2 root=$1/root kver rc=0 upgrade
	kver=$(disk_kver)
	upgrade=$(scenario_meta1 "$script" deb-upgrade)
	rm -f "$work/overlay/usr/sbin/initshim" "$work/overlay/usr/sbin/initshimctl"
	mv "$work/overlay/etc/initshim.conf" "$work/initshim.conf"
	mkdir -p "$root" "$work/upper" "$work/ovl-work"
	mount -t overlay "e2e-$E2E_CURRENT" \
		-o "lowerdir=$work/overlay:$E2E_DISK_CACHE/initramfs-tools,upperdir=$work/upper,workdir=$work/ovl-work" "$root"
	disk_chroot_mounts "$root" up
	# (set -e does not hold in a subshell left of ||: each step is checked.)
	(
		cp "$E2E_CACHE/vmlinuz" "$root/boot/vmlinuz-$kver" &&
			chroot "$root" update-initramfs -c -k "$kver" &&
			cp "$E2E_WORK/initshim.deb" "$root/var/tmp/initshim.deb" &&
			chroot "$root" dpkg -i /var/tmp/initshim.deb &&
			rm "$root/var/tmp/initshim.deb" &&
			install -m 0644 "$work/initshim.conf" "$root/etc/initshim.conf" || exit 1
		if [ -n "$upgrade" ]; then
			install -D -m 0644 "$E2E_WORK/initshim-upgrade.deb" "$root$upgrade" || exit 1
		fi
		while IFS= read -r cmd; do
			echo "+ $cmd"
			chroot "$root" sh -c "$cmd" || exit 1
		done < <(scenario_meta "$script" prepare)
	) >"$work/install.log" 2>&1 || rc=$?
	disk_chroot_mounts "$root" down
	if [ "$rc" -ne 0 ]; then
		E2E_BED_ERROR="installing the package in the tree failed: $(last_words "$work/install.log")"
	else
		disk_mkfs "$work"
	fi
	umount "$root" || umount -l "$root"
}

# disk_boot_loader WORK: stands in for GRUB before each boot of a deb
# scenario, from the disk as the last boot (or the preparation) left it:
# WORK/initrd is the image's /boot/initrd.img-KVER, WORK/grub-words the words
# /etc/default/grub.d/initshim.cfg appends to GRUB_CMDLINE_LINUX_DEFAULT,
# as update-grub would put them on GRUB's normal entry (none when the file
# is absent or its line commented out). debugfs reads the image unmounted.
disk_boot_loader() {
	local work=$1 kver
	kver=$(disk_kver)
	rm -f "$work/initrd"
	debugfs -R "dump /boot/initrd.img-$kver $work/initrd" "$work/disk.img" >/dev/null 2>&1
	if [ ! -s "$work/initrd" ]; then
		E2E_BED_ERROR="boot loader stand-in: no /boot/initrd.img-$kver on the disk"
		return 1
	fi
	# shellcheck disable=SC2016 # the file's literal $GRUB_CMDLINE_LINUX_DEFAULT
	debugfs -R "cat /etc/default/grub.d/initshim.cfg" "$work/disk.img" 2>/dev/null |
		sed -n 's/^GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT \(.*\)"$/\1/p' |
		tr '\n' ' ' | sed 's/ *$//' >"$work/grub-words"
}

run_disk() {
	local name=$1 script=$2 work=$3 gen timeout boots b start off cmdline initrd deb words
	gen=$(disk_generator "$script")
	deb=
	[ "$(disk_install_method "$script")" = deb ] && deb=1
	# shellcheck disable=SC2034 # judge (beds.sh) names it
	E2E_BED_PROGRAM=qemu
	if [ -z "$deb" ] && [ -s "$E2E_WORK/disk-$gen/error" ]; then
		E2E_BED_ERROR=$(cat "$E2E_WORK/disk-$gen/error")
		return
	fi
	initrd=$E2E_WORK/disk-$gen/initrd
	timeout=$(scenario_meta1 "$script" timeout)
	timeout=${timeout:-$E2E_DEFAULT_TIMEOUT}
	boots=$(scenario_meta1 "$script" boots)
	boots=${boots:-1}
	overlay_stage "$work/overlay" "$name" "$script"
	if [ -n "$deb" ]; then
		disk_image_deb "$work" "$script"
	else
		disk_image "$work" "$gen"
	fi
	[ -z "${E2E_BED_ERROR:-}" ] || return
	scenario_meta "$script" host-action >"$work/actions"
	cmdline=$(disk_cmdline "$script" "$name")
	: >"$work/console.log"
	start=$(date +%s)
	for ((b = 1; b <= boots; b++)); do
		off=$(stat -c %s "$work/console.log")
		[ "$b" -eq 1 ] || e2e_say "$name: boot $b of $boots"
		words=
		if [ -n "$deb" ]; then
			disk_boot_loader "$work" || break
			initrd=$work/initrd
			words=$(cat "$work/grub-words")
			e2e_say "$name: boot $b: the disk's GRUB drop-in adds '${words}'"
		fi
		# cache=unsafe: the guest's flushes cost nothing; its writes are in
		# the host's page cache, which the next boot of the image reads.
		qemu_boot "$work" "$cmdline${words:+ $words}" "$initrd" \
			-drive "file=$work/disk.img,if=virtio,format=raw,cache=unsafe"
		watch_guest "$QEMU_PID" "$work/console.log" $((timeout - ($(date +%s) - start))) "$work" qemu
		kill "$QEMU_MON_CAT" 2>/dev/null || true
		wait "$QEMU_MON_CAT" 2>/dev/null || true
		# Boot again only after a clean restart of this one.
		if [ "$b" -ge "$boots" ] || [ -n "$WATCH_WHY" ] || [ "$WATCH_RC" -ne 0 ]; then
			break
		fi
		tail -c +$((off + 1)) "$work/console.log" | grep -q -a 'reboot: Restarting system' || break
		tail -c +$((off + 1)) "$work/console.log" | grep -q -a -E 'Kernel panic|BUG: |Oops: ' && break
	done
}
