#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make install DESTDIR=… PREFIX=…` produces the layout vxray(8) documents
# (FILES), the man page renders without a warning and names every command
# and option the binary knows, the bash completion completes from the
# installed binary, the systemd unit runs the installed binary, and the
# shipped Prometheus configuration passes promtool.
source "$(dirname "$0")/../lib.sh"

TOP=$(mktemp -d)
trap 'rm -rf "$TOP"' EXIT

# install_to PREFIX: make install into a fresh $DEST; fails with make's
# errors.
install_to() {
	local out
	DEST=$(mktemp -d "$TOP/dest.XXXXXX")
	out=$(make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$DEST" PREFIX="$1" 2>&1) ||
		fail "make install PREFIX=$1 failed: $out"
}

test_layout() {
	install_to /usr/local
	local got want
	got=$(cd "$DEST" && find . -type f -printf '%m %P\n' | sort)
	want=$(sort <<-EOF
	755 usr/local/sbin/vxray
	644 usr/local/share/man/man8/vxray.8
	644 usr/local/share/bash-completion/completions/vxray
	644 usr/local/lib/systemd/system/vxray-agent.service
	644 usr/local/share/vxray/deploy/README.md
	644 usr/local/share/vxray/deploy/RUNBOOK.md
	644 usr/local/share/vxray/deploy/alertmanager.yml
	644 usr/local/share/vxray/deploy/grafana-dashboard.json
	644 usr/local/share/vxray/deploy/prometheus-rules.yml
	644 usr/local/share/vxray/deploy/daemonset.yaml
	644 usr/local/share/vxray/deploy/prometheus.yml
	644 usr/local/share/vxray/deploy/prometheus-kubernetes.yml
	755 usr/local/share/vxray/vxray-lab
	644 usr/local/lib/vxray/vx_lab_csum.bpf.o
	$(cd "$ROOT/docs/schema" && ls README.md ./*.schema.json | sed 's|^\(\./\)\{0,1\}|644 usr/local/share/vxray/schema/|')
	EOF
	)
	assert_eq "$got" "$want" "installed files and modes"
	assert_match "$("$DEST/usr/local/sbin/vxray" --help)" '^  agent ' "the installed binary runs"
	# Every installed path is one the man page names.
	local page
	page=$(MANWIDTH=200 man -l "$DEST/usr/local/share/man/man8/vxray.8" 2>/dev/null)
	for f in sbin/vxray share/man/man8/vxray.8 share/bash-completion/completions/vxray \
		 lib/systemd/system/vxray-agent.service share/vxray/deploy/ share/vxray/vxray-lab \
		 lib/vxray/vx_lab_csum.bpf.o share/vxray/schema/; do
		assert_match "$page" "PREFIX/$f" "vxray(8) FILES names $f"
	done
}

test_prefix_honoured() {
	install_to /opt/vx
	[[ -x $DEST/opt/vx/sbin/vxray ]] || fail "no /opt/vx/sbin/vxray"
	[[ -f $DEST/opt/vx/share/man/man8/vxray.8 ]] || fail "no man page under /opt/vx"
	[[ ! -e $DEST/usr ]] || fail "something was installed outside PREFIX: $(find "$DEST/usr" | head -3)"
	assert_match "$(cat "$DEST/opt/vx/lib/systemd/system/vxray-agent.service")" \
		'^ExecStart=/opt/vx/sbin/vxray agent ' "the unit runs the installed binary"
	assert_no_match "$(cat "$DEST/opt/vx/lib/systemd/system/vxray-agent.service")" '@[A-Z]+@' \
		"no placeholder left in the unit"
}

test_man_renders_cleanly() {
	command -v man >/dev/null || skip "man (man-db) is not installed"
	install_to /usr/local
	local page=$DEST/usr/local/share/man/man8/vxray.8 warn
	warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	assert_eq "$warn" "" "man --warnings output"
	warn=$(groff -man -ww -z "$page" 2>&1)
	assert_eq "$warn" "" "groff -ww output"
	warn=$(MANWIDTH=60 man --warnings -l "$page" 2>&1 >/dev/null)
	assert_eq "$warn" "" "man --warnings output at 60 columns"
}

test_man_covers_cli() {
	install_to /usr/local
	local bin=$DEST/usr/local/sbin/vxray page cmds opts
	page=$(MANWIDTH=200 man -l "$DEST/usr/local/share/man/man8/vxray.8" 2>/dev/null)
	cmds=$("$bin" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
	[[ $(wc -w <<<"$cmds") -ge 10 ]] || fail "could not read the command list from --help: $cmds"
	for c in $cmds; do
		assert_match "$page" "^       $c( |\$)" "vxray(8) COMMANDS has '$c'"
		# Each command's own options, as its --help lists them.
		opts=$("$bin" "$c" --help | sed -n '/^Options:/,$p' | grep -o -- '--[a-z][a-z-]*' | sort -u)
		for o in $opts; do
			assert_match "$page" "^       (-[a-z], )?$o( |\$)" "vxray(8) OPTIONS has $o (from vxray $c --help)"
		done
	done
	for s in OVERHEAD "EXIT STATUS" METRICS EXAMPLES; do
		assert_match "$page" "^$s\$" "section $s"
	done
	for rc in 0 1 2 3 4; do
		assert_match "$(sed -n '/^EXIT STATUS/,/^FILES/p' <<<"$page")" "^       $rc( |\$)" "exit status $rc documented"
	done
}

# systemd parses the installed unit without a complaint, and its restart
# policy is the one EXIT STATUS promises: 1 and 4 (not ready yet) are
# retried, 2 (a bad command line) is not.
test_unit_verifies() {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze (Debian package systemd) is not installed"
	install_to /opt/vx
	local unit=$DEST/opt/vx/lib/systemd/system/vxray-agent.service out
	# ExecStart must name an executable that exists: point it at the
	# installed one under DESTDIR.
	sed -i "s|^ExecStart=/opt/vx|ExecStart=$DEST/opt/vx|" "$unit"
	out=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify: $out"
	assert_eq "$out" "" "systemd-analyze verify output"
	assert_match "$(cat "$unit")" '^Restart=on-failure$' "the agent is restarted on failure"
	assert_match "$(cat "$unit")" '^RestartPreventExitStatus=2$' "but not after a usage error"
}

test_completion() {
	install_to /usr/local
	local comp=$DEST/usr/local/share/bash-completion/completions/vxray out
	out=$(PATH=$DEST/usr/local/sbin:$PATH bash -c '
		source "$1"
		COMP_WORDS=(vxray ag); COMP_CWORD=1; _vxray; echo "cmd: ${COMPREPLY[*]}"
		COMP_WORDS=(vxray agent --me); COMP_CWORD=2; _vxray; echo "agent: ${COMPREPLY[*]}"
		COMP_WORDS=(vxray encap --st); COMP_CWORD=2; _vxray; echo "encap: ${COMPREPLY[*]}"
		COMP_WORDS=(vxray drops --st); COMP_CWORD=2; _vxray; echo "drops: ${COMPREPLY[*]}"
		COMP_WORDS=(vxray drops --backend k); COMP_CWORD=3; _vxray; echo "backend: ${COMPREPLY[*]}"
		complete -p vxray' _ "$comp" 2>&1)
	assert_match "$out" '^cmd: agent$' "command names"
	assert_match "$out" '^agent: --metrics$' "agent options"
	assert_match "$out" '^encap: $' "encap has no --stack"
	assert_match "$out" '^drops: --stack$' "drops has --stack"
	assert_match "$out" '^backend: kprobe$' "backend values"
	assert_match "$out" '^complete -F _vxray vxray$' "registered for vxray"
}

test_prometheus_config() {
	command -v promtool >/dev/null || skip "promtool (Debian package prometheus) is not installed"
	install_to /usr/local
	local out
	out=$(promtool check config "$DEST/usr/local/share/vxray/deploy/prometheus.yml" 2>&1) ||
		fail "promtool check config: $out"
	assert_match "$out" 'SUCCESS' "promtool accepts the scrape configuration"
	assert_match "$out" 'prometheus-rules\.yml' "and the rule file it loads"
}

# The shipped rules: promtool checks them and runs their unit tests
# (tests/prometheus/rules_test.yml: series in, alerts out, both VTEPs
# named); amtool checks the Alertmanager configuration.
test_prometheus_rules() {
	command -v promtool >/dev/null || skip "promtool (Debian package prometheus) is not installed"
	install_to /usr/local
	local out
	out=$(promtool check rules "$DEST/usr/local/share/vxray/deploy/prometheus-rules.yml" 2>&1) ||
		fail "promtool check rules: $out"
	assert_match "$out" 'SUCCESS: [0-9]+ rules found' "promtool accepts the rules"
	out=$(promtool test rules "$ROOT/tests/prometheus/rules_test.yml" 2>&1) ||
		fail "promtool test rules: $out"
	assert_match "$out" 'SUCCESS' "the rules' unit tests pass"
	command -v amtool >/dev/null || skip "amtool (Debian package prometheus-alertmanager) is not installed"
	out=$(amtool check-config "$DEST/usr/local/share/vxray/deploy/alertmanager.yml" 2>&1) ||
		fail "amtool check-config: $out"
	assert_match "$out" 'SUCCESS' "amtool accepts the Alertmanager configuration"
}

# make uninstall takes away every file make install put there, and
# nothing else; make clean removes BUILD, whatever it is called.
test_uninstall_and_clean() {
	install_to /usr/local
	local out b
	mkdir -p "$DEST/usr/local/sbin" && touch "$DEST/usr/local/sbin/other-tool"
	out=$(make -s -C "$ROOT" BUILD="$BUILD" uninstall DESTDIR="$DEST" PREFIX=/usr/local 2>&1) ||
		fail "make uninstall failed: $out"
	assert_eq "$(cd "$DEST" && find . -type f -printf '%P\n')" "usr/local/sbin/other-tool" \
		"only the file vxray did not install is left"
	b=$(mktemp -d "$TOP/build.XXXXXX")
	mkdir -p "$b/loader" "$b-san" && touch "$b/loader/x.o" "$b-san/y.o"
	out=$(make -s -C "$ROOT" BUILD="$b" clean 2>&1) || fail "make clean BUILD=$b failed: $out"
	[[ ! -e $b && ! -e $b-san ]] || fail "make clean left $b or $b-san"
	[[ -x $VXRAY ]] || fail "make clean BUILD=$b took the default build with it"
}

run_test "install: the documented layout and modes" test_layout
run_test "install: make uninstall removes what install put, clean honours BUILD" test_uninstall_and_clean
run_test "install: PREFIX is honoured, the unit points at the binary" test_prefix_honoured
run_test "install: the man page renders without warnings" test_man_renders_cleanly
run_test "install: the man page names every command and option" test_man_covers_cli
run_test "install: the systemd unit verifies, retries 1 and 4, not 2" test_unit_verifies
run_test "install: bash completion from the installed binary" test_completion
run_test "install: the shipped Prometheus configuration passes promtool" test_prometheus_config
run_test "install: the shipped rules pass promtool's checks and unit tests, amtool the Alertmanager file" test_prometheus_rules
echo "1..$T_N"
