#!/bin/bash
# Figure 6, size: the static binaries' file sizes (as built, and stripped) and
# sections, against tini and catatonit as Debian packages them
# (tini-static, and catatonit, which is static); then the resident memory of
# each as PID 1 of a PID namespace running a sleep child, and of initshim's
# guard beside a (fake) systemd, ROUNDS times each, alternating; medians.
#
# initshim as such a PID 1 is rescue mode (no systemd, guard = no,
# rescue-command = sleep): the only state in which initshim itself stays PID
# 1. Beside systemd, PID 1 is systemd and initshim's resident cost is its
# guard: measured with the scripted fake systemd (tests/integration) as PID 1,
# default configuration, SETTLE seconds after the boot (the guard's first
# checks have run by then).
#
# ROUNDS=3 SETTLE=12 by default (about a minute). Needs tini and catatonit
# (apt-get install tini catatonit). Figures, not assertions.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROUNDS=${ROUNDS:-3}
SETTLE=${SETTLE:-12}
B=$PWD/build
# shellcheck source=lib-bench.sh
. tests/bench/lib-bench.sh
bench_machine
TINI=$(command -v tini-static || true)
CATATONIT=$(command -v catatonit || true)
[ -n "$TINI" ] || echo "size: tini-static missing (apt-get install tini)"
[ -n "$CATATONIT" ] || echo "size: catatonit missing (apt-get install catatonit)"

W=$(mktemp -d /tmp/initshim-size.XXXXXX)
trap 'rm -rf "$W"' EXIT

# --- files ------------------------------------------------------------------
echo "size: files (bytes); text/data/bss from size(1)"
printf '  %-34s %10s %10s %9s %8s %8s\n' binary file stripped text data bss
declare -A STRIPPED=()
file_row() { # label path
	local f=$2 st
	[ -x "$f" ] || return 0
	cp "$f" "$W/s" && strip --strip-all "$W/s" 2>/dev/null
	st=$(stat -c %s "$W/s")
	STRIPPED[$1]=$st
	read -r text data bss _ < <(size "$f" | tail -n 1)
	printf '  %-34s %10s %10s %9s %8s %8s\n' "$1" "$(stat -c %s "$f")" "$st" "$text" "$data" "$bss"
}
file_row "initshim (static)" "$B/initshim"
file_row "initshimctl (static)" "$B/initshimctl"
[ -n "$TINI" ] && file_row "tini-static $(dpkg-query -W -f='${Version}' tini 2>/dev/null)" "$TINI"
[ -n "$CATATONIT" ] && file_row "catatonit $(dpkg-query -W -f='${Version}' catatonit 2>/dev/null) (static)" "$CATATONIT"
command -v tini >/dev/null && file_row "tini (dynamic, for reference)" "$(command -v tini)"
# A static binary that only returns: glibc's static floor, for scale.
printf 'int main(void) { return 0; }\n' >"$W/empty.c"
gcc -Os -static -o "$W/empty" "$W/empty.c" 2>/dev/null && file_row "floor: static glibc main(){return 0}" "$W/empty"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "-" }'; }
[ -n "$TINI" ] && echo "  ratio initshim stripped / tini-static stripped: $(ratio "${STRIPPED["initshim (static)"]:-0}" \
	"${STRIPPED["tini-static $(dpkg-query -W -f='${Version}' tini 2>/dev/null)"]:-0}") (goal <= 0.5)"

# --- resident memory ----------------------------------------------------------
# mem PID: "VmRSS RssAnon RssFile Pss ALL" in kB, ALL the Pss summed over
# every process of the same executable in the same PID namespace (PID 1 or
# the guard, and the child that parses control requests). RSS counts pages
# shared with such a child in full for each; Pss shares them out.
mem() {
	local p=$1 exe ns q all=0 v
	exe=$(readlink "/proc/$p/exe") ns=$(readlink "/proc/$p/ns/pid")
	for q in /proc/[0-9]*; do
		[ "$(readlink "$q/exe" 2>/dev/null)" = "$exe" ] || continue
		[ "$(readlink "$q/ns/pid" 2>/dev/null)" = "$ns" ] || continue
		v=$(awk '/^Pss:/ {print $2}' "$q/smaps_rollup" 2>/dev/null) && all=$((all + ${v:-0}))
	done
	echo "$(awk '/^VmRSS/ {r = $2} /^RssAnon/ {a = $2} /^RssFile/ {f = $2} END {print r, a, f}' "/proc/$p/status")" \
		"$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")" "$all"
}

# pid1_mem ARGV...: mem of PID 1 of a new PID namespace running ARGV, one
# second after it started its sleep child.
pid1_mem() {
	local d u ns m
	d=$(mktemp -d "$W/ns.XXXXXX")
	printf 'systemd = /nonexistent\nguard = no\nrescue-command = /bin/sleep 1000000\n' >"$d/conf"
	: >"$d/masked"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --pid --fork --mount --mount-proc --propagation private -- \
		env -i PATH=/usr/bin:/bin INITSHIM_CONF="$d/conf" bash -c '
		mount -t tmpfs tmpfs /run
		for p in /lib/systemd/systemd /usr/lib/systemd/systemd; do [ -e "$p" ] && mount --bind "'"$d"'/masked" "$p"; done
		exec "$@"' init "$@" >"$d/log" 2>&1 &
	u=$!
	for _ in $(seq 100); do ns=$(pgrep -P $u | head -n1); [ -n "$ns" ] && break; sleep 0.02; done
	for _ in $(seq 250); do pgrep -P "$ns" -x sleep >/dev/null && break; sleep 0.02; done
	sleep 1
	m=$(mem "$ns")
	kill -KILL "$ns"
	wait "$u" 2>/dev/null
	echo "$m"
}

# guard_mem: mem of the guard SETTLE s after initshim booted the fake
# systemd (default configuration), after one `initshimctl status`.
guard_mem() {
	# shellcheck source=../integration/lib.sh
	. tests/integration/lib.sh
	ns_start "systemd = $FAKE"
	local g m=
	if wait_until 10 fake_ready 1; then
		sleep "$SETTLE"
		ctl status >/dev/null
		g=$(in_ns cat /run/initshim/guard.pid)
		# The guard's host PID: the one whose innermost PID is $g.
		g=$(grep -l "^NSpid:.*[[:space:]]$g\$" /proc/[0-9]*/status 2>/dev/null |
			while read -r f; do f=${f%/status}; [ "$(readlink "$f/ns/pid")" = "$(readlink "/proc/$NS/ns/pid")" ] && echo "${f#/proc/}"; done | head -n 1)
		[ -n "$g" ] && m=$(mem "$g")
	fi
	ns_stop
	echo "$m"
}

declare -A R=()
impls=(initshim)
[ -n "$TINI" ] && impls+=(tini-static)
[ -n "$CATATONIT" ] && impls+=(catatonit)
[ -x "$B/tests/fake-systemd" ] && impls+=(guard)
for ((r = 0; r < ROUNDS; r++)); do
	for impl in "${impls[@]}"; do
		case $impl in
		initshim) R[$impl]+="$(pid1_mem "$B/initshim")"$'\n' ;;
		tini-static) R[$impl]+="$(pid1_mem "$TINI" -- /bin/sleep 1000000)"$'\n' ;;
		catatonit) R[$impl]+="$(pid1_mem "$CATATONIT" -- /bin/sleep 1000000)"$'\n' ;;
		guard) R[$impl]+="$(guard_mem)"$'\n' ;;
		esac
	done
done
echo "size: resident memory (kB), median of $ROUNDS; Pss(all): every process of that binary in the namespace"
printf '  %-52s %7s %7s %7s %7s %9s\n' process VmRSS anon file Pss "Pss(all)"
label() {
	case $1 in
	initshim) echo "initshim PID 1 (rescue mode, guard = no) + sleep" ;;
	tini-static) echo "tini-static PID 1 + sleep" ;;
	catatonit) echo "catatonit PID 1 + sleep" ;;
	guard) echo "initshim's guard beside PID 1 (fake systemd), ${SETTLE}s" ;;
	esac
}
for impl in "${impls[@]}"; do
	col() { printf '%s' "${R[$impl]}" | awk -v c="$1" 'NF {print $c}' | median; }
	printf '  %-52s %7s %7s %7s %7s %9s\n' "$(label "$impl")" "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)"
done
vmrss() { printf '%s' "${R[$1]:-}" | awk 'NF {print $1}' | median; }
[ -n "$TINI" ] && echo "  ratio initshim PID 1 VmRSS / tini-static PID 1 VmRSS: $(ratio "$(vmrss initshim)" "$(vmrss tini-static)") (goal <= 0.6)"
[ -n "${R[guard]:-}" ] && echo "  guard VmRSS, every round (kB): [$(printf '%s' "${R[guard]}" | awk 'NF {printf "%s ", $1}')] (goal <= 400 each)"
