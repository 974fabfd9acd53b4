# Host-side helpers of the end-to-end bed: paths, dependencies, the Debian
# mirror, KVM detection. Sourced by run.sh, demo.sh and host/*.sh (bash).
# shellcheck shell=bash

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
E2E_REPO=$(cd "$E2E_DIR/../.." && pwd)
# The guest image lives outside the repository: it is big, root-owned and
# shared by every checkout on the machine.
E2E_CACHE=${E2E_CACHE:-/var/cache/initshim-e2e}
E2E_RESULTS=${E2E_RESULTS:-$E2E_REPO/results/e2e}

e2e_say() { printf 'e2e: %s\n' "$*" >&2; }
e2e_die() { printf 'e2e: error: %s\n' "$*" >&2; exit 2; }

e2e_need_root() {
	[ "$(id -u)" -eq 0 ] || e2e_die "must run as root (qemu, debootstrap, nspawn, overlay mounts)"
}

# Host tools and the Debian packages that provide them.
e2e_install_deps() {
	local -A pkg_of=(
		[qemu-system-x86_64]=qemu-system-x86 [debootstrap]=debootstrap
		[cpio]=cpio [systemd-nspawn]=systemd-container
		[flock]=util-linux [sha256sum]=coreutils [xz]=xz-utils
		[mkfs.ext4]=e2fsprogs
	)
	local tool missing=()
	for tool in "${!pkg_of[@]}"; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg_of[$tool]}")
	done
	# apt verifies the extra suites (bullseye, bookworm-backports) with it.
	[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
	[ ${#missing[@]} -eq 0 ] && return 0
	e2e_say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
		e2e_die "apt-get install ${missing[*]} failed"
}

# The Debian mirror apt is configured with (deb822 .sources or sources.list
# one-line format), taken from the entry that serves bookworm. Derived at run
# time so no host name is written into the repository.
e2e_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk '
			BEGIN { RS = ""; FS = "\n" }
			{
				types = ""; uris = ""; suites = ""; enabled = "yes"
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^Types:/) types = $i
					if ($i ~ /^URIs:/) uris = $i
					if ($i ~ /^Suites:/) suites = $i
					if ($i ~ /^Enabled:/) enabled = $i
				}
				if (types ~ /[ \t]deb([ \t]|$)/ && suites ~ /[ \t]bookworm([ \t]|$)/ && enabled !~ /no/) {
					split(uris, u, /[ \t]+/); print u[2]; exit
				}
			}' "$f")
		[ -n "$uri" ] && { printf '%s\n' "${uri%/}"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk '$1 == "deb" {
				i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) == "bookworm") { print $i; exit }
			}' "$f")
		[ -n "$uri" ] && { printf '%s\n' "${uri%/}"; return 0; }
	done
	e2e_die "no apt source for bookworm found in /etc/apt/sources.list{,.d/}"
}

# KVM only if /dev/kvm opens AND a guest kernel really runs under it: on some
# nested hosts KVM_CREATE_VM succeeds but the vCPU never makes progress.
# The answer is kept in /run (forgotten at reboot) because the probe costs
# ~15 s when KVM hangs.
e2e_accel() {
	local kernel=$1 memo=/run/initshim-e2e-accel probe log pid
	if [ -n "${E2E_ACCEL:-}" ]; then
		printf '%s\n' "$E2E_ACCEL"
		return 0
	fi
	if [ -s "$memo" ]; then
		cat "$memo"
		return 0
	fi
	probe=tcg
	if { exec 3<>/dev/kvm; } 2>/dev/null; then
		exec 3>&-
		log=$(mktemp)
		qemu-system-x86_64 -accel kvm -m 256 -nodefaults -no-reboot -display none \
			-kernel "$kernel" -append "console=ttyS0 panic=-1 rdinit=/nonexistent" \
			-chardev "file,id=s0,path=$log" -serial chardev:s0 >/dev/null 2>&1 &
		pid=$!
		# Under KVM the kernel reaches the missing init in about a second.
		for _ in $(seq 60); do
			grep -q -E 'Kernel panic|Run /' "$log" && { probe=kvm; break; }
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		rm -f "$log"
	fi
	printf '%s\n' "$probe" >"$memo"
	printf '%s\n' "$probe"
}

# e2e_kill_tree PID: TERM every descendant of PID (deepest first), this
# subshell excepted.
e2e_kill_tree() {
	local child
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		e2e_kill_tree "$child"
		[ "$child" = "$BASHPID" ] || kill -TERM "$child" 2>/dev/null || true
	done
}

# e2e_work_cleanup KEEP: the EXIT trap of a run using $E2E_WORK. Guests of an
# interrupted run first (every descendant), then the work directory, unless
# KEEP is 1.
e2e_work_cleanup() {
	local rc=$? d
	e2e_kill_tree $$
	# An interrupted nspawn scenario's cgroups (host/beds.sh), best effort:
	# what still holds a process stays.
	for d in /sys/fs/cgroup/systemd/initshim-e2e-*-"$$" /sys/fs/cgroup/unified/initshim-e2e-*-"$$"; do
		[ ! -d "$d" ] || find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	if [ "${1:-0}" = 1 ]; then
		e2e_say "work directory kept: $E2E_WORK"
	else
		findmnt -rn -o TARGET | grep "^$E2E_WORK/" | xargs -r umount -l 2>/dev/null || true
		rm -rf "$E2E_WORK"
	fi
	return $rc
}

# Monotonic-enough wall clock in tenths of seconds, for durations.
e2e_now() { date +%s.%N; }
e2e_elapsed() { awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { printf "%.1f", b - a }'; }
