#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A unit whose cgroup is removed before rcatrace reads its records is still named.
. "$(dirname "$0")/lib.sh"

start_rcatrace --json --interval 5 --state "$WORK/state" || finish
# Pause the reader, so records wait in the ring buffer while the cgroup disappears.
kill -STOP "$RCA_PID"
make_unit gone.service > /dev/null
bash -c 'echo $$ > "$1/cgroup.procs"; for i in 1 2 3; do /bin/true; done; echo $$ > "$2/cgroup.procs"' \
	_ "$TEST_ROOT/gone.service" "$TEST_ROOT"
rmdir "$TEST_ROOT/gone.service"
kill -CONT "$RCA_PID"
sleep 1
stop_rcatrace
assert_eq "cgroup really removed" 0 "$([ -d "$TEST_ROOT/gone.service" ] && echo 1 || echo 0)"
assert_eq "exec records named after the removed unit" 3 \
	"$(jq -c 'select(.type == "exec" and .unit == "gone.service")' "$WORK/out" | wc -l)"
assert_eq "no unnamed units" 0 \
	"$(jq -c 'select(.type == "exec" and (.unit | startswith("cgroup:")))' "$WORK/out" | wc -l)"
assert_eq "summary keeps the unit: its 3 execs" 3 \
	"$(jq 'select(.type == "summary") | .units[] | select(.unit == "gone.service") | .execs' "$WORK/out")"
assert_eq "summary keeps the unit: the shell that entered it, its one start" 1 \
	"$(jq 'select(.type == "summary") | .units[] | select(.unit == "gone.service") | .starts' "$WORK/out")"
finish
