#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The source's own rules, checked on every run: the loader's includes point
# down its layers without a cycle, every C file is in .clang-format's
# style, and docs/DESIGN.md's map matches the tree (every loader folder on
# it, every path it names there, and a reason for every file over 800
# lines).
source "$(dirname "$0")/../lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

test_includes_point_down() {
	local out
	out=$("$ROOT/scripts/check-includes" 2>&1) || fail "scripts/check-includes: $out"
	assert_match "$out" 'all pointing down, no cycle' "check-includes says so"
}

test_format() {
	command -v clang-format >/dev/null || skip "clang-format is not installed (make deps)"
	local out
	out=$(make -s -C "$ROOT" format-check 2>&1) || fail "$out"
	assert_match "$out" "C files in .clang-format's style" "format-check says so"
}

# The map: the lines of DESIGN.md between "## Map" and the next heading.
design_map() { sed -n '/^## Map/,/^## [^M]/p' "$ROOT/docs/DESIGN.md"; }

test_design_map_matches_tree() {
	local map d p n=0
	map=$(design_map)
	[[ -n $map ]] || fail "docs/DESIGN.md has no '## Map' section"
	for d in "$ROOT"/loader/*/ "$ROOT"/bpf/*/; do
		d=${d#"$ROOT"/}
		assert_match "$map" "${d%/}/" "the map shows $d"
	done
	# Every file or folder the map names exists.
	while read -r p; do
		[[ -e $ROOT/$p ]] || fail "the map names $p, which is not in the tree"
		n=$((n + 1))
	done < <(grep -oE '(loader|bpf|bench|lab|tests)/[A-Za-z0-9_./{},-]*' <<<"$map" |
		 sed 's/[.,]$//' | grep -v '[{}]')
	((n >= 10)) || fail "the map names only $n paths"
}

# The reasons: DESIGN.md's "## Files over 800 lines" section.
test_long_files_have_a_reason() {
	local f lines why
	why=$(sed -n '/^## Files over 800 lines/,/^## /p' "$ROOT/docs/DESIGN.md")
	while read -r lines f; do
		[[ $f == total ]] && continue
		((lines > 800)) || continue
		f=${f#"$ROOT"/}
		# Listed as a line of its own, "- `FILE`: why", not merely named
		# (the section also names the files that were split).
		grep -qF -- "- \`$f\`: " <<<"$why" ||
			fail "$f has $lines lines and DESIGN.md's 'Files over 800 lines' gives no reason"
	done < <(wc -l "$ROOT"/loader/*.c "$ROOT"/loader/*/*.c "$ROOT"/bpf/*/*.c "$ROOT"/bpf/*/*.h)
}

run_test "the loader's includes point down, no cycle" test_includes_point_down
run_test "every C file is in .clang-format's style" test_format
run_test "DESIGN.md's map matches the tree" test_design_map_matches_tree
run_test "every file over 800 lines has a reason in DESIGN.md" test_long_files_have_a_reason
