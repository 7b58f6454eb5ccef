#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The 10,000-frame smoke of the differential fuzzer (make fuzz runs the
# long one): the datapath programs and the reference decoder agree on every
# field, no program errors, and the comparison does catch a planted bug.
source "$(dirname "$0")/../lib.sh"

DIFFFUZZ=$ROOT/$BUILD/tests/fuzz/difffuzz
SEED=${DIFFFUZZ_SEED:-1}

need_fuzzer() {
	require_root
	[[ -x $DIFFFUZZ ]] || fail "$DIFFFUZZ is not built (make BUILD=$BUILD)"
}

test_smoke_agrees() {
	need_fuzzer
	local out rc
	out=$("$DIFFFUZZ" -n 10000 -s "$SEED" 2>&1); rc=$?
	assert_eq "$rc" 0 "difffuzz exit code"
	assert_match "$out" '^ok 1 - every field and counter agrees with the reference \(10000 frames' "fields agree"
	assert_match "$out" '^ok 2 - no program errors' "no program errors"
	assert_match "$out" '^ok 3 - the frames reach every depth' "frames reach the inner headers"
	assert_match "$out" "10000 frames .*, 0 mismatches, 0 program errors, seed $SEED\$" "summary"
}

test_same_seed_same_frames() {
	need_fuzzer
	local a b
	a=$("$DIFFFUZZ" -n 2000 -s 77 2>&1 | grep -E '^ok 3|^# vx_')
	b=$("$DIFFFUZZ" -n 2000 -s 77 2>&1 | grep -E '^ok 3|^# vx_')
	assert_match "$a" '^ok 3' "first run reached every depth"
	assert_eq "$a" "$b" "two runs with seed 77"
}

test_catches_a_planted_bug() {
	need_fuzzer
	local out rc
	out=$("$DIFFFUZZ" -n 2000 -s "$SEED" -P 2>&1); rc=$?
	assert_eq "$rc" 1 "exit code with a planted bug"
	assert_match "$out" '^not ok 1 - every field' "mismatch reported"
	assert_match "$out" '#   vni: expected [0-9]+, got [0-9]+' "names the field"
	assert_match "$out" '#   0000: ' "dumps the frame"
}

# A frame from a report replays through all five programs: the VXLAN
# frame agrees, and the planted bug shows on it with its field.
test_replay_one_frame() {
	need_fuzzer
	local hex out rc
	hex="020000000002 020000000001 0800 4500003c 00000000 40110000 0a000001 0a000002"
	hex+=" c73812b5 00100000 08000000 00006400 020000000002 020000000001 0806"
	out=$("$DIFFFUZZ" -x "$hex" 2>&1); rc=$?
	assert_eq "$rc" 0 "replay exit code ($out)"
	assert_match "$out" '^# replayed 64 bytes through 5 programs: 0 mismatches, 0 program errors$' "replay summary"
	out=$("$DIFFFUZZ" -P -x "$hex" 2>&1); rc=$?
	assert_eq "$rc" 1 "replay exit code with a planted bug"
	assert_match "$out" '#   vni: expected 101, got 100' "the planted field"
}

echo "1..4"
run_test "difffuzz: 10,000 frames: BPF and reference agree" test_smoke_agrees
run_test "difffuzz: the same seed replays the same frames" test_same_seed_same_frames
run_test "difffuzz: a planted reference bug is caught and shown" test_catches_a_planted_bug
run_test "difffuzz: one reported frame replays through every program" test_replay_one_frame
