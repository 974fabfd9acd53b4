# Version bundles for the scenarios that ask for them (docs/versions.md,
# "Version bundles"), built by tools/make-bundle from a newer suite's .deb
# files, once, and put into a scenario's overlay:
#
#   # e2e-bundle: SUITE PACKAGE...
#
# e.g. "trixie systemd libsystemd-shared libc6 libssl3t64": the packages of
# SUITE (trixie: 257, forky: the newest), downloaded without installing
# them. The bundle goes to the guest's /usr/lib/initshim/bundles/MAJOR/ (its
# private loader, if libc6 is among the packages, is named by that path),
# initshim.conf gets "version MAJOR = /usr/lib/initshim/bundles/MAJOR/systemd",
# and the guest's image.env E2E_BUNDLES lists the majors. With
# "# e2e-bundle-default: SUITE" that bundle is also the default version: the
# guest boots it.
#
#   # e2e-bundle-break: SUITE NAME MODE
#
# also puts a copy of SUITE's bundle (named by an e2e-bundle line too) at
# /usr/lib/initshim/bundles/NAME/, broken after its preflight by
# tests/e2e/guest/bundle-break.c, built for MODE (nobus: its manager never
# answers on /run/systemd/private; hang: as PID 1 it listens there, then blocks for good)
# and made the copy's systemd's first DT_NEEDED; initshim.conf gets
# "version NAME = /usr/lib/initshim/bundles/NAME/systemd".
#
#   $E2E_CACHE/bundles/SUITE/bundle/   the bundle, as installed in the guest
#   $E2E_CACHE/bundles/SUITE/major     e.g. 257
#   $E2E_CACHE/bundles/SUITE/info      what went in (package versions)
#   $E2E_CACHE/bundles/SUITE/stamp     hash of this file, tools/make-bundle
#                                      and the package list
#
# Separate from image.sh and suites.sh: their text is in the images' stamps.
# Sourced after host/common.sh, image.sh and beds.sh.
# shellcheck shell=bash

E2E_BUNDLE_DIR=/usr/lib/initshim/bundles

bundle_stamp() {
	{
		cat "${BASH_SOURCE[0]}" "$E2E_REPO/tools/make-bundle"
		printf '%s\n' "$*"
	} | sha256sum | cut -c1-16
}

# bundle_apt SUITE ARGS...: apt-get with a private state for SUITE: the
# host's sources, preferences and package lists stay untouched.
bundle_apt() {
	local state=$E2E_CACHE/bundles/apt-$1
	shift
	apt-get -q -o Dir::Etc::SourceList="$state/sources.list" \
		-o Dir::Etc::SourceParts="$state/empty.d" \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$state/empty.d" \
		-o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" \
		-o APT::Sandbox::User=root "$@"
}

bundle_build() {
	local suite=$1 stamp=$2 dir=$E2E_CACHE/bundles/$1 state=$E2E_CACHE/bundles/apt-$1 t0 major v p
	shift 2
	t0=$(e2e_now)
	rm -rf "$dir" "$state"
	mkdir -p "$dir/debs" "$state/lists/partial" "$state/cache/archives/partial" "$state/empty.d"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$(e2e_mirror)" "$suite" >"$state/sources.list"
	e2e_say "bundle $suite: downloading $*"
	bundle_apt "$suite" update >/dev/null || e2e_die "bundle $suite: apt-get update failed"
	(cd "$dir/debs" && bundle_apt "$suite" download "${@/%//$suite}" >/dev/null) ||
		e2e_die "bundle $suite: cannot download $*"
	v=$(dpkg-deb -f "$dir"/debs/systemd_*.deb Version)
	major=${v%%[.~+-]*}
	[[ $major =~ ^[0-9]+$ ]] || e2e_die "bundle $suite: no major version in systemd's '$v'"
	"$E2E_REPO/tools/make-bundle" --install-dir "$E2E_BUNDLE_DIR/$major" "$dir/bundle" "$dir"/debs/*.deb 2>"$dir/make-bundle.log" ||
		{ cat "$dir/make-bundle.log" >&2; e2e_die "bundle $suite: tools/make-bundle failed"; }
	{
		echo "bundle $major from $suite, installed at $E2E_BUNDLE_DIR/$major"
		for p in "$dir"/debs/*.deb; do echo "  $(dpkg-deb -f "$p" Package) $(dpkg-deb -f "$p" Version)"; done
		echo "files: $(cd "$dir/bundle" && echo *)"
		echo "built: $(date -u +%FT%TZ) in $(e2e_elapsed "$t0")s"
	} >"$dir/info"
	rm -rf "$dir/debs" "$state"
	echo "$major" >"$dir/major"
	echo "$stamp" >"$dir/stamp"
	e2e_say "bundle $suite: systemd $v (major $major) in $(e2e_elapsed "$t0")s"
}

# bundle_ensure SUITE PACKAGE...: the suite's bundle is built and current.
bundle_ensure() {
	local suite=$1 dir=$E2E_CACHE/bundles/$1 stamp
	[ -n "${E2E_SUITE_SCRIPT[$suite]:-}" ] ||
		e2e_die "unknown e2e-bundle suite '$suite' (known: ${!E2E_SUITE_SCRIPT[*]})"
	stamp=$(bundle_stamp "$@")
	mkdir -p "$E2E_CACHE/bundles"
	(
		flock 8
		if [ "${E2E_REBUILD:-0}" = 1 ] || [ "$(cat "$dir/stamp" 2>/dev/null)" != "$stamp" ] ||
			[ ! -s "$dir/major" ] || [ ! -x "$dir/bundle/systemd" ]; then
			bundle_build "$suite" "$stamp" "${@:2}"
		fi
	) 8>"$E2E_CACHE/bundles/.lock" || exit
	e2e_say "bundle $suite: $(head -n 1 "$dir/info")"
}

# bundles_prepare NAME...: every bundle the named scenarios ask for.
bundles_prepare() {
	local n line
	for n in "$@"; do
		scenario_meta "$E2E_DIR/scenarios/$n.sh" bundle
	done | sort -u | while read -r line; do
		[ -n "$line" ] || continue
		# shellcheck disable=SC2086 # SUITE PACKAGE...
		bundle_ensure $line
	done
}

# The majors of a scenario's bundles, in the order it names them.
bundle_majors() {
	local suite
	scenario_meta "$1" bundle | while read -r suite _; do
		[ -n "$suite" ] && cat "$E2E_CACHE/bundles/$suite/major"
	done | tr '\n' ' ' | sed 's/ $//'
}

# overlay_bundles DIR SCRIPT: the scenario's bundles into its overlay.
overlay_bundles() {
	local dir=$1 script=$2 suite major
	while read -r suite _; do
		[ -n "$suite" ] || continue
		major=$(cat "$E2E_CACHE/bundles/$suite/major")
		mkdir -p "$dir$E2E_BUNDLE_DIR"
		cp -a "$E2E_CACHE/bundles/$suite/bundle" "$dir$E2E_BUNDLE_DIR/$major"
		# As docs/versions.md says to install one: its sysctl.d files.
		if [ -d "$dir$E2E_BUNDLE_DIR/$major/sysctl.d" ]; then
			mkdir -p "$dir/etc/sysctl.d"
			cp "$dir$E2E_BUNDLE_DIR/$major"/sysctl.d/*.conf "$dir/etc/sysctl.d/"
		fi
	done < <(scenario_meta "$script" bundle)
	overlay_bundle_breaks "$dir" "$script"
}

# overlay_bundle_breaks DIR SCRIPT: the broken copies (e2e-bundle-break).
overlay_bundle_breaks() {
	local dir=$1 script=$2 suite name mode b
	while read -r suite name mode; do
		[ -n "$suite" ] || continue
		case $mode in
		nobus) mode=BREAK_NOBUS ;;
		hang) mode=BREAK_HANG ;;
		*) e2e_die "e2e-bundle-break: unknown mode '$mode' (nobus, hang)" ;;
		esac
		[ -x "$E2E_CACHE/bundles/$suite/bundle/systemd" ] ||
			e2e_die "e2e-bundle-break: no bundle of '$suite' (name it in an e2e-bundle line)"
		b=$dir$E2E_BUNDLE_DIR/$name
		mkdir -p "$dir$E2E_BUNDLE_DIR"
		cp -a "$E2E_CACHE/bundles/$suite/bundle" "$b"
		gcc -std=gnu11 -O2 -Wall -Werror -fPIC -shared -D"$mode" -o "$b/libe2e-break.so" \
			"$E2E_DIR/guest/bundle-break.c" || e2e_die "e2e-bundle-break: cannot build $mode"
		chmod 0644 "$b/libe2e-break.so"
		patchelf --add-needed libe2e-break.so "$b/systemd" ||
			e2e_die "e2e-bundle-break: patchelf failed on $b/systemd"
	done < <(scenario_meta "$script" bundle-break)
}

# The initshim.conf lines naming the scenario's bundles; with
# "# e2e-bundle-default: SUITE", that suite's bundle is the default version.
bundle_config() {
	local major suite
	for major in $(bundle_majors "$1"); do
		echo "version $major = $E2E_BUNDLE_DIR/$major/systemd"
	done
	scenario_meta "$1" bundle-break | while read -r suite major _; do
		[ -z "$suite" ] || echo "version $major = $E2E_BUNDLE_DIR/$major/systemd"
	done
	suite=$(scenario_meta1 "$1" bundle-default)
	[ -z "$suite" ] || echo "default = $(cat "$E2E_CACHE/bundles/$suite/major")"
}
