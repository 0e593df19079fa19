#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Installs what rcatrace needs to build, run and test on Debian 12 (as root).
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (sudo $0)" >&2
	exit 1
fi
pkgs="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev pkg-config make gcc jq util-linux"
# --metrics-listen: libmicrohttpd. Tests: curl, man and groff for the man page,
# systemd-analyze (in systemd; a plain package, it does not become init) for the unit.
pkgs="$pkgs libmicrohttpd-dev curl man-db groff-base systemd"
# Tests only, for their binaries: promtool and a Prometheus server, node_exporter
# for the textfile collector. Without recommends (collector scripts and timers).
servers="prometheus prometheus-node-exporter"

missing_of() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf ' %s' "$p"
	done
}
missing=$(missing_of $pkgs)
missing_servers=$(missing_of $servers)
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
