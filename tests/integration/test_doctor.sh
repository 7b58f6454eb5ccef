#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vxray doctor: its hook table must match what this kernel really does
# (checked by independent attempts with bpftool, ip and tracefs, not by
# constants), it must leave nothing behind, and its VXLAN inventory and
# MTU check must describe a topology this test builds itself.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
TMP=$(mktemp -d)
cleanup() {
	for ns in "$P-a" "$P-b"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# supported KIND -> true/false from doctor -j
doctor_json() { "$VXRAY" doctor -j "$@" 2>/dev/null; }
supported() { grep -o "\"$2\":{\"supported\":[a-z]*" <<<"$1" | sed 's/.*://'; }

# Load one program with bpftool in a private mount namespace (the pin dies
# with it): the independent answer to "does this kernel load it?".
bpftool_loads() {
	local name=$1 src=$2 obj=$TMP/$1.o
	printf '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC("license") = "GPL";\n%s\n' "$src" >"$TMP/$name.c"
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$ROOT/$BUILD" -c "$TMP/$name.c" -o "$obj" || return 2
	unshare -m sh -c "mount -t bpf bpf /sys/fs/bpf && bpftool prog load '$obj' /sys/fs/bpf/$name" >/dev/null 2>&1
}

# scratch_veth: namespace $P-x with a veth vxt0/vxt1, for one attempt.
scratch_veth() {
	ip netns add "$P-x"
	ip -n "$P-x" link add vxt0 type veth peer name vxt1
}

# xdp_attaches MODE: "true" when ip attaches $TMP/xdp.o to a veth in MODE
# (xdpdrv, xdpgeneric), else "false".
xdp_attaches() {
	local ok=false
	scratch_veth
	ip -n "$P-x" link set dev vxt0 "$1" obj "$TMP/xdp.o" sec xdp 2>/dev/null && ok=true
	ip netns del "$P-x"
	echo "$ok"
}

test_hook_table_matches_kernel() {
	require_root
	local out want got
	out=$(doctor_json)
	[[ -n $out ]] || fail "doctor -j printed nothing"

	bpftool_loads fentry 'SEC("fentry/tcp_v4_rcv") int p(void *c) { return 0; }' && want=true || want=false
	# Loading is the first half; fentry's attach never fails once loaded here.
	got=$(supported "$out" 'fentry/fexit')
	assert_eq "$got" "$want" "fentry/fexit: doctor vs a direct bpftool load"

	# kprobe: the kernel accepts a kprobe on tcp_v4_rcv through tracefs
	# (needs CONFIG_KPROBE_EVENTS, which BPF kprobes need too).
	want=false
	if unshare -m sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
		echo "p:vxt_'$P' tcp_v4_rcv" >>/sys/kernel/tracing/kprobe_events &&
		echo "-:vxt_'$P'" >>/sys/kernel/tracing/kprobe_events' 2>/dev/null; then
		want=true
	fi
	assert_eq "$(supported "$out" 'kprobe/kretprobe')" "$want" "kprobe: doctor vs a direct tracefs kprobe"

	bpftool_loads tpbtf 'SEC("tp_btf/kfree_skb") int p(void *c) { return 0; }' && want=true || want=false
	assert_eq "$(supported "$out" tp_btf)" "$want" "tp_btf: doctor vs a direct bpftool load"

	want=false
	if bpftool_loads tp 'SEC("tracepoint/skb/kfree_skb") int p(void *c) { return 0; }' &&
		unshare -m sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; test -r /sys/kernel/tracing/events/skb/kfree_skb/id'; then
		want=true
	fi
	assert_eq "$(supported "$out" tracepoint)" "$want" "tracepoint: doctor vs bpftool load + tracefs event"

	# XDP native: ip attaches a real program in driver mode on a veth.
	bpftool_loads xdp 'SEC("xdp") int p(struct xdp_md *c) { return XDP_PASS; }' || fail "xdp object does not load"
	assert_eq "$(supported "$out" 'xdp native')" "$(xdp_attaches xdpdrv)" "xdp native: doctor vs ip link set xdpdrv"

	# tc clsact: tc attaches a real cls_bpf filter.
	scratch_veth
	bpftool_loads tc 'SEC("tc") int p(struct __sk_buff *s) { return -1; }' || fail "tc object does not load"
	if ip netns exec "$P-x" tc qdisc add dev vxt0 clsact &&
		ip netns exec "$P-x" tc filter add dev vxt0 ingress bpf da obj "$TMP/tc.o" sec tc 2>/dev/null; then
		want=true
	else
		want=false
	fi
	ip netns del "$P-x"
	assert_eq "$(supported "$out" 'tc clsact')" "$want" "tc clsact: doctor vs tc filter add bpf"

	# XDP generic: ip attaches the same program in skb mode.
	assert_eq "$(supported "$out" 'xdp generic')" "$(xdp_attaches xdpgeneric)" "xdp generic: doctor vs ip link set xdpgeneric"

	# TCX: bpftool 7.1 cannot attach one, so a few lines of C written here
	# do the bpf(2) calls themselves (independent of vxray's code).
	scratch_veth
	want=false
	tcx_attaches "$P-x" vxt0 && want=true
	ip netns del "$P-x"
	assert_eq "$(supported "$out" 'tcx link')" "$want" "tcx link: doctor vs a direct BPF_LINK_CREATE"

	# Ring buffer: the kernel creates a BPF_MAP_TYPE_RINGBUF map.
	if unshare -m sh -c "mount -t bpf bpf /sys/fs/bpf && bpftool map create /sys/fs/bpf/rb type ringbuf key 0 value 0 entries 4096 name vxt_rb" >/dev/null 2>&1; then
		want=true
	else
		want=false
	fi
	assert_eq "$(supported "$out" ringbuf)" "$want" "ringbuf: doctor vs bpftool map create type ringbuf"
}

# tcx_attaches NETNS DEV: load "return TC_ACT_UNSPEC" as a tc program for
# BPF_TCX_INGRESS (46) and link it to DEV with BPF_LINK_CREATE.
tcx_attaches() {
	cat >"$TMP/tcx.c" <<'EOF_C'
#include <linux/bpf.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	int prog, link;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	a.insns = (unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	a.expected_attach_type = 46;
	prog = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (prog < 0)
		return perror("load"), 1;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = prog;
	a.link_create.target_ifindex = if_nametoindex(argv[1]);
	a.link_create.attach_type = 46;
	link = syscall(SYS_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	if (link < 0)
		return perror("link"), 1;
	return 0;
}
EOF_C
	gcc -o "$TMP/tcx" "$TMP/tcx.c" || return 2
	ip netns exec "$1" "$TMP/tcx" "$2" 2>/dev/null
}

test_host_kernel_facts() {
	require_root
	local out
	[[ $(uname -r) == 6.1.* ]] && skip "the 6.1 guest has its own test"
	out=$("$VXRAY" doctor)
	# PLATFORM.md: this host refuses fentry with EPERM and has no kprobes.
	assert_match "$out" 'fentry/fexit +no +load: Operation not permitted' "fentry refused with EPERM"
	assert_match "$out" 'kprobe/kretprobe +no ' "kprobe refused"
	assert_match "$out" 'tp_btf +yes' "tp_btf works"
	assert_match "$out" 'tcx link +yes' "TCX works on 6.18"
	# The per-point table: what each view would pick, and why not better.
	assert_match "$out" 'kfree_skb +tp_btf/kfree_skb' "drops: tp_btf chosen"
	assert_match "$out" 'also tracepoint/skb/kfree_skb: works \(--backend tracepoint\)' "drops: the classic tracepoint is an alternative"
	assert_match "$out" 'also fentry/(sk_skb_reason_drop|kfree_skb_reason): refused: load [a-z_]+: Operation not permitted' "drops: fentry refused with EPERM"
	assert_match "$out" 'also kprobe/(sk_skb_reason_drop|kfree_skb_reason): refused: attach [a-z_]+: .*no kprobes' "drops: kprobe refused, no kprobes"
	assert_match "$out" 'tcp_retransmit +tp_btf/tcp_retransmit_skb,tcp_retransmit_synack' "retrans: tp_btf chosen"
	assert_match "$out" 'conntrack +ctnetlink/events' "conntrack: ctnetlink chosen"
	assert_match "$out" 'refused fexit/__nf_conntrack_alloc,__nf_conntrack_confirm,[a-z_]+: load __nf_conntrack_alloc: Operation not permitted' "conntrack: fexit refused"
	assert_match "$out" 'nf_hook_slow +kfree_skb/NETFILTER_DROP' "policy: falls back to kfree_skb's reason"
	assert_match "$out" 'vxlan_xmit +tp_btf/net_dev_start_xmit,net_dev_xmit' "vxlan_xmit: tp_btf pair"
	assert_match "$out" 'vxlan_rcv +datapath/tcx ingress pair' "vxlan_rcv: the datapath's TCX pair"
}

# json_backend JSON POINT: the backend doctor -j chose for POINT.
json_backend() {
	grep -o "\"$2\":{\"backend\":[^,]*" <<<"$1" | sed 's/.*"backend"://; s/"//g'
}

# The table must name what the views really attach, on whatever kernel
# this runs (the 6.1 guest too): doctor's choice vs the view's own words.
test_points_match_views() {
	require_root
	local out got want
	out=$(doctor_json)
	want=$(json_backend "$out" kfree_skb)
	[[ -n $want ]] || fail "no kfree_skb point in doctor -j: $out"
	got=$("$VXRAY" drops -d 1s 2>&1 | grep -o 'tracing drops with [^ ]*' | sed 's/.* //')
	assert_eq "$got" "$want" "kfree_skb: doctor vs vxray drops"

	want=$(json_backend "$out" conntrack)
	# This shell's namespace only: without --netns the view also opens
	# every other suite's labs, which come and go while it starts.
	got=$("$VXRAY" conntrack --netns "pid:$$" -d 1s --interval 1s 2>&1 | grep -o 'watching conntrack in .* with [^ ]*' | sed 's/.* with //')
	case $want in
	fexit/*) assert_match "$got" '^fexit/__nf_conntrack_alloc' "conntrack: doctor says fexit" ;;
	kretprobe/*) assert_match "$got" '^kprobe\+kretprobe/' "conntrack: doctor says kretprobe" ;;
	ctnetlink/*) assert_eq "$got" ctnetlink "conntrack: doctor says ctnetlink" ;;
	*) fail "conntrack: doctor chose '$want'" ;;
	esac
	if [[ $(uname -r) == 6.1.* ]]; then
		# Debian's 6.1: trampolines and kprobes work, vxlan is a module.
		assert_match "$want" '^fexit/' "6.1: conntrack on fexit"
		assert_match "$(json_backend "$out" nf_hook_slow)" '^fexit/nf_hook_slow$' "6.1: nf_hook_slow on fexit"
		assert_match "$(json_backend "$out" vxlan_rcv)" '^fentry/vxlan_rcv$' "6.1: vxlan_rcv on fentry (module BTF)"
	fi
}

# new_ids KIND MAX [ERE]: ids of KIND (prog, link) above MAX still alive,
# on lines matching ERE (vxray's program names, for programs: other users
# of this machine load their own).
new_ids() {
	bpftool "$1" list 2>/dev/null | grep -E "${3:-.}" | sed -n 's/^\([0-9]*\): .*/\1/p' |
		awk -v m="$2" '$1 > m' | tr '\n' ' '
}

max_id() {
	bpftool "$1" list 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -n | tail -1
}

# Objects doctor created are those with an id above the largest one before
# it ran (ids only grow). The kernel frees a program a little after its
# last fd closes (RCU, deferred work), and a suite running beside this one
# may have a vxray open meanwhile (a diagnose window, an agent), whose
# programs go when it ends: only what is still there after 60 s is left
# behind.
test_leaves_nothing_behind() {
	require_root
	local pmax lmax progs links mounts i
	pmax=$(max_id prog) lmax=$(max_id link)
	# The mount table is read in a mount namespace of doctor's own, so
	# that suites running beside this one (`ip netns add`, tracefs
	# mounted by a drop probe) do not change it meanwhile; but for the
	# namespaces' nsfs mounts: `ip netns del` elsewhere unlinks their
	# files, which takes the mounts away in every mount namespace.
	mounts=$(unshare -m --propagation private bash -c \
		'm() { awk "\$3 != \"nsfs\"" /proc/self/mounts | md5sum; }
		 b=$(m); "$1" doctor >/dev/null 2>&1; a=$(m); echo "$b"; echo "$a"' _ "$VXRAY")
	for ((i = 0; i < 300; i++)); do
		progs=$(new_ids prog "${pmax:-0}" ' name (hp|vx)') links=$(new_ids link "${lmax:-0}")
		[[ -z $progs && -z $links ]] && break
		sleep 0.2
	done
	assert_eq "$progs" "" "BPF programs doctor loaded and left behind"
	assert_eq "$links" "" "BPF links doctor created and left behind"
	[[ $(wc -l <<<"$mounts") == 2 ]] || fail "could not read the mount table around doctor: $mounts"
	assert_eq "$(sed -n 2p <<<"$mounts")" "$(sed -n 1p <<<"$mounts")" "mount table after doctor"
}

make_topology() {
	ip netns add "$P-a" && ip netns add "$P-b" || fail "cannot create namespaces"
	ip -n "$P-a" link add und0 type veth peer name und0 netns "$P-b"
	ip -n "$P-a" addr add 10.0.0.1/24 dev und0
	ip -n "$P-b" addr add 10.0.0.2/24 dev und0
	ip -n "$P-a" -6 addr add fd00::1/64 dev und0 nodad
	ip -n "$P-b" -6 addr add fd00::2/64 dev und0 nodad
	ip -n "$P-a" link set und0 up
	ip -n "$P-b" link set und0 up
	ip -n "$P-a" link add vxlan100 type vxlan id 100 dstport 4789 local 10.0.0.1 remote 10.0.0.2 dev und0
	ip -n "$P-b" link add vxlan100 type vxlan id 100 dstport 4789 local 10.0.0.2 remote 10.0.0.1 dev und0
	# No `dev`: the underlay must be found by route; Linux's old port.
	ip -n "$P-b" link add vxr7 type vxlan id 7 dstport 8472 local 10.0.0.2 remote 10.0.0.1 nolearning
	ip -n "$P-b" link set vxr7 mtu 1450
	# IPv6 underlay: 70 bytes of overhead.
	ip -n "$P-b" link add vx6 type vxlan id 600 dstport 4789 local fd00::2 remote fd00::1 dev und0
	# No remote: the peer is an FDB entry, the underlay the route to it.
	ip -n "$P-b" link add vxf8 type vxlan id 8 dstport 4789 local 10.0.0.2 nolearning
	ip -n "$P-b" link set vxf8 mtu 1450
	bridge -n "$P-b" fdb append 00:00:00:00:00:00 dev vxf8 dst 10.0.0.1
	# Neither remote nor FDB: the device holding the local address.
	ip -n "$P-b" link add vxl9 type vxlan id 9 dstport 4789 local 10.0.0.2 nolearning
	ip -n "$P-b" link set vxl9 mtu 1450
}

test_inventory() {
	require_root
	make_topology
	local out rc
	out=$("$VXRAY" doctor --netns "$P-a" --netns "$P-b"); rc=$?
	assert_eq "$rc" 0 "exit code on a healthy topology"
	assert_match "$out" "$P-a +vxlan100 +100 +10\.0\.0\.1 +10\.0\.0\.2 +4789 +und0 +yes +1450 +1500" "P-a's vxlan100"
	assert_match "$out" "$P-b +vxlan100 +100 +10\.0\.0\.2 +10\.0\.0\.1 +4789 +und0" "P-b's vxlan100"
	assert_match "$out" "$P-b +vxr7 +7 .* 8472 +und0 +no +1450 +1500" "route-found underlay, port 8472, learning off"
	assert_match "$out" "$P-b +vx6 +600 +fd00::2 +fd00::1 +4789 +und0 .* 1430 +1500" "IPv6 VXLAN at 1430"
	assert_match "$out" "$P-b +vxf8 +8 +10\.0\.0\.2 +10\.0\.0\.1 \(fdb\) +4789 +und0 +no +1450 +1500" "an FDB-only device's remote, from its FDB"
	assert_match "$out" "$P-b +vxl9 +9 +10\.0\.0\.2 +- +4789 +und0" "neither remote nor FDB entry: no remote"
	assert_match "$out" "no problem found" "healthy: no finding"
	out=$("$VXRAY" doctor -j --netns "$P-b")
	assert_match "$out" '"device":"vxf8",[^]]*"remote_vtep":null,[^]]*"external":false,"vnifilter":false,"vnis":\[\],"remotes":\[\{"remote_vtep":"10\.0\.0\.1","vni":null,"from":"fdb"\}\]' "JSON: the FDB remote"
	assert_match "$out" '"device":"vxlan100",[^]]*"remote_vtep":"10\.0\.0\.1",[^]]*"vnis":\[\],"remotes":\[\]' "JSON: the device's own remote is not listed again"
	assert_match "$out" '"device":"vxr7","ifindex":[0-9]+,"vni":7,.*"underlay":"und0","underlay_mtu":1500,"underlay_found_by":"route"' "JSON: route-found underlay"
	assert_match "$out" '"device":"vx6",.*"remote_vtep":"fd00::1"' "JSON: IPv6 remote"
	assert_match "$out" '"device":"vxf8",.*"underlay":"und0","underlay_mtu":1500,"underlay_found_by":"route"' "JSON: an FDB peer's route names the underlay"
	assert_match "$out" '"device":"vxl9",.*"underlay":"und0","underlay_mtu":1500,"underlay_found_by":"route"' "JSON: the local address's device is the underlay (not loopback)"
}

test_mtu_flag() {
	require_root
	make_topology
	local out rc
	# A VXLAN bound to its underlay (dev und0) cannot be raised past it,
	# but lowering the underlay later leaves it too big; one found by
	# route can be set to anything.
	ip -n "$P-b" link set und0 mtu 1400
	ip -n "$P-b" link set vxr7 mtu 1500
	out=$("$VXRAY" doctor --netns "$P-b"); rc=$?
	assert_eq "$rc" 3 "exit code when an MTU does not fit"
	assert_match "$out" "MTU: vxr7 in $P-b: overlay MTU 1500 does not fit underlay und0 MTU 1400 .*at most 1350" "finding names both MTUs"
	assert_match "$out" "MTU: vxlan100 in $P-b: overlay MTU 1450 does not fit underlay und0 MTU 1400" "lowered underlay flagged"
	# The IPv6 one (1430 over 1400) is flagged with its own overhead.
	assert_match "$out" "MTU: vx6 in $P-b: overlay MTU 1430 .* MTU 1400 \(VXLAN over IPv6 adds 70" "IPv6 overhead"
	out=$("$VXRAY" doctor --netns "$P-a"); rc=$?
	assert_eq "$rc" 0 "the other namespace is still healthy"
}

test_unknown_names() {
	local out rc
	out=$("$VXRAY" doctor --netns "$P-nope" 2>&1); rc=$?
	assert_eq "$rc" 4 "exit code for an unknown namespace"
	assert_match "$out" "network namespace '$P-nope' does not exist" "names the namespace"
	require_root
	make_topology
	out=$("$VXRAY" doctor -i "$P-a:nope0" 2>&1); rc=$?
	assert_eq "$rc" 4 "exit code for an unknown interface"
	assert_match "$out" "interface 'nope0' does not exist in namespace '$P-a'" "names interface and namespace"
}

test_unprivileged() {
	require_root
	command -v setpriv >/dev/null || skip "setpriv missing"
	local out rc
	out=$(setpriv --inh-caps=-all --bounding-set=-all --reuid=65534 --regid=65534 --clear-groups \
		"$VXRAY" doctor 2>&1); rc=$?
	assert_eq "$rc" 4 "exit code without privileges"
	assert_match "$out" "vxray needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN .*run it as root" "one sentence saying what to do"
}

run_test "hook table matches direct attempts" test_hook_table_matches_kernel
run_test "host kernel: tp_btf yes, fentry EPERM, no kprobes" test_host_kernel_facts
run_test "doctor's probe points match what the views attach" test_points_match_views
run_test "doctor leaves no program, link or mount behind" test_leaves_nothing_behind
run_test "inventory of VXLAN devices and underlays" test_inventory
cleanup; TMP=$(mktemp -d)
run_test "MTU mismatch flagged with both numbers, exit 3" test_mtu_flag
cleanup; TMP=$(mktemp -d)
run_test "unknown namespace or interface" test_unknown_names
run_test "missing privileges" test_unprivileged
