#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A real Debian 12 guest (systemd 252 as PID 1) booted with systemd-nspawn, for kernel
# tests that need real systemd behaviour: this machine's own PID 1 is not systemd.
#
# Source it (set -u safe) and call guest_build, guest_boot NAME, guest_run NAME CMD...,
# guest_stop NAME; or run it: guest.sh build | boot NAME | run NAME CMD... | stop NAME
# | selftest. See README.md beside it.

GUEST_CACHE=${RCATRACE_GUEST_CACHE:-/var/cache/rcatrace-tests}
# Where a booted guest's work dir is found by name, so that a later process (another
# `guest.sh run`, an EXIT trap) can find what an earlier one started.
GUEST_STATE=${RCATRACE_GUEST_STATE:-/run/rcatrace-guest}
GUEST_WORKDIR=${RCATRACE_GUEST_WORKDIR:-/var/tmp}
GUEST_SUITE=bookworm
# libbpf1 libelf1 zlib1g libmicrohttpd12 libsqlite3-0: what the rcatrace package needs at run time
# (test_deb_guest.sh installs it; the guest has no network).
GUEST_PACKAGES=systemd,systemd-sysv,dbus,procps,libbpf1,libelf1,zlib1g,libmicrohttpd12,libsqlite3-0
# Part of the cache stamp: bump it when the build steps change, so old caches rebuild.
GUEST_FORMAT=4
GUEST_BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-60}
GUEST_STOP_TIMEOUT=${GUEST_STOP_TIMEOUT:-30}
# Extra systemd-nspawn options, parsed with shell quoting, e.g.
#   GUEST_NSPAWN_ARGS='--system-call-filter="add_key keyctl request_key bpf" --capability=all'
GUEST_NSPAWN_ARGS=${GUEST_NSPAWN_ARGS:-}
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Filled by guest_boot for the guest it booted last.
GUEST_PID=
GUEST_NSPAWN_PID=
GUEST_WORK=
GUEST_ROOT=

guest__log() { echo "guest: $*" >&2; }

guest__now() { date +%s.%N; }

guest__elapsed() { awk -v a="$1" -v b="$(guest__now)" 'BEGIN { printf "%.1f", b - a }'; }

# Machine names become cgroup, directory and host names: keep them plain.
guest__check_name() {
	case $1 in
	'' | *[!A-Za-z0-9_-]* | -*)
		guest__log "bad guest name '$1' (letters, digits, - and _ only)"
		return 1
		;;
	esac
}

# The cgroup2 mount (the v2 half of a hybrid layout, or the only one).
guest__cg2() { awk '$9 == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo; }

# The v1 name=systemd hierarchy, on hybrid and legacy hosts only.
guest__cg1() {
	awk '$9 == "cgroup" && $4 == "/" && $NF ~ /(^|,)name=systemd(,|$)/ { print $5; exit }' \
		/proc/self/mountinfo
}

# Every scope directory a guest NAME may own, one per hierarchy.
guest__scopes() {
	local cg
	for cg in "$(guest__cg2)" "$(guest__cg1)"; do
		[ -n "$cg" ] && echo "$cg/machine.slice/machine-$1.scope"
	done
}

# One lock for machine.slice, so one guest's stop cannot remove it while another boots.
guest__locked() {
	mkdir -p "$GUEST_STATE"
	(flock 9 && "$@") 9>"$GUEST_STATE/.lock"
}

# The Debian mirror this host's apt already uses, read from apt's own configuration.
guest_mirror() {
	local uri
	uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk -v s="$GUEST_SUITE" '$2 == s { print $1; exit }')
	if [ -z "$uri" ]; then
		# No downloaded lists yet: read the sources files themselves.
		uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$GUEST_SUITE" '
			/^$/ { if (ok && u != "") { print u; exit } ok = 0; u = "" }
			/^URIs:/ { u = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
			END { if (ok && u != "") print u }' | head -n 1)
	fi
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk -v s="$GUEST_SUITE" '$1 == "deb" {
				i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /\]$/ && $i ~ /^\[|=/) i++
				if ($(i + 1) == s) { print $i; exit } }')
	fi
	[ -n "$uri" ] || { guest__log "no apt source for $GUEST_SUITE on this host"; return 1; }
	echo "${uri%/}"
}

guest__need_host_tools() {
	local t missing=
	for t in debootstrap systemd-nspawn nsenter flock findmnt; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] && return 0
	guest__log "missing host tools:$missing (apt-get install debootstrap systemd-container util-linux)"
	return 1
}

guest__stamp() { echo "format=$GUEST_FORMAT suite=$GUEST_SUITE packages=$GUEST_PACKAGES"; }

# guest_build: the cached rootfs, $GUEST_CACHE/$GUEST_SUITE, made once and reused.
# It is built under a temporary name and renamed when whole, with its stamp inside,
# so a crash leaves no half cache, and a changed package list rebuilds it.
guest_build() {
	local root=$GUEST_CACHE/$GUEST_SUITE
	[ "$(cat "$root/.rcatrace-guest-stamp" 2>/dev/null)" = "$(guest__stamp)" ] && return 0
	guest__need_host_tools || return 1
	mkdir -p "$GUEST_CACHE" || return 1
	# Serialised: tests started together must not all debootstrap.
	(flock 9 && guest__build_locked) 9>"$GUEST_CACHE/.lock"
}

guest__build_locked() {
	local root=$GUEST_CACHE/$GUEST_SUITE tmp mirror t0
	[ "$(cat "$root/.rcatrace-guest-stamp" 2>/dev/null)" = "$(guest__stamp)" ] && return 0
	mirror=$(guest_mirror) || return 1
	t0=$(guest__now)
	rm -rf "$GUEST_CACHE/.build."* # an interrupted build's leftovers
	tmp=$(mktemp -d "$GUEST_CACHE/.build.XXXXXX") || return 1
	guest__log "building $GUEST_SUITE rootfs from $mirror into $root (a few minutes, once)"
	if ! debootstrap --variant=minbase --include="$GUEST_PACKAGES" "$GUEST_SUITE" "$tmp/root" \
		"$mirror" >"$tmp/debootstrap.log" 2>&1; then
		tail -n 30 "$tmp/debootstrap.log" >&2
		guest__log "debootstrap failed; full log in $tmp/debootstrap.log"
		return 1
	fi
	# A machine-id baked into the cache would be shared by every guest; an empty one
	# makes systemd use a fresh transient id per boot.
	: >"$tmp/root/etc/machine-id"
	rm -f "$tmp/root/var/lib/dbus/machine-id"
	# debootstrap copies the host's names in; each guest gets its own at boot.
	rm -f "$tmp/root/etc/hostname"
	# Never a serial node in the guest: the host's console is ttyS0.
	rm -f "$tmp/root/dev/ttyS"*
	rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*
	guest__stamp >"$tmp/root/.rcatrace-guest-stamp"
	rm -rf "$root"
	mv "$tmp/root" "$root" && rm -rf "$tmp" || return 1
	guest__log "built $root in $(guest__elapsed "$t0") s"
}

# The work dir of a booted guest, or nothing.
guest__work() { readlink "$GUEST_STATE/$1" 2>/dev/null; }

# guest_install_test_units NAME: the test configuration, written into the guest's
# rootfs before it boots. Nothing here starts at boot: guest_start_units does that.
guest_install_test_units() {
	local work root etc u
	work=$(guest__work "$1") && [ -n "$work" ] || { guest__log "no guest $1"; return 1; }
	root=$work/root etc=$work/root/etc/systemd/system
	# Debian's own serial getty, less its BindsTo=/After= on dev-%i.device: no udev in a
	# container, so that device never appears and the unit would never start.
	sed -e '/^BindsTo=dev-%i\.device$/d' -e '/^After=/s/ *dev-%i\.device//' \
		"$root/lib/systemd/system/serial-getty@.service" >"$etc/serial-getty@.service"
	sed -i '/^After=$/d' "$etc/serial-getty@.service"

	# (a) serial-getty@ttyS0: the guest has no /dev/ttyS0 node, so systemd fails
	# before exec (208/STDIN). Debian's unit has Restart=always with the default
	# RestartSec (100 ms) and the default start limit (5 starts in 10 s), which would
	# stop the loop within a second: StartLimitIntervalSec=0 keeps it looping.
	mkdir -p "$etc/serial-getty@ttyS0.service.d"
	cat >"$etc/serial-getty@ttyS0.service.d/rcatrace.conf" <<-'EOF'
		[Unit]
		StartLimitIntervalSec=0
	EOF
	# (b) a getty with no usable terminal: agetty runs (no TTYPath to open) and, given
	# "-" as its tty with no terminal on fds 0-2, logs "could not get terminal name: -22".
	# Debian 12's agetty (util-linux 2.38.1) then dies of SIGSEGV (strncmp on the NULL
	# name it was left with; util-linux issue #3304): systemd sees 11/SEGV, not an exit.
	# Loops at the default RestartSec; the start limit is lifted as for (a).
	mkdir -p "$etc/serial-getty@rcanotty.service.d"
	cat >"$etc/serial-getty@rcanotty.service.d/rcatrace.conf" <<-'EOF'
		[Unit]
		StartLimitIntervalSec=0
		[Service]
		StandardInput=null
		StandardOutput=journal
		TTYReset=no
		TTYVHangup=no
	EOF
	# (c) the same failure on the real incident's 10 s cadence. At one start per 10 s the
	# default start limit (5 in 10 s) is never reached, so it is left as in the incident.
	mkdir -p "$etc/serial-getty@rcaslow.service.d"
	cat >"$etc/serial-getty@rcaslow.service.d/rcatrace.conf" <<-'EOF'
		[Service]
		StandardInput=null
		StandardOutput=journal
		TTYReset=no
		TTYVHangup=no
		RestartSec=10
	EOF

	cat >"$etc/busy-loop.service" <<-'EOF'
		[Unit]
		Description=rcatrace test: a healthy busy service
		[Service]
		ExecStart=/bin/sh -c 'while :; do date > /dev/null; sleep 0.05; done'
	EOF
	cat >"$etc/quiet.service" <<-'EOF'
		[Unit]
		Description=rcatrace test: a healthy quiet service
		[Service]
		ExecStart=/bin/sleep infinity
	EOF

	# A quiet guest: no timers firing mid-test, and no agetty on the console that a
	# test counting agetty processes would see.
	for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
		e2scrub_all.timer fstrim.timer console-getty.service; do
		ln -sf /dev/null "$etc/$u"
		rm -f "$etc/timers.target.wants/$u"
	done
}

# The pids in a cgroup and all below it.
guest__procs() { find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null; }

# Each scope in both hierarchies, made under the machine.slice lock.
guest__make_scopes() {
	local s
	for s in $(guest__scopes "$1"); do
		mkdir -p "$s" || return 1
	done
}

# Remove NAME's scopes, deepest first, and machine.slice when no other guest uses it.
# Anything still inside is killed first: cgroup.kill on v2, SIGKILL per pid on v1.
guest__remove_scopes() {
	local s p i
	for s in $(guest__scopes "$1"); do
		[ -d "$s" ] || continue
		for i in 1 2 3 4 5 6 7 8 9 10; do
			[ -w "$s/cgroup.kill" ] && echo 1 >"$s/cgroup.kill" 2>/dev/null
			guest__procs "$s" | while read -r p; do kill -KILL "$p" 2>/dev/null; done
			find "$s" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$s" ] || break
			sleep 0.2
		done
		[ -d "$s" ] && guest__log "could not remove cgroup $s"
		rmdir "${s%/*}" 2>/dev/null
	done
	return 0
}

# The guest's PID 1, as a host pid: the process in the scope whose innermost pid is 1.
guest__find_leader() {
	guest_host_pid "$1" 1
}

# guest_pid NAME: the guest's PID 1 as a host pid.
guest_pid() {
	local work p
	work=$(guest__work "$1") && [ -n "$work" ] || { guest__log "no guest $1"; return 1; }
	p=$(cat "$work/leader.pid" 2>/dev/null)
	[ -n "$p" ] && guest__alive "$p" "$1" || { guest__log "guest $1 is not running"; return 1; }
	echo "$p"
}

# True while PID is a live (not zombie) process in guest NAME's scope: that is the
# launcher, before and after it execs nspawn, and no reused pid.
guest__alive() {
	[ -n "$1" ] && grep -q "/machine-$2\.scope/" "/proc/$1/cgroup" 2>/dev/null &&
		! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# guest_boot NAME: a fresh copy of the cached rootfs, booted; returns once the guest's
# systemd says running or degraded. Sets GUEST_PID (the guest's PID 1 on the host),
# GUEST_NSPAWN_PID, GUEST_WORK and GUEST_ROOT.
guest_boot() {
	local rc
	case $- in
	*e*)
		# Its failures are handled inside (with a guest_stop), not by the caller's set -e.
		set +e
		guest__boot "$@"
		rc=$?
		set -e
		return $rc
		;;
	esac
	guest__boot "$@"
}

guest__boot() {
	local name=${1:-} work t0 npid leader state extra=() deadline
	guest__check_name "$name" || return 1
	if [ -e "$GUEST_STATE/$name" ] || [ -L "$GUEST_STATE/$name" ]; then
		guest__log "guest $name exists (guest_stop $name first)"
		return 1
	fi
	guest_build || return 1
	t0=$(guest__now)
	mkdir -p "$GUEST_STATE" &&
		work=$(mktemp -d "$GUEST_WORKDIR/rcatrace-guest.$name.XXXXXX") &&
		ln -s "$work" "$GUEST_STATE/$name" || return 1
	# An overlay on the shared cache: instant, where a copy costs ~5 s of system time
	# here. The cache must not be rebuilt while a guest runs on it.
	mkdir -p "$work/upper" "$work/ovl" "$work/root" || { guest_stop "$name"; return 1; }
	if ! mount -t overlay overlay -o "lowerdir=$GUEST_CACHE/$GUEST_SUITE,upperdir=$work/upper,workdir=$work/ovl" \
		"$work/root" 2>/dev/null; then
		rmdir "$work/root" && cp -a "$GUEST_CACHE/$GUEST_SUITE" "$work/root" || { guest_stop "$name"; return 1; }
	fi
	# nspawn's lock on the image, to remove if nspawn dies without removing it.
	stat -c 'inode-%d:%i' "$work/root" >"$work/lock.name"
	guest_install_test_units "$name" || { guest_stop "$name"; return 1; }
	echo "$name" >"$work/root/etc/hostname"
	[ -e "$work/root/dev/ttyS0" ] && { guest__log "refusing: guest rootfs has /dev/ttyS0"; guest_stop "$name"; return 1; }
	eval "extra=($GUEST_NSPAWN_ARGS)" || { guest_stop "$name"; return 1; }

	guest__locked guest__make_scopes "$name" || { guest_stop "$name"; return 1; }
	# The launcher moves itself into the scopes and becomes nspawn: without a host
	# systemd to make a unit, --keep-unit makes nspawn use the cgroup it was started in.
	(
		for s in $(guest__scopes "$name"); do
			echo "$BASHPID" >"$s/cgroup.procs" || exit 1
		done
		echo "$BASHPID" >"$work/nspawn.pid"
		# --console=read-only: the guest's console output goes to console.log with no
		# terminal needed. --private-network: guest services cannot touch host links.
		SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 exec systemd-nspawn --quiet \
			--register=no --keep-unit --link-journal=no --private-network \
			--console=read-only --kill-signal=SIGRTMIN+4 -D "$work/root" -M "$name" "${extra[@]}" --boot \
			</dev/null >"$work/console.log" 2>&1
	) &
	npid=$!
	GUEST_NSPAWN_PID=$npid GUEST_WORK=$work GUEST_ROOT=$work/root GUEST_PID=

	deadline=$(($(date +%s) + GUEST_BOOT_TIMEOUT))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if ! guest__alive "$npid" "$name" && [ -n "$(cat "$work/nspawn.pid" 2>/dev/null)" ]; then
			state="systemd-nspawn exited"
			break
		fi
		leader=$(guest__find_leader "$name") || { sleep 0.1; continue; }
		# Fails until the guest's systemd listens; --wait then blocks until boot ends.
		state=$(timeout "$((deadline - $(date +%s) + 1))" nsenter -t "$leader" -a -- \
			/bin/systemctl is-system-running --wait 2>/dev/null)
		case $state in
		running | degraded) break ;;
		esac
		sleep 0.1
	done
	case ${state:-} in
	running | degraded) ;;
	*)
		guest__log "guest $name did not boot within ${GUEST_BOOT_TIMEOUT}s (${state:-no state}); console:"
		sed 's/^/  | /' "$work/console.log" >&2
		guest_stop "$name"
		return 1
		;;
	esac
	echo "$leader" >"$work/leader.pid"
	GUEST_PID=$leader
	export GUEST_PID GUEST_NSPAWN_PID GUEST_WORK GUEST_ROOT
	guest__log "guest $name booted ($state) in $(guest__elapsed "$t0") s; PID 1 is host pid $leader"
}

# guest_run NAME CMD...: CMD inside the guest, in all its namespaces, with a clean
# environment; its output and exit status are CMD's. It runs in the caller's cgroup,
# not under the guest's systemd: for that use `guest_run NAME systemd-run --wait --pipe CMD`.
guest_run() {
	local name=${1:-} pid
	shift
	pid=$(guest_pid "$name") || return 125
	nsenter -t "$pid" -a -- /usr/bin/env -i PATH="$GUEST_PATH" LANG=C.UTF-8 "$@"
}

# guest_copy_in NAME SRC DST: SRC from the host to DST in the guest, mode kept. Written
# through the guest's own mount namespace, so DST may be on a guest-side tmpfs (/tmp).
guest_copy_in() {
	local name=${1:-} src=${2:-} dst=${3:-} mode
	[ -f "$src" ] && [ -n "$dst" ] || { guest__log "usage: guest_copy_in NAME FILE DST"; return 1; }
	mode=$(stat -c %a "$src") || return 1
	guest_run "$name" /bin/sh -c 'cat >"$1" && chmod "$2" "$1"' sh "$dst" "$mode" <"$src"
}

# guest_start_units NAME UNIT...: systemctl start inside the guest (no --wait on
# looping units: start returns when the job is queued and run).
guest_start_units() {
	local name=${1:-}
	shift
	guest_run "$name" systemctl start --no-block "$@"
}

# guest_nrestarts NAME UNIT: systemd's own restart count for UNIT.
guest_nrestarts() { guest_run "$1" systemctl show -p NRestarts --value "$2"; }

# guest_unit_starts NAME UNIT: the guest journal's start times of UNIT, one Unix time a
# line: systemd's "Started UNIT ..." message (its MESSAGE_ID, not its text), logged once
# per fork of the main process, failed exec or not.
guest_unit_starts() {
	guest_run "$1" journalctl -q --no-pager -o short-unix _PID=1 UNIT="$2" \
		MESSAGE_ID=39f53479d3a045ac8e11786248231fbf | awk '{ print $1 }'
}

# guest_unit_restarts NAME UNIT: the times of systemd's "Scheduled restart job" for UNIT.
guest_unit_restarts() {
	guest_run "$1" journalctl -q --no-pager -o short-unix _PID=1 UNIT="$2" \
		MESSAGE_ID=5eb03494b6584870a536b337290809b3 | awk '{ print $1 }'
}

# The mean gap between the Unix times on stdin, or n/a for fewer than two.
guest__mean_gap() {
	awk 'NR == 1 { first = $1 } { last = $1; n++ }
		END { if (n > 1) printf "%.3f\n", (last - first) / (n - 1); else print "n/a" }'
}

# guest_restart_period NAME UNIT: the mean time between UNIT's starts, in seconds.
guest_restart_period() { guest_unit_starts "$1" "$2" | guest__mean_gap; }

# guest_stop NAME: an orderly poweroff (SIGKILL after GUEST_STOP_TIMEOUT), then no
# process, cgroup, mount or work dir of NAME is left. Safe twice and from an EXIT trap,
# and under set -e: every step runs whatever the one before it returned.
guest_stop() {
	local rc
	case $- in
	*e*)
		set +e
		guest__stop "$@"
		rc=$?
		set -e
		return $rc
		;;
	esac
	guest__stop "$@"
}

guest__stop() {
	local name=${1:-} work npid leader i
	guest__check_name "$name" || return 1
	work=$(guest__work "$name")
	npid=$( [ -n "$work" ] && cat "$work/nspawn.pid" 2>/dev/null)
	if guest__alive "${npid:-}" "$name"; then
		# nspawn passes SIGTERM on to the guest's systemd as --kill-signal: a poweroff.
		kill -TERM "$npid" 2>/dev/null
		for ((i = 0; i < GUEST_STOP_TIMEOUT * 10; i++)); do
			guest__alive "$npid" "$name" || break
			sleep 0.1
		done
		if guest__alive "$npid" "$name"; then
			guest__log "guest $name did not power off in ${GUEST_STOP_TIMEOUT}s: killing it"
			leader=$(guest__find_leader "$name") && kill -KILL "$leader" 2>/dev/null
			sleep 1
			kill -KILL "$npid" 2>/dev/null
		fi
	fi
	# Reap it when it is our child; when it is not (`guest.sh boot` ran it), wait for
	# init to, so no zombie is left in the scope.
	if [ -n "${npid:-}" ]; then
		wait "$npid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			grep -q "/machine-$name\.scope/" "/proc/$npid/cgroup" 2>/dev/null || break
			sleep 0.1
		done
	fi
	guest__locked guest__remove_scopes "$name"
	# A guest whose nspawn died leaves its PID 1 a zombie of the host's init: give
	# init time to reap it, so nothing of the guest is left behind us.
	for ((i = 0; i < 50; i++)); do
		grep -qs "/machine-$name\.scope/" /proc/[0-9]*/cgroup || break
		sleep 0.1
	done
	if [ -n "$work" ]; then
		[ -s "$work/lock.name" ] && rm -f "/run/systemd/nspawn/locks/$(cat "$work/lock.name")"
		# The overlay root; nspawn's own mounts live and die in its namespace.
		findmnt -rn -o TARGET | awk -v w="$work/" 'index($0 "/", w) == 1' | sort -r |
			while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
		rm -rf "$work"
	fi
	# nspawn's own rm_rf of this refuses to work on a /run that is not a tmpfs (as here).
	rmdir "/run/systemd/nspawn/propagate/$name" 2>/dev/null
	rm -f "$GUEST_STATE/$name"
	if [ "${GUEST_WORK:-}" = "$work" ]; then
		GUEST_PID='' GUEST_NSPAWN_PID='' GUEST_WORK='' GUEST_ROOT=''
	fi
	return 0
}

# guest_leftovers NAME: prints what of NAME is left (processes, cgroups, mounts, files);
# fails when anything is.
guest_leftovers() {
	local name=$1 s p left=0
	for s in $(guest__scopes "$name"); do
		[ -e "$s" ] && { echo "cgroup left: $s"; left=1; }
	done
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "-M $name "; then
			echo "process left: ${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")"
			left=1
		fi
		if grep -q "machine-$name\.scope" "$p/cgroup" 2>/dev/null; then
			echo "process left in scope: ${p#/proc/} $(cat "$p/comm" 2>/dev/null)"
			left=1
		fi
	done
	if grep -q "rcatrace-guest\.$name\." /proc/self/mountinfo; then
		echo "mount left:"; grep "rcatrace-guest\.$name\." /proc/self/mountinfo
		left=1
	fi
	for s in "$GUEST_WORKDIR/rcatrace-guest.$name."* "$GUEST_STATE/$name" \
		"/run/systemd/nspawn/propagate/$name"; do
		[ -e "$s" ] || [ -L "$s" ] && { echo "file left: $s"; left=1; }
	done
	return $left
}

# guest_host_pid NAME GUEST_PID: the host pid of a guest process, from its guest pid.
guest_host_pid() {
	local p
	# Only processes in a pid namespace below ours (NSpid has two pids or more).
	p=$(guest__procs "$(guest__scopes "$1" | head -n 1)" | while read -r p; do
		awk -v p="$p" -v g="$2" '$1 == "NSpid:" && NF > 2 && $NF == g { print p; exit }' \
			"/proc/$p/status" 2>/dev/null
	done | head -n 1)
	[ -n "$p" ] && echo "$p"
}

# guest_selftest: boot a guest, run the test units ~25 s, report what systemd and the
# journal say, stop it, and check nothing is left.
guest_selftest() {
	local name=rcatrace-selftest t0 u p gp i fails=0 mnt_before mnt_after
	local gettys=(serial-getty@ttyS0.service serial-getty@rcanotty.service serial-getty@rcaslow.service)
	trap 'guest_stop rcatrace-selftest' EXIT
	mnt_before=$(findmnt -rn -o TARGET,SOURCE,FSTYPE | sort)
	t0=$(guest__now)
	guest_build || return 1
	echo "build (cached or not): $(guest__elapsed "$t0") s"
	t0=$(guest__now)
	guest_boot "$name" || return 1
	echo "boot to running/degraded: $(guest__elapsed "$t0") s"
	echo "guest: $(guest_run "$name" systemctl --version | head -n 1); state $(guest_run "$name" systemctl is-system-running)"
	guest_run "$name" systemctl --failed --no-legend --plain | sed 's/^/  failed at boot: /'
	guest_run "$name" test -e /dev/ttyS0 && { echo "FAIL: guest has /dev/ttyS0"; fails=$((fails + 1)); }
	guest_run "$name" sh -c 'exit 7'
	[ $? = 7 ] || { echo "FAIL: guest_run lost an exit status"; fails=$((fails + 1)); }
	echo "$name" >"$GUEST_WORK/copy-in"
	guest_copy_in "$name" "$GUEST_WORK/copy-in" /tmp/copy-in &&
		[ "$(guest_run "$name" cat /tmp/copy-in)" = "$name" ] ||
		{ echo "FAIL: guest_copy_in"; fails=$((fails + 1)); }

	guest_start_units "$name" "${gettys[@]}" busy-loop.service quiet.service || fails=$((fails + 1))
	sleep 25
	for u in "${gettys[@]}" busy-loop.service quiet.service; do
		echo "$u: NRestarts=$(guest_nrestarts "$name" "$u")" \
			"starts=$(guest_unit_starts "$name" "$u" | wc -l)" \
			"period(starts)=$(guest_unit_starts "$name" "$u" | guest__mean_gap)s" \
			"period(restarts)=$(guest_unit_restarts "$name" "$u" | guest__mean_gap)s" \
			"$(guest_run "$name" systemctl show -p ActiveState,Result,ExecMainCode,ExecMainStatus "$u" | tr '\n' ' ')"
	done
	for u in "${gettys[@]}"; do
		# The last exit, read between two runs (ExecMain* is reset at each start).
		for ((i = 0; i < 40; i++)); do
			[ "$(guest_run "$name" systemctl show -p SubState --value "$u")" = auto-restart ] && break
			sleep 0.05
		done
		echo "$u last exit: $(guest_run "$name" systemctl show -p ExecMainCode,ExecMainStatus,Result "$u" | tr '\n' ' ')"
	done
	for u in "${gettys[@]}"; do
		echo "--- journal of $u (last run):"
		guest_run "$name" journalctl -q --no-pager -o short-precise -u "$u" | tail -n 8
	done

	echo "--- host-side cgroups of guest processes:"
	for u in busy-loop.service quiet.service; do
		gp=$(guest_run "$name" systemctl show -p MainPID --value "$u")
		p=$(guest_host_pid "$name" "$gp") || { echo "FAIL: no host pid for $u"; fails=$((fails + 1)); continue; }
		echo "$u (guest pid $gp, host pid $p):"
		sed 's/^/  /' "/proc/$p/cgroup"
	done
	echo "guest PID 1 (host pid $GUEST_PID):"
	sed 's/^/  /' "/proc/$GUEST_PID/cgroup"
	echo "nspawn (host pid $GUEST_NSPAWN_PID):"
	sed 's/^/  /' "/proc/$GUEST_NSPAWN_PID/cgroup"
	echo "--- v2 scope tree:"
	find "$(guest__scopes "$name" | head -n 1)" -mindepth 1 -type d | sed "s|^$(guest__cg2)||" | sort | head -n 40
	echo "--- v1 name=systemd scope tree:"
	find "$(guest__scopes "$name" | sed -n 2p)" -mindepth 1 -type d 2>/dev/null | sed "s|^$(guest__cg1)||" | sort | head -n 40

	t0=$(guest__now)
	guest_stop "$name"
	echo "stop: $(guest__elapsed "$t0") s"
	guest_stop "$name" # a second call must be harmless
	trap - EXIT
	if ! guest_leftovers "$name"; then
		fails=$((fails + 1))
	fi
	mnt_after=$(findmnt -rn -o TARGET,SOURCE,FSTYPE | sort)
	if [ "$mnt_before" != "$mnt_after" ]; then
		echo "FAIL: the mount table changed:"
		diff <(echo "$mnt_before") <(echo "$mnt_after")
		fails=$((fails + 1))
	fi
	[ -d "$(guest__cg2)/machine.slice" ] && echo "note: machine.slice remains (another guest?)"
	if [ "$fails" -eq 0 ]; then echo "selftest: PASS"; else echo "selftest: FAIL ($fails)"; fi
	[ "$fails" -eq 0 ]
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cmd=${1:-}
	shift || true
	case $cmd in
	build) guest_build ;;
	boot) guest_boot "$@" ;;
	run) guest_run "$@" ;;
	copy-in) guest_copy_in "$@" ;;
	start) guest_start_units "$@" ;;
	stop) guest_stop "$@" ;;
	selftest) guest_selftest ;;
	*)
		echo "usage: $0 build | boot NAME | run NAME CMD... | copy-in NAME SRC DST | start NAME UNIT... | stop NAME | selftest" >&2
		exit 2
		;;
	esac
fi
