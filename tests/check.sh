#!/bin/bash
# make check: every suite, in the order of the README. The end-to-end
# images (on a fresh machine ~9 minutes of downloads, debootstraps and
# packing: docs/testing.md, "What each part of make check costs") build in
# the background while the suites that do not need them run; the e2e step
# waits for them. Stops at the first suite that fails, as make would.
set -euo pipefail
cd "$(dirname "$0")/.."
make() { command make --no-print-directory "$@"; }

tests/deps.sh
make all
mkdir -p build
prepare_log=build/e2e-prepare.log prepare_status_file=build/e2e-prepare.status
rm -f "$prepare_status_file"
# Its own process group (setsid), so that a failing suite can stop all of it.
# Its status goes to a file: bash may forget a background PID's status when
# the PID comes round again (pid_max 32768, and the suites fork thousands).
setsid bash -c 'tests/e2e/run.sh --prepare; echo $? >"$1"' prepare "$prepare_status_file" >"$prepare_log" 2>&1 &
prepare=$!
# A failing suite ends the run: the image build must not outlive it.
trap 'kill -- -"$prepare" 2>/dev/null || true' EXIT

make unit
make fuzz FUZZ_SECONDS="${FUZZ_CHECK_SECONDS:-15}"
make deb-check
make integration
make soak
make aarch64
wait "$prepare" || true
trap - EXIT
prepare_status=$(cat "$prepare_status_file" 2>/dev/null || echo "unknown")
cat "$prepare_log"
# A failed preparation is not the end: the e2e run builds what is missing
# itself, and says why if it cannot.
[ "$prepare_status" = 0 ] || echo "e2e images: background preparation failed ($prepare_status); make e2e tries again"
make e2e
