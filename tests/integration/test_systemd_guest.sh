#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A real systemd 252 (Debian 12 under systemd-nspawn, tests/guest) and its real
# agetty loops, traced from the host. Truth comes from inside the guest:
# NRestarts and the journal's "Started" times.
#   serial-getty@ttyS0     no /dev/ttyS0: systemd fails before exec (208/STDIN), 0.25 s
#   serial-getty@rcanotty  agetty runs and dies ("could not get terminal name", SIGSEGV), 0.25 s
#   serial-getty@rcaslow   the same on the incident's RestartSec=10
#   busy-loop.service      a healthy shell loop forking date and sleep: work, never a storm
#   quiet.service          sleep infinity
# Asserted: starts exact, period within 5% of the journal's, storms flagged in
# time (3 s for the fast loops, 60 s for the 10 s one), the busy and quiet units
# never flagged, one record per unit named with its machine.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../guest/guest.sh"

G=rcatrace-rs$$
LOOPS="serial-getty@ttyS0.service serial-getty@rcanotty.service serial-getty@rcaslow.service"
trap 'guest_stop "$G" > /dev/null 2>&1; cleanup' EXIT

guest_build || { fail "cannot build the guest (debootstrap, systemd-container installed?)"; finish; }
start_rcatrace --json --interval 0.5 --state "$WORK/state" || finish
guest_boot "$G" || { fail "the guest did not boot"; finish; }
t0=$(date +%s.%N)
guest_start_units "$G" $LOOPS busy-loop.service quiet.service

# The 10 s loop needs five starts (40 s) to be judged; give it up to 60 s.
deadline=$(($(date +%s) + 60))
# The output is still being written: a last, partial line is skipped.
found() {
	jq -rR --arg u "$1" --arg m "$G" 'fromjson? | select(.type == "finding" and .finding == "respawn_storm"
		and .state == "started" and .unit == $u and .machine == $m) | .time' "$WORK/out" | head -1
}
while [ "$(date +%s)" -lt "$deadline" ] && [ -z "$(found serial-getty@rcaslow.service)" ]; do
	sleep 1
done
# systemd's own count, read while the loops run (a stop resets it), then the loops are
# frozen and the journal, which logs every start ("Started", failed exec or not), is read.
declare -A nrestarts period jstarts
for u in $LOOPS; do nrestarts[$u]=$(guest_nrestarts "$G" "$u"); done
guest_run "$G" systemctl stop $LOOPS busy-loop.service quiet.service
sleep 1.5
for u in $LOOPS; do
	period[$u]=$(guest_restart_period "$G" "$u")
	jstarts[$u]=$(guest_unit_starts "$G" "$u" | wc -l)
	echo "guest: $u NRestarts ${nrestarts[$u]} (before the stop), journal: ${jstarts[$u]} starts every ${period[$u]} s"
done
first_start() { guest_unit_starts "$G" "$1" | head -1; }
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

dump=$("$RCATRACE" dump --json --state "$WORK/state")
u() { jq -c --arg u "$1" --arg m "$G" '.units[] | select(.unit == $u and .machine == $m)' <<< "$dump"; }
for unit in $LOOPS; do
	rec=$(u "$unit")
	assert_eq "$unit: one record in machine $G" 1 "$(jq -s length <<< "$rec")"
	starts=$(jq .starts <<< "$rec")
	assert_eq "$unit: starts (the journal's)" "${jstarts[$unit]}" "$starts"
	# NRestarts was read a moment before the stop: the first start and every restart.
	if [ $((nrestarts[$unit] + 1)) -le "$starts" ] && [ $((nrestarts[$unit] + 1)) -ge $((starts - 12)) ]; then
		echo "ok: $unit NRestarts + 1 = $((nrestarts[$unit] + 1)) (read just before the stop) <= starts $starts"
	else
		fail "$unit: NRestarts ${nrestarts[$unit]} + 1 against $starts starts"
	fi
	assert_within "$unit: period_ms (journal)" \
		"$(awk -v p="${period[$unit]}" 'BEGIN { printf "%.1f", p * 1000 }')" \
		"$(jq .period_ms <<< "$rec")" 0.05
	assert_eq "$unit: respawn storm" true "$(jq '.storm or .storms > 0' <<< "$rec")"
	when=$(found "$unit")
	if [ -z "$when" ]; then
		fail "$unit: no respawn_storm finding"
		continue
	fi
	delay=$(awk -v f="$(date -d "$when" +%s.%N)" -v s="$(first_start "$unit")" 'BEGIN { printf "%.1f", f - s }')
	limit=3
	[ "$unit" = serial-getty@rcaslow.service ] && limit=60
	if awk -v d="$delay" -v l="$limit" 'BEGIN { exit !(d <= l) }'; then
		echo "ok: $unit flagged ${delay}s after its first start (limit ${limit}s)"
	else
		fail "$unit flagged ${delay}s after its first start (limit ${limit}s)"
	fi
done

# 208/STDIN: systemd's child dies before exec, named by its comm.
tty=$(u serial-getty@ttyS0.service)
assert_eq "ttyS0: the start that never execs is (agetty)" "(agetty)" "$(jq -r .main_executable <<< "$tty")"
assert_eq "ttyS0: exit code 208 for every start" "$(jq .starts <<< "$tty")" "$(jq '.exit_codes["208"]' <<< "$tty")"
assert_eq "ttyS0: no exec" 0 "$(jq '[.executables[] | select(.executable == "/sbin/agetty") | .starts] | add // 0' <<< "$tty")"
# agetty that runs, then dies of SIGSEGV: a respawn storm and a crash storm.
notty=$(u serial-getty@rcanotty.service)
assert_eq "rcanotty: started /sbin/agetty" /sbin/agetty "$(jq -r .main_executable <<< "$notty")"
assert_eq "rcanotty: every start died of SIGSEGV" "$(jq .starts <<< "$notty")" "$(jq '.signals.SIGSEGV' <<< "$notty")"
assert_eq "rcanotty: crash storm" true "$(jq '.crash_storm or .crash_storms > 0' <<< "$notty")"

# The healthy units: work, never a storm, one start each.
for unit in busy-loop.service quiet.service; do
	rec=$(u "$unit")
	assert_eq "$unit: starts" 1 "$(jq .starts <<< "$rec")"
	assert_eq "$unit: never a storm" false "$(jq '.storm or .storms > 0 or .crash_storm' <<< "$rec")"
	assert_eq "$unit: no finding" 0 "$(jq -c --arg u "$unit" 'select(.type == "finding" and .unit == $u)' "$WORK/out" | wc -l)"
done
execs=$(jq .execs <<< "$(u busy-loop.service)")
if [ "$execs" -ge 200 ]; then echo "ok: busy-loop execs $execs (work)"; else fail "busy-loop execs $execs"; fi

# One unit, one record: no artefact of a cgroup removed while named.
assert_eq "no (deleted) or partial names" 0 "$(jq '[.units[] | select(.unit | test("deleted|^\\.\\.\\./"))] | length' <<< "$dump")"
assert_eq "the guest's PID 1 is its own init.scope" 1 "$(jq -s length <<< "$(u init.scope)")"
assert_eq "no host unit carries the guest's getty" 0 \
	"$(jq '[.units[] | select(.machine == null and (.unit | startswith("serial-getty")))] | length' <<< "$dump")"
# Text: NAME:unit.
"$RCATRACE" dump --state "$WORK/state" > "$WORK/dump.txt"
grep -q "^$G:serial-getty@ttyS0.service" "$WORK/dump.txt" && echo "ok: text names $G:serial-getty@ttyS0.service" ||
	fail "text dump: $(head -5 "$WORK/dump.txt")"
echo "elapsed since the units started: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
finish
