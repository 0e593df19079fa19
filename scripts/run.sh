#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One command: install dependencies, build, and start `rcatrace run` (extra arguments passed on).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh run
make -s
exec .output/rcatrace run "$@"
