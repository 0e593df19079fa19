#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Builds the Debian package (`make deb`): build-deb.sh [OUTDIR], default .output/deb.
# Leaves OUTDIR/rcatrace_<version>_<arch>.deb (and the -dbgsym, .buildinfo, .changes)
# and OUTDIR/lintian.txt; fails when lintian reports an error.
#
# dpkg-buildpackage builds in place and writes its results to the parent directory,
# so it runs on a copy of the tree under OUTDIR/build, never on the checkout: the
# checkout's .output and files of other builds stay out of the package. A tree whose
# files hash the same as the last build's is not built again (the kernel tests that
# install the package each call this).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-.output/deb}")
case $out in
"$PWD" | "$PWD"/debian | "$PWD"/debian/*)
	echo "build-deb: refusing to build into $out" >&2
	exit 2
	;;
esac
for t in dpkg-buildpackage dh; do
	command -v "$t" >/dev/null || {
		echo "build-deb: $t is missing (apt-get install dpkg-dev debhelper)" >&2
		exit 1
	}
done
# One build at a time per OUTDIR: two at once (`make deb` beside a kernel test) would
# remove each other's files.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/rcatrace_${version}_${arch}.deb

# The tree as the package sees it: every file but build output and git's own.
tree_files() {
	find . \( -path ./.output -o -path ./.git -o -path "./${out#"$PWD"/}" \) -prune -o \
		\( -type f -o -type l \) -print | LC_ALL=C sort
}
hash=$(tree_files | tr '\n' '\0' | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ -f "$deb" ] && [ "$(cat "$out/tree.sha256" 2>/dev/null)" = "$hash" ]; then
	echo "build-deb: $deb is up to date"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out/build/rcatrace-$version"
tree_files | tar -cf - -T - | tar -xf - -C "$out/build/rcatrace-$version"
t0=$(date +%s)
# -us -uc: nothing to sign. -b: the binary packages only.
if ! (cd "$out/build/rcatrace-$version" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; full log in $out/build.log" >&2
	exit 1
fi
mv "$out/build/"*.deb "$out/build/"*.buildinfo "$out/build/"*.changes "$out/"
rm -rf "$out/build"
echo "build-deb: built $deb in $(($(date +%s) - t0)) s"

if command -v lintian >/dev/null; then
	# Informational tags too (-I), so what is fixed and what is explained is all seen.
	lintian -I --pedantic "$out"/rcatrace_"${version}"_"${arch}".changes >"$out/lintian.txt" 2>&1 || true
	sed 's/^/lintian: /' "$out/lintian.txt"
	if grep -q '^E: ' "$out/lintian.txt"; then
		echo "build-deb: lintian reports errors (above)" >&2
		exit 1
	fi
else
	echo "build-deb: lintian is not installed: the package was not checked"
fi
echo "$hash" >"$out/tree.sha256"
