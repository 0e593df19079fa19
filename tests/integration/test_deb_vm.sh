#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# timeout: 900
# The Debian package on Debian's own kernel: a QEMU VM (tests/vm) booting Debian 12's
# linux-image-amd64 (6.1) with its default sysctls (kernel.perf_event_paranoid=3),
# real systemd 252. The .deb is installed, the service enabled, a unit fails at
# every start; then the machine crashes twice:
#   boot 1  install, enable --now, the loop named in the journal; kernel panic
#           (sysrq c) with the loop's start count printed just before
#   boot 2  rcatrace started at boot; the dump holds boot 1's starts up to one
#           store interval before the panic, as an earlier boot; power cut (QEMU
#           SIGKILLed) right after the count is printed
#   boot 3  the same for boot 2; poweroff.
# Everything the guest says comes over its second serial port (out.N.log): a panic
# or a power cut loses none of it. The first run builds the image (~100 s, cached).
OUT=$(dirname "${RCATRACE:?RCATRACE must name the binary}")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../vm/vm.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
VM=rcatrace-debvm$$
# The store's totals reach the disk (fsync) every --state-interval: 10 s, the unit's default.
STORE_INTERVAL=10
# The consoles and the agent's output of the last run stay here for a post-mortem.
VM_KEEP=/tmp/rcatrace-test_deb_vm.logs
rm -rf "$VM_KEEP"
trap 'vm_stop "$VM"; cleanup' EXIT
t_start=$(date +%s)

t0=$(date +%s)
"$REPO/scripts/build-deb.sh" "$OUT/deb" > "$WORK/build-deb.log" 2>&1 ||
	{ fail "the package did not build: $(tail -n 20 "$WORK/build-deb.log")"; finish; }
echo "package: $(ls "$OUT"/deb/rcatrace_*.deb) ($(($(date +%s) - t0)) s, cached when unchanged)"
t0=$(date +%s)
vm_build || { fail "cannot build the VM image (debootstrap, qemu-system-x86, qemu-utils installed?)"; finish; }
echo "VM image: $(($(date +%s) - t0)) s (cached: $VM_CACHE)"

mkdir -p "$WORK/test"
cp "$OUT"/deb/rcatrace_*.deb "$WORK/test/"
cat > "$WORK/test/rcaloop.service" <<'UNIT'
[Unit]
Description=rcatrace test: a service that fails at every start, for ever
StartLimitIntervalSec=0
[Service]
ExecStart=/bin/sh -c 'exit 3'
Restart=always
RestartSec=1
[Install]
WantedBy=multi-user.target
UNIT
# The guest side: one script, its phase kept on the guest's disk (synced), so each
# boot knows what comes next. Lines the host reads start with a capital keyword.
cat > "$WORK/test/run.sh" <<'SCRIPT'
set -u
phase=$(cat /var/lib/rcatest/phase 2>/dev/null || echo 1)
echo "PHASE $phase boot $(cat /proc/sys/kernel/random/boot_id) kernel $(uname -r)"
starts() { echo $(($(systemctl show -p NRestarts --value rcaloop.service) + 1)); }
next_phase() { mkdir -p /var/lib/rcatest && echo "$1" > /var/lib/rcatest/phase && sync; }
wait_journal() { # PATTERN SECONDS: a line of this boot's rcatrace journal
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		journalctl -b -u rcatrace -o cat -q --no-pager | grep -q "$1" && return 0
		sleep 0.2; i=$((i + 1))
	done
	return 1
}
show_service() {
	echo "ACTIVE $(systemctl is-active rcatrace) ENABLED $(systemctl is-enabled rcatrace)"
	pid=$(systemctl show -p MainPID --value rcatrace)
	echo "CAPS $(grep -E '^Cap(Eff|Bnd)' /proc/$pid/status | tr '\t\n' '  ')"
	echo "SYSCTL perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid) unprivileged_bpf_disabled=$(cat /proc/sys/kernel/unprivileged_bpf_disabled)"
	echo "STARTED_AT_BOOT $(systemctl show -p ActiveEnterTimestampMonotonic --value rcatrace) us, multi-user $(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target) us"
}
dump_line() { echo "DUMP$1 $(rcatrace dump --json | tr -d '\n')"; }
# After a reboot: attached, and the store rewritten by this boot's run (its first write
# comes one store interval after the start; the dump reads the store, not the run).
wait_this_boot() {
	wait_journal 'attached' 120 || echo "NOT_ATTACHED"
	systemctl start rcaloop.service
	# units[] lists the dump's own boot's units (earlier boots under each): wait for
	# a write of this boot that holds the loop.
	i=0
	while [ $i -lt 300 ] && ! rcatrace dump --json --unit rcaloop.service 2>/dev/null |
		grep -q '"current_boot": *true.*"unit": *"rcaloop.service"'; do
		sleep 0.2; i=$((i + 1))
	done
}
case $phase in
1)
	systemctl is-system-running --wait > /dev/null
	cp /test/rcaloop.service /etc/systemd/system/
	t0=$(date +%s.%N)
	apt-get install -y /test/rcatrace_*.deb > /tmp/apt.log 2>&1; echo "APT $? $(awk -v a=$t0 -v b=$(date +%s.%N) 'BEGIN { printf "%.1f", b - a }') s"
	sed 's/^/  apt: /' /tmp/apt.log | tail -n 5
	echo "AFTER_INSTALL $(systemctl is-enabled rcatrace) $(systemctl is-active rcatrace)"
	systemctl enable --now rcatrace 2>&1 | sed 's/^/  /'
	wait_journal attached 60 || echo "NOT_ATTACHED"
	show_service
	journalctl -b -u rcatrace -o cat -q --no-pager | sed 's/^/JOURNAL1 /'
	# Not enabled: each boot starts it once rcatrace has attached (with Type=notify the
	# service is "started" when it traces; the wait is a guard), so the counts agree.
	systemctl start rcaloop.service
	wait_journal 'RESPAWN STORM rcaloop.service' 90 || echo "NO_STORM"
	journalctl -b -u rcatrace -o cat -q --no-pager | grep rcaloop | sed 's/^/JOURNAL1 /'
	# Past a few store intervals, then the panic.
	sleep 8
	next_phase 2
	echo "PANIC starts=$(starts) at $(cat /proc/uptime)"
	echo c > /proc/sysrq-trigger
	;;
2)
	systemctl is-system-running --wait > /dev/null
	wait_this_boot
	show_service
	journalctl -b -u rcatrace -o cat -q --no-pager | sed 's/^/JOURNAL2 /'
	dump_line 2
	wait_journal 'RESPAWN STORM rcaloop.service' 90 || echo "NO_STORM"
	sleep 8
	next_phase 3
	echo "CUT starts=$(starts) at $(cat /proc/uptime)"
	# The host kills QEMU when it reads the line above.
	sleep 60
	;;
3)
	systemctl is-system-running --wait > /dev/null
	wait_this_boot
	show_service
	journalctl -b -u rcatrace -o cat -q --no-pager | sed 's/^/JOURNAL3 /'
	dump_line 3
	# 6.1 facts for the lead: mark_victim's fields here, and what an OOM kill records.
	echo "MARK_VICTIM $(grep -o 'field:[^;]*' /sys/kernel/tracing/events/oom/mark_victim/format | tail -n +5 | tr '\n' ' ')"
	systemd-run --unit=rcaoom -p MemoryMax=32M -p MemorySwapMax=0 --wait -q \
		sh -c 'a=0123456789; while :; do a="$a$a"; done' > /dev/null 2>&1
	sleep 7
	echo "OOM $(rcatrace dump --json | tr -d '\n' | sed -n 's/.*"oom_kills": *\(\[[^]]*\]\).*/\1/p')"
	journalctl -b -u rcatrace -o cat -q --no-pager | grep -i oom | sed 's/^/JOURNAL3 /'
	echo "DONE"
	systemctl poweroff
	;;
esac
SCRIPT

# Boot 1 to the panic; the panic reboots into boot 2 (panic=1, same QEMU).
t0=$(date +%s)
vm_start "$VM" "$WORK/test" || { fail "the VM did not start"; finish; }
vm_wait "$VM" '^PHASE 1 ' 180 || { fail "boot 1: no agent"; cat "$VM_CONSOLE"; finish; }
echo "boot 1 to the agent: $(($(date +%s) - t0)) s"
vm_wait "$VM" '^(PANIC|PHASE 2 )' 240 || fail "boot 1: no panic"
t1=$(date +%s)
vm_wait "$VM" '^CUT ' 240 || fail "boot 2: no cut"
vm_kill "$VM"
echo "boot 1 + panic + boot 2 + power cut: $(($(date +%s) - t0)) s (reboot after the panic: $(($(date +%s) - t1)) s to the cut)"
out1=$VM_OUT
t0=$(date +%s)
vm_start "$VM" "$WORK/test" || { fail "the VM did not start again"; finish; }
vm_wait "$VM" '^DONE' 240 || fail "boot 3: not done"
vm_wait_exit "$VM" 120 || fail "boot 3: no poweroff"
echo "boot 3 (after the power cut) to poweroff: $(($(date +%s) - t0)) s"
out3=$VM_OUT
cp "$out1" "$WORK/out1.log"; cp "$out3" "$WORK/out3.log"
grep -ahv '^DUMP' "$out1" "$out3" | sed 's/^/guest: /'

val() { grep -a "^$2" "$1" | head -n 1 | sed -n "s/.*$3=\([^ ]*\).*/\1/p"; }
boot_of() { grep -a "^PHASE $2 " "$1" | head -n 1 | awk '{ print $4 }'; }
b1=$(boot_of "$out1" 1) b2=$(boot_of "$out1" 2) b3=$(boot_of "$out3" 3)
echo "boots: 1 $b1, 2 $b2, 3 $b3"
assert_eq "apt-get install ./rcatrace_*.deb" 0 "$(grep -a '^APT ' "$out1" | awk '{ print $2 }')"
assert_eq "installed disabled and stopped" "disabled inactive" "$(grep -a '^AFTER_INSTALL' "$out1" | cut -d' ' -f2-)"
assert_eq "boot 1: the service runs, enabled" "ACTIVE active ENABLED enabled" "$(grep -a '^ACTIVE' "$out1" | head -n 1)"
assert_eq "boot 1: attached" 1 "$(grep -ac '^JOURNAL1 rcatrace: attached' "$out1")"
assert_eq "boot 1: the loop named in the journal" 1 "$(grep -ac '^JOURNAL1 .*RESPAWN STORM rcaloop.service' "$out1")"
assert_eq "boot 2: the service started at boot" "ACTIVE active ENABLED enabled" "$(grep -a '^ACTIVE' "$out1" | sed -n 2p)"
assert_eq "boot 3: the service started at boot" "ACTIVE active ENABLED enabled" "$(grep -a '^ACTIVE' "$out3" | head -n 1)"
# Started by systemd at boot (the agent never starts it after boot 1), and attached.
assert_eq "boot 2: started at boot, attached" 2 "$(grep -acE '^JOURNAL2 (Started rcatrace.service|rcatrace: attached)' "$out1")"
assert_eq "boot 3: started at boot, attached" 2 "$(grep -acE '^JOURNAL3 (Started rcatrace.service|rcatrace: attached)' "$out3")"

# DUMP<phase>: the dump read at that boot. The starts a boot's record holds against
# the count the guest printed just before it crashed: at most one store interval lost.
check_boot() { # WHAT DUMPFILE BOOT_ID PRINTED_STARTS
	local rec got lost period max_lost
	# The unit's record is the dump's own boot; its boots[] are the earlier ones.
	rec=$(jq -c --arg b "$3" '.boot_id as $now | [.units[] | select(.unit == "rcaloop.service") |
		if $now == $b then . else (.boots[]? | select(.boot_id == $b)) end] | .[0]' "$2")
	got=$(jq '.starts // empty' <<< "$rec")
	period=$(jq '.period_ms // empty' <<< "$rec")
	[ -n "$got" ] || { fail "$1: no record of rcaloop.service for boot $3 in the dump"; return; }
	lost=$(($4 - got))
	# The starts one interval holds at the loop's own period, and one more for the
	# start that was in flight when the count was printed.
	max_lost=$(awk -v i="$STORE_INTERVAL" -v p="$period" 'BEGIN { printf "%d", i * 1000 / p + 1.999 }')
	echo "$1: guest printed $4 starts, the dump holds $got for boot $3 (lost $lost, allowed $max_lost at period ${period} ms)"
	if [ "$lost" -ge 0 ] && [ "$lost" -le "$max_lost" ]; then
		echo "ok: $1: starts within one store interval of the crash"
	elif [ "$lost" -lt 0 ] && [ "$lost" -ge -1 ]; then
		echo "ok: $1: one start after the count was printed"
	else
		fail "$1: $got starts in the dump against $4 printed"
	fi
}
grep -a '^DUMP2 ' "$out1" | cut -d' ' -f2- > "$WORK/dump2.json"
grep -a '^DUMP3 ' "$out3" | cut -d' ' -f2- > "$WORK/dump3.json"
jq -e . "$WORK/dump2.json" > /dev/null || fail "boot 2: the dump is no JSON"
jq -e . "$WORK/dump3.json" > /dev/null || fail "boot 3: the dump is no JSON"
assert_eq "boot 2's dump is of boot 2" "$b2 true" "$(jq -r '"\(.boot_id) \(.current_boot)"' "$WORK/dump2.json")"
assert_eq "boot 3's dump is of boot 3" "$b3 true" "$(jq -r '"\(.boot_id) \(.current_boot)"' "$WORK/dump3.json")"
check_boot "panic (boot 1, read at boot 2)" "$WORK/dump2.json" "$b1" "$(val "$out1" PANIC starts)"
check_boot "panic (boot 1, read at boot 3)" "$WORK/dump3.json" "$b1" "$(val "$out1" PANIC starts)"
check_boot "power cut (boot 2, read at boot 3)" "$WORK/dump3.json" "$b2" "$(val "$out1" CUT starts)"
echo "boots in the last dump: $(jq -c '[.boots[] | {boot_id, starts}]' "$WORK/dump3.json")"
grep -a '^MARK_VICTIM\|^OOM\|^JOURNAL3.*OOM' "$out3"
echo "total: $(($(date +%s) - t_start)) s"
vm_stop "$VM"
vm_leftovers "$VM" || fail "the VM left something behind"
finish
