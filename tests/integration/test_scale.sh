#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Scale on one node, correctness only (the timings are `make bench`'s): a
# thousand VXLAN devices in one namespace, all watched, the last counted as
# the first; a thousand created and deleted under a running agent, each
# attached and let go, its descriptors back where they were and the device
# that stays counting throughout; a hundred namespaces followed with
# --all-netns; 10000 remote VTEPs behind one device, their counters kept
# or, in a table too small, their evictions counted. Devices are made in
# one `ip -batch` each way, FDB entries in one `bridge -batch`.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
NSS=()
TMP=
PIDS=()

cleanup() {
	local p n
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
	[[ -z $TMP ]] || rm -rf "$TMP"
}
trap cleanup EXIT

# node NS: a namespace with an underlay (a veth pair, 10.9.0.1 on ul0; the
# remote VTEP 10.9.0.2 a permanent neighbour, so the outer packets leave).
node() {
	ip netns add "$1" || fail "cannot create namespace $1"
	NSS+=("$1")
	ip -n "$1" link add ul0 type veth peer name ul1 &&
		ip -n "$1" addr add 10.9.0.1/24 dev ul0 &&
		ip -n "$1" link set ul0 up && ip -n "$1" link set ul1 up &&
		ip -n "$1" neigh replace 10.9.0.2 lladdr 02:00:00:00:00:09 dev ul0 nud permanent ||
		fail "cannot set up the underlay in $1"
}

# devices FROM TO add|del: an ip -batch file making (or deleting) vxFROM..vxTO.
devices() {
	local i
	for ((i = $1; i <= $2; i++)); do
		if [[ $3 == add ]]; then
			echo "link add vx$i type vxlan id $i local 10.9.0.1 remote 10.9.0.2 dstport 4789 dev ul0"
			echo "link set vx$i up"
		else
			echo "link del vx$i"
		fi
	done
}

# agent NAME ARGS...: an agent, its metrics port in AGENT_PORT, its pid in
# AGENT_PID. Not in a command substitution: the pid must reach PIDS here.
agent() {
	local log=$TMP/agent-$1.log i
	shift
	"$VXRAY" agent "$@" --metrics 127.0.0.1:0 --interval 500ms --state-dir "$TMP/state" \
		>"$log" 2>&1 &
	AGENT_PID=$!
	AGENT_LOG=$log
	PIDS+=("$AGENT_PID")
	for ((i = 0; i < 300; i++)); do
		AGENT_PORT=$(grep -o 'http://127\.0\.0\.1:[0-9]*/metrics; watching' "$log" | head -1 |
			     sed 's/.*:\([0-9]*\)\/metrics.*/\1/')
		[[ -n $AGENT_PORT ]] && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.2
	done
	fail "the agent did not start: $(tail -5 "$log")"
}

metrics() {
	curl -sf --max-time 5 "http://127.0.0.1:$AGENT_PORT/metrics"
}

# watched NS: interfaces the agent watches in NS now.
watched() {
	metrics | awk -v ns="$1" '$1 == "vxray_interfaces_watched{netns=\"" ns "\"}" { print $2 }'
}

# rss_kb PID: its resident set, KiB.
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# wait_watched NS N: until the agent watches N interfaces in NS (60 s).
wait_watched() {
	local i w
	for ((i = 0; i < 240; i++)); do
		w=$(watched "$1")
		[[ $w == "$2" ]] && return 0
		sleep 0.25
	done
	# What the agent said about the namespace, and whether it still
	# answers: a failure here must say which of the two went wrong.
	fail "the agent watches ${w:-no} interfaces in $1, not $2; its metrics $(metrics >/dev/null && echo answer || echo "do not answer"); its lines on $1: $(grep -wF -- "$1" "$AGENT_LOG" | tail -3 | paste -sd'|'); its last line: $(tail -1 "$AGENT_LOG")"
}

# encap NS DEV: packets the agent counted leaving through DEV in NS.
encap() {
	metrics | awk -v ns="$1" -v dev="$2" '
		$1 ~ /^vxray_tunnel_packets_total\{/ && index($1, "netns=\"" ns "\"") &&
		index($1, "device=\"" dev "\"") && index($1, "direction=\"encap\"") { n += $2 }
		END { print n + 0 }'
}

# send NS DEV N: N pings into the tunnel through DEV (its own /24, a
# permanent neighbour: nothing answers, every request is encapsulated).
send() {
	local k=${2#vx}
	ip -n "$1" addr add "172.20.$((k % 250)).1/24" dev "$2" 2>/dev/null
	ip -n "$1" neigh replace "172.20.$((k % 250)).2" lladdr 02:00:00:00:00:02 dev "$2" nud permanent
	ip netns exec "$1" ping -q -c "$3" -i 0.2 -W 1 "172.20.$((k % 250)).2" >/dev/null 2>&1
	return 0
}

# wait_encap NS DEV N: until at least N packets are counted through DEV.
wait_encap() {
	local i n
	for ((i = 0; i < 40; i++)); do
		n=$(encap "$1" "$2")
		((n >= $3)) && return 0
		sleep 0.25
	done
	fail "$2 in $1: $n packets counted leaving, not at least $3"
}

test_thousand_devices() {
	require_root
	# run_test runs this in a subshell: its processes, namespaces and
	# files are this subshell's to clean up.
	TMP=$(mktemp -d)
	trap cleanup EXIT
	local ns=$P-k
	node "$ns"
	devices 1 1000 add >"$TMP/add"
	ip -n "$ns" -batch "$TMP/add" || fail "ip -batch could not make 1000 VXLAN devices"
	# What a systemd service starts with: 1024 descriptors, fewer than
	# the links of 1001 interfaces; vxray takes the hard limit.
	ulimit -Sn 1024
	agent k --netns "$ns"
	assert_match "$(cat "$TMP/agent-k.log")" "watching 1001 interfaces" "every device and the underlay watched"
	[[ $(metrics | grep -c "^vxray_vxlan_device_info{netns=\"$ns\"") == 1000 ]] ||
		fail "the inventory lists $(metrics | grep -c "^vxray_vxlan_device_info{netns=\"$ns\"") of 1000 devices"
	send "$ns" vx1 5
	send "$ns" vx1000 5
	wait_encap "$ns" vx1 5
	wait_encap "$ns" vx1000 5
	assert_no_match "$(cat "$TMP/agent-k.log")" "at most|cannot|could not" "nothing refused at 1000 devices"
}

test_thousand_come_and_go() {
	require_root
	# run_test runs this in a subshell: its processes, namespaces and
	# files are this subshell's to clean up.
	TMP=$(mktemp -d)
	trap cleanup EXIT
	local ns=$P-c fds0 fds1 rss0 rss1 rss2 before
	node "$ns"
	devices 1 1 add >"$TMP/one"
	ip -n "$ns" -batch "$TMP/one" || fail "cannot make vx1"
	agent c --netns "$ns" --max-interfaces 1024
	wait_watched "$ns" 2
	# vx1 stays and sends throughout.
	send "$ns" vx1 1
	wait_encap "$ns" vx1 1
	before=$(encap "$ns" vx1)
	# The baseline once the agent has served its counters: its start-up
	# (the kernel's BTF read and freed, the first refreshes) is behind it.
	fds0=$(ls "/proc/$AGENT_PID/fd" | wc -l)
	rss0=$(rss_kb "$AGENT_PID")
	ip netns exec "$ns" ping -q -c 100 -i 0.2 -W 1 "172.20.1.2" >/dev/null 2>&1 &
	PIDS+=($!)
	devices 2 1001 add >"$TMP/add"
	devices 2 1001 del >"$TMP/del"
	ip -n "$ns" -batch "$TMP/add" || fail "ip -batch could not make 1000 more devices"
	wait_watched "$ns" 1002
	ip -n "$ns" -batch "$TMP/del" || fail "ip -batch could not delete them"
	wait_watched "$ns" 2
	wait "${PIDS[-1]}"
	# Descriptors: the thousand TCX links (two each) are all closed.
	fds1=$(ls "/proc/$AGENT_PID/fd" | wc -l)
	((fds1 <= fds0 + 2)) || fail "the agent holds $fds1 descriptors, $fds0 before the thousand came and went"
	# Memory: what a thousand devices leave touched (their watch-table
	# slots, 1.2 KiB each, and the allocator's high water: 3.6 MiB here)
	# and no more. The table (--max-interfaces 1024 here) takes new slots
	# until it is full, then the slots of devices gone: a second thousand
	# reuses the first's and adds nothing.
	rss1=$(rss_kb "$AGENT_PID")
	((rss1 <= rss0 + 6144)) || fail "the agent's RSS grew from $rss0 to $rss1 KiB over the thousand"
	ip -n "$ns" -batch "$TMP/add" || fail "ip -batch could not make them again"
	wait_watched "$ns" 1002
	ip -n "$ns" -batch "$TMP/del" || fail "ip -batch could not delete them again"
	wait_watched "$ns" 2
	# A leak shows per device: the one fixed here was 85 KiB each. The
	# allocator's own drift per thousand after the first measured 0-516
	# KiB (five cycles, and CI), so the bound is 1 KiB per device.
	rss2=$(rss_kb "$AGENT_PID")
	((rss2 <= rss1 + 1024)) || fail "the agent's RSS grew from $rss1 to $rss2 KiB over a second thousand: a leak"
	(($(ls "/proc/$AGENT_PID/fd" | wc -l) <= fds0 + 2)) || fail "descriptors left after the second thousand"
	wait_encap "$ns" vx1 $((before + 100))
	assert_match "$(cat "$TMP/agent-c.log")" "detached from vx1001 in $ns" "the last device let go"
	assert_no_match "$(cat "$TMP/agent-c.log")" "cannot re-read|lost" "no re-read failed, no link event lost"
}

test_many_namespaces() {
	require_root
	# run_test runs this in a subshell: its processes, namespaces and
	# files are this subshell's to clean up.
	TMP=$(mktemp -d)
	trap cleanup EXIT
	local i ns
	for ((i = 1; i <= NS_N; i++)); do
		node "$P-n$i"
		devices 1 1 add >"$TMP/one"
		ip -n "$P-n$i" -batch "$TMP/one" || fail "cannot make vx1 in $P-n$i"
	done
	agent n --all-netns
	for ((i = 1; i <= NS_N; i++)); do
		wait_watched "$P-n$i" 2
	done
	send "$P-n$NS_N" vx1 3
	wait_encap "$P-n$NS_N" vx1 3
	assert_no_match "$(cat "$TMP/agent-n.log")" "at most|not following|more than" "no namespace left out"
	# The engines beside the datapath take every namespace too (they
	# stopped at 64): conntrack's table of each, drops scoped to them.
	assert_eq "$(metrics | grep -c "^vxray_conntrack_entries_max{netns=\"$P-n[0-9]*\"}")" "$NS_N" \
		"conntrack read in each of the $NS_N namespaces"
	assert_no_match "$(metrics)" 'vxray_metrics_series_refused_total\{[^}]*\} [1-9]' \
		"no family refused a namespace's or a device's series"
}

# mesh NS: one VXLAN device vx1 in NS, without remotes yet; the underlay
# ul0 resolves no neighbours (arp off).
mesh() {
	ip netns add "$1" || fail "cannot create namespace $1"
	NSS+=("$1")
	ip -n "$1" link add ul0 type veth peer name ul1 &&
		ip -n "$1" addr add 10.9.0.1/16 dev ul0 &&
		ip -n "$1" link set ul0 arp off up && ip -n "$1" link set ul1 up &&
		ip -n "$1" link add vx1 type vxlan id 1 local 10.9.0.1 dstport 4789 dev ul0 &&
		ip -n "$1" link set vx1 up && ip -n "$1" addr add 172.20.1.1/24 dev vx1 ||
		fail "cannot set up the mesh in $1"
}

# remotes NS FROM TO: remote VTEPs FROM..TO-1 (10.9.1.1 on) appended to
# vx1's all-zeros FDB entry, so each broadcast leaves once toward each.
remotes() {
	local i
	for ((i = $2; i < $3; i++)); do
		echo "fdb append 00:00:00:00:00:00 dev vx1 dst 10.9.$((1 + i / 250)).$((1 + i % 250))"
	done >"$TMP/fdb"
	bridge -n "$1" -batch "$TMP/fdb" || fail "bridge -batch could not add FDB entries $2 to $3"
}

# encap_series NS: "REMOTE PACKETS" per exported tunnel leaving vx1 in NS.
encap_series() {
	metrics | awk -v ns="$1" '
		$1 ~ /^vxray_tunnel_packets_total\{/ && index($1, "netns=\"" ns "\"") &&
		index($1, "direction=\"encap\"") && !index($1, "remote_vtep=\"\"") {
			r = $1; sub(/.*remote_vtep="/, "", r); sub(/".*/, "", r); print r, $2 }'
}

# series_min: "SERIES MIN" of encap_series' lines on stdin: how many, and
# the fewest packets any of them counted.
series_min() {
	awk '{ n++; if (min == "" || $2 < min) min = $2 } END { print n + 0, min + 0 }'
}

# remotes_counted NS: series_min of what the agent exports now.
remotes_counted() { encap_series "$1" | series_min; }

# tun_keys: the keys in the agent's tunnel table (vxp_tun, a map it holds
# a descriptor of), by bpftool; empty when there is none.
tun_keys() {
	local ids id
	ids=$(cat /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | awk '$1 == "map_id:" { print $2 }' | sort -u)
	for id in $ids; do
		if bpftool -j map show id "$id" 2>/dev/null | jq -e '.name == "vxp_tun"' >/dev/null; then
			bpftool -j map dump id "$id" | jq length
			return
		fi
	done
}

# broadcast NS: unanswered ARP for an overlay address: broadcasts, each
# sent to every remote VTEP of the FDB.
broadcast() {
	ip netns exec "$1" ping -q -c 2 -i 0.5 -W 1 172.20.1.9 >/dev/null 2>&1
	return 0
}

# The full mesh of a big overlay: 10000 remote VTEPs behind one device.
# With --max-tunnels sized for them the kernel keeps a counter for every
# one and evicts nothing; the registry exports its 4096 tunnel series,
# each with every broadcast, and counts the rest as refused. The series
# are the first ones seen, and they stay current: 3000 remotes first, then
# 7000 more. The default table, too small for them, is counted, warned of
# and named.
test_remote_vteps() {
	require_root
	command -v jq >/dev/null || skip "jq is not installed"
	# run_test runs this in a subshell: its processes, namespaces and
	# files are this subshell's to clean up.
	TMP=$(mktemp -d)
	trap cleanup EXIT
	local ns=$P-m got i keys stale
	mesh "$ns"
	remotes "$ns" 0 3000
	agent m --netns "$ns" --max-tunnels 40000
	wait_watched "$ns" 2
	broadcast "$ns"
	# A refresh that reads the table while a broadcast's copies take
	# their slots can show a new key at 0; the next one counts it.
	for ((i = 0; i < 40; i++)); do
		got=$(remotes_counted "$ns")
		[[ ${got% *} == 3000 ]] && ((${got#* } >= 1)) && break
		sleep 0.25
	done
	assert_eq "${got% *}" 3000 "the first 3000 remote VTEPs exported"
	((${got#* } >= 1)) || fail "one of the first 3000 remote VTEPs counted no packet ($got)"
	encap_series "$ns" | sort >"$TMP/first"
	remotes "$ns" 3000 10000
	broadcast "$ns"
	for ((i = 0; i < 40; i++)); do
		keys=$(tun_keys)
		((${keys:-0} >= 10000)) && break
		sleep 0.25
	done
	((${keys:-0} >= 10000)) || fail "the kernel holds ${keys:-no} tunnel keys, not one per remote VTEP"
	# Every first series again, each past its first count.
	for ((i = 0; i < 40; i++)); do
		encap_series "$ns" | sort >"$TMP/second"
		stale=$(join "$TMP/first" "$TMP/second" | awk '$3 > $2 { n++ } END { print 3000 - n }')
		got=$(series_min <"$TMP/second")
		((stale == 0)) && ((${got#* } >= 1)) && break
		sleep 0.25
	done
	assert_eq "${got% *}" 4096 "the registry's 4096 tunnel series exported"
	((${got#* } >= 1)) || fail "an exported remote VTEP counted no packet ($got)"
	((stale == 0)) || fail "$stale of the first 3000 series no longer counted (exported, frozen, or gone)"
	assert_match "$(metrics)" $'\nvxray_tunnel_evictions_total 0\n' "nothing evicted from a table sized for them"
	assert_match "$(metrics)" $'\nvxray_metrics_series_refused_total\\{family="vxray_tunnel_packets_total"\\} [1-9]' \
		"the series past the cap counted as refused"
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	agent s --netns "$ns"
	wait_watched "$ns" 2
	broadcast "$ns"
	for ((i = 0; i < 40; i++)); do
		grep -q "raise --max-tunnels" "$TMP/agent-s.log" && break
		sleep 0.25
	done
	assert_match "$(cat "$TMP/agent-s.log")" "the kernel's table of 4096 tunnel counters is too small: [0-9]+ evictions so far, so some tunnels' totals restarted from zero; raise --max-tunnels" \
		"the default table, too small, is warned of, naming the option"
	assert_match "$(metrics)" $'\nvxray_tunnel_evictions_total [1-9][0-9]*\n' "and counted"
	got=$("$VXRAY" encap --max-tunnels 100 2>&1; echo "rc=$?")
	assert_match "$got" "^vxray: --max-tunnels 100 is out of range: give a whole number from 256 to 1048576$" \
		"a size below the floor: one sentence"
	assert_match "$got" "^rc=2$" "a usage error"
}

# Devices named one by one: 100 -i options (the command line took 64).
test_many_i() {
	require_root
	TMP=$(mktemp -d)
	trap cleanup EXIT
	local ns=$P-i out i args=()
	node "$ns"
	devices 1 100 add >"$TMP/add"
	ip -n "$ns" -batch "$TMP/add" || fail "ip -batch could not make 100 VXLAN devices"
	for ((i = 1; i <= 100; i++)); do args+=(-i "$ns:vx$i"); done
	out=$("$VXRAY" encap "${args[@]}" --summary -d 300ms 2>&1)
	assert_match "$out" "^vxray: watching 100 interfaces in 1 namespace" "every one named is watched"
}

# A hard descriptor limit too low for the devices (a container's, a
# unit's LimitNOFILE=): one sentence naming the limit and how to raise it.
test_fd_limit() {
	require_root
	TMP=$(mktemp -d)
	trap cleanup EXIT
	local ns=$P-f out
	node "$ns"
	devices 1 100 add >"$TMP/add"
	ip -n "$ns" -batch "$TMP/add" || fail "ip -batch could not make 100 VXLAN devices"
	out=$(
		ulimit -n 128
		timeout 60 "$VXRAY" encap --netns "$ns" --auto --summary -d 1s 2>&1
		echo "rc=$?"
	)
	assert_match "$out" "^vxray: cannot (enter $ns to attach to|attach to) vx[0-9]+.*: Too many open files \(each watched interface takes two descriptors: raise the hard limit, ulimit -Hn or LimitNOFILE=, or watch fewer\)$" \
		"the limit named, and how to raise it"
	assert_match "$out" "^rc=1$" "a runtime error"
}

run_test "scale: 1000 VXLAN devices in one namespace: all watched and listed, the last counted as the first" \
	test_thousand_devices
run_test "scale: 1000 devices come and go twice under a running agent: attached, let go, descriptors and memory flat, the device that stays counts on" \
	test_thousand_come_and_go
# Past the caps that were: 64 namespaces for the engines beside the
# datapath, 256 for the drop probe's scope.
NS_N=300
run_test "scale: $NS_N namespaces with --all-netns: every one followed, conntrack read in each, the last counted" \
	test_many_namespaces
run_test "scale: 10000 remote VTEPs behind one device: --max-tunnels keeps them all; the default table's evictions counted and warned of" \
	test_remote_vteps
run_test "scale: a descriptor limit too low for 100 devices: one sentence, how to raise it" test_fd_limit
run_test "scale: 100 devices named with -i: every one watched" test_many_i
