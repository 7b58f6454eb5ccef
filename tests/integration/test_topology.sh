#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Topologies that change under a running vxray, built the way the kernel's
# VXLAN selftests and container runtimes build them (issue 19):
# - a VXLAN device without `dev` has its local address removed and added
#   back (vxlan_bridge_1d's reapply; IPv4 and IPv6 underlays), starts
#   before its address exists, and
#   has the route to its remote moved to another device: vxray follows
#   addresses and routes, re-resolves the underlay, keeps it while it does
#   not resolve, and underlay ENCAP events go on;
# - a named namespace deleted and created again: the summary names it,
#   shows the old incarnation once as gone, and never adds its counts to
#   the new one's (nor do the metrics);
# - namespaces `ip netns` does not name (`unshare -n`): --netns pid:PID,
#   --netns /proc/PID/ns/net, -i pid:PID:IFACE, policy reading the rules
#   there, and --all-netns following one created after vxray started and
#   letting it go when it ends;
# - bad --netns values: one sentence each, exit 2.
# test-lock: alone (--all-netns attaches, observe-only, to every namespace
#   of the host holding a VXLAN device: other suites' labs must not be there)
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
C=$P-c
TMP=$(mktemp -d)
cleanup() {
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# wait_grep FILE REGEX [N]: until FILE has N lines matching REGEX (default
# 1), at most 60 s.
wait_grep() {
	local i want=${3:-1}
	for ((i = 0; i < 300; i++)); do
		(($(grep -cE -- "$2" "$1" 2>/dev/null) >= want)) && return 0
		sleep 0.2
	done
	return 1
}

# after_mark FILE MARK REGEX: how many lines matching REGEX follow the last
# line matching MARK in FILE.
after_mark() {
	M=$2 R=$3 awk '$0 ~ ENVIRON["M"] { n = 0 } $0 ~ ENVIRON["R"] { n++ } END { print n + 0 }' "$1"
}

# wait_after FILE MARK REGEX N: until N such lines follow the mark, 60 s.
wait_after() {
	local i
	for ((i = 0; i < 300; i++)); do
		(($(after_mark "$1" "$2" "$3") >= $4)) && return 0
		sleep 0.2
	done
	return 1
}

# Echo requests vxray printed leaving NS's DEV (encap -j).
req_re() { echo '"type":"encap",.*"netns":"'"$1"'","device":"'"$2"'","hook":"tc/[a-z]*-out",.*"icmp_type":8,'; }

# Two namespaces as the kernel's vxlan_bridge_1d builds its VTEPs: the
# VXLAN device has `local` and `remote` but no `dev`, so its underlay is
# whatever device the route to the remote uses. No IPv6: nothing on the
# overlay but the test's own packets and ARP.
mk_pair() {
	ip netns add "$A" && ip netns add "$B" || return 1
	for ns in "$A" "$B"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip -n "$A" link add und0 type veth peer name und0 netns "$B" &&
		ip -n "$A" addr add 10.0.0.1/24 dev und0 && ip -n "$B" addr add 10.0.0.2/24 dev und0 &&
		ip -n "$A" link set und0 up && ip -n "$B" link set und0 up &&
		ip -n "$A" link add vxlan100 type vxlan id 100 dstport 4789 local 10.0.0.1 remote 10.0.0.2 &&
		ip -n "$B" link add vxlan100 type vxlan id 100 dstport 4789 local 10.0.0.2 remote 10.0.0.1 &&
		ip -n "$A" addr add 172.16.0.1/24 dev vxlan100 && ip -n "$B" addr add 172.16.0.2/24 dev vxlan100 &&
		ip -n "$A" link set vxlan100 up && ip -n "$B" link set vxlan100 up
}

# The same over an IPv6 underlay (fd00::1 <-> fd00::2, no DAD wait).
mk_pair6() {
	ip netns add "$A" && ip netns add "$B" || return 1
	ip -n "$A" link add und0 type veth peer name und0 netns "$B" &&
		ip -n "$A" addr add fd00::1/64 dev und0 nodad && ip -n "$B" addr add fd00::2/64 dev und0 nodad &&
		ip -n "$A" link set und0 up && ip -n "$B" link set und0 up &&
		ip -n "$A" link add vxlan100 type vxlan id 100 dstport 4789 local fd00::1 remote fd00::2 &&
		ip -n "$B" link add vxlan100 type vxlan id 100 dstport 4789 local fd00::2 remote fd00::1 &&
		ip -n "$A" addr add 172.16.0.1/24 dev vxlan100 && ip -n "$B" addr add 172.16.0.2/24 dev vxlan100 &&
		ip -n "$A" link set vxlan100 up && ip -n "$B" link set vxlan100 up
}

fresh_pair() {
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	"${1:-mk_pair}" || fail "building $A and $B"
}

ping_ab() { ip netns exec "$A" ping -c "$1" -i 0.2 -W 1 -q 172.16.0.2 >/dev/null || fail "$2: the overlay does not ping"; }

# encap_on FILE ARGS...: vxray encap -j in the background, started.
encap_on() {
	local f=$1
	shift
	"$VXRAY" encap -j "$@" -d 120s >"$f" 2>&1 &
	bg $!
	wait_grep "$f" 'watching [0-9]+ interface' || fail "encap did not start: $(cat "$f")"
}

test_addr_readd() {
	require_root
	trap kill_bgs EXIT
	fresh_pair
	local f=$TMP/readd.out
	encap_on "$f" --auto --netns "$A"
	ping_ab 2 "before"
	wait_grep "$f" "$(req_re "$A" und0)" 2 || fail "no requests on und0 before the change: $(tail -5 "$f")"
	# vxlan_bridge_1d's reapply: the address goes, a link event follows
	# (the one that made vxray detach und0 for good), the address comes
	# back, and nothing but an address and a route changes.
	ip -n "$A" addr del 10.0.0.1/24 dev und0 || fail "removing the local address"
	ip -n "$A" link set vxlan100 down && ip -n "$A" link set vxlan100 up || fail "vxlan100 down/up"
	wait_grep "$f" "vxlan100 in $A: underlay und0 no longer resolves after .*\(no route to 10\.0\.0\.2 and no device holds 10\.0\.0\.1\); staying attached to und0" ||
		fail "vxray did not say the underlay stopped resolving: $(grep '"type":"log"' "$f")"
	ip -n "$A" addr add 10.0.0.1/24 dev und0 || fail "adding the local address back"
	wait_grep "$f" "vxlan100 in $A: underlay und0 resolves again after an address or route change \(the route to 10\.0\.0\.2\)" ||
		fail "vxray did not follow the address coming back: $(grep '"type":"log"' "$f")"
	ping_ab 3 "after the address came back"
	wait_after "$f" 'underlay und0 resolves again' "$(req_re "$A" und0)" 3 ||
		fail "no underlay ENCAP on und0 after the change: $(tail -8 "$f")"
	assert_eq "$(after_mark "$f" 'underlay und0 resolves again' "$(req_re "$A" vxlan100)")" 3 \
		"requests on vxlan100 after the change"
	assert_no_match "$(cat "$f")" 'detached from und0' "und0 stays attached throughout"
}

test_addr_readd6() {
	require_root
	trap kill_bgs EXIT
	fresh_pair mk_pair6
	local f=$TMP/readd6.out
	encap_on "$f" --auto --netns "$A"
	ping_ab 2 "before"
	wait_grep "$f" "$(req_re "$A" und0)" 2 || fail "no requests on und0 before the change: $(tail -5 "$f")"
	ip -n "$A" addr del fd00::1/64 dev und0 || fail "removing the local address"
	wait_grep "$f" "vxlan100 in $A: underlay und0 no longer resolves after .*\(no route to fd00::2 and no device holds fd00::1\); staying attached to und0" ||
		fail "vxray did not say the underlay stopped resolving: $(grep '"type":"log"' "$f")"
	ip -n "$A" addr add fd00::1/64 dev und0 nodad || fail "adding the local address back"
	wait_grep "$f" "vxlan100 in $A: underlay und0 resolves again after an address or route change \(the route to fd00::2\)" ||
		fail "vxray did not follow the address coming back: $(grep '"type":"log"' "$f")"
	ping_ab 3 "after the address came back"
	wait_after "$f" 'underlay und0 resolves again' "$(req_re "$A" und0)" 3 ||
		fail "no underlay ENCAP on und0 after the change: $(tail -8 "$f")"
	assert_match "$(grep "$(req_re "$A" und0)" "$f" | tail -1)" '"outer_src":"fd00::1","outer_dst":"fd00::2"' "the outer header is IPv6"
	assert_no_match "$(cat "$f")" 'detached from und0' "und0 stays attached throughout"
}

test_addr_late() {
	require_root
	trap kill_bgs EXIT
	fresh_pair
	local f=$TMP/late.out
	# No local address and so no route: nothing resolves the underlay.
	ip -n "$A" addr del 10.0.0.1/24 dev und0 || fail "removing the local address"
	encap_on "$f" --auto --netns "$A"
	assert_match "$(cat "$f")" 'watching 1 interface in 1 namespace' "only vxlan100 is watched at first"
	ip -n "$A" addr add 10.0.0.1/24 dev und0 || fail "adding the local address"
	wait_grep "$f" "vxlan100 in $A: underlay none -> und0 after an address or route change \(the route to 10\.0\.0\.2\)" ||
		fail "vxray did not attach the underlay when the address appeared: $(grep '"type":"log"' "$f")"
	ping_ab 3 "after the address appeared"
	wait_grep "$f" "$(req_re "$A" und0)" 3 || fail "no underlay ENCAP on und0: $(tail -8 "$f")"
}

test_route_moves() {
	require_root
	trap kill_bgs EXIT
	fresh_pair
	local f=$TMP/route.out
	# A second path to B.
	ip -n "$A" link add und1 type veth peer name und1 netns "$B" &&
		ip -n "$A" addr add 10.1.0.1/24 dev und1 && ip -n "$B" addr add 10.1.0.2/24 dev und1 &&
		ip -n "$A" link set und1 up && ip -n "$B" link set und1 up || fail "building und1"
	encap_on "$f" --auto --netns "$A"
	ip -n "$A" route add 10.0.0.2/32 via 10.1.0.2 dev und1 || fail "routing the remote over und1"
	wait_grep "$f" "vxlan100 in $A: underlay und0 -> und1 after an address or route change \(the route to 10\.0\.0\.2\)" ||
		fail "vxray did not follow the route to und1: $(grep '"type":"log"' "$f")"
	ping_ab 3 "over und1"
	wait_after "$f" 'underlay und0 -> und1' "$(req_re "$A" und1)" 3 || fail "no ENCAP on und1: $(tail -8 "$f")"
	assert_eq "$(after_mark "$f" 'underlay und0 -> und1' "$(req_re "$A" und0)")" 0 "requests on und0 while the route uses und1"
	ip -n "$A" route del 10.0.0.2/32 || fail "removing the route over und1"
	wait_grep "$f" "vxlan100 in $A: underlay und1 -> und0 after an address or route change" ||
		fail "vxray did not follow the route back to und0: $(grep '"type":"log"' "$f")"
	ping_ab 3 "over und0 again"
	wait_after "$f" 'underlay und1 -> und0' "$(req_re "$A" und0)" 3 || fail "no ENCAP on und0 again: $(tail -8 "$f")"
}

# mk_c: namespace C, a lone VXLAN endpoint (tests/lib.sh).
mk_c() { mk_vxlan_ns "$C"; }

ping_c() { ip netns exec "$C" ping -c "$1" -i 0.2 -W 1 -q 172.17.0.2 >/dev/null; }

# Summary rows of C: "gone? encap_packets" per row, in the last summary.
c_rows() {
	grep '"type":"encap_summary"' "$1" | tail -1 | grep -o '{"netns":"'"$C"'"[^}]*}' |
		sed 's/.*"netns":"[^"]*",\("gone":true,\)\{0,1\}.*"encap_packets":\([0-9]*\).*/\1\2/'
}

test_incarnations() {
	require_root
	trap kill_bgs EXIT
	ip netns del "$C" 2>/dev/null
	mk_c || fail "creating $C"
	local f=$TMP/inc.out port ino0 ino1 gone m
	"$VXRAY" encap --summary -j --auto --netns "$C" --interval 300ms -d 120s \
		--metrics 127.0.0.1:0 >"$f" 2>&1 &
	bg $!
	wait_grep "$f" 'watching 2 interfaces' || fail "encap did not start: $(cat "$f")"
	port=$(sed -n 's|.*serving metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$f" | head -1)
	[[ -n $port ]] || fail "no metrics port: $(cat "$f")"
	ino0=$(stat -c %i /run/netns/"$C")
	ping_c 3
	wait_grep "$f" '"netns":"'"$C"'","vni":200,"remote_vtep":"10\.9\.0\.2","encap_packets":3,' ||
		fail "the summary does not name $C with 3 packets: $(tail -3 "$f")"
	ip netns del "$C" || fail "deleting $C"
	wait_grep "$f" "network namespace $C was deleted" || fail "vxray did not see $C go: $(tail -3 "$f")"
	wait_grep "$f" '"netns":"'"$C"'","gone":true,"vni":200,"remote_vtep":"10\.9\.0\.2","encap_packets":3,' ||
		fail "the summary after the deletion does not show $C's 3 packets as gone: $(tail -3 "$f")"
	# Let the dead namespace be freed, so that the new one may well get
	# its inode (the kernel reuses the lowest free proc inode number).
	sleep 1
	mk_c || fail "creating $C again"
	ino1=$(stat -c %i /run/netns/"$C")
	echo "# $C's inode: $ino0, then $ino1$([[ $ino0 == "$ino1" ]] && echo ' (reused)')"
	wait_grep "$f" "attached to vxlan200 \(vxlan\) in $C, which appeared" || fail "vxray did not follow the new $C: $(tail -3 "$f")"
	ping_c 2
	wait_grep "$f" '"netns":"'"$C"'","vni":200,"remote_vtep":"10\.9\.0\.2","encap_packets":2,' ||
		fail "the new $C's row does not count its own 2 packets: $(grep -v encap_packets.:3 "$f" | tail -3)"
	sleep 1
	assert_eq "$(c_rows "$f")" 2 "the last summary: one row for $C, its new incarnation's 2 packets"
	gone=$(grep -c '"netns":"'"$C"'","gone":true' "$f")
	assert_eq "$gone" 1 "summaries that showed the old $C as gone"
	assert_no_match "$(cat "$f")" '"encap_packets":5,' "never 3 + 2 packets in one row"
	assert_no_match "$(grep '"type":"encap_summary"' "$f")" '"netns":"netns:' "every row named by name"
	m=$(curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" | grep '^vxray_tunnel_packets_total{netns="'"$C"'"')
	assert_eq "$(grep -c . <<<"$m")" 1 "one tunnel packet series for $C: $m"
	assert_match "$m" 'direction="encap"} 2$' "the metric counts the new $C's packets only"
}

# An unnamed namespace as a container runtime makes one: a process in a
# namespace of its own, a veth and a VXLAN device built from outside.
# Prints the process id.
mk_unnamed() {
	local pid
	unshare -n sleep 300 >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		[[ $(readlink /proc/$pid/ns/net) != "$(readlink /proc/self/ns/net)" ]] && break
		sleep 0.1
	done
	nsenter -t "$pid" -n sh -c '
		sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip link add ul0 type veth peer name ul0p &&
		ip addr add 10.9.0.1/24 dev ul0 && ip link set ul0 up && ip link set ul0p up &&
		ip link add vxlan300 type vxlan id 300 dstport 4789 local 10.9.0.1 remote 10.9.0.2 dev ul0 &&
		ip addr add 172.18.0.1/24 dev vxlan300 && ip link set vxlan300 up &&
		ip neigh replace 172.18.0.2 lladdr 02:00:00:00:00:02 dev vxlan300 nud permanent &&
		ip neigh replace 10.9.0.2 lladdr 02:00:00:00:00:03 dev ul0 nud permanent' >&2 || return 1
	echo "$pid"
}

ping_u() { nsenter -t "$1" -n ping -c "$2" -i 0.2 -W 1 -q 172.18.0.2 >/dev/null; }

test_unnamed() {
	require_root
	trap kill_bgs EXIT
	local pid ino f1=$TMP/pid.out f2=$TMP/path.out f3=$TMP/iface.out
	pid=$(mk_unnamed) || fail "building the unnamed namespace"
	bg "$pid"
	ino=$(stat -L -c %i /proc/"$pid"/ns/net)
	encap_on "$f1" --auto --netns "pid:$pid"
	encap_on "$f2" --auto --netns "/proc/$pid/ns/net"
	encap_on "$f3" -i "pid:$pid:vxlan300"
	assert_match "$(cat "$f1")" 'watching 2 interfaces in 1 namespace' "pid:PID: vxlan300 and ul0"
	assert_match "$(cat "$f2")" 'watching 2 interfaces in 1 namespace' "/proc/PID/ns/net: vxlan300 and ul0"
	ping_u "$pid" 3
	wait_grep "$f1" "$(req_re "netns:$ino" vxlan300)" 3 || fail "--netns pid:$pid saw no requests on vxlan300: $(tail -5 "$f1")"
	wait_grep "$f1" "$(req_re "netns:$ino" ul0)" 3 || fail "--netns pid:$pid saw no requests on ul0: $(tail -5 "$f1")"
	wait_grep "$f2" "$(req_re "netns:$ino" vxlan300)" 3 || fail "--netns /proc/$pid/ns/net saw no requests: $(tail -5 "$f2")"
	wait_grep "$f2" "$(req_re "netns:$ino" ul0)" 3 || fail "--netns /proc/$pid/ns/net saw no requests on ul0: $(tail -5 "$f2")"
	wait_grep "$f3" "$(req_re "netns:$ino" vxlan300)" 3 || fail "-i pid:$pid:vxlan300 saw no requests: $(tail -5 "$f3")"
	# The namespace ends with its process: vxray lets it go (its own
	# sockets would keep it alive), detaching.
	kill "$pid"
	wait_grep "$f1" "network namespace netns:$ino \(pid:$pid\) is gone: no process or mount holds it any more" ||
		fail "vxray did not let the namespace go when its process ended: $(grep -v '"type"' "$f1")"
	assert_match "$(cat "$f1")" "detached from vxlan300 in netns:$ino, which vanished with its namespace" "detached from vxlan300"
}

test_policy_unnamed() {
	require_root
	trap kill_bgs EXIT
	local pid ino f=$TMP/policy.out
	pid=$(mk_unnamed) || fail "building the unnamed namespace"
	bg "$pid"
	ino=$(stat -L -c %i /proc/"$pid"/ns/net)
	nsenter -t "$pid" -n sh -c 'nft add table inet vxt &&
		nft add chain inet vxt out "{ type filter hook output priority 0; }" &&
		nft add rule inet vxt out ip daddr 10.9.0.2 icmp type echo-request counter drop' ||
		fail "adding the nftables rule"
	"$VXRAY" policy --netns "pid:$pid" -d 60s >"$f" 2>&1 &
	bg $!
	wait_grep "$f" 'tracing netfilter drops with' || fail "policy did not start: $(cat "$f")"
	nsenter -t "$pid" -n ping -c 2 -i 0.2 -W 1 -q 10.9.0.2 >/dev/null
	wait_grep "$f" "^ +2  netns=netns:$ino nftables inet table=vxt chain=out rule=1 handle=[0-9]+ DROP: ip daddr 10\.9\.0\.2 icmp type echo-request counter drop" ||
		fail "policy did not name the rule in the namespace given by pid: $(tail -8 "$f")"
}

test_all_netns() {
	require_root
	trap kill_bgs EXIT
	local pid ino f=$TMP/all.out
	ip netns del "$C" 2>/dev/null
	encap_on "$f" --all-netns
	# Created after vxray started: one unnamed, one named.
	pid=$(mk_unnamed) || fail "building the unnamed namespace"
	bg "$pid"
	ino=$(stat -L -c %i /proc/"$pid"/ns/net)
	wait_grep "$f" "following network namespace netns:$ino \(pid:$pid\), which holds a VXLAN device" ||
		fail "--all-netns did not pick up the new unnamed namespace: $(grep '"type":"log"' "$f" | tail -5)"
	wait_grep "$f" "attached to ul0 \(underlay\) in netns:$ino, which appeared" || fail "ul0 not attached: $(grep '"type":"log"' "$f" | tail -5)"
	mk_c || fail "creating $C"
	wait_grep "$f" "following network namespace $C, which holds a VXLAN device" ||
		fail "--all-netns did not pick up the new named namespace: $(grep '"type":"log"' "$f" | tail -5)"
	wait_grep "$f" "attached to ul0 \(underlay\) in $C, which appeared" || fail "ul0 in $C not attached: $(grep '"type":"log"' "$f" | tail -5)"
	ping_u "$pid" 3
	ping_c 3
	wait_grep "$f" "$(req_re "netns:$ino" vxlan300)" 3 || fail "no requests on the unnamed namespace's vxlan300: $(tail -5 "$f")"
	wait_grep "$f" "$(req_re "netns:$ino" ul0)" 3 || fail "no requests on the unnamed namespace's ul0: $(tail -5 "$f")"
	wait_grep "$f" "$(req_re "$C" vxlan200)" 3 || fail "no requests on $C's vxlan200: $(tail -5 "$f")"
	kill "$pid"
	wait_grep "$f" "network namespace netns:$ino \(pid:$pid\) is gone" || fail "the ended namespace was not let go: $(grep "\"type\":\"log\"" "$f" | tail -6)"
	ip netns del "$C"
	# Deleted (the inotify watch on /run/netns) or gone (the scan, which
	# alone follows names when /run/netns did not exist at the start, as
	# in a fresh guest): let go either way.
	wait_grep "$f" "network namespace $C (was deleted|is gone)" || fail "the deleted $C was not let go: $(grep "\"type\":\"log\"" "$f" | tail -6)"
}

# Namespaces holding a VXLAN device, added and deleted as fast as `ip`
# goes, until $TMP/stop exists: some vanish between the scan that lists
# them and the attach.
churn() {
	local i=0 n
	while [[ ! -e $TMP/stop ]]; do
		n=$P-ch$((i++ % 3))
		ip netns add "$n" 2>/dev/null
		ip -n "$n" link add vx0 type vxlan id 42 dstport 4789 local 127.0.0.1 2>/dev/null
		ip netns del "$n"
	done
}

test_all_netns_churn() {
	require_root
	trap 'touch $TMP/stop; wait; for i in 0 1 2; do ip netns del $P-ch$i 2>/dev/null; done' EXIT
	local k out rc gone=0
	churn &
	for k in 1 2 3 4 5 6 7 8; do
		# The agent's datapath, drops and conntrack each meet a gone
		# namespace; it is said once.
		if ((k % 2)); then
			out=$("$VXRAY" encap --auto --all-netns --summary -d 300ms 2>&1)
		else
			out=$("$VXRAY" agent --all-netns -d 300ms --metrics "127.0.0.1:$(free_port)" \
				--state-dir "$TMP/agent$k" 2>&1)
		fi
		rc=$?
		assert_eq "$rc" 0 "exit code of run $k with namespaces coming and going: $out"
		grep -qE "namespace $P-ch[0-2] is gone; left out" <<<"$out" && gone=$((gone + 1))
		assert_eq "$(grep -oE "namespace $P-ch[0-2] is gone" <<<"$out" | sort | uniq -d)" "" "each gone namespace said once in run $k: $out"
	done
	echo "  $gone of 8 runs met a namespace deleted while they started"
}

# bad VALUE SENTENCE [COMMAND [RC]]: vxray exits RC (2, a usage error, by
# default; 4 for a namespace that is not there) saying SENTENCE.
bad() {
	local out rc
	out=$("$VXRAY" "${3:-encap}" --auto $1 -d 1s 2>&1)
	rc=$?
	assert_eq "$rc" "${4:-2}" "exit code for $1"
	assert_match "$out" "$2" "the sentence for $1"
	assert_eq "$(grep -c . <<<"$out")" 1 "one line for $1: $out"
}

test_bad_netns() {
	require_root
	local pid=$BASHPID
	bad "--netns pid:4194303" '^vxray: no such process 4194303: pid:PID names the network namespace of a running process$' encap 4
	bad "--netns pid:abc" "pid: takes the id of a running process, such as pid:1234"
	bad "--netns /etc/hosts" "^vxray: '/etc/hosts' is not a network namespace file: give a name from .ip netns list., a path such as /proc/PID/ns/net, or pid:PID$"
	bad "--netns /proc/$pid/ns/mnt" "'/proc/$pid/ns/mnt' is a mount namespace, not a network namespace"
	bad "--netns /nonexistent/ns" "no such file '/nonexistent/ns'" encap 4
	bad "--netns a/b" "neither a name \(no '/'\) nor an absolute path"
	bad "--netns $P-none" "network namespace '$P-none' does not exist" encap 4
	bad "--all-netns --netns $P-x" "--all-netns chooses every namespace itself"
	bad "--all-netns" "option --all-netns does not apply to .vxray drops." drops
}

run_test "topology: local address removed and re-added: underlay kept, ENCAP on it after" test_addr_readd
run_test "topology: IPv6 underlay: local address removed and re-added, ENCAP on und0 after" test_addr_readd6
run_test "topology: underlay attached when the local address appears after start" test_addr_late
run_test "topology: underlay follows the route to the remote to another device and back" test_route_moves
run_test "topology: summary per namespace incarnation: named, old one gone once, never merged" test_incarnations
run_test "topology: --netns pid:PID, /proc/PID/ns/net and -i pid:PID:IFACE on an unshare -n namespace" test_unnamed
run_test "topology: policy --netns pid:PID reads that namespace's rules" test_policy_unnamed
run_test "topology: --all-netns follows namespaces created later and lets them go" test_all_netns
run_test "topology: --all-netns leaves out a namespace deleted while it starts" test_all_netns_churn
run_test "topology: bad --netns values, one sentence each" test_bad_netns
