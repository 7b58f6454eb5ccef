#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Scale on one node, correctness only (the timings are `make bench`'s): a
# thousand VXLAN devices in one namespace, all watched, the last counted as
# the first; a thousand created and deleted under a running agent, each
# attached and let go, its descriptors back where they were and the device
# that stays counting throughout; a hundred namespaces followed with
# --all-netns. Devices are made in one `ip -batch` each way.
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

# wait_watched NS N: until the agent watches N interfaces in NS (60 s).
wait_watched() {
	local i w
	for ((i = 0; i < 240; i++)); do
		w=$(watched "$1")
		[[ $w == "$2" ]] && return 0
		sleep 0.25
	done
	fail "the agent watches ${w:-no} interfaces in $1, not $2"
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
	local ns=$P-c fds0 fds1 before
	node "$ns"
	devices 1 1 add >"$TMP/one"
	ip -n "$ns" -batch "$TMP/one" || fail "cannot make vx1"
	agent c --netns "$ns"
	wait_watched "$ns" 2
	fds0=$(ls "/proc/$AGENT_PID/fd" | wc -l)
	# vx1 stays and sends throughout.
	send "$ns" vx1 1
	wait_encap "$ns" vx1 1
	before=$(encap "$ns" vx1)
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
	wait_encap "$ns" vx1 $((before + 100))
	assert_match "$(cat "$TMP/agent-c.log")" "detached from vx1001 in $ns" "the last device let go"
	assert_no_match "$(cat "$TMP/agent-c.log")" "cannot re-read|lost" "no re-read failed, no link event lost"
}

test_hundred_namespaces() {
	require_root
	# run_test runs this in a subshell: its processes, namespaces and
	# files are this subshell's to clean up.
	TMP=$(mktemp -d)
	trap cleanup EXIT
	local i ns
	for ((i = 1; i <= 100; i++)); do
		node "$P-n$i"
		devices 1 1 add >"$TMP/one"
		ip -n "$P-n$i" -batch "$TMP/one" || fail "cannot make vx1 in $P-n$i"
	done
	agent n --all-netns
	for ((i = 1; i <= 100; i++)); do
		wait_watched "$P-n$i" 2
	done
	send "$P-n100" vx1 3
	wait_encap "$P-n100" vx1 3
	assert_no_match "$(cat "$TMP/agent-n.log")" "at most|not following" "no namespace left out"
}

run_test "scale: 1000 VXLAN devices in one namespace: all watched and listed, the last counted as the first" \
	test_thousand_devices
run_test "scale: 1000 devices come and go under a running agent: attached, let go, descriptors back, the device that stays counts on" \
	test_thousand_come_and_go
run_test "scale: 100 namespaces with --all-netns: every one followed, the last counted" \
	test_hundred_namespaces
