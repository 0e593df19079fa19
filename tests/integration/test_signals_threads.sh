#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Exit codes and fatal signals counted exactly; threads are not processes;
# a comm full of escape codes comes out escaped (valid JSON, no raw ESC on a terminal).
. "$(dirname "$0")/lib.sh"

make_unit sigs.service > /dev/null
make_unit threads.service > /dev/null
make_unit 'evil.service' > /dev/null
start_rcatrace --json --interval 0.2 --state "$WORK/state" || finish

# Three sleepers killed by KILL, TERM and SEGV, one exiting 3.
bash -c 'echo $$ > "$1/cgroup.procs"
	sleep 30 & a=$!; sleep 30 & b=$!; sleep 30 & c=$!
	sleep 0.3; kill -KILL $a; kill -TERM $b; kill -SEGV $c
	wait; /bin/sh -c "exit 3"' _ "$TEST_ROOT/sigs.service"

# One process with 8 threads, exit code 7.
bash -c 'echo $$ > "$1/cgroup.procs"; exec "$2" 8' _ "$TEST_ROOT/threads.service" "$HELPERS/threads"

# An executable whose name holds an escape sequence, a newline and a quote.
evil="$WORK/"$'\e[31mev"il\nX'
cp /bin/true "$evil"
bash -c 'echo $$ > "$1/cgroup.procs"; "$2"' _ "$TEST_ROOT/evil.service" "$evil"
sleep 0.5
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"
assert_eq "output is valid JSON lines" 0 "$(jq -c . "$WORK/out" > /dev/null; echo $?)"

sig() { jq -c "select(.unit == \"sigs.service\" and .type == \"exit\" and .signal_number == $1 and .exit_code == null)" "$WORK/out" | wc -l; }
assert_eq "SIGKILL exits" 1 "$(sig 9)"
assert_eq "SIGTERM exits" 1 "$(sig 15)"
assert_eq "SIGSEGV exits" 1 "$(sig 11)"
summary() { jq -c "select(.type == \"summary\") | .units[] | select(.unit == \"$1\")" "$WORK/out"; }
assert_eq "sigs.service signals" '{"SIGKILL":1,"SIGSEGV":1,"SIGTERM":1}' "$(summary sigs.service | jq -c .signals)"
# the three sleepers' parent (bash) exits 0 after sh exits 3
assert_eq "sigs.service exit codes" '{"0":1,"3":1}' "$(summary sigs.service | jq -c .exit_codes)"
assert_eq "sigs.service failed exits" 4 "$(summary sigs.service | jq .exits_failed)"

assert_eq "threads.service: threads" 8 "$(summary threads.service | jq .threads)"
assert_eq "threads.service: one exec" 1 "$(summary threads.service | jq .execs)"
assert_eq "threads.service: one process exit" 1 "$(summary threads.service | jq .exits)"
assert_eq "threads.service: exit code 7" '{"7":1}' "$(summary threads.service | jq -c .exit_codes)"
assert_eq "threads.service: one exit record" 1 \
	"$(jq -c 'select(.unit == "threads.service" and .type == "exit")' "$WORK/out" | wc -l)"

# The comm is the first 15 bytes of the file name: ESC [ 3 1 m e v " i l \n X
assert_eq "escaped comm round-trips through JSON" "$(printf '\e[31mev"il\nX')" \
	"$(jq -r 'select(.unit == "evil.service" and .type == "exec") | .comm' "$WORK/out")"
grep -q 'u001b\[31mev\\"il\\nX' "$WORK/out" && echo "ok: comm escaped in the raw JSON" || fail "comm not escaped in raw JSON"

# The text dump shows the executable path escaped: no raw ESC byte reaches a terminal.
"$RCATRACE" dump --state "$WORK/state" --unit evil.service > "$WORK/dump.txt"
assert_eq "dump exit status" 0 $?
if grep -q $'\e' "$WORK/dump.txt"; then fail "raw ESC in dump output"; else echo "ok: no raw ESC in dump"; fi
grep -q 'evil.service' "$WORK/dump.txt" && echo "ok: unit listed" || fail "evil.service not in dump"
finish
