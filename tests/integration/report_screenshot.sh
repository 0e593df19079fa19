#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# report_screenshot.sh HTML PNG: a screenshot of a whole `rcatrace report --html`
# page, taken by headless Chromium (Debian: chromium). The page states its own
# height (<body data-page-height="N">, exact: every box in it has a fixed size),
# so one window that tall holds all of it. $CHROMIUM picks the browser binary,
# $SCREENSHOT_TIMEOUT the seconds it may take (default 60).
set -u

PAGE_WIDTH=1000 # the report's charts are 960 px wide, inside a 16 px body margin

die() {
	echo "report_screenshot: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: report_screenshot.sh HTML PNG"
html=$1
png=$2
[ -r "$html" ] || die "cannot read $html"

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
	for b in chromium chromium-browser google-chrome; do
		if command -v "$b" >/dev/null 2>&1; then
			browser=$b
			break
		fi
	done
fi
[ -n "$browser" ] || die "no chromium found: install it (Debian: apt-get install chromium) or set CHROMIUM"

height=$(sed -n 's/.*<body data-page-height="\([0-9][0-9]*\)".*/\1/p' "$html" | head -n 1)
[ -n "$height" ] || die "$html has no <body data-page-height=...>: not an rcatrace report?"

# An absolute path, not a file:// URL: Chromium makes the URL itself, escaping
# spaces, '#' and '?' that a hand-made one would get wrong.
case $html in
/*) ;;
*) html=$(pwd)/$html ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/report-screenshot.XXXXXX") || die "mktemp failed"
# Chromium's helpers outlive a killed parent: end those of this profile, by pid.
cleanup() {
	for pid in $(pgrep -f -- "--user-data-dir=$work/profile" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

rm -f "$png"
# --no-sandbox: root (CI, containers) cannot run the sandbox; the page is local,
# holds no script, and its Content-Security-Policy forbids every fetch.
# Scale 1 and sRGB: a HiDPI setting or a colour profile would change the pixels.
timeout -k 5 "${SCREENSHOT_TIMEOUT:-60}" "$browser" --headless --no-sandbox --disable-gpu \
	--hide-scrollbars --force-device-scale-factor=1 --force-color-profile=srgb --no-first-run \
	--disable-background-networking --disable-component-update --disable-extensions \
	--disable-sync --user-data-dir="$work/profile" --window-size="$PAGE_WIDTH,$height" \
	--screenshot="$png" "$html" >"$work/log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$png" ]; then
	tail -n 20 "$work/log" >&2
	[ $rc -eq 124 ] && die "$browser took longer than ${SCREENSHOT_TIMEOUT:-60} s"
	die "$browser failed (exit $rc) and wrote no $png"
fi
echo "report_screenshot: $png (${PAGE_WIDTH}x$height)"
