#!/bin/bash
# End-to-end tests: real kernel + real systemd under QEMU (an initramfs root,
# or a disk root booted through initramfs-tools or dracut), and
# systemd-nspawn, with initshim as PID 1. Run as root from anywhere (make e2e does, after make).
#
#   tests/e2e/run.sh                  every scenario in tests/e2e/scenarios/
#   tests/e2e/run.sh crash-segv-252 control  only these
#   tests/e2e/run.sh --list           names and descriptions
#   tests/e2e/run.sh --prepare [NAME...]  only build the images they need
#
# Prints one line per scenario ("PASS name (12.3s)" / "FAIL name: reason (…)")
# and closes with "N passed, N failed". Console logs of failures go to
# results/e2e/NAME.log. Environment: E2E_KEEP=1 keeps the work directory,
# E2E_JOBS=N runs N QEMU guests at once, E2E_REBUILD=1 rebuilds the cached
# image, E2E_ACCEL=tcg|kvm skips the KVM probe, E2E_BIN=DIR takes initshim
# and initshimctl from DIR (default build/), E2E_BIN_ARM64=DIR the arm64 bed's
# (default build/aarch64/, from make aarch64). See docs/testing.md.
set -euo pipefail

# shellcheck source=host/common.sh
. "$(dirname "$0")/host/common.sh"
# shellcheck source=host/image.sh
. "$E2E_DIR/host/image.sh"
# shellcheck source=host/beds.sh
. "$E2E_DIR/host/beds.sh"
# shellcheck source=host/disk.sh
. "$E2E_DIR/host/disk.sh"
# shellcheck source=host/image-arm64.sh
. "$E2E_DIR/host/image-arm64.sh"
# shellcheck source=host/suites.sh
. "$E2E_DIR/host/suites.sh"
# shellcheck source=host/bundles.sh
. "$E2E_DIR/host/bundles.sh"

all_scenarios() {
	local f
	for f in "$E2E_DIR"/scenarios/*.sh; do basename "$f" .sh; done
}

if [ "${1:-}" = --list ]; then
	for n in $(all_scenarios); do
		printf '%-20s %-7s %-8s %s\n' "$n" "$(scenario_meta1 "$E2E_DIR/scenarios/$n.sh" bed | grep . || echo qemu)" \
			"$(scenario_meta1 "$E2E_DIR/scenarios/$n.sh" image | grep . || echo bookworm)" \
			"$(scenario_meta1 "$E2E_DIR/scenarios/$n.sh" description)"
	done
	exit 0
fi

# images_prepare NAME...: every image, bundle and disk tree the scenarios
# boot, built if missing or stale. The arm64 image (the longest build, under
# qemu-user) and the bundles (their own apt state) build in the background
# beside the x86_64 chain (bookworm image, then the suites' images that copy
# its modules, then the disk trees). Each *_ensure leaves its cache's lock
# held shared by this shell for the run, so the arm64 one runs again here
# (a stamp check) once its background build is done.
images_prepare() {
	local n x86_wanted="" arm64_run="" disk_wanted="" suite done_dir
	local -a bg=()
	for n in "$@"; do
		if arm64_wanted "$n"; then arm64_run=1; else x86_wanted=1; fi
		[ "$(scenario_meta1 "$E2E_DIR/scenarios/$n.sh" bed)" = disk ] && disk_wanted=1
	done
	# apt first, one at a time (the dpkg lock).
	e2e_install_deps
	[ -z "$arm64_run" ] || arm64_install_deps
	# Each background build (errexit on: "&&" would turn it off inside)
	# leaves a file when it succeeded: its exit status
	# is not kept for `wait PID` (bash forgets it when the PID comes round
	# again, and pid_max can be 32768 while debootstrap forks thousands).
	done_dir=$(mktemp -d)
	if [ -n "$arm64_run" ]; then
		(arm64_ensure; touch "$done_dir/arm64") &
		bg+=(arm64)
	fi
	(bundles_prepare "$@"; touch "$done_dir/bundles") &
	bg+=(bundles)
	if [ -n "$x86_wanted" ]; then
		image_ensure
		for suite in $(suites_of_scenarios "$@"); do suite_ensure "$suite"; done
		[ -z "$disk_wanted" ] || disk_ensure
	fi
	wait
	for n in "${bg[@]}"; do
		[ -e "$done_dir/$n" ] || { rm -rf "$done_dir"; e2e_die "$n: could not be built (see above)"; }
	done
	rm -rf "$done_dir"
	[ -z "$arm64_run" ] || arm64_ensure
}

e2e_need_root
prepare_only=
if [ "${1:-}" = --prepare ]; then
	prepare_only=1
	shift
fi
if [ $# -gt 0 ]; then
	names=("$@")
	for n in "${names[@]}"; do
		[ -r "$E2E_DIR/scenarios/$n.sh" ] || e2e_die "no scenario '$n' (tests/e2e/run.sh --list)"
	done
else
	mapfile -t names < <(all_scenarios)
fi

if [ -n "$prepare_only" ]; then
	images_prepare "${names[@]}"
	e2e_say "images ready for ${#names[@]} scenario(s)"
	exit 0
fi

E2E_BIN=${E2E_BIN:-$E2E_REPO/build}
for b in initshim initshimctl; do
	[ -x "$E2E_BIN/$b" ] || e2e_die "$E2E_BIN/$b missing: run make first"
done
x86_wanted=
for n in "${names[@]}"; do
	arm64_wanted "$n" || x86_wanted=1
done
arm64_wanted "${names[@]}" && arm64_run=1 || arm64_run=
if [ -n "$arm64_run" ]; then
	E2E_BIN_ARM64=${E2E_BIN_ARM64:-$E2E_REPO/build/aarch64}
	for b in initshim initshimctl tests/test_inject; do
		[ -x "$E2E_BIN_ARM64/$b" ] || e2e_die "$E2E_BIN_ARM64/$b missing: run make aarch64 first"
	done
fi

images_prepare "${names[@]}"

E2E_WORK=$(mktemp -d /tmp/initshim-e2e.XXXXXX)
chmod 0755 "$E2E_WORK"
trap 'e2e_work_cleanup "${E2E_KEEP:-0}"' EXIT
trap 'exit 130' INT TERM

# The binaries under test, copied once: a rebuild during the run (other
# people edit the tree) must not change them between scenarios.
mkdir -p "$E2E_WORK/bin"
cp "$E2E_BIN/initshim" "$E2E_BIN/initshimctl" "$E2E_WORK/bin/"
# The scripted fake systemd, for scenarios that need a broken version.
[ -x "$E2E_BIN/tests/fake-systemd" ] && cp "$E2E_BIN/tests/fake-systemd" "$E2E_WORK/bin/"
E2E_BIN=$E2E_WORK/bin
if [ -n "$arm64_run" ]; then
	mkdir -p "$E2E_WORK/bin-arm64"
	cp "$E2E_BIN_ARM64/initshim" "$E2E_BIN_ARM64/initshimctl" "$E2E_BIN_ARM64/tests/test_inject" \
		"$E2E_WORK/bin-arm64/"
	[ -x "$E2E_BIN_ARM64/tests/fake-systemd" ] && cp "$E2E_BIN_ARM64/tests/fake-systemd" "$E2E_WORK/bin-arm64/"
	E2E_BIN_ARM64=$E2E_WORK/bin-arm64
fi
# The arm64 guest always runs under TCG: no KVM probe for it alone.
E2E_ACCEL_USED=tcg
[ -z "$x86_wanted" ] || E2E_ACCEL_USED=$(e2e_accel "$E2E_CACHE/vmlinuz")
E2E_JOBS=${E2E_JOBS:-1}
# The disk bed's trees and, with the binaries under test, its initramfs images.
disk_prepare "${names[@]}"
e2e_say "${#names[@]} scenario(s), accel=$E2E_ACCEL_USED, jobs=$E2E_JOBS, work=$E2E_WORK"
mkdir -p "$E2E_RESULTS"

passed=0
failed=0
for n in "${names[@]}"; do rm -f "$E2E_RESULTS/$n.log"; done

if [ "$E2E_JOBS" -le 1 ]; then
	for n in "${names[@]}"; do
		if run_scenario "$E2E_DIR/scenarios/$n.sh"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	done
else
	# A pool of E2E_JOBS background runs; nspawn scenarios one at a time
	# (with --keep-unit they share the run's cgroup).
	declare -A running=() # pid -> name
	nspawn_busy=
	# Longest first (the scenario's e2e-timeout stands for its length):
	# a long scenario started last would run alone at the end.
	mapfile -t queue < <(for n in "${names[@]}"; do
		printf '%s %s\n' "$(scenario_meta1 "$E2E_DIR/scenarios/$n.sh" timeout | grep . || echo 0)" "$n"
	done | sort -k1,1nr -s | cut -d' ' -f2)
	while [ ${#queue[@]} -gt 0 ] || [ ${#running[@]} -gt 0 ]; do
		started=
		if [ ${#running[@]} -lt "$E2E_JOBS" ]; then
			for i in "${!queue[@]}"; do
				n=${queue[$i]}
				is_nspawn=
				[ "$(scenario_meta1 "$E2E_DIR/scenarios/$n.sh" bed)" = nspawn ] && is_nspawn=1
				[ -n "$is_nspawn" ] && [ -n "$nspawn_busy" ] && continue
				mkdir -p "$E2E_WORK/$n"
				# "|| true": errexit off inside run_scenario, as in the
				# serial loop's "if" (a failing command there is the
				# scenario's FAIL, not a silent end of the runner).
				(run_scenario "$E2E_DIR/scenarios/$n.sh" >"$E2E_WORK/$n.result" || true) &
				running[$!]=$n
				[ -n "$is_nspawn" ] && nspawn_busy=$!
				unset "queue[$i]"
				queue=("${queue[@]}")
				started=1
				break
			done
		fi
		[ -n "$started" ] && continue
		# Wait for any one of the runs to end.
		wait -n -p done_pid "${!running[@]}" || true
		[ -n "${done_pid:-}" ] || continue
		n=${running[$done_pid]}
		unset "running[$done_pid]"
		[ "$nspawn_busy" = "$done_pid" ] && nspawn_busy=
		cat "$E2E_WORK/$n.result"
		grep -qE '^(PASS|FAIL) ' "$E2E_WORK/$n.result" ||
			echo "FAIL $n: its runner ended without a verdict (see the lines above)"
		if grep -q '^PASS ' "$E2E_WORK/$n.result"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	done
fi

if [ "$failed" -gt 0 ]; then
	e2e_say "console logs of failures: ${E2E_RESULTS#"$E2E_REPO"/}/"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
