# Guests for the benchmarks, on the end-to-end bed (tests/e2e/host): the
# cached Debian image under QEMU, or the cached tree under systemd-nspawn.
# A benchmark's guest side is a scenario script in tests/bench/guest/ that
# prints "BENCH key=value" lines (e2e_announce: the kernel log in a VM, the
# console in a container); the host reads them back from the console log.
# Sourced by the benchmarks (bash); not a benchmark itself.
# shellcheck shell=bash

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Console logs of failed guests go here, not among the e2e results.
E2E_RESULTS=${E2E_RESULTS:-$(cd "$BENCH_DIR/../.." && pwd)/results/bench}
# shellcheck source=lib-bench.sh
. "$BENCH_DIR/lib-bench.sh"
# shellcheck source=../e2e/host/common.sh
. "$BENCH_DIR/../e2e/host/common.sh"
# shellcheck source=../e2e/host/image.sh
. "$E2E_DIR/host/image.sh"
# shellcheck source=../e2e/host/beds.sh
. "$E2E_DIR/host/beds.sh"
# shellcheck source=../e2e/host/suites.sh
. "$E2E_DIR/host/suites.sh"
# shellcheck source=../e2e/host/bundles.sh
. "$E2E_DIR/host/bundles.sh" # overlay_stage calls bundle_majors, bundle_config, overlay_bundles

# Most QEMU guests of other people seen running beside ours.
BENCH_QEMU_OTHERS=0

# The cached image is complete and its stamp current (image_ensure's test,
# without its exclusive lock).
vm_image_ready() {
	local kpkg
	kpkg=$(image_kernel_package)
	[ -n "$kpkg" ] && [ "$(cat "$E2E_CACHE/image.stamp" 2>/dev/null)" = "$(image_stamp "$kpkg")" ] &&
		[ -s "$E2E_CACHE/base.cpio" ] && [ -s "$E2E_CACHE/vmlinuz" ] && [ -d "$E2E_CACHE/rootfs" ]
}

# vm_setup: root, binaries, the cached image, a work directory and the
# accelerator. BENCH_KEEP=1 keeps the work directory.
#
# The image lock: image_ensure takes it exclusively, then holds it shared
# for the rest of the process, so an e2e run waits for every other run to
# end before it starts. A benchmark only checks the image under a shared
# lock (image_ensure only when it must be built) and holds the shared lock
# for each guest, not between guests: it waits only for a rebuild, and
# holds nobody up for longer than one guest.
vm_setup() {
	e2e_need_root
	E2E_BIN=${E2E_BIN:-$E2E_REPO/build}
	local b
	for b in initshim initshimctl; do
		[ -x "$E2E_BIN/$b" ] || e2e_die "$E2E_BIN/$b missing: run make first"
	done
	e2e_install_deps
	mkdir -p "$E2E_CACHE"
	exec 9>"$E2E_CACHE/.lock"
	flock -s 9
	if ! vm_image_ready; then
		flock -u 9
		image_ensure
	fi
	flock -u 9
	E2E_WORK=$(mktemp -d /tmp/initshim-bench.XXXXXX)
	chmod 0755 "$E2E_WORK"
	trap 'e2e_work_cleanup "${BENCH_KEEP:-0}"' EXIT
	trap 'exit 130' INT TERM
	# The binaries under test, copied once (others may rebuild the tree).
	mkdir -p "$E2E_WORK/bin" "$E2E_WORK/scripts"
	cp "$E2E_BIN/initshim" "$E2E_BIN/initshimctl" "$E2E_WORK/bin/"
	E2E_BIN=$E2E_WORK/bin
	# shellcheck disable=SC2034 # used by beds.sh
	E2E_ACCEL_USED=$(e2e_accel "$E2E_CACHE/vmlinuz")
	mkdir -p "$E2E_RESULTS"
}

# bench_guest SRC NAME [HEADER...]: runs tests/bench/guest/SRC.sh in its bed
# as scenario NAME, with the extra "# e2e-KEY: VALUE" lines HEADER (later
# lines win, e.g. "cmdline: rdinit=/lib/systemd/systemd", "bed: nspawn").
# Sets BENCH_LOG (the console log, kept until the next run of NAME) and
# returns non-zero if the guest failed (its log goes to results/bench/).
bench_guest() {
	local src=$1 name=$2 script h out rc=0 others
	shift 2
	script=$E2E_WORK/scripts/$name.sh
	# Header lines count wherever they are; the last one of a key wins.
	{
		cat "$BENCH_DIR/guest/$src.sh"
		for h in "$@"; do printf '# e2e-%s\n' "$h"; done
	} >"$script"
	others=$(bench_qemu_count)
	[ "$others" -gt "$BENCH_QEMU_OTHERS" ] && BENCH_QEMU_OTHERS=$others
	flock -s 9
	out=$(run_scenario "$script") || rc=$?
	flock -u 9
	# shellcheck disable=SC2034 # for the caller
	BENCH_LOG=$E2E_WORK/$name/console.log
	rm -f "$E2E_WORK/$name/initrd"
	echo "bench: $out" >&2
	return $rc
}

# bench_values LOG KEY: the values of the "BENCH KEY=VALUE" lines, in order.
bench_values() {
	tr -d '\r' <"$1" | grep -a -o "BENCH $2=[^ ]*" | sed "s/^BENCH $2=//"
}
