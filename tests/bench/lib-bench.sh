# Helpers shared by the benchmarks (bash, sourced): the machine line and
# small statistics. Not a benchmark itself (run.sh skips lib-*.sh).
# shellcheck shell=bash

# One line that says where the figures come from. Other QEMU guests running
# at the same time (other people's) are counted: they are the main noise.
bench_machine() {
	local others
	others=$(bench_qemu_count)
	printf 'machine: %s cores (%s), %s GiB, kernel %s, %s, load %s, qemu guests running: %s, %s\n' \
		"$(nproc)" "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
		"$(free -g | awk '/^Mem/ {print $2}')" "$(uname -r)" \
		"$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-?}")" \
		"$(cut -d' ' -f1-3 /proc/loadavg)" "$others" "$(date -u '+%F %H:%M UTC')"
}

# QEMU guests running on the machine now (comm is cut to 15 characters).
bench_qemu_count() { pgrep -c -x qemu-system-x86 2>/dev/null || true; }

# median: of the numbers on stdin (one per line); empty input prints "-".
median() {
	grep -E '^-?[0-9.]+$' | sort -g | awk '{a[NR] = $1} END {
		if (!NR) { print "-"; exit }
		if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# stats: "median M, p90 P, min A, max B (n=N)" of the numbers on stdin.
stats() {
	grep -E '^-?[0-9.]+$' | sort -g | awk '{a[NR] = $1} END {
		if (!NR) { print "no samples"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		p = int(NR * 0.9 + 0.5); if (p < 1) p = 1
		printf "median %g, p90 %g, min %g, max %g (n=%d)", m, a[p], a[1], a[NR], NR }'
}

# ratio A B: A/B with two decimals, "-" when either is missing or B is 0.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%.2f", a / b }'
}
