# Builds the cached guest image under $E2E_CACHE (default /var/cache/initshim-e2e):
#
#   vmlinuz          Debian's linux-image-amd64 kernel (apt-get download, not installed)
#   vmlinux          the same kernel, taken out of its xz-compressed bzImage: QEMU
#                    boots this ELF through its PVH entry point, which saves the
#                    ~5.5 s the kernel's xz decompressor takes under TCG
#   rootfs/          debootstrap'ed bookworm tree: real systemd 252, udev, dbus,
#                    a subset of the kernel's modules, systemd 247 and 254 side by side
#   base.cpio        rootfs/ packed as the initramfs the QEMU bed boots from.
#                    Uncompressed on purpose: under TCG the kernel unpacks the
#                    136 MB cpio ~4.5 s faster than the 42 MB zstd one.
#   image.stamp      hash of this file + package list + kernel version: the cache
#                    is rebuilt whenever one of them changes
#   image.info       what went in (versions), for humans and demo.sh
#
# Sourced after host/common.sh. The only entry point is image_ensure.
# shellcheck shell=bash

# Packages of the guest. dbus: logind and dbus-daemon run as on a real host
# (later scenarios check that a takeover does not start second copies).
E2E_GUEST_PACKAGES=systemd,systemd-sysv,udev,procps,kmod,dbus,libpam-systemd
# Modules the guest may load (plus their dependencies). The rest of Debian's
# 390 MB module tree would only slow the initramfs down: QEMU gives the guest
# no other hardware. Built in (no module needed): 8250 serial, i8042/atkbd,
# unix, ipv6.
E2E_GUEST_MODULES="virtio_pci virtio_blk virtio_net virtio_console virtio_rng
	9pnet_virtio 9p autofs4 configfs fuse loop overlay dm_mod efi_pstore evdev"
# Extra systemd versions: "MAJOR SUITE PACKAGES...". The PID 1 binary of each
# goes to /usr/lib/systemd-MAJOR/systemd; its private libraries go where its
# RUNPATH looks (their sonames carry the version, so they coexist with 252's).
E2E_EXTRA_SYSTEMD=(
	"247 bullseye systemd"
	"254 bookworm-backports systemd libsystemd-shared"
)

image_kernel_package() {
	# linux-image-amd64 is a metapackage; its one dependency is the real one.
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

image_stamp() {
	local kpkg=$1
	{
		cat "${BASH_SOURCE[0]}"
		printf '%s\n' "$E2E_GUEST_PACKAGES" "$E2E_GUEST_MODULES" "${E2E_EXTRA_SYSTEMD[@]}" "$kpkg"
	} | sha256sum | cut -c1-16
}

# Temporary apt configuration for the extra suites: the host's sources,
# preferences and package lists stay untouched.
image_apt() {
	local state=$E2E_CACHE/apt
	apt-get -q -o Dir::Etc::SourceList="$state/sources.list" \
		-o Dir::Etc::SourceParts="$state/empty.d" \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$state/empty.d" \
		-o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" \
		-o APT::Sandbox::User=root "$@"
}

image_fetch_extra_debs() {
	local dest=$1 mirror=$2 state=$E2E_CACHE/apt entry suite pkgs=() p
	rm -rf "$state"
	mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/empty.d"
	for entry in "${E2E_EXTRA_SYSTEMD[@]}"; do
		read -r _ suite _ <<<"$entry"
		printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			"$mirror" "$suite"
	done >"$state/sources.list"
	image_apt update >/dev/null
	for entry in "${E2E_EXTRA_SYSTEMD[@]}"; do
		read -r _ suite rest <<<"$entry"
		for p in $rest; do pkgs+=("$p/$suite"); done
	done
	(cd "$dest" && image_apt download "${pkgs[@]}" >/dev/null)
}

image_configure_guest() {
	local root=$1 unit
	echo e2e >"$root/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\te2e\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
	chroot "$root" passwd -d root >/dev/null
	# A fixed machine-id: no "first boot" (systemd-firstboot would prompt).
	printf '%s\n' 6e697473686d6532652d6775657374ab >"$root/etc/machine-id"
	# Timers and jobs that only cost time under emulation.
	for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
		e2scrub_all.timer e2scrub_reap.service fstrim.timer systemd-timesyncd.service; do
		ln -sf /dev/null "$root/etc/systemd/system/$unit"
		rm -f "$root"/etc/systemd/system/*.wants/"$unit"
	done
	# Login prompts on the console only when a person boots the image by hand:
	# during a scenario they would interleave with its output.
	for unit in serial-getty@ttyS0.service console-getty.service container-getty@.service; do
		mkdir -p "$root/etc/systemd/system/$unit.d"
		printf '[Unit]\nConditionKernelCommandLine=!e2e.scenario\n' >"$root/etc/systemd/system/$unit.d/e2e.conf"
	done
	mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
	# shellcheck disable=SC2016 # $TERM is for systemd to expand
	printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %%I $TERM\n' \
		>"$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"
	# A service that hangs at shutdown must not hold a scenario for 90 s.
	mkdir -p "$root/etc/systemd/system.conf.d"
	printf '[Manager]\nDefaultTimeoutStopSec=20s\n' >"$root/etc/systemd/system.conf.d/e2e.conf"
}

image_add_modules() {
	local root=$1 kdeb=$2 kver=$3
	local tmp=$root/tmp/kernel
	mkdir -p "$tmp"
	dpkg-deb -x "$kdeb" "$tmp"
	cp "$tmp/boot/vmlinuz-$kver" "$E2E_CACHE/vmlinuz.new"
	image_extract_vmlinux "$E2E_CACHE/vmlinuz.new" "$E2E_CACHE/vmlinux.new"
	# depmod/modprobe of the guest's own kmod resolve the dependencies, so the
	# host needs no kmod.
	chroot "$root" depmod -b /tmp/kernel "$kver"
	mkdir -p "$root/lib/modules/$kver"
	# shellcheck disable=SC2086 # a module list
	image_copy_modules "$root" "$kver" $E2E_GUEST_MODULES
	cp "$tmp/lib/modules/$kver"/modules.builtin* "$tmp/lib/modules/$kver/modules.order" \
		"$root/lib/modules/$kver/"
	rm -rf "$tmp"
	chroot "$root" depmod "$kver"
}

# image_copy_modules ROOT KVER MODULE...: each module and what it depends on
# (soft dependencies too: ext4 -> crc32c), from the kernel package unpacked
# at ROOT/tmp/kernel (depmod'ed there) into ROOT/lib/modules.
image_copy_modules() {
	local root=$1 kver=$2 m line
	shift 2
	for m in "$@"; do
		chroot "$root" modprobe -d /tmp/kernel -S "$kver" --show-depends "$m" |
			while read -r line; do
				line=${line#insmod }
				line=${line%% *}
				case $line in /tmp/kernel/lib/modules/*) ;; *) continue ;; esac
				mkdir -p "$(dirname "$root/${line#/tmp/kernel/}")"
				cp "$root/$line" "$root/${line#/tmp/kernel/}"
			done
	done
}

# The bzImage carries the kernel as an xz stream (CONFIG_KERNEL_XZ); the ELF
# inside has the PVH note QEMU needs to start it directly. Without a usable
# result the bed boots the bzImage, only slower.
image_extract_vmlinux() {
	local bz=$1 out=$2 off
	rm -f "$out"
	off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || return 0
	tail -c +$((off + 1)) "$bz" | xz -dcq >"$out" 2>/dev/null || true
	[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = 177ELF ] || rm -f "$out"
}

image_add_systemd_versions() {
	local root=$1 debs=$2 entry major suite deb x lib
	for entry in "${E2E_EXTRA_SYSTEMD[@]}"; do
		read -r major suite _ <<<"$entry"
		x=$(mktemp -d)
		for deb in "$debs"/*_"$major".*.deb; do
			dpkg-deb -x "$deb" "$x"
		done
		mkdir -p "$root/usr/lib/systemd-$major"
		cp "$x/lib/systemd/systemd" "$root/usr/lib/systemd-$major/systemd"
		# libsystemd-shared-NNN.so (and libsystemd-core-NNN.so from 252 on),
		# wherever the package puts them, which is where the RUNPATH points.
		while read -r lib; do
			mkdir -p "$root/$(dirname "${lib#"$x"/}")"
			cp -a "$lib" "$root/${lib#"$x"/}"
		done < <(find "$x" -name "libsystemd-*-$major.so")
		rm -rf "$x"
		if chroot "$root" ldd "/usr/lib/systemd-$major/systemd" | grep -q 'not found'; then
			chroot "$root" ldd "/usr/lib/systemd-$major/systemd" >&2
			e2e_die "systemd $major lacks libraries in the guest"
		fi
	done
}

image_build() {
	local kpkg=$1 stamp=$2 mirror new=$E2E_CACHE/rootfs.new debs=$E2E_CACHE/debs kver t0
	mirror=$(e2e_mirror)
	kver=${kpkg#linux-image-}
	# Also what older versions of this script left behind.
	rm -rf "$new" "$debs" "$E2E_CACHE/base.cpio.zst"
	mkdir -p "$debs"

	t0=$(e2e_now)
	e2e_say "image: downloading $kpkg and systemd ${E2E_EXTRA_SYSTEMD[*]%% *}"
	if ! (cd "$debs" && apt-get -q -o APT::Sandbox::User=root download "$kpkg" >/dev/null 2>&1); then
		# The host's package lists may name a version the mirror dropped.
		apt-get update -q >/dev/null
		(cd "$debs" && apt-get -q -o APT::Sandbox::User=root download "$kpkg" >/dev/null)
	fi
	image_fetch_extra_debs "$debs" "$mirror"

	e2e_say "image: debootstrap bookworm ($E2E_GUEST_PACKAGES)"
	if ! debootstrap --variant=minbase --include="$E2E_GUEST_PACKAGES" \
		bookworm "$new" "$mirror" >"$E2E_CACHE/debootstrap.log" 2>&1; then
		tail -20 "$E2E_CACHE/debootstrap.log" >&2
		e2e_die "debootstrap failed (log: $E2E_CACHE/debootstrap.log)"
	fi
	image_configure_guest "$new"
	image_add_modules "$new" "$debs/${kpkg}_"*.deb "$kver"
	image_add_systemd_versions "$new" "$debs"
	# Package caches, docs and translations: nothing a scenario reads.
	rm -rf "$new"/var/cache/apt/archives/*.deb "$new"/var/cache/apt/*.bin \
		"$new"/var/lib/apt/lists/* "$new"/usr/share/doc "$new"/usr/share/man \
		"$new"/usr/share/locale "$new"/usr/share/info "$new"/var/log/journal/*
	{
		echo "kernel: $kpkg $(dpkg-deb -f "$debs/${kpkg}_"*.deb Version)"
		# shellcheck disable=SC2016 # a dpkg-query format
		echo "systemd 252: $(chroot "$new" dpkg-query -W -f '${Version}' systemd) (/lib/systemd/systemd)"
		for deb in "$debs"/systemd_*.deb; do
			v=$(dpkg-deb -f "$deb" Version)
			echo "systemd ${v%%.*}: $v (/usr/lib/systemd-${v%%.*}/systemd)"
		done
		echo "packages: $E2E_GUEST_PACKAGES"
		echo "built: $(date -u +%FT%TZ) in $(e2e_elapsed "$t0")s"
	} >"$E2E_CACHE/image.info.new"

	e2e_say "image: packing the initramfs"
	rm -rf "$E2E_CACHE/rootfs"
	mv "$new" "$E2E_CACHE/rootfs"
	image_pack
	mv "$E2E_CACHE/vmlinuz.new" "$E2E_CACHE/vmlinuz"
	rm -f "$E2E_CACHE/vmlinux"
	[ ! -e "$E2E_CACHE/vmlinux.new" ] || mv "$E2E_CACHE/vmlinux.new" "$E2E_CACHE/vmlinux"
	mv "$E2E_CACHE/image.info.new" "$E2E_CACHE/image.info"
	rm -rf "$debs" "$E2E_CACHE/apt"
	echo "$stamp" >"$E2E_CACHE/image.stamp"
	e2e_say "image: built in $(e2e_elapsed "$t0")s"
}

image_pack() {
	local out=$E2E_CACHE/base.cpio size
	(cd "$E2E_CACHE/rootfs" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$out.new"
	# The per-scenario cpio is appended to this one. The kernel looks for a
	# cpio header only at a 4-byte boundary and skips zero bytes between
	# archives, so pad to one (GNU cpio already pads to 512 bytes).
	size=$(stat -c %s "$out.new")
	truncate -s $(((size + 3) / 4 * 4)) "$out.new"
	mv "$out.new" "$out"
}

# Make sure the cache is complete and current. Takes $E2E_CACHE/.lock
# exclusively while building, and leaves it held shared on fd 9 so that a
# concurrent run cannot rebuild the tree under a running guest.
image_ensure() {
	local kpkg stamp
	mkdir -p "$E2E_CACHE"
	exec 9>"$E2E_CACHE/.lock"
	flock 9
	kpkg=$(image_kernel_package)
	if [ -z "$kpkg" ]; then
		# Lists not fetched yet on a fresh machine.
		apt-get update -q >/dev/null
		kpkg=$(image_kernel_package)
		[ -n "$kpkg" ] || e2e_die "apt knows no linux-image-amd64"
	fi
	stamp=$(image_stamp "$kpkg")
	if [ "${E2E_REBUILD:-0}" = 1 ] || [ "$(cat "$E2E_CACHE/image.stamp" 2>/dev/null)" != "$stamp" ] ||
		[ ! -s "$E2E_CACHE/base.cpio" ] || [ ! -s "$E2E_CACHE/vmlinuz" ] || [ ! -d "$E2E_CACHE/rootfs" ]; then
		rm -f "$E2E_CACHE/image.stamp"
		image_build "$kpkg" "$stamp"
	fi
	flock -s 9
}
