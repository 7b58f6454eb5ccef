#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The lab: every scenario must produce its symptom, observed here from the
# namespaces themselves (pings, counters, conntrack), not from the lab's
# own words; heal and teardown must leave nothing. The routed lab (a router
# namespace between the hosts) and its scenarios 7-9 likewise.
# test-lock: ctmax (scenario 3 lowers the host's global nf_conntrack_max;
# a suite that counts on conntrack in its own namespaces must not run then)
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
CT_MAX=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo)
lab() { "$LAB" --prefix "$P" "$@"; }
# The routed lab (P-a -- P-r -- P-b) under a prefix of its own.
PR=$(test_prefix)
[[ $PR != "$P" ]] || PR=${P}r
labr() { "$LAB" --prefix "$PR" "$@"; }
cleanup() {
	lab teardown >/dev/null 2>&1
	lab --ipv6 teardown >/dev/null 2>&1
	labr teardown >/dev/null 2>&1
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
	local before after i m
	before=$(median_rtt_us)
	lab scenario 6 >/dev/null
	# Shaping keeps its queue standing only while its background load
	# gets the CPU: on a machine busy with other suites, one window of 15
	# pings can find the queue half empty. The best of three windows.
	after=0
	for i in 1 2 3; do
		m=$(median_rtt_us)
		((m > after)) && after=$m
		((after >= before + 500)) && break
	done
	[[ -r /run/vxray-lab/$P/latency_method ]] || fail "latency method not recorded"
	assert_match "$(cat /run/vxray-lab/"$P"/latency_method)" '^(netem|shaping)$' "latency method"
	assert_ge "$after" $((before + 500)) "median overlay RTT (us) after scenario 6 vs before ($before)"
}

# Heal stops the lab's own processes in its namespaces, and only those:
# someone else's (here a sleep, as an operator's tcpdump) runs on.
test_heal() {
	require_root
	local other
	trap kill_bgs EXIT
	ip netns exec "$B" sleep 60 >/dev/null 2>&1 &
	other=$!
	bg "$other"
	lab scenario 5 >/dev/null
	lab heal >/dev/null
	overlay_ping 2 || fail "overlay ping fails after heal"
	assert_eq "$(ip netns exec "$B" iptables -S INPUT | grep -vc '^-P')" 0 "rules left after heal"
	assert_no_match "$(ip netns exec "$A" tc qdisc show dev und0)" 'tbf|netem' "qdisc left after heal"
	assert_eq "$(ip netns pids "$B" | tr '\n' ' ')" "$other " \
		"processes left in $B after heal: only the one that is not the lab's"
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

# --- the routed lab -------------------------------------------------------

rping() { ip netns exec "$PR-a" ping -c "${1:-3}" -i 0.2 -W 1 -q "${@:2}" 172.16.0.2 >/dev/null 2>&1; }
rx_of() { ip -n "$1" -s -j link show "$2" | grep -o '"rx":{"bytes":[0-9]*,"packets":[0-9]*' | grep -o '[0-9]*$'; }
udp_csum_errors() { ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InCsumErrors") c = i; h = 1 } else print $c }' /proc/net/snmp; }

routed_lab() { labr status >/dev/null 2>&1 || labr --routed setup >/dev/null || fail "routed setup failed"; }

test_routed_setup() {
	require_root
	local fwd_host out
	fwd_host=$(cat /proc/sys/net/ipv4/ip_forward)
	labr --routed setup >/dev/null || fail "routed setup failed"
	labr --routed setup >/dev/null || fail "a second routed setup failed"
	assert_eq "$(labr namespaces | tr '\n' ' ')" "$PR-a $PR-r $PR-b " "namespaces, in path order"
	assert_match "$(ip -n "$PR-r" -br addr show und-a)" '10\.0\.1\.254/24' "router's side toward A"
	assert_match "$(ip -n "$PR-r" -br addr show und-b)" '10\.0\.2\.254/24' "router's side toward B"
	assert_match "$(ip -n "$PR-a" route show)" '10\.0\.2\.0/24 via 10\.0\.1\.254 dev und0' "A routes B's subnet via the router"
	assert_match "$(ip -n "$PR-b" route show)" '10\.0\.1\.0/24 via 10\.0\.2\.254 dev und0' "B routes A's subnet via the router"
	assert_eq "$(ip netns exec "$PR-r" cat /proc/sys/net/ipv4/ip_forward)" 1 "forwarding on in the router"
	assert_eq "$(ip netns exec "$PR-a" cat /proc/sys/net/ipv4/ip_forward)" 0 "forwarding off in A"
	assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$fwd_host" "the host's forwarding untouched"
	assert_match "$(ip -n "$PR-a" -d link show vxlan100)" 'remote 10\.0\.2\.2 local 10\.0\.1\.1 .*df inherit' "A's VXLAN toward B, DF inherited"
	assert_match "$(ip netns exec "$PR-a" ping -c1 -t 64 -W 1 10.0.2.2)" 'ttl=63' "the underlay crosses one hop"
	rping 2 || fail "overlay ping through the router"
	out=$(labr status)
	assert_match "$out" "lab '$PR' \(ipv4 underlay, routed through $PR-r\), scenario: none" "status says routed"
	assert_match "$out" "^== $PR-r" "status shows the router"
	out=$(labr setup 2>&1) && fail "setup without --routed over a routed lab succeeded"
	assert_match "$out" "exists with a routed underlay: tear it down before switching" "refuses to switch in place"
	out=$("$VXRAY" doctor --netns "$PR-a" --netns "$PR-b")
	assert_match "$out" "no problem found" "doctor: both ends fit"
}

test_routed_scenario7() {
	require_root
	routed_lab
	local before after n
	labr scenario 7 >/dev/null || fail "scenario 7"
	ip netns exec "$PR-a" ping -c 2 -i 0.2 -W 1 -q 10.0.2.2 >/dev/null || fail "underlay ping fails in scenario 7"
	before=$(rx_of "$PR-b" vxlan100)
	rping 3 && fail "overlay ping crosses the router in scenario 7"
	after=$(rx_of "$PR-b" vxlan100)
	# None of the VXLAN packets: B decapsulated nothing. Its underlay
	# may still get the router's own ARP, which is no VXLAN packet.
	((after == before)) || fail "B's vxlan100 received $((after - before)) packets: VXLAN got through the router"
	n=$(ip netns exec "$PR-r" iptables -L FORWARD -v -n -x | awk '/mid-path drop of VXLAN \(4789\)/ {print $1}')
	assert_ge "${n:-0}" 3 "the router's UDP 4789 rule counter"
	assert_match "$(ip netns exec "$PR-r" iptables -S FORWARD)" '--dport 8472 .*-j DROP' "8472 dropped too"
}

test_routed_scenario8() {
	require_root
	routed_lab
	labr scenario 8 >/dev/null || fail "scenario 8"
	rping 3 || fail "small pings fail in scenario 8"
	rping 2 -s 1300 -M do || fail "1300-byte DF pings (1378 on the wire) fail in scenario 8"
	rping 2 -s 1422 -M do && fail "full-size DF pings cross the 1400-byte link"
	assert_no_match "$(ip -n "$PR-a" route get 10.0.2.2)" 'mtu 1400' "A learned no path MTU (its ICMP was dropped)"
	local got n
	got=$(mktemp)
	ip netns exec "$PR-b" timeout 6 socat -u TCP-LISTEN:5009,reuseaddr "CREATE:$got" &
	sleep 0.3
	ip netns exec "$PR-a" timeout 4 sh -c 'head -c 200000 /dev/zero | socat -u - TCP:172.16.0.2:5009' 2>/dev/null
	wait
	n=$(stat -c %s "$got"); rm -f "$got"
	((n < 200000)) || fail "the TCP transfer completed ($n bytes) through the black hole"
	assert_match "$("$VXRAY" doctor --netns "$PR-a" --netns "$PR-b")" "no problem found" "doctor: neither end's MTU is wrong"
	labr heal >/dev/null
	rping 2 -s 1422 -M do || fail "full-size DF pings fail after heal"
}

test_routed_scenario9() {
	require_root
	routed_lab
	[[ -r $ROOT/$BUILD/bpf/tc/vx_lab_csum.bpf.o ]] || fail "the lab's tc program is not built"
	local before after
	before=$(udp_csum_errors "$PR-b")
	labr scenario 9 >/dev/null || fail "scenario 9"
	ip netns exec "$PR-a" ping -c 2 -i 0.2 -W 1 -q 10.0.2.2 >/dev/null || fail "underlay ping fails in scenario 9"
	rping 3 && fail "overlay ping passes with bad outer checksums"
	after=$(udp_csum_errors "$PR-b")
	assert_ge "$after" $((before + 3)) "Udp InCsumErrors in $PR-b"
	assert_match "$(ip netns exec "$PR-a" tc filter show dev und0 egress)" 'vx_lab_csum' "the injector on A's underlay egress"
	labr heal >/dev/null
	assert_no_match "$(ip netns exec "$PR-a" tc filter show dev und0 egress)" 'vx_lab_csum' "the injector gone after heal"
	assert_no_match "$(ip netns exec "$PR-a" tc qdisc show dev und0)" 'clsact' "the lab's clsact gone after heal"
	assert_match "$(ip netns exec "$PR-a" ethtool -k und0)" 'tx-checksumming: on' "A's underlay checksums offloaded again"
	assert_match "$(ip netns exec "$PR-a" ethtool -k vxlan100)" 'tcp-segmentation-offload: on' "A's VXLAN segmentation offload again"
	rping 2 || fail "overlay ping fails after heal"
}

# The routed scenarios on the two-namespace lab, and 9 over IPv6: one
# sentence each, exit 1.
test_routed_refusals() {
	require_root
	local out rc
	lab setup >/dev/null || fail "setup failed"
	out=$(lab scenario 7 2>&1); rc=$?
	assert_eq "$rc" 1 "scenario 7 on the two-namespace lab"
	assert_match "$out" "scenario 7 needs the routed lab .*--routed setup" "says how to get one"
	out=$(lab inject 9 2>&1); rc=$?
	assert_eq "$rc" 1 "inject 9 on the two-namespace lab"
	out=$(lab scenario 10 2>&1); rc=$?
	assert_eq "$rc" 1 "scenario 10"
	assert_match "$out" "scenario must be 1-9" "names the range"
}

test_routed_ipv6() {
	require_root
	local P6R=${PR}6
	"$LAB" --prefix "$P6R" --ipv6 --routed setup >/dev/null || { "$LAB" --prefix "$P6R" teardown >/dev/null 2>&1; fail "IPv6 routed setup"; }
	local out rc
	assert_match "$(ip -n "$P6R-a" -d link show vxlan100)" 'remote fd00:2::2 local fd00:1::1' "IPv6 VTEPs in two subnets"
	ip netns exec "$P6R-a" ping -c 2 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null || fail "overlay over the routed IPv6 underlay"
	"$LAB" --prefix "$P6R" scenario 7 >/dev/null
	ip netns exec "$P6R-a" ping -c 2 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null && fail "IPv6: overlay crosses the router in scenario 7"
	"$LAB" --prefix "$P6R" scenario 8 >/dev/null
	ip netns exec "$P6R-a" ping -c 2 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null || fail "IPv6: small pings fail in scenario 8"
	ip netns exec "$P6R-a" ping -c 2 -i 0.2 -W 1 -q -s 1402 -M do 172.16.0.2 >/dev/null && fail "IPv6: full-size pings cross in scenario 8"
	out=$("$LAB" --prefix "$P6R" scenario 9 2>&1); rc=$?
	assert_eq "$rc" 1 "scenario 9 over IPv6"
	assert_match "$out" "scenario 9 needs an IPv4 underlay" "says why"
	"$LAB" --prefix "$P6R" teardown >/dev/null
	assert_no_match "$(ip netns list)" "^$P6R-" "IPv6 routed lab torn down"
}

test_routed_teardown() {
	require_root
	routed_lab
	labr scenario 9 >/dev/null
	labr teardown >/dev/null
	assert_no_match "$(ip netns list)" "^$PR-" "no namespace left, the router's included"
	[[ -e /run/vxray-lab/$PR ]] && fail "state dir left after teardown"
	labr teardown >/dev/null || fail "a second teardown fails"
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
run_test "routed: setup puts a router between the hosts" test_routed_setup
run_test "routed scenario 7: the router drops VXLAN's UDP ports" test_routed_scenario7
run_test "routed scenario 8: PMTU black hole on the router's link" test_routed_scenario8
run_test "routed scenario 9: bad outer UDP checksums dropped at B" test_routed_scenario9
run_test "routed scenarios refused where they cannot run" test_routed_refusals
run_test "routed IPv6 underlay: setup and scenarios 7, 8" test_routed_ipv6
run_test "routed teardown leaves nothing" test_routed_teardown
