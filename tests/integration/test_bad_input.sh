#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Bad usage exits 2 with usage; no root exits 1 with what to do.
. "$(dirname "$0")/lib.sh"

check_usage() {
	local want=$1
	shift
	"$RCATRACE" "$@" > "$WORK/o" 2> "$WORK/e"
	assert_eq "exit status of: rcatrace $*" "$want" $?
	grep -q '^Usage: rcatrace' "$WORK/e" && echo "ok: usage shown" || fail "no usage for: rcatrace $*"
}
check_usage 2 run --bogus
check_usage 2 run --interval 0
check_usage 2 run --interval abc
check_usage 2 run --duration -5
check_usage 2 run --ringbuf-size 1000
check_usage 2 run extra-arg
check_usage 2 dump --top x
check_usage 2 dump --since yesterday-ish
check_usage 2 frobnicate
check_usage 2
"$RCATRACE" run --help > "$WORK/o"; assert_eq "run --help exit" 0 $?
grep -q 'Examples' "$WORK/o" && echo "ok: help has examples" || fail "run --help has no examples"

# Not root: one line that says what to do, exit 1.
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$RCATRACE" run > "$WORK/o" 2> "$WORK/e"
assert_eq "non-root run exit" 1 $?
grep -q 'needs root' "$WORK/e" && echo "ok: non-root message" || fail "non-root message: $(cat "$WORK/e")"

# No BTF, no cgroup2: hidden in a private mount namespace, the real binary says so.
unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec "$1" run --no-state' _ "$RCATRACE" > /dev/null 2> "$WORK/e"
assert_eq "run without BTF exits" 1 $?
grep -q 'no BTF at /sys/kernel/btf/vmlinux' "$WORK/e" && echo "ok: no-BTF message" || fail "no-BTF message: $(cat "$WORK/e")"
unshare -m sh -c 'umount "$2" && exec "$1" run --no-state' _ "$RCATRACE" "$CG2" > /dev/null 2> "$WORK/e"
assert_eq "run without cgroup2 exits" 1 $?
grep -q 'no cgroup v2 hierarchy is mounted' "$WORK/e" && echo "ok: no-cgroup2 message" || fail "no-cgroup2 message: $(cat "$WORK/e")"

# run: a --state whose directory cannot be made fails at start (it once ran for hours
# saving nothing and exited 0), as JSON too.
"$RCATRACE" run --duration 2 --state /proc/1/nope/state > /dev/null 2> "$WORK/e"
assert_eq "run --state in an impossible place exits" 1 $?
grep -q 'cannot open the store /proc/1/nope/state: cannot make its directory' "$WORK/e" && echo "ok: $(cat "$WORK/e")" || fail "state message: $(cat "$WORK/e")"
assert_eq "run --json: the error as JSON on stdout" 1 \
	"$("$RCATRACE" run --json --duration 2 --state /proc/1/nope/state 2> /dev/null | jq -c 'select(.type == "error")' | wc -l)"

# dump: missing, truncated and corrupt stores are refused (exit 1); test_store.sh has more.
"$RCATRACE" dump --state "$WORK/none" > /dev/null 2> "$WORK/e"
assert_eq "dump of a missing file" 1 $?
grep -q 'no store at' "$WORK/e" && echo "ok: missing message" || fail "missing message: $(cat "$WORK/e")"
# In --json mode the error is also JSON on stdout, for the script reading it.
assert_eq "dump --json error on stdout" "no store at $WORK/none: start 'rcatrace run' first, or name the file with --state PATH" \
	"$("$RCATRACE" dump --json --state "$WORK/none" 2>/dev/null | jq -r 'select(.type == "error") | .error')"
printf 'RCATRACE' > "$WORK/short"
"$RCATRACE" dump --state "$WORK/short" > /dev/null 2> "$WORK/e"
assert_eq "dump of a truncated file" 1 $?
grep -q 'refusing' "$WORK/e" && echo "ok: truncated message: $(cat "$WORK/e")" || fail "truncated message: $(cat "$WORK/e")"
head -c 4096 /dev/urandom > "$WORK/garbage"
"$RCATRACE" dump --state "$WORK/garbage" > /dev/null 2> "$WORK/e"
assert_eq "dump of garbage" 1 $?
finish
