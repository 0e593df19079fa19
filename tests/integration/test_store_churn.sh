#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# 10,000 distinct short-lived units in one boot under --max-db-size 2M: the
# store stays within the cap (history goes first, counted; the per-unit totals
# stay), dump still reads it. tests/unit/test_db.c checks the oldest go first.
. "$(dirname "$0")/lib.sh"
q() { "$HELPERS/db_writer" query "$@"; }
cap=$((2 << 20))

mkdir -p "$TEST_ROOT"
start_rcatrace --json --interval 0.2 --state-interval 1 --max-db-size 2M --state "$WORK/churn.db" || finish
read -r _ made < <("$HELPERS/cgroup_churn" "$TEST_ROOT" 10000)
assert_eq "units churned" 10000 "$made"
sleep 2
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"
size=$(stat -c %s "$WORK/churn.db")
wal=$(stat -c %s "$WORK/churn.db-wal" 2> /dev/null || echo 0)
echo "store: $size bytes, WAL $wal bytes, cap $cap"
[ $((size + wal)) -le $cap ] && echo "ok: within the cap" || fail "store $size + WAL $wal bytes over the cap $cap"
dump=$("$RCATRACE" dump --json --state "$WORK/churn.db")
n=$(jq '[.units[] | select(.unit | test("^churn-"))] | length' <<< "$dump")
echo "dump: $n churn units kept, $(jq .lost.store_rows_dropped <<< "$dump") history rows dropped by the cap," \
	"$(q "$WORK/churn.db" "SELECT count(*) FROM series") kept"
[ "$n" -ge 4000 ] && echo "ok: $n units in the dump" || fail "only $n units in the dump"
# The totals of 4,095 units take most of 2 MiB: the cap took the history, and counted it.
[ "$(jq .lost.store_rows_dropped <<< "$dump")" -gt 0 ] && echo "ok: history dropped and counted" || fail "nothing dropped under the cap"
finish
