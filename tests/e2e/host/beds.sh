# The beds (QEMU with an initramfs root, systemd-nspawn over the cached tree;
# the disk-root bed is in disk.sh, the arm64 one in arm64.sh) and the judging
# of a scenario run. Sourced after common.sh and image.sh.
# shellcheck shell=bash

E2E_DEFAULT_TIMEOUT=180
# Time a guest gets to power off after its verdict.
E2E_SHUTDOWN_GRACE=${E2E_SHUTDOWN_GRACE:-60}
# The guest's architecture: x86_64, or arm64 while run_arm64 runs a scenario
# (it also points E2E_CACHE and E2E_BIN at the arm64 image and binaries).
E2E_GUEST_ARCH=x86_64
# -cpu max with QEMU's own pointer-authentication algorithm: the
# architected one (QARMA) costs TCG much time on every function return.
E2E_ARM64_CPU=${E2E_ARM64_CPU:-max,pauth-impdef=on}

# --- scenario metadata ------------------------------------------------------

# All values of "# e2e-KEY: VALUE" header lines of a script, one per line.
scenario_meta() {
	sed -n "s/^# e2e-$2:[[:space:]]*//p" "$1"
}

scenario_meta1() {
	scenario_meta "$1" "$2" | tail -n 1
}

# --- the per-scenario overlay ---------------------------------------------

# e2e_base_config [SCRIPT]: the lines every scenario's /etc/initshim.conf
# starts with. A scenario on a suite's image (e2e-image) has that suite's
# systemd only.
e2e_base_config() {
	local dir
	if [ -n "${1:-}" ] && dir=$(scenario_image_dir "$1") && [ "$dir" != "$E2E_CACHE" ]; then
		echo "version $(cat "$dir/systemd.major") = /usr/lib/systemd/systemd"
		echo "default = $(cat "$dir/systemd.major")"
		echo "rescue-command = /usr/lib/initshim-e2e/e2e-run --rescue"
		return 0
	fi
	echo "version 252 = /lib/systemd/systemd"
	# The arm64 image has systemd 252 only.
	if [ "$E2E_GUEST_ARCH" = x86_64 ]; then
		echo "version 247 = /usr/lib/systemd-247/systemd"
		echo "version 254 = /usr/lib/systemd-254/systemd"
	fi
	echo "default = 252"
	echo "rescue-command = /usr/lib/initshim-e2e/e2e-run --rescue"
}

# overlay_stage DIR NAME SCRIPT: the files a scenario adds to the cached
# tree. Paths avoid /sbin and /lib (symlinks into /usr in the base tree: a
# directory of the same name in an overlay would hide them).
overlay_stage() {
	local dir=$1 name=$2 script=$3 h=usr/lib/initshim-e2e
	mkdir -p "$dir/usr/sbin" "$dir/$h/lib" "$dir/$h/scenarios" \
		"$dir/etc/systemd/system/multi-user.target.wants"
	chmod -R 0755 "$dir"
	install -m 0755 "$E2E_BIN/initshim" "$E2E_BIN/initshimctl" "$dir/usr/sbin/"
	install -m 0755 "$E2E_DIR/guest/e2e-run" "$dir/$h/e2e-run"
	[ -x "$E2E_BIN/fake-systemd" ] && install -m 0755 "$E2E_BIN/fake-systemd" "$dir/$h/fake-systemd"
	# The injection integration test (tests/integration/test_inject.c): the
	# arm64 bed runs it in the guest.
	[ -x "$E2E_BIN/test_inject" ] && install -m 0755 "$E2E_BIN/test_inject" "$dir/$h/test_inject"
	install -m 0644 "$E2E_DIR"/lib/*.sh "$dir/$h/lib/"
	install -m 0644 "$script" "$dir/$h/scenarios/$name.sh"
	# Which image the guest runs (e2e_image_major in lib/e2e.sh).
	local image
	image=$(scenario_image_dir "$script")
	{
		echo "E2E_IMAGE_SUITE=$(scenario_meta1 "$script" image | grep . || echo bookworm)"
		echo "E2E_IMAGE_MAJOR=$(cat "$image/systemd.major" 2>/dev/null || echo 252)"
		# The majors of its version bundles (e2e-bundle, host/bundles.sh).
		echo "E2E_BUNDLES='$(bundle_majors "$script")'"
	} >"$dir/$h/image.env"
	install -m 0644 "$E2E_DIR/guest/initshim-e2e.service" "$dir/etc/systemd/system/"
	ln -s ../initshim-e2e.service "$dir/etc/systemd/system/multi-user.target.wants/initshim-e2e.service"
	{
		echo "# /etc/initshim.conf of e2e scenario $name (written by tests/e2e/host/beds.sh)"
		e2e_base_config "$script"
		bundle_config "$script"
		scenario_meta "$script" config
	} >"$dir/etc/initshim.conf"
	chmod 0644 "$dir/etc/initshim.conf"
	overlay_systemd_conf "$dir" "$name" "$script"
	overlay_modules "$dir" "$script"
	overlay_bundles "$dir" "$script"
	# e2e-hide: PATH (under /usr) replaces a file of the base tree with a
	# non-executable one, e.g. to take every systemd away.
	local hide
	while IFS= read -r hide; do
		[ -n "$hide" ] || continue
		mkdir -p "$dir/$(dirname "${hide#/}")"
		echo "hidden by e2e scenario $name" >"$dir/${hide#/}"
		chmod 0644 "$dir/${hide#/}"
	done < <(scenario_meta "$script" hide)
}

# e2e-systemd-conf: LINE adds LINE to the [Manager] section of a system.conf
# drop-in, in place before systemd starts (e.g. RuntimeWatchdogSec=15s).
overlay_systemd_conf() {
	local dir=$1 name=$2 script=$3 lines
	lines=$(scenario_meta "$script" systemd-conf)
	[ -n "$lines" ] || return 0
	mkdir -p "$dir/etc/systemd/system.conf.d"
	printf '# e2e scenario %s\n[Manager]\n%s\n' "$name" "$lines" >"$dir/etc/systemd/system.conf.d/e2e-scenario.conf"
	chmod 0644 "$dir/etc/systemd/system.conf.d/e2e-scenario.conf"
}

# e2e-modules: NAME... are kernel modules beyond the image's (in load order,
# dependencies first), taken from the image's kernel package and put in the
# overlay under /usr/lib/initshim-e2e/modules; the scenario loads them
# (e2e_load_modules). Not part of the image: adding one rebuilds nothing.
overlay_modules() {
	local dir=$1 script=$2 names m kver cache f
	names=$(scenario_meta "$script" modules | tr '\n' ' ')
	[ -n "${names// /}" ] || return 0
	kver=$(basename "$(ls -d "$E2E_CACHE"/rootfs/lib/modules/*/ | head -n 1)")
	cache=$E2E_CACHE/extra-modules/$kver
	modules_fetch "$kver" "$cache" $names
	mkdir -p "$dir/usr/lib/initshim-e2e/modules"
	for m in $names; do
		f=$(ls "$cache/$m".ko* | head -n 1)
		install -m 0644 "$f" "$dir/usr/lib/initshim-e2e/modules/"
		basename "$f" >>"$dir/usr/lib/initshim-e2e/modules/load-order"
	done
}

# modules_fetch KVER CACHE NAME...: each NAME.ko* of the kernel package into
# CACHE (kept across runs), the package downloaded once.
modules_fetch() {
	local kver=$1 cache=$2 m missing= deb
	shift 2
	for m in "$@"; do ls "$cache/$m".ko* >/dev/null 2>&1 || missing=1; done
	[ -n "$missing" ] || return 0
	mkdir -p "$cache"
	(
		flock 7
		deb=$(find "$cache" -maxdepth 1 -name 'linux-image-*.deb' | head -n 1)
		if [ -z "$deb" ]; then
			(cd "$cache" && apt-get -q -o APT::Sandbox::User=root download "linux-image-$kver" >/dev/null) ||
				e2e_die "cannot download linux-image-$kver for its modules"
			deb=$(find "$cache" -maxdepth 1 -name 'linux-image-*.deb' | head -n 1)
		fi
		for m in "$@"; do
			ls "$cache/$m".ko* >/dev/null 2>&1 && continue
			f=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | grep -E "/$m\.ko(\.[a-z]+)?\$" | head -n 1)
			[ -n "$f" ] || e2e_die "no module $m in linux-image-$kver"
			dpkg-deb --fsys-tarfile "$deb" | tar -xO "$f" >"$cache/$(basename "$f")"
		done
	) 7>"$cache/.lock"
}

# --- host-side actions ------------------------------------------------------

# Actions "REGEX => COMMAND" fire in order, each once, when REGEX (ERE) first
# appears in the console log. COMMAND goes to the QEMU monitor, or for the
# nspawn bed "signal SIG" signals the container's PID 1.
# Uses: $work/actions (one per line), $work/actions.done (count fired).
actions_poll() {
	local work=$1 log=$2 bed=$3 target=$4 fired n=0 line regex cmd
	[ -s "$work/actions" ] || return 0
	fired=$(cat "$work/actions.done" 2>/dev/null || echo 0)
	while IFS= read -r line; do
		n=$((n + 1))
		[ "$n" -le "$fired" ] && continue
		regex=${line%% => *}
		cmd=${line#* => }
		grep -q -E -- "$regex" "$log" || return 0
		e2e_say "$E2E_CURRENT: host action: $cmd (after /$regex/)"
		if [ "$bed" = qemu ]; then
			printf '%s\n' "$cmd" >"$work/mon.in"
		else
			case $cmd in
			"signal "*) kill -s "${cmd#signal }" "$(pgrep -P "$target" | head -n 1)" || true ;;
			*) e2e_say "$E2E_CURRENT: unknown nspawn action '$cmd'" ;;
			esac
		fi
		echo "$n" >"$work/actions.done"
	done <"$work/actions"
}

# --- watching a running guest -----------------------------------------------

# watch_guest PID LOG TIMEOUT WORK BED: returns when PID exits, or kills it at
# the timeout, when it does not power off after its verdict, or as soon as a
# line of the scenario's e2e-reject-log (WORK/reject) appears. Sets
# WATCH_RC (exit status) and WATCH_WHY (empty, or why it was killed).
watch_guest() {
	local pid=$1 log=$2 timeout=$3 work=$4 bed=$5 start verdict_at='' line
	start=$(date +%s)
	WATCH_WHY=
	while kill -0 "$pid" 2>/dev/null; do
		actions_poll "$work" "$log" "$bed" "$pid"
		if [ -z "$verdict_at" ] && grep -q -a -E "E2E-(PASS|FAIL) $E2E_CURRENT\\b" "$log"; then
			verdict_at=$(date +%s)
		fi
		# A rejected line fails the scenario whatever follows: stop now
		# (it may be a guest that would otherwise sit until the timeout).
		if [ -s "$work/reject" ] && line=$(grep -a -m1 -E -f "$work/reject" "$log"); then
			WATCH_WHY="console log has a rejected line: $(echo "$line" | tr -cd '\40-\176')"
		elif [ $(($(date +%s) - start)) -ge "$timeout" ]; then
			WATCH_WHY="timeout after ${timeout}s"
		elif [ -n "$verdict_at" ] && [ $(($(date +%s) - verdict_at)) -ge "$E2E_SHUTDOWN_GRACE" ]; then
			WATCH_WHY="guest did not power off within ${E2E_SHUTDOWN_GRACE}s of its verdict"
		fi
		if [ -n "$WATCH_WHY" ]; then
			stop_guest "$pid" "$bed"
			break
		fi
		sleep 0.5
	done
	WATCH_RC=0
	wait "$pid" || WATCH_RC=$?
}

stop_guest() {
	local pid=$1 bed=$2
	# nspawn: the first SIGTERM asks the container to halt, a second one
	# ends it at once.
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
	[ "$bed" = nspawn ] && kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
	kill -KILL "$pid" 2>/dev/null || true
}

# --- judging ----------------------------------------------------------------

# Printable last lines of a console log (escape sequences removed).
last_words() {
	sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\r//g' "$1" | tr -cd '\11\12\40-\176' |
		grep -v '^[[:space:]]*$' | tail -n "${2:-1}"
}

# judge SCRIPT LOG: prints nothing for a pass, the reason of a failure.
judge() {
	local script=$1 log=$2 result re line
	result=$(scenario_meta1 "$script" result)
	if line=$(grep -a -m1 -E 'Kernel panic|BUG: |Oops: ' "$log"); then
		echo "kernel: $(echo "$line" | tr -cd '\40-\176' | sed 's/^\[ *[0-9.]*\] //')"
		return
	fi
	if line=$(grep -a -m1 -E "E2E-FAIL $E2E_CURRENT\\b" "$log"); then
		echo "${line#*E2E-FAIL "$E2E_CURRENT": }" | tr -cd '\40-\176'
		return
	fi
	if [ -n "$WATCH_WHY" ]; then
		echo "$WATCH_WHY; last words: $(last_words "$log")"
		return
	fi
	if [ "${result:-guest}" = guest ] && ! grep -q -a -E "E2E-PASS $E2E_CURRENT\\b" "$log"; then
		echo "no verdict from the guest (exit status $WATCH_RC); last words: $(last_words "$log")"
		return
	fi
	while IFS= read -r re; do
		[ -n "$re" ] || continue
		grep -q -a -E -- "$re" "$log" || { echo "console log lacks /$re/"; return; }
	done < <(scenario_meta "$script" expect-log)
	while IFS= read -r re; do
		[ -n "$re" ] || continue
		if line=$(grep -a -m1 -E -- "$re" "$log"); then
			echo "console log has /$re/: $(echo "$line" | tr -cd '\40-\176')"
			return
		fi
	done < <(scenario_meta "$script" reject-log)
	if [ "$WATCH_RC" -ne 0 ]; then
		local own
		own=$(dirname "$log")/qemu.out
		[ -s "$own" ] || own=$log
		echo "$E2E_BED_PROGRAM exited with status $WATCH_RC; last words: $(last_words "$own")"
	fi
}

# --- QEMU -------------------------------------------------------------------

# qemu_cmdline SCRIPT NAME: the kernel command line of a scenario.
qemu_cmdline() {
	local script=$1 name=$2 extra
	extra=$(scenario_meta "$script" cmdline | tr '\n' ' ' | sed 's/ *$//')
	# printk.devkmsg=on: the guest's kmsg lines (initshim's log, verdicts)
	# must not be rate-limited away.
	printf 'console=%s panic=-1 printk.devkmsg=on e2e.scenario=%s' "$(qemu_console)" "$name"
	case " $extra" in *" rdinit="*) ;; *) printf ' rdinit=/sbin/initshim' ;; esac
	[ -n "$extra" ] && printf ' %s' "$extra"
	echo
}

# The guest's serial console: the PC's 8250, or the virt machine's PL011.
qemu_console() {
	if [ "$E2E_GUEST_ARCH" = arm64 ]; then echo ttyAMA0; else echo ttyS0; fi
}

# The QEMU program and its machine, accelerator and kernel options.
qemu_machine() {
	if [ "$E2E_GUEST_ARCH" = arm64 ]; then
		echo "qemu-system-aarch64 -M virt -cpu $E2E_ARM64_CPU -accel tcg -kernel $E2E_CACHE/Image"
	else
		echo "qemu-system-x86_64 -accel $E2E_ACCEL_USED -kernel $(qemu_kernel)"
	fi
}

# The kernel QEMU starts: the PVH-bootable ELF when there is one.
qemu_kernel() {
	if [ -s "$E2E_CACHE/vmlinux" ] && [ "${E2E_KERNEL:-vmlinux}" = vmlinux ]; then
		echo "$E2E_CACHE/vmlinux"
	else
		echo "$E2E_CACHE/vmlinuz"
	fi
}

# qemu_boot WORK CMDLINE INITRD [QEMU ARGS...]: one boot in the background,
# the console appended to WORK/console.log, the monitor on the pipes
# WORK/mon.{in,out}; sets QEMU_PID and QEMU_MON_CAT. Both beds (the
# initramfs root here, the disk root in disk.sh) boot through it.
qemu_boot() {
	local work=$1 cmdline=$2 initrd=$3 machine
	shift 3
	read -r -a machine <<<"$(qemu_machine)"
	rm -f "$work/mon.in" "$work/mon.out"
	mkfifo "$work/mon.in" "$work/mon.out"
	# For a person (E2E_KEEP=1): the same guest with the console and monitor on
	# the terminal, and without e2e.scenario= so that root gets a shell.
	{
		echo "# boot this scenario's guest by hand (a disk keeps the state the scenario left);"
		echo "# Ctrl-a x quits, Ctrl-a c toggles the monitor"
		echo "${machine[*]} -m ${E2E_MEM:-1536} -smp 2 -nodefaults -no-reboot" \
			"-display none -serial mon:stdio -initrd $initrd $*" \
			"-append '${cmdline/ e2e.scenario=$E2E_CURRENT/}'"
	} >"$work/qemu.cmd"
	"${machine[@]}" -m "${E2E_MEM:-1536}" -smp 2 \
		-nodefaults -no-reboot -display none -no-user-config \
		-initrd "$initrd" -append "$cmdline" "$@" \
		-chardev "file,id=s0,path=$work/console.log,append=on" -serial chardev:s0 \
		-chardev "pipe,id=mon,path=$work/mon" -mon chardev=mon,mode=readline \
		</dev/null >>"$work/qemu.out" 2>&1 9>&- 8>&- 7>&- &
	QEMU_PID=$!
	# Drain the monitor's replies so QEMU never blocks on a full pipe.
	cat "$work/mon.out" >>"$work/monitor.log" &
	QEMU_MON_CAT=$!
}

# qemu_start WORK CMDLINE IMAGE_DIR [QEMU ARGS...]: boots IMAGE_DIR/base.cpio
# (the main image's, or a newer suite's) + WORK/overlay.cpio.
qemu_start() {
	local work=$1 cmdline=$2 image=${3:-$E2E_CACHE}
	shift 3
	cat "$image/base.cpio" "$work/overlay.cpio" >"$work/initrd"
	: >"$work/console.log"
	qemu_boot "$work" "$cmdline" "$work/initrd" "$@"
}

run_qemu() {
	local name=$1 script=$2 work=$3 timeout cmdline
	local -a qemu_args
	timeout=$(scenario_meta1 "$script" timeout)
	# e2e-qemu-args: more QEMU arguments (a device: -device i6300esb).
	read -r -a qemu_args <<<"$(scenario_meta "$script" qemu-args | tr '\n' ' ')"
	overlay_stage "$work/overlay" "$name" "$script"
	(cd "$work/overlay" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$work/overlay.cpio"
	scenario_meta "$script" host-action >"$work/actions"
	cmdline=$(qemu_cmdline "$script" "$name")
	qemu_start "$work" "$cmdline" "$(scenario_image_dir "$script")" "${qemu_args[@]}"
	E2E_BED_PROGRAM=qemu
	watch_guest "$QEMU_PID" "$work/console.log" "${timeout:-$E2E_DEFAULT_TIMEOUT}" "$work" qemu
	kill "$QEMU_MON_CAT" 2>/dev/null || true
	wait "$QEMU_MON_CAT" 2>/dev/null || true
}

# --- systemd-nspawn ---------------------------------------------------------

# On a host whose /sys/fs/cgroup is not cgroup2 (legacy or hybrid: this
# machine's, and CI's, hierarchy is hybrid) nspawn is started in a cgroup of
# its own, named $E2E_NSPAWN_CGROUP in the name=systemd hierarchy and, when
# mounted, the unified one; it makes its "payload" and "supervisor" below
# that, and the container's systemd manages the payload subtree, not the
# host's root. It matters most with e2e-nspawn-cgroup: unified on such a host:
# nspawn 252 then moves the payload into the unified hierarchy at its
# name=systemd path after removing every empty cgroup below that path
# (sync_cgroup() in src/nspawn/nspawn-cgroup.c), which from the root would
# be every empty cgroup of other tests on the machine. Sets NSPAWN_CGROUP_DIRS.
nspawn_cgroup_make() {
	local name=$1 d
	NSPAWN_CGROUP_DIRS=()
	[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] || return 0
	for d in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
		[ -e "$d/cgroup.procs" ] || continue
		mkdir -p "$d/initshim-e2e-$name-$$" || e2e_die "cannot make the container's cgroup under $d"
		NSPAWN_CGROUP_DIRS+=("$d/initshim-e2e-$name-$$")
	done
}

# nspawn_cgroup_enter: the calling (sub)shell joins those cgroups.
nspawn_cgroup_enter() {
	local d
	for d in "${NSPAWN_CGROUP_DIRS[@]}"; do
		echo "$BASHPID" >"$d/cgroup.procs" || return 1
	done
}

# nspawn_cgroup_remove: after nspawn ended, its cgroups (and what the
# container's systemd made below them), once their last process is gone.
nspawn_cgroup_remove() {
	local d left
	for d in "${NSPAWN_CGROUP_DIRS[@]}"; do
		for _ in $(seq 40); do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[ -d "$d" ] || break
			sleep 0.25
		done
		if [ -d "$d" ]; then
			left=$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')
			e2e_say "$E2E_CURRENT: cannot remove $d (processes: ${left:-none})"
		fi
	done
}

# The container's root is an overlayfs: the per-scenario files over the
# cached tree (kept pristine), writes going to WORK/upper.
run_nspawn() {
	local name=$1 script=$2 work=$3 timeout pid cgroup
	local -a args env=()
	timeout=$(scenario_meta1 "$script" timeout)
	# e2e-nspawn-cgroup: unified gives the container a cgroup2 hierarchy on
	# /sys/fs/cgroup whatever the host mounts (a systemd of 258+ runs on
	# nothing else); by default nspawn follows the host (hybrid here).
	cgroup=$(scenario_meta1 "$script" nspawn-cgroup)
	case ${cgroup:-host} in
	host) ;;
	unified) env=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1) ;;
	*)
		E2E_BED_ERROR="unknown e2e-nspawn-cgroup '$cgroup' (host or unified)"
		return 0
		;;
	esac
	overlay_stage "$work/overlay" "$name" "$script"
	mkdir -p "$work/upper" "$work/ovl-work" "$work/root"
	mount -t overlay "e2e-$name" \
		-o "lowerdir=$work/overlay:$(scenario_image_dir "$script")/rootfs,upperdir=$work/upper,workdir=$work/ovl-work" \
		"$work/root"
	read -r -a args <<<"$(scenario_meta "$script" cmdline | tr '\n' ' ')"
	scenario_meta "$script" host-action >"$work/actions"
	nspawn_cgroup_make "$name"
	# Not -b: nspawn would exec /lib/systemd/systemd itself. Given a command
	# it makes that command PID 1; the kill signal is the one systemd halts on.
	# --console=read-only gives the container a /dev/console (a pty) whose
	# output nspawn copies to its stdout; with "pipe" there is none and
	# systemd's console output is lost.
	(
		nspawn_cgroup_enter || { echo "e2e: cannot enter the container's cgroup"; exit 2; }
		exec env "${env[@]}" systemd-nspawn --quiet --register=no --keep-unit --private-network \
			--machine="e2e-$name" --directory="$work/root" --console=read-only \
			--kill-signal=SIGRTMIN+3 \
			/sbin/initshim "e2e.scenario=$name" "${args[@]}"
	) </dev/null >"$work/console.log" 2>&1 9>&- &
	pid=$!
	E2E_BED_PROGRAM=systemd-nspawn
	watch_guest "$pid" "$work/console.log" "${timeout:-$E2E_DEFAULT_TIMEOUT}" "$work" nspawn
	umount "$work/root" || umount -l "$work/root"
	nspawn_cgroup_remove
}

# --- one scenario -----------------------------------------------------------

# run_scenario SCRIPT: runs it in its bed and prints its result line.
# Returns 0 on PASS.
run_scenario() {
	local script=$1 name bed work t0 reason dur
	name=$(basename "$script" .sh)
	E2E_CURRENT=$name
	bed=$(scenario_meta1 "$script" bed)
	work=$E2E_WORK/$name
	rm -rf "$work"
	mkdir -p "$work"
	t0=$(e2e_now)
	E2E_BED_ERROR= # set by a bed that could not even start the guest
	scenario_meta "$script" reject-log | grep . >"$work/reject" || true
	case ${bed:-qemu} in
	qemu) run_qemu "$name" "$script" "$work" ;;
	nspawn) run_nspawn "$name" "$script" "$work" ;;
	disk) run_disk "$name" "$script" "$work" ;;
	arm64) run_arm64 "$name" "$script" "$work" ;;
	*)
		echo "FAIL $name: unknown bed '$bed'"
		return 1
		;;
	esac
	if [ -n "$E2E_BED_ERROR" ]; then
		reason=$E2E_BED_ERROR
		touch "$work/console.log"
	else
		reason=$(judge "$script" "$work/console.log")
	fi
	dur=$(e2e_elapsed "$t0")
	if [ -z "$reason" ]; then
		echo "PASS $name (${dur}s)"
		[ "${E2E_KEEP:-0}" = 1 ] || rm -f "$work/initrd" "$work/disk.img"
		return 0
	fi
	mkdir -p "$E2E_RESULTS"
	{
		cat "$work/console.log"
		if [ -s "$work/qemu.out" ]; then
			echo "--- qemu's own output ---"
			cat "$work/qemu.out"
		fi
	} >"$E2E_RESULTS/$name.log"
	echo "FAIL $name: $reason (${dur}s)"
	return 1
}

# --- arm64 (the image: image-arm64.sh) --------------------------------------

# arm64_wanted NAME...: true if one of the scenarios runs on this bed.
arm64_wanted() {
	local n
	for n in "$@"; do
		[ "$(scenario_meta1 "$E2E_DIR/scenarios/$n.sh" bed)" = arm64 ] && return 0
	done
	return 1
}

# run_arm64 NAME SCRIPT WORK: the QEMU bed's run with the arm64 guest, image
# and binaries.
run_arm64() {
	local E2E_GUEST_ARCH=arm64 E2E_CACHE=$E2E_ARM64_CACHE E2E_BIN=$E2E_BIN_ARM64
	run_qemu "$@"
}
