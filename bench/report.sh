#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Writes RESULTS.md from the benchmark's results.json:
#   bench/report.sh results.json RESULTS.md
# Everything from a line "## Analysis" on in an existing RESULTS.md is hand-written:
# it is kept as it is.
set -u
in=${1:?usage: report.sh results.json RESULTS.md}
out=${2:?usage: report.sh results.json RESULTS.md}
analysis=
if [ -f "$out" ] && grep -q '^## Analysis' "$out"; then
	analysis=$(sed -n '/^## Analysis/,$p' "$out")
fi

jq -r '
def r(d): if . == null then "-" else ((. * pow(10; d) | round) / pow(10; d) | tostring) end;
def mib: if . == null then "-" else (. / 1024 | r(2)) + " MiB" end;
def met: if . == true then "met" elif . == false then "**missed**" else "n/a" end;
def cell(w; v): (.ratios | map(select(.workload == w and .variant == v)) | first) as $c
	| if $c then "\($c.ratio_median | r(3)) (\($c.ratio_min | r(3))-\($c.ratio_max | r(3)))" else "-" end;
.meta as $m
| (.ratios | map(.variant) | unique) as $present | (["rcatrace", "bpftrace", "forkstat"] | map(select(. as $v | $present | index($v)))) as $vs
| "# rcatrace benchmark results",
  "",
  "Made by `\($m.command)` on \($m.date): kernel \($m.kernel_full), CPU \($m.cpu) (\($m.ncpu) CPUs), \($m.mem_mib) MiB;",
  "rcatrace \($m.rcatrace_version) (git \($m.git)). Load average \($m.loadavg_start) at the start, \($m.loadavg_end) at the end.",
  (if $m.quick then "**Quick run** (BENCH_QUICK=1): small workloads, one round, no soak: the figures are a smoke test, not a measurement." else empty end),
  "Raw figures: `results.json` (everything) and `runs.csv` (every timed run) beside this file.",
  "",
  "## Budgets",
  "",
  "| budget | figure | limit | |",
  "| --- | --- | --- | --- |",
  (.budgets[] | "| \(.budget) | \(.figure) | \(.limit) | \(.met | met) |"),
  "",
  "## Overhead: traced / untraced time",
  "",
  "Each workload does a fixed amount of work and times only that work. Per round it runs untraced, then under each tracer (started before, stopped after), \($m.pairs) rounds interleaved. A cell is the median of the per-round ratios, (min-max). `rcatrace` is the default `rcatrace run --state FILE` (interval 1 s, table output to a file).",
  "",
  "| workload | work | untraced median s (min-max) | spread | \($vs | join(" | ")) |",
  "| --- | --- | --- | --- | \($vs | map("---") | join(" | ")) |",
  ((.ratios | map(.workload) | unique)[] as $w | (.ratios | map(select(.workload == $w)) | first) as $c |
    "| \($w) | \($c.ops) ops, \($c.untraced_rate_per_s | r(0))/s | \($c.untraced_median_s | r(3)) (\($c.untraced_min_s | r(3))-\($c.untraced_max_s | r(3))) | \($c.untraced_spread_pct | r(1))% | \([$vs[] as $v | cell($w; $v)] | join(" | ")) |"),
  "",
  "The same rounds in CPU time, which other load on the machine disturbs much less than wall time: (CPU of the workload, its children and the programs that ran in its kernel context + CPU of the tracer process) / CPU of the untraced workload; median of the per-round ratios (min-max).",
  "",
  "| workload | untraced CPU s (median) | \($vs | join(" | ")) |",
  "| --- | --- | \($vs | map("---") | join(" | ")) |",
  ((.ratios | map(.workload) | unique)[] as $w | (.ratios | map(select(.workload == $w)) | first) as $c |
    "| \($w) | \($c.untraced_cpu_median_s | r(3)) | \([$vs[] as $v | (.ratios | map(select(.workload == $w and .variant == $v)) | first) as $x
      | if $x and $x.cpu_ratio_median then "\($x.cpu_ratio_median | r(3)) (\($x.cpu_ratio_min | r(3))-\($x.cpu_ratio_max | r(3)))" else "-" end] | join(" | ")) |"),
  "",
  "CPU the tracer process itself used during the run (its threads'"'"' schedstat), per operation of the workload, in microseconds (median):",
  "",
  "| workload | \($vs | join(" | ")) |",
  "| --- | \($vs | map("---") | join(" | ")) |",
  ((.ratios | map(.workload) | unique)[] as $w |
    "| \($w) | \([$vs[] as $v | (.ratios | map(select(.workload == $w and .variant == $v)) | first | .tracer_cpu_us_per_op) | r(3)] | join(" | ")) |"),
  "",
  "Workloads: spawn = fork + exec of a static `true` + wait; fork = fork + `_exit` + wait; thread = pthread create + join; pagefault = map 16 MiB, write each 4 KiB page (no THP), unmap; quiet = one busy thread per CPU doing arithmetic with no system call (nothing fires: only the tracer'"'"'s own periodic work shows).",
  "",
  "## Per-event cost (kernel.bpf_stats_enabled=1)",
  "",
  "ns/run = run_time_ns / run_cnt from `bpftool prog show`, over each workload, beside a bare program on the same hook that only increments a per-CPU array slot (bench/bare.bpf.c; its figure is mostly the cost of bpf_stats itself). All programs ran at once. A program on a PREEMPT kernel can be preempted while it runs and bpf_stats counts that time too, so a figure from few runs (an exec during the thread storm: the benchmark'"'"'s own bpftool and jq) is noisy; the budget uses the storm made for the hook (spawn for exec, fork for process fork and exit and SIGCHLD, pagefault for rss_stat, thread for clone3).",
  "",
  "| program | its storm | runs | ns/run | bare ns/run | x bare | all workloads: ns/run | x bare |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  (.per_program[] | "| \(.program) | \(.main_workload) | \(.main_run_cnt) | \(.main_ns_per_run | r(1)) | \(.main_bare_ns_per_run | r(1)) | \(.main_vs_bare | r(2)) | \(.ns_per_run | r(1)) | \(.vs_bare | r(2)) |"),
  "",
  "By workload:",
  "",
  "| workload | program | runs | ns/run | bare ns/run | x bare |",
  "| --- | --- | --- | --- | --- | --- |",
  (.per_event[] | "| \(.workload) | \(.program) | \(.run_cnt) | \(.ns_per_run | r(1)) | \(.bare_ns_per_run | r(1)) | \(.vs_bare | r(2)) |"),
  "",
  "### Memory events: rcatrace against bpftrace'"'"'s per-cgroup rss_stat count",
  "",
  (.memory_event as $e |
   "- BPF run time per rss_stat event: rcatrace \($e.rcatrace_ns_per_run | r(1)) ns, bpftrace (`tracepoint:kmem:rss_stat { @[cgroup] = count(); }`) \($e.bpftrace_ns_per_run | r(1)) ns: bpftrace/rcatrace = \($e.bpftrace_over_rcatrace | r(2)).",
   "- Whole cost per event in the page-fault storm (\($e.rss_events_per_page | r(2)) rss_stat events per page), which includes what bpf_stats does not see (the tracepoint dispatch; a classic tracepoint, as bpftrace uses, also fills a perf record before its program runs): from CPU time, rcatrace \($e.rcatrace_cpu_ns_per_event | r(0)) ns, bpftrace \($e.bpftrace_cpu_ns_per_event | r(0)) ns; from wall time, rcatrace \($e.rcatrace_wall_ns_per_event | r(0)) ns, bpftrace \($e.bpftrace_wall_ns_per_event | r(0)) ns (both differences of medians: noisy)."),
  (if (.bpftrace_per_event | length) > 0 then
    "", "bpftrace'"'"'s programs:", "", "| workload | program | runs | ns/run |", "| --- | --- | --- | --- |",
    (.bpftrace_per_event[] | "| \(.workload) | \(.program) | \(.run_cnt) | \(.ns_per_run | r(1)) |")
   else empty end),
  "",
  "### Program sizes",
  "",
  "| owner | program | type | xlated insns | jited bytes | verified insns |",
  "| --- | --- | --- | --- | --- | --- |",
  (.programs[] | "| \(.owner) | \(.name) | \(.type) | \(.xlated_insns) | \(.jited_bytes) | \(.verified_insns // "-") |"),
  "",
  "## Footprint",
  "",
  (.footprint as $f |
   "- RSS (VmRSS): \($f.rss_kib.start | mib) at start; after each workload: \([$f.rss_kib.samples[] | select(.when | startswith("after_")) | "\(.when | ltrimstr("after_")) \(.vmrss_kib | mib)"] | join(", ")).",
   (if ($f.rss_kib.samples | map(select(.when == "soak")) | length) > 0 then
     "- Soak, \($f.soak.seconds) s of storms (\($f.soak.workload_runs) workload runs, \($f.soak.units_stopped_with_sigterm // 0) units started and stopped with SIGTERM; rcatrace used \($f.soak.rcatrace_cpu_pct_of_core | r(2))% of a core; state file \($f.soak.state_file_bytes) bytes): RSS \([$f.rss_kib.samples[] | select(.when == "soak") | "\(.t_s | r(0))s \(.vmrss_kib | mib)"] | join(", ")); growth over the last two thirds \($f.rss_kib.soak_growth_kib) KiB."
    else "- Soak: skipped (quick run)." end),
   "- Peak (VmHWM): \($f.rss_kib.peak_hwm | mib). Steady: \($f.rss_kib.steady | mib).",
   "- Kernel memory of its maps (sum of bytes_memlock): \($f.maps.memlock_bytes / 1048576 | r(2)) MiB:",
   "",
   "| map | type | max_entries | key+value bytes | memlock |",
   "| --- | --- | --- | --- | --- |",
   ($f.maps.maps | sort_by(-.bytes_memlock)[] | "| \(.name) | \(.type) | \(.max_entries) | \(.bytes_key)+\(.bytes_value) | \(.bytes_memlock / 1024 | r(0)) KiB |"),
   "",
   "- CPU on an idle machine: \($f.idle.cpu_ns / 1e6 | r(1)) ms over \($f.idle.seconds | r(1)) s = \($f.idle.cpu_pct_of_core | r(3))% of a core (load average \($f.idle.loadavg); other sessions'"'"' processes still run here).",
   "- Start to \"attached\": median \($f.attach_s.median | r(3)) s, max \($f.attach_s.max | r(3)) s over \($f.attach_s.samples | length) starts."),
  "",
  "## Loss",
  "",
  "Two spawners at once (the most this machine spawns), each in `bench-spawn.service`, a cgroup v2 directory; expected = 2 x spawns + the 2 spawners'"'"' own exec and exit. Counts from the summary'"'"'s per-unit starts/exits, records from the `--json` stream, drops from the last `stats` line. \"stalled\": rcatrace was stopped (SIGSTOP) while the spawners ran and continued after, so the tiny ring buffer must overflow.",
  "",
  "| ring buffer | reader | spawns/s | starts | exits | expected | exec records | exit records | lost.ringbuf_exec | lost.ringbuf_exit |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  (.loss[] | "| \(.ringbuf_bytes) | \(.reader // "running") | \(.spawns_per_s | r(0)) | \(.starts) | \(.exits) | \(.expected_starts) | \(.exec_records) | \(.exit_records) | \(.lost.ringbuf_exec // "-") | \(.lost.ringbuf_exit // "-") |"),
  "",
  "## Peers",
  "",
  (.peers | to_entries[] | "- \(.key) \(.value.version): \(if .value.ran then "ran" else "did not run: \(.value.why_not)" end)\(if .value.installed_by_bench then " (installed by the benchmark with apt-get)" else "" end)."),
  "- Other BPF tracing programs loaded on the machine during the ratio runs (not ours; they also slow the untraced runs): up to \(.foreign.max_foreign_tracing_progs_during_ratios).",
  (if (.notes | length) > 0 then "", "## Notes from the run", "", (.notes[] | "- \(.text)") else empty end)
' "$in" > "$out.tmp" || exit 1
if [ -n "$analysis" ]; then
	printf '\n%s\n' "$analysis" >> "$out.tmp"
fi
mv "$out.tmp" "$out"
