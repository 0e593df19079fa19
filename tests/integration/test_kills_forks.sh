#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Who killed whom, and the fork-bomb guard:
# - a process in sender.service SIGTERMs one process in target.service and
#   SIGKILLs two more: three kill records, right sender pid, unit and lineage,
#   right targets and signals; a SIGCHLD storm produces no record;
# - a bounded fork storm in forkbomb.service under pids.max 32 (v1 pids):
#   forks within 2%, failed forks within 5% of the workload's own counts,
#   fork_storm within seconds; busy.service spawning fork+exec is no fork storm.
. "$(dirname "$0")/lib.sh"

PIDSCG=/sys/fs/cgroup/pids/rcatrace-test-$$
cleanup_pids() {
	for p in $(cat "$PIDSCG/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	sleep 0.2
	rmdir "$PIDSCG" 2>/dev/null
}
trap 'cleanup_pids; cleanup' EXIT

for u in sender.service target.service chld.service forkbomb.service busy.service orphan.service; do
	make_unit "$u" > /dev/null
done
start_rcatrace --json --interval 0.5 --state "$WORK/state" || finish

# 1. Kills across units.
for i in 1 2 3; do
	bash -c 'echo $$ > "$1/cgroup.procs"; exec sleep 60' _ "$TEST_ROOT/target.service" &
	echo $! >> "$WORK/targets"
done
sleep 0.3
mapfile -t t < "$WORK/targets"
bash -c 'echo $$ > "$1/cgroup.procs"; echo $$ > "$2"; kill -TERM "$3"; kill -KILL "$4" "$5"' _ \
	"$TEST_ROOT/sender.service" "$WORK/sender.pid" "${t[0]}" "${t[1]}" "${t[2]}"
sender=$(cat "$WORK/sender.pid")
wait "${t[@]}" 2>/dev/null

# 1b. A sender whose parent is gone when it kills: its lineage names who adopted it.
bash -c 'echo $$ > "$1/cgroup.procs"; exec sleep 60' _ "$TEST_ROOT/target.service" &
t4=$!
bash -c 'echo $$ > "$1/cgroup.procs"; echo $$ > "$2.parent"
	( sleep 0.5; echo $BASHPID > "$2.pid"
	  awk "/^PPid/ { print \$2 }" /proc/$BASHPID/status > "$2.ppid"; kill -TERM "$3" ) &
	exit 0' _ "$TEST_ROOT/orphan.service" "$WORK/orphan" "$t4"
wait "$t4" 2>/dev/null

# 2. A SIGCHLD storm: 1000 non-fatal signals, filtered in the kernel.
bash -c 'echo $$ > "$1/cgroup.procs"; exec sleep 60' _ "$TEST_ROOT/chld.service" &
chld=$!
sleep 0.2
bash -c 'for ((i = 0; i < 1000; i++)); do kill -CHLD "$1"; done' _ "$chld"
kill -KILL "$chld"; wait "$chld" 2>/dev/null

# 3. The fork storm, beside a busy but normal unit.
mkdir "$PIDSCG"
echo 32 > "$PIDSCG/pids.max"
bash -c 'for ((i = 0; i < 300; i++)); do /bin/true; done' &
busy_driver=$!
bash -c 'echo $$ > "$1/cgroup.procs"; for ((i = 0; i < 400; i++)); do /bin/true; done' _ "$TEST_ROOT/busy.service" &
busy=$!
storm_start=$EPOCHREALTIME
bash -c 'echo $$ > "$1/cgroup.procs"; echo $$ > "$2/cgroup.procs"; exec "$3" 5 200' _ \
	"$TEST_ROOT/forkbomb.service" "$PIDSCG" "$HELPERS/forker" > "$WORK/forker.out"
wait "$busy" "$busy_driver"
read -r _ forks_ok _ eagain _ other < "$WORK/forker.out"
echo "forker: $forks_ok forks, $eagain EAGAIN, $other other failures"
sleep 1
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

kills=$(jq -c "select(.type == \"kill\" and .sender.pid == $sender)" "$WORK/out")
assert_eq "kill records from the sender" 3 "$(grep -c . <<< "$kills")"
assert_eq "targets and signals" "${t[0]} SIGTERM
${t[1]} SIGKILL
${t[2]} SIGKILL" "$(jq -r '"\(.target.pid) \(.signal)"' <<< "$kills" | sort -k2,2r -k1,1n)"
assert_eq "sender unit" sender.service "$(jq -r .sender.unit <<< "$kills" | sort -u)"
assert_eq "target unit" target.service "$(jq -r .target.unit <<< "$kills" | sort -u)"
assert_eq "target comm" sleep "$(jq -r .target.comm <<< "$kills" | sort -u)"
assert_eq "sent by a process" false "$(jq .by_kernel <<< "$kills" | sort -u)"
assert_eq "cross-unit" true "$(jq .cross_unit <<< "$kills" | sort -u)"
assert_eq "lineage starts at the test script" "$$" "$(jq '.sender.lineage[0].pid' <<< "$kills" | sort -u)"
assert_eq "lineage parent is bash" bash "$(jq -r '.sender.lineage[0].comm' <<< "$kills" | sort -u)"
assert_eq "no SIGCHLD records" 0 "$(jq -c "select(.type == \"kill\" and .target.pid == $chld and .signal_number == 17)" "$WORK/out" | wc -l)"
assert_eq "one SIGKILL record for the chld target" 1 "$(jq -c "select(.type == \"kill\" and .target.pid == $chld)" "$WORK/out" | wc -l)"

orphan=$(jq -c "select(.type == \"kill\" and .sender.pid == $(cat "$WORK/orphan.pid"))" "$WORK/out")
assert_eq "orphaned sender recorded" "$t4 SIGTERM orphan.service" "$(jq -r '"\(.target.pid) \(.signal) \(.sender.unit)"' <<< "$orphan")"
assert_eq "orphan's lineage starts at its adopter" "$(cat "$WORK/orphan.ppid")" "$(jq '.sender.lineage[0].pid' <<< "$orphan")"
[ "$(jq '.sender.lineage[0].pid' <<< "$orphan")" != "$(cat "$WORK/orphan.parent")" ] &&
	echo "ok: the exited parent is not in the lineage" || fail "lineage names the exited parent"

dump=$("$RCATRACE" dump --json --state "$WORK/state")
u() { jq -c ".units[] | select(.unit == \"$1\")" <<< "$dump"; }
assert_eq "target.service kills_received" 4 "$(u target.service | jq .kills_received)"
assert_eq "target.service kills by sender" '[{"sender_unit":"orphan.service","signal":"SIGTERM","count":1},{"sender_unit":"sender.service","signal":"SIGKILL","count":2},{"sender_unit":"sender.service","signal":"SIGTERM","count":1}]' \
	"$(u target.service | jq -c '[.kills_by_sender[] | {sender_unit, signal, count}] | sort_by(.sender_unit, .signal)')"
assert_eq "sender.service kills_sent" 3 "$(u sender.service | jq .kills_sent)"
assert_eq "dump kills list" 3 "$(jq "[.kills[] | select(.sender.pid == $sender)] | length" <<< "$dump")"

fb=$(u forkbomb.service)
assert_within "forkbomb.service forks vs workload" "$forks_ok" "$(jq .forks <<< "$fb")" 0.02
assert_within "forkbomb.service forks_failed vs EAGAIN" "$eagain" "$(jq .forks_failed <<< "$fb")" 0.05
assert_eq "forkbomb.service EAGAIN histogram" "$(jq .forks_failed <<< "$fb")" "$(jq '.forks_failed_by_errno.EAGAIN' <<< "$fb")"
assert_eq "forkbomb.service fork_storm" true "$(jq .fork_storm <<< "$fb")"
assert_eq "forkbomb.service pids_max" 32 "$(jq .pids_max <<< "$fb")"
found=$(jq -r 'select(.type == "finding" and .finding == "fork_storm" and .state == "started" and .unit == "forkbomb.service") | .time' "$WORK/out" | head -1)
if [ -z "$found" ]; then
	fail "no fork_storm finding"
else
	delay=$(awk -v f="$(date -d "$found" +%s.%N)" -v s="$storm_start" 'BEGIN { printf "%.1f", f - s }')
	awk -v d="$delay" 'BEGIN { exit !(d <= 5.0) }' && echo "ok: fork storm flagged ${delay}s after it began" || fail "fork storm flagged after ${delay}s"
fi
assert_eq "busy.service is no fork storm" false "$(u busy.service | jq .fork_storm)"
assert_eq "busy.service execs (work)" 400 "$(u busy.service | jq .execs)"
assert_eq "no fork_storm finding for busy.service" 0 "$(jq -c 'select(.type == "finding" and .finding == "fork_storm" and .unit == "busy.service")' "$WORK/out" | wc -l)"
finish
