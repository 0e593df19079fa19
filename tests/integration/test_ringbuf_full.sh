#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A full ring buffer loses records, never counts: with a 4 KiB ring buffer and
# the reader stopped, 200 spawns give exact per-unit counts in the summary and
# the state file, and the drops are reported in the stats line.
. "$(dirname "$0")/lib.sh"

make_unit fullring.service > /dev/null
start_rcatrace --json --interval 0.2 --ringbuf-size 4096 --state "$WORK/state" || finish
kill -STOP "$RCA_PID"
bash -c 'echo $$ > "$1/cgroup.procs"; for ((i = 0; i < 200; i++)); do /bin/sh -c "exit $((i % 2))"; done; exit 0' \
	_ "$TEST_ROOT/fullring.service"
kill -CONT "$RCA_PID"
sleep 0.6
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

records=$(jq -c 'select(.unit == "fullring.service" and .type == "exec")' "$WORK/out" | wc -l)
stats=$(jq -c 'select(.type == "stats")' "$WORK/out" | tail -1)
dropped=$(jq '.lost.ringbuf_exec + .lost.ringbuf_exit' <<< "$stats")
echo "exec records read: $records of 200; ring-buffer drops reported: $dropped"
[ "$records" -lt 200 ] && echo "ok: the ring buffer did overflow" || fail "the ring buffer did not overflow ($records records)"
[ "$dropped" -gt 0 ] && echo "ok: drops reported" || fail "no drops reported"
summary=$(jq -c 'select(.type == "summary") | .units[] | select(.unit == "fullring.service")' "$WORK/out")
assert_eq "execs exact despite the drops" 200 "$(jq .execs <<< "$summary")"
assert_eq "one start: the driver that entered the unit" 1 "$(jq .starts <<< "$summary")"
assert_eq "exits exact despite the drops (200 + the driver)" 201 "$(jq .exits <<< "$summary")"
assert_eq "exit codes exact" '{"0":101,"1":100}' "$(jq -c .exit_codes <<< "$summary")"
dump=$("$RCATRACE" dump --json --state "$WORK/state" --unit fullring.service)
assert_eq "state file execs" 200 "$(jq '.units[0].execs' <<< "$dump")"
assert_eq "state file reports the drops" "$dropped" "$(jq '.lost.ringbuf_exec + .lost.ringbuf_exit' <<< "$dump")"
finish
