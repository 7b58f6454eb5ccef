#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `vxray drops` against a real drop: two namespaces joined by a veth
# underlay and VXLAN 100, with iptables in the receiver dropping ICMP that
# arrives over the tunnel. Every ping must show up as exactly one
# NETFILTER_DROP, named from the kernel's BTF, in the right namespace, with
# the overlay headers recovered from the decapsulated skb.
. "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
C=$P-c	# empty: nothing ever drops there
PINGS=5

cleanup() {
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	ip netns del "$C" 2>/dev/null
}

setup() {
	ip netns add "$C" && mk_vxlan_pair "$A" "$B" || return 1
	ip netns exec "$B" iptables -A INPUT -i vxlan100 -p icmp -j DROP
}

# run_with_pings ARGS...: run vxray while A pings B $PINGS times. The pings
# begin once vxray says it is attached (at most 60 s: the 6.1 guest runs
# under software emulation); SIGINT ends it a second after the last one,
# and the --duration the callers pass is only a backstop.
run_with_pings() {
	local out=$(mktemp) pid i
	# VX_BACKEND: the kernel matrix forces each backend the guest allows.
	"$VXRAY" drops ${VX_BACKEND:+--backend "$VX_BACKEND"} "$@" >"$out" 2>&1 &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		grep -q 'Ctrl-C to stop' "$out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	echo "progs=$(prog_ids "$pid")"
	ip netns exec "$A" ping -q -c "$PINGS" -i 0.2 -W 1 172.16.0.2 >/dev/null 2>&1
	sleep 1
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	echo "rc=$?"
	cat "$out"
	rm -f "$out"
}

ICMP_LINE='DROP NETFILTER_DROP .* netns='"$B"' dev=vxlan100 .*vni=100 vtep=10\.0\.0\.1 inner 172\.16\.0\.1→172\.16\.0\.2 icmp type 8'

test_netfilter_drop_text() {
	local out n
	out=$(run_with_pings --netns "$B" -d 60s --stack)
	assert_match "$out" '^rc=0' "vxray drops exits 0"
	assert_match "$out" "$ICMP_LINE" "a NETFILTER_DROP line with the tunnel's inner headers"
	# iptables-legacy drops in nf_hook_slow itself, iptables-nft one
	# call deeper (nft_do_chain); the stack has nf_hook_slow either way.
	assert_match "$out" '^    nf_hook_slow\+0x[0-9a-f]+$' "the stack contains nf_hook_slow"
	n=$(grep -Ec -- "$ICMP_LINE" <<<"$out")
	assert_eq "$n" "$PINGS" "one drop line per ping"
	assert_match "$out" '^ +[0-9]+  NETFILTER_DROP +[a-z_]+\+0x[0-9a-f]+ +'"$B"'$' "an aggregate row"
	# What the kernel means by the reason, once, under its first line.
	assert_eq "$(grep -c 'NETFILTER_DROP: a netfilter rule (iptables, nftables) or conntrack dropped it$' <<<"$out")" 1 \
		"the reason explained once"
	assert_match "$(grep -B1 '^    NETFILTER_DROP: ' <<<"$out" | head -1)" "$ICMP_LINE" "under the first drop line"
}

test_netfilter_drop_json() {
	local out n
	out=$(run_with_pings --netns "$B" -d 60s -j)
	assert_match "$out" '^rc=0' "vxray drops -j exits 0"
	n=$(grep -c '"reason":"NETFILTER_DROP","reason_num":[0-9]*,.*"netns":"'"$B"'".*"vni":100,.*"inner":{"ip_version":4,"proto":"icmp","src":"172.16.0.1","dst":"172.16.0.2","icmp_type":8' <<<"$out")
	assert_eq "$n" "$PINGS" "one JSON drop object per ping"
	n=$(grep '"type":"drop"' <<<"$out" | grep -c '"meaning":"a netfilter rule (iptables, nftables) or conntrack dropped it"}$')
	assert_eq "$n" "$PINGS" "each drop object says what the kernel means by its reason"
	# The summaries count the same drops, exactly.
	n=$(grep '"type":"drops_summary"' <<<"$out" | grep -o '{"reason":"NETFILTER_DROP","reason_num":[0-9]*,"location":"[^"]*","netns":"'"$B"'","count":[0-9]*' |
		sed 's/.*"count"://' | paste -sd+ | bc)
	assert_eq "$n" "$PINGS" "NETFILTER_DROP summary counts"
}

test_other_netns_sees_none() {
	local out
	out=$(run_with_pings --netns "$A" -d 60s)
	assert_match "$out" '^rc=0' "vxray drops exits 0"
	assert_no_match "$out" 'NETFILTER_DROP' "a run scoped to $A sees no drop of $B"
}

test_heartbeat() {
	local out
	out=$("$VXRAY" drops --netns "$C" --interval 1s -d 2500ms 2>&1)
	assert_match "$out" '^--- still tracing, 0 drops, 0 lost ---$' "a heartbeat every interval"
	[[ $(grep -c 'still tracing' <<<"$out") -ge 2 ]] || fail "expected at least 2 heartbeats: $out"
}

test_kprobe_refused() {
	local out rc
	[[ -e /sys/bus/event_source/devices/kprobe ]] && skip "this kernel has kprobes"
	out=$("$VXRAY" drops --backend kprobe -d 1s 2>&1)
	rc=$?
	assert_eq "$rc" 1 "exit code of a refused --backend kprobe"
	assert_eq "$(wc -l <<<"$out")" 1 "one line of explanation"
	assert_match "$out" 'the kprobe backend cannot run here: .*kprobe' "names the backend and why"
}

test_classic_tracepoint() {
	local out
	out=$(VXRAY_DROPS_NO_TP_BTF=1 run_with_pings --backend tracepoint --netns "$B" -d 60s -v)
	assert_match "$out" 'attached tracepoint/skb/kfree_skb' "fell back to the classic tracepoint"
	assert_eq "$(grep -Ec -- "$ICMP_LINE" <<<"$out")" "$PINGS" "one drop line per ping"
}

# The programs this run held, by id: other suites run the same programs.
test_nothing_left_behind() {
	local out ids
	out=$(run_with_pings --netns "$B" -d 60s)
	assert_match "$out" '^rc=0' "vxray drops exits 0"
	ids=$(sed -n 's/^progs=//p' <<<"$out")
	[[ -n ${ids// } ]] || fail "vxray drops held no program while it ran: $out"
	# shellcheck disable=SC2086
	assert_eq "$(alive_after prog $ids)" 0 "programs left after exit ($ids)"
}

require_root_or_skip() {
	((EUID == 0)) && command -v bpftool >/dev/null && command -v iptables >/dev/null
}

if ! require_root_or_skip; then
	echo "1..1"
	echo "ok 1 - drops # SKIP needs root, bpftool and iptables"
	exit 0
fi
trap cleanup EXIT
if ! setup >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - setting up the namespaces, veth and VXLAN"
	exit 1
fi

run_test "drops: NETFILTER_DROP over VXLAN, text + stack" test_netfilter_drop_text
run_test "drops: NETFILTER_DROP over VXLAN, JSON + exact summary" test_netfilter_drop_json
run_test "drops: --netns scoping happens in the kernel" test_other_netns_sees_none
run_test "drops: heartbeat when nothing drops" test_heartbeat
run_test "drops: --backend kprobe refused with one sentence" test_kprobe_refused
run_test "drops: classic tracepoint fallback" test_classic_tracepoint
run_test "drops: no program left after exit" test_nothing_left_behind
echo "1..$T_N"
