#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A supervisor outside the unit starts /bin/false straight into cloned.service
# with clone3(CLONE_INTO_CGROUP), 30 times, every 100 ms: no process ever
# migrates, yet each child entered the unit from outside, so each is a start.
# Starts exact, exit codes exact, period within 5% of the supervisor's, storm
# flagged within 3 s of the first start.
. "$(dirname "$0")/lib.sh"

make_unit cloned.service > /dev/null
start_rcatrace --json --interval 0.5 --state "$WORK/state" || finish

"$HELPERS/clone_into" "$TEST_ROOT/cloned.service" 30 100 /bin/false > "$WORK/sup.out"
rc=$?
if [ "$rc" -eq 77 ]; then
	if [ "${CI:-false}" = true ]; then
		fail "clone3 with CLONE_INTO_CGROUP is unavailable here (CI=true makes this a failure)"
	else
		echo "SKIP: clone3 with CLONE_INTO_CGROUP is unavailable on this kernel"
	fi
	finish
fi
assert_eq "supervisor exit status" 0 "$rc"
# "starts N first T0 last T1 exit_code C:n ..."
read -r _ n _ first _ last _ codes < "$WORK/sup.out"
period=$(awk -v a="$first" -v b="$last" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1000 / (n - 1) }')
echo "supervisor: $n starts, period $period ms, exit codes $codes"
assert_eq "every child ran /bin/false" 1:30 "$codes"
sleep 1
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

s=$("$RCATRACE" dump --json --state "$WORK/state" | jq -c '.units[] | select(.unit == "cloned.service")')
assert_eq "starts" 30 "$(jq .starts <<< "$s")"
assert_eq "/bin/false: starts and execs" '{"starts":30,"execs":30}' \
	"$(jq -c '.executables[] | select(.executable == "/bin/false") | {starts, execs}' <<< "$s")"
assert_eq "execs: nothing but the starts" 30 "$(jq .execs <<< "$s")"
assert_eq "exit codes" '{"1":30}' "$(jq -c .exit_codes <<< "$s")"
assert_eq "exits_failed" 30 "$(jq .exits_failed <<< "$s")"
assert_within "period_ms" "$period" "$(jq .period_ms <<< "$s")" 0.05
assert_eq "storm" true "$(jq .storm <<< "$s")"
assert_eq "/bin/false classed storm" storm "$(jq -r '.executables[] | select(.executable == "/bin/false") | .class' <<< "$s")"

# The finding came within 3 s of the first start.
f=$(jq -c 'select(.type == "finding" and .finding == "respawn_storm" and .state == "started" and .unit == "cloned.service")' "$WORK/out" | head -1)
if [ -z "$f" ]; then
	fail "no respawn_storm finding in run --json"
else
	echo "finding: $f"
	assert_eq "finding executable" /bin/false "$(jq -r .executable <<< "$f")"
	delay=$(awk -v f="$(date -d "$(jq -r .time <<< "$f")" +%s.%N)" -v s="$first" 'BEGIN { printf "%.2f", f - s }')
	if awk -v d="$delay" 'BEGIN { exit !(d >= 0 && d <= 3.0) }'; then
		echo "ok: storm flagged ${delay}s after the first start"
	else
		fail "storm flagged ${delay}s after the first start"
	fi
fi
finish
