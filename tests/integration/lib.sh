# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Shared helpers for the kernel tests: real cgroups named like systemd units,
# a real `rcatrace run`, and cleanup of every process and cgroup, even on failure.
set -u

RCATRACE=${RCATRACE:?RCATRACE must name the binary}
HELPERS=${HELPERS:?HELPERS must name the helper binary directory}
# The cgroup2 root: the file system type is the field after " - ", past a varying
# number of optional fields (scripts/bench.sh finds it the same way).
CG2=$(awk '{ for (i = 7; i < NF && $i != "-"; i++); if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)
# A parent for this test's units, so nothing collides with the host's own.
TEST_ROOT="$CG2/rcatrace-test-$$.slice"
WORK=$(mktemp -d /tmp/rcatrace-test.XXXXXX)
# A private copy: a rebuild while the test runs must not swap the binary under it.
cp "$RCATRACE" "$WORK/rcatrace" && RCATRACE=$WORK/rcatrace
RCA_PID=
FAILS=0

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$2', got '$3'"
	else
		echo "ok: $1 = $3"
	fi
}

# assert_within WHAT EXPECTED ACTUAL TOLERANCE_FRACTION
assert_within() {
	if awk -v e="$2" -v a="$3" -v t="$4" 'BEGIN { d = a - e; if (d < 0) d = -d; exit !(a ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ && d <= e * t) }'; then
		echo "ok: $1 = $3 (expected $2 ± $(awk -v t="$4" 'BEGIN{print t*100}')%)"
	else
		fail "$1: expected $2 ± $(awk -v t="$4" 'BEGIN{print t*100}')%, got '$3'"
	fi
}

# make_unit NAME: a cgroup v2 directory named like a systemd unit; prints its path.
make_unit() {
	mkdir -p "$TEST_ROOT/$1" && echo "$TEST_ROOT/$1"
}

# in_unit NAME CMD...: runs CMD (a shell snippet) inside unit NAME, waits for it.
in_unit() {
	local cg=$TEST_ROOT/$1
	shift
	bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec bash -c "$@"' _ "$cg" "$*"
}

kill_unit_procs() {
	local d=$1 p
	for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
}

cleanup() {
	local d
	if [ -n "$RCA_PID" ] && kill -0 "$RCA_PID" 2>/dev/null; then
		kill -KILL "$RCA_PID" 2>/dev/null
		wait "$RCA_PID" 2>/dev/null
	fi
	if [ -d "$TEST_ROOT" ]; then
		# deepest first
		for d in $(find "$TEST_ROOT" -depth -type d); do
			kill_unit_procs "$d"
		done
		sleep 0.1
		for d in $(find "$TEST_ROOT" -depth -type d); do
			rmdir "$d" 2>/dev/null || { sleep 0.3; rmdir "$d" 2>/dev/null; }
		done
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# start_rcatrace ARGS...: starts `rcatrace run ARGS` in the background, output in
# $WORK/out and $WORK/err, and waits until it says "attached".
start_rcatrace() {
	"$RCATRACE" run "$@" > "$WORK/out" 2> "$WORK/err" &
	RCA_PID=$!
	for _ in $(seq 100); do
		if grep -q attached "$WORK/err"; then
			return 0
		fi
		if ! kill -0 "$RCA_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	fail "rcatrace did not attach: $(cat "$WORK/err")"
	return 1
}

# stop_rcatrace: SIGINT, wait; sets RCA_STATUS.
stop_rcatrace() {
	kill -INT "$RCA_PID"
	wait "$RCA_PID"
	RCA_STATUS=$?
	RCA_PID=
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "--- rcatrace stderr:" >&2
		cat "$WORK/err" >&2 2>/dev/null
		exit 1
	fi
	exit 0
}
