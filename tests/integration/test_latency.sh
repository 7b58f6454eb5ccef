#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray latency on the lab, one vxray over both tunnel ends: a healthy
# tunnel under a TCP transfer and pings has samples in every stage, joined
# at >= 95%, with microsecond encap/decap medians that add up to less than
# the overlay round trip; scenario 6 (netem, or a tbf queue under load)
# moves the wire stage by the delay it adds and leaves encap and decap
# alone; bad input and SIGKILL leave nothing behind.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
trap 'lab teardown >/dev/null 2>&1' EXIT

ina() { ip netns exec "$A" "$@"; }
inb() { ip netns exec "$B" "$@"; }

# Generous for a 2-core machine shared with other test runs.
MICRO_MAX_NS=1000000	# "microsecond range": a median under 1 ms
JOIN_MIN=0.95

# latency_run SECONDS CMD...: vxray latency -j over both ends for SECONDS
# while CMD runs once it is attached; prints vxray's last JSON report. On
# failure it says why on stderr and returns 1: j=$(latency_run ...) || exit 1.
latency_run() {
	local secs=$1 out pid i rc
	shift
	out=$(mktemp)
	# shellcheck disable=SC2086
	"$VXRAY" latency -j --auto --netns "$A" --netns "$B" -d "${secs}s" --interval "${secs}s" \
		${VX_BACKEND:+--backend $VX_BACKEND} >"$out" 2>&1 &
	pid=$!
	# Loading takes a while under emulation (the 6.1 guest): up to 60 s.
	for ((i = 0; i < 600; i++)); do
		grep -q 'timing' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'timing' "$out" || { kill "$pid" 2>/dev/null; cat "$out" >&2; rm -f "$out"; fail "vxray latency did not start" >&2; }
	"$@" >/dev/null 2>&1
	wait "$pid" || { rc=$?; cat "$out" >&2; rm -f "$out"; fail "vxray latency exited $rc" >&2; }
	# The xmit backend asked for (VX_BACKEND, in the 6.1 guest) is the one used.
	if [[ -n ${VX_BACKEND:-} ]] && ! grep -q "vxlan_xmit by $VX_BACKEND" "$out"; then
		cat "$out" >&2
		rm -f "$out"
		fail "vxray latency did not use the $VX_BACKEND backend" >&2
	fi
	grep '"type":"latency"' "$out" | tail -1
	rm -f "$out"
}

# p50 JSON STAGE NETNS DEVICE: median in ns of one histogram (0 if none).
p50() {
	jq -r --arg s "$2" --arg n "$3" --arg d "$4" \
		'[.stages[] | select(.stage == $s) | .hists[] | select(.netns == $n and .device == $d) | .p50_ns] | first // 0' <<<"$1"
}

# count JSON STAGE: samples in a stage over every histogram.
count() {
	jq -r --arg s "$2" '[.stages[] | select(.stage == $s) | .hists[].count] | add // 0' <<<"$1"
}

join_ok() { # JSON STAGE
	jq -e --arg s "$2" --argjson min "$JOIN_MIN" \
		'.stages[] | select(.stage == $s) | .join_rate >= $min' <<<"$1" >/dev/null
}

traffic() {
	inb timeout 30 iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
	sleep 0.5
	ina ping -c 20 -i 0.05 -W 1 -q 172.16.0.2
	ina timeout 20 iperf3 -c 172.16.0.2 -p 5301 -t 2
	ina ping -c 20 -i 0.05 -W 1 -q 172.16.0.2
}

pings() { ina ping -c 40 -i 0.05 -W 1 -q 172.16.0.2; }

rtt_avg_ns() {
	ina ping -c 20 -i 0.05 -W 1 -q 172.16.0.2 2>/dev/null |
		awk -F/ '/rtt|round-trip/ {printf "%d\n", $5 * 1000000}'
}

test_healthy() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	command -v iperf3 >/dev/null || skip "iperf3 is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local j rtt s e w d
	rtt=$(rtt_avg_ns)
	[[ -n $rtt && $rtt -gt 0 ]] || fail "no overlay RTT before the test"
	j=$(latency_run 7 traffic) || exit 1
	[[ -n $j ]] || fail "vxray latency printed no report"
	# vxlan_rcv (fentry/kprobe only, and best effort) is not required.
	for s in encap wire decap delivery xmit; do
		assert_ge "$(count "$j" "$s")" 1 "samples in the $s stage"
		join_ok "$j" "$s" || fail "join rate of $s below $JOIN_MIN: $(jq -c --arg s "$s" '.stages[] | select(.stage == $s) | {seen, matched, join_rate}' <<<"$j")"
	done
	# A -> B: encapsulated on A's underlay, over the wire into B, decapsulated on B.
	e=$(p50 "$j" encap "$A" und0)
	w=$(p50 "$j" wire "$B" und0)
	d=$(p50 "$j" decap "$B" vxlan100)
	assert_ge "$e" 1 "encap median on $A"
	assert_ge "$w" 1 "wire median into $B"
	assert_ge "$d" 1 "decap median on $B"
	((e < MICRO_MAX_NS)) || fail "encap median ${e} ns is not in the microsecond range"
	((d < MICRO_MAX_NS)) || fail "decap median ${d} ns is not in the microsecond range"
	# One way through the three stages is part of a round trip: their
	# medians must add up to less than the overlay RTT (with 2x slack for
	# a busy machine; one way is about half of it).
	((e + w + d < 2 * rtt)) ||
		fail "encap+wire+decap medians ($e+$w+$d ns) exceed twice the overlay RTT ($rtt ns)"
	# The bucket list (-j) holds every sample.
	assert_eq "$(jq '[.stages[] | select(.stage == "encap") | .hists[] | .count == ([.buckets[].count] | add)] | all' <<<"$j")" true \
		"buckets add up to the count"
}

test_scenario6_moves_wire() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	command -v iperf3 >/dev/null || skip "iperf3 is not installed"
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local j0 j1 out before after method delay e0 e1 d0 d1 w0 w1
	j0=$(latency_run 6 pings) || exit 1
	w0=$(p50 "$j0" wire "$B" und0)
	e0=$(p50 "$j0" encap "$A" und0)
	d0=$(p50 "$j0" decap "$B" vxlan100)
	assert_ge "$w0" 1 "healthy wire median into $B"
	out=$(lab scenario 6) || fail "lab scenario 6"
	method=$(cat "/run/vxray-lab/$P/latency_method" 2>/dev/null)
	if [[ $method == netem ]]; then
		delay=1000000	# injected: netem delay 1ms
	else
		# Shaping: the queueing delay it added, as the lab measured it.
		before=$(sed -n 's/.*RTT avg before: \([0-9.]*\) ms.*/\1/p' <<<"$out")
		after=$(sed -n 's/.*after: \([0-9.]*\) ms.*/\1/p' <<<"$out")
		[[ -n $before && -n $after ]] || fail "scenario 6 printed no RTTs: $out"
		delay=$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%d\n", (a - b) * 1000000 }')
	fi
	((delay > 100000)) || fail "scenario 6 added only ${delay} ns: nothing to measure"
	j1=$(latency_run 6 pings) || exit 1
	w1=$(p50 "$j1" wire "$B" und0)
	e1=$(p50 "$j1" encap "$A" und0)
	d1=$(p50 "$j1" decap "$B" vxlan100)
	lab heal >/dev/null
	echo "wire p50 $w0 -> $w1 ns, encap $e0 -> $e1, decap $d0 -> $d1, added delay $delay ns ($method)"
	# The wire median rises by the added delay; 25% off for the width of
	# a bucket and the round trip's own noise.
	((w1 - w0 >= delay * 3 / 4)) ||
		fail "wire median rose by $((w1 - w0)) ns, less than the $delay ns scenario 6 added"
	# Encap and decap stay microseconds, far below the added delay.
	((e1 < MICRO_MAX_NS && e1 < delay / 4)) || fail "encap median moved to $e1 ns"
	((d1 < MICRO_MAX_NS && d1 < delay / 4)) || fail "decap median moved to $d1 ns"
}

# vxray filters left in a lab namespace (the netlink fallback); TCX and
# tracing links are file descriptors and die with the process.
our_filters() {
	local ns dev dir n=0
	for ns in "$A" "$B"; do
		for dev in und0 vxlan100; do
			for dir in ingress egress; do
				n=$((n + $(ip netns exec "$ns" tc filter show dev "$dev" "$dir" 2>/dev/null | grep -c 'vxray/')))
			done
		done
	done
	echo "$n"
}

# The ids of the BPF programs process PID holds (its fds' fdinfo).
prog_ids_of() {
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u
}

test_bad_input_and_cleanup() {
	require_root
	lab heal >/dev/null 2>&1
	lab setup >/dev/null || fail "lab setup"
	local out rc pid ids id left i
	out=$("$VXRAY" latency -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code with nothing to watch"
	assert_match "$out" 'nothing to watch' "says what to do"
	out=$("$VXRAY" latency -i "$A:nope0" -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for an unknown interface"
	# A backend the kernel refuses is one clear sentence and exit 1; where
	# it is allowed (the 6.1 guest), the startup line names it.
	out=$("$VXRAY" latency --backend fentry --auto --netns "$A" -d 1s 2>&1); rc=$?
	if ((rc == 0)); then
		assert_match "$out" 'vxlan_xmit by fentry' "names the forced backend"
	else
		assert_eq "$rc" 1 "exit code for a refused backend"
		assert_match "$out" 'refuses the fentry backend for vxlan_xmit' "says which backend and why"
	fi
	assert_eq "$(our_filters)" 0 "tc filters left after errors"
	"$VXRAY" latency --auto --netns "$A" --netns "$B" >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		ids=$(prog_ids_of "$pid")
		[[ $(wc -w <<<"$ids") -ge 6 ]] && break
		sleep 0.1
	done
	[[ -n $ids ]] || fail "vxray latency loaded nothing"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	# Programs are freed after an RCU grace period: give it a moment.
	for ((i = 0; i < 20; i++)); do
		left=0
		for id in $ids; do
			bpftool prog show id "$id" >/dev/null 2>&1 && left=$((left + 1))
		done
		((left == 0)) && break
		sleep 0.2
	done
	assert_eq "$left" 0 "programs of the killed vxray still loaded"
	assert_eq "$(our_filters)" 0 "tc filters left after SIGKILL"
}

run_test "latency: healthy tunnel, every stage joined" test_healthy
run_test "latency: scenario 6 moves the wire stage only" test_scenario6_moves_wire
run_test "latency: bad input, refused backend, SIGKILL" test_bad_input_and_cleanup
