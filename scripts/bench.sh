#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# rcatrace benchmark (root). `make bench` runs it; `BENCH_QUICK=1 make bench` is a
# one-minute smoke run with small workloads and no soak.
#
#   scripts/bench.sh [RCATRACE [BENCH_BIN_DIR]]
#
# Phases, each against the budgets in bench/RESULTS.md:
#   ratios     each workload untraced, under `rcatrace run` (state file, default
#              interval) and under the peers (bpftrace, forkstat), interleaved
#              A B C D per round, BENCH_PAIRS rounds
#   per-event  kernel.bpf_stats_enabled=1: ns/run of each rcatrace program beside a
#              bare per-CPU counter on the same hook (bench/bare.bpf.c) and beside
#              bpftrace's per-cgroup rss_stat count
#   footprint  rcatrace RSS (start, after each workload, over a soak of storms),
#              map memory, CPU on an idle machine, time to "attached"
#   loss       two spawners at once in bench-spawn.service: exact counts, ring-buffer
#              drops, with the default ring buffer and with a 4096-byte one
# Results: results.json, runs.csv and RESULTS.md in BENCH_OUT (default bench/, or
# BENCH_BIN_DIR/quick for a quick run).
#
# Environment: BENCH_QUICK=1, BENCH_OUT=DIR, BENCH_WORK=DIR (scratch), BENCH_PAIRS=N,
# BENCH_SOAK_S=S, BENCH_IDLE_S=S, BENCH_INSTALL=0|1 (install missing peers with
# apt-get; default 1, 0 when quick), BENCH_UNIT=NAME (default bench-spawn.service).
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")/.." && pwd)
RCATRACE=$(realpath "${1:-$here/.output/rcatrace}")
BIN=$(realpath "${2:-$(dirname "$RCATRACE")/bench}")
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] || QUICK=1
if [ "$QUICK" = 1 ]; then
	OUT=${BENCH_OUT:-$BIN/quick}
	PAIRS=${BENCH_PAIRS:-1}
	SOAK_S=${BENCH_SOAK_S:-0}
	IDLE_S=${BENCH_IDLE_S:-3}
	INSTALL=${BENCH_INSTALL:-0}
	SETTLE_S=0.3
	N_SPAWN=60 N_FORK=150 N_THREAD=3000 N_PF=6 N_QUIET=100000000 N_LOSS=150
	N_UNITS=256 SAMPLE_N=3
else
	OUT=${BENCH_OUT:-$here/bench}
	PAIRS=${BENCH_PAIRS:-5}
	SOAK_S=${BENCH_SOAK_S:-600}
	IDLE_S=${BENCH_IDLE_S:-60}
	INSTALL=${BENCH_INSTALL:-1}
	SETTLE_S=1.2
	# About 2-3 s each here (fork+exec+exit ~2 ms, a page fault ~12 us).
	N_SPAWN=1200 N_FORK=3000 N_THREAD=50000 N_PF=48 N_QUIET=1200000000 N_LOSS=2000
	N_UNITS=4096 SAMPLE_N=10
fi
UNIT=${BENCH_UNIT:-bench-spawn.service}
WORKLOADS="spawn fork thread pagefault quiet"
COMMAND="${BENCH_COMMAND:-$( [ "$QUICK" = 1 ] && echo 'sudo BENCH_QUICK=1 make bench' || echo 'sudo make bench')}"

T_START=${EPOCHREALTIME/./}
log() { printf 'bench: [%4ds] %s\n' $(((${EPOCHREALTIME/./} - T_START) / 1000000)) "$*" >&2; }
die() {
	log "$*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (sudo make bench)"
[ -x "$RCATRACE" ] || die "no rcatrace at $RCATRACE: run make first"
for b in spawn_storm fork_storm thread_storm pagefault_storm quiet true bare; do
	[ -x "$BIN/$b" ] || die "no $BIN/$b: run 'make bench-bins' first"
done
for t in jq bpftool awk; do
	command -v "$t" > /dev/null || die "$t is not installed (scripts/install-deps.sh)"
done
[ -r /sys/kernel/btf/vmlinux ] || die "no BTF at /sys/kernel/btf/vmlinux"
# The root of the cgroup2 hierarchy, wherever it is mounted (/sys/fs/cgroup, or
# /sys/fs/cgroup/unified on a hybrid host): the file system type is the field
# after the " - " separator, which comes after a varying number of optional fields.
CG2=$(awk '{ for (i = 7; i < NF && $i != "-"; i++); if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)
[ -n "$CG2" ] || die "no cgroup2 mount"

W=${BENCH_WORK:-$(mktemp -d /tmp/rcatrace-bench.XXXXXX)}
mkdir -p "$W" "$OUT" || die "cannot create $W or $OUT"
: > "$W/runs.jsonl"
: > "$W/attach.jsonl"
: > "$W/per_event.jsonl"
: > "$W/rss.jsonl"
: > "$W/loss.jsonl"
: > "$W/notes.jsonl"
TR_PID=
BARE_PID=
STORM_PID=
STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)

note() { jq -cn --arg k "$1" --arg v "$2" '{key: $k, text: $v}' >> "$W/notes.jsonl"; log "$2"; }

stop_pid() { # PID: SIGINT, then SIGKILL after 10 s
	local p=$1 i
	[ -n "$p" ] || return 0
	kill -INT "$p" 2> /dev/null
	for i in $(seq 100); do
		kill -0 "$p" 2> /dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2> /dev/null
	wait "$p" 2> /dev/null
}

cleanup() {
	[ -n "$STORM_PID" ] && { touch "$W/storm.stop"; kill "$STORM_PID" 2> /dev/null; wait "$STORM_PID" 2> /dev/null; }
	stop_pid "$TR_PID"
	stop_pid "$BARE_PID"
	sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD" 2> /dev/null
	for d in "$CG2"/bench-soak-*.service; do
		[ -d "$d" ] || continue
		for p in $(cat "$d/cgroup.procs" 2> /dev/null); do kill -KILL "$p" 2> /dev/null; done
		sleep 0.1
		rmdir "$d" 2> /dev/null
	done
	if [ -d "$CG2/bench-scale.slice" ]; then
		find "$CG2/bench-scale.slice" -mindepth 1 -maxdepth 1 -type d -exec rmdir {} + 2> /dev/null
		rmdir "$CG2/bench-scale.slice" 2> /dev/null
	fi
	if [ -d "$CG2/$UNIT" ]; then
		for p in $(cat "$CG2/$UNIT/cgroup.procs" 2> /dev/null); do kill -KILL "$p" 2> /dev/null; done
		sleep 0.2
		rmdir "$CG2/$UNIT" 2> /dev/null
	fi
	[ -n "${BENCH_KEEP:-}" ] || [ -n "${BENCH_WORK:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the machine and the peers -------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
jq -n --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg kernel "$(uname -r)" \
	--arg kernel_full "$(uname -srvm)" --arg cpu "$cpu" --argjson ncpu "$(nproc)" \
	--argjson mem_mib "$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" \
	--arg command "$COMMAND" --argjson quick "$QUICK" --argjson pairs "$PAIRS" \
	--arg version "$("$RCATRACE" --version 2> /dev/null)" \
	--arg git "$(git -C "$here" describe --always --dirty 2> /dev/null || echo unknown)" \
	--arg loadavg "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--argjson sizes "{\"spawn\":$N_SPAWN,\"fork\":$N_FORK,\"thread\":$N_THREAD,\"pagefault_rounds\":$N_PF,\"quiet_rounds\":$N_QUIET,\"loss_spawns_each\":$N_LOSS}" \
	'{date: $date, kernel: $kernel, kernel_full: $kernel_full, cpu: $cpu, ncpu: $ncpu,
	  mem_mib: $mem_mib, command: $command, quick: ($quick == 1), pairs: $pairs,
	  rcatrace_version: $version, git: $git, loadavg_start: $loadavg, sizes: $sizes}' > "$W/meta.json"

if [ ! -e /sys/kernel/tracing/events ]; then
	if mount -t tracefs nodev /sys/kernel/tracing 2> /dev/null; then
		note tracefs "mounted tracefs at /sys/kernel/tracing (bpftrace's tracepoints and the bare syscall counters need it)"
	else
		note tracefs "tracefs is not mounted and could not be: bpftrace tracepoints cannot attach"
	fi
fi

declare -A PEER_OK PEER_WHY PEER_VERSION PEER_INSTALLED
peer_pkg() { echo "$1"; } # Debian package names are the tool names
check_peers() {
	local p missing=
	for p in bpftrace forkstat; do
		command -v "$p" > /dev/null || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		if [ "$INSTALL" = 1 ]; then
			log "installing the peers from Debian:$missing (apt-get update; apt-get install)"
			if apt-get update -qq > "$W/apt.log" 2>&1 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >> "$W/apt.log" 2>&1; then
				for p in $missing; do PEER_INSTALLED[$p]=1; done
				note install "installed$missing with apt-get (they were missing)"
			else
				note install "apt-get could not install$missing: $(tail -1 "$W/apt.log")"
			fi
		else
			note install "not installing$missing (BENCH_INSTALL=0; quick runs do not install)"
		fi
	fi
	for p in bpftrace forkstat; do
		PEER_OK[$p]=0
		PEER_WHY[$p]=
		PEER_VERSION[$p]=
		if ! command -v "$p" > /dev/null; then
			PEER_WHY[$p]="not installed"
			continue
		fi
		PEER_VERSION[$p]=$(dpkg-query -W -f='${Version}' "$p" 2> /dev/null || echo "?")
		if start_tracer "$p" 2> "$W/peer-$p.err"; then
			PEER_OK[$p]=1
			stop_tracer
		else
			PEER_WHY[$p]="cannot run here: $(tr '\n' ' ' < "$W/peer-$p.err" | cut -c1-300)"
			note "peer_$p" "$p ${PEER_WHY[$p]}"
		fi
	done
}

# ---- tracers -------------------------------------------------------------------
BT_PROG='BEGIN { printf("ready\n"); }
tracepoint:sched:sched_process_exec { @exec[cgroup] = count(); }
tracepoint:sched:sched_process_exit { @exit[cgroup] = count(); }
tracepoint:kmem:rss_stat { @rss[cgroup] = count(); }'
STATE=$W/state
ATTACH_S=

# wait_for FILE PATTERN PID TIMEOUT_S: 0 once FILE matches, 1 if PID died or time ran out.
wait_for() {
	local deadline=$((${EPOCHREALTIME/./} + $4 * 1000000))
	while ((${EPOCHREALTIME/./} < deadline)); do
		grep -q "$2" "$1" 2> /dev/null && return 0
		kill -0 "$3" 2> /dev/null || return 1
		sleep 0.005
	done
	return 1
}

# start_tracer VARIANT [ARGS...]: starts it in the background (TR_PID), waits until it
# traces; ATTACH_S is the time that took. Its output is in $W/tracer.out/.err.
start_tracer() {
	local v=$1 t0 ok=1
	shift
	t0=${EPOCHREALTIME/./}
	# Emptied here, not by the background job's redirections: those run later, and
	# wait_for would find the last tracer's "attached" and go on before this one is.
	: > "$W/tracer.out"
	: > "$W/tracer.err"
	case $v in
	rcatrace)
		"$RCATRACE" run --state "$STATE" "$@" >> "$W/tracer.out" 2>> "$W/tracer.err" &
		TR_PID=$!
		wait_for "$W/tracer.err" "attached" "$TR_PID" 20 || ok=0
		;;
	bpftrace)
		bpftrace -B line -e "$BT_PROG" >> "$W/tracer.out" 2>> "$W/tracer.err" &
		TR_PID=$!
		wait_for "$W/tracer.out" "^ready" "$TR_PID" 60 || ok=0
		;;
	forkstat)
		forkstat -l -e fork,exec,exit >> "$W/tracer.out" 2>> "$W/tracer.err" &
		TR_PID=$!
		# It prints its header once its netlink socket listens.
		wait_for "$W/tracer.out" "Event" "$TR_PID" 20 || ok=0
		;;
	esac
	ATTACH_S=$(awk -v a="$t0" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.4f", (b - a) / 1e6 }')
	if [ "$ok" = 0 ]; then
		cat "$W/tracer.err" "$W/tracer.out" >&2 2> /dev/null
		stop_pid "$TR_PID"
		TR_PID=
		return 1
	fi
	[ "$v" = rcatrace ] && echo "{\"attach_s\":$ATTACH_S}" >> "$W/attach.jsonl"
	return 0
}

stop_tracer() {
	stop_pid "$TR_PID"
	TR_PID=
}

# ---- workloads -----------------------------------------------------------------
run_workload() { # NAME: prints its JSON line
	case $1 in
	spawn) "$BIN/spawn_storm" "$N_SPAWN" "$BIN/true" ;;
	fork) "$BIN/fork_storm" "$N_FORK" ;;
	thread) "$BIN/thread_storm" "$N_THREAD" ;;
	pagefault) "$BIN/pagefault_storm" "$N_PF" ;;
	quiet) "$BIN/quiet" "$N_QUIET" ;;
	esac
}

# BPF programs other than ours on tracing hooks make "untraced" not untraced: count them.
foreign_progs() {
	local ours
	ours=$( { [ -n "$TR_PID" ] && prog_ids_of "$TR_PID"; [ -n "$BARE_PID" ] && prog_ids_of "$BARE_PID"; } | tr '\n' ' ')
	bpftool prog show --json 2> /dev/null |
		jq --arg ours " $ours" '[.[] | select(.type == "tracing" or .type == "tracepoint" or
			.type == "raw_tracepoint" or .type == "kprobe" or .type == "perf_event")
			| .id as $id | select($ours | contains(" \($id) ") | not)] | length'
}

prog_ids_of() { grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2> /dev/null | awk '{ print $2 }' | sort -un; }
map_ids_of() { grep -h '^map_id:' /proc/"$1"/fdinfo/* 2> /dev/null | awk '{ print $2 }' | sort -un; }

# prog_stats OWNER PID: one JSON array of that process's programs with their counters.
prog_stats() {
	local ids
	ids=$(prog_ids_of "$2" | tr '\n' ',' | sed 's/,$//')
	bpftool prog show --json 2> /dev/null | jq -c --arg owner "$1" "[.[] | select(.id as \$i | [$ids] | index(\$i))
		| {owner: \$owner, id, name, type, run_time_ns: (.run_time_ns // 0), run_cnt: (.run_cnt // 0),
		   xlated_insns: ((.bytes_xlated // 0) / 8), jited_bytes: (.bytes_jited // 0),
		   verified_insns: (.verified_insns // null)}]"
}

rss_of() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status 2> /dev/null; }
cpu_ns_of() { # PID: CPU time of all its threads, ns (schedstat), or from ticks
	local f sum=0 v
	for f in /proc/"$1"/task/*/schedstat; do
		v=$(awk '{ print $1 }' "$f" 2> /dev/null) && sum=$((sum + v))
	done
	echo "$sum"
}
record_rss() { # WHEN
	[ -n "$TR_PID" ] || return
	jq -cn --arg when "$1" --argjson rss "$(rss_of "$TR_PID" VmRSS)" --argjson hwm "$(rss_of "$TR_PID" VmHWM)" \
		--argjson t "$(awk -v s="$SOAK_T0" -v n="${EPOCHREALTIME/./}" 'BEGIN { printf "%.1f", s ? (n - s) / 1e6 : 0 }')" \
		'{when: $when, t_s: $t, vmrss_kib: $rss, vmhwm_kib: $hwm}' >> "$W/rss.jsonl"
}
SOAK_T0=0

# ---- phase 1: interleaved ratios -----------------------------------------------
check_peers
VARIANTS="untraced rcatrace"
for p in bpftrace forkstat; do [ "${PEER_OK[$p]}" = 1 ] && VARIANTS="$VARIANTS $p"; done
log "ratios: $PAIRS round(s) of [$VARIANTS] per workload"
max_foreign=0
read -r -a VLIST <<< "$VARIANTS"
NV=${#VLIST[@]}
for wl in $WORKLOADS; do
	for round in $(seq "$PAIRS"); do
		# Each round starts with the next variant, so no variant always runs first.
		for k in $(seq 0 $((NV - 1))); do
			v=${VLIST[$(((k + round - 1) % NV))]}
			f=$(foreign_progs)
			[ "$f" -gt "$max_foreign" ] && max_foreign=$f
			cpu0=
			if [ "$v" != untraced ]; then
				start_tracer "$v" || { note "ratio_$v" "$v did not start for $wl round $round"; continue; }
				cpu0=$(cpu_ns_of "$TR_PID")
			fi
			line=$(run_workload "$wl")
			cpu_ms=null
			if [ "$v" != untraced ]; then
				cpu_ms=$(awk -v a="$cpu0" -v b="$(cpu_ns_of "$TR_PID")" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
				stop_tracer
			fi
			[ -n "$line" ] || { note "run_$wl" "$wl printed nothing under $v"; continue; }
			jq -c --arg v "$v" --argjson r "$round" --argjson cpu "$cpu_ms" \
				'. + {variant: $v, round: $r, tracer_cpu_ms: $cpu}' <<< "$line" >> "$W/runs.jsonl"
			log "  $wl $v #$round: $(jq -r .seconds <<< "$line") s"
		done
	done
done
jq -cn --argjson n "$max_foreign" '{max_foreign_tracing_progs_during_ratios: $n}' > "$W/foreign.json"

# ---- phase 2: per-event cost and footprint per workload ------------------------
log "per-event cost: kernel.bpf_stats_enabled=1 (was $STATS_OLD)"
sysctl -qw kernel.bpf_stats_enabled=1 || note stats "cannot set kernel.bpf_stats_enabled"
"$BIN/bare" > "$W/bare.out" 2> "$W/bare.err" &
BARE_PID=$!
wait_for "$W/bare.err" "attached" "$BARE_PID" 20 || die "bare counter did not attach: $(cat "$W/bare.err")"
BT_PE_PID=
if [ "${PEER_OK[bpftrace]}" = 1 ]; then
	if start_tracer bpftrace; then
		BT_PE_PID=$TR_PID
		TR_PID=
	fi
fi
start_tracer rcatrace || die "rcatrace did not start: $(cat "$W/tracer.err")"
sleep 1 # let its first sample and state write pass
record_rss start
for wl in $WORKLOADS; do
	{
		prog_stats rcatrace "$TR_PID"
		prog_stats bare "$BARE_PID"
		[ -n "$BT_PE_PID" ] && prog_stats bpftrace "$BT_PE_PID"
	} | jq -cs 'add' > "$W/before.json"
	line=$(run_workload "$wl")
	{
		prog_stats rcatrace "$TR_PID"
		prog_stats bare "$BARE_PID"
		[ -n "$BT_PE_PID" ] && prog_stats bpftrace "$BT_PE_PID"
	} | jq -cs 'add' > "$W/after.json"
	jq -c --arg wl "$wl" --argjson ops "$(jq .ops <<< "$line")" --slurpfile b "$W/before.json" '
		($b[0] | map({key: "\(.owner)/\(.id)", value: .}) | from_entries) as $before
		| .[] | . as $a | ($before["\(.owner)/\(.id)"] // {run_cnt: 0, run_time_ns: 0}) as $z
		| {workload: $wl, workload_ops: $ops, owner, id, name, type,
		   run_cnt: (.run_cnt - $z.run_cnt), run_time_ns: (.run_time_ns - $z.run_time_ns)}
		| select(.run_cnt > 0)
		| . + {ns_per_run: (.run_time_ns / .run_cnt)}' "$W/after.json" >> "$W/per_event.jsonl"
	sleep "$SETTLE_S" # one sample interval: the figures reach user space
	record_rss "after_$wl"
	log "  $wl done under rcatrace + bare$([ -n "$BT_PE_PID" ] && echo " + bpftrace")"
done
# Static figures of every program, and rcatrace's map memory.
{
	prog_stats rcatrace "$TR_PID"
	prog_stats bare "$BARE_PID"
	[ -n "$BT_PE_PID" ] && prog_stats bpftrace "$BT_PE_PID"
} | jq -cs 'add | map(del(.run_cnt, .run_time_ns))' > "$W/programs.json"
ids=$(map_ids_of "$TR_PID" | tr '\n' ',' | sed 's/,$//')
bpftool map show --json | jq -c "[.[] | select(.id as \$i | [$ids] | index(\$i))
	| {id, name, type, max_entries, bytes_key, bytes_value, bytes_memlock}]" > "$W/maps.json"
stop_tracer
[ -n "$BT_PE_PID" ] && { stop_pid "$BT_PE_PID"; BT_PE_PID=; }
stop_pid "$BARE_PID"
BARE_PID=
sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
log "restored kernel.bpf_stats_enabled=$STATS_OLD"

# ---- phase 3: idle CPU ---------------------------------------------------------
log "idle: rcatrace on a quiet machine for $IDLE_S s"
start_tracer rcatrace || die "rcatrace did not start: $(cat "$W/tracer.err")"
sleep 2
c0=$(cpu_ns_of "$TR_PID")
t0=${EPOCHREALTIME/./}
"$BIN/quiet" --sleep "$IDLE_S" > /dev/null
c1=$(cpu_ns_of "$TR_PID")
t1=${EPOCHREALTIME/./}
jq -cn --argjson cpu_ns "$((c1 - c0))" --argjson wall_us "$((t1 - t0))" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	'{seconds: ($wall_us / 1e6), cpu_ns: $cpu_ns, cpu_pct_of_core: ($cpu_ns / ($wall_us * 1000) * 100),
	  loadavg: $load}' > "$W/idle.json"
stop_tracer

# ---- phase 3b: what a sample costs with thousands of units --------------------
# N_UNITS transient units, each entered once (the cgroups stay: their rows stay),
# then the median of rcatrace's own sample_ms over SAMPLE_N samples.
log "sample cost: $N_UNITS units"
SC_DIR="$CG2/bench-scale.slice"
mkdir -p "$SC_DIR" || die "cannot make $SC_DIR"
start_tracer rcatrace --json --interval 1 --max-units $((N_UNITS * 2)) || die "rcatrace did not start: $(cat "$W/tracer.err")"
"$BIN/enter_units" "$SC_DIR" "$N_UNITS" || die "enter_units failed"
sleep $((SAMPLE_N + 3))
jq -c 'select(.type == "stats") | {units, sample_ms}' "$W/tracer.out" | tail -n "$SAMPLE_N" |
	jq -s --argjson n "$N_UNITS" --arg rss "$(rss_of "$TR_PID" VmRSS)" \
		'{units_made: $n, units_seen: (map(.units) | max), samples: map(.sample_ms),
		  sample_ms_median: (map(.sample_ms) | sort | .[length / 2 | floor]), vmrss_kib: ($rss | tonumber)}' \
		> "$W/sample_cost.json"
stop_tracer
for ((i = 1; i <= N_UNITS; i++)); do rmdir "$SC_DIR/u$i.service" 2> /dev/null; done
rmdir "$SC_DIR" 2> /dev/null || note sample_cost "could not remove $SC_DIR"

# ---- phase 4: loss at the highest spawn rate -----------------------------------
loss_run() { # RINGBUF_BYTES|default [stalled]: with "stalled" the reader is stopped while spawning
	local rb=$1 reader=${2:-running} args=(--json) cg=$CG2/$UNIT p1 p2 t0 t1 out
	[ "$rb" = default ] || args+=(--ringbuf-size "$rb")
	STATE=$W/state-loss-$rb-$reader # a fresh state: the summary must hold this run's counts only
	rm -f "$STATE"
	start_tracer rcatrace "${args[@]}" || die "rcatrace did not start: $(cat "$W/tracer.err")"
	[ "$reader" = stalled ] && kill -STOP "$TR_PID"
	t0=${EPOCHREALTIME/./}
	for i in 1 2; do
		bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2" "$3" "$4"' _ "$cg" "$BIN/spawn_storm" \
			"$N_LOSS" "$BIN/true" > "$W/spawner$i.out" &
		eval "p$i=\$!"
	done
	wait "$p1" "$p2"
	t1=${EPOCHREALTIME/./}
	[ "$reader" = stalled ] && kill -CONT "$TR_PID"
	sleep 1.5 # the last records and one sample
	stop_tracer
	STATE=$W/state
	out=$W/tracer-loss-$rb-$reader.out # kept: what the figures below were read from
	cp "$W/tracer.out" "$out"
	cp "$W/tracer.err" "$W/tracer-loss-$rb-$reader.err"
	jq -cn --arg rb "$rb" --arg reader "$reader" --argjson n "$N_LOSS" --argjson wall_us "$((t1 - t0))" \
		--slurpfile s1 "$W/spawner1.out" --slurpfile s2 "$W/spawner2.out" \
		--slurpfile recs <(jq -c --arg u "$UNIT" 'select(.unit == $u and (.type == "exec" or .type == "exit")) | .type' "$out") \
		--slurpfile summ <(jq -c --arg u "$UNIT" 'select(.type == "summary") | .units[] | select(.unit == $u)' "$out") \
		--slurpfile stats <(jq -c 'select(.type == "stats") | .lost' "$out") \
		'{ringbuf_bytes: $rb, reader: $reader, spawners: 2, spawns_each: $n,
		  expected_starts: (2 * $n + 2), expected_exits: (2 * $n + 2),
		  spawn_failed: ($s1[0].failed + $s2[0].failed),
		  seconds: ($wall_us / 1e6), spawns_per_s: (2 * $n / ($wall_us / 1e6)),
		  starts: ($summ[0].execs // null), exits: ($summ[0].exits // null),
		  exec_records: ([$recs[] | select(. == "exec")] | length),
		  exit_records: ([$recs[] | select(. == "exit")] | length),
		  lost: ($stats | last // {})}' >> "$W/loss.jsonl"
	log "  ringbuf $rb, reader $reader: $(tail -1 "$W/loss.jsonl")"
}
if [ -d "$CG2/$UNIT" ] && [ -n "$(cat "$CG2/$UNIT/cgroup.procs" 2> /dev/null)" ]; then
	die "$CG2/$UNIT exists and has processes: is another benchmark running?"
fi
mkdir -p "$CG2/$UNIT" || die "cannot create the cgroup $CG2/$UNIT"
log "loss: two spawners of $N_LOSS spawns each in $UNIT ($CG2/$UNIT)"
loss_run default
loss_run 4096
loss_run 4096 stalled
rmdir "$CG2/$UNIT" 2> /dev/null

# ---- phase 5: soak -------------------------------------------------------------
if [ "$SOAK_S" -gt 0 ]; then
	log "soak: $SOAK_S s of storms under rcatrace, RSS every 30 s"
	start_tracer rcatrace || die "rcatrace did not start: $(cat "$W/tracer.err")"
	SOAK_T0=${EPOCHREALTIME/./}
	record_rss soak
	rm -f "$W/storm.stop"
	(
		n=0 k=0
		while [ ! -e "$W/storm.stop" ]; do
			for wl in spawn fork thread pagefault units; do
				[ -e "$W/storm.stop" ] && break
				if [ "$wl" = units ]; then
					# Unit churn as systemd does it: a unit starts, is stopped with
					# SIGTERM, its cgroup goes. Ten names, reused: nothing may grow.
					for i in $(seq 10); do
						d=$CG2/bench-soak-$i.service
						mkdir -p "$d"
						bash -c 'echo $$ > "$1/cgroup.procs" && exec sleep 30' _ "$d" &
						s=$!
						sleep 0.05
						kill -TERM "$s" 2> /dev/null
						wait "$s" 2> /dev/null
						rmdir "$d" 2> /dev/null
						k=$((k + 1))
					done
				else
					run_workload "$wl" > /dev/null
				fi
				n=$((n + 1))
			done
		done
		echo "$n $k" > "$W/storm.count"
	) &
	STORM_PID=$!
	c0=$(cpu_ns_of "$TR_PID")
	end=$((SOAK_T0 + SOAK_S * 1000000))
	while ((${EPOCHREALTIME/./} < end)); do
		sleep 30
		kill -0 "$TR_PID" 2> /dev/null || die "rcatrace died during the soak: $(tail -5 "$W/tracer.err")"
		record_rss soak
	done
	c1=$(cpu_ns_of "$TR_PID")
	touch "$W/storm.stop"
	wait "$STORM_PID"
	STORM_PID=
	read -r soak_runs soak_units < "$W/storm.count" 2> /dev/null
	jq -cn --argjson s "$SOAK_S" --argjson cpu "$((c1 - c0))" --argjson runs "${soak_runs:-0}" --argjson units "${soak_units:-0}" \
		--argjson state "$(stat -c %s "$STATE" 2> /dev/null || echo 0)" \
		'{seconds: $s, workload_runs: $runs, units_stopped_with_sigterm: $units,
		  rcatrace_cpu_pct_of_core: ($cpu / ($s * 1e9) * 100), state_file_bytes: $state}' > "$W/soak.json"
	stop_tracer
else
	echo '{"seconds": 0, "skipped": "quick run"}' > "$W/soak.json"
fi

# ---- results ------------------------------------------------------------------
jq -cs . "$W/runs.jsonl" > "$W/runs.json"
jq -s -c . "$W/attach.jsonl" > "$W/attach.json"
jq -s -c . "$W/per_event.jsonl" > "$W/per_event.json"
jq -s -c . "$W/rss.jsonl" > "$W/rss.json"
jq -s -c . "$W/loss.jsonl" > "$W/loss.json"
jq -s -c . "$W/notes.jsonl" > "$W/notes.json"
peers='{}'
for p in bpftrace forkstat; do
	peers=$(jq -c --arg p "$p" --arg ok "${PEER_OK[$p]}" --arg why "${PEER_WHY[$p]}" \
		--arg ver "${PEER_VERSION[$p]}" --arg inst "${PEER_INSTALLED[$p]:-0}" \
		'. + {($p): {ran: ($ok == "1"), version: $ver, installed_by_bench: ($inst == "1"),
		  why_not: (if $why == "" then null else $why end)}}' <<< "$peers")
done

jq -n --slurpfile meta "$W/meta.json" --argjson peers "$peers" --slurpfile runs "$W/runs.json" \
	--slurpfile attach "$W/attach.json" --slurpfile pe "$W/per_event.json" --slurpfile progs "$W/programs.json" \
	--slurpfile maps "$W/maps.json" --slurpfile rss "$W/rss.json" --slurpfile idle "$W/idle.json" \
	--slurpfile loss "$W/loss.json" --slurpfile soak "$W/soak.json" --slurpfile foreign "$W/foreign.json" \
	--slurpfile notes "$W/notes.json" --slurpfile sample_cost "$W/sample_cost.json" --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" '
def median: sort | length as $n | if $n == 0 then null elif $n % 2 == 1 then .[$n / 2 | floor]
	else (.[$n / 2 - 1] + .[$n / 2]) / 2 end;
def r(d): if . == null then null else (. * pow(10; d) | round) / pow(10; d) end;
def bare_of: {sched_process_fork: "bare_fork", sched_process_exec: "bare_exec",
	sched_process_exit: "bare_exit", rss_stat: "bare_rss_stat", signal_generate: "bare_signal",
	mark_victim: "bare_oom", sys_exit_clone: "bare_exit_clone", sys_exit_clone3: "bare_exit_clone3",
	sys_exit_fork: "bare_exit_fork", sys_exit_vfork: "bare_exit_vfork"}[.];
$runs[0] as $runs | $pe[0] as $pe | $rss[0] as $rss | $loss[0] as $loss | $idle[0] as $idle
| ($runs | map(.workload) | unique) as $wls
# Ratios: per workload and tracer, medians of times and of per-round ratios.
| [ $wls[] as $w | ($runs | map(select(.workload == $w))) as $rw
    | ($rw | map(select(.variant == "untraced"))) as $base
    | ($rw | map(.variant) | unique | map(select(. != "untraced")))[] as $v
    | ($rw | map(select(.variant == $v))) as $tr
    | [ $tr[] as $t | ($base[] | select(.round == $t.round) | .seconds) as $b | $t.seconds / $b ] as $pairs
    # CPU: what the workload used (with the programs run in its kernel context) plus the tracer process.
    | [ $tr[] as $t | ($base[] | select(.round == $t.round) | .cpu_s) as $b
        | select($b != null and $b > 0 and $t.cpu_s != null)
        | ($t.cpu_s + (($t.tracer_cpu_ms // 0) / 1000)) / $b ] as $cpu_pairs
    | {workload: $w, variant: $v, pairs: ($pairs | length),
       untraced_median_s: ($base | map(.seconds) | median | r(4)),
       untraced_min_s: ($base | map(.seconds) | min | r(4)), untraced_max_s: ($base | map(.seconds) | max | r(4)),
       traced_median_s: ($tr | map(.seconds) | median | r(4)),
       traced_min_s: ($tr | map(.seconds) | min | r(4)), traced_max_s: ($tr | map(.seconds) | max | r(4)),
       ratio_median: ($pairs | median | r(4)), ratio_min: ($pairs | min | r(4)), ratio_max: ($pairs | max | r(4)),
       ratio_of_medians: ((($tr | map(.seconds) | median) / ($base | map(.seconds) | median)) | r(4)),
       cpu_ratio_median: ($cpu_pairs | median | r(4)), cpu_ratio_min: ($cpu_pairs | min | r(4)),
       cpu_ratio_max: ($cpu_pairs | max | r(4)),
       untraced_cpu_median_s: ($base | map(.cpu_s // empty) | median | r(4)),
       traced_cpu_median_s: ($tr | map(.cpu_s // empty) | median | r(4)),
       untraced_spread_pct: (((($base | map(.seconds) | max) - ($base | map(.seconds) | min)) / ($base | map(.seconds) | median) * 100) | r(2)),
       ops: ($rw[0].ops), untraced_rate_per_s: (($rw[0].ops / ($base | map(.seconds) | median)) | r(1)),
       tracer_cpu_ms_median: ($tr | map(.tracer_cpu_ms // empty) | median | r(2)),
       tracer_cpu_us_per_op: (($tr | map(.tracer_cpu_ms // empty) | median) as $m
         | if $m == null then null else ($m * 1000 / $rw[0].ops) | r(4) end) } ] as $ratios
# Per-event cost: rcatrace and bpftrace programs beside the bare counter on the same hook.
| [ $pe[] | select(.owner == "rcatrace") as $p
    | ($pe[] | select(.owner == "bare" and .workload == $p.workload and .name == ($p.name | bare_of))) as $b
    | {workload: $p.workload, program: $p.name, run_cnt: $p.run_cnt, ns_per_run: ($p.ns_per_run | r(1)),
       bare_run_cnt: $b.run_cnt, bare_ns_per_run: ($b.ns_per_run | r(1)),
       vs_bare: (($p.ns_per_run / $b.ns_per_run) | r(2))} ] as $cost
| [ $pe | map(select(.owner == "rcatrace")) | group_by(.name)[] | . as $g
    | ($g[0].name | bare_of) as $bn
    | ($pe | map(select(.owner == "bare" and .name == $bn))) as $bg
    | {program: $g[0].name, run_cnt: ($g | map(.run_cnt) | add),
       ns_per_run: ((($g | map(.run_time_ns) | add) / ($g | map(.run_cnt) | add)) | r(1)),
       bare: $bn,
       bare_ns_per_run: (if ($bg | length) > 0 then (($bg | map(.run_time_ns) | add) / ($bg | map(.run_cnt) | add)) | r(1) else null end)}
    | . + {vs_bare: (if .bare_ns_per_run then (.ns_per_run / .bare_ns_per_run) | r(2) else null end)}
    # Judged on the storm made for its hook (spawn for exec, fork for process fork and
    # exit, pagefault for rss_stat): elsewhere a hook fires only for the benchmark'"'"'s own
    # tools, or takes a shorter path (a thread'"'"'s exit).
    | ({sched_process_exec: "spawn", sched_process_exit: "fork", sched_process_fork: "fork",
        rss_stat: "pagefault", signal_generate: "fork", sys_exit_clone: "fork",
        sys_exit_clone3: "thread"}[$g[0].name]) as $want
    | (($g | map(select(.workload == $want)) | first) // ($g | max_by(.run_cnt))) as $main
    | ($pe | map(select(.owner == "bare" and .name == $bn and .workload == $main.workload)) | first) as $mb
    | . + {main_workload: $main.workload, main_run_cnt: $main.run_cnt, main_ns_per_run: ($main.ns_per_run | r(1)),
           main_bare_ns_per_run: (if $mb then $mb.ns_per_run | r(1) else null end),
           main_vs_bare: (if $mb then ($main.ns_per_run / $mb.ns_per_run) | r(2) else null end)} ] as $cost_all
| ($pe | map(select(.owner == "bpftrace" and .name == "rss_stat"))) as $bt_rss
| ($pe | map(select(.owner == "rcatrace" and .name == "rss_stat"))) as $rca_rss
| ($pe | map(select(.owner == "bare" and .name == "bare_rss_stat" and .workload == "pagefault")) | first // null) as $bare_pf
| (if ($bt_rss | length) > 0 then (($bt_rss | map(.run_time_ns) | add) / ($bt_rss | map(.run_cnt) | add)) else null end) as $bt_ns
| (if ($rca_rss | length) > 0 then (($rca_rss | map(.run_time_ns) | add) / ($rca_rss | map(.run_cnt) | add)) else null end) as $rca_ns
| ($ratios | map(select(.workload == "pagefault")) | map({key: .variant, value: .}) | from_entries) as $pf
| (if $bare_pf then $bare_pf.run_cnt / $bare_pf.workload_ops else null end) as $ev_per_op
| def wall_ns(v): if $pf[v] and $ev_per_op then
      (($pf[v].traced_median_s - $pf[v].untraced_median_s) * 1e9 / ($pf[v].ops * $ev_per_op)) | r(1) else null end;
  def cpu_ns(v): if $pf[v] and $ev_per_op and $pf[v].cpu_ratio_median then
      (($pf[v].cpu_ratio_median - 1) * $pf[v].untraced_cpu_median_s * 1e9 / ($pf[v].ops * $ev_per_op)) | r(1) else null end;
  {rcatrace_ns_per_run: ($rca_ns | r(1)), bpftrace_ns_per_run: ($bt_ns | r(1)),
   bpftrace_over_rcatrace: (if $bt_ns and $rca_ns then ($bt_ns / $rca_ns) | r(2) else null end),
   rss_events_per_page: ($ev_per_op | r(3)),
   rcatrace_wall_ns_per_event: wall_ns("rcatrace"), bpftrace_wall_ns_per_event: wall_ns("bpftrace"),
   rcatrace_cpu_ns_per_event: cpu_ns("rcatrace"), bpftrace_cpu_ns_per_event: cpu_ns("bpftrace")} as $mem_event
| ($rss | map(select(.when == "soak"))) as $soak_rss
| ($rss | map(.vmhwm_kib) | max) as $peak
| ($rss | map(select(.when == "start")) | first | .vmrss_kib) as $rss_start
| (if ($soak_rss | length) > 0 then ($soak_rss | last | .vmrss_kib)
   else ($rss | last | .vmrss_kib) end) as $rss_steady
| (if ($soak_rss | length) > 2 then
     ($soak_rss | last | .vmrss_kib) - ($soak_rss | .[(length / 3 | floor)] | .vmrss_kib) else null end) as $soak_growth
| ($maps[0] | map(.bytes_memlock // 0) | add) as $memlock
| ($attach[0] | map(.attach_s)) as $att
| ($loss | map(select(.ringbuf_bytes == "default")) | first // null) as $l0
| ($loss | map(select(.ringbuf_bytes != "default" and .reader == "running")) | first // null) as $l1
| ($loss | map(select(.reader == "stalled")) | first // null) as $l2
| def budget(name; figure; limit; met): {budget: name, figure: figure, limit: limit, met: met};
  [ ($ratios | map(select(.variant == "rcatrace"))[] |
      budget("\(.workload): traced/untraced time"; "\(.ratio_median) (\(.ratio_min)-\(.ratio_max)); untraced runs spread \(.untraced_spread_pct)%"; "<= 1.01"; .ratio_median <= 1.01),
      budget("\(.workload): traced/untraced CPU (workload + rcatrace)"; "\(.cpu_ratio_median) (\(.cpu_ratio_min)-\(.cpu_ratio_max))"; "<= 1.01";
        (if .cpu_ratio_median == null then null else .cpu_ratio_median <= 1.01 end))),
    ($cost_all | map(select(.main_bare_ns_per_run != null))[] |
      budget("\(.program): ns/run vs bare counter (\(.main_workload) storm, \(.main_run_cnt) runs)";
        "\(.main_ns_per_run) vs \(.main_bare_ns_per_run) ns = \(.main_vs_bare)x (all workloads: \(.vs_bare)x)"; "<= 2x"; .main_vs_bare <= 2)),
    (if $l0 then budget("lost at the highest spawn rate (\($l0.spawns_per_s | r(0))/s, default ring buffer)";
      "starts \($l0.starts)/\($l0.expected_starts), exits \($l0.exits)/\($l0.expected_exits), ringbuf drops exec \($l0.lost.ringbuf_exec // "?") exit \($l0.lost.ringbuf_exit // "?")";
      "exact, 0 drops";
      ($l0.starts == $l0.expected_starts and $l0.exits == $l0.expected_exits and
       ($l0.lost.ringbuf_exec // 1) == 0 and ($l0.lost.ringbuf_exit // 1) == 0)) else empty end),
    (if $l1 then budget("counts with a \($l1.ringbuf_bytes)-byte ring buffer";
      "starts \($l1.starts)/\($l1.expected_starts), exits \($l1.exits)/\($l1.expected_exits), drops reported: exec \($l1.lost.ringbuf_exec // "?") exit \($l1.lost.ringbuf_exit // "?")";
      "exact, drops shown";
      ($l1.starts == $l1.expected_starts and $l1.exits == $l1.expected_exits and ($l1.lost | has("ringbuf_exec")))) else empty end),
    (if $l2 then budget("counts with a \($l2.ringbuf_bytes)-byte ring buffer and the reader stopped (SIGSTOP) while spawning";
      "starts \($l2.starts)/\($l2.expected_starts), exits \($l2.exits)/\($l2.expected_exits), drops reported: exec \($l2.lost.ringbuf_exec // "?") exit \($l2.lost.ringbuf_exit // "?"), records \($l2.exec_records) exec + \($l2.exit_records) exit";
      "exact, drops > 0 shown";
      ($l2.starts == $l2.expected_starts and $l2.exits == $l2.expected_exits and ($l2.lost.ringbuf_exec // 0) > 0
       and $l2.exec_records + $l2.lost.ringbuf_exec >= $l2.expected_starts)) else empty end),
    budget("rss_stat: ns/run vs bpftrace per-cgroup count";
      (if $mem_event.bpftrace_over_rcatrace then "\($mem_event.rcatrace_ns_per_run) vs \($mem_event.bpftrace_ns_per_run) ns: \($mem_event.bpftrace_over_rcatrace)x cheaper" else "bpftrace did not run" end);
      ">= 10x cheaper"; (if $mem_event.bpftrace_over_rcatrace then $mem_event.bpftrace_over_rcatrace >= 10 else null end)),
    budget("RSS steady"; "\(($rss_steady / 1024) | r(2)) MiB"; "<= 8 MiB"; $rss_steady <= 8192),
    budget("RSS peak (VmHWM)"; "\(($peak / 1024) | r(2)) MiB"; "<= 16 MiB"; $peak <= 16384),
    (if $soak_growth != null then budget("RSS not growing during the soak (growth over its last two thirds)";
      "\($soak_growth) KiB"; "<= 256 KiB"; $soak_growth <= 256) else empty end),
    budget("idle CPU"; "\($idle.cpu_pct_of_core | r(3))% of a core over \($idle.seconds | r(0)) s"; "<= 0.1%"; $idle.cpu_pct_of_core <= 0.1),
    ($sample_cost[0] | budget("a sample at \(.units_made) units (median of \(.samples | length))";
      "\(.sample_ms_median) ms (samples \(.samples | map(r(1)) | join(", ")) ms); RSS \(.vmrss_kib / 1024 | r(1)) MiB";
      "< 10 ms at 4096 units"; (if .units_made >= 4096 then .sample_ms_median < 10 else null end))),
    budget("start to attached"; "median \($att | median | r(3)) s, max \($att | max | r(3)) s (\($att | length) starts)"; "< 0.5 s"; ($att | max) < 0.5)
  ] as $budgets
| {meta: ($meta[0] + {loadavg_end: $load_end}), peers: $peers, foreign: $foreign[0], notes: $notes[0],
   ratios: $ratios, per_event: $cost, per_program: $cost_all, bpftrace_per_event: [$pe[] | select(.owner == "bpftrace")
     | {workload, program: .name, run_cnt, ns_per_run: (.ns_per_run | r(1))}],
   memory_event: $mem_event, programs: $progs[0],
   footprint: {rss_kib: {start: $rss_start, steady: $rss_steady, peak_hwm: $peak, soak_growth_kib: $soak_growth,
                         samples: $rss},
               maps: {memlock_bytes: $memlock, maps: $maps[0]},
               idle: $idle, soak: $soak[0], sample_cost: $sample_cost[0],
               attach_s: {median: ($att | median | r(4)), max: ($att | max | r(4)), samples: $att}},
   loss: $loss, budgets: $budgets, runs: $runs}' > "$W/results.json" || die "could not assemble the results"

cp "$W/results.json" "$OUT/results.json"
jq -r '["workload", "variant", "round", "ops", "seconds", "cpu_s", "failed", "tracer_cpu_ms"], (.runs[] | [.workload, .variant, .round, .ops, .seconds, .cpu_s, .failed, .tracer_cpu_ms]) | @csv' \
	"$OUT/results.json" > "$OUT/runs.csv"
"$here/bench/report.sh" "$OUT/results.json" "$OUT/RESULTS.md" || die "could not write $OUT/RESULTS.md"
log "results: $OUT/results.json, $OUT/runs.csv, $OUT/RESULTS.md"
jq -r '.budgets[] | "  \(if .met == true then "met " elif .met == false then "MISS" else "n/a " end) \(.budget): \(.figure) (\(.limit))"' "$OUT/results.json" >&2
exit 0
