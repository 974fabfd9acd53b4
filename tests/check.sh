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
prepare_log=build/e2e-prepare.log
# Its own process group (setsid), so that a failing suite can stop all of it.
setsid tests/e2e/run.sh --prepare >"$prepare_log" 2>&1 &
prepare=$!
# A failing suite ends the run: the image build must not outlive it.
trap 'kill -- -"$prepare" 2>/dev/null || true' EXIT

make unit
make fuzz FUZZ_SECONDS="${FUZZ_CHECK_SECONDS:-15}"
make deb-check
make integration
make soak
make aarch64
prepare_status=0
wait "$prepare" || prepare_status=$?
trap - EXIT
cat "$prepare_log"
# A failed preparation is not the end: the e2e run builds what is missing
# itself, and says why if it cannot.
[ "$prepare_status" -eq 0 ] || echo "e2e images: background preparation failed ($prepare_status); make e2e tries again"
make e2e
