#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The history outlives the processes: a leak flagged and then gone, a flat
# neighbour and a 100 ms respawn loop, read back with `timeline` and
# `history` after the run:
# - leak.service grows 2 MiB/s for 40 s, then its process is killed: the
#   timeline shows the leak suspect starting (growth within 10% of /proc) and
#   ending, its peak within 10% of the highest VmRSS; history holds its series
#   and the slope of that series is within 10% of /proc's;
# - flat.service is never a suspect;
# - storm.service's loop shows as a respawn storm with its start and end;
# - `report --html` draws it: rendered in headless Chromium, the leak's line
#   passes through every point of its series in the screenshot.
. "$(dirname "$0")/lib.sh"

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

make_unit leak.service > /dev/null
make_unit flat.service > /dev/null
make_unit storm.service > /dev/null
DB=$WORK/store.db
start_rcatrace --json --interval 1 --state "$DB" || finish
t_begin=${EPOCHREALTIME/./}
t_begin=${t_begin:0:13}

bash -c 'echo $$ > "$1/cgroup.procs"; exec "$2" flat 48' _ "$TEST_ROOT/flat.service" "$HELPERS/memhog" > "$WORK/flat.log" &
flat=$!
bash -c 'echo $$ > "$1/cgroup.procs"; exec "$2" grow 2048 40' _ "$TEST_ROOT/leak.service" "$HELPERS/memhog" > "$WORK/leak.log" &
leak=$!
leak_began=$SECONDS
storm storm.service 6
wait_for '.type == "finding" and .finding == "leak_suspect" and .state == "started" and .unit == "leak.service"' 40 ||
	fail "the leak was not flagged"
# Killed once it has stopped growing (40 s after it began).
sleep $((leak_began + 42 - SECONDS))
kill "$leak"; wait "$leak" 2> /dev/null
wait_for '.type == "finding" and .finding == "leak_suspect" and .state == "ended" and .unit == "leak.service"' 15 ||
	fail "the leak suspect did not end when its process exited"
wait_for '.type == "finding" and .finding == "respawn_storm" and .state == "ended" and .unit == "storm.service"' 45 ||
	fail "the storm did not end"
kill "$flat"; wait "$flat" 2> /dev/null
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

# What /proc said: the growth rate from the helper's VmRSS lines while it grew, and its highest VmRSS.
rate=$(awk 'NR == 3 { t0 = $1; r0 = $2 } NR <= 38 { t = $1; r = $2 } END { printf "%.1f", (r - r0) / (t - t0) }' "$WORK/leak.log")
peak=$(awk '$2 > m { m = $2 } END { print m }' "$WORK/leak.log")
echo "leak.service: /proc rate $rate KiB/s, highest VmRSS $peak KiB"

# 1. The timeline, read after the run: the leak from its start to its end.
tl=$("$RCATRACE" timeline --json --state "$DB")
ev() { jq -c ".events[] | select($1)" <<< "$tl"; }
started=$(ev '.kind == "finding_started" and .finding == "leak_suspect" and .unit == "leak.service"')
ended=$(ev '.kind == "finding_ended" and .finding == "leak_suspect" and .unit == "leak.service"')
echo "started: $started"
echo "ended:   $ended"
assert_eq "one leak start in the timeline" 1 "$(grep -c . <<< "$started")"
assert_eq "one leak end in the timeline" 1 "$(grep -c . <<< "$ended")"
assert_within "timeline: growth at the start vs /proc" "$rate" "$(jq .growth_kib_per_s <<< "$started")" 0.10
assert_within "timeline: rss at the peak vs the highest VmRSS" "$peak" "$(jq .rss_kib <<< "$ended")" 0.10
assert_eq "the end follows the start" true "$(jq -n --argjson s "$started" --argjson e "$ended" '$e.time > $s.time and $e.duration_s > 5')"
f=$(jq -c '.findings[] | select(.finding == "leak_suspect" and .unit == "leak.service")' <<< "$tl")
assert_eq "the finding is an ended interval" true "$(jq '.ended != null and .started < .ended' <<< "$f")"
assert_eq "its peak is above its start" true "$(jq '.at_peak.rss_kib > .at_start.rss_kib' <<< "$f")"
assert_eq "it ended because its processes exited" 1 "$(jq '.at_end.processes_gone' <<< "$f")"
assert_eq "flat.service never a suspect" "" "$(ev '.unit == "flat.service" and .finding != null')"
# The storm, with its start and end.
s_start=$(ev '.kind == "finding_started" and .finding == "respawn_storm" and .unit == "storm.service"' | jq -r .time)
s_end=$(ev '.kind == "finding_ended" and .finding == "respawn_storm" and .unit == "storm.service"' | jq -r .time)
echo "storm.service: respawn storm from $s_start to $s_end"
[ -n "$s_start" ] && [ -n "$s_end" ] && [[ "$s_end" > "$s_start" ]] || fail "the storm's start and end: '$s_start' '$s_end'"
run_start=$(jq -r 'select(.type == "finding" and .finding == "respawn_storm" and .state == "started" and .unit == "storm.service") | .time' "$WORK/out")
assert_eq "the storm started when run announced it (to the second)" "${run_start:0:19}" "${s_start:0:19}"
# In time order, and the text form says the same.
assert_eq "events in time order" true "$(jq '[.events[].time] | . == sort' <<< "$tl")"
text=$("$RCATRACE" timeline --state "$DB")
echo "$text"
grep -q "LEAK SUSPECT leak.service: growing" <<< "$text" || fail "text timeline: no leak start line"
grep -q "LEAK SUSPECT ended leak.service after [0-9]* s (its processes exited)" <<< "$text" || fail "text timeline: no leak end line"
"$RCATRACE" dump --state "$DB" | grep -E "^  [-0-9T:.Z]+ \.\. [-0-9T:.Z]+  leak_suspect leak.service: growing" ||
	fail "text dump: no leak finding"
grep -q "RESPAWN STORM storm.service /bin/sh" <<< "$text" || fail "text timeline: no storm line"
# Filters: a unit (flat.service only got the test's SIGTERM), and a range that ends before anything happened.
assert_eq "--unit flat.service: its kill only" '["kill"]' \
	"$("$RCATRACE" timeline --json --state "$DB" --unit flat.service | jq -c '[.events[].kind]')"
assert_eq "--until before the run: nothing" 0 \
	"$("$RCATRACE" timeline --json --state "$DB" --until 2000-01-01 | jq '.events | length')"

# 2. The history: the leak's series, and its slope while it grew.
hist=$("$RCATRACE" history --json --unit leak.service --state "$DB")
assert_eq "history: one unit" '["leak.service"]' "$(jq -c '[.units[].unit]' <<< "$hist")"
rows=$(jq '.units[0].series | length' <<< "$hist")
[ "$rows" -ge 15 ] && echo "ok: $rows rows for leak.service" || fail "history rows: $rows"
# Least squares over the rows while it grew (rss rising, before the plateau at the end of its 20 s).
slope=$(jq -r '.units[0].series[] | [(.time | sub("\\.[0-9]+Z$"; "Z") | fromdate), .time, .rss_kib] | @tsv' <<< "$hist" |
	awk -F'\t' 'NR == 1 { s0 = $1 } { ms = substr($2, 21, 3) + 0; t[NR] = $1 - s0 + ms / 1000; r[NR] = $3 }
		END { m = 0; for (i = 1; i <= NR; i++) if (r[i] > r[m] || m == 0) m = i
		      # from the third row to the first row at the top
		      for (i = 3; i <= NR && r[i] < r[m] * 0.97; i++) { n++; sx += t[i]; sy += r[i]; sxx += t[i] * t[i]; sxy += t[i] * r[i] }
		      printf "%.1f", (n * sxy - sx * sy) / (n * sxx - sx * sx) }')
assert_within "history: the leak's slope vs /proc" "$rate" "$slope" 0.10
htext=$("$RCATRACE" history --unit 'leak.*' --unit flat.service --state "$DB")
echo "$htext"
grep -q "^leak.service$" <<< "$htext" && grep -q "^flat.service$" <<< "$htext" || fail "text history: units"
grep -q "rss .*▁.*█" <<< "$htext" || fail "text history: no sparkline"
# 3. The report, rendered by headless Chromium: the page draws, the leak's line is where its series says.
"$RCATRACE" report --html "$WORK/report.html" --state "$DB" 2> "$WORK/err" || fail "report: $(cat "$WORK/err")"
cat "$WORK/err"
grep -q "<script" "$WORK/report.html" && fail "the report holds a script"
grep -Eq "(src|href)=|url\(" "$WORK/report.html" && fail "the report fetches something"
"$(dirname "$0")/report_screenshot.sh" "$WORK/report.html" "$WORK/report.png" || fail "no screenshot"
jq -c '[.units[0].series[] | [((.time | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000 + (.time[20:23] | tonumber)), .rss_kib]]' \
	<<< "$hist" > "$WORK/points.json"
python3 "$(dirname "$0")/report_check.py" --html "$WORK/report.html" --png "$WORK/report.png" \
	--unit leak.service --points "$WORK/points.json" || fail "the leak's line is not where its series says"
# The same check must fail on points that are not the leak's: twice its memory.
jq -c '[.[] | [.[0], .[1] * 2]]' "$WORK/points.json" > "$WORK/wrong.json"
python3 "$(dirname "$0")/report_check.py" --html "$WORK/report.html" --png "$WORK/report.png" \
	--unit leak.service --points "$WORK/wrong.json" > /dev/null 2>&1 && fail "the check passed wrong points"
grep -q "leak_suspect" "$WORK/report.html" || fail "the report does not show the leak suspect"
[ -n "${RCATRACE_KEEP_REPORT:-}" ] && cp "$WORK/report.html" "$WORK/report.png" "$RCATRACE_KEEP_REPORT/"

# Bad usage: exit 2 with the usage.
"$RCATRACE" history --bogus > /dev/null 2> "$WORK/err"
assert_eq "history --bogus exits 2" 2 $?
grep -q "unknown option '--bogus'" "$WORK/err" && grep -q "^Usage: rcatrace history" "$WORK/err" || fail "history --bogus: $(cat "$WORK/err")"
"$RCATRACE" timeline --state "$WORK/none.db" > /dev/null 2> "$WORK/err"
assert_eq "timeline of a missing store exits 1" 1 $?
grep -q "no store at $WORK/none.db" "$WORK/err" || fail "missing store: $(cat "$WORK/err")"
"$RCATRACE" report --state "$DB" > /dev/null 2> "$WORK/err"
assert_eq "report without --html exits 2" 2 $?
grep -q -- "--html FILE is required" "$WORK/err" || fail "report without --html: $(cat "$WORK/err")"
finish
