#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A healthy lab with real traffic (a TCP bulk transfer, pings, UDP flows to
# closed ports) watched by every verdict view at once: none of them may
# raise an alert. Each view still has to show it saw the traffic, so a
# view that saw nothing cannot pass by silence.
# test-lock: ctmax (scenario 3 lowers the host's global nf_conntrack_max;
# a suite that counts on conntrack in its own namespaces must not run then)
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
TMP=$(mktemp -d)
lab() { "$LAB" --prefix "$P" "$@"; }
cleanup() {
	local p
	for p in $(cat "$TMP"/pids 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	lab teardown >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# start VIEW ARGS...: vxray VIEW in the background, output in $TMP/VIEW.
start() {
	local v=$1
	shift
	"$VXRAY" "$v" "$@" -d 120s --interval 2s >"$TMP/$v" 2>&1 &
	echo "$!" >>"$TMP/pids"
	echo "$!" >"$TMP/$v.pid"
}

# started VIEW REGEX: until VIEW's startup line, at most 60 s.
started() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q "$2" "$TMP/$1" 2>/dev/null && return 0
		kill -0 "$(cat "$TMP/$1.pid")" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

stop() {
	local v pid
	for v in "$@"; do
		pid=$(cat "$TMP/$v.pid")
		kill -INT "$pid" 2>/dev/null
		wait "$pid"
		echo "$v rc=$?" >>"$TMP/rcs"
	done
}

traffic() {
	local lpid
	ip netns exec "$B" timeout 20 socat -u TCP-LISTEN:5009,reuseaddr /dev/null &
	lpid=$!
	sleep 0.3
	ip netns exec "$A" timeout 15 sh -c 'head -c 4000000 /dev/zero | socat -u - TCP:172.16.0.2:5009' ||
		fail "the healthy TCP transfer did not complete"
	ip netns exec "$A" ping -c 5 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null || fail "overlay pings fail on the healthy lab"
	udp_flows "$A" 12 7000
	wait "$lpid"
}

test_no_alert_anywhere() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	# conntrack is per namespace and loaded on use: make B track its flows.
	ip netns exec "$B" iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT ||
		fail "cannot make $B track connections"
	start drops --netns "$A" --netns "$B"
	start policy --netns "$A" --netns "$B"
	start conntrack --netns "$A" --netns "$B"
	start retrans --netns "$A" --netns "$B"
	start encap --summary --auto --netns "$A" --netns "$B"
	started drops 'tracing drops with' || fail "drops did not start: $(cat "$TMP/drops")"
	started policy 'tracing netfilter drops' || fail "policy did not start: $(cat "$TMP/policy")"
	started conntrack 'watching conntrack' || fail "conntrack did not start: $(cat "$TMP/conntrack")"
	started retrans 'tracing TCP retransmits' || fail "retrans did not start: $(cat "$TMP/retrans")"
	started encap 'watching [0-9]* interface' || fail "encap did not start: $(cat "$TMP/encap")"
	traffic
	sleep 2.5
	stop drops policy conntrack retrans encap
	assert_eq "$(grep -c ' rc=0$' "$TMP/rcs")" 5 "every view exits 0: $(cat "$TMP/rcs")"

	# Each view saw the traffic.
	assert_match "$(cat "$TMP/encap")" "$A +100 +10\\.0\\.0\\.2 +[1-9][0-9]*" "encap counted A's tunnel packets"
	assert_match "$(cat "$TMP/drops")" "DROP NO_SOCKET .*netns=$B .*vni=100 .*inner udp 172\\.16\\.0\\.1:[0-9]+→172\\.16\\.0\\.2:70[01][0-9]" \
		"drops shows the UDP datagrams to closed ports (no socket), inside the tunnel"
	assert_match "$(cat "$TMP/conntrack")" "CT netns=$B count=[1-9][0-9]* " "conntrack counts B's flows"

	# And none raised an alert.
	assert_no_match "$(cat "$TMP/drops")" 'DROP (NETFILTER_DROP|VXLAN_|OTHERHOST|PKT_TOO_BIG|IP_INHDR|NEIGH_)' "no fault-class drop reason on the healthy lab"
	assert_match "$(cat "$TMP/policy")" 'netfilter drops in total: 0, not attributed 0, lost 0' "policy: no netfilter drop"
	assert_no_match "$(cat "$TMP/conntrack")" 'ALERT' "conntrack: no alert"
	assert_no_match "$(cat "$TMP/retrans")" 'MTU fingerprint' "retrans: no MTU fingerprint"
	assert_no_match "$(cat "$TMP"/*)" ' lost [1-9]|lost=[1-9]|were lost' "no view lost events"
}

run_test "healthy lab: every verdict view at once, no alert" test_no_alert_anywhere
