#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The lab: every scenario must produce its symptom, observed here from the
# namespaces themselves (pings, counters, conntrack), not from the lab's
# own words; heal and teardown must leave nothing.
# test-lock: ctmax (scenario 3 lowers the host's global nf_conntrack_max;
# a suite that counts on conntrack in its own namespaces must not run then)
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
CT_MAX=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo)
lab() { "$LAB" --prefix "$P" "$@"; }
cleanup() {
	lab teardown >/dev/null 2>&1
	lab --ipv6 teardown >/dev/null 2>&1
	[[ -n $CT_MAX ]] && sysctl -qw net.netfilter.nf_conntrack_max="$CT_MAX" 2>/dev/null
}
trap cleanup EXIT

overlay_ping() { ip netns exec "$A" ping -c "${1:-3}" -i 0.2 -W 1 -q "${@:2}" 172.16.0.2 >/dev/null 2>&1; }
underlay_ping() { ip netns exec "$A" ping -c 2 -i 0.2 -W 1 -q "$1" >/dev/null 2>&1; }
rx_packets() { ip -n "$1" -s -j link show "$2" | grep -o '"rx":{"bytes":[0-9]*,"packets":[0-9]*' | grep -o '[0-9]*$'; }

test_setup() {
	require_root
	lab setup >/dev/null || fail "setup failed"
	ip netns list | grep -q "^$A" || fail "namespace $A missing"
	ip netns list | grep -q "^$B" || fail "namespace $B missing"
	local d
	d=$(ip -n "$B" -d link show vxlan100)
	assert_match "$d" 'vxlan id 100 remote 10\.0\.0\.1 local 10\.0\.0\.2 .*dstport 4789' "P-b's VXLAN"
	assert_match "$d" 'mtu 1450' "overlay MTU fits the underlay"
	assert_match "$(ip -n "$A" -br addr show und0)" '10\.0\.0\.1/24' "underlay address"
	overlay_ping 2 || fail "overlay ping does not work after setup"
	lab setup >/dev/null || fail "second setup failed"
	overlay_ping 2 || fail "overlay ping does not work after a second setup"
	assert_eq "$(ip -n "$A" -br link show | grep -c vxlan100)" 1 "one vxlan100 after two setups"
	local out rc
	out=$("$VXRAY" doctor --netns "$A" --netns "$B"); rc=$?
	assert_eq "$rc" 0 "doctor's exit code on the healthy lab"
	assert_match "$out" "$A +vxlan100 +100 +10\.0\.0\.1 +10\.0\.0\.2 +4789 +und0 .* 1450 +1500" "doctor finds P-a's VXLAN, VNI 100"
	assert_match "$out" "$B +vxlan100 +100 +10\.0\.0\.2 +10\.0\.0\.1 +4789 +und0 .* 1450 +1500" "doctor finds P-b's VXLAN, VNI 100"
	assert_match "$out" "no problem found" "no MTU finding before scenario 4"
}

test_scenario1() {
	require_root
	lab scenario 1 >/dev/null
	underlay_ping 10.0.0.2 || fail "underlay ping fails in scenario 1"
	overlay_ping 3 && fail "overlay ping still works in scenario 1"
	return 0
}

test_scenario2() {
	require_root
	lab scenario 2 >/dev/null
	local before after drops
	before=$(rx_packets "$B" vxlan100)
	overlay_ping 3 && fail "overlay ping still works in scenario 2"
	after=$(rx_packets "$B" vxlan100)
	assert_ge "$after" $((before + 3)) "packets decapsulated on $B's vxlan100"
	drops=$(ip netns exec "$B" iptables -L INPUT -v -n -x | awk '/drop overlay ICMP/ {print $1}')
	assert_ge "${drops:-0}" 3 "the ICMP DROP rule's counter"
	ip netns exec "$A" timeout 3 socat -u /dev/null TCP:172.16.0.2:9000,connect-timeout=2 2>/dev/null &&
		fail "TCP 9000 connects in scenario 2"
	return 0
}

test_scenario3() {
	require_root
	local n
	n=$(cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0)
	((n <= 5)) || skip "the host tracks $n connections; the global max cannot be lowered safely"
	lab scenario 3 >/dev/null || fail "scenario 3 failed"
	assert_eq "$(ip netns exec "$B" cat /proc/sys/net/netfilter/nf_conntrack_count)" 10 "conntrack count in $B"
	local st
	st=$(ip netns exec "$B" conntrack -S | awk '{for(i=1;i<=NF;i++) if ($i ~ /^(insert_failed|drop)=/) {split($i,a,"="); s+=a[2]}} END {print s+0}')
	assert_ge "$st" 1 "conntrack insert_failed+drop in $B"
	lab heal >/dev/null
	assert_eq "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" "$CT_MAX" "global conntrack max restored by heal"
}

test_scenario4() {
	require_root
	lab scenario 4 >/dev/null
	overlay_ping 3 || fail "small pings fail in scenario 4"
	overlay_ping 2 -s 1400 -M dont && fail "1400-byte pings cross a 1400 underlay"
	# A 200 kB TCP transfer must not complete.
	local got
	got=$(mktemp)
	ip netns exec "$B" timeout 6 socat -u TCP-LISTEN:5009,reuseaddr "CREATE:$got" &
	sleep 0.3
	ip netns exec "$A" timeout 4 sh -c 'head -c 200000 /dev/zero | socat -u - TCP:172.16.0.2:5009' 2>/dev/null
	wait
	local n
	n=$(stat -c %s "$got"); rm -f "$got"
	((n < 200000)) || fail "the TCP transfer completed ($n bytes) in scenario 4"
	local out rc
	out=$("$VXRAY" doctor --netns "$A" --netns "$B"); rc=$?
	assert_eq "$rc" 3 "doctor's exit code after scenario 4"
	assert_match "$out" "MTU: vxlan100 in $B: overlay MTU 1500 does not fit underlay und0 MTU 1400" "doctor flags the MTU after scenario 4"
}

test_scenario5() {
	require_root
	lab scenario 5 >/dev/null
	overlay_ping 2 && fail "ping passes in scenario 5"
	ip netns exec "$A" timeout 3 socat -u /dev/null TCP:172.16.0.2:8080,connect-timeout=2 2>/dev/null &&
		fail "TCP 8080 connects in scenario 5"
	ip netns exec "$A" timeout 3 socat -u /dev/null TCP:172.16.0.2:8081,connect-timeout=2 2>/dev/null ||
		fail "TCP 8081 does not connect in scenario 5"
	return 0
}

median_rtt_us() {
	ip netns exec "$A" ping -c 15 -i 0.05 -W 1 172.16.0.2 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -n | awk '{a[NR]=$1} END {printf "%d\n", a[int((NR+1)/2)]*1000}'
}

test_scenario6() {
	require_root
	lab heal >/dev/null
	local before after
	before=$(median_rtt_us)
	lab scenario 6 >/dev/null
	after=$(median_rtt_us)
	[[ -r /run/vxray-lab/$P/latency_method ]] || fail "latency method not recorded"
	assert_match "$(cat /run/vxray-lab/"$P"/latency_method)" '^(netem|shaping)$' "latency method"
	assert_ge "$after" $((before + 500)) "median overlay RTT (us) after scenario 6 vs before ($before)"
}

test_heal() {
	require_root
	lab scenario 5 >/dev/null
	lab heal >/dev/null
	overlay_ping 2 || fail "overlay ping fails after heal"
	assert_eq "$(ip netns exec "$B" iptables -S INPUT | grep -vc '^-P')" 0 "rules left after heal"
	assert_no_match "$(ip netns exec "$A" tc qdisc show dev und0)" 'tbf|netem' "qdisc left after heal"
	assert_eq "$(ip netns pids "$B" | wc -l)" 0 "processes left in $B after heal"
}

test_teardown() {
	require_root
	lab scenario 6 >/dev/null
	lab teardown >/dev/null
	assert_no_match "$(ip netns list)" "^$P-" "namespaces after teardown"
	[[ -e /run/vxray-lab/$P ]] && fail "state dir left after teardown"
	assert_eq "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" "$CT_MAX" "conntrack max after teardown"
	lab teardown >/dev/null || fail "a second teardown fails"
}

test_ipv6_underlay() {
	require_root
	lab --ipv6 setup >/dev/null || fail "IPv6 setup failed"
	assert_match "$(ip -n "$A" -d link show vxlan100)" 'remote fd00::2 local fd00::1' "IPv6 VXLAN endpoints"
	assert_match "$(ip -n "$A" link show vxlan100)" 'mtu 1430' "IPv6 overlay MTU"
	overlay_ping 2 || fail "overlay ping over the IPv6 underlay"
	lab scenario 1 >/dev/null
	underlay_ping fd00::2 || fail "IPv6 underlay ping fails in scenario 1"
	overlay_ping 3 && fail "overlay ping still works in scenario 1 over IPv6"
	lab scenario 2 >/dev/null
	underlay_ping fd00::2 || fail "IPv6 underlay ping fails in scenario 2"
	overlay_ping 3 && fail "overlay ping still works in scenario 2 over IPv6"
	local drops
	drops=$(ip netns exec "$B" iptables -L INPUT -v -n -x | awk '/drop overlay ICMP/ {print $1}')
	assert_ge "${drops:-0}" 3 "the ICMP DROP rule's counter over IPv6"
	lab scenario 4 >/dev/null
	overlay_ping 3 || fail "small pings fail in scenario 4 over IPv6"
	overlay_ping 2 -s 1400 -M dont && fail "1400-byte pings cross a 1400 IPv6 underlay"
	local out
	out=$("$VXRAY" doctor --netns "$A" --netns "$B")
	assert_match "$out" "MTU: vxlan100 in $B: overlay MTU 1500 does not fit underlay und0 MTU 1400" "doctor flags the MTU over IPv6"
	lab teardown >/dev/null
}

# status names the scenario and shows what it injected; without a lab it
# says so and fails, so scripts can test for a lab.
test_status() {
	require_root
	local out rc
	lab setup >/dev/null || fail "setup failed"
	lab scenario 5 >/dev/null
	out=$(lab status); rc=$?
	assert_eq "$rc" 0 "status exit code with a lab"
	assert_match "$out" "lab '$P' \(ipv4 underlay\), scenario: 5" "status names the scenario"
	assert_match "$out" "^== $B" "status shows $B"
	assert_match "$out" 'vxlan id 100 remote 10\.0\.0\.1 local 10\.0\.0\.2 .*dstport 4789' "status shows the VXLAN"
	assert_match "$out" 'iptables -A INPUT -i vxlan100 -p tcp .*--dport 8080 .*-j DROP' "status shows the TCP 8080 rule"
	lab teardown >/dev/null
	out=$(lab status 2>&1); rc=$?
	assert_eq "$rc" 1 "status exit code without a lab"
	assert_match "$out" "no lab with prefix '$P'" "status says there is no lab"
}

run_test "setup builds the topology, idempotently" test_setup
run_test "scenario 1: one-sided tunnel" test_scenario1
run_test "scenario 2: decapsulated, then dropped by netfilter" test_scenario2
run_test "scenario 3: conntrack table full" test_scenario3
run_test "scenario 4: MTU black hole stalls TCP" test_scenario4
run_test "scenario 5: ICMP and TCP 8080 dropped, 8081 passes" test_scenario5
run_test "scenario 6: underlay latency raised" test_scenario6
run_test "heal returns to healthy" test_heal
run_test "teardown leaves nothing" test_teardown
run_test "IPv6 underlay: setup and scenarios 1, 2 and 4" test_ipv6_underlay
run_test "status shows the scenario and its rules" test_status
