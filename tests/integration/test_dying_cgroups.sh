#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# timeout: 420
# Dying cgroups: a crash loop whose every start leaves a memory cgroup behind.
# Every 250 ms for 90 s, a failing process starts in churn.service and in a
# new v1 memory cgroup, writes 64 KiB of page cache there (the file is kept),
# and the memory cgroup is removed: the page cache still charged to it keeps
# the kernel from freeing it, so it is dying, counted in /proc/cgroups.
# The files are on a tmpfs of the test's own: pages that are never written
# back. On the disk (ext4 here) some dying cgroups went free once their pages
# had been written back (0.93 per cycle over 360 cycles, the first after
# ~55 s, in bursts every 5 s), a count that bends; on tmpfs it is 1.000.
# - churn.service is flagged as a respawn storm;
# - the link kernel:dying_cgroups <- churn.service is announced by run and
#   kept in dump, its count per start within 20% of the growth of the memory
#   controller's num_cgroups per cycle in /proc/cgroups;
# - nothing is left behind: the files and their tmpfs go, the page cache is
#   dropped, and num_cgroups is back where it was.
# rcatrace runs 60 s before the loop, so it has seen the count flat first.
# The memory controller is on v1 here (hybrid cgroups; the v2 tree has no
# controllers), so the memory cgroups are made in the v1 memory hierarchy.
. "$(dirname "$0")/lib.sh"

PRE_S=60       # rcatrace watches the count before the storm
PERIOD_MS=250
CYCLES=360     # 90 s at 250 ms
KIB=64         # page cache per cycle: any page pins its cgroup
# The v1 memory hierarchy: a "cgroup" mount whose super options name memory.
MEMV1=$(awk '{ for (i = 7; i < NF && $i != "-"; i++); if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)memory(,|$)/) { print $5; exit } }' /proc/self/mountinfo)
MEMCG=${MEMV1:-/nonexistent}/rcatrace-test-$$
FILES=$WORK/files
DYING=

memory_num_cgroups() { awk '$1 == "memory" { print $3 }' /proc/cgroups; }

# Stops the loop, then lets the kernel free what it left: the files' pages go
# with the files and their tmpfs. A cycle's child may also have been the first
# to read a page of /bin/false or of a library since the last drop: that page
# is charged to its cgroup and pins it too, so the page cache is dropped.
cleanup_dying() {
	local d
	[ -n "$DYING" ] && kill "$DYING" 2> /dev/null && wait "$DYING" 2> /dev/null
	DYING=
	# A child of a cycle cut short may still be in its cgroup, holding its file.
	for d in $(find "$MEMCG" -mindepth 1 -type d 2> /dev/null); do
		kill_unit_procs "$d"
	done
	if mountpoint -q "$FILES"; then
		sleep 0.1
		rm -rf "${FILES:?}"/*
		umount "$FILES"
	fi
	echo 1 > /proc/sys/vm/drop_caches
	if [ -d "$MEMCG" ]; then
		for d in $(find "$MEMCG" -mindepth 1 -depth -type d); do
			rmdir "$d" 2> /dev/null || { sleep 0.3; rmdir "$d" 2> /dev/null; }
		done
		rmdir "$MEMCG" 2> /dev/null || { sleep 0.3; rmdir "$MEMCG" 2> /dev/null; }
	fi
}
trap 'cleanup_dying; cleanup' EXIT

wait_for() { # wait_for JQ_FILTER SECONDS: until a line of run --json matches
	for _ in $(seq $(($2 * 10))); do
		[ -n "$(jq -c "select($1)" "$WORK/out" 2> /dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

if [ -z "$MEMV1" ]; then
	fail "no v1 memory hierarchy: this test makes its dying memory cgroups there (hybrid cgroups)"
	finish
fi
make_unit churn.service > /dev/null
# Before the test's own memory cgroup: what the machine had without the test.
baseline=$(memory_num_cgroups)
mkdir "$MEMCG" "$FILES" && mount -t tmpfs -o size=64m,mode=0700 rcatrace-test "$FILES" ||
	{ fail "cannot make $MEMCG and a tmpfs at $FILES"; finish; }
DB=$WORK/state
start_rcatrace --json --interval 1 --state "$DB" || finish
t0=${EPOCHREALTIME%.*}

"$HELPERS/churn_dying" -a $((t0 + PRE_S)) "$TEST_ROOT/churn.service" "$MEMCG" "$FILES" \
	"$PERIOD_MS" "$CYCLES" "$KIB" > "$WORK/churn.log" &
DYING=$!
wait "$DYING"
assert_eq "the loop's exit status (every cycle started, wrote and was removed)" 0 $?
DYING=
# One more sample, and the link if it is not out yet.
sleep 6
wait_for '.type == "finding" and .finding == "churn_growth" and .state == "started" and .unit == "kernel:dying_cgroups"' 10
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"

# What /proc/cgroups says: the memory hierarchy's cgroups (live and dying) gained
# per cycle, while no cycle's own cgroup is live between cycles.
assert_eq "cycles" "$CYCLES" "$(tail -n 1 "$WORK/churn.log" | awk '{ print $3 }')"
per_cycle=$(awk '$3 == 0 { n0 = $2 } { n = $2; c = $3 } END { if (c > 0) printf "%.3f", (n - n0) / c }' "$WORK/churn.log")
echo "/proc/cgroups: memory num_cgroups $(head -n 1 "$WORK/churn.log" | awk '{ print $2 }') -> $(tail -n 1 "$WORK/churn.log" | awk '{ print $2 }') over $CYCLES cycles: $per_cycle dying per cycle"
# Without dying cgroups there is nothing to link: the kernel freed them (a kernel that
# moves page cache to the parent on removal would), and the test cannot say anything.
awk -v p="$per_cycle" 'BEGIN { exit !(p >= 0.5) }' ||
	fail "the removed memory cgroups did not stay dying ($per_cycle per cycle): nothing to link"

# 1. The storm.
assert_eq "churn.service flagged as a respawn storm" 1 "$(jq -c 'select(.type == "finding" and .finding == "respawn_storm" and .state == "started" and .unit == "churn.service")' "$WORK/out" | head -n 1 | grep -c .)"

# 2. The link, as run announced it.
echo "--- churn_growth started:"
jq -c 'select(.type == "finding" and .finding == "churn_growth" and .state == "started")' "$WORK/out"
l=$(jq -c 'select(.type == "finding" and .finding == "churn_growth" and .state == "started" and .unit == "kernel:dying_cgroups" and .storm_unit == "churn.service")' "$WORK/out" | head -n 1)
if [ -z "$l" ]; then
	fail "no churn_growth link kernel:dying_cgroups <- churn.service"
else
	echo "kernel:dying_cgroups <- churn.service: $(jq -r '"\(.kib_per_start) per start, R² \(.r2), \(.starts) starts, +\(.growth_kib)"' <<< "$l")"
	assert_within "kernel:dying_cgroups per start vs /proc/cgroups" "$per_cycle" "$(jq .kib_per_start <<< "$l")" 0.20
	assert_eq "over 20 starts or more, R² 0.9 or more" true "$(jq '.starts >= 20 and .r2 >= 0.9 and .r2 <= 1' <<< "$l")"
	assert_eq "machines" "null null" "$(jq -r '"\(.machine) \(.storm_machine)"' <<< "$l")"
fi

# 3. The store.
dump=$("$RCATRACE" dump --json --state "$DB")
echo "--- dump churn_links:"
jq -c '.churn_links[]' <<< "$dump"
s=$(jq -c '.churn_links[] | select(.growing_unit == "kernel:dying_cgroups" and .storm_unit == "churn.service")' <<< "$dump")
assert_eq "dump: one link kernel:dying_cgroups <- churn.service" 1 "$(grep -c . <<< "$s")"
if [ -n "$s" ]; then
	assert_within "dump: kernel:dying_cgroups per start vs /proc/cgroups" "$per_cycle" "$(jq .kib_per_start <<< "$s" | head -n 1)" 0.20
	[ -n "$l" ] && assert_eq "dump: holds the link run announced (as many starts or more)" true \
		"$(jq --argjson a "$l" '.starts >= $a.starts and .r2 >= 0.9 and .growth_kib > 0' <<< "$s" | head -n 1)"
fi

# 4. Nothing left behind: with the page cache gone the kernel frees the dying cgroups.
cleanup_dying
for _ in $(seq 100); do
	left=$(memory_num_cgroups)
	[ "$left" -le "$baseline" ] && break
	sleep 0.2
done
if [ "$left" -le "$baseline" ]; then
	echo "ok: memory num_cgroups $left, $baseline before the test: the dying cgroups were freed"
else
	fail "memory num_cgroups $left after the cleanup, $baseline before the test: dying cgroups left behind"
fi
finish
