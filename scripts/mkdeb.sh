#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make deb`: build vxray_VERSION_ARCH.deb from the working tree with
# dpkg-buildpackage, in a staging copy under $BUILD/deb (dpkg-buildpackage
# writes its products next to the source tree, and debian/ must not live
# in the repository's root), then run lintian on it and fail on an error.
#
# VERSION: 0.0~gitYYYYMMDDHHMM.HASH from the last commit (~ sorts it below
# any release), +dirty when the tree has uncommitted changes. The binary
# reports the same version (`vxray --version`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
OUT=$BUILD/deb

die() { echo "deb: $*" >&2; exit 1; }

for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null ||
		die "$t is missing: run 'make deps' (packages dpkg-dev, debhelper, lintian)"
done
cd "$ROOT"
git rev-parse --git-dir >/dev/null 2>&1 || die "not a git checkout: the version comes from git"
version="0.0~git$(git log -1 --format=%cd --date=format:%Y%m%d%H%M).$(git rev-parse --short HEAD)"
[[ -z $(git status --porcelain --untracked-files=no) ]] || version+="+dirty"

rm -rf "$OUT"
src=$OUT/vxray-$version
mkdir -p "$src"
# Every tracked file as it is in the working tree, and nothing built.
git ls-files -z | xargs -0 cp --parents -t "$src"
cp -r contrib/debian "$src/debian"
cat >"$src/debian/changelog" <<-EOT
	vxray ($version) unstable; urgency=medium

	  * Built from commit $(git rev-parse HEAD).

	 -- $(sed -n 's/^Maintainer: //p' contrib/debian/control)  $(date -R)
EOT

(cd "$src" && VXRAY_VERSION=$version dpkg-buildpackage -b -us -uc --no-sign) >"$OUT/build.log" 2>&1 ||
	die "dpkg-buildpackage failed; its output is in $OUT/build.log: $(tail -5 "$OUT/build.log")"
deb=$(ls "$OUT"/vxray_"$version"_*.deb)
# Errors fail the build; warnings are shown.
lintian --fail-on error "$deb" | tee "$OUT/lintian.log" ||
	die "lintian found errors in $deb (above, and in $OUT/lintian.log)"
rm -rf "$src"
echo "deb: $deb"
