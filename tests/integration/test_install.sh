#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `make install` and `make uninstall` into a DESTDIR: the files and their modes,
# the binary that was tested, a systemd unit that `systemd-analyze verify`
# accepts, a man page that renders without warnings and names every option and
# metric, a bash completion that knows every option; uninstall leaves nothing.
#
# systemd-analyze (package systemd, installed by scripts/install-deps.sh) is
# required under CI=true; elsewhere its absence skips that check, with a message.
# The build directory of the binary under test (lib.sh may point RCATRACE at a copy).
OUT=$(dirname "${RCATRACE:?RCATRACE must name the binary}")
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$WORK/dest

install_into() { # PREFIX
	make -s -C "$REPO" OUTPUT="$OUT" DESTDIR="$DEST" PREFIX="$1" install > "$WORK/make.log" 2>&1
}
uninstall_from() { # PREFIX
	make -s -C "$REPO" OUTPUT="$OUT" DESTDIR="$DEST" PREFIX="$1" uninstall > "$WORK/make.log" 2>&1
}

install_into /usr
assert_eq "make install DESTDIR PREFIX=/usr" 0 "$?"
[ -s "$WORK/make.log" ] && cat "$WORK/make.log"
assert_eq "installed files" \
	"/usr/lib/systemd/system/rcatrace.service 644
/usr/sbin/rcatrace 755
/usr/share/bash-completion/completions/rcatrace 644
/usr/share/doc/rcatrace/rcatrace-alerts.yml 644
/usr/share/man/man8/rcatrace.8 644" \
	"$(cd "$DEST" && find . -type f -printf '/%P %m\n' | sort)"
cmp -s "$RCATRACE" "$DEST/usr/sbin/rcatrace"
assert_eq "the installed binary is the tested one" 0 "$?"
assert_eq "the installed binary runs" 1 "$("$DEST/usr/sbin/rcatrace" version | grep -c '^rcatrace ')"

# ---- the unit ----------------------------------------------------------------------
UNIT=$DEST/usr/lib/systemd/system/rcatrace.service
assert_eq "ExecStart names the installed binary and the state" \
	"ExecStart=/usr/sbin/rcatrace run --state /var/lib/rcatrace/rcatrace.db" "$(grep '^ExecStart=' "$UNIT")"
for line in Type=notify NotifyAccess=main StateDirectory=rcatrace StandardError=journal ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes \
	PrivateTmp=yes ProtectKernelModules=yes \
	'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH'; do
	assert_eq "unit has $line" 1 "$(grep -cxF "$line" "$UNIT")"
done
if command -v systemd-analyze > /dev/null; then
	# A root holding the system's own units (sysinit.target, ...) and the DESTDIR tree,
	# so ExecStart= resolves to the installed binary; MANPATH lets the
	# Documentation=man:rcatrace(8) check find the installed page.
	VR=$WORK/verify-root
	mkdir -p "$VR/usr/lib/systemd"
	cp -a /usr/lib/systemd/system "$VR/usr/lib/systemd/"
	ln -s usr/lib "$VR/lib"
	cp -a "$DEST/." "$VR/"
	MANPATH=$VR/usr/share/man systemd-analyze verify --root="$VR" \
		/usr/lib/systemd/system/rcatrace.service > "$WORK/verify.out" 2>&1
	assert_eq "systemd-analyze verify: status and messages" "0:" "$?:$(cat "$WORK/verify.out")"
	# The check can fail: a unit naming a binary that is not there is refused.
	rm "$VR/usr/sbin/rcatrace"
	MANPATH=$VR/usr/share/man systemd-analyze verify --root="$VR" \
		/usr/lib/systemd/system/rcatrace.service > "$WORK/verify.out" 2>&1
	assert_eq "systemd-analyze verify refuses a missing binary" 1 "$(grep -c 'is not executable' "$WORK/verify.out")"
	rm -rf "$VR"
elif [ "${CI:-false}" = true ]; then
	fail "systemd-analyze is not installed (package systemd; scripts/install-deps.sh installs it): CI=true makes this a failure"
else
	echo "SKIP: systemd-analyze is not installed (package systemd): the unit was not verified"
fi

# ---- the man page --------------------------------------------------------------------
MAN=$DEST/usr/share/man/man8/rcatrace.8
if command -v man > /dev/null && command -v groff > /dev/null; then
	assert_eq "man --warnings: no warnings" "" "$(MANWIDTH=80 man --warnings -l "$MAN" 2>&1 > /dev/null)"
	assert_eq "groff -ww: no warnings" "" "$(groff -ww -man -z "$MAN" 2>&1)"
	MANWIDTH=80 man -l "$MAN" > "$WORK/man.txt" 2> /dev/null
	for section in NAME SYNOPSIS DESCRIPTION COMMANDS 'OPTIONS FOR RUN' 'OPTIONS FOR DUMP' OUTPUT \
		METRICS FILES ENVIRONMENT 'EXIT STATUS' CAPABILITIES EXAMPLES 'SEE ALSO'; do
		assert_eq "man section $section" 1 "$(grep -cx "$section" "$WORK/man.txt")"
	done
elif [ "${CI:-false}" = true ]; then
	fail "man or groff is not installed (scripts/install-deps.sh installs them)"
else
	echo "SKIP: man or groff is not installed: the man page was not rendered"
fi
# Every option of every command's --help is in the man page and the completion.
missing_man= missing_comp=
for cmd in run dump timeline history report; do
	for opt in $("$RCATRACE" "$cmd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -qF -- "$(sed 's/-/\\-/g' <<< "$opt")" "$MAN" || missing_man="$missing_man $cmd$opt"
		got=$(bash -c 'source "$1"; COMP_WORDS=(rcatrace "$2" "$3"); COMP_CWORD=2; _rcatrace;
			printf "%s\n" "${COMPREPLY[@]}"' _ "$DEST/usr/share/bash-completion/completions/rcatrace" "$cmd" "$opt")
		grep -qx -- "$opt" <<< "$got" || missing_comp="$missing_comp $cmd$opt"
	done
done
assert_eq "options missing from the man page" "" "$missing_man"
assert_eq "options missing from the completion" "" "$missing_comp"
assert_eq "completion: commands" "dump" "$(bash -c 'source "$1"; COMP_WORDS=(rcatrace d); COMP_CWORD=1; _rcatrace;
	echo "${COMPREPLY[*]}"' _ "$DEST/usr/share/bash-completion/completions/rcatrace")"
assert_eq "completion: registered for rcatrace" 1 "$(bash -c 'source "$1"; complete -p rcatrace' _ \
	"$DEST/usr/share/bash-completion/completions/rcatrace" | grep -c -- '-F _rcatrace rcatrace')"
# Every metric family rcatrace exports is in the man page: ask the binary for them.
mkdir "$WORK/textfile"
"$RCATRACE" run --no-state --duration 1 --textfile "$WORK/textfile" > /dev/null 2> "$WORK/run.err"
assert_eq "a one-second run for the metric names" 0 "$?"
missing_metrics=
for name in $(awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$WORK/textfile/rcatrace.prom"); do
	grep -qF -- "$name" "$MAN" || missing_metrics="$missing_metrics $name"
done
assert_eq "metric families in the exposition" 1 "$([ "$(grep -c "^# TYPE" "$WORK/textfile/rcatrace.prom")" -ge 15 ] && echo 1)"
assert_eq "metrics missing from the man page" "" "$missing_metrics"

# ---- uninstall -------------------------------------------------------------------------
uninstall_from /usr
assert_eq "make uninstall" 0 "$?"
assert_eq "files left after uninstall" "" "$(find "$DEST" -type f)"

# The default PREFIX: /usr/local, the unit naming /usr/local/sbin/rcatrace.
install_into /usr/local
assert_eq "make install PREFIX=/usr/local" 0 "$?"
assert_eq "unit under /usr/local" \
	"ExecStart=/usr/local/sbin/rcatrace run --state /var/lib/rcatrace/rcatrace.db" \
	"$(grep '^ExecStart=' "$DEST/usr/local/lib/systemd/system/rcatrace.service")"
assert_eq "binary under /usr/local/sbin" 1 "$([ -x "$DEST/usr/local/sbin/rcatrace" ] && echo 1)"
uninstall_from /usr/local
assert_eq "files left after uninstall from /usr/local" "" "$(find "$DEST" -type f)"
finish
