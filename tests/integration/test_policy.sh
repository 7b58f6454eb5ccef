#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray policy on the lab: the rule that dropped each packet, found from
# rule counters without touching the ruleset. Scenario 2 names its exact
# rule; scenario 5's ICMP and TCP 8080 rules are counted apart, each count
# equal to what this test sent (read back from the sender's own kernel
# counters, SYN retransmits included); the same with iptables-legacy; a
# healthy lab shows nothing.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
PINGS=4
SYNS=3
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1' EXIT

# The sender's TCP counter NAME in A, absolute.
tcp_stat() {
	ip netns exec "$A" nstat -az -s "$1" | awk -v n="$1" '$1 == n { print $2 }'
}

# send_icmp N: N overlay pings from A; prints how many were sent.
send_icmp() {
	ip netns exec "$A" ping -c "$1" -i 0.2 -W 1 172.16.0.2 2>/dev/null |
		sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p'
}

# send_syns PORT N: N connection attempts from A that give up before the
# first SYN retransmit is due (1s); prints how many SYNs left A, counted by
# A's kernel, retransmits included.
send_syns() {
	local opens0 retr0 i
	opens0=$(tcp_stat TcpActiveOpens)
	retr0=$(tcp_stat TcpExtTCPSynRetrans)
	for ((i = 0; i < $2; i++)); do
		ip netns exec "$A" timeout 3 socat -u /dev/null "TCP:172.16.0.2:$1,connect-timeout=0.4" 2>/dev/null
	done
	echo $(($(tcp_stat TcpActiveOpens) - opens0 + $(tcp_stat TcpExtTCPSynRetrans) - retr0))
}

# trace_while CMD ARGS...: vxray policy (args from $POLICY_ARGS) runs
# while CMD sends traffic, and is stopped with SIGINT after it; prints CMD's output as "sent: ...", then vxray's.
trace_while() {
	local out pid sent
	out=$(mktemp)
	# VX_BACKEND: the kernel matrix forces each backend the guest allows.
	"$VXRAY" policy ${VX_BACKEND:+--backend "$VX_BACKEND"} $POLICY_ARGS >"$out" 2>&1 &
	pid=$!
	# Attached and baselined before the first packet: under emulation the
	# 6.1 guest can take longer than any fixed pause to load the programs.
	wait_line "$out" 'Ctrl-C to stop' || echo "vxray policy never said it was tracing"
	sent=$("$@")
	# Stop after the traffic, however slow the machine (the 6.1 guest is
	# emulated): a fixed --duration could end before the last SYN.
	sleep 1.5
	kill -INT "$pid"
	wait "$pid"
	echo "rc=$?"
	echo "sent: $sent"
	cat "$out"
	rm -f "$out"
}

scenario5_traffic() {
	local icmp syn
	icmp=$(send_icmp $PINGS)
	syn=$(send_syns 8080 $SYNS)
	# 8081 is allowed: it must not show up anywhere
	ip netns exec "$A" timeout 3 socat -u /dev/null TCP:172.16.0.2:8081,connect-timeout=2 2>/dev/null
	echo "$icmp $syn"
}

# total_of OUT REGEX: the count of the per-rule total line matching REGEX.
total_of() {
	sed -n '/^=== netfilter drops in total/,$p' <<<"$1" | grep -E -- "$2" | awk '{ print $1 }' | head -1
}

# assert_total OUT REGEX WANT WHAT: the per-rule total, with vxray's
# output on failure.
assert_total() {
	local n
	n=$(total_of "$1" "$2")
	[[ $n == "$3" ]] && return 0
	printf 'FAIL: %s: got %s, want %s\n  output was:\n%s\n' "$4" "${n:-nothing}" "$3" "$(sed 's/^/    /' <<<"$1" | tail -60)"
	exit 1
}

RULE2_ICMP='-A INPUT -s 172\.16\.0\.1/32 -i vxlan100 -p icmp -m comment --comment "vxray-lab scenario 2: drop overlay ICMP" -j DROP'
RULE2_TCP='-A INPUT -i vxlan100 -p tcp -m tcp --dport 9000 -m comment --comment "vxray-lab scenario 2: reject overlay TCP 9000" -j REJECT --reject-with tcp-reset'
RULE5_ICMP='-A INPUT -i vxlan100 -p icmp -m comment --comment "vxray-lab scenario 5: drop ICMP" -j DROP'
RULE5_TCP='-A INPUT -i vxlan100 -p tcp -m tcp --dport 8080 -m comment --comment "vxray-lab scenario 5: drop TCP 8080" -j DROP'

scenario2_traffic() {
	local icmp
	icmp=$(send_icmp $PINGS)
	# REJECT answers the SYN with a reset: exactly one SYN, no retry
	ip netns exec "$A" timeout 3 socat -u /dev/null TCP:172.16.0.2:9000,connect-timeout=2 2>/dev/null
	echo "$icmp"
}

test_scenario2_names_the_rule() {
	require_root
	lab scenario 2 >/dev/null 2>&1 || fail "lab scenario 2"
	local out icmp n
	out=$(POLICY_ARGS="--netns $B" trace_while scenario2_traffic)
	assert_match "$out" '^rc=0' "vxray policy exits 0"
	icmp=$(sed -n 's/^sent: //p' <<<"$out")
	assert_eq "$icmp" "$PINGS" "pings sent"
	assert_match "$out" "NF_DROP hook=INPUT family=ipv4 netns=$B dev=vxlan100 len=([0-9]+|-) 172\.16\.0\.1→172\.16\.0\.2 icmp type 8 code 0 vni=100 vtep=10\.0\.0\.1" \
		"each drop with its hook, namespace, device, inner flow and tunnel"
	assert_total "$out" "netns=$B iptables-nft ip table=filter chain=INPUT rule=[0-9]+ handle=[0-9]+ DROP: $RULE2_ICMP\$" "$PINGS" "the scenario's ICMP rule, by table, chain and text, took every ping"
	assert_total "$out" "netns=$B iptables-nft ip table=filter chain=INPUT rule=[0-9]+ handle=[0-9]+ REJECT: $RULE2_TCP\$" "1" "the scenario's REJECT rule took the one SYN"
	assert_match "$out" "^=== netfilter drops in total: $((PINGS + 1)), not attributed 0, lost 0 ===" "all drops attributed"
	# kfree_skb stacks run through nf_hook_slow; the nf_hook_slow
	# backends' start at its caller
	assert_match "$out" '^ +[0-9]+  hook=INPUT (.* < )?ip_local_deliver\+0x[0-9a-f]+ < ' "stacks clustered, with the hook's caller"
}

test_drops_scenario2() {
	require_root
	lab scenario 2 >/dev/null 2>&1 || fail "lab scenario 2"
	local out pid f
	f=$(mktemp)
	"$VXRAY" drops ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$B" --stack -d 4s >"$f" 2>&1 &
	pid=$!
	wait_line "$f" 'Ctrl-C to stop' || { cat "$f"; fail "vxray drops never said it was tracing"; }
	send_icmp 2 >/dev/null
	wait "$pid"
	out=$(cat "$f")
	rm -f "$f"
	assert_match "$out" "DROP NETFILTER_DROP .* netns=$B dev=vxlan100 .*vni=100 vtep=10\.0\.0\.1 inner 172\.16\.0\.1→172\.16\.0\.2 icmp type 8" \
		"vxray drops names NETFILTER_DROP with the inner flow"
	assert_match "$out" '^    nf_hook_slow\+0x[0-9a-f]+$' "with the netfilter frames in the stack"
}

test_scenario5_counts() {
	require_root
	lab scenario 5 >/dev/null 2>&1 || fail "lab scenario 5"
	local out sent icmp syn n
	out=$(POLICY_ARGS="--netns $B" trace_while scenario5_traffic)
	assert_match "$out" '^rc=0' "vxray policy exits 0"
	sent=$(sed -n 's/^sent: //p' <<<"$out")
	icmp=${sent% *}
	syn=${sent#* }
	assert_eq "$icmp" "$PINGS" "pings sent"
	assert_ge "$syn" "$SYNS" "SYNs sent to 8080"
	assert_total "$out" "netns=$B iptables-nft ip table=filter chain=INPUT rule=[0-9]+ handle=[0-9]+ DROP: $RULE5_ICMP\$" "$icmp" "the ICMP rule's count"
	assert_total "$out" "netns=$B iptables-nft ip table=filter chain=INPUT rule=[0-9]+ handle=[0-9]+ DROP: $RULE5_TCP\$" "$syn" "the TCP 8080 rule's count"
	assert_no_match "$out" ':8081' "the allowed port never shows"
	assert_match "$out" "^=== netfilter drops in total: $((icmp + syn)), not attributed 0, lost 0 ===" "every drop attributed"
}

test_scenario5_json() {
	require_root
	lab scenario 5 >/dev/null 2>&1 || fail "lab scenario 5"
	local out sent icmp syn n tot
	out=$(POLICY_ARGS="--netns $B -j" trace_while scenario5_traffic)
	assert_match "$out" '^rc=0' "vxray policy -j exits 0"
	sent=$(sed -n 's/^sent: //p' <<<"$out")
	icmp=${sent% *}
	syn=${sent#* }
	n=$(grep -c '^{"type":"nf_drop",.*"nf_hook":"INPUT","nf_family":"ipv4","netns":"'"$B"'".*"vni":100,.*"inner":{"ip_version":4,"proto":"icmp","src":"172.16.0.1","dst":"172.16.0.2","icmp_type":8' <<<"$out")
	assert_eq "$n" "$icmp" "one nf_drop object per ping"
	n=$(grep -c '^{"type":"nf_drop",.*"inner":{"ip_version":4,"proto":"tcp","src":"172.16.0.1","dst":"172.16.0.2","sport":[0-9]*,"dport":8080' <<<"$out")
	assert_eq "$n" "$syn" "one nf_drop object per 8080 SYN"
	tot=$(grep '^{"type":"policy_totals"' <<<"$out")
	assert_match "$tot" '"total_drops":'$((icmp + syn))',"total_unattributed":0,"total_lost":0' "totals"
	assert_match "$tot" '\{"netns":"'"$B"'","source":"iptables-nft","family":"ip","table":"filter","chain":"INPUT","position":[0-9]+,"handle":[0-9]+,"verdict":"DROP","text":"-A INPUT -i vxlan100 -p icmp -m comment --comment \\"vxray-lab scenario 5: drop ICMP\\" -j DROP","count":'"$icmp"',' "the ICMP rule in JSON"
	assert_match "$tot" '"text":"-A INPUT -i vxlan100 -p tcp -m tcp --dport 8080 -m comment --comment \\"vxray-lab scenario 5: drop TCP 8080\\" -j DROP","count":'"$syn"',' "the 8080 rule in JSON"
}

test_scenario5_legacy() {
	require_root
	command -v iptables-legacy >/dev/null && command -v iptables-legacy-save >/dev/null ||
		skip "iptables-legacy is not installed"
	lab heal >/dev/null 2>&1 || fail "lab heal"
	ip netns exec "$B" iptables-legacy -I INPUT -i vxlan100 -p icmp -m comment --comment "legacy: drop ICMP" -j DROP || fail "legacy rule"
	ip netns exec "$B" iptables-legacy -I INPUT -i vxlan100 -p tcp --dport 8080 -m comment --comment "legacy: drop TCP 8080" -j DROP || fail "legacy rule"
	local out sent icmp syn n
	out=$(POLICY_ARGS="--netns $B" trace_while scenario5_traffic)
	ip netns exec "$B" iptables-legacy -F INPUT
	assert_match "$out" '^rc=0' "vxray policy exits 0"
	sent=$(sed -n 's/^sent: //p' <<<"$out")
	icmp=${sent% *}
	syn=${sent#* }
	assert_total "$out" "netns=$B iptables-legacy ip table=filter chain=INPUT rule=2 handle=0 DROP: -A INPUT -i vxlan100 -p icmp -m comment --comment \"legacy: drop ICMP\" -j DROP\$" "$icmp" "the legacy ICMP rule's count"
	assert_total "$out" "netns=$B iptables-legacy ip table=filter chain=INPUT rule=1 handle=0 DROP: -A INPUT -i vxlan100 -p tcp -m tcp --dport 8080 -m comment --comment \"legacy: drop TCP 8080\" -j DROP\$" "$syn" "the legacy TCP 8080 rule's count"
	assert_match "$out" "^=== netfilter drops in total: $((icmp + syn)), not attributed 0, lost 0 ===" "every drop attributed"
}

test_nft_without_counter() {
	require_root
	lab heal >/dev/null 2>&1 || fail "lab heal"
	ip netns exec "$B" nft -f - <<-'EOF' || fail "nft ruleset"
	table inet pol {
		chain in {
			type filter hook input priority 0; policy accept;
			iifname "vxlan100" meta l4proto icmp drop
		}
	}
	EOF
	local out n
	out=$(POLICY_ARGS="--netns $B" trace_while send_icmp $PINGS)
	ip netns exec "$B" nft delete table inet pol
	assert_match "$out" '^rc=0' "vxray policy exits 0"
	assert_match "$out" "^ +[0-9]+  netns=$B not attributed to a rule: DROP/REJECT rules without counters there \(nft rules need a \`counter\` statement\)" \
		"an nft rule without a counter is said to be unattributable"
	n=$(grep -E "^ +[0-9]+  netns=$B not attributed to a rule: " <<<"$out" | awk '{ s += $1 } END { print s + 0 }')
	assert_eq "$n" "$PINGS" "the unattributed counts add up to the pings"
	assert_match "$out" "^=== netfilter drops in total: $PINGS, not attributed $PINGS, lost 0 ===" "totals"
}

healthy_traffic() {
	send_icmp $PINGS
	ip netns exec "$A" timeout 3 socat -u /dev/null TCP:172.16.0.2:8081,connect-timeout=2 2>/dev/null
}

test_healthy_nothing() {
	require_root
	lab heal >/dev/null 2>&1 || fail "lab heal"
	local out
	out=$(POLICY_ARGS="--netns $A --netns $B" trace_while healthy_traffic)
	assert_match "$out" '^rc=0' "vxray policy exits 0"
	assert_match "$out" '^sent: 4$' "the pings went out"
	assert_no_match "$out" 'NF_DROP|not attributed to a rule|DROP:' "nothing is dropped or blamed"
	assert_match "$out" '^--- still tracing, 0 netfilter drops, 0 lost ---' "a heartbeat says it is watching"
	assert_match "$out" '^=== netfilter drops in total: 0, not attributed 0, lost 0 ===' "zero totals"
}

test_fentry_refused() {
	require_root
	[[ -z ${VX_BACKEND:-} ]] || skip "the kernel matrix forces a backend here"
	local out rc
	out=$("$VXRAY" policy --backend fentry -d 1s 2>&1)
	rc=$?
	((rc != 0)) || fail "exit 0 with --backend fentry on a kernel that refuses fentry: $out"
	assert_eq "$(wc -l <<<"$out")" 1 "one line"
	assert_match "$out" '^vxray: .*fentry.*' "it names the refused backend"
}

require_root
lab setup >/dev/null 2>&1 || { echo "1..1"; echo "not ok 1 - policy: lab setup"; exit 1; }
# the lab's own checks may send traffic: wait for it to settle
lab heal >/dev/null 2>&1

run_test "policy: scenario 2 names the exact rule (table, chain, text)" test_scenario2_names_the_rule
run_test "drops: scenario 2 NETFILTER_DROP with netfilter frames and the inner flow" test_drops_scenario2
run_test "policy: scenario 5 ICMP and TCP 8080 rules counted apart, equal to what was sent" test_scenario5_counts
run_test "policy: scenario 5 in JSON" test_scenario5_json
run_test "policy: iptables-legacy rules, same counts" test_scenario5_legacy
run_test "policy: an nft rule without counter is reported unattributable" test_nft_without_counter
run_test "policy: healthy lab shows nothing" test_healthy_nothing
run_test "policy: --backend fentry refused here with one sentence" test_fentry_refused
echo "1..$T_N"
