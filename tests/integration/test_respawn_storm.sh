#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A supervisor starts a short-lived failing process in storm.service every
# 100 ms for 10 s: starts exact (±1), period within 5%, storm flagged within
# 3 s of the first start, exit code 1 counted; an idle unit is no storm.
. "$(dirname "$0")/lib.sh"

make_unit storm.service > /dev/null
make_unit idle.service > /dev/null
start_rcatrace --json --interval 0.5 --state "$WORK/state" || finish
# The idle unit: one long sleeper.
bash -c 'echo $$ > "$1/cgroup.procs"; exec sleep 60' _ "$TEST_ROOT/idle.service" &
idle=$!

# The supervisor lives outside the unit; each child moves itself in and execs
# sh there, so the unit sees exactly one start per iteration.
n=0
first=$EPOCHREALTIME
end=$(( ${first%.*} + 10 ))
while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
	bash -c 'echo $$ > "$1/cgroup.procs"; exec /bin/sh -c "exit 1"' _ "$TEST_ROOT/storm.service"
	last=$EPOCHREALTIME
	n=$((n + 1))
	read -r -t 0.1 <> <(:) || true
done
period=$(awk -v a="$first" -v b="$last" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1000 / (n - 1) }')
echo "supervisor: $n starts, period $period ms"
sleep 1
kill "$idle"; wait "$idle" 2>/dev/null
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

dump=$("$RCATRACE" dump --json --state "$WORK/state")
u() { jq -c ".units[] | select(.unit == \"$1\")" <<< "$dump"; }
starts=$(u storm.service | jq .starts)
if [ $((starts - n)) -ge -1 ] && [ $((starts - n)) -le 1 ]; then echo "ok: starts $starts (supervisor: $n)"; else fail "starts $starts, supervisor made $n"; fi
assert_within "period_ms" "$period" "$(u storm.service | jq .period_ms)" 0.05
assert_eq "storm" true "$(u storm.service | jq .storm)"
assert_eq "exit code 1 counted" "$n" "$(u storm.service | jq '.exit_codes["1"]')"
assert_eq "main executable" /bin/sh "$(u storm.service | jq -r .main_executable)"
assert_eq "idle unit is no storm" false "$(u idle.service | jq .storm)"

# The finding came within 3 s of the first start.
found=$(jq -r 'select(.type == "finding" and .finding == "respawn_storm" and .state == "started" and .unit == "storm.service") | .time' "$WORK/out" | head -1)
if [ -z "$found" ]; then
	fail "no storm finding in run --json"
else
	delay=$(awk -v f="$(date -d "$found" +%s.%N)" -v s="$first" 'BEGIN { printf "%.1f", f - s }')
	if awk -v d="$delay" 'BEGIN { exit !(d <= 3.0) }'; then echo "ok: storm flagged ${delay}s after the first start"; else fail "storm flagged after ${delay}s"; fi
fi
assert_eq "no finding for the idle unit" 0 "$(jq -c 'select(.type == "finding" and .unit == "idle.service")' "$WORK/out" | wc -l)"

# Text dump: the storm is flagged in ALERTS.
"$RCATRACE" dump --state "$WORK/state" --unit storm.service > "$WORK/dump.txt"
grep -q 'storm.service .*STORM' "$WORK/dump.txt" && echo "ok: text dump shows the storm" || fail "text dump: $(cat "$WORK/dump.txt")"
finish
