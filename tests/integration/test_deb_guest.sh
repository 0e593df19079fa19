#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The Debian package under a real systemd 252 (tests/guest: Debian 12 in
# systemd-nspawn): `apt-get install ./rcatrace_*.deb` installs it disabled and
# stopped; `systemctl enable --now` runs it under the unit's full sandbox (no drop-in,
# the capability bounding set it names, no new privileges, a seccomp filter); a
# crash-looping serial-getty@ttyS0 is named in the guest's journal and by `rcatrace
# dump` in the guest; `systemctl stop` leaves a whole store; `apt-get remove` keeps
# it; `apt-get purge` leaves nothing.
#
# The guest runs on this machine's kernel: nspawn's seccomp filter must allow bpf(2)
# and its capability set must hold the unit's (CAP_BPF, CAP_PERFMON). The service in
# the guest sees every process of the host kernel; what it makes of the cgroups
# outside the guest's cgroup namespace is printed, not asserted.
OUT=$(dirname "${RCATRACE:?RCATRACE must name the binary}")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../guest/guest.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
G=rcatrace-deb$$
LOOP=serial-getty@ttyS0.service
trap 'guest_stop "$G" > /dev/null 2>&1; cleanup' EXIT
GUEST_NSPAWN_ARGS='--system-call-filter=bpf --capability=CAP_BPF,CAP_PERFMON,CAP_DAC_READ_SEARCH'
t_start=$(date +%s)

"$REPO/scripts/build-deb.sh" "$OUT/deb" > "$WORK/build-deb.log" 2>&1 ||
	{ fail "the package did not build: $(tail -n 20 "$WORK/build-deb.log")"; finish; }
deb=$(ls "$OUT"/deb/rcatrace_*.deb)
guest_build || { fail "cannot build the guest (debootstrap, systemd-container installed?)"; finish; }
guest_boot "$G" || { fail "the guest did not boot"; finish; }
g() { guest_run "$G" "$@"; }

# ---- install: disabled, stopped -------------------------------------------------------
g find / -xdev \( -path /proc -o -path /sys \) -prune -o -name '*rcatrace*' -print | sort > "$WORK/named-before"
guest_copy_in "$G" "$deb" "/tmp/${deb##*/}" || fail "copy the package in"
g apt-get install -y "/tmp/${deb##*/}" > "$WORK/apt.log" 2>&1
assert_eq "apt-get install ./${deb##*/}" 0 "$?"
assert_eq "installed disabled" disabled "$(g systemctl is-enabled rcatrace)"
assert_eq "installed stopped" inactive "$(g systemctl is-active rcatrace)"

# ---- enable --now: its sandbox, the loop in its journal ----------------------------------
g systemctl enable --now rcatrace > /dev/null 2>&1
assert_eq "systemctl enable --now rcatrace" 0 "$?"
journal() { g journalctl -u rcatrace -o cat -q --no-pager; }
# Type=notify: enable --now returns once rcatrace has attached (READY=1); the wait is a
# guard. The loop starts then, so that every one of its starts is seen.
for _ in $(seq 100); do journal | grep -q '^rcatrace: attached' && break; sleep 0.1; done
g systemctl start --no-block "$LOOP"
for _ in $(seq 100); do journal | grep -q "RESPAWN STORM $LOOP" && break; sleep 0.2; done
echo "--- the guest's journal of rcatrace:"
journal | sed 's/^/  | /'
assert_eq "journal: attached" 1 "$(journal | grep -c '^rcatrace: attached')"
assert_eq "journal: the loop named" 1 "$(journal | grep -c "^rcatrace: RESPAWN STORM $LOOP: ")"
assert_eq "service active" active "$(g systemctl is-active rcatrace)"
assert_eq "no restart" 0 "$(g systemctl show -p NRestarts --value rcatrace)"
assert_eq "the unit as shipped (no drop-in)" "" "$(g systemctl show -p DropInPaths --value rcatrace)"
assert_eq "the unit file is the package's" /lib/systemd/system/rcatrace.service \
	"$(g systemctl show -p FragmentPath --value rcatrace)"
pid=$(g systemctl show -p MainPID --value rcatrace)
status=$(g cat "/proc/$pid/status")
# CAP_DAC_READ_SEARCH (2), CAP_PERFMON (38), CAP_BPF (39): nothing else, ever.
assert_eq "capability bounding set" 000000c000000004 "$(awk '$1 == "CapBnd:" { print $2 }' <<< "$status")"
assert_eq "no new privileges" 1 "$(awk '$1 == "NoNewPrivs:" { print $2 }' <<< "$status")"
assert_eq "a seccomp filter" 2 "$(awk '$1 == "Seccomp:" { print $2 }' <<< "$status")"
assert_eq "/usr is read-only to it" 1 "$(g nsenter -t "$pid" -m sh -c 'touch /usr/rcatrace-probe 2>/dev/null; echo $?')"
assert_eq "/var/lib/rcatrace is writable to it" 0 "$(g nsenter -t "$pid" -m sh -c 'test -w /var/lib/rcatrace; echo $?')"
assert_eq "store mode" "700 600" "$(g stat -c %a /var/lib/rcatrace /var/lib/rcatrace/rcatrace.db | tr '\n' ' ' | sed 's/ $//')"

# ---- dump in the guest ------------------------------------------------------------------
sleep 11 # one store interval (--state-interval, 10 s): the totals dump reads are written then
jstarts=$(guest_unit_starts "$G" "$LOOP" | wc -l)
g rcatrace dump > "$WORK/dump.txt" 2>&1
assert_eq "rcatrace dump in the guest" 0 "$?"
grep -q "^$LOOP " "$WORK/dump.txt" && echo "ok: dump names $LOOP" || fail "dump: $(head -n 8 "$WORK/dump.txt")"
g rcatrace dump --json > "$WORK/dump.json"
dstarts=$(jq --arg u "$LOOP" '[.units[] | select(.unit == $u) | .starts] | add // 0' "$WORK/dump.json")
echo "journal: $jstarts starts of $LOOP; dump: $dstarts"
# A concurrent guest's loop of the same name would add to it (see below), never lower it.
# At most one interval (10 s) of a 0.25 s loop behind the journal: 40 starts, and some slack.
[ "$dstarts" -ge $((jstarts - 45)) ] && echo "ok: dump starts $dstarts against $jstarts in the journal, one interval apart" ||
	fail "dump starts $dstarts against $jstarts in the journal"
echo "what the guest's rcatrace sees: boot $(jq -r '"\(.boot_id) current_boot=\(.current_boot)"' "$WORK/dump.json")" \
	"(the guest's boot_id $(g cat /proc/sys/kernel/random/boot_id), the host's $(cat /proc/sys/kernel/random/boot_id))"
g systemctl list-units --all --plain --no-legend | awk '{ print $1 }' | sort -u > "$WORK/guest-units"
echo "units in its dump: $(jq '.units | length' "$WORK/dump.json"), of which not units of this guest:"
jq -r '.units[] | "\(.unit) machine=\(.machine) starts=\(.starts)"' "$WORK/dump.json" |
	while read -r u rest; do grep -qxF "$u" "$WORK/guest-units" || echo "  $u $rest"; done | head -n 20

# ---- stop: the store stays whole ----------------------------------------------------------
# The loop stops first and rcatrace samples it (every second) before its own stop: the
# store it leaves must then hold every start the journal logged.
g systemctl stop "$LOOP"
sleep 2
jstarts=$(guest_unit_starts "$G" "$LOOP" | wc -l)
g systemctl stop rcatrace
assert_eq "systemctl stop: inactive (not failed)" inactive "$(g systemctl is-active rcatrace)"
g rcatrace dump --json > "$WORK/dump-stopped.json" 2> "$WORK/dump-stopped.err"
assert_eq "dump after stop" 0 "$?"
assert_eq "after stop the store holds every start (the journal's)" "$jstarts" \
	"$(jq --arg u "$LOOP" '[.units[] | select(.unit == $u) | .starts] | add // 0' "$WORK/dump-stopped.json")"

# ---- remove keeps the store, purge leaves nothing ------------------------------------------
g systemctl start rcatrace
g apt-get remove -y rcatrace > "$WORK/remove.log" 2>&1
assert_eq "apt-get remove" 0 "$?"
assert_eq "remove stopped the service" inactive "$(g systemctl is-active rcatrace)"
assert_eq "remove: binary gone" 1 "$(g sh -c 'test -e /usr/sbin/rcatrace; echo $?')"
assert_eq "remove: store kept" 0 "$(g sh -c 'test -s /var/lib/rcatrace/rcatrace.db; echo $?')"
g apt-get purge -y rcatrace > "$WORK/purge.log" 2>&1
assert_eq "apt-get purge" 0 "$?"
g rm -f "/tmp/${deb##*/}"
# The fixture's own files carry the name too (its drop-ins, its stamp): compare with before.
named() { g find / -xdev \( -path /proc -o -path /sys \) -prune -o -name '*rcatrace*' -print | sort; }
assert_eq "purge leaves nothing named rcatrace that was not there before the install" "" \
	"$(comm -13 "$WORK/named-before" <(named))"
assert_eq "purge: no package state" "" "$(g dpkg-query -W -f '${Status}' rcatrace 2>/dev/null)"
echo "elapsed: $(($(date +%s) - t_start)) s"
guest_stop "$G"
guest_leftovers "$G" || fail "the guest left something behind"
finish
