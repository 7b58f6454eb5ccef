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

# transfer_while_tracing BYTES ARGS...: vxray retrans runs while A sends
# BYTES to B over the overlay; prints vxray's output.
transfer_while_tracing() {
	local bytes=$1 out pid
	shift
	out=$(mktemp)
	"$VXRAY" retrans "$@" -d 6s --interval 2s >"$out" 2>&1 &
	pid=$!
	sleep 1.5
	ip netns exec "$B" timeout 5 socat -u TCP-LISTEN:5009,reuseaddr /dev/null &
	sleep 0.3
	ip netns exec "$A" timeout 3 sh -c "head -c $bytes /dev/zero | socat -u - TCP:172.16.0.2:5009" 2>/dev/null
	wait "$pid"
	echo "rc=$?"
	cat "$out"
	rm -f "$out"
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
}

test_mtu_trap_json() {
	require_root
	local out
	out=$(transfer_while_tracing 200000 --netns "$A" -j)
	assert_match "$out" '"type":"retrans",.*"src":"172\.16\.0\.1",.*"dst":"172\.16\.0\.2","dport":5009,.*"full_size":true,"tunnel":\{"device":"vxlan100","vni":100,"local_vtep":"10\.0\.0\.1","remote_vtep":"10\.0\.0\.2"\}' "JSON retransmit"
	assert_match "$out" '"type":"mtu_fingerprint","netns":"'"$A"'","device":"vxlan100","vni":100,"overlay_mtu":1500,.*"mtu_mismatch":true' "JSON fingerprint"
	assert_match "$out" '"type":"summary",' "JSON summary"
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
