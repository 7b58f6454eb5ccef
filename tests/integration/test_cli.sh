#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The command line: help teaches, bad input gets one sentence and exit 2.
source "$(dirname "$0")/../lib.sh"

test_help_lists_every_command() {
	local out
	out=$("$VXRAY" --help) || fail "--help exited $?"
	for c in trace encap drops conntrack retrans policy latency diagnose doctor; do
		assert_match "$out" "^  $c " "--help lists $c"
	done
	assert_match "$out" 'NETNS:\]IFACE' "--help explains NETNS:IFACE"
	assert_match "$out" 'Exit status' "--help documents exit codes"
}

test_no_command_is_usage_error() {
	local out rc
	out=$("$VXRAY" 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code without a command"
	assert_match "$out" 'Usage: vxray COMMAND' "usage printed"
}

test_unknown_command() {
	local out rc
	out=$("$VXRAY" frobnicate 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for an unknown command"
	assert_match "$out" "unknown command 'frobnicate'" "names the bad command"
}

test_unknown_option() {
	local out rc
	out=$("$VXRAY" doctor --frob 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for an unknown option"
	assert_match "$out" "unknown option '--frob'" "names the bad option"
}

test_missing_value() {
	local out rc
	out=$("$VXRAY" doctor -d 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code for a missing value"
	assert_match "$out" "option -d needs a value" "says the value is missing"
}

test_bad_values() {
	local out rc args
	while IFS='|' read -r args want; do
		# shellcheck disable=SC2086
		out=$("$VXRAY" $args 2>&1); rc=$?
		assert_eq "$rc" 2 "exit code for '$args'"
		assert_match "$out" "$want" "message for '$args'"
		assert_eq "$(wc -l <<<"$out")" 1 "one line for '$args'"
	done <<'EOF_CASES'
doctor -d -5s|duration '-5s' is negative
doctor -d 9999h|absurdly long
doctor -d 10x|unknown unit 'x'
doctor --interval abc|not a number
encap --vni 16777216|VNI 16777216 is out of range
encap --port 0|port 0 is out of range
encap --proto sctp|protocol 'sctp' is not known
doctor --stack|--stack does not apply to `vxray doctor`
doctor -i averyveryverylongname|is not valid
doctor --backend ebpf|backend 'ebpf' is not known
agent --sample 3|--sample '3' is not a sampling: give auto, or 1 in N packets with N a power of two
latency --sample 0|--sample '0' is not a sampling
diagnose --sample 131072|--sample '131072' is not a sampling
latency --sample often|--sample 'often' is not a sampling
encap --sample 4|option --sample does not apply to `vxray encap`
EOF_CASES
}

test_json_errors_are_json() {
	local out rc
	out=$("$VXRAY" -j doctor -d nope 2>&1); rc=$?
	assert_eq "$rc" 2 "exit code"
	assert_match "$out" '^\{"type":"log","schema":1,"level":"error","message":"duration .nope. is not a number' "JSON error object"
}

# Every command is implemented now: none may be listed as a stub, and each
# has its own help.
test_every_command_implemented() {
	local out c
	out=$("$VXRAY" --help) || fail "--help exited $?"
	assert_no_match "$out" 'not implemented yet' "--help lists no stub"
	for c in trace encap drops conntrack retrans policy latency diagnose doctor agent; do
		out=$("$VXRAY" "$c" --help) || fail "$c --help exited $?"
		assert_match "$out" "^Usage: vxray $c" "$c --help"
	done
}

test_subcommand_help() {
	local out
	out=$("$VXRAY" doctor --help) || fail "doctor --help exited $?"
	assert_match "$out" 'Usage: vxray doctor' "doctor help"
	assert_match "$out" 'MTU' "doctor help says what it checks"
}

# -v shows libbpf's own output, debug level included; without it vxray
# alone speaks. doctor loads programs, so libbpf has something to say.
test_verbose_shows_libbpf_debug() {
	require_root
	local quiet loud
	quiet=$("$VXRAY" doctor 2>&1 >/dev/null)
	loud=$("$VXRAY" doctor -v 2>&1 >/dev/null)
	assert_no_match "$quiet" '^libbpf: ' "no libbpf output without -v"
	assert_match "$loud" '^libbpf: loading object' "-v shows libbpf's debug-level lines"
}

# --version and `version -j`: what the binary is, without root or a kernel
# feature, exit 0.
test_version() {
	local out rc
	out=$("$VXRAY" --version 2>&1); rc=$?
	assert_eq "$rc" 0 "exit code of --version"
	assert_match "$(head -1 <<<"$out")" '^vxray [0-9a-g.-]+' "first line names the version"
	assert_match "$out" $'\nlibbpf [0-9]+\\.[0-9]+\n' "libbpf it runs with"
	assert_match "$out" "kernel $(uname -r) " "the running kernel"
	assert_match "$out" 'kernel_hooks: fentry kprobe tracepoint' "backends built in"
	out=$("$VXRAY" version -j 2>&1); rc=$?
	assert_eq "$rc" 0 "exit code of version -j"
	assert_eq "$(jq -r '[.type, .kernel, (.version | length > 0), .backends.tc] | join(" ")' <<<"$out")" \
		"version $(uname -r) true tcx netlink" "version -j fields"
	assert_eq "$("$VXRAY" --version | head -1)" "vxray $(jq -r .version <<<"$out")" "the same version both ways"
}

run_test "--version and version -j" test_version
run_test "help lists every command" test_help_lists_every_command
run_test "no command is a usage error" test_no_command_is_usage_error
run_test "unknown command" test_unknown_command
run_test "unknown option" test_unknown_option
run_test "missing option value" test_missing_value
run_test "bad option values get one sentence" test_bad_values
run_test "JSON mode errors are JSON" test_json_errors_are_json
run_test "every command is implemented and has help" test_every_command_implemented
run_test "subcommand help" test_subcommand_help
run_test "-v shows libbpf's debug output" test_verbose_shows_libbpf_debug
