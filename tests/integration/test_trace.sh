#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray trace on the lab, one vxray over both tunnel ends: a healthy ping
# is followed from ENCAP at A through the underlay to DECAP at B; scenario
# 1's pings are encapsulated at A and never decapsulated at B, their drop
# on B's underlay joined to them; scenario 2's netfilter drop is joined to
# the ping it dropped by the packet's identity, with the rule that dropped
# it, and a drop of a packet the datapath never saw is not pinned on
# another packet of its flow. The other sources merged in: vxlan_xmit (and
# vxlan_rcv where a backend allows it) inside a ping's journey, a TCP
# segment's delivery to its socket, conntrack entries and the table-full
# ALERT of scenario 3, scenario 4's retransmits, a watched device going
# down and up. Every timeline is checked for order on its own printed
# timestamps, across sources (datapath ring, drop ring, netlink), not just
# within one.
# test-lock: ctmax (scenario 3 lowers the host's global nf_conntrack_max;
# a suite that counts on conntrack in its own namespaces must not run then)
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1' EXIT
ina() { ip netns exec "$A" "$@"; }
inb() { ip netns exec "$B" "$@"; }

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

# What vxray's startup line says it traces with: "vxlan_xmit by tracepoint", ...
sources() { jq -r 'select(.level == "info" and (.message | test("^tracing"))) | .message' <<<"$1"; }

# The events of packet PKT, "EVENT@NETNS ..." in the order printed.
journey() { # JSON PKT
	jq -r --argjson p "$2" 'select(.type == "trace" and .pkt == $p) | "\(.event)@\(.netns)"' <<<"$1" | tr '\n' ' '
}

# What a failed count has to go on: warnings and each line's event, netns
# and inner packet, the first 40.
timeline_brief() {
	jq -r 'if .type == "trace" then "\(.event)@\(.netns) \(.packet // .why // "")" else "\(.level // .type): \(.message // "")" end' <<<"$1" | head -40 | tr '\n' ';'
}

# The echo requests A sent (ICMP type 8), as JSON lines, for EVENT in NETNS.
requests() { # JSON EVENT NETNS
	jq -c --arg e "$2" --arg n "$3" \
		'select(.type == "trace" and .event == $e and .netns == $n and (.packet | test("^icmp 172\\.16\\.0\\.1 -> 172\\.16\\.0\\.2 type 8 ")))' <<<"$1"
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
# ring): a clock or merge that disagreed would put the effect first. A
# line marked late (only allowed under VMTEST) has no place in the
# printed order to check; its stamp still must not be earlier.
assert_causal() {
	local r
	r=$(jq -rs --argjson p "$2" --arg a "$3" --arg b "$4" '
		[to_entries[] | select(.value.type == "trace" and .value.pkt == $p)] as $l
		| ($l | map(select(.value.event == $a)) | first) as $x
		| ($l | map(select(.value.event == $b)) | first) as $y
		| if $x == null or $y == null then "missing"
		  elif ($x.key < $y.key or $x.value.late or $y.value.late) and $x.value.ts_ns <= $y.value.ts_ns then "ok"
		  else "\($b) at \($y.value.ts_ns) printed before \($a) at \($x.value.ts_ns)" end' <<<"$1")
	assert_eq "$r" ok "pkt#$2: $3 before $4"
}

test_healthy_journey() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local j pkt want xmit="" rcv=""
	j=$(trace_pings) || exit 1
	assert_eq "$(requests "$j" ENCAP "$A" | wc -l)" "$PINGS" "ENCAP at $A per ping"
	assert_eq "$(requests "$j" DECAP "$B" | wc -l)" "$PINGS" "DECAP at $B per ping"
	# One packet, every hook, in the order it met them: vxlan_xmit is
	# entered after the VXLAN device's tc egress and before the underlay's
	# (inside it), vxlan_rcv after the underlay's tc ingress and before
	# the VXLAN device's, where this kernel gives those stages a backend.
	[[ $(sources "$j") == *"vxlan_xmit by "* ]] && xmit="XMIT@$A "
	[[ $(sources "$j") == *"vxlan_rcv by "* ]] && rcv="RCV@$B "
	pkt=$(requests "$j" ENCAP "$A" | head -1 | jq -r .pkt)
	want="ENCAP@$A ${xmit}WIRE-OUT@$A WIRE-IN@$B ${rcv}DECAP@$B "
	assert_eq "$(journey "$j" "$pkt")" "$want" "the first ping's journey"
	assert_causal "$j" "$pkt" ENCAP DECAP
	if [[ -n $xmit ]]; then
		assert_match "$(jq -c --argjson p "$pkt" 'select(.event == "XMIT" and .pkt == $p)' <<<"$j")" \
			'"join":"identity".*"device":"vxlan100".*"duration_ns":[1-9]' "vxlan_xmit timed for pkt#$pkt"
	fi
	assert_ordered "$j"
}

test_scenario1_one_sided() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	# No reply comes back through the blocked tunnel, so A's neighbour
	# entry for B ages out; where that happens before the pings (the slow
	# emulated guest), A queues them behind ARP and encapsulates the ARP
	# instead. Pinned for this test, every request goes through.
	local j pkts p mac
	mac=$(ip -n "$B" -br link show vxlan100 | awk '{print $3}')
	ip -n "$A" neigh replace 172.16.0.2 lladdr "$mac" dev vxlan100 nud permanent || fail "pin A's neighbour"
	lab scenario 1 >/dev/null || fail "lab scenario 1"
	j=$(trace_pings) || j=
	ip -n "$A" neigh del 172.16.0.2 dev vxlan100 2>/dev/null
	[[ -n $j ]] || exit 1
	assert_eq "$(requests "$j" ENCAP "$A" | wc -l)" "$PINGS" "ENCAP at $A per ping (timeline: $(timeline_brief "$j"))"
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
		assert_eq "$(jq -r .meaning <<<"$drop")" "a netfilter rule (iptables, nftables) or conntrack dropped it" \
			"pkt#$p's drop says what the kernel means by its reason"
		decap=$(jq -c --argjson p "$p" 'select(.event == "DECAP" and .pkt == $p) | [.ip_id, .id_seq]' <<<"$j")
		assert_eq "$(jq -c '[.ip_id, .id_seq]' <<<"$drop")" "$decap" "pkt#$p's drop has its DECAP's identity"
		assert_causal "$j" "$p" DECAP DROP
	done
	assert_ordered "$j"
}

# The text timeline says what a drop reason means under the first line
# that names it, and only there.
test_reason_explained_once() {
	require_root
	lab heal >/dev/null 2>&1
	lab setup >/dev/null && lab scenario 2 >/dev/null || fail "lab scenario 2"
	local out f pid i
	f=$(mktemp)
	"$VXRAY" trace --auto --netns "$A" --netns "$B" -d 5s >"$f" 2>&1 &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -q 'tracing' "$f" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	pings >/dev/null 2>&1
	wait "$pid"
	out=$(cat "$f")
	rm -f "$f"
	assert_ge "$(grep -Ec ' (NF-)?DROP .*NETFILTER_DROP' <<<"$out")" "$PINGS" "a drop line per ping"
	assert_eq "$(grep -c '^    NETFILTER_DROP: a netfilter rule (iptables, nftables) or conntrack dropped it$' <<<"$out")" 1 \
		"the reason explained once ($out)"
	assert_match "$(grep -B1 '^    NETFILTER_DROP: ' <<<"$out" | head -1)" ' DROP .*NETFILTER_DROP at ' "under the first line that names it"
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

# Scenario 2's netfilter line for each ping: the hook and the rule, read
# from the rule counters (iptables-nft here), on the kfree_skb drop where
# nf_hook_slow cannot be hooked and on the NF-DROP line where it can.
test_scenario2_rule() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null && lab scenario 2 >/dev/null || fail "lab scenario 2"
	local j nfl nf
	j=$(trace_pings) || exit 1
	# One netfilter line per ping, whether or not its packet could be
	# joined (nf_hook_slow's return sees an skb already freed).
	nfl=$(jq -c --arg b "$B" 'select(.type == "trace" and .netns == $b and .nf_hook != null and (.packet | test("icmp type 8 ")))' <<<"$j")
	assert_eq "$(grep -c . <<<"$nfl")" "$PINGS" "a netfilter line per ping at $B"
	while read -r nf; do
		assert_match "$nf" '"nf_hook":"INPUT","nf_family":"ipv4"' "the netfilter line names the INPUT hook"
		assert_match "$(jq -r '.rule.text // .rule_why' <<<"$nf")" \
			'scenario 2: drop overlay ICMP.*-j DROP' "the netfilter line names the ICMP rule"
		assert_match "$(jq -c '.rule | [.table, .chain, .verdict]' <<<"$nf")" '\["filter","INPUT","DROP"\]' \
			"the rule's table, chain, verdict"
	done <<<"$nfl"
	assert_ordered "$j"
}

# Scenario 3 (conntrack on in B, a table of 10): the table emptied and 20
# new UDP flows sent while tracing. The first ones get entries (CT-NEW with
# their tuple, from ctnetlink stamped on receipt or from the kernel hooks),
# the rest find the table full: an ALERT for B.
ct_flows() {
	inb conntrack -F
	sleep 0.3
	udp_flows "$A" 20 12000
}

test_conntrack_scenario3() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	command -v conntrack >/dev/null || skip "the conntrack tool is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null && lab scenario 3 >/dev/null || fail "lab scenario 3"
	local j new alert decap sport
	j=$(trace_run 6 ct_flows) || exit 1
	assert_match "$(sources "$j")" 'conntrack by ' "vxray says what conntrack is traced with"
	# Any of B's alerts: the flush above may let one interval see failures
	# with the table not (yet) full again.
	alert=$(jq -c --arg b "$B" 'select(.event == "CT-ALERT" and .netns == $b)' <<<"$j" | grep -m1 '"why":"table full' || jq -c 'select(.event == "CT-ALERT")' <<<"$j")
	assert_match "$alert" '"why":"table full \([0-9]+/10\)' "an ALERT: $B's table is full"
	new=$(jq -c --arg b "$B" 'select(.event == "CT-NEW" and .netns == $b and (.packet | test("^udp 172\\.16\\.0\\.1:[0-9]+→172\\.16\\.0\\.2:12001$")))' <<<"$j" | head -1)
	[[ -n $new ]] || fail "no CT-NEW for the first flow in $B: $(jq -c 'select(.event | test("^CT-"))' <<<"$j" | head -5)"
	sport=$(jq -r '.packet | capture(":(?<p>[0-9]+)→").p' <<<"$new")
	# The entry is made after the packet was decapsulated in B: a netlink
	# event stamped on receipt still lands after the datapath's line.
	decap=$(jq -c --arg b "$B" --arg s "$sport" 'select(.event == "DECAP" and .netns == $b and (.packet | test("udp 172\\.16\\.0\\.1:" + $s + " ")))' <<<"$j" | head -1)
	[[ -n $decap ]] || fail "the first flow's packet was not decapsulated at $B"
	(($(jq .ts_ns <<<"$new") >= $(jq .ts_ns <<<"$decap"))) ||
		fail "CT-NEW ($(jq .ts_ns <<<"$new")) stamped before its packet's DECAP ($(jq .ts_ns <<<"$decap"))"
	assert_ordered "$j"
}

# Scenario 4 (the MTU trap): a TCP transfer stalls and TCP retransmits its
# full-size segments; each RETRANS names the flow and the tunnel it leaves
# by, and comes after the flow's first segment was encapsulated.
# tcp_send PORT BYTES: A sends BYTES to a listener on B's PORT, 3 s at most.
tcp_send() {
	local l
	inb timeout 5 socat -u "TCP-LISTEN:$1,reuseaddr" /dev/null &
	l=$!
	sleep 0.3
	ina timeout 3 sh -c "head -c $2 /dev/zero | socat -u - TCP:172.16.0.2:$1,connect-timeout=2"
	wait "$l"
}

test_retrans_scenario4() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	command -v socat >/dev/null || skip "socat is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null && lab scenario 4 >/dev/null 2>&1 || fail "lab scenario 4"
	local j rt first
	j=$(trace_run 6 tcp_send 5099 300000) || exit 1
	rt=$(jq -c --arg a "$A" 'select(.event == "RETRANS" and .netns == $a and (.packet | test("→172\\.16\\.0\\.2:5099$")))' <<<"$j" | head -1)
	[[ -n $rt ]] || fail "no retransmit of the stalled transfer: $(jq -c 'select(.event == "RETRANS")' <<<"$j" | head -3)"
	assert_match "$rt" '"device":"vxlan100".*"full_size":true,"through_tunnel":true' "a full-size retransmit through $A's tunnel"
	first=$(jq -c --arg a "$A" 'select(.event == "ENCAP" and .netns == $a and (.packet | test(" -> 172\\.16\\.0\\.2:5099$")))' <<<"$j" | head -1)
	[[ -n $first ]] || fail "the transfer's segments were not traced at $A"
	(($(jq .ts_ns <<<"$rt") > $(jq .ts_ns <<<"$first"))) || fail "the retransmit is stamped before the flow's first segment"
	assert_ordered "$j"
}

# A watched device goes down and comes back while pings cross: LINK lines
# (rtnetlink, stamped on receipt) between the pings before and after.
flap() {
	ina ping -c 2 -i 0.2 -W 1 -q 172.16.0.2
	ina ip link set vxlan100 down
	sleep 0.3
	ina ip link set vxlan100 up
	sleep 0.5
	ina ping -c 2 -i 0.2 -W 1 -q 172.16.0.2
}

test_link_change() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local j order
	j=$(trace_run 6 flap) || exit 1
	assert_match "$(jq -c --arg a "$A" 'select(.event == "LINK" and .netns == $a and .device == "vxlan100")' <<<"$j")" \
		'"ts_from":"receipt".*"change":"down","up":false' "$A's vxlan100 reported down"
	assert_match "$(jq -c --arg a "$A" 'select(.event == "LINK" and .netns == $a and .device == "vxlan100" and .change == "up")' <<<"$j")" \
		'"up":true' "$A's vxlan100 reported up"
	# In the printed order (by stamp for lines marked late, VMTEST only):
	# pings, down, up, pings.
	order=$(jq -rs --arg a "$A" '[.[] | select(.type == "trace" and .netns == $a and (.event == "LINK" or (.event == "ENCAP" and (.packet | test("^icmp 172\\.16\\.0\\.1 -> 172\\.16\\.0\\.2 type 8 ")))))]
		| (if any(.late) then sort_by(.ts_ns) else . end)[] | if .event == "LINK" then .change else "ping" end' <<<"$j" | uniq | tr '\n' ' ')
	assert_eq "$order" "ping down up ping " "the link changes between the pings, in printed order"
	assert_ordered "$j"
}

# A TCP exchange on the healthy lab: a segment followed from ENCAP at A to
# its delivery to the socket at B (tcp_probe), joined by identity.
test_delivery() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	command -v socat >/dev/null || skip "socat is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local j pkt
	j=$(trace_run 5 tcp_send 5098 2000) || exit 1
	[[ $(sources "$j") == *"delivery by tp_btf/tcp_probe"* ]] || skip "no delivery hook here: $(sources "$j")"
	pkt=$(jq -r --arg b "$B" 'select(.event == "DELIVER" and .netns == $b and .join == "identity") | .pkt' <<<"$j" | head -1)
	[[ -n $pkt ]] || fail "no TCP segment delivered at $B was joined to its packet"
	assert_match "$(journey "$j" "$pkt")" "^ENCAP@$A .*DECAP@$B DELIVER@$B \$" "pkt#$pkt from ENCAP to its socket"
	assert_causal "$j" "$pkt" DECAP DELIVER
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
run_test "trace: scenario 2 netfilter line names the hook and the rule" test_scenario2_rule
run_test "trace: a drop reason is explained under its first line" test_reason_explained_once
run_test "trace: a drop is joined by identity, not by flow" test_identity_not_flow
run_test "trace: scenario 3 conntrack entries and the table-full ALERT" test_conntrack_scenario3
run_test "trace: scenario 4 retransmits of the stalled transfer" test_retrans_scenario4
run_test "trace: a watched device down and up" test_link_change
run_test "trace: a TCP segment followed to its socket" test_delivery
run_test "trace: bad input" test_bad_input
