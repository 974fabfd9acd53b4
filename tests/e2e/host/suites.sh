# Guest images of newer Debian suites, one cached image per suite, for the
# scenarios that name one with "# e2e-image: SUITE" (trixie: systemd 257;
# forky, Debian testing: the newest systemd Debian ships):
#
#   $E2E_CACHE/SUITE/rootfs/      debootstrap'ed SUITE tree, the suite's own
#                                 systemd as /usr/lib/systemd/systemd
#   $E2E_CACHE/SUITE/base.cpio    rootfs/ packed as the initramfs (uncompressed,
#                                 as image.sh's base.cpio)
#   $E2E_CACHE/SUITE/systemd.major  e.g. 257: what the scenarios and the
#                                 per-scenario initshim.conf call the version
#   $E2E_CACHE/SUITE/image.info   the versions that went in
#   $E2E_CACHE/SUITE/image.stamp  hash of this file + packages + the main
#                                 image's stamp (its kernel's modules are copied)
#
# The kernel is the main (bookworm) image's: one kernel for every bed, so a
# difference between two suites' scenarios is systemd's, not the kernel's.
# Separate from image.sh on purpose: image.sh's text is in the main image's
# stamp, so editing it would rebuild every machine's bookworm image.
# Sourced after host/common.sh and host/image.sh.
# shellcheck shell=bash

# Suites a scenario may name, and debootstrap's script for each (its
# 1.0.128 has no script named forky; sid's is the one for testing).
declare -A E2E_SUITE_SCRIPT=([trixie]=trixie [forky]=sid)
E2E_SUITE_PACKAGES=$E2E_GUEST_PACKAGES

suite_stamp() {
	{
		cat "${BASH_SOURCE[0]}"
		printf '%s\n' "$1" "$E2E_SUITE_PACKAGES"
		cat "$E2E_CACHE/image.stamp"
	} | sha256sum | cut -c1-16
}

# The bookworm kernel's modules, as the main image has them (only the subset
# the QEMU guest loads), re-indexed by the suite's own depmod.
suite_copy_modules() {
	local root=$1 kver
	kver=$(basename "$(ls -d "$E2E_CACHE"/rootfs/lib/modules/*/ | head -n 1)")
	[ -n "$kver" ] || e2e_die "no kernel modules in $E2E_CACHE/rootfs/lib/modules"
	mkdir -p "$root/lib/modules"
	cp -a "$E2E_CACHE/rootfs/lib/modules/$kver" "$root/lib/modules/"
	chroot "$root" depmod "$kver"
}

suite_build() {
	local suite=$1 stamp=$2 dir=$E2E_CACHE/$1 new t0 mirror version major
	new=$dir/rootfs.new
	mirror=$(e2e_mirror)
	t0=$(e2e_now)
	rm -rf "$new"
	mkdir -p "$dir"
	e2e_say "image $suite: debootstrap $suite ($E2E_SUITE_PACKAGES)"
	if ! debootstrap --variant=minbase --include="$E2E_SUITE_PACKAGES" \
		"$suite" "$new" "$mirror" "/usr/share/debootstrap/scripts/${E2E_SUITE_SCRIPT[$suite]}" \
		>"$dir/debootstrap.log" 2>&1; then
		tail -20 "$dir/debootstrap.log" >&2
		e2e_die "debootstrap $suite failed (log: $dir/debootstrap.log)"
	fi
	image_configure_guest "$new"
	suite_copy_modules "$new"
	# shellcheck disable=SC2016 # a dpkg-query format
	version=$(chroot "$new" dpkg-query -W -f '${Version}' systemd)
	major=${version%%[.~+-]*}
	[[ $major =~ ^[0-9]+$ ]] || e2e_die "image $suite: cannot read systemd's major version from '$version'"
	rm -rf "$new"/var/cache/apt/archives/*.deb "$new"/var/cache/apt/*.bin \
		"$new"/var/lib/apt/lists/* "$new"/usr/share/doc "$new"/usr/share/man \
		"$new"/usr/share/locale "$new"/usr/share/info "$new"/var/log/journal/*
	{
		echo "suite: $suite"
		echo "kernel: $(ls "$new/lib/modules") (the main image's)"
		echo "systemd $major: $version (/usr/lib/systemd/systemd)"
		echo "glibc: $(chroot "$new" dpkg-query -W -f '${Version}' libc6)"
		echo "packages: $E2E_SUITE_PACKAGES"
		echo "built: $(date -u +%FT%TZ) in $(e2e_elapsed "$t0")s"
	} >"$dir/image.info.new"
	e2e_say "image $suite: systemd $version (major $major); packing"
	rm -rf "$dir/rootfs"
	mv "$new" "$dir/rootfs"
	(cd "$dir/rootfs" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$dir/base.cpio.new"
	# 4-byte alignment for the scenario's cpio appended to it (see image_pack).
	truncate -s $((($(stat -c %s "$dir/base.cpio.new") + 3) / 4 * 4)) "$dir/base.cpio.new"
	mv "$dir/base.cpio.new" "$dir/base.cpio"
	echo "$major" >"$dir/systemd.major"
	mv "$dir/image.info.new" "$dir/image.info"
	echo "$stamp" >"$dir/image.stamp"
	e2e_say "image $suite: built in $(e2e_elapsed "$t0")s"
}

# suite_ensure SUITE: the suite's image is complete and current. Called with
# the main image's lock held shared on fd 9 (image_ensure); takes it
# exclusively to build, then shared again.
suite_ensure() {
	local suite=$1 dir=$E2E_CACHE/$1 stamp
	[ -n "${E2E_SUITE_SCRIPT[$suite]:-}" ] ||
		e2e_die "unknown e2e-image '$suite' (known: ${!E2E_SUITE_SCRIPT[*]})"
	stamp=$(suite_stamp "$suite")
	if [ "${E2E_REBUILD:-0}" = 1 ] || [ "$(cat "$dir/image.stamp" 2>/dev/null)" != "$stamp" ] ||
		[ ! -s "$dir/base.cpio" ] || [ ! -s "$dir/systemd.major" ]; then
		flock 9
		rm -f "$dir/image.stamp"
		suite_build "$suite" "$stamp"
		flock -s 9
	fi
	e2e_say "image $suite: $(grep '^systemd' "$dir/image.info")"
}

# The suites the scenarios NAME... use, once each.
suites_of_scenarios() {
	local n
	for n in "$@"; do
		scenario_meta1 "$E2E_DIR/scenarios/$n.sh" image
	done | grep . | sort -u || true
}

# The cached files a scenario's guest starts from: the main image's, or its
# e2e-image suite's.
scenario_image_dir() {
	local suite
	suite=$(scenario_meta1 "$1" image)
	if [ -n "$suite" ]; then echo "$E2E_CACHE/$suite"; else echo "$E2E_CACHE"; fi
}
