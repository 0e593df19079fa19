#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Findings are kept as intervals: a respawn storm from a 100 ms loop is in the
# store from its start (fsynced before it is announced: a SIGKILL right after
# leaves it open there) to its end, with its figures at the start and the peak;
# after the unit's processes and cgroup are gone, its finding and history stay.
. "$(dirname "$0")/lib.sh"
q() { "$HELPERS/db_writer" query "$@"; }
storm() { # storm UNIT SECONDS: a failing /bin/sh started in UNIT every 100 ms
	local end=$((${EPOCHREALTIME%.*} + $2))
	while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
		bash -c 'echo $$ > "$1/cgroup.procs"; exec /bin/sh -c "exit 1"' _ "$TEST_ROOT/$1"
		read -r -t 0.1 <> <(:) || true
	done
}
wait_for() { # wait_for JQ_FILTER SECONDS: until a line of run --json matches
	for _ in $(seq $(($2 * 10))); do
		[ -n "$(jq -c "select($1)" "$WORK/out" 2> /dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# 1. Started, then SIGKILLed the moment it is announced: open in the store.
make_unit sudden.service > /dev/null
start_rcatrace --json --interval 0.5 --state "$WORK/killed.db" || finish
storm sudden.service 4 &
loop=$!
wait_for '.type == "finding" and .state == "started" and .unit == "sudden.service"' 10 || fail "no storm announced"
kill -KILL "$RCA_PID"; wait "$RCA_PID" 2> /dev/null; RCA_PID=
wait "$loop"
f=$("$RCATRACE" dump --json --state "$WORK/killed.db" | jq -c '.findings[] | select(.unit == "sudden.service")')
assert_eq "the storm is in the store, open" '{"finding":"respawn_storm","ended":null,"executable":"/bin/sh"}' \
	"$(jq -c '{finding, ended, executable}' <<< "$f")"

# 2. A storm from start to end (30 s of quiet ends it), its unit gone before the end.
make_unit storm.service > /dev/null
start_rcatrace --json --interval 0.5 --state "$WORK/store.db" || finish
storm storm.service 6
rmdir "$TEST_ROOT/storm.service"
wait_for '.type == "finding" and .state == "ended" and .unit == "storm.service"' 45 || fail "the storm did not end"
stop_rcatrace
dump=$("$RCATRACE" dump --json --state "$WORK/store.db")
f=$(jq -c '[.findings[] | select(.unit == "storm.service")]' <<< "$dump")
assert_eq "one respawn storm finding" 1 "$(jq length <<< "$f")"
f=$(jq -c '.[0]' <<< "$f")
echo "finding: $f"
assert_eq "kind, executable" '["respawn_storm","/bin/sh",null]' "$(jq -c '[.finding, .executable, .machine]' <<< "$f")"
started=$(jq -r 'select(.type == "finding" and .state == "started" and .unit == "storm.service") | .time' "$WORK/out")
ended=$(jq -r 'select(.type == "finding" and .state == "ended" and .unit == "storm.service") | .time' "$WORK/out")
assert_eq "started when announced (to the second)" "${started:0:19}" "$(jq -r .started <<< "$f" | cut -c1-19)"
assert_eq "ended when announced (to the second)" "${ended:0:19}" "$(jq -r .ended <<< "$f" | cut -c1-19)"
ws=$(jq '.at_start.window_starts' <<< "$f")
wp=$(jq '.at_peak.window_starts' <<< "$f")
[ "${ws%.*}" -gt 0 ] && [ "${wp%.*}" -ge "${ws%.*}" ] && echo "ok: window starts $ws at the start, $wp at the peak" \
	|| fail "figures: $(jq -c '{at_start, at_peak}' <<< "$f")"
assert_eq "the figures name the executable" /bin/sh "$(jq -r .at_start.executable <<< "$f")"
# The unit's totals and history outlive its cgroup.
assert_eq "totals kept" true "$(jq '[.units[] | select(.unit == "storm.service")] | .[0].starts > 30' <<< "$dump")"
rows=$(q "$WORK/store.db" "SELECT count(*) FROM series s JOIN units u ON s.unit_id = u.id WHERE u.name = 'storm.service'")
[ "${rows:-0}" -ge 5 ] && echo "ok: $rows series rows kept" || fail "series rows: $rows"
assert_eq "the series counts up to the totals" "$(jq '.units[] | select(.unit == "storm.service") | .starts' <<< "$dump")" \
	"$(q "$WORK/store.db" "SELECT max(s.starts) FROM series s JOIN units u ON s.unit_id = u.id WHERE u.name = 'storm.service'")"
finish
