#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Memory growth per unit and OOM records:
# - leak.service touches 2 MiB/s for 36 s: growth within 10% of the rate seen
#   in /proc/PID/status, leak suspect; flat.service (48 MiB base, 256 KiB
#   mapped and unmapped every 100 ms) is not;
# - a process in a 64 MiB v1 memory cgroup is OOM-killed: the record has its
#   pid, unit and constraint "memcg", it is on disk, and the kill is the kernel's.
. "$(dirname "$0")/lib.sh"

MEMCG=/sys/fs/cgroup/memory/rcatrace-test-$$
cleanup_memcg() {
	for p in $(cat "$MEMCG/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	sleep 0.2
	rmdir "$MEMCG" 2>/dev/null
}
trap 'cleanup_memcg; cleanup' EXIT

make_unit leak.service > /dev/null
make_unit flat.service > /dev/null
make_unit oom.service > /dev/null
start_rcatrace --json --interval 1 --state "$WORK/state" || finish

bash -c 'echo $$ > "$1/cgroup.procs"; exec "$2" flat 48' _ "$TEST_ROOT/flat.service" "$HELPERS/memhog" > "$WORK/flat.log" &
flat=$!
bash -c 'echo $$ > "$1/cgroup.procs"; exec "$2" grow 2048 45' _ "$TEST_ROOT/leak.service" "$HELPERS/memhog" > "$WORK/leak.log" &
leak=$!
sleep 38

# The rate the kernel's own accounting shows, from the helper's VmRSS lines.
rate=$(awk 'NR == 3 { t0 = $1; r0 = $2 } { t = $1; r = $2 } END { printf "%.1f", (r - r0) / (t - t0) }' "$WORK/leak.log")
echo "leak.service: /proc rate $rate KiB/s"
# The figures rcatrace reported when it flagged the leak, while it still grew.
finding=$(jq -c 'select(.type == "finding" and .finding == "leak_suspect" and .state == "started" and .unit == "leak.service")' "$WORK/out" | head -1)
assert_eq "leak.service flagged as a leak suspect" 1 "$(grep -c . <<< "$finding")"
assert_within "leak.service growth_kib_per_s vs /proc" "$rate" "$(jq .growth_kib_per_s <<< "$finding")" 0.10
echo "leak.service: R² $(jq .growth_fit_r2 <<< "$finding"), window $(jq .window_s <<< "$finding") s, ETA $(jq .exhaustion_eta_s <<< "$finding") s"

# 2. The OOM kill, in a v1 memory cgroup limited to 64 MiB.
mkdir "$MEMCG"
echo $((64 << 20)) > "$MEMCG/memory.limit_in_bytes"
echo 0 > "$MEMCG/memory.swappiness" 2>/dev/null
bash -c 'echo $$ > "$1/cgroup.procs"; echo $$ > "$2/cgroup.procs"; exec "$3" oom' _ \
	"$TEST_ROOT/oom.service" "$MEMCG" "$HELPERS/memhog" &
victim=$!
wait "$victim"
victim_status=$?
sleep 1.5
kill "$flat" "$leak"; wait "$flat" "$leak" 2>/dev/null
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"
assert_eq "victim died of SIGKILL" 137 "$victim_status"

# Growth and the leak verdict, from the last stats of the run (dump --json).
dump=$("$RCATRACE" dump --json --state "$WORK/state")
u() { jq -c ".units[] | select(.unit == \"$1\")" <<< "$dump"; }
assert_eq "flat.service never a suspect" 0 \
	"$(jq -c 'select(.type == "finding" and .finding == "leak_suspect" and .unit == "flat.service")' "$WORK/out" | wc -l)"
flat_rss=$(u flat.service | jq .rss_kib)
proc_flat=$(tail -n 1 "$WORK/flat.log" | awk '{ print $2 }')
assert_within "flat.service rss_kib vs /proc VmRSS" "$proc_flat" "$flat_rss" 0.10
assert_eq "flat.service not a suspect at the end" false "$(u flat.service | jq .leak_suspect)"

# The OOM record: streamed at kill time, and in the state file.
oom=$(jq -c 'select(.type == "oom_kill")' "$WORK/out" | head -1)
assert_eq "oom_kill pid" "$victim" "$(jq .pid <<< "$oom")"
assert_eq "oom_kill unit" oom.service "$(jq -r .unit <<< "$oom")"
assert_eq "oom_kill constraint" memcg "$(jq -r .constraint <<< "$oom")"
assert_eq "oom_kill memcg limit" $((64 << 20)) "$(jq .memcg_limit_bytes <<< "$oom")"
assert_eq "oom_kill on disk" true "$(jq .on_disk <<< "$oom")"
anon=$(jq .rss_kib.anon <<< "$oom")
[ "$anon" -gt 32768 ] && echo "ok: victim anon rss $anon KiB" || fail "victim anon rss $anon KiB"
assert_eq "dump oom_kills[].pid" "$victim" "$(jq '.oom_kills[] | select(.unit == "oom.service") | .pid' <<< "$dump")"
assert_eq "dump oom_kills[].constraint" memcg "$(jq -r '.oom_kills[] | select(.unit == "oom.service") | .constraint' <<< "$dump")"
assert_eq "unit oom_kills" 1 "$(u oom.service | jq .oom_kills)"
# The SIGKILL is the kernel's, never the victim killing itself.
k=$(jq -c "select(.type == \"kill\" and .target.pid == $victim)" "$WORK/out" | head -1)
assert_eq "victim's SIGKILL recorded" SIGKILL "$(jq -r .signal <<< "$k")"
assert_eq "victim's SIGKILL by the kernel" true "$(jq .by_kernel <<< "$k")"
finish
