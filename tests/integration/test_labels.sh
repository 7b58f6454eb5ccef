#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# One label per namespace (loader/common/names.c): vxray run from inside a
# named namespace, not the host's, names that namespace and the others the
# same way in every view and in the metrics -- never "host" for its own.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1' EXIT

# in_a ARGS...: run in namespace A, where vxray runs for this suite.
in_a() { ip netns exec "$A" "$@"; }

test_every_view_names_namespaces_alike() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	lab scenario 2 >/dev/null || fail "lab scenario 2"
	# A drop in A itself, beside scenario 2's in B.
	in_a iptables -I OUTPUT -p udp --dport 9 -m comment --comment "vxray labels test" -j DROP ||
		fail "iptables in $A"
	local enc drp agt port="" scrape pe pd pa i
	enc=$(mktemp) drp=$(mktemp) agt=$(mktemp)
	# Started by ip netns exec itself, not through in_a: $! must be
	# vxray, not a subshell whose death leaves vxray running.
	ip netns exec "$A" "$VXRAY" encap -j --auto -d 60s >"$enc" 2>&1 &
	pe=$!
	ip netns exec "$A" "$VXRAY" drops -j -d 60s ${VX_BACKEND:+--backend "$VX_BACKEND"} >"$drp" 2>&1 &
	pd=$!
	ip netns exec "$A" "$VXRAY" agent --auto --metrics 127.0.0.1:0 --interval 500ms --state-dir "$agt.state" \
		${VX_BACKEND:+--backend "$VX_BACKEND"} >"$agt" 2>&1 &
	pa=$!
	wait_line "$enc" 'watching [0-9]* interface' || { cat "$enc"; fail "encap did not attach"; }
	wait_line "$drp" 'Ctrl-C to stop|"type":"start"' || { cat "$drp"; fail "drops did not start"; }
	# Its attached line, not the first one: it listens before it attaches.
	wait_line "$agt" 'agent: serving metrics on http://127\.0\.0\.1:[0-9]+/metrics; watching' ||
		{ cat "$agt"; fail "agent did not attach"; }
	port=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/metrics' "$agt" | head -1 | sed 's/.*:\([0-9]*\)\/.*/\1/')
	in_a ping -q -c 5 -i 0.2 -W 1 172.16.0.2 >/dev/null 2>&1
	for i in 1 2 3; do in_a bash -c 'echo x >/dev/udp/172.16.0.2/9' 2>/dev/null; done
	# The agent exports at its 500 ms ticks; the 6.1 guest runs slower.
	for i in {1..40}; do
		scrape=$(in_a curl -sf --max-time 5 "http://127.0.0.1:$port/metrics") || fail "scrape in $A"
		grep -q "^vxray_drops_total{netns=\"$A\"," <<<"$scrape" &&
			grep -q "^vxray_tunnel_packets_total{netns=\"$A\"," <<<"$scrape" && break
		sleep 0.5
	done
	kill -TERM "$pe" "$pd" 2>/dev/null
	kill -TERM "$pa" 2>/dev/null
	wait "$pe" "$pd" "$pa"
	local e d
	e=$(cat "$enc") d=$(cat "$drp")
	rm -rf "$enc" "$drp" "$agt" "$agt.state"

	# encap: its own namespace, not "host".
	assert_match "$e" "\"type\":\"encap\",.*\"netns\":\"$A\",\"device\":\"vxlan100\"" \
		"encap names its own namespace $A"
	assert_no_match "$e" '"netns":"host"' "encap never calls $A the host"
	# drops: A's own drop and B's, by the same names.
	assert_match "$d" "\"netns\":\"$A\".*NETFILTER_DROP|NETFILTER_DROP.*\"netns\":\"$A\"" \
		"drops names $A for the drop in $A"
	assert_match "$d" "\"netns\":\"$B\".*NETFILTER_DROP|NETFILTER_DROP.*\"netns\":\"$B\"" \
		"drops names $B for scenario 2's drop"
	# The node's own drops are "host"; A's and B's never.
	local ia ib
	ia=$(stat -L -c %i "/run/netns/$A") ib=$(stat -L -c %i "/run/netns/$B")
	assert_eq "$(grep -o "\"netns\":\"[^\"]*\",\"netns_inum\":$ia," <<<"$d" | sort -u)" \
		"\"netns\":\"$A\",\"netns_inum\":$ia," "drops has one label for $A"
	assert_eq "$(grep -o "\"netns\":\"[^\"]*\",\"netns_inum\":$ib," <<<"$d" | sort -u)" \
		"\"netns\":\"$B\",\"netns_inum\":$ib," "drops has one label for $B"
	# metrics: the same labels.
	assert_match "$scrape" "^vxray_tunnel_packets_total\{netns=\"$A\",device=\"vxlan100\",.*direction=\"encap\"\} [1-9]" \
		"metrics label the tunnel with $A"
	assert_match "$scrape" "^vxray_drops_total\{netns=\"$A\"," "metrics label A's drops with $A"
	assert_no_match "$scrape" '^vxray_(tunnel|latency)[a-z_]*\{netns="host"' \
		"metrics never call $A's tunnel the host's"
}

# The one-shot and windowed views, run from inside A as well: doctor,
# diagnose, conntrack and latency name vxray's own namespace by its name,
# never "" or "host", in every namespace field of their JSON.
test_one_shot_views_name_namespaces_alike() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	lab heal >/dev/null
	local out v
	for v in doctor diagnose conntrack latency; do
		case $v in
		doctor) out=$(in_a "$VXRAY" doctor -j 2>&1) ;;
		diagnose) out=$(in_a "$VXRAY" diagnose -j -d 3s ${VX_BACKEND:+--backend "$VX_BACKEND"} 2>&1) ;;
		conntrack) out=$(in_a "$VXRAY" conntrack -j -d 2s 2>&1) ;;
		latency)
			ip netns exec "$A" ping -q -c 20 -i 0.1 -W 1 172.16.0.2 >/dev/null 2>&1 &
			out=$(in_a "$VXRAY" latency -j --auto -d 3s 2>&1)
			wait
			;;
		esac
		assert_match "$out" "\"netns\":\"$A\"" "$v names its own namespace $A"
		assert_no_match "$out" '"(netns|peer_netns|from_netns|to_netns)":("host"|"")' \
			"$v never calls $A \"host\" or \"\""
	done
}

run_test "every view and the metrics name namespaces alike" test_every_view_names_namespaces_alike
run_test "doctor, diagnose, conntrack and latency name namespaces alike" test_one_shot_views_name_namespaces_alike
