#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make deb` builds a Debian package that lintian passes without an error;
# dpkg installs it on this machine, the installed vxray reports the
# package's version, its man page is found by man, `vxray doctor` runs, the
# unit is installed but not enabled, and dpkg removes every file it put.
source "$(dirname "$0")/../lib.sh"

INSTALLED=0

cleanup() {
	((INSTALLED)) && dpkg --purge vxray >/dev/null 2>&1
	return 0
}

test_deb_installs_and_removes() {
	require_root
	local t
	for t in dpkg-buildpackage dh lintian; do
		command -v "$t" >/dev/null || skip "$t is not installed (make deps)"
	done
	# Someone's real vxray package: not ours to replace.
	if dpkg-query -W -f='${db:Status-Abbrev}' vxray 2>/dev/null | grep -q '^ii'; then
		skip "a vxray package is already installed on this machine"
	fi
	local out deb version vre files rc
	out=$(make -s -C "$ROOT" BUILD="$BUILD" deb 2>&1) || fail "make deb failed: $out"
	deb=$(sed -n 's/^deb: //p' <<<"$out")
	[[ -f $deb ]] || fail "make deb named no package: $out"
	assert_match "$(basename "$deb")" '^vxray_0\.0~git[0-9]{12}\.[0-9a-f]+(\+dirty)?_[a-z0-9]+\.deb$' "package file name"
	assert_no_match "$(cat "$BUILD/deb/lintian.log")" '^E: ' "lintian errors"
	version=$(dpkg-deb -f "$deb" Version)
	# As a regular expression: the version has dots and may have a '+'.
	vre=$(sed 's/[.+]/\\&/g' <<<"$version")

	trap cleanup EXIT
	out=$(dpkg -i "$deb" 2>&1) || fail "dpkg -i: $out"
	INSTALLED=1
	assert_match "$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' vxray)" "^ii +$vre\$" "dpkg lists it installed"
	out=$(/usr/sbin/vxray --version)
	assert_match "$out" "^vxray $vre\$" "the installed binary reports the package's version"
	assert_eq "$(man -w vxray 2>&1)" "/usr/share/man/man8/vxray.8.gz" "man -w vxray"
	out=$(/usr/sbin/vxray doctor 2>&1); rc=$?
	[[ $rc == 0 || $rc == 3 ]] || fail "vxray doctor exited $rc: $out"
	assert_match "$out" '^vxray doctor: kernel ' "the installed doctor reports"
	[[ -f /lib/systemd/system/vxray-agent.service ]] || fail "no systemd unit installed"
	assert_match "$(cat /lib/systemd/system/vxray-agent.service)" '^ExecStart=/usr/sbin/vxray agent ' "the unit runs the packaged binary"
	assert_eq "$(find /etc/systemd/system -name 'vxray*' 2>/dev/null)" "" "the unit is neither enabled nor started"
	assert_match "$(/usr/share/vxray/vxray-lab --help 2>&1)" 'Usage' "the lab is shipped"
	[[ -r /usr/lib/vxray/vx_lab_csum.bpf.o ]] || fail "the lab's fault injector is missing"

	files=$(dpkg -L vxray | while read -r f; do [[ -f $f ]] && echo "$f"; done)
	[[ $(wc -l <<<"$files") -ge 8 ]] || fail "dpkg -L lists too few files: $files"
	out=$(dpkg --purge vxray 2>&1) || fail "dpkg --purge: $out"
	INSTALLED=0
	assert_eq "$(dpkg-query -W -f='${db:Status-Abbrev}' vxray 2>/dev/null | tr -d ' ')" "" "dpkg no longer lists it"
	for f in $files; do
		[[ ! -e $f ]] || fail "$f is still there after dpkg --purge"
	done
	[[ ! -e /usr/share/vxray && ! -e /usr/lib/vxray ]] || fail "its directories are still there"
}

run_test "package: make deb, lintian clean, dpkg installs, runs and removes it" test_deb_installs_and_removes
