#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian package that vxray's build, lab, tests and benchmarks
# need. Idempotent: when everything is present it only runs dpkg-query.
set -euo pipefail

pkgs=(
	# build
	make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
	libmnl-dev libcmocka-dev libmicrohttpd-dev libnftables-dev libjansson-dev
	# diagnose --prometheus: the HTTP API client
	libcurl4-openssl-dev
	# make format-check (.clang-format), libFuzzer and the ASan/UBSan
	# runtimes for clang 14 (make fuzz, check)
	clang-format
	libclang-rt-14-dev
	# lab and integration tests
	iproute2 iptables nftables conntrack socat iperf3 iputils-ping procps
	kmod tcpdump util-linux libcap2-bin ethtool jq
	# metrics tests (promtool and a real Prometheus server), man page checks
	prometheus prometheus-alertmanager curl man-db groff-base
	# systemd-analyze verifies the agent's unit
	systemd
	# make deb and its test: dpkg-buildpackage, debhelper, lintian
	dpkg-dev debhelper lintian
	# the JSON contract's test validates real output against docs/schema
	python3-jsonschema
	# --pcap tests: tshark and capinfos read vxray's captures
	tshark
	# benchmarks (bench/run): jq reads iperf3's JSON, bpftrace is the baseline
	# of section 4, perf profiles the misses
	jq bpftrace linux-perf
	# kernel matrix: Debian's 6.1 kernel under qemu (tests/vm/vmtest)
	qemu-system-x86 linux-image-amd64 busybox-static cpio
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $st == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	exit 0
fi
if ((EUID != 0)); then
	echo "deps: missing packages: ${missing[*]}; run 'make deps' as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture: no question
# on a CI machine, and no setuid dumpcap.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
