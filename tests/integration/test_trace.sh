#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray trace on the lab, one vxray over both tunnel ends: a healthy ping
# is followed from ENCAP at A through the underlay to DECAP at B; scenario
# 1's pings are encapsulated at A and never decapsulated at B, their drop
# on B's underlay joined to them; scenario 2's netfilter drop is joined to
# the ping it dropped by the packet's identity, and a drop of a packet the
# datapath never saw is not pinned on another packet of its flow. Every
# timeline is checked for order on its own printed timestamps, across
# sources (datapath ring, drop ring, netlink), not just within one.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1' EXIT

PINGS=4

# trace_run SECONDS CMD...: vxray trace -j over both ends for SECONDS
# while CMD runs once it is attached; prints its JSON lines.
trace_run() {
	local secs=$1 out pid i
	shift
	out=$(mktemp)
	"$VXRAY" trace -j --auto --netns "$A" --netns "$B" -d "${secs}s" >"$out" 2>&1 &
	pid=$!
	# Loading takes a while under emulation (the 6.1 guest): up to 60 s.
	for ((i = 0; i < 600; i++)); do
		grep -q 'tracing' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'tracing' "$out" || { kill "$pid" 2>/dev/null; cat "$out" >&2; rm -f "$out"; fail "vxray trace did not start" >&2; }
	"$@" >/dev/null 2>&1
	wait "$pid" || { i=$?; cat "$out" >&2; rm -f "$out"; fail "vxray trace exited $i" >&2; }
	grep '^{' "$out"
	rm -f "$out"
}

pings() { ip netns exec "$A" ping -c "$PINGS" -i 0.2 -W 1 -q 172.16.0.2; }
# trace_pings: the timeline of A pinging B.
trace_pings() { trace_run 5 pings; }

# The echo requests A sent (ICMP type 8), as JSON lines, for EVENT in NETNS.
requests() { # JSON EVENT NETNS
	jq -c --arg e "$2" --arg n "$3" \
		'select(.type == "trace" and .event == $e and .netns == $n and (.inner | test("^icmp 172\\.16\\.0\\.1 -> 172\\.16\\.0\\.2 type 8 ")))' <<<"$1"
}

# The timeline is read back from what vxray printed, line by line in the
# order it printed them, whatever source each line came from: every line's
# ts_ns and its wall-clock time are no earlier than the latest one printed
# before it, except a line marked late (and on this host none may be late;
# under qemu's software emulation, VMTEST, vxray can be descheduled for
# longer than the 200 ms window, and a late event is then printed, marked
# and counted rather than lost).
assert_ordered() {
	local late back
	late=$(jq -s '[.[] | select(.type == "trace" and .late)] | length' <<<"$1")
	[[ -n ${VMTEST:-} ]] || assert_eq "$late" 0 "events printed late"
	back=$(jq -rs '
		def secs: split(":") | (.[0] | tonumber) * 3600 + (.[1] | tonumber) * 60 + (.[2] | tonumber);
		reduce (.[] | select(.type == "trace" and (.late | not))) as $l
			({ts: 0, wall: 0, bad: []};
			 if $l.ts_ns < .ts or ($l.time | secs) < .wall
			 then .bad += ["\($l.time) \($l.hook) \($l.event) printed after \(.ts)"]
			 else .ts = $l.ts_ns | .wall = ($l.time | secs) end)
		| .bad | .[:5] | join("; ")' <<<"$1")
	assert_eq "$back" "" "printed lines in timestamp order across sources"
}

# assert_causal JSON PKT FIRST THEN: packet PKT's FIRST line (event name) is
# printed before its THEN line and stamped no later. The two come from
# different sources (e.g. DECAP from the datapath ring, DROP from the drop
# ring): a clock or merge that disagreed would put the effect first.
assert_causal() {
	local r
	r=$(jq -rs --argjson p "$2" --arg a "$3" --arg b "$4" '
		[to_entries[] | select(.value.type == "trace" and .value.pkt == $p)] as $l
		| ($l | map(select(.value.event == $a)) | first) as $x
		| ($l | map(select(.value.event == $b)) | first) as $y
		| if $x == null or $y == null then "missing"
		  elif $x.key < $y.key and $x.value.ts_ns <= $y.value.ts_ns then "ok"
		  else "\($b) at \($y.value.ts_ns) printed before \($a) at \($x.value.ts_ns)" end' <<<"$1")
	assert_eq "$r" ok "pkt#$2: $3 before $4"
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
	assert_causal "$j" "$pkt" ENCAP DECAP
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
	# Where they died: B's underlay, by netfilter, joined to each ping by
	# the identity read from the inner headers of the dropped outer packet.
	pkts=$(requests "$j" ENCAP "$A" | jq -r .pkt)
	for p in $pkts; do
		assert_match "$(jq -c --argjson p "$p" 'select(.event == "DROP" and .pkt == $p)' <<<"$j")" \
			"\"join\":\"identity\".*\"netns\":\"$B\".*NETFILTER_DROP" "ping pkt#$p's drop at $B, joined"
		assert_causal "$j" "$p" WIRE-IN DROP
	done
	assert_ordered "$j"
}

test_scenario2_drop_joined() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null && lab scenario 2 >/dev/null || fail "lab scenario 2"
	local j pkts p drop decap
	j=$(trace_pings) || exit 1
	assert_eq "$(requests "$j" DECAP "$B" | wc -l)" "$PINGS" "DECAP at $B per ping (dropped after)"
	pkts=$(requests "$j" DECAP "$B" | jq -r .pkt)
	for p in $pkts; do
		drop=$(jq -c --argjson p "$p" 'select(.event == "DROP" and .pkt == $p)' <<<"$j")
		assert_match "$drop" \
			"\"netns\":\"$B\",\"device\":\"vxlan100\".*\"reason\":\"[A-Z_]*NETFILTER_DROP\".*icmp type 8" \
			"the netfilter drop joined to ping pkt#$p"
		# Joined by the packet's own identity, which the kernel read off
		# the dropped skb: the same IP ID and ICMP id/seq as its DECAP.
		assert_eq "$(jq -r .join <<<"$drop")" identity "pkt#$p's drop joined by identity"
		decap=$(jq -c --argjson p "$p" 'select(.event == "DECAP" and .pkt == $p) | [.ip_id, .id_seq]' <<<"$j")
		assert_eq "$(jq -c '[.ip_id, .id_seq]' <<<"$drop")" "$decap" "pkt#$p's drop has its DECAP's identity"
		assert_causal "$j" "$p" DECAP DROP
	done
	assert_ordered "$j"
}

# Two pings of the same flow (addresses, ICMP echo request): the first
# crosses the tunnel, the second is dropped on A's POSTROUTING, before the
# datapath sees it. Its drop must not be pinned on the first ping, which a
# join by flow and recency would do (the first ping is the latest packet of
# that flow, well within the second such a join looks back).
test_identity_not_flow() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local rule=(-t mangle -A POSTROUTING -o vxlan100 -p icmp -m length --length 1000:1100
		-m comment --comment "vxray test: drop big pings before encap" -j DROP)
	ip netns exec "$A" iptables "${rule[@]}" || fail "adding the POSTROUTING rule"
	local j first drop fts
	j=$(trace_run 4 sh -c "ip netns exec $A ping -c 1 -W 1 -q 172.16.0.2; ip netns exec $A ping -c 1 -s 1000 -W 1 -q 172.16.0.2")
	local rc=$?
	ip netns exec "$A" iptables "${rule[@]/-A/-D}"
	((rc == 0)) || exit 1
	first=$(requests "$j" ENCAP "$A" | head -1)
	[[ -n $first ]] || fail "the first ping was not traced"
	drop=$(jq -c --arg a "$A" 'select(.event == "DROP" and .netns == $a and (.reason | test("NETFILTER_DROP")))' <<<"$j" | head -1)
	[[ -n $drop ]] || fail "the second ping's drop on $A was not traced: $(jq -c 'select(.event == "DROP")' <<<"$j")"
	# The precondition that makes this a test: a flow join would pick the first ping.
	fts=$(jq -r .ts_ns <<<"$first")
	(($(jq -r .ts_ns <<<"$drop") - fts < 1000000000)) || fail "the drop came over a second after the first ping"
	assert_match "$(jq -r .packet <<<"$drop")" '172\.16\.0\.1→172\.16\.0\.2 icmp type 8' "the drop is an echo request of the same flow"
	assert_eq "$(jq -c '[.pkt, .join]' <<<"$drop")" "[null,null]" "the drop is joined to no packet"
	[[ $(jq -c '[.ip_id, .id_seq]' <<<"$drop") != "$(jq -c '[.ip_id, .id_seq]' <<<"$first")" ]] ||
		fail "the dropped ping carries the first ping's identity"
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
run_test "trace: a drop is joined by identity, not by flow" test_identity_not_flow
run_test "trace: bad input" test_bad_input
