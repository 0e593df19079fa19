#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The store survives SIGKILL at any moment; bad files are refused by dump and
# set aside by run; a full disk stops the writes, not the tracing, and they
# resume by themselves; a reboot keeps the earlier boot's totals.
. "$(dirname "$0")/lib.sh"
q() { "$HELPERS/db_writer" query "$@"; }

# 1. 1,000 SIGKILLs of a writer at random moments (0-20 ms into its life: its
#    open, a commit, a checkpoint): the database always opens as dump opens it
#    and holds every sample the writer was told was committed. Every 100th
#    database is checked again with `rcatrace dump` itself.
read -r _ kills _ whole _ bad _ samples < <("$HELPERS/db_writer" crashtest 1000 "$WORK/crash.db")
echo "db writer: $kills kills, $whole whole, $bad bad, $samples samples committed"
assert_eq "store whole after 1000 SIGKILLs" 1000 "$whole"
[ "${samples:-0}" -gt 1000 ] && echo "ok: $samples samples committed across the kills" || fail "only ${samples:-0} samples"
for snap in "$WORK"/crash.db.snap?; do
	"$RCATRACE" dump --json --state "$snap" > /dev/null 2> "$WORK/e" || fail "dump refused $snap: $(cat "$WORK/e")"
done
assert_eq "snapshots read by rcatrace dump" 10 "$(ls "$WORK"/crash.db.snap? | wc -l)"
assert_eq "store mode" 600 "$(stat -c %a "$WORK/crash.db")"

# 2. The real `rcatrace run`, SIGKILLed mid-run 10 times: always a readable store
#    that holds the unit's totals of every round: each is killed 0-0.3 s after
#    two samples (each followed by a save, --state-interval 0.1) took its execs in.
make_unit killed.service > /dev/null
for ((k = 0; k < 10; k++)); do
	start_rcatrace --json --interval 0.1 --state-interval 0.1 --state "$WORK/run/rcatrace.db" || break
	in_unit killed.service '/bin/true; /bin/true'
	seen=$(grep -c '"type":"stats"' "$WORK/out")
	for _ in $(seq 50); do [ "$(grep -c '"type":"stats"' "$WORK/out")" -ge $((seen + 2)) ] && break; sleep 0.05; done
	sleep "0.$((RANDOM % 4))"
	kill -KILL "$RCA_PID"; wait "$RCA_PID" 2>/dev/null; RCA_PID=
	"$RCATRACE" dump --json --state "$WORK/run/rcatrace.db" > "$WORK/d" 2> "$WORK/e" || fail "run killed $k: $(cat "$WORK/e")"
done
assert_eq "killed.service execs kept across the kills (3 per round)" 30 \
	"$(jq '.units[] | select(.unit == "killed.service") | .execs' "$WORK/d")"
assert_eq "store directory mode" 700 "$(stat -c %a "$WORK/run")"

# 3. Bad files: dump refuses with a message and exit 1; run sets them aside.
good=$WORK/run/rcatrace.db
"$RCATRACE" dump --json --state "$good" > /dev/null || fail "good store refused"
size=$(stat -c %s "$good")
head -c $((size / 2)) "$good" > "$WORK/truncated"
cp "$good" "$WORK/flipped"
# Page 2's b-tree page type byte: a page no b-tree can have.
printf '\x55' | dd of="$WORK/flipped" bs=1 seek=4096 conv=notrunc 2>/dev/null
head -c 65536 /dev/urandom > "$WORK/garbage"
q "$WORK/foreign" "CREATE TABLE notes(t TEXT)" > /dev/null
for f in truncated flipped garbage foreign; do
	"$RCATRACE" dump --state "$WORK/$f" > /dev/null 2> "$WORK/e"
	assert_eq "dump of the $f file exits" 1 $?
	grep -q 'refusing .*not an rcatrace database' "$WORK/e" && echo "ok: $f: $(cat "$WORK/e")" || fail "$f: $(cat "$WORK/e")"
done
for f in flipped foreign; do
	cp "$WORK/$f" "$WORK/setaside"
	start_rcatrace --json --state "$WORK/setaside" || finish
	stop_rcatrace
	grep -q "store .*setaside is unreadable (.*); kept it as .*setaside.corrupt and started afresh" "$WORK/err" \
		&& echo "ok: run set the $f file aside: $(grep unreadable "$WORK/err")" || fail "run message: $(cat "$WORK/err")"
	cmp -s "$WORK/$f" "$WORK/setaside.corrupt" && echo "ok: $f file kept intact" || fail "$f file not kept"
	"$RCATRACE" dump --json --state "$WORK/setaside" > /dev/null || fail "run did not start afresh"
	rm -f "$WORK"/setaside*
done

# 4. A reboot: boot A's totals stay, boot B counts apart; a restart within a boot continues.
#    Each spawn batch is N /bin/true plus the exec of the batch's own shell in the unit.
make_unit reboot.service > /dev/null
spawn() { in_unit reboot.service "for ((i = 0; i < $1; i++)); do /bin/true; done"; }
RCATRACE_BOOT_ID=boot-a start_rcatrace --json --state "$WORK/boots.db" || finish
spawn 5; sleep 0.3; stop_rcatrace
RCATRACE_BOOT_ID=boot-a start_rcatrace --json --state "$WORK/boots.db" || finish
spawn 2; sleep 0.3; stop_rcatrace
RCATRACE_BOOT_ID=boot-b start_rcatrace --json --state "$WORK/boots.db" || finish
spawn 3; sleep 0.3; stop_rcatrace
dump=$(RCATRACE_BOOT_ID=boot-b "$RCATRACE" dump --json --state "$WORK/boots.db" --unit reboot.service)
assert_eq "current boot" boot-b "$(jq -r .boot_id <<< "$dump")"
assert_eq "execs this boot (3 + 1)" 4 "$(jq '.units[0].execs' <<< "$dump")"
assert_eq "starts this boot: the batch's shell entering" 1 "$(jq '.units[0].starts' <<< "$dump")"
assert_eq "earlier boot kept, run restart continued its totals" '[{"boot_id":"boot-a","execs":9,"starts":2}]' \
	"$(jq -c '[.units[0].boots[] | {boot_id, execs, starts}]' <<< "$dump")"
assert_eq "boots listed" '["boot-a","boot-b"]' "$(jq -c '[.boots[].boot_id]' <<< "$dump")"
assert_eq "the series of each boot is apart" 2 \
	"$(q "$WORK/boots.db" "SELECT count(DISTINCT u.boot_id) FROM series s JOIN units u ON s.unit_id = u.id WHERE u.name = 'reboot.service'")"

# 5. A full disk (a 1 MiB tmpfs): tracing goes on, the failure is said once and
#    counted, and writing resumes by itself once there is room.
mkdir -p "$WORK/full"
mount -t tmpfs -o size=1m none "$WORK/full" || { fail "cannot mount a tmpfs"; finish; }
trap 'umount "$WORK/full" 2>/dev/null; cleanup' EXIT
make_unit full.service > /dev/null
start_rcatrace --json --interval 0.2 --state-interval 0.4 --max-db-size 1M --state "$WORK/full/rcatrace.db" || finish
dd if=/dev/zero of="$WORK/full/filler" bs=4k 2> /dev/null
# New units need new pages: 100 of them outgrow what the files hold; wait for the failure.
for ((i = 0; i < 100; i++)); do make_unit "full-$i.service" > /dev/null; in_unit "full-$i.service" '/bin/true'; done
for _ in $(seq 50); do grep -q 'disk full' "$WORK/err" && break; sleep 0.1; done
sleep 1
kill -0 "$RCA_PID" && echo "ok: rcatrace still tracing on a full disk" || fail "rcatrace died on a full disk"
assert_eq "disk full said once" 1 "$(grep -c 'cannot write the store .*: disk full; tracing goes on, writing resumes when there is room' "$WORK/err")"
failures=$(jq -s '[.[] | select(.type == "stats")] | last | .store_write_failures' "$WORK/out")
[ "${failures:-0}" -gt 0 ] && echo "ok: $failures failed writes counted" || fail "no failed write counted"
recs=$(jq -s '[.[] | select(.type == "stats")] | last | .records' "$WORK/out")
rm -f "$WORK/full/filler"
in_unit full.service '/bin/true; /bin/true'
sleep 1.5
assert_eq "writing resumes, said once" 1 "$(grep -c 'writing the store .* again' "$WORK/err")"
assert_eq "the last stats: saved" true "$(jq -s '[.[] | select(.type == "stats")] | last | .state_saved' "$WORK/out")"
[ "$(jq -s '[.[] | select(.type == "stats")] | last | .records' "$WORK/out")" -gt "${recs:-0}" ] \
	&& echo "ok: records kept flowing" || fail "records stopped"
stop_rcatrace
assert_eq "rcatrace exit status after the disk came back" 0 "$RCA_STATUS"
dump=$("$RCATRACE" dump --json --state "$WORK/full/rcatrace.db")
assert_eq "units traced while the disk was full are in the store" 100 \
	"$(jq '[.units[] | select(.unit | test("^full-"))] | length' <<< "$dump")"
[ "$(jq .lost.store_write_failures <<< "$dump")" -gt 0 ] && echo "ok: dump shows $(jq .lost.store_write_failures <<< "$dump") failed writes" \
	|| fail "dump lost: $(jq -c .lost <<< "$dump")"
umount "$WORK/full"
finish
