# The image of the arm64 bed (# e2e-bed: arm64; run_arm64 in beds.sh):
# Debian's arm64 kernel and a bookworm arm64 tree with real systemd 252, for
# qemu-system-aarch64 -M virt -cpu max (TCG: this host runs no arm64 code
# natively), booted like the x86_64 QEMU bed: the tree as an initramfs root, rdinit=/sbin/initshim, the
# scenario's files in a second cpio, the verdicts on the console (PL011,
# ttyAMA0). The binaries under test are the static cross-built ones of
# `make aarch64` (build/aarch64/, or E2E_BIN_ARM64=DIR), with the injection
# test test_inject, which scenarios run inside the guest.
#
# The image has its own cache directory, beside the x86_64 one:
#
#   $E2E_ARM64_CACHE/Image        the kernel (linux-image-arm64), gunzipped
#   $E2E_ARM64_CACHE/rootfs/      debootstrap --arch=arm64 bookworm tree
#   $E2E_ARM64_CACHE/base.cpio    rootfs/ packed (uncompressed, as on x86_64)
#   $E2E_ARM64_CACHE/image.stamp  hash of this file, image.sh, packages, kernel
#   $E2E_ARM64_CACHE/image.info   what went in
#
# debootstrap's second stage runs the tree's arm64 maintainer scripts: with
# qemu-user-static through binfmt_misc (mounted and registered for the build
# if the host has not done it, and unregistered afterwards).
#
# Sourced after common.sh and image.sh (it reuses image.sh's guest
# configuration, module copying and packing with E2E_CACHE pointed here).
# The only entry point is arm64_ensure (run.sh).
# shellcheck shell=bash

E2E_ARM64_CACHE=${E2E_ARM64_CACHE:-/var/cache/initshim-e2e-arm64}
# Only systemd 252: the version switching is architecture-neutral and tested
# on x86_64.
E2E_ARM64_PACKAGES=systemd,systemd-sysv,udev,procps,kmod,dbus
# The virt machine's devices are virtio-mmio; the PL011 console is built in.
E2E_ARM64_MODULES="virtio_mmio virtio_blk virtio_net virtio_console virtio_rng
	autofs4 configfs fuse loop overlay dm_mod evdev"

# --- the cached image ----------------------------------------------------------

arm64_kernel_package() {
	apt-cache depends linux-image-arm64:arm64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { sub(/:arm64$/, "", $2); print $2; exit }'
}

arm64_stamp() {
	local kpkg=$1
	{
		cat "${BASH_SOURCE[0]}" "$E2E_DIR/host/image.sh"
		printf '%s\n' "$E2E_ARM64_PACKAGES" "$E2E_ARM64_MODULES" "$kpkg"
	} | sha256sum | cut -c1-16
}

# The host tools of this bed, and apt's arm64 package lists (multiarch, as
# tests/deps.sh sets up for libseccomp-dev:arm64).
arm64_install_deps() {
	local -A pkg_of=(
		[qemu-system-aarch64]=qemu-system-arm [qemu-aarch64-static]=qemu-user-static
	)
	local tool missing=()
	for tool in "${!pkg_of[@]}"; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg_of[$tool]}")
	done
	export DEBIAN_FRONTEND=noninteractive
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
		apt-get update -q >/dev/null
	fi
	[ ${#missing[@]} -eq 0 ] && return 0
	e2e_say "installing: ${missing[*]}"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
		e2e_die "apt-get install ${missing[*]} failed"
}

# binfmt_misc runs the tree's arm64 programs (debootstrap's second stage,
# chroot depmod) through qemu-user-static. F: the interpreter is opened now,
# so it works inside the chroot. Sets ARM64_BINFMT_OURS when this build
# registered it (arm64_binfmt_release then removes it).
ARM64_BINFMT=/proc/sys/fs/binfmt_misc
arm64_binfmt_setup() {
	local conf=/usr/lib/binfmt.d/qemu-aarch64.conf line
	ARM64_BINFMT_OURS=
	if [ ! -e "$ARM64_BINFMT/register" ]; then
		mount -t binfmt_misc binfmt_misc "$ARM64_BINFMT" ||
			e2e_die "cannot mount binfmt_misc: debootstrap needs it to run arm64 code"
	fi
	[ -e "$ARM64_BINFMT/qemu-aarch64" ] && return 0
	[ -r "$conf" ] || e2e_die "no $conf (qemu-user-static)"
	line=$(grep -v '^#' "$conf" | head -n 1)
	# Ours with F whatever the package says (its default is OPF already).
	case ${line##*:} in *F*) ;; *) line=${line}F ;; esac
	printf '%s' "$line" >"$ARM64_BINFMT/register" || e2e_die "cannot register qemu-aarch64 with binfmt_misc"
	ARM64_BINFMT_OURS=1
}

arm64_binfmt_release() {
	[ -n "${ARM64_BINFMT_OURS:-}" ] && echo -1 >"$ARM64_BINFMT/qemu-aarch64"
	ARM64_BINFMT_OURS=
}

arm64_download_kernel() {
	local dest=$1 kpkg=$2
	(cd "$dest" && apt-get -q -o APT::Sandbox::User=root download "$kpkg:arm64" >/dev/null 2>&1) && return 0
	# The host's package lists may name a version the mirror dropped.
	apt-get update -q >/dev/null
	(cd "$dest" && apt-get -q -o APT::Sandbox::User=root download "$kpkg:arm64" >/dev/null) ||
		e2e_die "cannot download $kpkg:arm64"
}

# arm64_configure_guest ROOT: what image.sh does for the x86_64 guest, with
# the autologin getty on the PL011 console.
arm64_configure_guest() {
	local root=$1 unit=serial-getty@ttyAMA0.service
	image_configure_guest "$root"
	mkdir -p "$root/etc/systemd/system/$unit.d"
	printf '[Unit]\nConditionKernelCommandLine=!e2e.scenario\n' >"$root/etc/systemd/system/$unit.d/e2e.conf"
	cp "$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" \
		"$root/etc/systemd/system/$unit.d/"
}

# arm64_add_kernel ROOT DEB KVER: image.sh's module copy into ROOT, and the
# kernel as an uncompressed Image (QEMU would gunzip vmlinuz on every boot).
arm64_add_kernel() {
	local root=$1 kdeb=$2 kver=$3
	E2E_CACHE=$E2E_ARM64_CACHE E2E_GUEST_MODULES=$E2E_ARM64_MODULES \
		image_add_modules "$root" "$kdeb" "$kver"
	rm -f "$E2E_ARM64_CACHE/vmlinux.new"
	gzip -dc <"$E2E_ARM64_CACHE/vmlinuz.new" >"$E2E_ARM64_CACHE/Image.new" 2>/dev/null ||
		cp "$E2E_ARM64_CACHE/vmlinuz.new" "$E2E_ARM64_CACHE/Image.new"
	rm -f "$E2E_ARM64_CACHE/vmlinuz.new"
}

arm64_build() {
	local kpkg=$1 stamp=$2 mirror new=$E2E_ARM64_CACHE/rootfs.new debs=$E2E_ARM64_CACHE/debs kver t0
	mirror=$(e2e_mirror)
	kver=${kpkg#linux-image-}
	rm -rf "$new" "$debs"
	mkdir -p "$debs"
	t0=$(e2e_now)
	e2e_say "arm64 image: downloading $kpkg"
	arm64_download_kernel "$debs" "$kpkg"
	arm64_binfmt_setup
	e2e_say "arm64 image: debootstrap --arch=arm64 bookworm ($E2E_ARM64_PACKAGES)"
	if ! debootstrap --arch=arm64 --variant=minbase --include="$E2E_ARM64_PACKAGES" \
		bookworm "$new" "$mirror" >"$E2E_ARM64_CACHE/debootstrap.log" 2>&1; then
		arm64_binfmt_release
		tail -20 "$E2E_ARM64_CACHE/debootstrap.log" >&2
		e2e_die "debootstrap failed (log: $E2E_ARM64_CACHE/debootstrap.log)"
	fi
	arm64_configure_guest "$new"
	arm64_add_kernel "$new" "$debs/${kpkg}_"*.deb "$kver"
	arm64_binfmt_release
	rm -rf "$new"/var/cache/apt/archives/*.deb "$new"/var/cache/apt/*.bin \
		"$new"/var/lib/apt/lists/* "$new"/usr/share/doc "$new"/usr/share/man \
		"$new"/usr/share/locale "$new"/usr/share/info "$new"/var/log/journal/*
	{
		echo "kernel: $kpkg $(dpkg-deb -f "$debs/${kpkg}_"*.deb Version) (arm64)"
		echo "systemd 252: $(awk '/^Package: systemd$/ { p = 1 } p && /^Version:/ { print $2; exit }' \
			"$new/var/lib/dpkg/status") (/lib/systemd/systemd)"
		echo "packages: $E2E_ARM64_PACKAGES"
		echo "built: $(date -u +%FT%TZ) in $(e2e_elapsed "$t0")s"
	} >"$E2E_ARM64_CACHE/image.info.new"
	e2e_say "arm64 image: packing the initramfs"
	rm -rf "$E2E_ARM64_CACHE/rootfs"
	mv "$new" "$E2E_ARM64_CACHE/rootfs"
	E2E_CACHE=$E2E_ARM64_CACHE image_pack
	mv "$E2E_ARM64_CACHE/Image.new" "$E2E_ARM64_CACHE/Image"
	mv "$E2E_ARM64_CACHE/image.info.new" "$E2E_ARM64_CACHE/image.info"
	rm -rf "$debs"
	echo "$stamp" >"$E2E_ARM64_CACHE/image.stamp"
	e2e_say "arm64 image: built in $(e2e_elapsed "$t0")s"
}

# Make sure the arm64 cache is complete and current. Like image_ensure: the
# lock ($E2E_ARM64_CACHE/.lock, fd 7) is held exclusively while building,
# then shared for the run.
arm64_ensure() {
	local kpkg stamp
	arm64_install_deps
	mkdir -p "$E2E_ARM64_CACHE"
	exec 7>"$E2E_ARM64_CACHE/.lock"
	flock 7
	kpkg=$(arm64_kernel_package)
	if [ -z "$kpkg" ]; then
		apt-get update -q >/dev/null
		kpkg=$(arm64_kernel_package)
		[ -n "$kpkg" ] || e2e_die "apt knows no linux-image-arm64:arm64"
	fi
	stamp=$(arm64_stamp "$kpkg")
	if [ "${E2E_REBUILD:-0}" = 1 ] || [ "$(cat "$E2E_ARM64_CACHE/image.stamp" 2>/dev/null)" != "$stamp" ] ||
		[ ! -s "$E2E_ARM64_CACHE/base.cpio" ] || [ ! -s "$E2E_ARM64_CACHE/Image" ] ||
		[ ! -d "$E2E_ARM64_CACHE/rootfs" ]; then
		rm -f "$E2E_ARM64_CACHE/image.stamp"
		arm64_build "$kpkg" "$stamp"
	fi
	flock -s 7
}
