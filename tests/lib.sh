# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for integration tests. Each test file sources this, defines
# test_* functions and calls run_test for each. Output is TAP, which
# tests/run sums. A test function runs in a subshell: it passes by returning
# 0, fails through fail/assert_* (exit 1), and skips through skip (exit 77).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
VXRAY=${VXRAY:-$ROOT/$BUILD/vxray}
LAB=${LAB:-$ROOT/lab/vxray-lab}
T_N=0

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# assert_match TEXT ERE WHAT
assert_match() {
	grep -Eq -- "$2" <<<"$1" && return 0
	printf 'FAIL: %s\n  expected to match: %s\n  output was:\n%s\n' "$3" "$2" "$(sed 's/^/    /' <<<"$1" | tail -40)"
	exit 1
}

# assert_no_match TEXT ERE WHAT
assert_no_match() {
	grep -Eq -- "$2" <<<"$1" || return 0
	printf 'FAIL: %s\n  expected NOT to match: %s\n  output was:\n%s\n' "$3" "$2" "$(sed 's/^/    /' <<<"$1" | tail -40)"
	exit 1
}

# assert_eq GOT WANT WHAT
assert_eq() {
	[[ "$1" == "$2" ]] && return 0
	fail "$3: got '$1', want '$2'"
}

# assert_ge GOT MIN WHAT
assert_ge() {
	(( $1 >= $2 )) && return 0
	fail "$3: got $1, want >= $2"
}

require_root() {
	((EUID == 0)) || skip "needs root (namespaces, BPF)"
}

# run_test NAME FUNCTION [ARGS...]
# VX_TESTS, an extended regular expression, runs only the tests whose NAME
# matches it; the others are not run and not reported (the kernel matrix's
# quick pass in `make check` picks a few tests per suite this way).
run_test() {
	local name=$1 out rc t0=$SECONDS
	shift
	# A test without a function would pass without running anything.
	(($#)) || { echo "not ok - run_test '$name': no test function given"; exit 1; }
	[[ -z ${VX_TESTS:-} ]] || grep -Eq -- "$VX_TESTS" <<<"$name" || return 0
	out=$("$@" 2>&1)
	rc=$?
	T_N=$((T_N + 1))
	echo "# time: $((SECONDS - t0)) s: $name"
	case $rc in
	0) echo "ok $T_N - $name" ;;
	77) echo "ok $T_N - $name # SKIP $(grep -m1 '^SKIP: ' <<<"$out" | cut -c7-)" ;;
	*)
		echo "not ok $T_N - $name"
		sed 's/^/# /' <<<"$out" | tail -60
		;;
	esac
}

# A test's background processes: `bg PID` remembers one in $BGS, and
# kill_bgs (set as the test's `trap kill_bgs EXIT`: each test runs in a
# subshell, run_test) kills them when the test ends, passed or failed.
# They write to files, never to the subshell's stdout, which run_test
# reads to its end.
BGS=()
bg() { BGS+=("$1"); }
# kill_tree PID: PID and every process under it: a `timeout` or a subshell
# killed alone leaves its child running. Each is stopped before its
# children are listed, so none starts another meanwhile.
kill_tree() {
	local c
	kill -STOP "$1" 2>/dev/null || return 0
	for c in $(pgrep -P "$1"); do kill_tree "$c"; done
	kill -KILL "$1" 2>/dev/null
}
kill_bgs() {
	local p
	for p in "${BGS[@]}"; do kill_tree "$p"; done
	for p in "${BGS[@]}"; do wait "$p" 2>/dev/null; done
	BGS=()
}

# mk_vxlan_ns NS: namespace NS with a VXLAN device (vxlan200, VNI 200,
# 172.17.0.1/24) on a veth underlay of its own (ul0, 10.9.0.1 -> 10.9.0.2)
# and permanent neighbours on both, so that a ping is encapsulated
# (nothing answers).
mk_vxlan_ns() {
	ip netns add "$1" &&
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$1" link add ul0 type veth peer name ul0p &&
		ip -n "$1" addr add 10.9.0.1/24 dev ul0 &&
		ip -n "$1" link set ul0 up && ip -n "$1" link set ul0p up &&
		ip -n "$1" link add vxlan200 type vxlan id 200 dstport 4789 local 10.9.0.1 \
			remote 10.9.0.2 dev ul0 &&
		ip -n "$1" addr add 172.17.0.1/24 dev vxlan200 &&
		ip -n "$1" link set vxlan200 up &&
		ip -n "$1" neigh replace 172.17.0.2 lladdr 02:00:00:00:00:02 dev vxlan200 nud permanent &&
		ip -n "$1" neigh replace 10.9.0.2 lladdr 02:00:00:00:00:03 dev ul0 nud permanent
}

# mk_vxlan_pair A B: namespaces A and B joined by a veth underlay (und0,
# 10.0.0.1 <-> 10.0.0.2) and VXLAN 100 (vxlan100, 172.16.0.1 <-> 172.16.0.2),
# both up: the lab's topology without its state, for suites that inject
# their own faults.
mk_vxlan_pair() {
	local a=$1 b=$2 ns
	ip netns add "$a" && ip netns add "$b" || return 1
	ip -n "$a" link add und0 type veth peer name und0 netns "$b" || return 1
	ip -n "$a" addr add 10.0.0.1/24 dev und0
	ip -n "$b" addr add 10.0.0.2/24 dev und0
	ip -n "$a" link add vxlan100 type vxlan id 100 dstport 4789 local 10.0.0.1 remote 10.0.0.2 dev und0
	ip -n "$b" link add vxlan100 type vxlan id 100 dstport 4789 local 10.0.0.2 remote 10.0.0.1 dev und0
	ip -n "$a" addr add 172.16.0.1/24 dev vxlan100
	ip -n "$b" addr add 172.16.0.2/24 dev vxlan100
	for ns in "$a" "$b"; do
		ip -n "$ns" link set und0 up && ip -n "$ns" link set vxlan100 up || return 1
	done
}

# A TCP port nobody listens on, on 127.0.0.1.
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 40000))
		[[ -z $(ss -Hltn "sport = :$p") ]] && { echo "$p"; return 0; }
	done
	return 1
}

# wait_line FILE ERE: until FILE has a line matching ERE, at most 60 s
# (the 6.1 guest loads programs under software emulation); 1 if never.
wait_line() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# A unique prefix for everything a test file creates, so tests run beside a
# user's own lab and beside each other. Names stay short: interface names
# are built from it and the kernel allows 15 characters.
test_prefix() {
	printf 'vt%x' $(( ($$ ^ RANDOM) & 0xffff ))
}

# tcx_progs NETNS DEV: "tcx ingress|egress ID" for each program attached to
# DEV with TCX, from BPF_PROG_QUERY inside NETNS (bpftool 7.1 cannot show
# TCX attachments).
tcx_progs() {
	ip netns exec "$1" python3 - "$2" <<'EOF_PY'
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

# udp_flows NETNS N BASE [DST]: N new UDP flows from NETNS to DST (default
# the lab's 172.16.0.2), one datagram each to ports BASE+1..BASE+N from a
# socket of its own, so each needs a conntrack entry of its own. One shell
# sends them all (bash's /dev/udp): a process per flow under a timeout lost
# datagrams in the emulated guest, where starting socat can take longer
# than the timeout.
udp_flows() {
	ip netns exec "$1" bash -c 'for ((p = 1; p <= $1; p++)); do
		echo "flow $p" >"/dev/udp/$3/$(($2 + p))" || true
	done' _ "$2" "$3" "${4:-172.16.0.2}" 2>/dev/null
}

# fdinfo_ids PID KEY: the prog_id/link_id/map_id values of PID's file
# descriptors. Other suites and users run the same programs at the same
# time: what a test leaves behind is judged by the ids its own process held,
# never by counting programs by name across the host.
fdinfo_ids() { cat /proc/"$1"/fdinfo/* 2>/dev/null | sed -n "s/^$2:[[:space:]]*//p" | sort -un | tr '\n' ' '; }
prog_ids() { fdinfo_ids "$1" prog_id; }
link_ids() { fdinfo_ids "$1" link_id; }

# alive KIND IDS...: how many of those objects (prog, link, map) the kernel
# still has.
alive() {
	local kind=$1 id n=0
	shift
	for id in "$@"; do bpftool "$kind" show id "$id" >/dev/null 2>&1 && n=$((n + 1)); done
	echo "$n"
}

# alive_after KIND IDS...: like alive, after giving the kernel up to 5 s to
# free them (a program is freed an RCU grace period after its last fd).
alive_after() {
	local i n
	for ((i = 0; i < 50; i++)); do
		n=$(alive "$@")
		((n == 0)) && break
		sleep 0.1
	done
	echo "$n"
}
