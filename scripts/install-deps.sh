#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Installs what rcatrace needs on Debian 12 (as root):
#   install-deps.sh run    to build and run it
#   install-deps.sh test   to build it and run every test (the default)
set -eu
mode=${1:-test}
case $mode in
run | test) ;;
*)
	echo "usage: install-deps.sh [run|test]" >&2
	exit 2
	;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (sudo $0)" >&2
	exit 1
fi
# Build and run: the compilers, libbpf and bpftool, libelf, zlib (libbpf),
# libmicrohttpd (--metrics-listen), SQLite (the store).
pkgs="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libmicrohttpd-dev libsqlite3-dev pkg-config make gcc"
servers=
if [ "$mode" = test ]; then
	# Tests: cmocka, jq (they read JSON), setpriv/unshare, curl, man and groff for
	# the man page, systemd-analyze (in systemd; a plain package, it does not
	# become init) for the unit.
	pkgs="$pkgs libcmocka-dev jq util-linux curl man-db groff-base systemd"
	# The real-systemd guest (tests/guest): a Debian 12 rootfs booted with
	# systemd-nspawn; the tests' own package is built with dpkg-deb.
	pkgs="$pkgs debootstrap systemd-container dpkg-dev"
	# The Debian package (`make deb`, tests/integration/test_deb_*.sh): debhelper
	# builds it, lintian checks it; the VM on Debian's own kernel (tests/vm) needs
	# QEMU, qemu-img for its overlays and mkfs.ext4 -d (e2fsprogs) for its disks.
	pkgs="$pkgs debhelper lintian fakeroot qemu-system-x86 qemu-utils e2fsprogs"
	# `report --html` is checked in a real browser: headless Chromium takes a
	# screenshot, python3 (standard library only) finds the lines in it.
	pkgs="$pkgs chromium python3"
	# For their binaries: promtool and a Prometheus server, node_exporter for the
	# textfile collector. Without recommends (collector scripts and timers).
	servers="prometheus prometheus-node-exporter"
fi

missing_of() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf ' %s' "$p"
	done
}
missing=$(missing_of $pkgs)
missing_servers=
[ -n "$servers" ] && missing_servers=$(missing_of $servers)
if [ -n "$missing$missing_servers" ]; then
	echo "install-deps: installing$missing$missing_servers"
	apt-get update -qq
fi
if [ -n "$missing" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
if [ -n "$missing_servers" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing_servers
	# The packages enable their services on every interface; the tests start their
	# own on loopback. Where systemd runs, stop and disable what was just installed.
	if [ -d /run/systemd/system ]; then
		for svc in $missing_servers; do
			systemctl disable --now "$svc.service" > /dev/null 2>&1 || true
		done
	fi
fi
