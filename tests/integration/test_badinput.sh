#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every way to hand vxray bad input: unknown interface or namespace, bad
# VNI, malformed filters, impossible durations and intervals, missing
# privileges, a metrics port in use, tracefs unmounted or unmountable. Each
# case asserts the exact sentence on stderr, that it is the only line, the
# exit code, and -- where something could have been attached -- that
# nothing was.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
NS=${P}-ns
DEV=${P}v0

VIEWS_WITH_IFACES="encap drops retrans trace latency conntrack policy diagnose doctor"

# expect RC SENTENCE CMD...: exactly one line on stderr, equal to
# "vxray: SENTENCE", and exit code RC.
expect() {
	local want_rc=$1 want=$2 err rc
	shift 2
	err=$(timeout 60 "$@" 2>&1 >/dev/null); rc=$?
	assert_eq "$rc" "$want_rc" "exit code of '$*'"
	assert_eq "$err" "vxray: $want" "stderr of '$*'"
}

setup_ns() {
	ip netns add "$NS" || fail "cannot create namespace $NS"
	ip -n "$NS" link add "$DEV" type veth peer name "${DEV}p" || fail "cannot create $DEV"
	ip -n "$NS" link set "$DEV" up
	ip -n "$NS" link set "${DEV}p" up
}

cleanup() {
	ip netns del "$NS" 2>/dev/null
}

# What is attached to $DEV: XDP, tc filters, and TCX programs. bpftool 7.1
# cannot show TCX, so ask the kernel with BPF_PROG_QUERY on the device's
# ifindex inside the namespace.
attached() {
	ip -n "$NS" -d link show dev "$DEV" | grep -o 'xdp[a-z]*' | sort -u
	tc -n "$NS" filter show dev "$DEV" ingress
	tc -n "$NS" filter show dev "$DEV" egress
	ip netns exec "$NS" python3 - "$DEV" <<'EOF_PY'
import ctypes, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
idx = socket.if_nametoindex(sys.argv[1])
for at, name in ((46, "ingress"), (47, "egress")):  # BPF_TCX_INGRESS/EGRESS
    ids = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(
        struct.pack("<IIIIQII", idx, at, 0, 0, ctypes.addressof(ids), 64, 0) + bytes(32), 64)
    if libc.syscall(321, 16, attr, 64):  # bpf(BPF_PROG_QUERY)
        print("query", name, "failed:", ctypes.get_errno())
        continue
    for i in range(struct.unpack_from("<I", attr.raw, 24)[0]):
        print("tcx", name, ids[i])
EOF_PY
}

# attached must see a real attachment, or "nothing attached" proves nothing.
test_attached_sees_an_attachment() {
	require_root
	local during
	timeout 60 "$VXRAY" encap -i "$NS:$DEV" -d 4s >/dev/null 2>&1 &
	for _ in $(seq 30); do
		during=$(attached)
		[[ $during == *"tcx ingress"* || $during == *"filter"* ]] && break
		sleep 0.2
	done
	wait
	assert_match "$during" 'tcx ingress [0-9]+|filter' "vxray's own programs while it runs"
	assert_eq "$(attached)" "" "what is attached to $DEV after vxray exited"
}

test_unknown_interface() {
	require_root
	local v
	for v in $VIEWS_WITH_IFACES; do
		expect 2 "interface '${P}no0' does not exist here: \`ip link\` lists interfaces, and NETNS:IFACE names one inside a namespace" \
			"$VXRAY" "$v" -i "${P}no0" -d 1s
	done
	expect 2 "interface '${P}no0' does not exist in namespace '$NS': \`ip -n $NS link\` lists its interfaces" \
		"$VXRAY" encap -i "$NS:${P}no0" -d 1s
}

test_unknown_namespace() {
	require_root
	local v
	for v in $VIEWS_WITH_IFACES; do
		expect 2 "network namespace '${P}-none' does not exist: \`ip netns list\` shows the names vxray can use" \
			"$VXRAY" "$v" -i "${P}-none:eth0" -d 1s
		expect 2 "network namespace '${P}-none' does not exist: \`ip netns list\` shows the names vxray can use" \
			"$VXRAY" "$v" --netns "${P}-none" -d 1s
	done
	expect 2 "interface '../x:eth0': '../x' is not a valid network namespace name" \
		"$VXRAY" encap -i ../x:eth0
}

test_bad_vni() {
	local v
	for v in 16777216 4294967296 99999999999999999999; do
		expect 2 "VNI $v is out of range: give a whole number from 0 to 16777215" "$VXRAY" encap --vni "$v"
	done
	for v in -1 abc 1x "" " 5"; do
		expect 2 "VNI '$v' is not a number: give a whole number from 0 to 16777215" "$VXRAY" encap --vni "$v"
	done
}

test_malformed_filters() {
	local h
	for h in garbage 1.2.3.4.5 10.0.0.256 fd00:::1 "" "10.0.0.1 "; do
		expect 2 "--host '$h' is not an IPv4 or IPv6 address: give one such as 10.0.0.1 or fd00::1" \
			"$VXRAY" trace --host "$h"
	done
	expect 2 "port 70000 is out of range: give a whole number from 1 to 65535" "$VXRAY" encap --port 70000
	expect 2 "port 0 is out of range: give a whole number from 1 to 65535" "$VXRAY" drops --port 0
	expect 2 "port '-1' is not a number: give a whole number from 1 to 65535" "$VXRAY" encap --port -1
	expect 2 "protocol 'foo' is not known: use tcp, udp, icmp or icmpv6" "$VXRAY" encap --proto foo
	expect 2 "protocol '' is not known: use tcp, udp, icmp or icmpv6" "$VXRAY" trace --proto ""
	expect 2 "--rate 0 is out of range: give a whole number from 1 to 100000000" "$VXRAY" encap --rate 0
	# A filter on a view that has none.
	expect 2 "option --host does not apply to \`vxray doctor\`; see \`vxray doctor --help\`" \
		"$VXRAY" doctor --host 10.0.0.1
}

test_filters_are_canonical() {
	require_root
	# fd00:0::1 and fd00::1 are one address: a text comparison would
	# miss it. Run for a moment with each spelling; both are accepted.
	local out rc
	out=$(timeout 60 "$VXRAY" encap -i "$NS:$DEV" --host fd00:0:0::1 -d 300ms 2>&1); rc=$?
	assert_eq "$rc" 0 "encap with a non-canonical IPv6 --host ($out)"
}

test_bad_durations() {
	local opt
	for opt in -d --interval; do
		expect 2 "duration '-5s' is negative: give a positive time such as 10s" "$VXRAY" encap "$opt" -5s
		expect 2 "duration '0' is too short: the minimum is 1ms" "$VXRAY" encap "$opt" 0
		expect 2 "duration '0s' is too short: the minimum is 1ms" "$VXRAY" drops "$opt" 0s
		expect 2 "duration '999us' is too short: the minimum is 1ms" "$VXRAY" drops "$opt" 999us
		expect 2 "duration '9999h' is absurdly long: the maximum is 7 days" "$VXRAY" encap "$opt" 9999h
		expect 2 "duration '8d' has an unknown unit 'd': use ns, us, ms, s, m or h" "$VXRAY" encap "$opt" 8d
		expect 2 "duration '99999999999999999999s' is absurdly long: the maximum is 7 days" \
			"$VXRAY" encap "$opt" 99999999999999999999s
		expect 2 "duration '1.s' has no digits after the decimal point" "$VXRAY" encap "$opt" 1.s
		expect 2 "empty duration: give a number with a unit, e.g. 10s, 500ms, 2m" "$VXRAY" encap "$opt" ""
	done
}

NOPRIV="vxray needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (or CAP_SYS_ADMIN) to load and attach its programs: run it as root, e.g. with sudo"

test_no_privileges_nothing_attached() {
	require_root
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	local before after v
	before=$(attached)
	# No capabilities at all: the bounding set is emptied before exec.
	for v in "encap -i $NS:$DEV" "trace -i $NS:$DEV" "latency -i $NS:$DEV" "drops" "retrans" "policy"; do
		# shellcheck disable=SC2086
		expect 1 "$NOPRIV" setpriv --inh-caps=-all --bounding-set=-all "$VXRAY" $v -d 2s
	done
	after=$(attached)
	assert_eq "$after" "$before" "what is attached to $DEV after the refused runs"
}

test_partial_privileges() {
	require_root
	command -v capsh >/dev/null || skip "capsh (libcap2-bin) is not installed"
	local before after
	before=$(attached)
	# NET_ADMIN and PERFMON kept, BPF and SYS_ADMIN gone: still not enough.
	expect 1 "$NOPRIV" capsh --drop=cap_bpf,cap_sys_admin -- -c "exec '$VXRAY' encap -i '$NS:$DEV' -d 2s"
	expect 1 "$NOPRIV" capsh --drop=cap_net_admin -- -c "exec '$VXRAY' drops -d 2s"
	after=$(attached)
	assert_eq "$after" "$before" "what is attached to $DEV after the refused runs"
}

test_doctor_without_privileges() {
	require_root
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	local out err rc
	err=$(setpriv --inh-caps=-all --bounding-set=-all "$VXRAY" doctor 2>&1 >/dev/null); rc=$?
	out=$(setpriv --inh-caps=-all --bounding-set=-all "$VXRAY" doctor 2>/dev/null)
	assert_eq "$rc" 1 "doctor exit code without capabilities"
	assert_eq "$err" "vxray: $NOPRIV" "doctor's sentence"
	# doctor still reports what it can see.
	assert_match "$out" '^vxray doctor: kernel ' "doctor still prints its report"
}

test_metrics_port_in_use() {
	require_root
	local port out rc holder
	# Hold a loopback port with a listening socket, then ask for it.
	exec 3< <(python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)')
	holder=$!
	read -r port <&3
	[[ $port =~ ^[0-9]+$ ]] || fail "could not hold a port"
	expect 2 "cannot serve metrics on 127.0.0.1:$port: the port is already in use by another program; choose another with --metrics ADDR:PORT" \
		"$VXRAY" agent --metrics "127.0.0.1:$port" -d 2s
	kill "$holder" 2>/dev/null
	expect 2 "--metrics '70000': the port must be a number from 0 to 65535" "$VXRAY" agent --metrics 70000
	expect 2 "--metrics '1.2.3.4.5:80': '1.2.3.4.5' is not an IPv4 or IPv6 address" \
		"$VXRAY" agent --metrics 1.2.3.4.5:80
}

# The classic tracepoint backend with tracefs unmounted: vxray mounts it,
# says so, traces, and unmounts it on exit. Run in a private mount
# namespace so the host's mounts are never touched.
test_tracefs_unmounted_is_mounted() {
	require_root
	command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
	local out
	out=$(VXRAY_DROPS_NO_TP_BTF=1 timeout 60 unshare -m --propagation private bash -c '
		umount /sys/kernel/tracing 2>/dev/null
		umount /sys/kernel/debug/tracing 2>/dev/null
		echo "before=$(grep -c " tracefs " /proc/self/mounts)"
		"$1" drops --backend tracepoint -d 1s 2>&1; echo "rc=$?"
		echo "after=$(grep -c " tracefs " /proc/self/mounts)"' _ "$VXRAY")
	assert_match "$out" '^before=0$' "tracefs unmounted before the run"
	assert_match "$out" '^vxray: mounted tracefs on /sys/kernel/tracing for the classic tracepoint; vxray unmounts it on exit$' "says it mounted tracefs"
	assert_match "$out" '^vxray: tracing drops with tracepoint/skb/kfree_skb in every namespace' "traced with the classic tracepoint"
	assert_match "$out" '^rc=0$' "exit code"
	assert_match "$out" '^after=0$' "tracefs unmounted again after the run"
}

# tracefs cannot be mounted (no mount point), and BTF is gone too, so
# tp_btf cannot stand in: one sentence naming what failed, exit 1, and
# nothing left mounted.
test_tracefs_unmountable_is_explained() {
	require_root
	command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
	local out
	out=$(timeout 60 unshare -m --propagation private bash -c '
		mount -t tmpfs -o ro,size=64k none /sys/kernel || exit 9
		"$1" drops -d 1s 2>&1; echo "rc=$?"
		echo "after=$(grep -c " tracefs " /proc/self/mounts)"' _ "$VXRAY")
	assert_no_match "$out" '^rc=9$' "could not hide /sys/kernel"
	assert_match "$out" '^vxray: no drop probe could be attached \(last: tracepoint/skb/kfree_skb needs tracefs, and mounting it on /sys/kernel/tracing failed: No such file or directory\): `vxray doctor` shows what this kernel allows$' "explains what cannot be mounted"
	assert_match "$out" '^rc=1$' "exit code"
	assert_match "$out" '^after=0$' "nothing left mounted"
}

# The classic tracepoint mounted tracefs, then the load failed (no BTF for
# its CO-RE reads): the mount must not outlive vxray.
test_tracefs_unmounted_after_failure() {
	require_root
	command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
	local out
	out=$(timeout 60 unshare -m --propagation private bash -c '
		umount /sys/kernel/tracing 2>/dev/null
		mount -t tmpfs -o ro,size=64k none /sys/kernel/btf || exit 9
		"$1" drops -d 1s 2>&1; echo "rc=$?"
		echo "after=$(grep -c " tracefs " /proc/self/mounts)"' _ "$VXRAY")
	assert_no_match "$out" '^rc=9$' "could not hide /sys/kernel/btf"
	assert_match "$out" '^vxray: mounted tracefs on /sys/kernel/tracing' "mounted tracefs for the fallback"
	assert_match "$out" '^rc=1$' "exit code"
	assert_match "$out" '^after=0$' "tracefs unmounted after the failure"
}

trap cleanup EXIT
if ((EUID == 0)); then
	setup_ns
fi

run_test "unknown interface, every view" test_unknown_interface
run_test "unknown namespace, every view" test_unknown_namespace
run_test "bad VNI" test_bad_vni
run_test "malformed filters" test_malformed_filters
run_test "a non-canonical --host is accepted" test_filters_are_canonical
run_test "negative, zero, absurd durations and intervals" test_bad_durations
run_test "the attachment check sees vxray's programs" test_attached_sees_an_attachment
run_test "no capabilities: one sentence, nothing attached" test_no_privileges_nothing_attached
run_test "partial capabilities: one sentence, nothing attached" test_partial_privileges
run_test "doctor without capabilities" test_doctor_without_privileges
run_test "metrics port in use or malformed" test_metrics_port_in_use
run_test "tracefs unmounted: mounted for the run, unmounted after" test_tracefs_unmounted_is_mounted
run_test "tracefs cannot be mounted: explained" test_tracefs_unmountable_is_explained
run_test "tracefs mounted for a failed backend is unmounted" test_tracefs_unmounted_after_failure
