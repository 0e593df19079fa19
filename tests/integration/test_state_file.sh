#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The state file survives SIGKILL at any moment; bad files are refused by dump
# and set aside by run; a reboot keeps the earlier boot's totals.
. "$(dirname "$0")/lib.sh"

# 1. 1,000 SIGKILLs of a state writer at random moments (0-10 ms into its
#    saves): the file is always whole and holds the last acknowledged save or
#    the one after it. The helper checks each with the reader dump uses; every
#    100th file is checked again here with `rcatrace dump` itself.
read -r _ kills _ whole _ bad _ saves < <("$HELPERS/state_writer" crashtest 1000 "$WORK/crash")
echo "state writer: $kills kills, $whole whole, $bad bad, $saves saves"
assert_eq "state file whole after 1000 SIGKILLs" 1000 "$whole"
[ "${saves:-0}" -gt 1000 ] && echo "ok: $saves saves made across the kills" || fail "only ${saves:-0} saves made"
for snap in "$WORK"/crash.snap*; do
	"$RCATRACE" dump --json --state "$snap" > /dev/null 2> "$WORK/e" || fail "dump refused $snap: $(cat "$WORK/e")"
done
assert_eq "snapshots read by rcatrace dump" 10 "$(ls "$WORK"/crash.snap* | wc -l)"
assert_eq "state file mode" 600 "$(stat -c %a "$WORK/crash")"

# 2. The real `rcatrace run`, SIGKILLed mid-run 20 times: always a readable file.
make_unit killed.service > /dev/null
for ((k = 0; k < 20; k++)); do
	start_rcatrace --json --interval 0.1 --state-interval 0.1 --state "$WORK/run/state" || break
	in_unit killed.service '/bin/true; /bin/true' 
	sleep "0.$((RANDOM % 4))"
	kill -KILL "$RCA_PID"; wait "$RCA_PID" 2>/dev/null; RCA_PID=
	"$RCATRACE" dump --json --state "$WORK/run/state" > /dev/null 2> "$WORK/e" || fail "run killed $k: $(cat "$WORK/e")"
done
assert_eq "state directory mode" 700 "$(stat -c %a "$WORK/run")"

# 3. Bad files: dump refuses with a message and exit 1; run sets them aside.
"$RCATRACE" dump --json --state "$WORK/crash" > /dev/null || fail "good file refused"
size=$(stat -c %s "$WORK/crash")
head -c $((size - 1)) "$WORK/crash" > "$WORK/truncated"
cp "$WORK/crash" "$WORK/flipped"
printf '\x55' | dd of="$WORK/flipped" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
cp "$WORK/crash" "$WORK/version"
printf '\x63' | dd of="$WORK/version" bs=1 seek=8 conv=notrunc 2>/dev/null
for f in truncated flipped version; do
	"$RCATRACE" dump --state "$WORK/$f" > /dev/null 2> "$WORK/e"
	assert_eq "dump of the $f file exits" 1 $?
	grep -q 'refusing' "$WORK/e" && echo "ok: $f: $(cat "$WORK/e")" || fail "$f: $(cat "$WORK/e")"
done
cp "$WORK/flipped" "$WORK/setaside"
start_rcatrace --json --state "$WORK/setaside" || finish
stop_rcatrace
grep -q 'kept it as .*setaside.corrupt' "$WORK/err" && echo "ok: run set the corrupt file aside" || fail "run message: $(cat "$WORK/err")"
cmp -s "$WORK/flipped" "$WORK/setaside.corrupt" && echo "ok: corrupt file kept intact" || fail "corrupt file not kept"
"$RCATRACE" dump --json --state "$WORK/setaside" > /dev/null || fail "run did not start afresh"

# 4. A reboot: boot A's totals stay, boot B counts apart; a restart within a boot continues.
#    Each spawn batch is N /bin/true plus the exec of the batch's own shell in the unit.
make_unit reboot.service > /dev/null
spawn() { in_unit reboot.service "for ((i = 0; i < $1; i++)); do /bin/true; done"; }
RCATRACE_BOOT_ID=boot-a start_rcatrace --json --state "$WORK/boots" || finish
spawn 5; sleep 0.3; stop_rcatrace
RCATRACE_BOOT_ID=boot-a start_rcatrace --json --state "$WORK/boots" || finish
spawn 2; sleep 0.3; stop_rcatrace
RCATRACE_BOOT_ID=boot-b start_rcatrace --json --state "$WORK/boots" || finish
spawn 3; sleep 0.3; stop_rcatrace
dump=$(RCATRACE_BOOT_ID=boot-b "$RCATRACE" dump --json --state "$WORK/boots" --unit reboot.service)
assert_eq "current boot" boot-b "$(jq -r .boot_id <<< "$dump")"
assert_eq "execs this boot (3 + 1)" 4 "$(jq '.units[0].execs' <<< "$dump")"
assert_eq "starts this boot: the batch's shell entering" 1 "$(jq '.units[0].starts' <<< "$dump")"
assert_eq "earlier boot kept, run restart continued its totals" '[{"boot_id":"boot-a","execs":9,"starts":2}]' \
	"$(jq -c '[.units[0].boots[] | {boot_id, execs, starts}]' <<< "$dump")"
assert_eq "boots listed" '["boot-a","boot-b"]' "$(jq -c '[.boots[].boot_id]' <<< "$dump")"
finish
