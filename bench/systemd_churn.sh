#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What a real crash loop costs the rest of the machine: Debian 12's systemd 252
# (tests/guest, booted under systemd-nspawn) restarting serial-getty@ttyS0 every
# 0.25 s (no /dev/ttyS0: it fails before exec, as in the incident), traced by
# rcatrace from the host. After CALM seconds of an idle guest (the pre-window
# rcatrace needs to tell growth per start from growth per second), the loop runs
# LOOP seconds. Printed: rcatrace's churn-growth links (from run --json) and,
# beside them, the truth from /proc: PID 1's and journald's VmRSS before and
# after, divided by the journal's count of starts.
#
#   bench/systemd_churn.sh [RCATRACE] [CALM_S] [LOOP_S]     (as root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RCATRACE=${1:-$here/../.output/rcatrace}
CALM=${2:-75}
LOOP=${3:-240}
. "$here/../tests/guest/guest.sh"

G=rcatrace-churn$$
WORK=$(mktemp -d /tmp/rcatrace-churn.XXXXXX)
rca=
cleanup() {
	[ -n "$rca" ] && kill -INT "$rca" 2> /dev/null && wait "$rca" 2> /dev/null
	guest_stop "$G" > /dev/null 2>&1 || true
	# KEEP=DIR keeps the store and the run's output there.
	[ -n "${KEEP:-}" ] && cp "$WORK/db"* "$WORK/out" "$KEEP/" 2> /dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

guest_build
"$RCATRACE" run --json --interval 1 --state "$WORK/db" > "$WORK/out" 2> "$WORK/err" &
rca=$!
sleep 3
guest_boot "$G"
pid1=$(guest_host_pid "$G" 1)
journald=$(guest_host_pid "$G" "$(guest_run "$G" systemctl show -p MainPID --value systemd-journald.service)")
echo "guest $G: PID 1 is host pid $pid1, journald $journald; ${CALM} s idle"
sleep "$CALM"
r1a=$(rss_of "$pid1") rja=$(rss_of "$journald")
guest_run "$G" systemctl start serial-getty@ttyS0.service
echo "serial-getty@ttyS0 looping for ${LOOP} s"
sleep "$LOOP"
r1b=$(rss_of "$pid1") rjb=$(rss_of "$journald")
guest_run "$G" systemctl stop serial-getty@ttyS0.service
starts=$(guest_unit_starts "$G" serial-getty@ttyS0.service | wc -l)
sleep 2
kill -INT "$rca"
wait "$rca" || true
rca=

echo
echo "/proc: $starts starts in ${LOOP} s"
awk -v a="$r1a" -v b="$r1b" -v n="$starts" 'BEGIN { printf "  PID 1 (systemd 252): VmRSS %d -> %d KiB, %.2f KiB per start\n", a, b, (b - a) / n }'
awk -v a="$rja" -v b="$rjb" -v n="$starts" 'BEGIN { printf "  systemd-journald:    VmRSS %d -> %d KiB, %.2f KiB per start\n", a, b, (b - a) / n }'
echo "rcatrace's churn-growth links (the last word on each):"
jq -c 'select(.type == "finding" and .finding == "churn_growth") | {state, unit, machine, storm_unit, kib_per_start, r2, starts, growth_kib}' "$WORK/out" |
	jq -sc 'group_by(.unit) | .[] | .[-1]'
echo "rcatrace's storms:"
jq -c 'select(.type == "finding" and (.finding == "respawn_storm" or .finding == "crash_storm") and .state == "started") | {finding, unit, machine, time}' "$WORK/out"
