#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The benchmark harness cannot rot: `bench/run --smoke` (tiny counts) must
# print every section with figures that are numbers and make sense, and
# leave nothing behind. Timings are not asserted -- only that they exist.
source "$(dirname "$0")/../lib.sh"

VXBENCH=${VXBENCH:-$ROOT/$BUILD/bench/vxbench}
export VXRAY VXBENCH
OUT=$(mktemp /tmp/vxbench-smoke.XXXXXX)
LOG=$(mktemp /tmp/vxbench-smoke-log.XXXXXX)
trap 'rm -f "$OUT" "$LOG"' EXIT

# The one smoke run every test below reads.
smoke_rc=skip
STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null)
if ((EUID == 0)) && [[ -x $VXBENCH && -x $VXRAY ]]; then
	(cd "$ROOT" && BUILD=$BUILD bench/run --smoke --out "$OUT" >"$LOG" 2>&1)
	smoke_rc=$?
fi

need_report() {
	require_root
	[[ -x $VXBENCH ]] || fail "$VXBENCH is not built"
	[[ $smoke_rc == 0 ]] || fail "bench/run --smoke exited $smoke_rc: $(tail -20 "$LOG")"
}

# row SECTION_TEXT FIRST_CELL: the Markdown row that starts with FIRST_CELL.
row() { grep -F -m1 -- "| $1 |" "$OUT"; }
# cell ROW N: the Nth cell of a Markdown row, trimmed.
cell() { awk -F'|' -v n="$2" '{gsub(/^ +| +$/, "", $(n + 1)); print $(n + 1)}' <<<"$1"; }
is_num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
positive() { is_num "$1" && awk -v v="$1" 'BEGIN{exit !(v > 0)}'; }

test_report_header_and_sections() {
	need_report
	local r
	r=$(cat "$OUT")
	assert_match "$r" '^- command: `bench/run --smoke' "the command is recorded"
	assert_match "$r" "^- kernel: $(uname -r) " "the kernel is recorded"
	assert_match "$r" '^- date: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC' "the date is recorded"
	for s in "## 1. Per-program cost" "## 2. Throughput impact" "## 3. Event rate" \
		"## 4. Startup and footprint" "## 5. Hook cost per backend" \
		"## 6. Scale on one node" "## Targets"; do
		assert_match "$r" "^$s" "section '$s'"
	done
	assert_match "$(tail -1 "$OUT")" '^\| 6 \| ' "--out holds the whole report, to the last target"
}

test_program_cost_rows() {
	need_report
	local p f line
	for p in vx_xdp_ul_in vx_tc_ul_in vx_tc_ul_out; do
		for f in "VXLAN, inner TCP" "VXLAN, inner ICMP" "plain TCP" "non-IP (ARP)"; do
			line=$(row "$p | $f")
			[[ -n $line ]] || fail "no row for $p on $f"
			positive "$(cell "$line" 4)" || fail "empty ns/pkt is not a positive number: $line"
			positive "$(cell "$line" 5)" || fail "vxray ns/pkt is not a positive number: $line"
			positive "$(cell "$line" 6)" || fail "ratio is not a positive number: $line"
		done
	done
	for p in vx_tc_vx_in vx_tc_vx_out; do
		for f in "inner TCP" "inner ICMP" "non-IP (ARP)"; do
			[[ -n $(row "$p | $f") ]] || fail "no row for $p on $f"
		done
	done
	# Events on: the smoke run's 1000 runs each emitted one event, none lost,
	# and the harness's consumer read every one.
	line=$(row "vx_tc_ul_in, events on")
	assert_match "$line" '\| 1000 events, 0 lost \|$' "every run emitted one event"
	assert_match "$(cat "$OUT")" '^events_seen_by_consumer=1000$' "the consumer saw every event"
	# The kernel's own sizes: vxray's programs are far bigger than the empty ones.
	assert_match "$(grep -E '^\| vx_tc_ul_in \| [0-9]+ \| [0-9]+ \|$' "$OUT")" . "instruction count row"
}

test_throughput_rows() {
	need_report
	local line k
	for k in "TCP, Mbit/s" "UDP 64 B, received pkt/s"; do
		line=$(row "$k")
		[[ -n $line ]] || fail "no throughput row for $k"
		for n in 2 3 4 5 6; do
			positive "$(cell "$line" "$n")" || fail "cell $n of '$k' is not a positive number: $line"
		done
	done
	assert_match "$(cat "$OUT")" 'attached: encap drops retrans' "configuration (c) names its views"
	# The live profile: counters only ran vxray's four tc programs and
	# nothing reads a ring, so BPF time is positive, and the tunnel-cache
	# misses and vxray's own CPU are numbers; the statistics switch is left
	# as it was.
	line=$(row "b | UDP 64 B")
	[[ -n $line ]] || fail "no live profile row for (b)"
	positive "$(cell "$line" 3)" || fail "BPF share of (b) is not a positive number: $line"
	positive "$(cell "$line" 4)" || fail "BPF ns per packet of (b) is not a positive number: $line"
	is_num "$(cell "$line" 5)" || fail "tunnel-cache misses of (b) are not a number: $line"
	is_num "$(cell "$line" 6)" || fail "vxray CPU of (b) is not a number: $line"
	for p in vx_tc_ul_in vx_tc_ul_out vx_tc_vx_in vx_tc_vx_out; do
		assert_match "$line" "$p: [1-9][0-9]*/s x [1-9][0-9]* ns" "(b) ran $p"
	done
	[[ -n $(row "retrans | UDP 64 B") ]] || fail "no live profile row for retrans"
	# The agent after a warm-up under each kind's own flow: its programs
	# ran, BPF per received unit is a number, and the stamp bitmap was read.
	for k in TCP "UDP 64 B"; do
		line=$(row "f, 1s in | $k")
		[[ -n $line ]] || fail "no steady-state row for the agent on $k"
		positive "$(cell "$line" 4)" || fail "BPF ns per unit of the warmed agent is not a positive number: $line"
		is_num "$(cell "$line" 5)" || fail "tunnel-cache misses of the warmed agent are not a number: $line"
		assert_match "$line" "vx_tc_vx_in: [1-9][0-9]*/s x [1-9][0-9]* ns" "the warmed agent ran vx_tc_vx_in on $k"
		assert_match "$line" ", [0-9]+ of 65536 stamp slots busy \|$" "the warmed agent's busy stamp slots on $k"
	done
	# The floors: the parse floor ran its own programs on both kinds of
	# device.
	line=$(row "p | UDP 64 B")
	[[ -n $line ]] || fail "no live profile row for the parse floor (p)"
	for p in vxb_tc_parse_ul vxb_tc_parse_vx; do
		assert_match "$line" "$p: [1-9][0-9]*/s x [1-9][0-9]* ns" "(p) ran $p"
	done
	# Attached and detached under one flow: a median and quartiles for
	# nothing, both floors, the agent and diagnose, on both kinds.
	for k in "TCP, bits/s through the tunnel" "UDP 64 B, pkt/s through the tunnel"; do
		assert_match "$(row "$k")" "^\| $k( \| [0-9]+\.[0-9]{3} \([0-9]+\.[0-9]{3}-[0-9]+\.[0-9]{3}\)){5} \|$" "the toggled row for $k"
		k="${k%%,*}: the configuration's own processes, % of one CPU while attached (median)"
		assert_match "$(row "$k")" "^\| ${k//[()]/.}( \| [0-9]+(\.[0-9]+)?){5} \|$" "the processes' CPU row for ${k%%:*}"
		# (f) and (g) toggled against the parse floor itself.
		k="${k%%:*}: against (p) instead of nothing, beyond the floor"
		assert_match "$(row "$k")" "^\| ${k//[()]/.} \| - \| - \| base( \| [0-9]+\.[0-9]{3} \([0-9]+\.[0-9]{3}-[0-9]+\.[0-9]{3}\)){2} \|$" "the beyond-the-floor row for ${k%%:*}"
		# (g) toggled against (f): a diagnosis beyond the agent.
		k="${k%%:*}: against (f) instead of nothing, beyond the agent"
		assert_match "$(row "$k")" "^\| ${k//[()]/.} \| - \| - \| - \| base \| [0-9]+\.[0-9]{3} \([0-9]+\.[0-9]{3}-[0-9]+\.[0-9]{3}\) \|$" "the beyond-the-agent row for ${k%%:*}"
	done
	# Where the CPUs' time goes under each of (a) (e) (p) (f) (g): CPU 1's
	# per packet of the UDP flow, then both CPUs' per kB of the TCP flow.
	assert_match "$(cat "$OUT")" '^\| ns per packet on CPU 1 \|' "the UDP profile's table"
	assert_match "$(cat "$OUT")" '^\| ns per kB on both CPUs \|' "the TCP profile's table"
	for k in total bpf wakeup idle rest; do
		assert_eq "$(grep -cE "^\| $k( \| [0-9]+){5} \|$" "$OUT")" 2 "the profile rows $k, UDP and TCP"
	done
	positive "$(cell "$(row total)" 5)" || fail "no CPU time per packet under (f): $(row total)"
	positive "$(cell "$(grep -F -- '| total |' "$OUT" | sed -n 2p)" 6)" || fail "no CPU time per kB under (g)"
	# What (f)'s and (g)'s programs cost beyond the floor's, from the
	# same samples: a share of the floor's time, for each kind.
	assert_eq "$(grep -cE "^\| BPF beyond \(p\), % of \(p\)'s total \| - \| - \| 0( \| -?[0-9]+\.[0-9]){2} \|$" "$OUT")" 2 "the BPF-beyond-the-floor rows"
	# The same samples by source line: the floor's parse and the agent's
	# own lines, named by file and line, and the sum of both columns.
	line=$(row "all of vxray's and vxbench's programs")
	assert_match "$line" "^\| all of vxray's and vxbench's programs \| [0-9]+ \| [0-9]+ \|$" "the by-line total"
	positive "$(cell "$line" 3)" || fail "no sample put on an agent's source line: $line"
	assert_match "$(cat "$OUT")" '^\| `(vx_bench_tc\.bpf\.c|vx_parse\.h):[0-9]+ [^`]+` \| [0-9]+ \| [0-9]+ \|$' "a parse floor's source line"
	assert_match "$(cat "$OUT")" '^\| `(vx_datapath\.bpf\.h|vx_tc\.bpf\.c|vx_lat\.bpf\.h|vxray\.h):[0-9]+ [^`]+` \| [0-9]+ \| [0-9]+ \|$' "an agent's source line"
	assert_eq "$(sysctl -n kernel.bpf_stats_enabled)" "$STATS_BEFORE" "bpf_stats_enabled restored"
}

test_event_rate_rows() {
	need_report
	local best rows secs
	best=$(sed -n 's/^max_lossless_events_per_s=//p' "$OUT")
	positive "$best" || fail "no lossless event rate: '$best'"
	assert_match "$(cat "$OUT")" '^consumer_drain_events_per_s=[1-9][0-9]* \(median of 3 bursts' "the consumer's drain rate"
	rows=$(grep -E '^\| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \| (yes|no) \|$' "$OUT")
	secs=$(sed -n 's/^offers target x \([0-9.]*\)s events.*/\1/p' "$OUT")
	positive "$secs" || fail "no step length in the report: '$secs'"
	[[ -n $rows ]] || fail "no event-rate step rows"
	while read -r line; do
		local target offered ev lost
		target=$(cell "$line" 1) offered=$(cell "$line" 2) ev=$(cell "$line" 4) lost=$(cell "$line" 5)
		# The pacer offers the whole step: target x the step's seconds.
		((offered == $(awk -v t="$target" -v s="$secs" 'BEGIN{printf "%.0f", t * s}'))) ||
			fail "the step offered $offered, not $target/s x ${secs}s: $line"
		# Every offered run reached vxray's ring buffer or its loss count
		# (the lab's own traffic may add a few).
		((ev + lost >= offered)) || fail "events and losses fall short of what was offered: $line"
	done <<<"$rows"
}

test_startup_rows() {
	need_report
	local line
	line=$(row "vxray drops")
	[[ -n $line ]] || fail "no vxray startup row"
	positive "$(cell "$line" 2)" || fail "vxray startup is not a positive number: $line"
	awk -v m="$(cell "$line" 3)" 'BEGIN{exit !(m > 1 && m < 4096)}' || fail "vxray RSS is not sane: $line"
	command -v bpftrace >/dev/null || skip "bpftrace is not installed: no comparison row"
	line=$(row "bpftrace bench/drop_watch.bt")
	positive "$(cell "$line" 2)" || fail "bpftrace startup is not a positive number: $line"
	assert_match "$(cat "$OUT")" 'Ratios \(bpftrace / vxray\): startup [0-9.]+, RSS [0-9.]+\.' "ratios printed"
}

test_hook_rows() {
	need_report
	local line
	line=$(row kfree_skb)
	assert_match "$line" '^\| kfree_skb \| vxd_tp_btf \| [0-9]+ \|' "vxray's drop probe on kfree_skb"
	positive "$(cell "$line" 3)" || fail "no kfree_skb calls counted: $line"
	positive "$(cell "$line" 5)" || fail "empty kfree_skb program not measured: $line"
	assert_match "$(row tcp_retransmit_skb)" '^\| tcp_retransmit_skb \| vxr_tp_btf_skb \|' "vxray's retransmit probe"
}

test_targets_table() {
	need_report
	local t
	t=$(sed -n '/^## Targets/,$p' "$OUT")
	for s in 1 2 3 4 6; do
		assert_match "$t" "^\| $s \| .* \| (met|MISSED|not measured)" "a verdict for section $s"
	done
}

# Section 6 started vxray on each node size and measured it: a row per
# size with a startup time, RSS and map memory, and the per-packet ratio
# with big tables from section 1.
test_scale_rows() {
	need_report
	local n
	for n in devices-1 devices-10 namespaces-2 namespaces-3; do
		assert_match "$(grep -E "^\| $n \| " "$OUT")" "^\| $n \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \|$" "section 6 row $n"
	done
	assert_match "$(grep -E '^\| vx_tc_ul_in, 1000 devices and 10000 remotes' "$OUT")" '\| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|' "section 1 row with big tables"
	assert_match "$(cat "$OUT")" '^Per added device: [0-9.-]+ ms; per added namespace' "per-step figures"
}

test_nothing_left_behind() {
	need_report
	assert_eq "$(ip netns list | grep -cE '^bn[0-9a-f]+-(s|n[0-9]+)( |$)')" 0 "section 6's namespaces left behind"
	assert_eq "$(bpftool prog list | grep -cE 'name vxb_(tc|xdp|kfree|net_dev|tcp)')" 0 "baseline programs left loaded"
	assert_eq "$(ls -d /tmp/vxbench.* 2>/dev/null | wc -l)" 0 "scratch directories left in /tmp"
}

test_bad_input() {
	local out rc
	out=$(cd "$ROOT" && bench/run --bogus 2>&1)
	rc=$?
	assert_eq "$rc" 2 "bench/run with an unknown option exits 2"
	assert_match "$out" "unknown option '--bogus'" "and says which"
	[[ -x $VXBENCH ]] || skip "vxbench is not built"
	out=$("$VXBENCH" prog -n 0 2>&1)
	rc=$?
	assert_eq "$rc" 2 "vxbench prog -n 0 exits 2"
	assert_match "$out" 'repeat count > 0' "and says what it wants"
	out=$("$VXBENCH" rate -p 0 2>&1)
	assert_eq "$?" 2 "vxbench rate without a pid exits 2"
}

run_test "bench: report header and all six sections" test_report_header_and_sections
run_test "bench: per-program rows, events-on path, sizes" test_program_cost_rows
run_test "bench: throughput rows for (a) (b) (c)" test_throughput_rows
run_test "bench: event-rate steps" test_event_rate_rows
run_test "bench: startup and RSS beside bpftrace" test_startup_rows
run_test "bench: hook cost beside empty programs" test_hook_rows
run_test "bench: scale rows for devices, namespaces, tables" test_scale_rows
run_test "bench: targets table has a verdict per section" test_targets_table
run_test "bench: nothing left loaded or on disk" test_nothing_left_behind
run_test "bench: bad input gets one sentence and exit 2" test_bad_input
