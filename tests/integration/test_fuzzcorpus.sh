#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Replays each libFuzzer target's seed corpus (tests/fuzz/corpus/<target>/)
# under ASan/UBSan: every input runs once and none may crash. `make fuzz`
# does the real fuzzing; this keeps the corpus and the targets honest.
source "$(dirname "$0")/../lib.sh"

replay() {
	local t=$1 bin=$ROOT/$BUILD/tests/fuzz/fuzz_$1 dir=$ROOT/tests/fuzz/corpus/$1 out rc n
	[[ -x $bin ]] || skip "fuzz_$t is not built: make BUILD=$BUILD check builds it (needs clang and libclang-rt)"
	n=$(find "$dir" -type f | wc -l)
	assert_ge "$n" 3 "seed inputs for $t"
	out=$("$bin" -runs=1 "$dir"/* 2>&1); rc=$?
	assert_eq "$rc" 0 "fuzz_$t exit code on its corpus"
	assert_no_match "$out" 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)' "no sanitizer report"
	assert_eq "$(grep -c '^Executed ' <<<"$out")" "$n" "inputs executed by fuzz_$t"
}

echo "1..11"
run_test "fuzz_opts replays its corpus clean" replay opts
run_test "fuzz_inventory replays its corpus clean" replay inventory
run_test "fuzz_dropfmt replays its corpus clean" replay dropfmt
run_test "fuzz_policy replays its corpus clean" replay policy
run_test "fuzz_conntrack replays its corpus clean" replay conntrack
run_test "fuzz_dpevent replays its corpus clean" replay dpevent
run_test "fuzz_retrans replays its corpus clean" replay retrans
run_test "fuzz_nfhook replays its corpus clean" replay nfhook
run_test "fuzz_lathist replays its corpus clean" replay lathist
run_test "fuzz_baseline replays its corpus clean" replay baseline
run_test "fuzz_listen replays its corpus clean" replay listen
