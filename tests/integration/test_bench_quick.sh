#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The benchmark's smoke run (BENCH_QUICK=1): it runs to the end within a minute and
# writes results.json, runs.csv and RESULTS.md with every figure the full run has.
# Timings are not asserted; counts are (the loss phase's counts must be exact).
. "$(dirname "$0")/lib.sh"

repo=$(cd "$(dirname "$0")/../.." && pwd)
out_dir=$(dirname "$RCATRACE")
make -s -C "$repo" OUTPUT="$out_dir" bench-bins > "$WORK/make.log" 2>&1 ||
	{ fail "make bench-bins: $(tail -5 "$WORK/make.log")"; finish; }

res=$WORK/results
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
start=$(date +%s)
BENCH_QUICK=1 BENCH_INSTALL=0 BENCH_OUT="$res" BENCH_WORK="$WORK/bench" \
	timeout 120 "$repo/scripts/bench.sh" "$RCATRACE" "$out_dir/bench" > "$WORK/bench.log" 2>&1
status=$?
assert_eq "bench.sh exit status" 0 "$status"
[ "$status" -eq 0 ] || sed 's/^/    /' "$WORK/bench.log" >&2
took=$(($(date +%s) - start))
echo "quick bench took $took s"

json=$res/results.json
assert_eq "results.json is JSON" true "$(jq -e 'type == "object"' "$json" 2> /dev/null)"
assert_eq "meta fields" true "$(jq '.meta | has("date") and has("kernel") and has("cpu") and has("command") and .quick == true' "$json")"
# Every workload timed untraced and under rcatrace, with a ratio.
for wl in spawn fork thread pagefault quiet; do
	assert_eq "$wl untraced runs" 1 "$(jq --arg w "$wl" '[.runs[] | select(.workload == $w and .variant == "untraced")] | length' "$json")"
	assert_eq "$wl ratio under rcatrace" true \
		"$(jq --arg w "$wl" '[.ratios[] | select(.workload == $w and .variant == "rcatrace") | .ratio_median | numbers] | length == 1' "$json")"
	assert_eq "$wl CPU ratio under rcatrace" true \
		"$(jq --arg w "$wl" '[.ratios[] | select(.workload == $w and .variant == "rcatrace") | .cpu_ratio_median | numbers] | length == 1' "$json")"
	assert_eq "$wl failed operations" 0 "$(jq --arg w "$wl" '[.runs[] | select(.workload == $w) | .failed] | add' "$json")"
done
# ns/run of each rcatrace lifecycle program beside the bare counter on its hook.
for p in sched_process_fork sched_process_exec sched_process_exit rss_stat; do
	assert_eq "$p ns/run and bare ns/run" true \
		"$(jq --arg p "$p" '[.per_program[] | select(.program == $p and .run_cnt > 0 and .ns_per_run > 0 and .bare_ns_per_run > 0)] | length == 1' "$json")"
done
assert_eq "exec runs in the spawn storm >= spawns" true \
	"$(jq '[.per_event[] | select(.workload == "spawn" and .program == "sched_process_exec")][0].run_cnt >= .meta.sizes.spawn' "$json")"
assert_eq "footprint figures" true "$(jq '.footprint | (.rss_kib.start > 0) and (.rss_kib.peak_hwm >= .rss_kib.start)
	and (.maps.memlock_bytes > 0) and (.idle.cpu_ns >= 0) and (.attach_s.max > 0)' "$json")"
assert_eq "kernel.bpf_stats_enabled restored" "$stats_before" "$(sysctl -n kernel.bpf_stats_enabled)"
# Loss: exact counts from the maps, whatever the ring buffer did.
assert_eq "loss runs" '["4096/running","4096/stalled","default/running"]' \
	"$(jq -c '[.loss[] | "\(.ringbuf_bytes)/\(.reader)"] | sort' "$json")"
for run in default/running 4096/running 4096/stalled; do
	rb=${run%/*}
	sel=".loss[] | select(.ringbuf_bytes == \"$rb\" and .reader == \"${run#*/}\")"
	assert_eq "starts ($run)" "$(jq "$sel | .expected_starts" "$json")" "$(jq "$sel | .starts" "$json")"
	assert_eq "exits ($run)" "$(jq "$sel | .expected_exits" "$json")" "$(jq "$sel | .exits" "$json")"
	assert_eq "drop counters shown ($run)" true "$(jq "$sel | .lost | has(\"ringbuf_exec\") and has(\"ringbuf_exit\")" "$json")"
done
# A stopped reader and a 4096-byte ring: records are lost, and every loss is counted.
sel='.loss[] | select(.reader == "stalled")'
assert_eq "drops counted with the reader stopped" true "$(jq "$sel | .lost.ringbuf_exec > 0" "$json")"
assert_eq "exec records + exec drops cover every start" true \
	"$(jq "$sel | .exec_records + .lost.ringbuf_exec >= .expected_starts" "$json")"
assert_eq "budgets listed" true "$(jq '[.budgets[] | select(has("budget") and has("figure") and has("met"))] | length >= 10' "$json")"
assert_eq "runs.csv header" '"workload","variant","round","ops","seconds","cpu_s","failed","tracer_cpu_ms"' "$(head -1 "$res/runs.csv")"
assert_eq "runs.csv rows" "$(jq '.runs | length' "$json")" "$(($(wc -l < "$res/runs.csv") - 1))"
assert_eq "RESULTS.md budget table" 1 "$(grep -c '^| budget | figure | limit |' "$res/RESULTS.md")"
# The benchmark's cgroups, under the cgroup2 mount lib.sh found (as bench.sh finds it):
# made there, and gone afterwards.
assert_eq "test cgroup made under the cgroup2 mount" 1 \
	"$(grep -cF "in bench-spawn.service ($CG2/bench-spawn.service)" "$WORK/bench.log")"
assert_eq "test cgroup removed" no "$([ -d "$CG2/bench-spawn.service" ] && echo yes || echo no)"
assert_eq "soak cgroups removed" "" "$(ls -d "$CG2"/bench-soak-*.service 2> /dev/null | tr '\n' ' ')"
assert_eq "no tracer left" "" "$(pgrep -f "$WORK/bench" | tr '\n' ' ')"
finish
