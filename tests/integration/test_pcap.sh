#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# --pcap FILE read back by tshark: a healthy lab ping seen at each hook
# (interface names ns/device/hook, the outer UDP/4789 VXLAN with VNI 100,
# the inner ICMP 172.16.0.1 -> 172.16.0.2, nanosecond wall-clock times, a
# comment per packet naming its event); --snaplen cuts the bytes but keeps
# the original length; scenario 2's netfilter drops from `drops`, `trace`
# and `policy`, each a packet whose comment says NETFILTER_DROP; and bad
# values are one sentence, exit 2, nothing attached.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
PINGS=3
lab() { "$LAB" --prefix "$P" "$@"; }
TMP=$(mktemp -d)
trap 'lab teardown >/dev/null 2>&1; rm -rf "$TMP"' EXIT

need_tshark() {
	require_root
	command -v tshark >/dev/null || skip "tshark (Debian package tshark) is not installed"
}

# capture_while_pinging LOG VIEW ARGS...: run the view until its startup
# line is printed (at most 60 s: the 6.1 guest emulates), ping B from A
# $PINGS times, stop it with SIGINT a second later; prints its exit code.
capture_while_pinging() {
	local log=$1 pid i
	shift
	"$VXRAY" "$@" -d 90s >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		grep -q 'Ctrl-C to stop' "$log" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	ip netns exec "$A" ping -q -c "$PINGS" -i 0.2 -W 1 172.16.0.2 >/dev/null 2>&1
	sleep 1
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	echo "$?"
}

# fields FILE FIELD...: one line per packet, fields separated by '|'.
fields() {
	local f=$1 args=()
	shift
	for x in "$@"; do args+=(-e "$x"); done
	tshark -r "$f" -T fields -E separator='|' "${args[@]}" 2>/dev/null
}

# A healthy lab, whatever an earlier test injected.
fresh_lab() {
	lab heal >/dev/null 2>&1
	lab setup >/dev/null
}

# count TEXT ERE: lines of TEXT matching ERE.
count() { grep -Ec -- "$2" <<<"$1"; }

test_healthy_ping_per_hook() {
	need_tshark
	local f=$TMP/healthy.pcapng rc out t0 t1 first
	fresh_lab || fail "lab setup"
	t0=$(date +%s)
	rc=$(capture_while_pinging "$TMP/encap.log" encap --auto --netns "$A" --netns "$B" --xdp \
		--pcap "$f")
	t1=$(date +%s)
	assert_eq "$rc" 0 "vxray encap --pcap exits 0 on SIGINT"
	assert_match "$(cat "$TMP/encap.log")" "capturing to $f" "the startup line names the file"
	assert_match "$(cat "$TMP/encap.log")" "wrote [0-9]+ packets to $f \\(snap length 256\\)" \
		"the closing line counts the packets"
	out=$(fields "$f" frame.interface_name udp.dstport vxlan.vni ip.src ip.dst icmp.type frame.comment)
	[[ -n $out ]] || fail "tshark read nothing from $f: $(tshark -r "$f" 2>&1 | tail -3)"
	# The inner frame at the VXLAN devices: no outer header.
	assert_eq "$(count "$out" "^$A/vxlan100/tc-egress\\|\\|\\|172\\.16\\.0\\.1\\|172\\.16\\.0\\.2\\|8\\|ENCAP vni=100 hook=tc-egress inner 172\\.16\\.0\\.1→172\\.16\\.0\\.2 icmp type 8")" \
		"$PINGS" "echo requests on $A's vxlan100 egress"
	assert_eq "$(count "$out" "^$B/vxlan100/tc-ingress\\|\\|\\|172\\.16\\.0\\.1\\|172\\.16\\.0\\.2\\|8\\|DECAP vni=100 ")" \
		"$PINGS" "echo requests on $B's vxlan100 ingress"
	# The outer packet on the underlays: UDP 4789, VXLAN VNI 100, the
	# inner ICMP inside (tshark lists both IP layers).
	assert_eq "$(count "$out" "^$A/und0/tc-egress\\|4789\\|100\\|10\\.0\\.0\\.1,172\\.16\\.0\\.1\\|10\\.0\\.0\\.2,172\\.16\\.0\\.2\\|8\\|ENCAP vni=100 hook=tc-egress outer udp 10\\.0\\.0\\.1:[0-9]+→10\\.0\\.0\\.2:4789 inner")" \
		"$PINGS" "VXLAN packets on $A's underlay egress"
	# Received on the underlay, not yet decapsulated: RX, not DECAP.
	assert_eq "$(count "$out" "^$B/und0/tc-ingress\\|4789\\|100\\|10\\.0\\.0\\.1,172\\.16\\.0\\.1\\|10\\.0\\.0\\.2,172\\.16\\.0\\.2\\|8\\|RX ")" \
		"$PINGS" "VXLAN packets on $B's underlay tc ingress"
	assert_eq "$(count "$out" "^$B/und0/xdp-ingress\\|4789\\|100\\|10\\.0\\.0\\.1,172\\.16\\.0\\.1\\|10\\.0\\.0\\.2,172\\.16\\.0\\.2\\|8\\|RX vni=100 hook=xdp-ingress")" \
		"$PINGS" "VXLAN packets on $B's underlay XDP ingress"
	# The replies come back the other way, through the same hooks.
	assert_eq "$(count "$out" "^$B/und0/tc-egress\\|4789\\|100\\|10\\.0\\.0\\.2,172\\.16\\.0\\.2\\|10\\.0\\.0\\.1,172\\.16\\.0\\.1\\|0\\|ENCAP ")" \
		"$PINGS" "echo replies on $B's underlay egress"
	# One interface block per (namespace, device, hook), nanoseconds.
	assert_match "$(tshark -r "$f" -T fields -e frame.interface_name 2>/dev/null | sort -u | tr '\n' ' ')" \
		"^$A/und0/tc-egress $A/und0/tc-ingress $A/und0/xdp-ingress $A/vxlan100/tc-egress $A/vxlan100/tc-ingress $B/und0/tc-egress $B/und0/tc-ingress $B/und0/xdp-ingress $B/vxlan100/tc-egress $B/vxlan100/tc-ingress \$" \
		"one interface per namespace/device/hook"
	assert_match "$(capinfos "$f" 2>/dev/null)" 'timestamp precision: +nanoseconds \(9\)' "if_tsresol 9"
	# Wall-clock time, not seconds since boot: within the run.
	first=$(fields "$f" frame.time_epoch | head -1 | cut -d. -f1)
	assert_ge "$first" $((t0 - 1)) "the first packet's time is wall-clock, not before the run"
	assert_ge $((t1 + 1)) "$first" "the first packet's time is not after the run"
	# The whole frame is there: the length and the ICMP checksum.
	assert_eq "$(count "$(fields "$f" frame.interface_name frame.len frame.cap_len)" "^$A/und0/tc-egress\\|148\\|148$")" \
		"$PINGS" "whole 148-byte underlay frames"
}

test_snaplen_keeps_original_length() {
	need_tshark
	local f=$TMP/snap.pcapng rc out
	fresh_lab || fail "lab setup"
	rc=$(capture_while_pinging "$TMP/snap.log" encap -i "$A:und0" --pcap "$f" --snaplen 64)
	assert_eq "$rc" 0 "vxray encap --snaplen 64 exits 0"
	out=$(fields "$f" frame.interface_name frame.len frame.cap_len udp.dstport)
	assert_eq "$(count "$out" "^$A/und0/tc-egress\\|148\\|64\\|4789$")" "$PINGS" \
		"64 of 148 bytes kept, the original length told"
}

DROP_COMMENT="DROP reason=NETFILTER_DROP location=[a-z_0-9.]+\\+0x[0-9a-f]+ netns=$B dev=vxlan100 vni=100 decapsulated outer udp 10\\.0\\.0\\.1:[0-9]+→10\\.0\\.0\\.2:4789 inner 172\\.16\\.0\\.1→172\\.16\\.0\\.2 icmp type 8 code 0"

test_scenario2_drops() {
	need_tshark
	local f=$TMP/drops.pcapng rc out
	fresh_lab || fail "lab setup"
	lab scenario 2 >/dev/null 2>&1 || fail "lab scenario 2"
	rc=$(capture_while_pinging "$TMP/drops.log" drops ${VX_BACKEND:+--backend "$VX_BACKEND"} \
		--netns "$B" --pcap "$f")
	assert_eq "$rc" 0 "vxray drops --pcap exits 0"
	out=$(fields "$f" frame.interface_name frame.len ip.src ip.dst icmp.type frame.comment)
	# After decapsulation: the inner Ethernet frame, whole (98 bytes).
	assert_eq "$(count "$out" "^$B/vxlan100/[a-z_]+\\|98\\|172\\.16\\.0\\.1\\|172\\.16\\.0\\.2\\|8\\|$DROP_COMMENT$")" \
		"$PINGS" "one NETFILTER_DROP packet per ping"
}

test_scenario2_trace() {
	need_tshark
	local f=$TMP/trace.pcapng rc out
	fresh_lab || fail "lab setup"
	lab scenario 2 >/dev/null 2>&1 || fail "lab scenario 2"
	rc=$(capture_while_pinging "$TMP/trace.log" trace ${VX_BACKEND:+--backend "$VX_BACKEND"} \
		--auto --netns "$A" --netns "$B" --pcap "$f")
	assert_eq "$rc" 0 "vxray trace --pcap exits 0"
	out=$(fields "$f" frame.interface_name icmp.type frame.comment)
	assert_eq "$(count "$out" "^$A/vxlan100/tc-egress\\|8\\|ENCAP vni=100 ")" "$PINGS" "ENCAP in the trace capture"
	assert_eq "$(count "$out" "^$B/vxlan100/tc-ingress\\|8\\|DECAP vni=100 ")" "$PINGS" "DECAP in the trace capture"
	assert_eq "$(count "$out" "^$B/vxlan100/[a-z_]+\\|8\\|$DROP_COMMENT$")" "$PINGS" "DROP in the trace capture"
	# One clock for both rings: per echo request, the five sightings'
	# wall-clock times run ENCAP (vxlan100, und0), RX (und0), DECAP (vxlan100),
	# DROP. (The file's order is the printed timeline's, where a late
	# event, on a slow machine, comes after later ones.)
	out=$(fields "$f" icmp.seq frame.time_epoch frame.interface_name icmp.type)
	for ((i = 1; i <= PINGS; i++)); do
		assert_eq "$(awk -F'|' -v s="$i" '$1 == s && $4 == 8 { print $2, $3 }' <<<"$out" | sort -n |
			awk '{ printf "%s ", $2 }')" \
			"$A/vxlan100/tc-egress $A/und0/tc-egress $B/und0/tc-ingress $B/vxlan100/tc-ingress $(grep -m1 "^$i|.*|$B/vxlan100/[a-z_]*|8$" <<<"$out" | cut -d'|' -f3) " \
			"echo request $i's hooks in time order"
	done
}

test_scenario2_policy() {
	need_tshark
	local f=$TMP/policy.pcapng rc out
	fresh_lab || fail "lab setup"
	lab scenario 2 >/dev/null 2>&1 || fail "lab scenario 2"
	rc=$(capture_while_pinging "$TMP/policy.log" policy --netns "$B" --pcap "$f")
	assert_eq "$rc" 0 "vxray policy --pcap exits 0"
	out=$(fields "$f" frame.interface_name ip.src icmp.type frame.comment)
	assert_eq "$(count "$out" "^$B/vxlan100/[a-z_]+\\|172\\.16\\.0\\.1\\|8\\|$DROP_COMMENT$")" \
		"$PINGS" "policy's capture has each dropped ping"
}

# bad VIEW-ARGS... : exit 2 and one sentence matching $WANT.
bad() {
	local out rc
	out=$("$VXRAY" "$@" -d 1s 2>&1)
	rc=$?
	assert_eq "$rc" 2 "exit status of vxray $*"
	assert_match "$out" "$WANT" "the sentence for vxray $*"
	assert_eq "$(wc -l <<<"$out")" 1 "one line for vxray $*"
}

test_bad_values() {
	require_root
	WANT='--snaplen 0 is out of range: give a whole number from 16 to 2048' bad encap --auto --pcap "$TMP/x" --snaplen 0
	WANT='--snaplen 99999 is out of range' bad drops --pcap "$TMP/x" --snaplen 99999
	WANT="--snaplen 'big' is not a number" bad trace --auto --pcap "$TMP/x" --snaplen big
	WANT='--snaplen only sets how much of each packet --pcap keeps: add --pcap FILE' bad encap --auto --snaplen 64
	WANT="cannot write the capture file '$TMP/no/such/dir/x.pcapng': No such file or directory; give --pcap a path" \
		bad drops --pcap "$TMP/no/such/dir/x.pcapng"
	WANT="cannot write the capture file '$TMP': Is a directory" bad encap --auto --pcap "$TMP"
	WANT='option --pcap does not apply to `vxray latency`' bad latency --auto --pcap "$TMP/x"
	WANT='--pcap writes each event.s packet and --summary turns events off' bad encap --auto --summary --pcap "$TMP/x"
	WANT='--pcap needs the dropped packet whole, and the fentry backend' bad policy --backend fentry --pcap "$TMP/x"
	WANT='--pcap needs the name of a file to write the capture to' bad drops --pcap ''
	[[ ! -e $TMP/x ]] || fail "a refused run left $TMP/x behind"
}

run_test "pcap: tshark reads a healthy ping at every hook, VXLAN VNI 100 around the inner ICMP" test_healthy_ping_per_hook
run_test "pcap: --snaplen keeps N bytes and the original length" test_snaplen_keeps_original_length
run_test "pcap: drops in scenario 2 are packets commented NETFILTER_DROP" test_scenario2_drops
run_test "pcap: trace writes ENCAP, DECAP and DROP on one clock" test_scenario2_trace
run_test "pcap: policy captures the packets its rules dropped" test_scenario2_policy
# --pcap - streams pcapng to standard output: tshark reading the pipe
# shows the pings while vxray still runs, and the view's own lines go to
# standard error. Standard output twice, or a terminal, is refused.
test_stream_to_tshark() {
	need_tshark
	lab setup >/dev/null || fail "lab setup"
	local i alive
	( "$VXRAY" encap --auto --netns "$A" --netns "$B" -d 90s --pcap - 2>"$TMP/stream.err" |
		tshark -r - -l -T fields -e frame.comment >"$TMP/stream.out" 2>/dev/null ) &
	for ((i = 0; i < 300; i++)); do
		grep -q 'Ctrl-C to stop' "$TMP/stream.err" 2>/dev/null && break
		sleep 0.2
	done
	grep -q 'capturing to standard output' "$TMP/stream.err" || fail "startup line: $(head -3 "$TMP/stream.err")"
	ip netns exec "$A" ping -q -c "$PINGS" -i 0.2 -W 1 172.16.0.2 >/dev/null 2>&1
	# The capture is flushed every interval (1 s): tshark has the pings
	# within a few seconds, vxray still running.
	for ((i = 0; i < 50; i++)); do
		grep -q 'ENCAP vni=100 hook=tc-egress inner 172.16.0.1→172.16.0.2 icmp type 8' "$TMP/stream.out" && break
		sleep 0.2
	done
	alive=$(pgrep -f "encap --auto --netns $A --netns $B -d 90s --pcap -" | head -1)
	[[ -n $alive ]] || fail "vxray ended before the check"
	assert_match "$(cat "$TMP/stream.out")" 'ENCAP vni=100 hook=tc-egress inner 172\.16\.0\.1→172\.16\.0\.2 icmp type 8' \
		"tshark read the echo request from the pipe while vxray ran"
	kill -INT "$alive"
	wait
	assert_match "$(cat "$TMP/stream.err")" ' out ENCAP vni=100 inner 172\.16\.0\.1→172\.16\.0\.2 icmp' "the view's lines on standard error"
	assert_match "$(cat "$TMP/stream.err")" 'wrote [0-9]+ packets to standard output' "the closing line"
	local out rc
	out=$("$VXRAY" encap --auto --netns "$A" --pcap - -o - -d 1s 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for --pcap - with -o -"
	assert_match "$out" 'both want standard output' "one sentence"
	out=$(script -qec "$VXRAY encap --auto --netns $A --pcap - -d 1s" /dev/null 2>&1); rc=$?
	assert_match "$out" 'standard output, which is a terminal' "a terminal is refused"
}

run_test "pcap: bad --pcap and --snaplen values are one sentence, exit 2" test_bad_values
run_test "pcap: --pcap - streams to tshark while vxray runs" test_stream_to_tshark
echo "1..$T_N"
