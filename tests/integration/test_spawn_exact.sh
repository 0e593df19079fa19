#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# 200 spawns of `sh -c "exit $((i % 4))"` in spawn200.service: exactly 200 exec
# and 200 exit records, 50 of each exit code. The driver that moved itself in
# is the unit's one start; the 200 shells it runs are its work (execs).
. "$(dirname "$0")/lib.sh"

make_unit spawn200.service > /dev/null
start_rcatrace --json --interval 0.2 --state "$WORK/state" || finish

# The driver moves itself into the unit after its own exec, so only its
# children's execs are counted there; its own exit is the 201st exit.
bash -c 'echo $$ > "$1/cgroup.procs"; echo $$ > "$2"; for ((i = 0; i < 200; i++)); do /bin/sh -c "exit $((i % 4))"; done; exit 0' \
	_ "$TEST_ROOT/spawn200.service" "$WORK/driver.pid"
driver=$(cat "$WORK/driver.pid")
sleep 0.5
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

sel='select(.unit == "spawn200.service" and .pid != '"$driver"')'
assert_eq "exec records" 200 "$(jq -c "$sel | select(.type == \"exec\")" "$WORK/out" | wc -l)"
assert_eq "exit records" 200 "$(jq -c "$sel | select(.type == \"exit\")" "$WORK/out" | wc -l)"
for code in 0 1 2 3; do
	assert_eq "exit records with code $code" 50 \
		"$(jq -c "$sel | select(.type == \"exit\" and .exit_code == $code and .signal == null)" "$WORK/out" | wc -l)"
done
assert_eq "exec filename" /bin/sh "$(jq -r "$sel | select(.type == \"exec\") | .filename" "$WORK/out" | sort -u)"
assert_eq "exec comm" sh "$(jq -r "$sel | select(.type == \"exec\") | .comm" "$WORK/out" | sort -u)"
assert_eq "ppid is the driver" "$driver" "$(jq -r "$sel | select(.type == \"exec\") | .ppid" "$WORK/out" | sort -u)"
# lifetime: a shell that exits at once lives between 0 and 2 s here.
assert_eq "lifetimes plausible" 200 \
	"$(jq -c "$sel | select(.type == \"exit\" and .lifetime_ms > 0 and .lifetime_ms < 2000)" "$WORK/out" | wc -l)"
assert_eq "driver exit recorded" 1 \
	"$(jq -c 'select(.unit == "spawn200.service" and .type == "exit" and .pid == '"$driver"')' "$WORK/out" | wc -l)"

# The exact counters (maps, not the ring buffer): summary and state file agree.
summary=$(jq -c 'select(.type == "summary") | .units[] | select(.unit == "spawn200.service")' "$WORK/out")
assert_eq "summary starts (the driver entering)" 1 "$(jq .starts <<< "$summary")"
assert_eq "summary execs (its work)" 200 "$(jq .execs <<< "$summary")"
assert_eq "/bin/sh: work, no start" '{"starts":0,"execs":200}' \
	"$(jq -c '.executables[] | select(.executable == "/bin/sh") | {starts, execs}' <<< "$summary")"
assert_eq "work is never a storm" false "$(jq .storm <<< "$summary")"
assert_eq "summary exits (200 + driver)" 201 "$(jq .exits <<< "$summary")"
assert_eq "summary exit codes" '{"0":51,"1":50,"2":50,"3":50}' "$(jq -c .exit_codes <<< "$summary")"
assert_eq "summary signals" '{}' "$(jq -c .signals <<< "$summary")"
assert_eq "stats line present" 1 "$(jq -c 'select(.type == "stats")' "$WORK/out" | head -1 | wc -l)"
assert_eq "no ring-buffer loss" 0 "$(jq -s '[.[] | select(.type == "stats")] | last | .lost.ringbuf_exec + .lost.ringbuf_exit' "$WORK/out")"

dump=$("$RCATRACE" dump --json --state "$WORK/state" --unit spawn200.service)
assert_eq "dump starts" 1 "$(jq '.units[0].starts' <<< "$dump")"
assert_eq "dump execs" 200 "$(jq '.units[0].execs' <<< "$dump")"
assert_eq "dump exit codes" '{"0":51,"1":50,"2":50,"3":50}' "$(jq -c '.units[0].exit_codes' <<< "$dump")"
finish
