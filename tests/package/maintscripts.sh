#!/bin/bash
# tests/package/maintscripts.sh DEB: the built package's maintainer scripts
# (dpkg-deb -e), run as dpkg runs them for an upgrade of the package by
# itself and for its removal, with every command that could act on the host
# (initshimctl, systemctl, deb-systemd-invoke, deb-systemd-helper) replaced
# by a stub that logs its arguments. Checks (docs/packaging.md "Upgrading"):
#   - an upgrade neither stops nor restarts initshim-guard.service (the
#     postinst moves the running guard to the new binary live instead);
#   - a removal does stop it (so the check would see a stop);
#   - postinst's live upgrade is `initshimctl --timeout 20 upgrade`, run only
#     when a guard runs (/run/initshim/guard.pid).
# The scripts' host paths that decide what runs, /run/systemd/system (systemd
# is PID 1) and /run/initshim/guard.pid (a guard runs), are redirected into a
# scratch directory where both exist, whatever the build host runs.
# Run by `make deb-check`; no root needed; nothing on the host is changed.
set -u
deb=$1
t=$(mktemp -d /tmp/initshim-maint.XXXXXX)
trap 'rm -rf "$t"' EXIT
fail() { echo "maintscripts: FAIL: $*" >&2; exit 1; }

dpkg-deb -e "$deb" "$t/deb" || fail "dpkg-deb -e $deb"
mkdir -p "$t/ctl" "$t/run/systemd/system" "$t/run/initshim"
echo 1 > "$t/run/initshim/guard.pid"
for s in preinst postinst prerm postrm; do
	[ -e "$t/deb/$s" ] || continue
	sed -e "s,/run/systemd/system,$t/run/systemd/system,g" -e "s,/run/initshim/,$t/run/initshim/,g" \
		"$t/deb/$s" > "$t/ctl/$s"
done
mkdir "$t/bin"
for c in initshimctl systemctl deb-systemd-invoke deb-systemd-helper update-grub update-initramfs; do
	printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\nexit 0\n' "$c" "$t" > "$t/bin/$c"
	chmod 755 "$t/bin/$c"
done
# run SCRIPT ARGS...: the package's SCRIPT, if it has one, with the stubs.
run() {
	local s=$t/ctl/$1
	shift
	[ -e "$s" ] || return 0
	echo "== ${s##*/} $*" >> "$t/calls"
	PATH=$t/bin:$PATH DPKG_MAINTSCRIPT_PACKAGE=initshim sh "$s" "$@" >> "$t/out" 2>&1 ||
		fail "${s##*/} $* failed: $(tail -n 5 "$t/out")"
}
version=$(dpkg-deb -f "$deb" Version)
# dpkg's upgrade sequence: old prerm, new preinst, old postrm, new postinst.
run prerm upgrade "$version"
run preinst upgrade "$version"
run postrm upgrade "$version"
run postinst configure "$version"
sed -n '/^== /!s/^/  /;p' "$t/calls"
stops='(stop|restart|try-restart|reload-or-restart|condrestart)( .*)? initshim-guard'
if grep -E "^(systemctl|deb-systemd-invoke) .*$stops" "$t/calls"; then
	fail "an upgrade stops or restarts initshim-guard.service"
fi
grep -q -x 'initshimctl --timeout 20 upgrade' "$t/calls" || fail "postinst did not run 'initshimctl --timeout 20 upgrade'"
# Without a running guard, no live upgrade.
rm "$t/run/initshim/guard.pid"
: > "$t/calls"
run postinst configure "$version"
! grep -q 'upgrade' "$t/calls" || fail "postinst upgraded without a running guard: $(cat "$t/calls")"
# The contrast: a removal stops a guard run as a service.
: > "$t/calls"
run prerm remove
grep -q -E "^deb-systemd-invoke stop initshim-guard.service" "$t/calls" ||
	fail "a removal does not stop initshim-guard.service: $(cat "$t/calls")"
echo "maintscripts: an upgrade neither stops nor restarts initshim-guard.service and runs initshimctl upgrade; a removal stops it"
