#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A prefork master whose forked workers keep dying of SIGSEGV (crashy.service)
# is a crash storm, not a respawn storm: the master is the unit's one start,
# its workers are work. The finding names the signal, the crashing worker and
# the master that keeps replacing it; the crash counts are exact. The same
# master whose workers exit 0 (calm.service) is nothing at all.
. "$(dirname "$0")/lib.sh"

make_unit crashy.service > /dev/null
make_unit calm.service > /dev/null
start_rcatrace --json --interval 0.5 --state "$WORK/state" || finish

# Each master's wrapper moves itself in and execs the master: one start.
bash -c 'echo $$ > "$1/cgroup.procs"; exec "$2" crash 2 "$3"' \
	_ "$TEST_ROOT/crashy.service" "$HELPERS/prefork" "$WORK/crashy.result" &
crashy=$!
bash -c 'echo $$ > "$1/cgroup.procs"; exec "$2" exit0 2 "$3"' \
	_ "$TEST_ROOT/calm.service" "$HELPERS/prefork" "$WORK/calm.result" &
calm=$!
sleep 12
kill -TERM "$crashy" "$calm"
wait "$crashy" || fail "crashy master exited $?"
wait "$calm" || fail "calm master exited $?"
sleep 1
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"
# "workers W segv S exit0 E other O replaced R"
read -r _ cw _ cs _ ce _ co _ cr < "$WORK/crashy.result"
read -r _ mw _ ms _ me _ mo _ mr < "$WORK/calm.result"
echo "crashy master (pid $crashy): $cw workers, $cs SIGSEGV, $ce exit 0, $co other, $cr replaced"
echo "calm master (pid $calm): $mw workers, $ms SIGSEGV, $me exit 0, $mo other, $mr replaced"
[ "$cs" -ge 20 ] || fail "the crashy master saw only $cs crashes in 12 s"
assert_eq "crashy: every worker crashed" "$cw" "$cs"
[ "$me" -ge 8 ] || fail "the calm master saw only $me exits in 12 s"
assert_eq "calm: every worker exited 0" "$mw" "$me"

dump=$("$RCATRACE" dump --json --state "$WORK/state")
u() { jq -c ".units[] | select(.unit == \"$1\")" <<< "$dump"; }

# crashy.service: the finding.
f=$(jq -c 'select(.type == "finding" and .finding == "crash_storm" and .state == "started" and .unit == "crashy.service")' "$WORK/out")
echo "finding: $f"
assert_eq "one crash_storm finding started" 1 "$(grep -c . <<< "$f")"
f=$(head -1 <<< "$f")
assert_eq "finding signal" SIGSEGV "$(jq -r .signal <<< "$f")"
assert_eq "finding comm: the worker" prefork-worker "$(jq -r .comm <<< "$f")"
assert_eq "finding parent: the master" "{\"pid\":$crashy,\"comm\":\"prefork\"}" "$(jq -c .parent <<< "$f")"
assert_eq "finding executable" "$HELPERS/prefork" "$(jq -r .executable <<< "$f")"
assert_eq "finding machine" null "$(jq .machine <<< "$f")"
wc=$(jq .window_crashes <<< "$f")
if [ "$wc" -ge 5 ] && [ "$wc" -le "$(jq .crashes <<< "$f")" ]; then
	echo "ok: finding window_crashes $wc"
else
	fail "finding window_crashes $wc, crashes $(jq .crashes <<< "$f")"
fi
# It came within 4 s of the 5th crash (the exit records carry the crash times).
fifth=$(jq -r 'select(.type == "exit" and .unit == "crashy.service" and .signal == "SIGSEGV") | .time' "$WORK/out" | sed -n 5p)
delay=$(awk -v f="$(date -d "$(jq -r .time <<< "$f")" +%s.%N)" -v s="$(date -d "$fifth" +%s.%N)" 'BEGIN { printf "%.2f", f - s }')
if awk -v d="$delay" 'BEGIN { exit !(d >= 0 && d <= 4.0) }'; then
	echo "ok: crash storm flagged ${delay}s after the 5th crash"
else
	fail "crash storm flagged ${delay}s after the 5th crash ($fifth)"
fi
assert_eq "no crash_storm ended (60 s quiet needed)" 0 \
	"$(jq -c 'select(.type == "finding" and .finding == "crash_storm" and .state == "ended")' "$WORK/out" | wc -l)"
assert_eq "crashy: no respawn_storm finding" 0 \
	"$(jq -c 'select(.type == "finding" and .finding == "respawn_storm" and .unit == "crashy.service")' "$WORK/out" | wc -l)"

# crashy.service: the exact counts.
s=$(u crashy.service)
assert_eq "crashy: crash_storm" true "$(jq .crash_storm <<< "$s")"
assert_eq "crashy: crash_storms" 1 "$(jq .crash_storms <<< "$s")"
assert_eq "crashy: crashes" "$cs" "$(jq .crashes <<< "$s")"
assert_eq "crashy: window_crashes" "$cs" "$(jq .window_crashes <<< "$s")"
assert_eq "crashy: signals" "{\"SIGSEGV\":$cs}" "$(jq -c .signals <<< "$s")"
assert_eq "crashy: exit codes (the master)" '{"0":1}' "$(jq -c .exit_codes <<< "$s")"
assert_eq "crashy: exits" $((cs + 1)) "$(jq .exits <<< "$s")"
assert_eq "crashy: exits_failed" "$cs" "$(jq .exits_failed <<< "$s")"
assert_eq "crashy: starts (the master)" 1 "$(jq .starts <<< "$s")"
assert_eq "crashy: execs (the master's exec)" 1 "$(jq .execs <<< "$s")"
assert_eq "crashy: the master's executable" "{\"starts\":1,\"execs\":1,\"exits\":$((cs + 1))}" \
	"$(jq -c ".executables[] | select(.executable == \"$HELPERS/prefork\") | {starts, execs, exits}" <<< "$s")"
assert_eq "crashy: storm" false "$(jq .storm <<< "$s")"
assert_eq "crashy: machine" null "$(jq .machine <<< "$s")"

# calm.service: nothing to report.
s=$(u calm.service)
assert_eq "calm: no finding at all" 0 "$(jq -c 'select(.type == "finding" and .unit == "calm.service")' "$WORK/out" | wc -l)"
assert_eq "calm: crash_storm" false "$(jq .crash_storm <<< "$s")"
assert_eq "calm: crash_storms" 0 "$(jq .crash_storms <<< "$s")"
assert_eq "calm: crashes" 0 "$(jq .crashes <<< "$s")"
assert_eq "calm: storm" false "$(jq .storm <<< "$s")"
assert_eq "calm: starts (the master)" 1 "$(jq .starts <<< "$s")"
# Each worker's exit 0, and the master's own.
assert_eq "calm: exit codes" "{\"0\":$((me + 1))}" "$(jq -c .exit_codes <<< "$s")"
assert_eq "calm: workers replaced, and the first two" "$mw" $((mr + 2))
assert_eq "calm: signals" '{}' "$(jq -c .signals <<< "$s")"
finish
