#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# systemd's shape without systemd: for every start the supervisor makes the
# unit's cgroup anew, the child moves itself in and execs `sh -c "exit 1"`,
# and the cgroup is removed once the child is gone, so each start has a new
# cgroup id. Every 300 ms for 8 s: ONE unit named regen.service (no record per
# cgroup, no "(deleted)" or "..." name), starts exact, period within 5%, storm.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TEST_ROOT"
cg=$TEST_ROOT/regen.service
start_rcatrace --json --interval 0.5 --state "$WORK/state" || finish

n=0 ids=
first=$EPOCHREALTIME
end=$((${first%.*} + 8))
while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
	mkdir "$cg" || { fail "mkdir $cg"; break; }
	ids+=" $(stat -c %i "$cg")"
	last=$EPOCHREALTIME
	bash -c 'echo $$ > "$1/cgroup.procs"; exec /bin/sh -c "exit 1"' _ "$cg"
	n=$((n + 1))
	# The child is reaped; the cgroup may lag a moment behind before it can go.
	for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2> /dev/null && break; sleep 0.01; done
	[ -d "$cg" ] && { fail "cannot remove $cg"; break; }
	read -r -t 0.3 <> <(:) || true
done
period=$(awk -v a="$first" -v b="$last" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1000 / (n - 1) }')
echo "supervisor: $n starts, period $period ms, $(tr ' ' '\n' <<< "$ids" | sort -u | grep -c .) distinct cgroup ids"
assert_eq "a new cgroup for every start" "$n" "$(tr ' ' '\n' <<< "$ids" | sort -u | grep -c .)"
sleep 1
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

dump=$("$RCATRACE" dump --json --state "$WORK/state")
jq -r '.units[] | "  \(.unit): starts \(.starts) execs \(.execs) exits \(.exits)"' <<< "$dump"
assert_eq "one unit record named regen.service" 1 "$(jq '[.units[] | select(.unit == "regen.service")] | length' <<< "$dump")"
assert_eq "no other record for its cgroups" 0 \
	"$(jq '[.units[] | select(.unit != "regen.service" and (.unit | test("regen")))] | length' <<< "$dump")"
assert_eq "no '(deleted)' or '...' name anywhere in the dump" 0 "$(grep -c -e '(deleted)' -e '\.\.\.' <<< "$dump")"
s=$(jq -c '.units[] | select(.unit == "regen.service")' <<< "$dump")
assert_eq "starts" "$n" "$(jq .starts <<< "$s")"
assert_eq "/bin/sh: starts and execs" "{\"starts\":$n,\"execs\":$n}" \
	"$(jq -c '.executables[] | select(.executable == "/bin/sh") | {starts, execs}' <<< "$s")"
assert_eq "exit codes" "{\"1\":$n}" "$(jq -c .exit_codes <<< "$s")"
assert_within "period_ms" "$period" "$(jq .period_ms <<< "$s")" 0.05
assert_eq "storm" true "$(jq .storm <<< "$s")"
assert_eq "respawn_storm finding started" 1 \
	"$(jq -c 'select(.type == "finding" and .finding == "respawn_storm" and .state == "started" and .unit == "regen.service")' "$WORK/out" | wc -l)"
assert_eq "no '(deleted)' or '...' name in run --json" 0 \
	"$(jq -r 'select(.unit != null) | .unit' "$WORK/out" | grep -c -e '(deleted)' -e '\.\.\.')"
finish
