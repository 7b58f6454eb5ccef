#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray trace on the lab, one vxray over both tunnel ends: a healthy ping
# is followed from ENCAP at A through the underlay to DECAP at B; scenario
# 1's pings are encapsulated at A and never decapsulated at B, their drop
# on B's underlay joined to them; scenario 2's netfilter drop is joined to
# the ping it dropped. Every timeline is in timestamp order.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1' EXIT

PINGS=4

# trace_pings: vxray trace -j over both ends while A pings B; prints its
# JSON lines.
trace_pings() {
	local out pid i
	out=$(mktemp)
	"$VXRAY" trace -j --auto --netns "$A" --netns "$B" -d 5s >"$out" 2>&1 &
	pid=$!
	# Loading takes a while under emulation (the 6.1 guest): up to 60 s.
	for ((i = 0; i < 600; i++)); do
		grep -q 'tracing' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'tracing' "$out" || { kill "$pid" 2>/dev/null; cat "$out" >&2; rm -f "$out"; fail "vxray trace did not start" >&2; }
	ip netns exec "$A" ping -c "$PINGS" -i 0.2 -W 1 -q 172.16.0.2 >/dev/null 2>&1
	wait "$pid" || { i=$?; cat "$out" >&2; rm -f "$out"; fail "vxray trace exited $i" >&2; }
	grep '^{' "$out"
	rm -f "$out"
}

# The echo requests A sent (ICMP type 8), as JSON lines, for EVENT in NETNS.
requests() { # JSON EVENT NETNS
	jq -c --arg e "$2" --arg n "$3" \
		'select(.type == "trace" and .event == $e and .netns == $n and (.inner | test("^icmp 172\\.16\\.0\\.1 -> 172\\.16\\.0\\.2 type 8 ")))' <<<"$1"
}

# Events not marked late are in kernel timestamp order. On this host none
# may be late; under qemu's software emulation (VMTEST, the 6.1 guest)
# vxray can be descheduled for longer than the 200 ms window, and a late
# event is then printed, marked and counted rather than lost.
assert_ordered() {
	local late sorted
	late=$(jq -s '[.[] | select(.type == "trace" and .late)] | length' <<<"$1")
	[[ -n ${VMTEST:-} ]] || assert_eq "$late" 0 "events printed late"
	sorted=$(jq -s '[.[] | select(.type == "trace" and (.late | not)) | .ts_ns] | . == sort' <<<"$1")
	assert_eq "$sorted" true "timeline in kernel timestamp order"
}

test_healthy_journey() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local j pkt hooks
	j=$(trace_pings) || exit 1
	assert_eq "$(requests "$j" ENCAP "$A" | wc -l)" "$PINGS" "ENCAP at $A per ping"
	assert_eq "$(requests "$j" DECAP "$B" | wc -l)" "$PINGS" "DECAP at $B per ping"
	# One packet, four hooks, in the order it met them.
	pkt=$(requests "$j" ENCAP "$A" | head -1 | jq -r .pkt)
	hooks=$(jq -r --argjson p "$pkt" 'select(.type == "trace" and .pkt == $p) | "\(.event)@\(.netns)"' <<<"$j" | tr '\n' ' ')
	assert_eq "$hooks" "ENCAP@$A WIRE-OUT@$A WIRE-IN@$B DECAP@$B " "the first ping's journey"
	assert_ordered "$j"
}

test_scenario1_one_sided() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null && lab scenario 1 >/dev/null || fail "lab scenario 1"
	local j pkts p
	j=$(trace_pings) || exit 1
	assert_eq "$(requests "$j" ENCAP "$A" | wc -l)" "$PINGS" "ENCAP at $A per ping"
	assert_eq "$(requests "$j" WIRE-OUT "$A" | wc -l)" "$PINGS" "outer packet on $A's underlay per ping"
	assert_eq "$(requests "$j" DECAP "$B" | wc -l)" 0 "no DECAP at $B"
	# Where they died: B's underlay, by netfilter, joined to each ping.
	pkts=$(requests "$j" ENCAP "$A" | jq -r .pkt)
	for p in $pkts; do
		assert_match "$(jq -c --argjson p "$p" 'select(.event == "DROP" and .pkt == $p)' <<<"$j")" \
			"\"netns\":\"$B\".*NETFILTER_DROP" "ping pkt#$p's drop at $B, joined"
	done
	assert_ordered "$j"
}

test_scenario2_drop_joined() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null && lab scenario 2 >/dev/null || fail "lab scenario 2"
	local j pkts p
	j=$(trace_pings) || exit 1
	assert_eq "$(requests "$j" DECAP "$B" | wc -l)" "$PINGS" "DECAP at $B per ping (dropped after)"
	pkts=$(requests "$j" DECAP "$B" | jq -r .pkt)
	for p in $pkts; do
		assert_match "$(jq -c --argjson p "$p" 'select(.event == "DROP" and .pkt == $p)' <<<"$j")" \
			"\"netns\":\"$B\",\"device\":\"vxlan100\".*\"reason\":\"[A-Z_]*NETFILTER_DROP\".*icmp type 8" \
			"the netfilter drop joined to ping pkt#$p"
	done
	assert_ordered "$j"
}

test_bad_input() {
	require_root
	local out rc
	out=$("$VXRAY" trace -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code with nothing to watch"
	assert_match "$out" 'nothing to watch' "says what to do"
}

run_test "trace: a healthy ping followed through every hook" test_healthy_journey
run_test "trace: scenario 1 encapsulated at A, never decapsulated at B" test_scenario1_one_sided
run_test "trace: scenario 2 drop joined to the packet" test_scenario2_drop_joined
run_test "trace: bad input" test_bad_input
