#!/bin/bash
# "See it work": boots a Debian 12 guest under QEMU whose PID 1 is
# build/initshim, which hands PID 1 to Debian's real systemd 252, and prints
# what the guest sees. As root on Debian 12 (make demo builds initshim first);
# installs what it needs, builds the guest image once (cached under
# /var/cache/initshim-e2e), then takes well under 3 minutes.
set -euo pipefail

# shellcheck source=host/common.sh
. "$(dirname "$0")/host/common.sh"
# shellcheck source=host/image.sh
. "$E2E_DIR/host/image.sh"
# shellcheck source=host/beds.sh
. "$E2E_DIR/host/beds.sh"

heading() { printf '\n### %s\n' "$*"; }

e2e_need_root
E2E_BIN=${E2E_BIN:-$E2E_REPO/build}
for b in initshim initshimctl; do
	[ -x "$E2E_BIN/$b" ] || e2e_die "$E2E_BIN/$b missing: run make first (or make demo)"
done
t0=$(e2e_now)

heading "Host: tools and the cached Debian guest image"
e2e_install_deps
image_ensure
sed 's/^/  /' "$E2E_CACHE/image.info"

E2E_WORK=$(mktemp -d /tmp/initshim-demo.XXXXXX)
chmod 0755 "$E2E_WORK"
guest=
cleanup() {
	[ -z "$guest" ] || kill "$guest" 2>/dev/null || true
	if [ "${E2E_KEEP:-0}" = 1 ]; then e2e_say "work directory kept: $E2E_WORK"; else rm -rf "$E2E_WORK"; fi
}
trap cleanup EXIT
mkdir -p "$E2E_WORK/bin"
cp "$E2E_BIN/initshim" "$E2E_BIN/initshimctl" "$E2E_WORK/bin/"
E2E_BIN=$E2E_WORK/bin
E2E_ACCEL_USED=$(e2e_accel "$E2E_CACHE/vmlinuz")

heading "Booting: QEMU ($E2E_ACCEL_USED) -> Linux $(sed -n 's/^kernel: linux-image-\([^ ]*\).*/\1/p' "$E2E_CACHE/image.info") -> rdinit=/sbin/initshim -> /lib/systemd/systemd"
echo "  (the guest's own words follow; emulated, so give it half a minute)"
# The demo is an e2e scenario run by the same machinery; only its tagged
# output is shown here, the full console log stays in the work directory.
mkdir -p "$E2E_WORK/demo"
cp "$E2E_DIR/guest/demo.sh" "$E2E_WORK/demo.sh"
(run_scenario "$E2E_WORK/demo.sh" >"$E2E_WORK/result") &
guest=$!
# Follow the console until the guest is gone.
touch "$E2E_WORK/demo/console.log"
tail -n +1 -F --pid="$guest" "$E2E_WORK/demo/console.log" 2>/dev/null |
	sed -u -n 's/^\[demo\] /  /p'
wait "$guest" || true
guest=

# The guest's last words come from the kernel and initshim, not the tour.
grep -a -E 'initshim(-guard)?\[[0-9]+\]: .*shutdown|reboot: (Power down|Restarting)' "$E2E_WORK/demo/console.log" |
	sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^\[ *[0-9.]*\] /  /'

heading "Result"
if grep -q '^PASS ' "$E2E_WORK/result"; then
	echo "  the guest booted under initshim, ran its tour and powered off cleanly"
	echo "  ($(e2e_elapsed "$t0")s in all; full console log: E2E_KEEP=1 $0)"
else
	sed 's/^/  /' "$E2E_WORK/result"
	echo "  console log: ${E2E_RESULTS#"$E2E_REPO"/}/demo.log"
	exit 1
fi
