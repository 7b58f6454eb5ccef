#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every way to hand vxray bad input: unknown interface or namespace, bad
# VNI, malformed filters, impossible durations and intervals, missing
# privileges, a metrics port in use, an unwritable output file, tracefs
# unmounted or unmountable, no kernel BTF. Each
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

# What is attached to $DEV: XDP, tc filters, and TCX programs (tcx_progs).
attached() {
	ip -n "$NS" -d link show dev "$DEV" | grep -o 'xdp[a-z]*' | sort -u
	tc -n "$NS" filter show dev "$DEV" ingress
	tc -n "$NS" filter show dev "$DEV" egress
	tcx_progs "$NS" "$DEV"
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
		expect 4 "interface '${P}no0' does not exist here: \`ip link\` lists interfaces, and NETNS:IFACE names one inside a namespace" \
			"$VXRAY" "$v" -i "${P}no0" -d 1s
	done
	expect 4 "interface '${P}no0' does not exist in namespace '$NS': \`ip -n $NS link\` lists its interfaces" \
		"$VXRAY" encap -i "$NS:${P}no0" -d 1s
}

test_unknown_namespace() {
	require_root
	local v
	for v in $VIEWS_WITH_IFACES; do
		expect 4 "network namespace '${P}-none' does not exist: \`ip netns list\` shows the names vxray can use" \
			"$VXRAY" "$v" -i "${P}-none:eth0" -d 1s
		expect 4 "network namespace '${P}-none' does not exist: \`ip netns list\` shows the names vxray can use" \
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
	for v in "encap -i $NS:$DEV" "trace -i $NS:$DEV" "latency -i $NS:$DEV" "drops" "retrans" "policy" \
		"conntrack --netns $NS" "diagnose --netns $NS" "agent -i $NS:$DEV --metrics 127.0.0.1:0"; do
		# shellcheck disable=SC2086
		expect 4 "$NOPRIV" setpriv --inh-caps=-all --bounding-set=-all "$VXRAY" $v -d 2s
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
	expect 4 "$NOPRIV" capsh --drop=cap_bpf,cap_sys_admin -- -c "exec '$VXRAY' encap -i '$NS:$DEV' -d 2s"
	expect 4 "$NOPRIV" capsh --drop=cap_net_admin -- -c "exec '$VXRAY' drops -d 2s"
	expect 4 "$NOPRIV" capsh --drop=cap_net_admin -- -c "exec '$VXRAY' conntrack --netns '$NS' -d 2s"
	expect 4 "$NOPRIV" capsh --drop=cap_bpf,cap_sys_admin -- -c "exec '$VXRAY' diagnose --netns '$NS' -d 2s"
	expect 4 "$NOPRIV" capsh --drop=cap_perfmon,cap_sys_admin -- \
		-c "exec '$VXRAY' agent -i '$NS:$DEV' --metrics 127.0.0.1:0 -d 2s"
	after=$(attached)
	assert_eq "$after" "$before" "what is attached to $DEV after the refused runs"
}

test_doctor_without_privileges() {
	require_root
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	local out err rc
	err=$(setpriv --inh-caps=-all --bounding-set=-all "$VXRAY" doctor 2>&1 >/dev/null); rc=$?
	out=$(setpriv --inh-caps=-all --bounding-set=-all "$VXRAY" doctor 2>/dev/null)
	assert_eq "$rc" 4 "doctor exit code without capabilities"
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
	expect 4 "cannot serve metrics on 127.0.0.1:$port: the port is already in use by another program; choose another with --metrics ADDR:PORT" \
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

# A command prefix: run the rest in a private mount namespace where
# /sys/kernel has no tracing directory to mount tracefs on, but BTF is
# still there; then say the exit code and how many tracefs are mounted.
NO_TRACEFS_MOUNTPOINT=(unshare -m --propagation private bash -c '
	umount /sys/kernel/tracing 2>/dev/null
	umount /sys/kernel/debug/tracing 2>/dev/null
	keep=$(mktemp -d) && mount --bind /sys/kernel/btf "$keep" &&
		mount -t tmpfs -o size=64k none /sys/kernel && mkdir /sys/kernel/btf &&
		mount --bind "$keep" /sys/kernel/btf && mount -o remount,ro /sys/kernel || exit 9
	"$@" 2>&1; echo "rc=$?"
	echo "after=$(grep -c " tracefs " /proc/self/mounts)"' _)

# tracefs cannot be mounted (no mount point) and the classic tracepoint is
# the backend left (tp_btf skipped): one sentence naming what failed, exit 1, nothing
# left mounted.
test_tracefs_unmountable_is_explained() {
	require_root
	command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
	local out
	out=$(VXRAY_DROPS_NO_TP_BTF=1 timeout 60 "${NO_TRACEFS_MOUNTPOINT[@]}" "$VXRAY" drops --backend tracepoint -d 1s)
	assert_no_match "$out" '^rc=9$' "could not hide /sys/kernel/tracing"
	assert_match "$out" '^vxray: no drop probe could be attached \(last: tracepoint/skb/kfree_skb needs tracefs, and mounting it on /sys/kernel/tracing failed: No such file or directory\): `vxray doctor` shows what this kernel allows$' "explains what cannot be mounted"
	assert_match "$out" '^rc=1$' "exit code"
	assert_match "$out" '^after=0$' "nothing left mounted"
	# The default backend needs no tracefs: tp_btf runs.
	out=$(timeout 60 "${NO_TRACEFS_MOUNTPOINT[@]}" "$VXRAY" drops -d 1s)
	assert_match "$out" '^vxray: tracing drops with tp_btf' "tp_btf needs no tracefs"
	assert_match "$out" '^rc=0$' "exit code with tp_btf"
}

# A command prefix: run the rest where the kernel's BTF cannot be found,
# /sys/kernel/btf hidden under an empty read-only tmpfs in a private mount
# namespace. This is the real condition (libbpf and vxray both look there)
# where an environment knob could only fool vxray's own check.
NO_BTF=(unshare -m --propagation private sh -c '
	mount -t tmpfs -o ro,size=64k none /sys/kernel/btf || exit 9
	exec "$@"' _)

NOBTF="this kernel has no BTF (/sys/kernel/btf/vmlinux): vxray's CO-RE programs cannot load; use a kernel built with CONFIG_DEBUG_INFO_BTF=y"

# Without BTF every view whose programs need it says so in one sentence,
# exit 4 (environment not ready), before it mounts or attaches anything; conntrack, whose
# ctnetlink backend needs none, says what it falls back to and runs.
test_no_btf_is_explained() {
	require_root
	command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
	local v before out rc
	before=$(attached)
	for v in "encap -i $NS:$DEV" "trace -i $NS:$DEV" "latency -i $NS:$DEV" "drops" "retrans" \
		"policy" "diagnose --netns $NS" "agent -i $NS:$DEV --metrics 127.0.0.1:0"; do
		# shellcheck disable=SC2086
		expect 4 "$NOBTF" "${NO_BTF[@]}" "$VXRAY" $v -d 2s
	done
	assert_eq "$(attached)" "$before" "what is attached to $DEV after the refused runs"
	out=$("${NO_BTF[@]}" bash -c '"$1" drops --backend tracepoint -d 1s; echo "rc=$?"
		echo "tracefs=$(grep -c " tracefs " /proc/self/mounts)"' _ "$VXRAY" 2>&1)
	assert_match "$out" '^tracefs=0$' "nothing mounted for a backend that cannot load"
	out=$("${NO_BTF[@]}" "$VXRAY" conntrack --netns "$NS" -d 1s 2>&1); rc=$?
	assert_eq "$rc" 0 "conntrack's exit code without BTF"
	assert_match "$out" "^vxray: warning: $(sed 's/[()]/\\&/g' <<<"$NOBTF"); conntrack falls back to ctnetlink events, which cannot see refused allocations$" "conntrack says what it loses"
	assert_match "$out" '^vxray: watching conntrack in 1 namespace with ctnetlink' "conntrack runs on ctnetlink"
	out=$("${NO_BTF[@]}" "$VXRAY" doctor 2>&1); rc=$?
	assert_eq "$rc" 4 "doctor's exit code without BTF"
	assert_match "$out" "^vxray: $(sed 's/[()]/\\&/g' <<<"$NOBTF")$" "doctor's sentence"
	assert_match "$out" 'BTF +NO: vxray needs a kernel built with CONFIG_DEBUG_INFO_BTF=y' "doctor's report line"
}

# -o FILE that cannot be written: refused before anything is attached.
# The agent on a node whose VXLAN device does not exist yet (the CNI makes
# it later) exits 4, which its unit retries; a typo in its command line
# exits 2, which the unit does not. $NS holds only a veth pair: from
# inside it, the agent's own namespace has no VXLAN device.
test_agent_not_ready_vs_usage() {
	require_root
	expect 4 "--auto found no VXLAN device in the chosen namespaces; \`vxray doctor\` lists them, --netns NAME looks inside a namespace" \
		ip netns exec "$NS" "$VXRAY" agent --metrics 127.0.0.1:0 -d 2s
	expect 2 "unknown option '--intervl'; see \`vxray --help\`" \
		ip netns exec "$NS" "$VXRAY" agent --intervl 5s
}

test_unwritable_output() {
	require_root
	local before after d
	d=$(mktemp -d)
	before=$(attached)
	expect 2 "cannot write the output file '$d/no/such/dir/out': No such file or directory; give a writable path with -o" \
		"$VXRAY" encap -i "$NS:$DEV" -o "$d/no/such/dir/out" -d 2s
	expect 2 "cannot write the output file '$d': Is a directory; give a writable path with -o" \
		"$VXRAY" trace -i "$NS:$DEV" --output "$d" -d 2s
	# Root ignores file modes: a read-only mount (private to the run) is
	# what refuses it.
	mkdir "$d/ro"
	expect 2 "cannot write the output file '$d/ro/out': Read-only file system; give a writable path with -o" \
		unshare -m --propagation private sh -c 'mount -t tmpfs -o ro,size=64k none "$1" && exec "$2" latency -i "$3" -o "$1/out" -d 2s' \
		_ "$d/ro" "$VXRAY" "$NS:$DEV"
	expect 2 "-o/--output needs a file name; \`-\` is standard output" "$VXRAY" encap -o ""
	after=$(attached)
	assert_eq "$after" "$before" "what is attached to $DEV after the refused runs"
	# A usage error leaves an existing file alone.
	echo keep >"$d/out"
	expect 2 "VNI 'x' is not a number: give a whole number from 0 to 16777215" \
		"$VXRAY" encap -o "$d/out" --vni x
	assert_eq "$(cat "$d/out")" keep "the file after a usage error"
	rm -rf "$d"
}

# -o FILE gets what stdout would have, and stdout gets nothing; an option's
# value that is also a command name is not taken for the command.
test_output_file_written() {
	local d out
	d=$(mktemp -d)
	out=$("$VXRAY" -o "$d/doctor" doctor -j 2>/dev/null)
	assert_eq "$out" "" "stdout with -o"
	assert_match "$(cat "$d/doctor")" '^\{"type":"doctor","schema":1,"system":\{"kernel":' "doctor's JSON report in the file"
	(cd "$d" && "$VXRAY" -o trace doctor >/dev/null 2>&1)
	assert_match "$(cat "$d/trace")" '^vxray doctor: kernel ' "doctor's report in the file named trace"
	rm -rf "$d"
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
run_test "agent: no VXLAN device yet exits 4, a typo 2" test_agent_not_ready_vs_usage
run_test "unwritable output file: one sentence, nothing attached" test_unwritable_output
run_test "-o FILE receives the output" test_output_file_written
run_test "tracefs unmounted: mounted for the run, unmounted after" test_tracefs_unmounted_is_mounted
run_test "tracefs cannot be mounted: explained" test_tracefs_unmountable_is_explained
run_test "no BTF: every view explains it, nothing attached or mounted" test_no_btf_is_explained
