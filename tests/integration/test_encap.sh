#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray encap on the lab: both directions of a healthy tunnel, scenario 1's
# one-sided tunnel, the in-kernel filters, and nothing left attached after
# an exit or a SIGKILL -- while someone else's tc filter keeps working.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1' EXIT

# encap_while_pinging N ARGS...: vxray encap -j runs while A pings B N times.
encap_while_pinging() {
	local n=$1 out pid
	shift
	out=$(mktemp)
	"$VXRAY" encap -j "$@" -d 4s --interval 2s >"$out" 2>&1 &
	pid=$!
	sleep 1.5
	ip netns exec "$A" ping -c "$n" -i 0.2 -W 1 -q 172.16.0.2 >/dev/null 2>&1
	wait "$pid"
	echo "rc=$?"
	cat "$out"
	rm -f "$out"
}

# count OUTPUT TYPE NETNS DEVICE ICMP_TYPE
count() {
	grep -c "\"type\":\"$2\",.*\"netns\":\"$3\",\"device\":\"$4\",.*\"vni\":100,.*\"proto\":\"icmp\",\"icmp_type\":$5," <<<"$1"
}

our_progs() { bpftool prog list | grep -c 'name vx_tc_'; }

test_healthy_both_ways() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out
	out=$(encap_while_pinging 5 --auto --netns "$A" --netns "$B")
	assert_match "$out" '^rc=0' "vxray encap exits 0"
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 5 "echo requests encapsulated on $A's vxlan100"
	assert_eq "$(count "$out" encap "$A" und0 8)" 5 "echo requests leaving $A's underlay"
	assert_eq "$(count "$out" decap "$B" und0 8)" 5 "echo requests arriving on $B's underlay"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 5 "echo requests decapsulated on $B's vxlan100"
	assert_eq "$(count "$out" encap "$B" vxlan100 0)" 5 "echo replies encapsulated on $B"
	assert_eq "$(count "$out" decap "$A" vxlan100 0)" 5 "echo replies decapsulated on $A"
	assert_match "$out" '"device":"und0","hook":"out","layer":"underlay","vni":100,"outer_src":"10\.0\.0\.1","outer_dst":"10\.0\.0\.2","outer_sport":[0-9]+,"outer_dport":4789,"inner_src":"172\.16\.0\.1","inner_dst":"172\.16\.0\.2"' "outer and inner headers"
	assert_match "$out" '"type":"summary",.*"tunnels":\[.*\{"netns":"'"$A"'","vni":100,"remote_vtep":"10\.0\.0\.2","encap_packets":[0-9]+' "summary per (netns, VNI, remote VTEP)"
	assert_match "$out" '"events_lost":0' "no event lost"
	assert_eq "$(our_progs)" 0 "programs left after exit"
}

test_ipv6_underlay() {
	require_root
	lab teardown >/dev/null
	lab --ipv6 setup >/dev/null || fail "IPv6 lab setup"
	local out
	out=$(encap_while_pinging 3 --auto --netns "$A" --netns "$B")
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 3 "requests encapsulated on $A (IPv6 underlay)"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 3 "requests decapsulated on $B (IPv6 underlay)"
	assert_match "$out" '"outer_src":"fd00::1","outer_dst":"fd00::2"' "IPv6 outer headers"
	lab teardown >/dev/null
}

test_one_sided_tunnel() {
	require_root
	lab setup >/dev/null && lab scenario 1 >/dev/null || fail "lab scenario 1"
	local out
	out=$(encap_while_pinging 5 --auto --netns "$A" --netns "$B")
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 5 "requests still encapsulated on $A"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 0 "requests decapsulated on $B"
	# The summary: DECAP on B stays 0 while ENCAP on A rises.
	assert_match "$(grep '"type":"summary"' <<<"$out" | tail -1)" '\{"netns":"'"$B"'","vni":100,"remote_vtep":"10\.0\.0\.1","encap_packets":[0-9]+,"encap_bytes":[0-9]+,"decap_packets":0,' "B's summary shows nothing decapsulated"
	lab heal >/dev/null
}

test_filters() {
	require_root
	lab setup >/dev/null
	local out
	out=$(encap_while_pinging 3 --auto --netns "$A" --proto tcp)
	assert_no_match "$out" '"proto":"icmp"' "--proto tcp suppresses ICMP"
	out=$(encap_while_pinging 3 --auto --netns "$A" --vni 200)
	assert_no_match "$out" '"type":"(en|de)cap"' "--vni 200 suppresses VNI 100"
	out=$(encap_while_pinging 3 --auto --netns "$A" --host 172.16.0.9)
	assert_no_match "$out" '"type":"(en|de)cap"' "--host of another address suppresses all"
	out=$(encap_while_pinging 3 --auto --netns "$A" --host 172.16.0.2 --proto icmp)
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 3 "--host 172.16.0.2 --proto icmp keeps the pings"
	out=$(encap_while_pinging 3 --auto --netns "$A" --host 10.0.0.2 --proto icmp)
	assert_eq "$(count "$out" encap "$A" und0 8)" 3 "--host matches the outer address too"
}

# A foreign direct-action cls_bpf filter: drops underlay ICMP, passes the
# rest. Its effect is the proof that it still runs.
foreign_filter() {
	local src=$1/foreign.c obj=$1/foreign.o
	cat >"$src" <<'EOC'
#include <linux/bpf.h>
__attribute__((section("tc"), used)) int foreign(struct __sk_buff *s)
{
	unsigned char *p = (void *)(long)s->data, *end = (void *)(long)s->data_end;

	if ((void *)(p + 34) > (void *)end)
		return 0;
	return p[12] == 8 && p[13] == 0 && p[23] == 1 ? 2 /* SHOT */ : 0 /* OK */;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOC
	clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "$obj" || return 1
	ip netns exec "$B" tc qdisc add dev und0 clsact &&
		ip netns exec "$B" tc filter add dev und0 ingress pref 7 bpf da obj "$obj" sec tc
}

foreign_still_works() {
	assert_match "$(ip netns exec "$B" tc filter show dev und0 ingress)" 'pref 7 bpf .*foreign' "$1: the foreign filter is still at pref 7"
	ip netns exec "$A" ping -c 2 -i 0.2 -W 1 -q 10.0.0.2 >/dev/null && fail "$1: underlay ICMP passes: the foreign filter no longer runs"
	ip netns exec "$A" ping -c 2 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null || fail "$1: the overlay is broken"
	return 0
}

test_sigkill_and_coexistence() {
	require_root
	lab teardown >/dev/null
	lab setup >/dev/null || fail "lab setup"
	local pid tmp
	tmp=$(mktemp -d)
	foreign_filter "$tmp" || fail "cannot install the foreign filter"
	rm -rf "$tmp"
	foreign_still_works "before vxray"
	"$VXRAY" encap --auto --netns "$A" --netns "$B" >/dev/null 2>&1 &
	pid=$!
	sleep 1.5
	[[ $(our_progs) -gt 0 ]] || fail "vxray's programs are not loaded while it runs"
	foreign_still_works "while vxray runs"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	sleep 0.5
	assert_eq "$(our_progs)" 0 "vxray programs left after SIGKILL"
	assert_eq "$(bpftool link list | grep -c 'tcx')" 0 "TCX links left after SIGKILL"
	foreign_still_works "after SIGKILL"
}

test_bad_input() {
	require_root
	local out rc
	ip netns add "$P-e"
	out=$("$VXRAY" encap --auto --netns "$P-e" -d 1s 2>&1); rc=$?
	ip netns del "$P-e"
	assert_eq "$rc" 2 "exit code when --auto finds nothing"
	assert_match "$out" 'found no VXLAN device' "says what is missing"
	out=$("$VXRAY" encap -i "$A:nope0" -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for an unknown interface"
	out=$("$VXRAY" encap --auto --netns "$A" --host not-an-ip -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for a bad --host"
	assert_match "$out" "not an IPv4 or IPv6 address" "says why"
	out=$("$VXRAY" encap -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code with nothing to watch"
	assert_match "$out" 'nothing to watch' "says what to do"
	assert_eq "$(our_progs)" 0 "nothing attached after errors"
}

run_test "encap: healthy tunnel both ways, every hook" test_healthy_both_ways
run_test "encap: IPv6 underlay" test_ipv6_underlay
run_test "encap: scenario 1 encapsulated on A, never decapsulated on B" test_one_sided_tunnel
run_test "encap: in-kernel filters" test_filters
run_test "encap: SIGKILL leaves nothing; a foreign tc filter keeps working" test_sigkill_and_coexistence
run_test "encap: bad input" test_bad_input
