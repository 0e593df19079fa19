#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One command: install dependencies, build, run the unit tests and the kernel tests.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
make -s
make test
