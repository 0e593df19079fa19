#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A Debian 12 VM under QEMU, booting Debian's own kernel (linux-image-amd64, 6.1) with
# its default sysctls, for tests that need a kernel other than this machine's.
#
# Source it (set -u safe) and call vm_build, vm_start NAME TESTDIR, vm_wait NAME
# PATTERN, vm_kill NAME, vm_stop NAME; or run it: vm.sh build | selftest. See README.md.
#
# The VM is driven by a small agent in the image, not by typing at a console: at every
# boot rcatest-agent.service mounts the second disk (/dev/vdb, made from TESTDIR at
# vm_start) read-only at /test and runs /test/run.sh, whose output goes to the second
# serial port, a plain file on the host (out.log). A crash or a power cut loses none of
# it: the host has it the moment the guest writes it.

VM_CACHE=${RCATRACE_VM_CACHE:-${RCATRACE_GUEST_CACHE:-/var/cache/rcatrace-tests}/vm-bookworm}
VM_WORKDIR=${RCATRACE_VM_WORKDIR:-/var/tmp}
VM_SUITE=bookworm
# The kernel and what the package under test needs at run time (the guest has no
# network, so its dependencies are in the image): libbpf1 libelf1 zlib1g libmicrohttpd12.
VM_PACKAGES=linux-image-amd64,systemd,systemd-sysv,udev,dbus,procps,kmod,e2fsprogs,libbpf1,libelf1,zlib1g,libmicrohttpd12,libsqlite3-0
# Part of the cache stamp: bump it when the build steps change, so old caches rebuild.
VM_FORMAT=2
VM_DISK_SIZE=${VM_DISK_SIZE:-2G}
VM_MEM=${VM_MEM:-1024}
VM_CPUS=${VM_CPUS:-2}
# panic=1: a kernel panic reboots after 1 s (Debian's default, 0, would hang).
VM_APPEND="root=/dev/vda rw console=ttyS0 panic=1 net.ifnames=0 systemd.show_status=auto"

vm__log() { echo "vm: $*" >&2; }
vm__now() { date +%s.%N; }
vm__elapsed() { awk -v a="$1" -v b="$(vm__now)" 'BEGIN { printf "%.1f", b - a }'; }
vm__stamp() { echo "format=$VM_FORMAT suite=$VM_SUITE packages=$VM_PACKAGES size=$VM_DISK_SIZE"; }

vm__check_name() {
	case $1 in
	'' | *[!A-Za-z0-9_-]* | -*)
		vm__log "bad VM name '$1' (letters, digits, - and _ only)"
		return 1
		;;
	esac
}

# The same mirror as the nspawn guest: the one this host's apt already uses.
vm__mirror() {
	(. "$(dirname "${BASH_SOURCE[0]}")/../guest/guest.sh" && GUEST_SUITE=$VM_SUITE && guest_mirror)
}

vm__need_host_tools() {
	local t missing=
	for t in debootstrap qemu-system-x86_64 qemu-img mkfs.ext4 flock; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] && return 0
	vm__log "missing host tools:$missing (apt-get install debootstrap qemu-system-x86 qemu-utils e2fsprogs)"
	return 1
}

# vm_build: the cached image, $VM_CACHE/{disk.raw,vmlinuz,initrd.img}, made once and
# reused. Built under a temporary name and renamed when whole, stamp inside.
vm_build() {
	[ "$(cat "$VM_CACHE/stamp" 2>/dev/null)" = "$(vm__stamp)" ] && return 0
	vm__need_host_tools || return 1
	mkdir -p "${VM_CACHE%/*}" || return 1
	# Serialised: tests started together must not all debootstrap.
	(flock 9 && vm__build_locked) 9>"${VM_CACHE%/*}/.vm.lock"
}

vm__build_locked() {
	local tmp mirror t0 root
	[ "$(cat "$VM_CACHE/stamp" 2>/dev/null)" = "$(vm__stamp)" ] && return 0
	mirror=$(vm__mirror) || return 1
	t0=$(vm__now)
	rm -rf "${VM_CACHE}.build."* # an interrupted build's leftovers
	tmp=$(mktemp -d "${VM_CACHE}.build.XXXXXX") || return 1
	root=$tmp/root
	vm__log "building the $VM_SUITE VM image from $mirror into $VM_CACHE (a few minutes, once)"
	if ! debootstrap --variant=minbase --include="$VM_PACKAGES" "$VM_SUITE" "$root" \
		"$mirror" >"$tmp/debootstrap.log" 2>&1; then
		tail -n 30 "$tmp/debootstrap.log" >&2
		vm__log "debootstrap failed; full log in $tmp/debootstrap.log"
		return 1
	fi
	vm__log "debootstrap done in $(vm__elapsed "$t0") s"
	vm__configure "$root" || return 1
	cp -L "$root/vmlinuz" "$tmp/vmlinuz" && cp -L "$root/initrd.img" "$tmp/initrd.img" || {
		vm__log "no kernel or initrd in the image"
		return 1
	}
	rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
	# mkfs -d fills the file system from the tree: no loop device, no mount.
	truncate -s "$VM_DISK_SIZE" "$tmp/disk.raw" &&
		mkfs.ext4 -q -F -L rcatrace-vm -d "$root" "$tmp/disk.raw" || { vm__log "mkfs.ext4 failed"; return 1; }
	rm -rf "$root"
	vm__stamp >"$tmp/stamp"
	rm -rf "$VM_CACHE"
	mv "$tmp" "$VM_CACHE" || return 1
	vm__log "built $VM_CACHE in $(vm__elapsed "$t0") s"
}

# The image's configuration: the agent, a quiet boot, nothing that wakes up mid-test.
vm__configure() {
	local root=$1 etc=$1/etc/systemd/system u
	echo rcatrace-vm >"$root/etc/hostname"
	: >"$root/etc/machine-id" # a fresh id per boot of a fresh overlay
	rm -f "$root/var/lib/dbus/machine-id"
	printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
	cat >"$root/usr/local/sbin/rcatest-agent" <<-'AGENT'
		#!/bin/sh
		# Runs the test disk's /test/run.sh once per boot, its output on ttyS1 (the host's out.log).
		exec >/dev/ttyS1 2>&1
		stty -F /dev/ttyS1 raw -echo 2>/dev/null
		mkdir -p /test
		if ! mount -o ro /dev/vdb /test; then
			echo "AGENT: no test disk"
			exit 0
		fi
		echo "AGENT: boot $(cat /proc/sys/kernel/random/boot_id) uptime $(cut -d' ' -f1 /proc/uptime)"
		sh /test/run.sh
		echo "AGENT: run.sh exited $?"
	AGENT
	chmod 0755 "$root/usr/local/sbin/rcatest-agent"
	cat >"$etc/rcatest-agent.service" <<-'UNIT'
		[Unit]
		Description=rcatrace test agent: runs /test/run.sh from the second disk
		After=local-fs.target
		[Service]
		Type=simple
		ExecStart=/usr/local/sbin/rcatest-agent
		[Install]
		WantedBy=multi-user.target
	UNIT
	mkdir -p "$etc/multi-user.target.wants"
	ln -sf /etc/systemd/system/rcatest-agent.service "$etc/multi-user.target.wants/rcatest-agent.service"
	# No timers firing mid-test; no network to wait for.
	for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
		fstrim.timer man-db.timer systemd-networkd-wait-online.service; do
		ln -sf /dev/null "$etc/$u"
		rm -f "$etc/timers.target.wants/$u"
	done
}

vm__work() { readlink "$VM_WORKDIR/rcatrace-vm.$1.current" 2>/dev/null; }

# vm_start NAME TESTDIR: boot a VM on a fresh overlay of the cached image; a second
# vm_start of the same NAME (after vm_kill, or after its QEMU exited) boots the same
# disk again, as a machine comes back after a power cut. TESTDIR becomes /test in the
# guest. Returns at once: vm_wait waits. Each QEMU run N writes console.N.log (the
# serial console) and out.N.log (the agent's output) in VM_WORK; VM_OUT names the latter.
vm_start() {
	local name=${1:-} dir=${2:-} work accel n
	vm__check_name "$name" || return 1
	[ -f "$dir/run.sh" ] || { vm__log "usage: vm_start NAME DIR (DIR/run.sh)"; return 1; }
	vm_build || return 1
	work=$(vm__work "$name")
	if [ -z "$work" ]; then
		work=$(mktemp -d "$VM_WORKDIR/rcatrace-vm.$name.XXXXXX") &&
			ln -s "$work" "$VM_WORKDIR/rcatrace-vm.$name.current" || return 1
		# A copy-on-write overlay: the cache is never written.
		qemu-img create -q -f qcow2 -b "$VM_CACHE/disk.raw" -F raw "$work/disk.qcow2" || return 1
	fi
	if vm__running "$name"; then
		vm__log "VM $name is running"
		return 1
	fi
	rm -f "$work/test.img"
	truncate -s 64M "$work/test.img" && mkfs.ext4 -q -F -d "$dir" "$work/test.img" || return 1
	n=$(($(cat "$work/runs" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$work/runs"
	# Software emulation (TCG) by default: this machine's /dev/kvm is nested and
	# QEMU aborts on it ("failed to set MSR 0x10a") or hangs at boot. VM_ACCEL=kvm
	# where KVM works. No -no-reboot: a panic reboots inside the same QEMU, as a
	# real machine would.
	accel=${VM_ACCEL:-tcg}
	# Default cache mode: the guest's flushes reach the host file, so killing QEMU
	# is a power cut that keeps what the guest synced, as a disk would.
	qemu-system-x86_64 -name "rcatrace-vm-$name" -machine q35,accel="$accel" -cpu max \
		-m "$VM_MEM" -smp "$VM_CPUS" -nographic -nodefaults -nic none \
		-kernel "$VM_CACHE/vmlinuz" -initrd "$VM_CACHE/initrd.img" -append "$VM_APPEND" \
		-drive file="$work/disk.qcow2",format=qcow2,if=virtio \
		-drive file="$work/test.img",format=raw,if=virtio,readonly=on \
		-serial file:"$work/console.$n.log" -serial file:"$work/out.$n.log" \
		-pidfile "$work/qemu.pid" </dev/null >"$work/qemu.$n.log" 2>&1 &
	echo $! >"$work/qemu.pid.launch"
	VM_WORK=$work VM_OUT=$work/out.$n.log VM_CONSOLE=$work/console.$n.log
	export VM_WORK VM_OUT VM_CONSOLE
}

# True while NAME's QEMU runs.
vm__running() {
	local work p
	work=$(vm__work "$1") && [ -n "$work" ] || return 1
	p=$(cat "$work/qemu.pid.launch" 2>/dev/null)
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null && grep -q "rcatrace-vm-$1" "/proc/$p/cmdline" 2>/dev/null
}

# vm_wait NAME REGEX [TIMEOUT]: wait until the agent's output of the current run has a
# line matching REGEX (grep -E); fails when QEMU exits first or after TIMEOUT (300 s).
vm_wait() {
	local name=$1 re=$2 timeout=${3:-300} deadline
	deadline=$(($(date +%s) + timeout))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		grep -qaE "$re" "$VM_OUT" 2>/dev/null && return 0
		if ! vm__running "$name"; then
			grep -qaE "$re" "$VM_OUT" 2>/dev/null && return 0
			vm__log "QEMU of $name exited while waiting for /$re/"
			return 1
		fi
		sleep 0.1
	done
	vm__log "timed out after ${timeout}s waiting for /$re/ from $name"
	return 1
}

# vm_wait_exit NAME [TIMEOUT]: wait for NAME's QEMU to exit (a poweroff in the guest).
vm_wait_exit() {
	local name=$1 timeout=${2:-120} deadline p
	deadline=$(($(date +%s) + timeout))
	while vm__running "$name" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
	p=$(cat "$(vm__work "$name")/qemu.pid.launch" 2>/dev/null)
	[ -n "$p" ] && wait "$p" 2>/dev/null
	! vm__running "$name"
}

# vm_kill NAME: pull the plug: SIGKILL to QEMU, nothing flushed that the guest did not.
vm_kill() {
	local work p
	work=$(vm__work "$1") && [ -n "$work" ] || return 0
	p=$(cat "$work/qemu.pid.launch" 2>/dev/null)
	if vm__running "$1"; then
		kill -KILL "$p" 2>/dev/null
	fi
	[ -n "$p" ] && { wait "$p" 2>/dev/null; while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; }
	return 0
}

# vm_stop NAME: kill QEMU if it still runs, remove the overlay and every log. Safe
# twice and from an EXIT trap. Keep the logs with VM_KEEP=DIR (copied there first).
vm_stop() {
	local work
	vm__check_name "${1:-}" || return 1
	vm_kill "$1"
	work=$(vm__work "$1")
	if [ -n "$work" ]; then
		[ -n "${VM_KEEP:-}" ] && mkdir -p "$VM_KEEP" && cp "$work"/*.log "$VM_KEEP/" 2>/dev/null
		rm -rf "$work"
	fi
	rm -f "$VM_WORKDIR/rcatrace-vm.$1.current"
	return 0
}

# vm_leftovers NAME: prints what of NAME is left (QEMU, files); fails when anything is.
vm_leftovers() {
	local left=0 p
	for p in $(pgrep -f "rcatrace-vm-$1( |$)"); do
		echo "process left: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
		left=1
	done
	for p in "$VM_WORKDIR/rcatrace-vm.$1."*; do
		[ -e "$p" ] || [ -L "$p" ] && { echo "file left: $p"; left=1; }
	done
	return $left
}

# vm_selftest: boot the image, time the boot to multi-user, report the kernel, the
# sysctls that matter to rcatrace, power off, and check nothing is left.
vm_selftest() {
	local name=rcatrace-vmself t0 dir fails=0
	trap 'vm_stop rcatrace-vmself; rm -rf "${dir:-}"' EXIT
	t0=$(vm__now)
	vm_build || return 1
	echo "build (cached or not): $(vm__elapsed "$t0") s"
	dir=$(mktemp -d)
	cat >"$dir/run.sh" <<-'SCRIPT'
		echo "kernel: $(uname -r)"
		echo "uptime at agent: $(cut -d' ' -f1 /proc/uptime) s"
		systemctl is-system-running --wait
		echo "systemd: $(systemctl --version | head -n 1)"
		echo "multi-user reached at (monotonic us): $(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target)"
		systemd-analyze 2>/dev/null | head -n 1
		for s in kernel.perf_event_paranoid kernel.unprivileged_bpf_disabled net.core.bpf_jit_enable; do
			echo "$s = $(sysctl -n $s 2>/dev/null || cat /proc/sys/$(echo $s | tr . /))"
		done
		echo "lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null || echo none)"
		echo "btf: $(ls -l /sys/kernel/btf/vmlinux)"
		echo "tracefs: $(findmnt -n -o TARGET -t tracefs | tr '\n' ' ')"
		echo SELFTEST-DONE
		systemctl poweroff
	SCRIPT
	t0=$(vm__now)
	vm_start "$name" "$dir" || return 1
	vm_wait "$name" SELFTEST-DONE 300 || fails=$((fails + 1))
	echo "boot to the agent's report: $(vm__elapsed "$t0") s"
	cat "$VM_OUT"
	vm_wait_exit "$name" 120 || { echo "FAIL: no poweroff"; fails=$((fails + 1)); }
	echo "boot and poweroff: $(vm__elapsed "$t0") s"
	vm_stop "$name"
	rm -rf "$dir"
	trap - EXIT
	vm_leftovers "$name" || fails=$((fails + 1))
	if [ "$fails" -eq 0 ]; then echo "selftest: PASS"; else echo "selftest: FAIL ($fails)"; fi
	[ "$fails" -eq 0 ]
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cmd=${1:-}
	shift || true
	case $cmd in
	build) vm_build ;;
	selftest) vm_selftest ;;
	*)
		echo "usage: $0 build | selftest" >&2
		exit 2
		;;
	esac
fi
