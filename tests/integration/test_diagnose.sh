#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray diagnose on the lab: each of the six faults gives its verdict and no
# other, the healthy lab gives "no fault found", two stacked faults give
# both, and the same over the IPv6 underlay for scenarios 1, 2 and 4; on the
# routed lab, scenarios 7-9 give theirs, with the router watched or not.
# test-lock: ctmax (scenario 3 lowers the host's global nf_conntrack_max;
# a suite that counts on conntrack in its own namespaces must not run then)
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
P6=$(test_prefix)
[[ $P6 != "$P" ]] || P6=${P}6
WORK=$(mktemp -d)
BASE=$WORK/healthy.json
lab() { "$LAB" --prefix "$P" "$@"; }
lab6() { "$LAB" --prefix "$P6" "$@"; }
# The routed lab: P-a -- P-r (a router) -- P-b.
PR=$(test_prefix)
[[ $PR != "$P" && $PR != "$P6" ]] || PR=${P}r
labr() { "$LAB" --prefix "$PR" "$@"; }
cleanup() {
	lab teardown >/dev/null 2>&1
	lab6 teardown >/dev/null 2>&1
	ip netns del "${P}e-a" 2>/dev/null
	ip netns del "${P}e-b" 2>/dev/null
	ip netns del "${P}g-a" 2>/dev/null
	ip netns del "${P}g-b" 2>/dev/null
	labr teardown >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

# VX_BACKEND: the kernel matrix forces each backend the guest allows.
# diag PREFIX ARGS...: vxray diagnose with probe traffic over both lab
# namespaces; prints its output, then "rc=N". A 6 s window leaves the probe
# about 3 s of pings around its TCP exchange: plenty on a busy machine.
diag() {
	local p=$1 out rc
	shift
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$p-a" --netns "$p-b" -d 6s --probe "$@" 2>&1)
	rc=$?
	echo "$out"
	echo "rc=$rc"
}

# The sorted, distinct verdict ids of a JSON diagnosis, space-separated.
verdicts() {
	grep -o '"verdict":"[a-z_]*"' <<<"$1" | cut -d'"' -f4 | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# expect_only OUT VERDICT...: exit 3 and exactly these verdicts.
expect_only() {
	local out=$1 want got
	shift
	want=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ' | sed 's/ $//')
	got=$(verdicts "$out")
	assert_match "$out" '^rc=3$' "diagnose exits 3 on a fault"
	[[ $got == "$want" ]] || fail "verdicts: got '$got', want '$want'; output: $out"
}

# scenario P N: inject fault N (fresh) in lab P, set up first when the
# test runs alone (VX_TESTS), or skip when the lab says this machine cannot
# have it.
scenario() {
	local out
	"$LAB" --prefix "$1" status >/dev/null 2>&1 || "$LAB" --prefix "$1" setup >/dev/null || fail "lab setup"
	out=$("$LAB" --prefix "$1" scenario "$2" 2>&1) && return 0
	grep -q 'refuses' <<<"$out" && skip "lab scenario $2: $(tail -1 <<<"$out")"
	fail "lab scenario $2: $out"
}

test_healthy() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out
	out=$(diag "$P" -j)
	assert_match "$out" '^rc=0$' "exit 0 when healthy"
	assert_eq "$(verdicts "$out")" "healthy" "the only verdict"
	assert_match "$out" '"sentence":"No fault found\."' "says so"
	assert_match "$out" '"encap_packets":[1-9][0-9]*,"decap_packets":[1-9]' "evidence of health: traffic crossed both ways"
	assert_match "$out" '"stage":"rtt","p50_us":[0-9.]+' "a round trip to compare later runs with"
	grep -v '^rc=' <<<"$out" >"$BASE"
	jq -e '.type == "diagnosis" and .fault == false and (.findings | length) == 1 and
		(.tunnels | length) == 2 and (.tunnels[0].peer_netns | length) > 0' "$BASE" >/dev/null ||
		fail "-j is one JSON document with the findings and both tunnels: $(cat "$BASE")"
	# The text form says the same with its evidence.
	out=$(diag "$P")
	assert_match "$out" '^HEALTHY \[healthy\] No fault found\.' "text verdict"
	assert_match "$out" "evidence: vxlan100 in $P-a \\(VNI 100, 10\\.0\\.0\\.1 -> 10\\.0\\.0\\.2\\): [1-9][0-9]* encapsulated" "text evidence"
	assert_match "$out" 'probe: .*ping [1-9][0-9]*/' "the probe got answers"
}

test_healthy_without_probe_sends_nothing() {
	require_root
	local out
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --netns "$P-b" -d 2s -j 2>&1)
	assert_match "$out" '"probe":false' "no probe without --probe"
	assert_no_match "$out" '"stage":"rtt"' "no round trips measured: nothing sent"
	assert_match "$out" '"verdict":"healthy"' "a quiet healthy lab is healthy"
}

test_scenario1() {
	require_root
	scenario "$P" 1
	local out
	out=$(diag "$P")
	assert_match "$out" '^rc=3$' "exit 3"
	assert_match "$out" "^FINDING \\[one_sided_tunnel\\] The tunnel $P-a -> $P-b is one-sided: netfilter in $P-b drops the outer VXLAN packets \\(UDP/4789\\)" "verdict names the cause"
	assert_match "$out" "evidence: vxlan100 in $P-a .* encapsulated [1-9][0-9]* packets" "encap count"
	assert_match "$out" "evidence: vxlan100 in $P-b .* decapsulated none of them" "no decap"
	assert_match "$out" 'rule: -A INPUT -p udp -m udp --dport 4789 .*-j DROP' "the rule"
	assert_no_match "$out" '^FINDING \[(netfilter_|conntrack|mtu|underlay_lat|decap|encap)' "no other verdict"
}

test_scenario2() {
	require_root
	scenario "$P" 2
	local out
	out=$(diag "$P" -j)
	expect_only "$out" netfilter_overlay
	assert_match "$out" 'vxray-lab scenario 2: drop overlay ICMP' "names the rule"
	assert_match "$out" '"reason":"NETFILTER_DROP"' "the kernel's reason"
}

test_scenario3() {
	require_root
	scenario "$P" 3
	local out
	out=$(diag "$P" -j)
	expect_only "$out" conntrack_exhaustion
	assert_match "$out" "The conntrack table in $P-b is exhausted \\(10 of 10 entries\\)" "count and max"
}

test_scenario4() {
	require_root
	scenario "$P" 4
	local out
	out=$(diag "$P" -j)
	expect_only "$out" mtu_mismatch
	assert_match "$out" "$P-b's overlay MTU 1500 does not fit its underlay und0 \\(MTU 1400\\)" "both MTUs, where"
	assert_match "$out" "path: $P-a vxlan100 \\(MTU 1500\\) over und0 \\(MTU 1500\\) -> $P-b vxlan100 \\(MTU 1500\\) over und0 \\(MTU 1400\\)" "the path"
	assert_match "$out" 'Set the overlay MTU to 1350 \(the smallest underlay MTU, 1400, minus 50\) on both ends \(`ip link set vxlan100 mtu 1350`\)' "the MTU to set, computed"
}

test_scenario5() {
	require_root
	scenario "$P" 5
	local out
	out=$(diag "$P" -j)
	expect_only "$out" netfilter_overlay
	assert_match "$out" 'vxray-lab scenario 5: drop ICMP' "names the rule"
}

test_scenario6() {
	require_root
	[[ -s $BASE ]] || skip "no healthy baseline (the healthy test did not run)"
	scenario "$P" 6
	local out pretty=$WORK/healthy-pretty.json
	# Pretty-printed, as a user who looked at it with jq keeps it: the
	# same baseline (the demo uses the compact one).
	jq . "$BASE" >"$pretty" || fail "jq cannot read the healthy run"
	out=$(diag "$P" -j --baseline "$pretty")
	expect_only "$out" underlay_latency
	assert_match "$out" "Underlay latency degraded: the (wire stage through und0 in $P-[ab]|overlay round trip through vxlan100)" "which stage"
	assert_match "$out" "baseline: |baseline \\(--baseline $pretty\\)" "against the healthy run"
}

# Found on the first run (issue 21): the delay is there before vxray starts,
# and there is no --baseline. Only A's underlay egress waits, so the wire
# A->B is measured against B->A.
test_scenario6_first_run() {
	require_root
	scenario "$P" 6
	local out
	out=$(diag "$P" -j)
	lab heal >/dev/null
	expect_only "$out" underlay_latency
	assert_match "$out" "Underlay latency degraded in one direction: the wire from $P-a to $P-b takes [0-9.]+ ms at the median, [0-9.]+ ms the other way \\([0-9]+x, \\+[0-9.]+ ms\\)" "A->B against B->A, with the values"
	assert_match "$out" "no baseline needed" "says why no baseline was needed"
	assert_match "$out" '"netns":"'"$P-a"'","device":"und0"' "placed at A's underlay, where the queue is"
}

# The healthy lab under load (TCP through the overlay, both ways busy):
# no latency finding, baseline or not, and the host's own delivery to the
# socket is measured but never judged.
test_healthy_under_load() {
	require_root
	command -v iperf3 >/dev/null || skip "iperf3 is not installed"
	lab setup >/dev/null && lab heal >/dev/null || fail "lab setup"
	local out
	ip netns exec "$P-b" timeout 40 iperf3 -s -p 5209 >/dev/null 2>&1 &
	bg $!
	sleep 0.3
	ip netns exec "$P-a" timeout 30 iperf3 -c 172.16.0.2 -p 5209 -t 25 -P 2 >/dev/null 2>&1 &
	bg $!
	sleep 1
	out=$(diag "$P" -j)
	kill_bgs
	assert_match "$out" '^rc=0$' "exit 0: no fault under load ($out)"
	assert_eq "$(verdicts "$out")" "healthy" "the only verdict"
	assert_match "$out" '"stage":"wire"' "the wire was measured"
	# The delivery hook ends a stamp only for a socket in a watched
	# namespace: diagnose watches its namespaces, not only their devices.
	assert_match "$out" '"stage":"delivery","p50_us"' "the TCP segments' delivery was measured"
}

# A queue on A's VXLAN device rather than its underlay (issue 21): the
# wire is fast both ways, but the overlay round trip is a millisecond above
# the remote VTEP's own over the underlay, pinged from the same namespace,
# and A's encapsulation takes a millisecond. Where vxray's own programs
# make the overlay slow too (the 6.1 guest's emulated CPU), A's
# encapsulation alone names it.
test_vxlan_device_queue() {
	require_root
	command -v iperf3 >/dev/null || skip "iperf3 is not installed"
	lab setup >/dev/null && lab heal >/dev/null || fail "lab setup"
	local out i rtt=0
	ip netns exec "$P-a" tc qdisc add dev vxlan100 root tbf rate 5mbit burst 3000 latency 1ms ||
		fail "cannot shape vxlan100"
	ip netns exec "$P-b" timeout 40 iperf3 -s -p 5208 >/dev/null 2>&1 &
	bg $!
	sleep 0.3
	ip netns exec "$P-a" timeout 30 iperf3 -c 172.16.0.2 -u -b 8M -l 1200 -t 25 -p 5208 >/dev/null 2>&1 &
	bg $!
	# Until the queue stands: on a busy machine iperf3's start can take
	# seconds, and a window whose first third saw an empty queue judges
	# the rest against that (the overlay round trip "rose"; in the tunnel
	# ends, as the underlay's stays fast).
	for ((i = 0; i < 40; i++)); do
		rtt=$(ip netns exec "$P-a" ping -c 3 -i 0.05 -W 1 -q 172.16.0.2 2>/dev/null |
			awk -F/ '/rtt/ { printf "%d", $5 * 1000 }')
		((${rtt:-0} >= 1000)) && break
		sleep 0.25
	done
	((${rtt:-0} >= 1000)) || fail "the shaped queue never stood: overlay RTT ${rtt:-?} us"
	out=$(diag "$P" -j)
	kill_bgs
	ip netns exec "$P-a" tc qdisc del dev vxlan100 root
	expect_only "$out" underlay_latency
	# 8 Mbit/s into a 5 Mbit/s shaper keeps the queue full, in the
	# emulated 6.1 guest too (at 80 into 50 it could not feed it: the
	# encap median stayed at 27 us). Which words depends on how full it
	# stays: always full, the overlay against the underlay and A's slow
	# encapsulation; filling during the window, the overlay round trip's
	# rise over its first third while the underlay's stays fast; half
	# full, A's encapsulation in two humps.
	assert_match "$out" "Overlay latency added in the tunnel ends: (the overlay round trip from $P-[ab] to 172\\.16\\.0\\.[12] takes [0-9.]+ ms at the median, the underlay's own to its VTEP 10\\.0\\.0\\.[12] [0-9.]+ ms|the overlay round trip through vxlan100 in $P-[ab] rose from [0-9]+ us to [0-9]+ us|encapsulation in $P-a takes [0-9.]+ ms at the median)|Underlay latency degraded for part of the traffic: the encap stage through und0 in $P-a has two humps" "the overlay against the underlay, or A's encapsulation"
	assert_match "$out" "encap through und0 in $P-a[ :(]" "A's encapsulation in the evidence"
	assert_match "$out" '"remote_vtep":"10\.0\.0\.2","underlay_pings_sent":[1-9][0-9]*,"underlay_pings_received":[1-9]' "A pinged B's VTEP over the underlay"
}

# The baseline the agent keeps (issue 21): an agent watching the healthy
# lab for three windows (--interval 10ms: windows of 3 s) leaves one in its
# state directory; diagnose then uses it unasked and says so, a fault is
# judged against it, and --baseline still overrides it.
test_agent_baseline() {
	require_root
	lab setup >/dev/null && lab heal >/dev/null || fail "lab setup"
	local st=$WORK/state log=$WORK/agent.log out i pid
	"$VXRAY" agent ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --netns "$P-b" \
		--metrics 127.0.0.1:0 --interval 10ms --state-dir "$st" >"$log" 2>&1 &
	pid=$!
	bg "$pid"
	ip netns exec "$P-a" ping -q -i 0.01 -w 40 172.16.0.2 >/dev/null 2>&1 &
	bg $!
	for ((i = 0; i < 300; i++)); do
		grep -q '"stage":"wire","p50_us"' "$st/baseline.json" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill_bgs
	grep -q '"stage":"wire","p50_us"' "$st/baseline.json" 2>/dev/null ||
		fail "the agent kept no wire baseline: $(cat "$log" "$st/baseline.json" 2>&1)"
	jq -e '.type == "baseline" and ([.latency[] | select(.p50_us) | .windows | length] | min) >= 3' \
		"$st/baseline.json" >/dev/null || fail "not a baseline of three windows: $(cat "$st/baseline.json")"

	out=$(diag "$P" -j --state-dir "$st")
	assert_match "$out" '^rc=0$' "the healthy lab against the agent's baseline: exit 0 ($out)"
	assert_match "$out" "latency is compared with the agent's baseline $st/baseline\\.json, written [^ ]+ ago" "says it uses it"
	assert_match "$out" '"stage":"wire",[^}]*"base_from":"the agent'"'"'s baseline '"$st"'/baseline\.json, written' "each stage names where its baseline came from"

	scenario "$P" 6
	out=$(diag "$P" -j --state-dir "$st")
	lab heal >/dev/null
	expect_only "$out" underlay_latency
	assert_match "$out" "baseline \\(the agent's baseline $st/baseline\\.json" "judged against the agent's baseline too"

	out=$(diag "$P" -j --state-dir "$st" --baseline "$BASE")
	assert_no_match "$out" "the agent's baseline" "--baseline overrides it"
}

# diag_bg FILE ARGS...: vxray diagnose over both lab namespaces in the
# background, output to FILE; returns once its window has started (its
# "diagnosing" line: attaching takes seconds in the emulated guest) or it
# ended, with its pid in DIAG_PID.
diag_bg() {
	local f=$1 i
	shift
	"$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --netns "$P-b" "$@" >"$f" 2>&1 &
	DIAG_PID=$!
	for ((i = 0; i < 150; i++)); do
		grep -q 'diagnosing' "$f" && break
		kill -0 "$DIAG_PID" 2>/dev/null || break
		sleep 0.1
	done
}

# Without --baseline: the fault begins after the window's first third, which
# is then the baseline the rest is compared with.
test_scenario6_own_baseline() {
	require_root
	lab setup >/dev/null && lab heal >/dev/null || fail "lab setup"
	local f out pid rc
	f=$(mktemp)
	diag_bg "$f" -d 18s --probe -j
	pid=$DIAG_PID
	# Past the first third (6 s); the lab measures the RTT for a second or
	# two before it adds the delay, so most of the rest sees the fault.
	sleep 6.3
	lab inject 6 >/dev/null 2>&1 || { kill "$pid"; wait; rm -f "$f"; fail "lab inject 6"; }
	wait "$pid"
	rc=$?
	out="$(cat "$f")
rc=$rc"
	rm -f "$f"
	lab heal >/dev/null
	expect_only "$out" underlay_latency
	assert_match "$out" "baseline: the window's first third|baseline \\(the window's first third\\)" "against the window's own first third"
}

# hook_progs NS DEV DIR: vxray programs on one tc hook, TCX links and
# clsact filters together (bpftool 7.1 does not list TCX: vxbench asks).
hook_progs() {
	local tcx tc
	tcx=$(ip netns exec "$1" "$ROOT/$BUILD/bench/vxbench" tcx "$2" | awk -v d="$3" '$1 == d { n = 0; for (i = 3; i <= NF; i++) n += $i ~ /^vx_/; print n }')
	tc=$(ip netns exec "$1" tc filter show dev "$2" "$3" 2>/dev/null | grep -c 'vxray/')
	echo $((tcx + tc))
}

# Every view of a diagnosis runs on one datapath: each tc hook of each
# watched device carries one vxray program, not one per engine.
test_one_datapath() {
	require_root
	[[ -x $ROOT/$BUILD/bench/vxbench ]] || skip "vxbench is not built"
	lab setup >/dev/null && lab heal >/dev/null || fail "lab setup"
	local f pid ns dev dir
	f=$(mktemp)
	diag_bg "$f" -d 8s --probe
	pid=$DIAG_PID
	grep -q 'diagnosing' "$f" || { kill "$pid"; wait; cat "$f" >&2; rm -f "$f"; fail "diagnose did not start"; }
	for ns in "$P-a" "$P-b"; do
		for dev in und0 vxlan100; do
			for dir in ingress egress; do
				assert_eq "$(hook_progs "$ns" "$dev" "$dir")" 1 "vxray programs on $dev $dir in $ns"
			done
		done
	done
	wait "$pid"
	rm -f "$f"
	assert_eq "$(hook_progs "$P-a" und0 ingress)" 0 "vxray programs on und0 ingress after diagnose"
}

test_two_faults() {
	require_root
	scenario "$P" 2
	lab inject 4 >/dev/null 2>&1 || fail "lab inject 4"
	local out
	out=$(diag "$P" -j)
	expect_only "$out" netfilter_overlay mtu_mismatch
	grep -v '^rc=' <<<"$out" | jq -e '.fault == true and ([.findings[].verdict] | sort) ==
		["mtu_mismatch", "netfilter_overlay"]' >/dev/null || fail "the JSON document names both: $out"
	lab heal >/dev/null
}

test_ipv6() {
	require_root
	local n out
	lab6 --ipv6 setup >/dev/null || fail "IPv6 lab setup"
	for n in 1 2 4; do
		scenario "$P6" "$n"
		out=$(diag "$P6" -j)
		case $n in
		1) expect_only "$out" one_sided_tunnel
		   assert_match "$out" 'drops the outer VXLAN packets \(UDP/4789\)' "IPv6: the outer UDP named" ;;
		2) expect_only "$out" netfilter_overlay
		   assert_match "$out" 'vxray-lab scenario 2: drop overlay ICMP' "IPv6: the rule named" ;;
		4) expect_only "$out" mtu_mismatch
		   assert_match "$out" '"local_vtep":"fd00::1"' "IPv6 VTEPs" ;;
		esac
	done
	lab6 heal >/dev/null
	out=$(diag "$P6" -j)
	assert_match "$out" '^rc=0$' "IPv6 lab healthy again"
}

# remake_b ARGS...: P-b's vxlan100 recreated with ARGS (a misconfiguration).
remake_b() {
	ip -n "$P-b" link del vxlan100 2>/dev/null
	ip -n "$P-b" link add vxlan100 type vxlan "$@" || fail "vxlan100 $*"
	ip -n "$P-b" link set vxlan100 mtu 1450
	ip -n "$P-b" addr add 172.16.0.2/24 dev vxlan100
	ip -n "$P-b" link set vxlan100 up
}

# diag_with_pings FROM TO: a quiet diagnosis (no --probe: the misconfigured
# end has no peer to probe) while FROM pings TO over the overlay.
diag_with_pings() {
	ip netns exec "$1" ping -c 25 -i 0.2 -W 1 "$2" >/dev/null 2>&1 &
	local out rc
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --netns "$P-b" -d 5s -j 2>&1)
	rc=$?
	wait
	echo "$out"
	echo "rc=$rc"
}

test_kernel_reasons() {
	require_root
	lab heal >/dev/null 2>&1
	local out
	remake_b id 200 dstport 4789 local 10.0.0.2 remote 10.0.0.1
	out=$(diag_with_pings "$P-a" 172.16.0.2)
	assert_match "$out" '^rc=3$' "VNI mismatch: exit 3"
	# Kernels before 6.10 give vxlan_rcv's drops no reason: the place and
	# the VNI against B's devices tell (NOT_SPECIFIED in vxlan_rcv+...).
	assert_match "$out" '"verdict":"decap_failure","sentence":"VXLAN packets reach '"$P-b"' but cannot be decapsulated: the VNI it carries has no VXLAN device here \((VXLAN_VNI_NOT_FOUND|NOT_SPECIFIED in vxlan_rcv\+0x[0-9a-f]+)\); it carries VNI 100, which no VXLAN device in '"$P-b"' has \('"$P-b"'.s vxlan100 has VNI 200\)\.' "VNI mismatch: decap failure, with both VNIs"
	assert_no_match "$out" '"verdict":"(one_sided_tunnel|netfilter_|conntrack|encap_failure)' "VNI mismatch: nothing else"

	remake_b id 100 dstport 4790 local 10.0.0.2 remote 10.0.0.1
	out=$(diag_with_pings "$P-a" 172.16.0.2)
	assert_match "$out" 'wrong destination port\) \(NO_SOCKET\); '"$P-a"' sends to UDP 4789; '"$P-b"'.s vxlan100 listens on 4790\.' "wrong port: decap failure, with both ports"
	assert_no_match "$out" '"verdict":"(one_sided_tunnel|netfilter_|conntrack|encap_failure)' "wrong port: nothing else"

	remake_b id 100 dstport 4789 local 10.0.0.2 nolearning
	out=$(diag_with_pings "$P-b" 172.16.0.1)
	assert_match "$out" '"verdict":"encap_failure","sentence":"'"$P-b"' cannot encapsulate or send overlay traffic: the VXLAN device has no remote or FDB entry' "no remote: encap failure"
	assert_no_match "$out" '"verdict":"(one_sided_tunnel|netfilter_|conntrack|decap_failure)' "no remote: nothing else"

	# A remote nobody holds, while A (VNI 100) is watched at 10.0.0.1.
	remake_b id 100 dstport 4789 local 10.0.0.2 remote 10.0.0.3
	out=$(diag_with_pings "$P-b" 172.16.0.1)
	assert_match "$out" '^rc=3$' "wrong remote: exit 3"
	assert_match "$out" '"verdict":"(encap_failure|one_sided_tunnel)","sentence":"[^"]*'"$P-b"'.s vxlan100 sends to 10\.0\.0\.3, but '"$P-a"'.s vxlan100 \(VNI 100\) is at 10\.0\.0\.1\."' "wrong remote: both addresses"

	remake_b id 100 dstport 4789 local 10.0.0.2 remote 10.0.0.1
	ip -n "$P-b" addr flush dev und0
	out=$(diag_with_pings "$P-b" 172.16.0.1)
	assert_match "$out" 'there is no route to the remote VTEP 10\.0\.0\.1 \((IP_OUTNOROUTES|NOT_SPECIFIED in vxlan_xmit[a-z_]*\+0x[0-9a-f]+)\)' "no route: encap failure, with the remote"
	lab teardown >/dev/null 2>&1
}

# More of the kernel's reasons, each from a misconfiguration made here.

# RFC 7348: the I flag must be set. Datagrams to B's VXLAN port with a zero
# flags byte, carrying an inner Ethernet frame.
test_bad_header() {
	require_root
	bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q 'SKB_DROP_REASON_VXLAN_INVALID_HDR' ||
		skip "this kernel has no VXLAN_INVALID_HDR drop reason (vxlan drops are unannotated before 6.10)"
	lab teardown >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local out
	ip netns exec "$P-a" bash -c 'for ((i = 0; i < 60; i++)); do
		printf "\x00\x00\x00\x00\x00\x00\x64\x00\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01\x08\x06%040d" 0 >/dev/udp/10.0.0.2/4789
		sleep 0.1
	done' &
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --netns "$P-b" -d 5s -j 2>&1)
	wait
	assert_match "$out" '"verdict":"decap_failure","sentence":"VXLAN packets reach '"$P-b"' but cannot be decapsulated: its VXLAN header is invalid \(VXLAN_INVALID_HDR\)' "bad VXLAN header: decap failure"
	assert_no_match "$out" '"verdict":"(one_sided_tunnel|netfilter_|conntrack|encap_failure|mtu)' "bad VXLAN header: nothing else"
}

# B stops answering ARP for its VTEP address: A's VXLAN packets wait for a
# neighbour that never resolves.
test_neigh_failure() {
	require_root
	lab teardown >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local out
	ip -n "$P-b" addr flush dev und0
	ip -n "$P-a" neigh flush dev und0
	out=$(diag_with_pings "$P-a" 172.16.0.2)
	assert_match "$out" '^rc=3$' "neighbour failure: exit 3"
	assert_match "$out" '"verdict":"encap_failure","sentence":"'"$P-a"' cannot encapsulate or send overlay traffic: the underlay neighbour \(ARP/ND\) of the remote VTEP 10\.0\.0\.2 cannot be resolved \(NEIGH_' "neighbour failure: encap failure, with the remote"
	assert_no_match "$out" '"verdict":"(netfilter_|conntrack|decap_failure|mtu)' "neighbour failure: nothing else"
	lab teardown >/dev/null 2>&1
}

# An underlay rule in B that drops big outer VXLAN packets: the probe's
# small pings still cross, its TCP exchange's full segments do not.
test_underlay_rule() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out
	ip netns exec "$P-b" iptables -A INPUT -p udp --dport 4789 -m length --length 1000:65535 \
		-m comment --comment "vxray test: drop big outer VXLAN" -j DROP || fail "underlay rule"
	out=$(diag "$P" -j)
	ip netns exec "$P-b" iptables -F INPUT
	assert_match "$out" '^rc=3$' "underlay rule: exit 3"
	assert_match "$out" '"verdict":"netfilter_underlay","sentence":"Netfilter in '"$P-b"' drops underlay \(outer VXLAN\) traffic \([0-9]+ packets\) by .*drop big outer VXLAN' "underlay rule: netfilter on the underlay, with the rule"
	assert_no_match "$out" '"verdict":"(one_sided_tunnel|netfilter_overlay|conntrack|decap_failure|encap_failure)' "underlay rule: nothing else"
}

# Loss on the underlay that is not netfilter: a tc program on B's underlay
# ingress drops every UDP/4789 packet.
test_tc_drop() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out tmp
	tmp=$(mktemp -d)
	cat >"$tmp/drop.c" <<'EOC'
#include <linux/bpf.h>
__attribute__((section("tc"), used)) int drop_vxlan(struct __sk_buff *s)
{
	unsigned char *p = (void *)(long)s->data, *end = (void *)(long)s->data_end;

	if ((void *)(p + 38) > (void *)end)
		return 0;
	return p[12] == 8 && p[13] == 0 && p[23] == 17 && p[36] == 0x12 && p[37] == 0xb5 ? 2 : 0;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOC
	clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$tmp/drop.c" -o "$tmp/drop.o" || fail "clang"
	ip netns exec "$P-b" tc qdisc add dev und0 clsact &&
		ip netns exec "$P-b" tc filter add dev und0 ingress pref 9 bpf da obj "$tmp/drop.o" sec tc ||
		fail "cannot add the dropping tc filter"
	rm -rf "$tmp"
	out=$(diag "$P" -j)
	lab teardown >/dev/null 2>&1
	assert_match "$out" '^rc=3$' "tc drop: exit 3"
	assert_match "$out" '"verdict":"one_sided_tunnel","sentence":"The tunnel '"$P-a"' -> '"$P-b"' is one-sided: the outer packets reach '"$P-b"' and are dropped there \((TC_INGRESS|NOT_SPECIFIED)\)' "tc drop: one-sided, dropped on B's underlay"
	assert_no_match "$out" '"verdict":"(netfilter_|conntrack|decap_failure|encap_failure|mtu)' "tc drop: nothing else"
}

# --target: addresses the user names. One the lab holds (IPv4, then IPv6
# on addresses added here) is pinged and gets the TCP exchange; one nobody
# holds is pinged only and, unanswered, is a finding of its own.
test_target() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --netns "$P-b" -d 6s -j --target "$P-a:172.16.0.2" 2>&1)
	assert_match "$out" '"verdict":"healthy"' "a reachable target on a healthy lab: healthy"
	assert_match "$out" '"probe_targets":\[\{"from_netns":"'"$P-a"'","to":"172\.16\.0\.2","to_netns":"'"$P-b"'","pings_sent":[1-9][0-9]*,"pings_received":[1-9][0-9]*,.*"tcp_sent":262144,"tcp_received":262144[,}]' "pinged and TCP to the named address"

	ip -n "$P-a" addr add fd10::1/64 dev vxlan100 nodad
	ip -n "$P-b" addr add fd10::2/64 dev vxlan100 nodad
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --netns "$P-b" -d 6s -j --target "$P-a:[fd10::2]" 2>&1)
	assert_match "$out" '"verdict":"healthy"' "an IPv6 target on a healthy lab: healthy"
	assert_match "$out" '"from_netns":"'"$P-a"'","to":"fd10::2","to_netns":"'"$P-b"'","pings_sent":[1-9][0-9]*,"pings_received":[1-9][0-9]*,"full_size_sent":3,"full_size_received":3,"tcp_sent":262144,"tcp_received":262144' "IPv6: pings, full-size pings and TCP"

	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --netns "$P-b" -d 6s --target "$P-a:10.99.0.1" 2>&1)
	assert_match "$out" '^FINDING \[probe_unanswered\] '"$P-a"' cannot reach 10\.99\.0\.1: 0 of [0-9]+ probe pings were answered' "an address nobody holds: its own finding"
	assert_match "$out" 'no TCP \(the address is in no namespace of this host\)' "no TCP where nobody can listen"
	assert_no_match "$out" '^FINDING \[(one_sided|netfilter_|conntrack|mtu|underlay_lat|decap|encap)' "no other verdict"

	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" -d 6s --target nope 2>&1)
	assert_eq "$?" 2 "a target that is no address: exit 2"
	assert_match "$out" "--target 'nope' is not an address" "says why"
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" -d 6s --target "nosuch$$:10.0.0.1" 2>&1)
	assert_eq "$?" 2 "a target from a namespace that does not exist: exit 2"
	assert_match "$out" "no network namespace 'nosuch$$'" "names it"
}

# ext_setup X: namespaces X-a and X-b, each with an external (collect_md)
# VXLAN device fed by lwtunnel routes with static neighbours, as Cilium's
# and OVS's nodes have, over a veth underlay.
ext_setup() {
	local x=$1 ns ma mb
	ip netns add "$x-a" && ip netns add "$x-b" || return 1
	ip -n "$x-a" link add und0 type veth peer name und0 netns "$x-b" || return 1
	ip -n "$x-a" addr add 10.0.0.1/24 dev und0
	ip -n "$x-b" addr add 10.0.0.2/24 dev und0
	for ns in "$x-a" "$x-b"; do
		ip -n "$ns" link set lo up && ip -n "$ns" link set und0 up &&
			ip -n "$ns" link add vx type vxlan external dstport 4789 &&
			ip -n "$ns" link set vx mtu 1450 up || return 1
	done
	ip -n "$x-a" addr add 172.16.0.1/32 dev vx
	ip -n "$x-b" addr add 172.16.0.2/32 dev vx
	ma=$(ip -n "$x-a" -br link show vx | awk '{print $3}')
	mb=$(ip -n "$x-b" -br link show vx | awk '{print $3}')
	ip -n "$x-a" route add 172.16.0.2/32 encap ip id 100 dst 10.0.0.2 dev vx &&
		ip -n "$x-b" route add 172.16.0.1/32 encap ip id 100 dst 10.0.0.1 dev vx &&
		ip -n "$x-a" neigh add 172.16.0.2 lladdr "$mb" dev vx nud permanent &&
		ip -n "$x-b" neigh add 172.16.0.1 lladdr "$ma" dev vx nud permanent
}

# Found item 2: on a healthy node with external devices, the kernel's own
# IPv6 traffic on them (MLD reports, duplicate address detection, router
# solicitations) is dropped as TUNNEL_TXINFO: it carries no tunnel
# information. None of it is the probe's traffic: a note saying what the
# kernel means, no finding, exit 0.
test_external_device_healthy() {
	require_root
	local x=${P}e f pid rc i out
	ext_setup "$x" >/dev/null 2>&1 || fail "external-device setup"
	ip netns exec "$x-a" ping -c 1 -W 2 172.16.0.2 >/dev/null || fail "the external-device overlay does not answer"
	f=$WORK/ext.json
	"$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$x-a" --netns "$x-b" -d 6s \
		--probe --target "$x-a:172.16.0.2" -j >"$f" 2>&1 &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		grep -q 'diagnosing' "$f" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	sleep 1
	ip -n "$x-a" addr add fd99::1/64 dev vx
	ip -n "$x-b" addr add fd99::2/64 dev vx
	wait "$pid"
	rc=$?
	out=$(cat "$f")
	assert_eq "$rc" 0 "a healthy external-device node: exit 0 ($out)"
	assert_eq "$(verdicts "$out")" "healthy" "no finding"
	assert_match "$out" '"to":"172\.16\.0\.2","to_netns":"'"$x-b"'","pings_sent":[1-9][0-9]*,"pings_received":[1-9]' "the probe crossed"
	# 6.13 and later say TUNNEL_TXINFO; before, vxlan_xmit gives its drops
	# no reason (NOT_SPECIFIED), which is no finding and needs no note.
	assert_match "$out" '"reason":"TUNNEL_TXINFO",[^}]*"unrelated":true|"reason":"NOT_SPECIFIED","location":"vxlan_xmit[^"]*",[^}]*"unrelated":true' "the kernel's own IPv6 traffic dropped, as unrelated"
	if grep -q '"reason":"TUNNEL_TXINFO"' <<<"$out"; then
		assert_match "$out" '"notes":\[[^]]*not a finding: TUNNEL_TXINFO, a packet was sent on a metadata-mode \(external\) tunnel device without tunnel information' "a note saying what the kernel means"
	fi
	assert_no_match "$out" 'neighbour \(ARP/ND\)' "not called a neighbour failure"
	assert_match "$out" '"device":"vx","vni":null,"external":true,"local_vtep":"10\.0\.0\.1","remote_vtep":"10\.0\.0\.2","peer_netns":"'"$x-b"'"' "the tunnel: external, its ends from the routes, its peer"

	# --probe alone, the issue's command: healthy, exit 0.
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$x-a" --netns "$x-b" -d 5s --probe 2>&1)
	assert_eq "$?" 0 "diagnose --probe on external devices: exit 0 ($out)"
	assert_match "$out" '^HEALTHY \[healthy\]' "no finding"
	assert_no_match "$out" '^FINDING' "no finding"
	assert_match "$out" "evidence: vx in $x-a \(external, 10\.0\.0\.1 -> 10\.0\.0\.2\): [1-9][0-9]* encapsulated, [1-9][0-9]* decapsulated" "external, never VNI 0; probed through"
	assert_no_match "$out" 'VNI 0' "never VNI 0"
	ip netns del "$x-a"
	ip netns del "$x-b"
}

# Bridged, as Docker's overlay, EVPN and the kernel's vxlan_bridge_1d build
# it: the VXLAN device is a port of a bridge, which holds the overlay
# address. No IPv6: nothing on the overlay but the probe's traffic and ARP.
br_setup() {
	local x=$1 ns i=1
	ip netns add "$x-a" && ip netns add "$x-b" || return 1
	ip -n "$x-a" link add und0 type veth peer name und0 netns "$x-b" || return 1
	for ns in "$x-a" "$x-b"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 &&
			ip -n "$ns" addr add "10.0.0.$i/24" dev und0 && ip -n "$ns" link set und0 up &&
			ip -n "$ns" link set lo up && ip -n "$ns" link add br0 type bridge &&
			ip -n "$ns" link add vx type vxlan id 300 dstport 4789 local "10.0.0.$i" \
				remote "10.0.0.$((3 - i))" &&
			ip -n "$ns" link set vx master br0 && ip -n "$ns" link set vx mtu 1450 up &&
			ip -n "$ns" link set br0 up && ip -n "$ns" addr add "172.16.3.$i/24" dev br0 ||
			return 1
		i=$((i + 1))
	done
}

test_bridged_healthy() {
	require_root
	local x=${P}g out rc
	br_setup "$x" >/dev/null 2>&1 || fail "bridged setup"
	ip netns exec "$x-a" ping -c 1 -W 2 172.16.3.2 >/dev/null || fail "the bridged overlay does not answer"
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$x-a" --netns "$x-b" -d 6s \
		--probe -j 2>&1)
	rc=$?
	ip netns del "$x-a"
	ip netns del "$x-b"
	assert_eq "$rc" 0 "a healthy bridged set-up: exit 0 ($out)"
	assert_eq "$(verdicts "$out")" "healthy" "no finding"
	assert_match "$out" '"to":"172\.16\.3\.2","to_netns":"'"$x-b"'","pings_sent":[1-9][0-9]*,"pings_received":[1-9]' "probed through the bridge's address"
	assert_match "$out" '"device":"vx","vni":300,"external":false,"local_vtep":"10\.0\.0\.1","remote_vtep":"10\.0\.0\.2","peer_netns":"'"$x-b"'"' "the tunnel and its peer"
}

test_usage() {
	local out rc
	echo 'not json' >"$WORK/bad.json"
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --baseline "$WORK/bad.json" -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "a baseline that is no diagnosis"
	assert_match "$out" "^vxray: '$WORK/bad.json' is not the output of \`vxray diagnose -j\`: not JSON \(line 1, column [0-9]+: .*\)$" "says why, with where"
	assert_eq "$(wc -l <<<"$out")" 1 "one line"
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --baseline "$WORK/none.json" -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "a missing baseline"
	assert_match "$out" "cannot read the baseline" "says why"
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$P-a" --probe -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "--probe in a window too short"
	out=$("$VXRAY" diagnose ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns nosuchns$$ -d 1s 2>&1); rc=$?
	assert_eq "$rc" 4 "an unknown namespace"
}

# --- the routed lab: faults on the path ------------------------------------

# rscenario N: fault N (fresh) in the routed lab, set up first when absent.
rscenario() {
	local out
	labr status >/dev/null 2>&1 || labr --routed setup >/dev/null || fail "routed lab setup"
	out=$(labr scenario "$1" 2>&1) || fail "lab scenario $1: $out"
}

# The text verdicts of a diagnosis, "FINDING [id]" lines only.
finding_ids() {
	grep -oE '^(FINDING|HEALTHY) \[[a-z_]+\]' <<<"$1" | sed -E 's/.*\[(.*)\]/\1/' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

test_routed_healthy() {
	require_root
	labr --routed setup >/dev/null || fail "routed lab setup"
	local out
	out=$(diag "$PR")
	assert_match "$out" '^rc=0$' "healthy routed lab, ends only: exit 0"
	assert_eq "$(finding_ids "$out")" "healthy" "ends only: the only verdict"
	assert_match "$out" 'full-size 3/3, TCP 262144/262144 bytes, [0-9]+ sizes swept: all answered' "the probe's sweep all answered"
	out=$(diag "$PR" --netns "$PR-r" -j)
	assert_match "$out" '^rc=0$' "healthy routed lab, router watched: exit 0"
	assert_eq "$(verdicts "$out")" "healthy" "router watched: the only verdict"
	assert_match "$out" '"namespaces":\["'"$PR"'-a","'"$PR"'-b","'"$PR"'-r"\]' "the router is diagnosed"
	assert_match "$out" '"probe_sweeps":\[\{"from_netns":"'"$PR"'-a","to":"172\.16\.0\.2","sizes_sent":40,"answered_max":1440,"lost_min":0,"too_big":0,"route_mtu":1450\}' "the sweep in the JSON: every size answered, no smaller path MTU"
}

# Scenario 7, the router not watched: lost between the ends.
test_routed_scenario7() {
	require_root
	rscenario 7
	local out
	out=$(diag "$PR")
	assert_match "$out" '^rc=3$' "exit 3"
	assert_eq "$(finding_ids "$out")" "underlay_path_loss" "the only verdict"
	# The peer's underlay may count a packet or two in the window (a
	# slow guest's counted 2); dozens were encapsulated toward it.
	assert_match "$out" "^FINDING \[underlay_path_loss\] VXLAN packets from $PR-a to $PR-b are lost between $PR-a and $PR-b in the underlay: $PR-a encapsulated [1-9][0-9]+ \(UDP/4789 to 10\.0\.2\.2\) and $PR-b's underlay und0 received [0-3] packets?; the same from $PR-b to $PR-a" "where, the port, the remote, both ways"
	assert_match "$out" 'next: .*name the routers. namespaces with --netns' "asks for the hops"
}

# Scenario 7, the router watched: the hop, with its rule.
test_routed_scenario7_hop() {
	require_root
	rscenario 7
	local out
	out=$(diag "$PR" --netns "$PR-r")
	assert_match "$out" '^rc=3$' "exit 3"
	assert_eq "$(finding_ids "$out")" "underlay_path_loss" "the only verdict (no netfilter or one-sided finding)"
	assert_match "$out" "^FINDING \[underlay_path_loss\] VXLAN packets from $PR-[ab] to $PR-[ab] are dropped at $PR-r, a hop on the underlay between them: netfilter there drops the outer packets it forwards \(UDP/4789, 10\.0\.[12]\.[12] -> 10\.0\.[12]\.[12]; [1-9][0-9]* packets\) by '-A FORWARD -p udp -m udp --dport 4789 .*vxray-lab scenario 7: mid-path drop of VXLAN \(4789\).*-j DROP', in both directions" "the hop, the port and the rule"
	assert_match "$out" "next: Allow UDP/4789 between .* in $PR-r's firewall" "what to change"
}

test_routed_scenario8() {
	require_root
	rscenario 8
	local out
	out=$(diag "$PR")
	assert_match "$out" '^rc=3$' "exit 3"
	assert_eq "$(finding_ids "$out")" "pmtu_black_hole" "the only verdict"
	assert_match "$out" "^FINDING \[pmtu_black_hole\] PMTU black hole between $PR-[ab] and $PR-[ab]: overlay packets of up to 1350 bytes cross, 1360 bytes and more \(DF\) vanish and no ICMP 'fragmentation needed' comes back; a link on the underlay path carries 1400-1409-byte packets, where the overlay MTU 1450 needs 1500\." "sizes and MTUs"
	assert_match "$out" "evidence: probe $PR-a -> 172\.16\.0\.2: [1-9][0-9]* of [1-9][0-9]* small pings answered, 0 of 3 full-size \(1450 bytes, DF\)" "the probe's evidence"
	assert_match "$out" "next: Lower the overlay MTU to 1350 on both ends" "what to change"
}

test_routed_scenario8_hop() {
	require_root
	rscenario 8
	local out
	out=$(diag "$PR" --netns "$PR-r")
	assert_match "$out" '^rc=3$' "exit 3"
	assert_eq "$(finding_ids "$out")" "pmtu_black_hole" "the only verdict (the dropped ICMP is no netfilter finding)"
	assert_match "$out" "1400-1409-byte packets, where the overlay MTU 1450 needs 1500; $PR-r drops them as too big for its next link \((PKT_TOO_BIG|NOT_SPECIFIED at ip_forward\+0x[0-9a-f]+), [1-9][0-9]* packets\) and its firewall drops the ICMP 'fragmentation needed' it sends back\." "the hop"
	assert_match "$out" "next: Let ICMP 'fragmentation needed' out of $PR-r \(the rule dropping it: -A OUTPUT -p icmp -m icmp --icmp-type 3/4 .*PMTU black hole" "the rule"
}

test_routed_scenario9() {
	require_root
	rscenario 9
	local out
	out=$(diag "$PR")
	assert_match "$out" '^rc=3$' "exit 3"
	assert_eq "$(finding_ids "$out")" "outer_udp_checksum" "the only verdict"
	assert_match "$out" "^FINDING \[outer_udp_checksum\] VXLAN packets from $PR-a arrive at $PR-b with bad outer UDP checksums \(UDP/4789, 10\.0\.1\.1 -> 10\.0\.2\.2\): $PR-b's kernel drops them before decapsulation \(UDP_CSUM: [1-9][0-9]* packets; Udp InCsumErrors \+[1-9][0-9]*\)\." "where, port, VTEPs, both counts"
	assert_match "$out" "evidence: [1-9][0-9]* drops in $PR-b: reason UDP_CSUM at (udp_queue_rcv_one_skb|__udp4_lib_rcv)\+0x[0-9a-f]+ on und0" "the kernel's drop on B's underlay"
	labr heal >/dev/null
	out=$(diag "$PR" --netns "$PR-r")
	assert_match "$out" '^rc=0$' "healed: healthy again, router watched"
}

run_test "diagnose: healthy lab with probe traffic: no fault found" test_healthy
run_test "diagnose: without --probe nothing is sent" test_healthy_without_probe_sends_nothing
run_test "diagnose: scenario 1 -> one-sided tunnel by the outer UDP rule" test_scenario1
run_test "diagnose: scenario 2 -> netfilter drops overlay traffic" test_scenario2
run_test "diagnose: scenario 3 -> conntrack exhaustion" test_scenario3
run_test "diagnose: scenario 4 -> MTU mismatch" test_scenario4
run_test "diagnose: scenario 5 -> netfilter drops overlay traffic" test_scenario5
run_test "diagnose: scenario 6 -> underlay latency against a baseline" test_scenario6
run_test "diagnose: scenario 6 mid-window -> latency against the window's first third" test_scenario6_own_baseline
run_test "diagnose: scenario 6 on the first run -> latency, A->B against B->A" test_scenario6_first_run
run_test "diagnose: healthy lab under TCP load -> no fault" test_healthy_under_load
run_test "diagnose: the agent's baseline, used unasked and named" test_agent_baseline
run_test "diagnose: a queue on the VXLAN device -> overlay against underlay round trip" test_vxlan_device_queue
run_test "diagnose: every view on one datapath: one vxray program per tc hook" test_one_datapath
run_test "diagnose: scenario 2 + 4 at once -> both" test_two_faults
run_test "diagnose: IPv6 underlay, scenarios 1, 2, 4" test_ipv6
run_test "diagnose: decap/encap failures from the kernel's drop reasons" test_kernel_reasons
run_test "diagnose: a VXLAN header without the I flag -> decap failure" test_bad_header
run_test "diagnose: an underlay neighbour that never answers -> encap failure" test_neigh_failure
run_test "diagnose: an underlay rule dropping big outer packets -> netfilter on the underlay" test_underlay_rule
run_test "diagnose: a tc drop on the receiver's underlay -> one-sided, where it died" test_tc_drop
run_test "diagnose: --target probes addresses the user names, IPv4 and IPv6" test_target
run_test "diagnose: a healthy external-device node: the kernel's own IPv6 drops are a note, exit 0" test_external_device_healthy
run_test "diagnose: a healthy bridged set-up: probed through the bridge, no fault" test_bridged_healthy
run_test "diagnose: bad input, one sentence, exit 2 (4 for a namespace not there)" test_usage
run_test "diagnose: healthy routed lab, with and without the router: no fault found" test_routed_healthy
run_test "diagnose: routed scenario 7 -> lost between the ends in the underlay" test_routed_scenario7
run_test "diagnose: routed scenario 7, router watched -> the hop and its rule" test_routed_scenario7_hop
run_test "diagnose: routed scenario 8 -> PMTU black hole, sizes and MTU" test_routed_scenario8
run_test "diagnose: routed scenario 8, router watched -> the hop's drops and its ICMP rule" test_routed_scenario8_hop
run_test "diagnose: routed scenario 9 -> bad outer UDP checksums at B" test_routed_scenario9
