#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The JSON contract (docs/JSON.md): every record every view printed while
# real traffic, a netfilter drop, SYN retransmits and conntrack entries
# crossed a two-namespace VXLAN lab validates against its schema under
# docs/schema, where every object forbids keys it does not list; every
# record carries "type" and "schema"; and the checker does fail on a key
# the schema does not know.
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
WORK=$(mktemp -d)
SCHEMAS=$ROOT/docs/schema
CHECK=$ROOT/tests/jsoncheck.py

cleanup() {
	kill_bgs
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# A and B joined by a veth underlay and VXLAN 100; B drops TCP to port 8080
# arriving through the tunnel (a netfilter drop, and SYN retransmits at A).
setup() {
	mk_vxlan_pair "$A" "$B" || return 1
	ip netns exec "$B" iptables -A INPUT -i vxlan100 -p tcp --dport 8080 -j DROP
}

# view NAME ARGS...: vxray ARGS -j in the background, stdout and stderr in
# $WORK/NAME.out and NAME.err.
view() {
	local name=$1
	shift
	"$VXRAY" "$@" -j >"$WORK/$name.out" 2>"$WORK/$name.err" &
	bg $!
}

# Every view at once over the same 14 seconds of traffic.
record_everything() {
	local ns=(--netns "$A" --netns "$B") v i
	view encap encap --auto "${ns[@]}" -d 14s
	view trace trace --auto "${ns[@]}" -d 14s
	view drops drops "${ns[@]}" -d 14s
	view conntrack conntrack "${ns[@]}" -d 14s
	view retrans retrans "${ns[@]}" -d 14s
	view policy policy "${ns[@]}" -d 14s
	view latency latency --auto "${ns[@]}" -d 14s
	view diagnose diagnose "${ns[@]}" -d 10s
	"$VXRAY" agent "${ns[@]}" --metrics 127.0.0.1:0 --interval 10ms --state-dir "$WORK/state" -j \
		-d 14s >"$WORK/agent.out" 2>"$WORK/agent.err" &
	bg $!
	# Traffic once every view is attached (the 6.1 guest loads slowly).
	for v in encap trace drops conntrack retrans policy latency diagnose; do
		wait_line "$WORK/$v.err" 'Ctrl-C|watching|attached|listening|diagnos' ||
			fail "vxray $v did not start: $(cat "$WORK/$v.err")"
	done
	ip netns exec "$A" ping -q -i 0.01 -w 8 172.16.0.2 >/dev/null 2>&1 &
	bg $!
	for i in 1 2; do
		ip netns exec "$A" timeout 4 bash -c 'echo x >/dev/tcp/172.16.0.2/8080' 2>/dev/null &
		bg $!
	done
	for ((i = 0; i < 300; i++)); do
		pgrep -f -- "$VXRAY .*--netns $A" >/dev/null || break
		sleep 0.1
	done
	kill_bgs
}

test_every_view_validates() {
	require_root
	# This subshell's background views (run_test), stopped on any exit.
	trap kill_bgs EXIT
	[[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
		skip "Debian's python3-jsonschema is not installed (make deps)"
	setup || fail "lab setup"
	record_everything
	"$VXRAY" doctor --netns "$A" --netns "$B" -j >"$WORK/doctor.out" 2>"$WORK/doctor.err"
	"$VXRAY" version -j >"$WORK/version.out" 2>"$WORK/version.err"
	"$VXRAY" encap --vni nope -j >"$WORK/usage.out" 2>"$WORK/usage.err"
	local files=("$WORK"/*.out "$WORK"/*.err) out rc t
	[[ -f $WORK/state/baseline.json ]] && files+=("$WORK/state/baseline.json")
	out=$("$CHECK" "$SCHEMAS" "${files[@]}" 2>&1); rc=$?
	assert_eq "$rc" 0 "every record validates: $(head -20 <<<"$out")"
	# What this run must have produced: every view's records.
	for t in encap decap encap_summary trace drop drops_summary conntrack retrans \
		retrans_summary nf_drop policy_summary policy_totals latency diagnosis doctor \
		version log baseline; do
		assert_match "$(tail -1 <<<"$out")" "( |: )$t=[1-9]" "records of type $t were checked"
	done
	# Every record: "type" first, "schema" second.
	out=$(cat "${files[@]}" | grep '^{' | grep -cv '^{"type":"[a-z_]*","schema":1,')
	assert_eq "$out" 0 "records without \"type\" and \"schema\" first"
}

# A key the schema does not list, a wrong type, an unknown record type:
# each is reported, naming the record, and fails the check.
test_checker_fails_on_drift() {
	[[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
		skip "Debian's python3-jsonschema is not installed (make deps)"
	local v out rc
	v=$("$VXRAY" version -j)
	sed 's/^{/{"bogus":1,/' <<<"$v" >"$WORK/extra.json"
	out=$("$CHECK" "$SCHEMAS" "$WORK/extra.json" 2>&1); rc=$?
	assert_eq "$rc" 1 "an unknown key fails"
	assert_match "$out" "extra.json:1: version .*'bogus' was unexpected" "names the key"
	sed 's/"schema":1/"schema":"1"/' <<<"$v" >"$WORK/type.json"
	out=$("$CHECK" "$SCHEMAS" "$WORK/type.json" 2>&1); rc=$?
	assert_eq "$rc" 1 "a wrong type fails"
	echo '{"type":"nonesuch","schema":1}' >"$WORK/unknown.json"
	out=$("$CHECK" "$SCHEMAS" "$WORK/unknown.json" 2>&1); rc=$?
	assert_eq "$rc" 1 "a record type without a schema fails"
	assert_match "$out" "no schema for type 'nonesuch'" "says which"
}

run_test "json: every view's records validate against docs/schema" test_every_view_validates
run_test "json: the checker fails on an unknown key, type or record" test_checker_fails_on_drift
