#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Reproduces the README's sample output on this machine (root): a failing
# respawn loop, a kill across units, a fork storm under pids.max 32, an OOM
# kill in a 64 MiB v1 memory cgroup and a unit growing 1 MiB/s, all in
# throwaway cgroups named like systemd units, traced by a real `rcatrace run`.
# Needs the v1 pids and memory controllers (hybrid hosts) for the last two.
set -u
cd "$(dirname "$0")/.."
make -s .output/rcatrace .output/helpers/memhog .output/helpers/forker
R=$(awk '{ for (i = 7; i < NF && $i != "-"; i++); if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)/demo.slice
P=/sys/fs/cgroup/pids/rcatrace-demo
M=/sys/fs/cgroup/memory/rcatrace-demo
OUT=${OUT:-/tmp/rcatrace-demo}
mkdir -p "$OUT"
cleanup() {
	for d in "$R"/*/ "$P" "$M"; do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	sleep 0.5
	rmdir "$R"/*/ "$R" "$P" "$M" 2>/dev/null
}
trap cleanup EXIT
for u in serial-getty@ttyS0.service docker.service apt-daily-upgrade.service forky.service \
	leaky.service oom.service; do
	mkdir -p "$R/$u"
done
mkdir -p "$P" "$M" && echo 32 > "$P/pids.max" && echo $((64 << 20)) > "$M/memory.limit_in_bytes"

into() { echo "echo \$\$ > '$R/$1/cgroup.procs'"; }
rm -f "$OUT/state"
.output/rcatrace run --state "$OUT/state" > "$OUT/run.out" 2> "$OUT/run.err" &
rc=$!
until grep -q attached "$OUT/run.err"; do sleep 0.1; done
bash -c "$(into docker.service); exec -a dockerd sleep 100" &
docker=$!
bash -c "$(into leaky.service); exec .output/helpers/memhog grow 1024 50" > /dev/null &
for i in $(seq 12); do bash -c "$(into serial-getty@ttyS0.service); exec /bin/sh -c 'exit 1'"; sleep 0.3; done
bash -c "$(into apt-daily-upgrade.service); kill -TERM $docker"
bash -c "$(into forky.service); echo \$\$ > $P/cgroup.procs; exec .output/helpers/forker 4 200" > /dev/null
bash -c "$(into oom.service); echo \$\$ > $M/cgroup.procs; exec .output/helpers/memhog oom" 2> /dev/null
sleep 30
.output/rcatrace dump --state "$OUT/state" --unit '*.service' > "$OUT/dump.txt"
kill -INT "$rc"
wait "$rc"
cat "$OUT/run.err" "$OUT/dump.txt"
