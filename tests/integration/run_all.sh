#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs every kernel test (tests/integration/test_*.sh) against the real kernel.
# Needs root. Under CI=true a test that cannot run is a failure, not a skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export RCATRACE=$(realpath "${1:?usage: run_all.sh PATH/TO/rcatrace [HELPER_DIR]}")
export HELPERS=$(realpath "${2:-$(dirname "$RCATRACE")/helpers}")
ci=${CI:-false}

why_not=
[ "$(id -u)" -eq 0 ] || why_not="not root"
[ -r /sys/kernel/btf/vmlinux ] || why_not="no BTF at /sys/kernel/btf/vmlinux"
command -v jq > /dev/null || why_not="jq is not installed"
# The file system type is the field after " - ", past a varying number of optional fields.
[ -n "$(awk '{ for (i = 7; i < NF && $i != "-"; i++); if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)" ] || why_not="no cgroup2 mount"
if [ -n "$why_not" ]; then
	if [ "$ci" = true ]; then
		echo "kernel tests cannot run: $why_not (CI=true: this is a failure)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "kernel tests skipped: $why_not (run 'sudo make test')" >&2
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

passed=0 failed=0
for t in "$here"/test_*.sh; do
	[ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $(basename "$t" .sh) "* ]] && continue
	start=$(date +%s)
	# 300 s each, unless the test says otherwise in a "# timeout: SECS" line near its
	# top (the VM test builds its image the first time it runs).
	limit=$(head -n 5 "$t" | sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p')
	if timeout "${limit:-300}" bash "$t" > "/tmp/rcatrace-$(basename "$t").log" 2>&1; then
		passed=$((passed + 1))
		echo "PASS $(basename "$t") ($(($(date +%s) - start)) s)"
	else
		failed=$((failed + 1))
		echo "FAIL $(basename "$t") ($(($(date +%s) - start)) s):"
		sed 's/^/    /' "/tmp/rcatrace-$(basename "$t").log"
	fi
done
# Nothing may be left behind.
# (only the tests' own: their state lives under /tmp/rcatrace-test.*)
if pgrep -f 'rcatrace run .*rcatrace-test\.' > /dev/null; then
	echo "FAIL: rcatrace processes left behind: $(pgrep -f 'rcatrace run .*rcatrace-test\.' | tr '\n' ' ')"
	failed=$((failed + 1))
fi
if ls -d /sys/fs/cgroup/unified/rcatrace-test-* /sys/fs/cgroup/rcatrace-test-* 2>/dev/null | grep -q .; then
	echo "FAIL: test cgroups left behind"
	failed=$((failed + 1))
fi
if ls /run/rcatrace-guest/ 2>/dev/null | grep -v '^\.' | grep -q . ||
	ls -d /sys/fs/cgroup/unified/machine.slice/machine-rcatrace-* /sys/fs/cgroup/machine.slice/machine-rcatrace-* 2>/dev/null | grep -q . ||
	grep -q rcatrace-guest /proc/self/mountinfo; then
	echo "FAIL: test guests left behind: $(ls /run/rcatrace-guest/ 2>/dev/null | tr '\n' ' ')"
	failed=$((failed + 1))
fi
echo "kernel tests: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
