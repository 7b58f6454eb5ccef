#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray conntrack on the lab: scenario 3 (nf_conntrack_max 10, a flood of
# UDP flows) shows the table at its max and failures rising, with an
# ALERT; a healthy lab with conntrack on counts its flows and raises
# nothing; --netns scopes; a backend this kernel refuses is one sentence.
# test-lock: ctmax (scenario 3 lowers the host's global nf_conntrack_max;
# a suite that counts on conntrack in its own namespaces must not run then)
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1; rm -f "$ARRIVED"' EXIT

# watch_while CMD ARGS...: vxray conntrack (ARGS) runs while CMD makes
# traffic, and is stopped with SIGINT (which prints a last interval) once
# the traffic is over: slow machines (the TCG guest) only take longer.
# Prints "rc=N" and vxray's output.
watch_while() {
	local traffic=$1 out pid i
	shift
	out=$(mktemp)
	# VX_BACKEND: the kernel matrix forces each backend the guest allows.
	"$VXRAY" conntrack ${VX_BACKEND:+--backend "$VX_BACKEND"} "$@" --interval 2s >"$out" 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do	# attached and baselined first
		grep -q 'watching conntrack' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	$traffic
	sleep 2.5
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	echo "rc=$?"
	cat "$out"
	rm -f "$out"
}

# sum_field OUT NETNS FIELD: FIELD=N summed over NETNS's CT lines.
sum_field() {
	grep "CT netns=$2 " <<<"$1" | grep -o " $3=[0-9]*" | cut -d= -f2 | awk '{s+=$1} END {print s+0}'
}

flood() { udp_flows "$A" 30 11000; }

# flood_counted: the flood, and how many packets reached B's underlay
# meanwhile (in $ARRIVED): what B's conntrack can have refused.
ARRIVED=$(mktemp)
b_rx() { ip netns exec "$B" cat /sys/class/net/und0/statistics/rx_packets; }
flood_counted() {
	local before
	before=$(b_rx)
	flood
	sleep 0.5
	echo $(($(b_rx) - before)) >"$ARRIVED"
}

test_full_table() {
	require_root
	lab setup >/dev/null && lab scenario 3 >/dev/null || fail "lab scenario 3"
	local out n arrived
	out=$(watch_while flood_counted --netns "$B")
	assert_match "$out" '^rc=0' "vxray conntrack exits 0"
	assert_match "$out" "CT netns=$B count=10 max=10 fill=100\.0% " "the table at its max"
	assert_match "$out" "ALERT netns=$B conntrack table full \(10/10\) and failures rising \(.*drop \+[0-9]+" "an ALERT naming the full table and the failures"
	# Every flood packet that reached B is a new flow B's full table
	# refuses (a few of those packets may be ARP: slack of 3). Where the
	# path loses some before B (seen once in the emulated guest), fewer
	# arrive, and fewer are refused.
	arrived=$(cat "$ARRIVED")
	((arrived >= 1)) || fail "no packet of the 30-flow flood reached $B's underlay"
	n=$(sum_field "$out" "$B" drop)
	((n >= arrived - 3 || n >= 27)) || fail "$n packets of new flows dropped, want >= $((arrived - 3)) ($arrived reached $B, 30 sent): $out"
	if [[ -n ${VX_BACKEND:-} ]]; then
		# The BPF backends see the allocator refuse each new entry.
		n=$(sum_field "$out" "$B" alloc_failed)
		((n >= arrived - 3 || n >= 27)) || fail "$n allocation failures seen by $VX_BACKEND, want >= $((arrived - 3)) ($arrived reached $B): $out"
	fi
}

test_full_table_json() {
	require_root
	local out
	out=$(watch_while flood --netns "$B" -j)
	assert_match "$out" '^rc=0' "vxray conntrack -j exits 0"
	assert_match "$out" '"type":"conntrack",.*"netns":"'"$B"'",.*"entries":10,"max_entries":10,"fill_pct":100,.*"drop":[1-9][0-9]*,.*"alert":true,"why":"table full \(10/10\) and failures rising' "JSON record with the alert"
	assert_no_match "$out" '^[0-9:.]+ CT ' "no text lines in JSON mode"
}

test_scoped() {
	require_root
	local out
	out=$(watch_while flood --netns "$A")
	assert_match "$out" '^rc=0' "vxray conntrack exits 0"
	assert_match "$out" "CT netns=$A count=0 " "the chosen namespace is reported"
	assert_no_match "$out" "netns=$B" "a namespace not chosen is not reported"
	assert_no_match "$out" 'ALERT' "no alert from A, whose table is empty"
}

healthy_traffic() {
	udp_flows "$A" 12 12000
	ip netns exec "$A" ping -q -c 3 -i 0.2 -W 1 172.16.0.2 >/dev/null 2>&1
}

test_healthy() {
	require_root
	lab setup >/dev/null && lab heal >/dev/null || fail "lab setup"
	# Conntrack on in B, at the default table size.
	ip netns exec "$B" iptables -I INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT || fail "iptables"
	local out n
	out=$(watch_while healthy_traffic --netns "$A" --netns "$B")
	assert_match "$out" '^rc=0' "vxray conntrack exits 0"
	assert_no_match "$out" 'ALERT' "no alert on a healthy lab"
	n=$(grep "CT netns=$B " <<<"$out" | grep -o 'new=[a-z0-9=,]*' | grep -o 'udp=[0-9]*' | cut -d= -f2 | awk '{s+=$1} END {print s+0}')
	assert_ge "$n" 12 "B's new UDP entries counted (12 flows sent)"
	assert_match "$out" "CT netns=$B count=[0-9]+ max=[0-9]+ fill=[0-9.]+% new=[^ ]*icmp=1" "the ping's entry"
	assert_eq "$(sum_field "$out" "$B" drop)" 0 "nothing dropped"
}

# A BPF backend dies with the process, even on SIGKILL: its links are file
# descriptors. Only meaningful where a BPF backend attaches (the guest).
test_sigkill_leaves_nothing() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out pid i ids id found=
	out=$(mktemp)
	"$VXRAY" conntrack ${VX_BACKEND:+--backend "$VX_BACKEND"} --netns "$A" >"$out" 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q 'watching conntrack' "$out" && break
		sleep 0.2
	done
	if ! grep -q 'watching conntrack .* with \(fexit\|kprobe\)' "$out"; then
		kill -INT "$pid"; wait "$pid"
		skip "no BPF backend attaches on this kernel: $(cat "$out")"
	fi
	ids=$(prog_ids "$pid")
	for id in $ids; do
		bpftool prog show id "$id" 2>/dev/null | grep -q 'name vxc_' && found=1
	done
	[[ -n $found ]] || fail "the conntrack programs are not loaded while it runs (it holds: $ids)"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	rm -f "$out"
	# shellcheck disable=SC2086
	assert_eq "$(alive_after prog $ids)" 0 "conntrack programs still loaded after SIGKILL ($ids)"
}

test_bad_backend() {
	require_root
	[[ -n ${VX_BACKEND:-} ]] && skip "the kernel matrix forces a backend this kernel allows"
	local out rc
	out=$("$VXRAY" conntrack --backend fentry -d 1s 2>&1); rc=$?
	if [[ $(uname -r) == 6.1.* ]]; then
		skip "fentry works on this kernel"
	fi
	assert_eq "$rc" 1 "exit code when the kernel refuses fentry"
	assert_match "$out" '^vxray: the fentry backend cannot run here: the kernel refused to load fexit/__nf_conntrack_alloc: [A-Za-z ]+; use --backend tracepoint \(ctnetlink\) or leave --backend out$' "one sentence saying why and what to do"
	assert_eq "$(wc -l <<<"$out")" 1 "exactly one line"
}

test_bad_netns() {
	local out rc
	out=$("$VXRAY" conntrack --netns "$P-nope" -d 1s 2>&1); rc=$?
	assert_eq "$rc" 4 "exit code for an unknown namespace"
	assert_match "$out" "network namespace '$P-nope' does not exist" "names the namespace"
}

run_test "conntrack: scenario 3 shows the full table, failures and an ALERT" test_full_table
run_test "conntrack: scenario 3 in JSON" test_full_table_json
run_test "conntrack: --netns reports only the chosen namespace" test_scoped
run_test "conntrack: healthy lab counts flows, no alert" test_healthy
run_test "conntrack: SIGKILL leaves no program behind" test_sigkill_leaves_nothing
run_test "conntrack: --backend fentry refused here is one clear sentence" test_bad_backend
run_test "conntrack: unknown namespace" test_bad_netns
