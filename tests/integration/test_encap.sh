#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray encap on the lab: both directions of a healthy tunnel, scenario 1's
# one-sided tunnel, the in-kernel filters, and nothing left attached after
# an exit or a SIGKILL -- while someone else's tc filter keeps working.
# The same over the netlink tc path (VXRAY_TC_ATTACH=netlink, what kernels
# before 6.6 get), XDP with --xdp, and --auto following a VXLAN device
# that is deleted and recreated while vxray runs.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
fresh_lab() {
	lab teardown >/dev/null
	lab setup >/dev/null || fail "lab setup"
}
trap 'lab teardown >/dev/null 2>&1' EXIT

# wait_started FILE: until vxray's startup line is in FILE (attached), at
# most 60 s: under the 6.1 guest's software emulation loading takes long.
wait_started() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q 'watching [0-9]* interface' "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# encap_while_pinging N ARGS...: vxray encap -j runs while A pings B N times.
# The pings begin once vxray says it is attached; SIGINT ends it a second
# after the last reply (the final summary is printed on the way out), and
# --duration is only a backstop.
encap_while_pinging() {
	local n=$1
	shift
	PINGS="-c $n -i 0.2" encap_while_pings "$@" --interval 2s
}

# encap_while_pings ARGS...: the same with ping's own options in PINGS
# (count, interval); later ARGS override the defaults.
encap_while_pings() {
	local out pid
	out=$(mktemp)
	"$VXRAY" encap -j -d 60s --interval 2s "$@" >"$out" 2>&1 &
	pid=$!
	wait_started "$out"
	echo "progs=$(prog_ids "$pid")"
	# shellcheck disable=SC2086
	ip netns exec "$A" ping $PINGS -W 1 -q 172.16.0.2 >/dev/null 2>&1
	sleep 1
	kill -INT "$pid"
	wait "$pid"
	echo "rc=$?"
	cat "$out"
	rm -f "$out"
}

# count OUTPUT TYPE NETNS DEVICE ICMP_TYPE
count() {
	grep -c "\"type\":\"$2\",.*\"netns\":\"$3\",\"device\":\"$4\",.*\"vni\":100,.*\"proto\":\"icmp\",\"icmp_type\":$5," <<<"$1"
}

# progs_left OUTPUT: programs of the run in OUTPUT (progs=...) still loaded.
progs_left() {
	local ids
	ids=$(sed -n 's/^progs=//p' <<<"$1")
	[[ -n ${ids// } ]] || { echo "no programs recorded"; return; }
	# shellcheck disable=SC2086
	alive_after prog $ids
}

test_healthy_both_ways() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out
	out=$(encap_while_pinging 5 --auto --netns "$A" --netns "$B")
	assert_match "$out" '^rc=0' "vxray encap exits 0"
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 5 "echo requests encapsulated on $A's vxlan100"
	assert_eq "$(count "$out" encap "$A" und0 8)" 5 "echo requests leaving $A's underlay"
	assert_eq "$(count "$out" decap "$B" und0 8)" 5 "echo requests arriving on $B's underlay"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 5 "echo requests decapsulated on $B's vxlan100"
	assert_eq "$(count "$out" encap "$B" vxlan100 0)" 5 "echo replies encapsulated on $B"
	assert_eq "$(count "$out" decap "$A" vxlan100 0)" 5 "echo replies decapsulated on $A"
	assert_match "$out" '"device":"und0","hook":"tc/underlay-out","layer":"underlay","vni":100,"outer_src":"10\.0\.0\.1","outer_dst":"10\.0\.0\.2","outer_sport":[0-9]+,"outer_dport":4789,"inner_src":"172\.16\.0\.1","inner_dst":"172\.16\.0\.2"' "outer and inner headers"
	assert_match "$out" '"type":"encap_summary",.*"tunnels":\[.*\{"netns":"'"$A"'","vni":100,"remote_vtep":"10\.0\.0\.2","encap_packets":[0-9]+' "summary per (netns, VNI, remote VTEP)"
	assert_match "$out" '"total_lost":0' "no event lost"
	assert_eq "$(progs_left "$out")" 0 "programs left after exit"
}

test_ipv6_underlay() {
	require_root
	lab teardown >/dev/null
	lab --ipv6 setup >/dev/null || fail "IPv6 lab setup"
	local out
	out=$(encap_while_pinging 3 --auto --netns "$A" --netns "$B")
	assert_match "$out" '^rc=0' "vxray encap exits 0 (IPv6 underlay)"
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 3 "requests encapsulated on $A (IPv6 underlay)"
	assert_eq "$(count "$out" encap "$A" und0 8)" 3 "requests leaving $A's IPv6 underlay"
	assert_eq "$(count "$out" decap "$B" und0 8)" 3 "requests arriving on $B's IPv6 underlay"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 3 "requests decapsulated on $B (IPv6 underlay)"
	assert_eq "$(count "$out" encap "$B" vxlan100 0)" 3 "replies encapsulated on $B (IPv6 underlay)"
	assert_eq "$(count "$out" encap "$B" und0 0)" 3 "replies leaving $B's IPv6 underlay"
	assert_eq "$(count "$out" decap "$A" und0 0)" 3 "replies arriving on $A's IPv6 underlay"
	assert_eq "$(count "$out" decap "$A" vxlan100 0)" 3 "replies decapsulated on $A (IPv6 underlay)"
	assert_match "$out" '"netns":"'"$A"'","device":"und0","hook":"tc/underlay-out","layer":"underlay","vni":100,"outer_src":"fd00::1","outer_dst":"fd00::2","outer_sport":[0-9]+,"outer_dport":4789,"inner_src":"172\.16\.0\.1"' "IPv6 outer headers, A to B"
	assert_match "$out" '"netns":"'"$B"'","device":"und0","hook":"tc/underlay-out","layer":"underlay","vni":100,"outer_src":"fd00::2","outer_dst":"fd00::1",.*"inner_src":"172\.16\.0\.2"' "IPv6 outer headers, B to A"
	assert_match "$out" '"remote_vtep":"fd00::2","encap_packets":[1-9]' "summary names the IPv6 remote VTEP"
	lab teardown >/dev/null
}

# summary_field OUT NETNS FIELD: FIELD of NETNS's tunnel row in each
# summary, one line per summary (nothing for a summary without the row).
summary_field() {
	grep '"type":"encap_summary"' <<<"$1" | grep -o '{"netns":"'"$2"'","vni":100,[^}]*' |
		grep -o "\"$3\":[0-9]*" | cut -d: -f2
}

test_one_sided_tunnel() {
	require_root
	lab teardown >/dev/null
	lab setup >/dev/null && lab scenario 1 >/dev/null || fail "lab scenario 1"
	local out n rises=0 prev=-1 v
	out=$(PINGS="-c 10 -i 0.4" encap_while_pings --auto --netns "$A" --netns "$B" --interval 1s)
	assert_match "$out" '^rc=0' "vxray encap exits 0"
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 10 "requests still encapsulated on $A"
	assert_eq "$(count "$out" decap "$B" und0 8)" 10 "requests reach $B's underlay"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 0 "requests decapsulated on $B"
	# ENCAP on A keeps rising from summary to summary while B decapsulates
	# nothing (B has a row only if it sent something itself).
	for v in $(summary_field "$out" "$A" encap_packets); do
		((v > prev && prev >= 0)) && rises=$((rises + 1))
		prev=$v
	done
	assert_ge "$rises" 2 "summaries in which A's ENCAP count rose"
	n=$(summary_field "$out" "$B" decap_packets | sort -n | tail -1)
	assert_eq "${n:-0}" 0 "packets decapsulated in $B's summary rows"
	lab heal >/dev/null
}

# Found item 9: with UDP 4789 dropped by B's firewall the outer packets
# still reach B's underlay, where the text line says they were received
# (RX), not decapsulated: DECAP is for the VXLAN device's ingress, which
# sees none of them. (The JSON's layer and type are unchanged.)
test_one_sided_text_says_rx() {
	require_root
	lab teardown >/dev/null
	lab setup >/dev/null || fail "lab setup"
	local out f pid mac
	# No reply comes back to refresh A's neighbour entry for B: pinned, so
	# every request is an ICMP packet rather than ARP.
	mac=$(ip -n "$B" -br link show vxlan100 | awk '{print $3}')
	ip -n "$A" neigh replace 172.16.0.2 lladdr "$mac" dev vxlan100 nud permanent || fail "pin A's neighbour"
	lab scenario 1 >/dev/null || fail "lab scenario 1"
	f=$(mktemp)
	"$VXRAY" encap --auto --netns "$A" --netns "$B" -d 60s --interval 10s >"$f" 2>&1 &
	pid=$!
	wait_started "$f"
	ip netns exec "$A" ping -c 3 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null 2>&1
	sleep 1
	kill -INT "$pid"
	wait "$pid"
	out=$(cat "$f")
	rm -f "$f"
	ip -n "$A" neigh del 172.16.0.2 dev vxlan100 2>/dev/null
	lab heal >/dev/null
	assert_eq "$(grep -Ec " $A +vxlan100 +out +ENCAP vni=100 .*inner 172\.16\.0\.1→172\.16\.0\.2 icmp type 8" <<<"$out")" 3 \
		"each request encapsulated on $A"
	assert_eq "$(grep -Ec " $B +und0 +in +RX vni=100 outer 10\.0\.0\.1:[0-9]+→10\.0\.0\.2:4789 inner 172\.16\.0\.1→172\.16\.0\.2 icmp type 8" <<<"$out")" 3 \
		"each request received on $B's underlay, said RX"
	assert_no_match "$out" " $B +und0 +in +DECAP" "no underlay line of $B says DECAP"
	assert_no_match "$out" " $B +vxlan100 +in +DECAP" "nothing decapsulated on $B"
}

# encap_while_mixed ARGS...: vxray encap -j (ARGS) while A sends B three
# pings, one TCP connection to port 9100 and one UDP datagram to 9200.
encap_while_mixed() {
	local out pid lpid
	out=$(mktemp)
	ip netns exec "$B" timeout 30 socat -u TCP-LISTEN:9100,reuseaddr /dev/null &
	lpid=$!
	"$VXRAY" encap -j "$@" -d 60s --interval 2s >"$out" 2>&1 &
	pid=$!
	wait_started "$out"
	ip netns exec "$A" ping -c 3 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null 2>&1
	ip netns exec "$A" socat -u - TCP:172.16.0.2:9100,connect-timeout=2 <<<"hello" 2>/dev/null
	ip netns exec "$A" bash -c 'echo hello >/dev/udp/172.16.0.2/9200' 2>/dev/null
	sleep 1
	kill -INT "$pid"
	wait "$pid"
	echo "rc=$?"
	kill "$lpid" 2>/dev/null
	cat "$out"
	rm -f "$out"
}

# events OUT: the event lines (encap/decap) of a run.
events() { grep -E '"type":"(en|de)cap"' <<<"$1"; }

# Each filter keeps what it names and only that: asserted both ways on a
# run that carries ICMP, TCP 9100 and UDP 9200.
test_filters() {
	require_root
	fresh_lab
	local out ev
	out=$(encap_while_mixed --auto --netns "$A")
	assert_match "$out" '^rc=0' "unfiltered run exits 0"
	ev=$(events "$out")
	assert_match "$ev" '"proto":"icmp"' "unfiltered: ICMP seen"
	assert_match "$ev" '"proto":"tcp","inner_sport":[0-9]+,"inner_dport":9100' "unfiltered: TCP 9100 seen"
	assert_match "$ev" '"proto":"udp","inner_sport":[0-9]+,"inner_dport":9200' "unfiltered: UDP 9200 seen"

	out=$(encap_while_mixed --auto --netns "$A" --proto tcp)
	assert_match "$out" '^rc=0' "--proto tcp exits 0"
	ev=$(events "$out")
	assert_match "$ev" '"proto":"tcp"' "--proto tcp keeps TCP"
	assert_no_match "$ev" '"proto":"(icmp|udp|arp|non-ip|icmpv6|other)"' "--proto tcp drops everything else"

	out=$(encap_while_mixed --auto --netns "$A" --port 9200)
	assert_match "$out" '^rc=0' "--port 9200 exits 0"
	ev=$(events "$out")
	assert_match "$ev" '"proto":"udp","inner_sport":[0-9]+,"inner_dport":9200' "--port 9200 keeps UDP 9200"
	assert_no_match "$ev" '"proto":"(icmp|tcp)"' "--port 9200 drops ICMP and TCP 9100"

	out=$(encap_while_mixed --auto --netns "$A" --vni 200)
	assert_match "$out" '^rc=0' "--vni 200 exits 0"
	assert_eq "$(events "$out" | wc -l)" 0 "--vni 200 suppresses VNI 100"
	assert_match "$out" '"type":"encap_summary"' "--vni 200 still prints summaries"
	out=$(encap_while_mixed --auto --netns "$A" --vni 100 --proto icmp)
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 3 "--vni 100 keeps VNI 100"

	out=$(encap_while_mixed --auto --netns "$A" --host 172.16.0.9)
	assert_match "$out" '^rc=0' "--host 172.16.0.9 exits 0"
	assert_eq "$(events "$out" | wc -l)" 0 "--host of another address suppresses all"
	out=$(encap_while_mixed --auto --netns "$A" --host 172.16.0.2 --proto icmp)
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 3 "--host 172.16.0.2 --proto icmp keeps the pings"
	assert_no_match "$(events "$out")" '"proto":"(tcp|udp)"' "--proto icmp beside --host drops TCP and UDP"
	out=$(encap_while_mixed --auto --netns "$A" --host 10.0.0.2 --proto icmp)
	assert_eq "$(count "$out" encap "$A" und0 8)" 3 "--host matches the outer address too"

	# One side only: the VTEP is no inner address, the overlay address no
	# outer one; a VXLAN device's frames have no outer header.
	out=$(encap_while_mixed --auto --netns "$A" --outer-host 10.0.0.2 --proto icmp)
	assert_eq "$(count "$out" encap "$A" und0 8)" 3 "--outer-host 10.0.0.2 keeps the underlay's pings"
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 0 "--outer-host: the VXLAN device's frames have no outer header"
	out=$(encap_while_mixed --auto --netns "$A" --inner-host 10.0.0.2)
	assert_match "$out" '^rc=0' "--inner-host 10.0.0.2 exits 0"
	assert_eq "$(events "$out" | wc -l)" 0 "--inner-host of a VTEP address matches nothing"
	out=$(encap_while_mixed --auto --netns "$A" --inner-host 172.16.0.2 --proto icmp)
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 3 "--inner-host 172.16.0.2 on the VXLAN device"
	assert_eq "$(count "$out" encap "$A" und0 8)" 3 "--inner-host 172.16.0.2 on the underlay"
	out=$(encap_while_mixed --auto --netns "$A" --outer-host 172.16.0.2)
	assert_eq "$(events "$out" | wc -l)" 0 "--outer-host of an overlay address matches nothing"
	out=$("$VXRAY" encap --auto --netns "$A" --host 10.0.0.2 --outer-host 10.0.0.2 -d 1s 2>&1)
	assert_match "$out" 'each set the one host filter: give one of them once' "two host filters are refused"
}

# --rate N: at most N events in any one-second window, the rest counted.
# 20 pings in one second make 80 matching events in A (four hooks); the
# filters keep ARP and neighbour discovery out of the arithmetic.
test_rate() {
	require_root
	lab setup >/dev/null || fail "lab setup"
	local out n lim
	out=$(PINGS="-c 20 -i 0.05" encap_while_pings --auto --netns "$A" --proto icmp --host 172.16.0.2 --rate 3 --interval 5s)
	assert_match "$out" '^rc=0' "vxray encap --rate exits 0"
	n=$(events "$out" | wc -l)
	lim=$(grep '"type":"encap_summary"' <<<"$out" | tail -1 | grep -o '"rate_limited":[0-9]*' | cut -d: -f2)
	((n >= 3 && n <= 6)) || fail "events emitted with --rate 3 over one to two windows: $n"
	assert_eq "$((n + ${lim:-0}))" 80 "events emitted + rate-limited = matching events"
}

# A foreign direct-action cls_bpf filter: drops underlay ICMP, passes the
# rest. Its effect is the proof that it still runs.
foreign_filter() {
	local src=$1/foreign.c obj=$1/foreign.o
	cat >"$src" <<'EOC'
#include <linux/bpf.h>
__attribute__((section("tc"), used)) int foreign(struct __sk_buff *s)
{
	unsigned char *p = (void *)(long)s->data, *end = (void *)(long)s->data_end;

	if ((void *)(p + 34) > (void *)end)
		return 0;
	return p[12] == 8 && p[13] == 0 && p[23] == 1 ? 2 /* SHOT */ : 0 /* OK */;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOC
	clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "$obj" || return 1
	ip netns exec "$B" tc qdisc add dev und0 clsact &&
		ip netns exec "$B" tc filter add dev und0 ingress pref 7 bpf da obj "$obj" sec tc
}

foreign_still_works() {
	assert_match "$(ip netns exec "$B" tc filter show dev und0 ingress)" 'pref 7 bpf .*foreign' "$1: the foreign filter is still at pref 7"
	ip netns exec "$A" ping -c 2 -i 0.2 -W 1 -q 10.0.0.2 >/dev/null && fail "$1: underlay ICMP passes: the foreign filter no longer runs"
	ip netns exec "$A" ping -c 2 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null || fail "$1: the overlay is broken"
	return 0
}

test_sigkill_and_coexistence() {
	require_root
	fresh_lab
	local pid tmp ids log
	tmp=$(mktemp -d)
	foreign_filter "$tmp" || fail "cannot install the foreign filter"
	log=$tmp/log
	foreign_still_works "before vxray"
	"$VXRAY" encap --auto --netns "$A" --netns "$B" >"$log" 2>&1 &
	pid=$!
	wait_started "$log" || fail "vxray did not start: $(cat "$log")"
	ids=$(prog_ids "$pid")
	[[ -n ${ids// } ]] || fail "vxray's programs are not loaded while it runs"
	foreign_still_works "while vxray runs"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	if ! grep -q 'with TCX links' "$log"; then
		rm -rf "$tmp"
		skip "no TCX links on this kernel: the netlink SIGKILL test covers it"
	fi
	rm -rf "$tmp"
	# shellcheck disable=SC2086
	assert_eq "$(alive_after prog $ids)" 0 "vxray programs left after SIGKILL (TCX links die with vxray)"
	foreign_still_works "after SIGKILL"
}

test_bad_input() {
	require_root
	local out rc
	ip netns add "$P-e"
	out=$("$VXRAY" encap --auto --netns "$P-e" -d 1s 2>&1); rc=$?
	ip netns del "$P-e"
	assert_eq "$rc" 4 "exit code when --auto finds nothing"
	assert_match "$out" 'found no VXLAN device' "says what is missing"
	out=$("$VXRAY" encap -i "$A:nope0" -d 1s 2>&1); rc=$?
	assert_eq "$rc" 4 "exit code for an unknown interface"
	out=$("$VXRAY" encap --auto --netns "$A" --host not-an-ip -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for a bad --host"
	assert_match "$out" "not an IPv4 or IPv6 address" "says why"
	out=$("$VXRAY" encap -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code with nothing to watch"
	assert_match "$out" 'nothing to watch' "says what to do"
}

# vxray_filters: vxray's tc filters on every lab interface, both directions.
vxray_filters() {
	local ns d dir
	for ns in "$A" "$B"; do
		for d in und0 vxlan100; do
			for dir in ingress egress; do
				ip netns exec "$ns" tc filter show dev "$d" "$dir" 2>/dev/null
			done
		done
	done | grep -c 'vxray/'
}

clsact_qdiscs() {
	local ns
	for ns in "$A" "$B"; do ip netns exec "$ns" tc qdisc show; done | grep -c clsact
}

test_netlink_path() {
	require_root
	fresh_lab
	local out
	out=$(VXRAY_TC_ATTACH=netlink encap_while_pinging 5 --auto --netns "$A" --netns "$B")
	assert_match "$out" '^rc=0' "vxray encap exits 0"
	assert_match "$out" 'with tc clsact filters over netlink \(forced by VXRAY_TC_ATTACH=netlink\)' "the startup line names the netlink path"
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 5 "netlink: requests encapsulated on $A's vxlan100"
	assert_eq "$(count "$out" encap "$A" und0 8)" 5 "netlink: requests leaving $A's underlay"
	assert_eq "$(count "$out" decap "$B" und0 8)" 5 "netlink: requests arriving on $B's underlay"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 5 "netlink: requests decapsulated on $B"
	assert_eq "$(count "$out" encap "$B" vxlan100 0)" 5 "netlink: replies encapsulated on $B"
	assert_eq "$(count "$out" decap "$A" vxlan100 0)" 5 "netlink: replies decapsulated on $A"
	assert_eq "$(vxray_filters)" 0 "vxray tc filters left after exit"
	assert_eq "$(clsact_qdiscs)" 0 "clsact qdiscs vxray created left after exit"
	assert_eq "$(progs_left "$out")" 0 "programs left after exit"
	out=$(VXRAY_TC_ATTACH=bogus "$VXRAY" encap --auto --netns "$A" -d 1s 2>&1)
	assert_eq "$?" 2 "exit code for a bad VXRAY_TC_ATTACH"
	assert_match "$out" "VXRAY_TC_ATTACH='bogus' is not one of auto, tcx, netlink" "says which values work"
}

# A foreign u32 filter that counts the VXLAN packets arriving on B's
# underlay (its mirred action's statistics; this kernel has no gact and no
# u32 counters) and lets classification continue.
foreign_counter() {
	ip -n "$B" link add fx0 type ifb && ip -n "$B" link set fx0 up &&
		ip netns exec "$B" tc filter add dev und0 ingress pref 5 protocol ip u32 \
			match ip protocol 17 0xff match ip dport 4789 0xffff \
			action mirred egress mirror dev fx0 continue
}

foreign_count() {
	ip netns exec "$B" tc -s filter show dev und0 ingress pref 5 |
		sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -1
}

test_netlink_sigkill_stale() {
	require_root
	fresh_lab
	local pid tmp out before after prefs f
	f=$(mktemp)
	tmp=$(mktemp -d)
	foreign_filter "$tmp" || fail "cannot install the foreign bpf filter"
	rm -rf "$tmp"
	foreign_counter || fail "cannot install the foreign u32 filter"
	VXRAY_TC_ATTACH=netlink "$VXRAY" encap --auto --netns "$A" --netns "$B" >"$f" 2>&1 &
	pid=$!
	wait_started "$f" || fail "vxray did not start: $(cat "$f")"
	rm -f "$f"
	assert_match "$(ip netns exec "$B" tc filter show dev und0 ingress)" 'pref 4 bpf .*vxray/vx_tc_ul_in' "vxray's filter goes just in front of the first one (pref 4)"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	assert_eq "$(vxray_filters)" 8 "vxray filters left by the SIGKILL (what the next start must clean)"
	before=$(foreign_count)
	out=$(VXRAY_TC_ATTACH=netlink encap_while_pinging 3 --auto --netns "$A" --netns "$B")
	assert_match "$out" 'removed a stale vxray tc filter \(vxray/vx_tc_ul_in, pref 4\) from und0 ingress in '"$B" "the next start removes the stale filters"
	assert_eq "$(count "$out" decap "$B" und0 8)" 3 "requests seen on $B's underlay by the second vxray"
	assert_eq "$(vxray_filters)" 0 "vxray tc filters left after the second vxray"
	prefs=$(ip netns exec "$B" tc filter show dev und0 ingress | grep -o 'pref [0-9]*' | uniq | tr '\n' ' ')
	assert_eq "$prefs" "pref 5 pref 7 " "the foreign filters keep their priorities and order"
	after=$(foreign_count)
	assert_ge "$((after - before))" 3 "the foreign u32 filter still counts the VXLAN packets"
	foreign_still_works "after the stale cleanup"
}

# netlink_summary_bg FILE: a counters-only vxray on the netlink tc path over
# both lab ends, output to FILE, once attached; its pid in PID.
netlink_summary_bg() {
	VXRAY_TC_ATTACH=netlink "$VXRAY" encap --summary --auto --netns "$A" --netns "$B" >"$1" 2>&1 &
	PID=$!
	wait_started "$1" || fail "vxray on the netlink path did not start: $(cat "$1")"
}

# A vxray killed on the netlink path, then a run that takes TCX links: the
# TCX run removes the stale filters too (a kernel with TCX may still have
# had a vxray forced onto netlink, or an older vxray).
test_stale_netlink_then_tcx() {
	require_root
	fresh_lab
	local pid f=$(mktemp) out
	netlink_summary_bg "$f"
	pid=$PID
	rm -f "$f"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	assert_eq "$(vxray_filters)" 8 "vxray filters left by the SIGKILL"
	out=$(encap_while_pinging 3 --auto --netns "$A" --netns "$B")
	if ! grep -q 'with TCX links' <<<"$out"; then
		lab teardown >/dev/null
		skip "no TCX links on this kernel: the netlink SIGKILL test covers the cleanup"
	fi
	assert_match "$out" '^rc=0' "the TCX run exits 0"
	assert_eq "$(grep -c 'removed a stale vxray tc filter' <<<"$out")" 8 "the TCX run removes all eight stale filters"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 3 "the TCX run sees the requests"
	assert_eq "$(vxray_filters)" 0 "vxray tc filters left after the TCX run"
}

# Two vxray runs on the netlink path: the second must not take the first's
# live filters for stale ones (a live process still holds their programs).
test_netlink_two_instances() {
	require_root
	fresh_lab
	local pid f=$(mktemp) out
	netlink_summary_bg "$f"
	pid=$PID
	assert_eq "$(vxray_filters)" 8 "filters of the first vxray"
	out=$(VXRAY_TC_ATTACH=netlink encap_while_pinging 3 --auto --netns "$A" --netns "$B")
	assert_no_match "$out" 'removed a stale' "the second vxray removes nothing of the first's"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 3 "the second vxray sees the requests"
	assert_eq "$(vxray_filters)" 8 "the first vxray's filters are still there"
	kill -INT "$pid"
	wait "$pid"
	assert_eq "$?" 0 "the first vxray exits 0"
	rm -f "$f"
	assert_eq "$(vxray_filters)" 0 "vxray tc filters left after both exited"
}

# A pass-everything XDP program that is not vxray's.
foreign_xdp() {
	local src=$1/fx.c obj=$1/fx.o
	cat >"$src" <<'EOC'
#include <linux/bpf.h>
__attribute__((section("xdp"), used)) int foreign_xdp(struct xdp_md *c) { return XDP_PASS; }
char _license[] __attribute__((section("license"), used)) = "GPL";
EOC
	clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "$obj" || return 1
	ip -n "$B" link set dev und0 xdpdrv obj "$obj" sec xdp
}

test_xdp() {
	require_root
	fresh_lab
	local out tmp id
	out=$(encap_while_pinging 4 --xdp --auto --netns "$A" --netns "$B")
	assert_match "$out" 'XDP in native mode on und0 in '"$B" "says XDP was attached natively"
	assert_match "$out" 'XDP native on underlay ingress' "the startup line names XDP"
	assert_eq "$(grep -c '"type":"decap",.*"netns":"'"$B"'","device":"und0","hook":"xdp/underlay-in",.*"icmp_type":8,' <<<"$out")" 4 "requests seen by XDP on $B's underlay"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 4 "requests decapsulated on $B"
	assert_no_match "$(ip -n "$B" link show und0)" 'xdp' "XDP left on $B's underlay"
	tmp=$(mktemp -d)
	foreign_xdp "$tmp" || fail "cannot attach the foreign XDP program"
	rm -rf "$tmp"
	id=$(ip -n "$B" -d link show und0 | grep -o 'prog/xdp id [0-9]*')
	[[ -n $id ]] || fail "the foreign XDP program is not attached"
	out=$(encap_while_pinging 3 --xdp --auto --netns "$A" --netns "$B")
	assert_match "$out" 'und0 in '"$B"' already has an XDP program .*leaving it there' "says the foreign XDP program is kept"
	assert_eq "$(count "$out" decap "$B" und0 8)" 3 "tc ingress still sees the requests there"
	assert_eq "$(ip -n "$B" -d link show und0 | grep -o 'prog/xdp id [0-9]*')" "$id" "the foreign XDP program is still attached"
	ip -n "$B" link set dev und0 xdpdrv off
}

test_auto_follows_churn() {
	require_root
	fresh_lab
	local out pid f ids i
	f=$(mktemp)
	"$VXRAY" encap -j --auto --netns "$A" --netns "$B" -d 20s --interval 5s >"$f" 2>&1 &
	pid=$!
	wait_started "$f" || fail "vxray did not start: $(cat "$f")"
	ids=$(prog_ids "$pid")
	ip netns exec "$A" ping -c 3 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null
	ip -n "$A" link del vxlan100
	for ((i = 0; i < 100; i++)); do
		grep -q 'detached from und0 in '"$A" "$f" && break
		sleep 0.2
	done
	# By hand, not `lab setup`: that pings to check the lab.
	ip -n "$A" link add vxlan100 type vxlan id 100 dstport 4789 local 10.0.0.1 remote 10.0.0.2 &&
		ip -n "$A" addr add 172.16.0.1/24 dev vxlan100 &&
		ip -n "$A" link set vxlan100 up || fail "recreating vxlan100"
	for ((i = 0; i < 100; i++)); do
		grep -q 'attached to und0 (underlay) in '"$A"', which appeared' "$f" && break
		sleep 0.2
	done
	ip netns exec "$A" ping -c 4 -i 0.2 -W 1 -q 172.16.0.2 >/dev/null
	wait "$pid"
	out="rc=$?
$(cat "$f")"
	rm -f "$f"
	assert_match "$out" '^rc=0' "vxray survives the churn and exits 0"
	assert_match "$out" 'detached from vxlan100 in '"$A" "says the device vanished"
	assert_match "$out" 'attached to vxlan100 \(vxlan\) in '"$A"', which appeared' "says the new device was attached"
	assert_eq "$(count "$out" encap "$A" vxlan100 8)" 7 "requests on $A's vxlan100 before and after"
	assert_eq "$(count "$out" decap "$B" vxlan100 8)" 7 "requests decapsulated on $B throughout"
	# shellcheck disable=SC2086
	assert_eq "$(alive_after prog $ids)" 0 "programs left after exit"
}

run_test "encap: healthy tunnel both ways, every hook" test_healthy_both_ways
run_test "encap: IPv6 underlay" test_ipv6_underlay
run_test "encap: scenario 1 encapsulated on A, never decapsulated on B" test_one_sided_tunnel
run_test "encap: scenario 1 in text: B's underlay line says RX, not DECAP" test_one_sided_text_says_rx
run_test "encap: in-kernel filters keep what they name and only that" test_filters
run_test "encap: --rate caps events per second, the rest counted" test_rate
run_test "encap: SIGKILL leaves nothing; a foreign tc filter keeps working" test_sigkill_and_coexistence
run_test "encap: bad input" test_bad_input
run_test "encap: netlink tc path gives the same events and leaves nothing" test_netlink_path
run_test "encap: netlink path after SIGKILL: only vxray's stale filters removed" test_netlink_sigkill_stale
run_test "encap: netlink path: a second vxray keeps the first one's live filters" test_netlink_two_instances
run_test "encap: a TCX run removes a killed netlink run's filters" test_stale_netlink_then_tcx
run_test "encap: --xdp native on the underlay; a foreign XDP program kept" test_xdp
run_test "encap: --auto follows a VXLAN device deleted and recreated" test_auto_follows_churn
