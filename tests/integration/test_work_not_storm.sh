#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Busy units that are no respawn storm: what a unit's own processes fork and
# exec is work, however much of it there is. A shell running 10,000 short
# commands (shellloop.service), a `make -j2` of 40 C files (build.service),
# `dpkg -i` of a small package (pkginstall.service) and a healthy service loop
# (shloop.service): one start each (the process that moved itself in), every
# exec counted exactly as work, and no storm.
. "$(dirname "$0")/lib.sh"

PKG=rcatrace-test-dummy
purge_pkg() {
	if dpkg-query -W "$PKG" > /dev/null 2>&1; then
		dpkg --purge "$PKG" > /dev/null 2>&1
	fi
}
trap 'purge_pkg; cleanup' EXIT

for t in gcc make dpkg dpkg-deb; do
	command -v "$t" > /dev/null || { fail "$t is not installed (scripts/install-deps.sh installs it)"; finish; }
done
purge_pkg

# The project: 40 one-function files and a main that calls them all.
src=$WORK/proj decl='' call=''
mkdir -p "$src"
for i in $(seq 0 39); do
	echo "int f$i(void) { return $i; }" > "$src/f$i.c"
	decl+="int f$i(void); "
	call+=" + f$i()"
done
printf '%s\nint main(void) { return (0%s) == 780 ? 0 : 1; }\n' "$decl" "$call" > "$src/main.c"
printf '%s\n' 'OBJS := $(patsubst %.c,%.o,$(wildcard *.c))' \
	'prog: $(OBJS)' '	gcc -o $@ $^' '%.o: %.c' '	gcc -O0 -c -o $@ $<' > "$src/Makefile"

# The package: one file, and a postinst so dpkg runs a maintainer script.
pkg=$WORK/pkg
mkdir -p "$pkg/DEBIAN" "$pkg/usr/share/$PKG"
echo "rcatrace test package" > "$pkg/usr/share/$PKG/README"
cat > "$pkg/DEBIAN/control" << EOF
Package: $PKG
Version: 1.0
Architecture: all
Maintainer: rcatrace tests <root@localhost>
Description: rcatrace kernel test package
 Installed and purged by tests/integration/test_work_not_storm.sh.
EOF
printf '#!/bin/sh\nset -e\nexit 0\n' > "$pkg/DEBIAN/postinst"
chmod 0755 "$pkg/DEBIAN/postinst"
dpkg-deb --root-owner-group --build "$pkg" "$WORK/$PKG.deb" > /dev/null || fail "dpkg-deb --build failed"

for u in shellloop.service build.service pkginstall.service shloop.service; do
	make_unit "$u" > /dev/null
done
start_rcatrace --json --interval 0.5 --state "$WORK/state" || finish

# Each driver moves itself in, then execs once: that exec is the unit's one
# start; everything after it is work.
# (d) the healthy service loop, ~15 s in the background; it counts its rounds.
cat > "$WORK/shloop.sh" << 'EOF'
n=0 end=$((${EPOCHREALTIME%.*} + 15))
while [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do date > /dev/null; sleep 0.05; n=$((n + 1)); done
echo "$n" > "$1"
EOF
bash -c 'echo $$ > "$1/cgroup.procs"; exec /bin/bash "$2" "$3"' \
	_ "$TEST_ROOT/shloop.service" "$WORK/shloop.sh" "$WORK/shloop.rounds" &
shloop=$!

# (a) 10,000 short commands.
t0=$EPOCHREALTIME
bash -c 'echo $$ > "$1/cgroup.procs"; exec /bin/bash -c "for ((i = 0; i < 10000; i++)); do /bin/true; done"' \
	_ "$TEST_ROOT/shellloop.service"
t1=$EPOCHREALTIME
# (b) the build.
bash -c 'echo $$ > "$1/cgroup.procs"; exec make -s -j2 -C "$2"' _ "$TEST_ROOT/build.service" "$src" \
	|| fail "make failed"
"$src/prog" || fail "the built program is wrong"
t2=$EPOCHREALTIME
# (c) the package.
bash -c 'echo $$ > "$1/cgroup.procs"; exec dpkg -i "$2"' _ "$TEST_ROOT/pkginstall.service" "$WORK/$PKG.deb" \
	> "$WORK/dpkg.out" 2>&1 || fail "dpkg -i failed: $(cat "$WORK/dpkg.out")"
[ -f "/usr/share/$PKG/README" ] || fail "the package's file is not installed"
t3=$EPOCHREALTIME
wait "$shloop"
rounds=$(cat "$WORK/shloop.rounds")
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v r="$rounds" 'BEGIN {
	printf "shell loop %.1f s, build %.1f s, dpkg %.1f s; service loop %d rounds\n", b - a, c - b, d - c, r }'
sleep 1
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"
purge_pkg

dump=$("$RCATRACE" dump --json --state "$WORK/state")
u() { jq -c ".units[] | select(.unit == \"$1\")" <<< "$dump"; }
# An executable's {starts, execs} in unit record $s, by the end of its path.
x() { jq -c ".executables[] | select(.executable | endswith(\"/$1\")) | {starts, execs}" <<< "$s"; }
# The exec and exit records the ring buffer carried, per unit, in one pass:
# the exact counters must agree with them (no loss allowed).
recs=$(jq -sc 'map(select(.type == "exec" or .type == "exit")) | group_by(.unit)
	| map({key: .[0].unit, value: {execs: map(select(.type == "exec")) | length,
		exits: map(select(.type == "exit")) | length,
		exit_codes: map(select(.type == "exit")) | group_by(.exit_code)
			| map({key: (.[0].exit_code | tostring), value: length}) | from_entries}})
	| from_entries' "$WORK/out")
assert_eq "no ring-buffer loss" 0 "$(jq -s '[.[] | select(.type == "stats")] | last | .lost.ringbuf_exec + .lost.ringbuf_exit' "$WORK/out")"

for unit in shellloop.service build.service pkginstall.service shloop.service; do
	s=$(u "$unit")
	jq -r '.executables[] | "  \(.executable): starts \(.starts) execs \(.execs) exits \(.exits) \(.class)"' <<< "$s"
	assert_eq "$unit: no respawn_storm finding" 0 \
		"$(grep -F '"finding"' "$WORK/out" | jq -c "select(.type == \"finding\" and .finding == \"respawn_storm\" and .unit == \"$unit\")" | wc -l)"
	assert_eq "$unit: storm" false "$(jq .storm <<< "$s")"
	assert_eq "$unit: storms" 0 "$(jq .storms <<< "$s")"
	assert_eq "$unit: starts (the driver)" 1 "$(jq .starts <<< "$s")"
	assert_eq "$unit: the one start is one executable's" 1 "$(jq '[.executables[].starts] | add' <<< "$s")"
	assert_eq "$unit: no executable classed storm" 0 "$(jq '[.executables[] | select(.class == "storm")] | length' <<< "$s")"
	assert_eq "$unit: execs, exits, exit codes = the records" "$(jq -cS ".[\"$unit\"]" <<< "$recs")" \
		"$(jq -cS '{execs, exits, exit_codes}' <<< "$s")"
	assert_eq "$unit: no crash" 0 "$(jq .crashes <<< "$s")"
done

# (a) 10,000 execs of /bin/true plus the driver's own exec of bash.
s=$(u shellloop.service)
assert_eq "shellloop: execs" 10001 "$(jq .execs <<< "$s")"
assert_eq "shellloop: exit codes" '{"0":10001}' "$(jq -c .exit_codes <<< "$s")"
assert_eq "shellloop: /bin/true is work" '{"starts":0,"execs":10000}' "$(x true)"
assert_eq "shellloop: /bin/bash is the start" '{"starts":1,"execs":1}' "$(x bash)"

# (b) make is the start; gcc ran once per file and once to link.
s=$(u build.service)
assert_eq "build: every exit code 0" '["0"]' "$(jq -c '.exit_codes | keys' <<< "$s")"
assert_eq "build: make is the start" '{"starts":1,"execs":1}' "$(x make)"
assert_eq "build: gcc is work" '{"starts":0,"execs":42}' "$(x gcc)"
assert_eq "build: cc1 is work" '{"starts":0,"execs":41}' "$(x cc1)"
assert_eq "build: as is work" '{"starts":0,"execs":41}' "$(x as)"

# (c) dpkg is the start; its maintainer script is work. (dpkg-split exits 1:
# it tells dpkg the package is not split.)
s=$(u pkginstall.service)
assert_eq "pkginstall: dpkg is the start" '{"starts":1,"execs":1}' "$(x dpkg)"
assert_eq "pkginstall: the postinst is work" '{"starts":0,"execs":1}' "$(x "$PKG.postinst")"

# (d) two commands per round, plus the driver's exec of bash.
s=$(u shloop.service)
assert_eq "shloop: execs" $((2 * rounds + 1)) "$(jq .execs <<< "$s")"
assert_eq "shloop: exit codes" "{\"0\":$((2 * rounds + 1))}" "$(jq -c .exit_codes <<< "$s")"
assert_eq "shloop: date is work" "{\"starts\":0,\"execs\":$rounds}" "$(x date)"
assert_eq "shloop: sleep is work" "{\"starts\":0,\"execs\":$rounds}" "$(x sleep)"
finish
