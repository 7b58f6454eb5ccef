#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray retrans on the lab: scenario 4's stalled transfer shows up as
# full-size retransmits of the overlay flow, on its tunnel, with the MTU
# fingerprint naming both MTUs; a healthy transfer raises nothing.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1' EXIT

# start_tracing FILE ARGS...: vxray retrans (ARGS) in the background,
# output to FILE; returns once it says it is tracing (at most 60 s: the
# 6.1 guest runs under software emulation). Sets PID.
start_tracing() {
	local f=$1 i
	shift
	"$VXRAY" retrans "$@" --interval 2s >"$f" 2>&1 &
	PID=$!
	for ((i = 0; i < 300; i++)); do
		grep -q 'tracing TCP retransmits' "$f" 2>/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# stop_tracing FILE: SIGINT (a last interval is printed), then "rc=N" and
# vxray's output.
stop_tracing() {
	sleep 2.2
	kill -INT "$PID" 2>/dev/null
	wait "$PID"
	echo "rc=$?"
	cat "$1"
	rm -f "$1"
}

# transfer_while_tracing BYTES ARGS...: vxray retrans runs while A sends
# BYTES to B over the overlay; prints vxray's output.
transfer_while_tracing() {
	local bytes=$1 f
	shift
	f=$(mktemp)
	start_tracing "$f" "$@" -d 60s
	ip netns exec "$B" timeout 5 socat -u TCP-LISTEN:5009,reuseaddr /dev/null &
	sleep 0.3
	ip netns exec "$A" timeout 3 sh -c "head -c $bytes /dev/zero | socat -u - TCP:172.16.0.2:5009" 2>/dev/null
	stop_tracing "$f"
	wait
}

test_healthy_no_alert() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out n
	out=$(transfer_while_tracing 2000000 --netns "$A" --netns "$B")
	assert_match "$out" '^rc=0' "vxray retrans exits 0"
	# A bulk transfer through veth can lose the odd segment to a full
	# backlog and retransmit it: that is reported, but it is no alert.
	n=$(grep -c 'RETRANS netns=' <<<"$out")
	((n <= 3)) || fail "$n retransmits on a healthy tunnel: $out"
	assert_no_match "$out" 'MTU fingerprint' "no MTU fingerprint when healthy"
	assert_match "$out" 'still tracing, [0-9]+ retransmits so far, 0 lost' "a heartbeat says it is watching"
}

test_mtu_trap() {
	require_root
	lab setup >/dev/null && lab scenario 4 >/dev/null || fail "lab scenario 4"
	local out n
	out=$(transfer_while_tracing 200000 --netns "$A" --netns "$B")
	assert_match "$out" '^rc=0' "vxray retrans exits 0"
	assert_match "$out" "RETRANS netns=$A 172\\.16\\.0\\.1:[0-9]+ → 172\\.16\\.0\\.2:5009 state=[A-Z_0-9]+ len=[0-9]+ mss=[0-9]+ full-size tunnel=vxlan100 vni=100 vtep 10\\.0\\.0\\.1→10\\.0\\.0\\.2" \
		"a retransmit of the overlay flow, with its tunnel"
	n=$(grep -c "RETRANS netns=$A .*:5009 " <<<"$out")
	assert_ge "$n" 2 "retransmits of the stalled flow"
	assert_match "$out" "MTU fingerprint on vxlan100 in $A \\(VNI 100\\): [0-9]+ full-size retransmits .* and no small ones on a tunnel whose MTU does not fit" "the fingerprint in words"
	assert_match "$out" "peer vxlan100 in $B: overlay MTU 1500 does not fit underlay und0 MTU 1400" "both MTUs of the black hole"
	assert_match "$out" 'by port: 5009=' "summary by port"
	assert_match "$out" 'by destination: 172\.16\.0\.2=' "summary by destination"
}

# A tunnel without a remote of its own, whose peer is an FDB entry: the
# route names the device but not where the packets went; the datapath's
# flow table, learned from the flow's SYN, does. Big segments are dropped
# on B so A retransmits them.
test_fdb_remote_from_flow_table() {
	require_root
	lab teardown >/dev/null
	lab setup >/dev/null || fail "lab setup"
	local f g out
	ip -n "$A" link del vxlan100
	ip -n "$A" link add vxlan100 type vxlan id 100 dstport 4789 local 10.0.0.1 nolearning &&
		ip -n "$A" link set vxlan100 mtu 1450 &&
		ip -n "$A" addr add 172.16.0.1/24 dev vxlan100 &&
		ip -n "$A" link set vxlan100 up &&
		bridge -n "$A" fdb append 00:00:00:00:00:00 dev vxlan100 dst 10.0.0.2 ||
		fail "cannot give $A's vxlan100 an FDB peer"
	ip netns exec "$A" ping -c 1 -W 2 -q 172.16.0.2 >/dev/null || fail "the FDB tunnel does not work"
	ip netns exec "$B" iptables -I INPUT -i vxlan100 -p tcp --dport 5011 -m length --length 1000:65535 -j DROP ||
		fail "cannot add the dropping rule"
	f=$(mktemp)
	start_tracing "$f" --netns "$A" -d 60s -j || fail "vxray did not start: $(cat "$f")"
	ip netns exec "$B" timeout 6 socat -u TCP-LISTEN:5011,reuseaddr /dev/null &
	sleep 0.3
	ip netns exec "$A" timeout 3 sh -c 'head -c 100000 /dev/zero | socat -u - TCP:172.16.0.2:5011' 2>/dev/null
	g=$(mktemp)
	stop_tracing "$f" >"$g"
	out=$(cat "$g")
	rm -f "$g"
	ip netns exec "$B" iptables -F INPUT
	wait
	lab teardown >/dev/null
	assert_match "$out" '^rc=0' "vxray retrans exits 0"
	assert_match "$out" "tunnels from the datapath's flow table, else the route" "the startup line says where tunnels come from"
	assert_match "$out" '"type":"retrans",.*"inner_dport":5011,.*"full_size":true,"tunnel":\{"device":"vxlan100","vni":100,"local_vtep":"10\.0\.0\.1","remote_vtep":"10\.0\.0\.2"\}' \
		"the FDB peer as the remote VTEP, from the flow table"
}

# A flow that began before vxray: its SYN never met the datapath, so the
# flow table does not know it, and the route to its destination names the
# tunnel (the cache of destinations looked up, retranssrc.c).
test_flow_before_start() {
	require_root
	lab setup >/dev/null && lab scenario 4 >/dev/null || fail "lab scenario 4"
	local f g out
	f=$(mktemp) g=$(mktemp)
	ip netns exec "$B" timeout 12 socat -u TCP-LISTEN:5012,reuseaddr /dev/null &
	sleep 0.3
	ip netns exec "$A" timeout 10 sh -c '{ sleep 4; head -c 200000 /dev/zero; } | socat -u - TCP:172.16.0.2:5012' 2>/dev/null &
	sleep 0.5
	start_tracing "$f" --netns "$A" -d 60s -j || fail "vxray did not start: $(cat "$f")"
	sleep 6
	stop_tracing "$f" >"$g"
	out=$(cat "$g")
	rm -f "$g"
	wait
	assert_match "$out" '^rc=0' "vxray retrans exits 0"
	assert_match "$out" '"type":"retrans",.*"inner_dport":5012,.*"full_size":true,"tunnel":\{"device":"vxlan100","vni":100,' \
		"a retransmit of the flow begun before vxray, on its tunnel by the route"
}

# The classic tracepoints, where the kernel has tp_btf too (test knob).
test_classic_tracepoint() {
	require_root
	lab setup >/dev/null && lab scenario 4 >/dev/null || fail "lab scenario 4"
	local out
	out=$(VXRAY_RETRANS_NO_TP_BTF=1 transfer_while_tracing 200000 --netns "$A")
	assert_match "$out" '^rc=0' "vxray retrans exits 0 on the classic tracepoints"
	assert_match "$out" 'tracing TCP retransmits with tracepoint tcp:tcp_retransmit_skb/synack' "the startup line names the classic tracepoints"
	assert_match "$out" "RETRANS netns=$A 172\.16\.0\.1:[0-9]+ → 172\.16\.0\.2:5009 .*full-size tunnel=vxlan100 vni=100" "a retransmit of the stalled flow"
	lab heal >/dev/null
}

# A handshake whose last ACK never arrives: B's listener retransmits its
# SYNACK (at 1 s, then 3 s) while A's socket waits without sending data,
# and the overlay's MTU is fine. The client lives until vxray has printed
# two of them (at most 12 s): a SYN of A's lost or late moves B's timer.
test_synack() {
	require_root
	lab setup >/dev/null && lab heal >/dev/null || fail "lab setup"
	local f g out n i client
	ip netns exec "$B" iptables -I INPUT -i vxlan100 -p tcp --dport 5010 --tcp-flags SYN,ACK,FIN,RST,PSH ACK -j DROP ||
		fail "cannot add the ACK-dropping rule"
	f=$(mktemp)
	start_tracing "$f" --netns "$B" -d 60s || fail "vxray did not start: $(cat "$f")"
	ip netns exec "$B" timeout 20 socat -u TCP-LISTEN:5010,reuseaddr /dev/null &
	for ((i = 0; i < 50; i++)); do
		[[ -n $(ip netns exec "$B" ss -Hltn 'sport = :5010') ]] && break
		sleep 0.1
	done
	# -u from the socket: A sends nothing, so no segment of A's but the
	# dropped ACKs reaches B before A exits.
	ip netns exec "$A" timeout 12 socat -u TCP:172.16.0.2:5010 /dev/null 2>/dev/null &
	client=$!
	for ((i = 0; i < 120; i++)); do
		(($(grep -c 'SYNACK-RETRANS' "$f") >= 2)) && break
		sleep 0.1
	done
	kill "$client" 2>/dev/null
	g=$(mktemp)
	stop_tracing "$f" >"$g"	# not in $(...): the subshell could not wait for vxray
	out=$(cat "$g")
	rm -f "$g"
	ip netns exec "$B" iptables -D INPUT -i vxlan100 -p tcp --dport 5010 --tcp-flags SYN,ACK,FIN,RST,PSH ACK -j DROP
	wait
	assert_match "$out" '^rc=0' "vxray retrans exits 0"
	n=$(grep -cE "SYNACK-RETRANS netns=$B 172\.16\.0\.2:5010 → 172\.16\.0\.1:[0-9]+" <<<"$out")
	assert_ge "$n" 2 "SYNACK retransmits of the half-open connection"
	assert_match "$out" 'retransmits in the last [0-9.]+s: [0-9]+ \(SYNACK [1-9]' "the summary counts SYNACKs"
	assert_match "$out" "MTU fingerprint on vxlan100 in $B \(VNI 100\): [0-9]+ SYNACK retransmits, but overlay MTU 1450 fits underlay und0 MTU 1500" "the SYNACK pattern, with MTUs that fit"
}

test_mtu_trap_json() {
	require_root
	local out
	out=$(transfer_while_tracing 200000 --netns "$A" -j)
	assert_match "$out" '"type":"retrans",.*"inner_src":"172\.16\.0\.1",.*"inner_dst":"172\.16\.0\.2","inner_dport":5009,.*"full_size":true,"tunnel":\{"device":"vxlan100","vni":100,"local_vtep":"10\.0\.0\.1","remote_vtep":"10\.0\.0\.2"\}' "JSON retransmit"
	assert_match "$out" '"type":"mtu_fingerprint","schema":1,"netns":"'"$A"'","device":"vxlan100","vni":100,"mtu":1500,.*"mtu_mismatch":true' "JSON fingerprint"
	assert_match "$out" '"type":"retrans_summary",' "JSON summary"
}

test_scoped_elsewhere() {
	require_root
	ip netns add "$P-c" || fail "namespace"
	local out
	out=$(transfer_while_tracing 200000 --netns "$P-c")
	ip netns del "$P-c"
	assert_no_match "$out" 'RETRANS netns=' "a run scoped to another namespace sees nothing"
}

test_bad_backend() {
	local out rc
	out=$("$VXRAY" retrans --backend kprobe -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for a backend retrans does not have"
	assert_match "$out" 'retrans has no kprobe backend' "says why"
}

run_test "retrans: healthy transfer raises nothing" test_healthy_no_alert
run_test "retrans: scenario 4 full-size retransmits with the MTU fingerprint" test_mtu_trap
run_test "retrans: JSON events, fingerprint and summary" test_mtu_trap_json
run_test "retrans: --netns scoping in the kernel" test_scoped_elsewhere
run_test "retrans: --backend kprobe is not a retrans backend" test_bad_backend
run_test "retrans: classic tracepoint fallback" test_classic_tracepoint
run_test "retrans: an FDB peer's VTEP from the datapath's flow table" test_fdb_remote_from_flow_table
run_test "retrans: a flow begun before vxray, on its tunnel by the route" test_flow_before_start
run_test "retrans: SYNACK retransmits of a half-open handshake" test_synack
