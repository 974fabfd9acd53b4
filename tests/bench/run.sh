#!/bin/bash
# make bench: every benchmark, figures only (docs/performance.md).
#
#   tests/bench/run.sh               all of tests/bench/*.sh (not lib-*.sh)
#   tests/bench/run.sh boot switch   only these
#
# Each benchmark prints its own machine line and figures; progress goes to
# stderr. The sizes of each are environment variables (see its header).
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=lib-bench.sh
. tests/bench/lib-bench.sh
bench_machine
if [ $# -gt 0 ]; then
	list=()
	for n in "$@"; do list+=("tests/bench/${n%.sh}.sh"); done
else
	list=(tests/bench/*.sh)
fi
t0=$SECONDS
for b in "${list[@]}"; do
	case ${b##*/} in run.sh | lib-*.sh) continue ;; esac
	[ -x "$b" ] || { echo "== $b: no such benchmark"; continue; }
	echo "== $b"
	t=$SECONDS
	"$b" || echo "(benchmark $b failed)"
	echo "== $b: $((SECONDS - t)) s"
done
echo "== all: $(((SECONDS - t0) / 60)) min $(((SECONDS - t0) % 60)) s"
