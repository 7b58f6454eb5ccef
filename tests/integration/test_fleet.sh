#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The fleet view: two agents, one per lab namespace, each standing for a
# node; a real Prometheus server (Debian's) scraping both every second and
# evaluating the shipped docs/deploy/prometheus-rules.yml every second.
# Healthy: no alert. Then each fault fires its alert, naming both VTEPs
# where the fault is between them: a one-sided tunnel, an MTU mismatch
# between the ends, a netfilter drop by rule, conntrack exhaustion. And
# every panel of the shipped Grafana dashboard answers its query. And
# `vxray diagnose --prometheus` names each fault from the same server, the
# nodes as a/NETNS and b/NETNS, and exits 0 on the healthy lab, 1 when the
# server cannot be reached.
#
# The rules run as shipped except for their time windows: rate()/increase()
# over 20s instead of minutes and `for: 6s` instead of minutes, so that a
# fault fires in seconds (the expressions and labels are the shipped ones).
# Not `for: 0s`: the two agents are scraped at different moments, so when
# a tunnel's last packets leave the 20 s window, one end's series can
# leave it up to a scrape interval (2 s) before the other's. Without a
# delay, such an instant fired a one-sided alert for scenario 1's healthy
# direction (B to A) in CI, beside the right one; the shipped rules'
# `for:` of minutes is what absorbs it.
# test-lock: ctmax (scenario 3 lowers the host's global nf_conntrack_max;
# no two suites may touch it at once)
source "$(dirname "$0")/../lib.sh"

P=$(test_prefix)
A=$P-a
B=$P-b
lab() { "$LAB" --prefix "$P" "$@"; }
TMP=$(mktemp -d)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	lab teardown >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT


# agent NAME NETNS: an agent watching NETNS alone (its "node"); sets
# AGENT_PORT to the port it serves on. Not in a command substitution: its
# pid must reach PIDS in this shell, or cleanup leaves the agent running.
agent() {
	local log=$TMP/agent-$1.log i
	"$VXRAY" agent --netns "$2" --metrics 127.0.0.1:0 --interval 500ms \
		--state-dir "$TMP/state-$1" >"$log" 2>&1 &
	PIDS+=($!)
	for ((i = 0; i < 300; i++)); do
		AGENT_PORT=$(grep -o 'http://127\.0\.0\.1:[0-9]*/metrics; watching' "$log" | head -1 |
			     sed 's/.*:\([0-9]*\)\/metrics.*/\1/')
		[[ -n $AGENT_PORT ]] && return 0
		sleep 0.2
	done
	fail "agent $1 did not start: $(cat "$log")"
}

# The shipped rules with 20-second windows and 6-second `for:` delays
# (three scrape intervals: see the top).
fast_rules() {
	sed -E -e 's/\[(5|10)m\]/[20s]/g' -e 's/^( +)for: [0-9]+m$/\1for: 6s/' \
		-e 's/^( +)interval: 30s$/\1interval: 1s/' "$ROOT/docs/deploy/prometheus-rules.yml"
}

prom_query() {
	curl -sf --max-time 5 --get --data-urlencode "query=$2" "http://127.0.0.1:$1/api/v1/query"
}

# firing PORT: "ALERTNAME label=value ..." per firing alert, sorted; the
# labels a test asserts on only.
firing() {
	curl -sf --max-time 5 "http://127.0.0.1:$1/api/v1/alerts" |
		jq -r '.data.alerts[] | select(.state == "firing") | .labels |
			"\(.alertname) local_vtep=\(.local_vtep // "-") remote_vtep=\(.remote_vtep // "-") netns=\(.netns // "-")"' |
		sort -u
}

# wait_firing PORT ERE: until a firing alert's line matches ERE (90 s).
wait_firing() {
	local i f
	for ((i = 0; i < 180; i++)); do
		f=$(firing "$1")
		grep -Eq -- "$2" <<<"$f" && { echo "$f"; return 0; }
		sleep 0.5
	done
	echo "$f"
	return 1
}

# mtu_seen PROM_PORT AGENT_PORT...: what each agent exports of its VXLAN
# devices and what Prometheus recorded of them, for a failure's message.
mtu_seen() {
	local p
	for p in "${@:2}"; do
		printf 'agent :%s: %s; ' "$p" "$(curl -sf --max-time 5 "http://127.0.0.1:$p/metrics" |
			grep -E '^vxray_vxlan_device_(info|mtu_bytes)' | paste -sd' ')"
	done
	printf 'recorded: %s; scrapes (up, seconds): %s' "$(prom_query "$1" 'vxray:vtep_pair_mtu_bytes' |
		jq -c '[.data.result[] | {l: .metric.local_vtep, r: .metric.remote_vtep, v: .value[1]}]')" \
		"$(prom_query "$1" '{__name__=~"up|scrape_duration_seconds"}' |
			jq -c '[.data.result[] | {n: .metric.__name__, node: .metric.node, v: .value[1]}]')"
}

# Traffic both ways for the rate windows: pings from A to B, in the background.
ping_loop() {
	ip netns exec "$A" ping -q -i 0.2 -W 1 172.16.0.2 >/dev/null 2>&1 &
	PIDS+=($!)
}

# lab_then_ping ARGS...: a lab command, then the pings again: the lab's
# heal (every scenario starts with one) ends whatever runs in its
# namespaces, our pings included.
lab_then_ping() {
	lab "$@" >/dev/null || fail "lab $*"
	ping_loop
}

# prom_diag PORT ARGS...: `vxray diagnose --prometheus` over the last 20 s
# (the fast rules' window); DIAG gets what it printed, DIAG_RC its exit.
prom_diag() {
	local port=$1
	shift
	DIAG_RC=0
	DIAG=$("$VXRAY" diagnose --prometheus "http://127.0.0.1:$port" --window 20s "$@" 2>&1) ||
		DIAG_RC=$?
}

# prom_diag_finds PORT VERDICT ERE ARGS...: it exits 3 and prints the
# finding [VERDICT] whose sentence matches ERE, within 60 s: the window
# still holds the last fault's evidence for 20 s, and a new counter's
# rise needs two scrapes.
prom_diag_finds() {
	local port=$1 verdict=$2 ere=$3 i
	shift 3
	for ((i = 0; i < 120; i++)); do
		prom_diag "$port" "$@"
		[[ $DIAG_RC == 3 ]] && grep -Eq -- "^FINDING \\[$verdict\\] $ere" <<<"$DIAG" && return 0
		sleep 0.5
	done
	[[ $DIAG_RC == 3 ]] || fail "diagnose --prometheus $* exited $DIAG_RC, not 3: $DIAG"
	assert_match "$DIAG" "^FINDING \\[$verdict\\] $ere" "diagnose --prometheus $* names $verdict"
}

# dashboard_queries_answer PORT: every query of every panel of the shipped
# Grafana dashboard, its variables at their defaults ($node all), runs on
# the Prometheus at PORT without an error and returns at least one series.
dashboard_queries_answer() {
	local dash=$ROOT/docs/deploy/grafana-dashboard.json stage n=0 q r title
	stage=$(jq -r '.templating.list[] | select(.name == "stage") | .current.value' "$dash")
	[[ -n $stage && $stage != null ]] || fail "the dashboard has no default stage"
	while IFS=$'\t' read -r title q; do
		q=${q//'$__rate_interval'/20s}
		q=${q//'$node'/.*}
		q=${q//'$stage'/$stage}
		r=$(prom_query "$1" "$q") || fail "panel '$title': Prometheus refused the query: $q"
		[[ $(jq -r .status <<<"$r") == success ]] || fail "panel '$title': $(jq -r .error <<<"$r"): $q"
		[[ $(jq '.data.result | length' <<<"$r") -ge 1 ]] || fail "panel '$title' shows nothing: $q"
		n=$((n + 1))
	done < <(jq -r '.panels[] | select(.targets) | .title as $t | .targets[] | "\($t)\t\(.expr)"' "$dash")
	[[ $n -ge 10 ]] || fail "only $n panel queries read from the dashboard"
}

test_alerts_fire_naming_both_vteps() {
	require_root
	# run_test runs this in a subshell: the processes it starts are in
	# this subshell's PIDS, so its own EXIT trap must stop them.
	trap cleanup EXIT
	command -v prometheus >/dev/null || skip "prometheus (Debian package prometheus) is not installed"
	command -v jq >/dev/null || skip "jq is not installed"
	lab setup >/dev/null || fail "lab setup"
	local pa pb pp f
	agent a "$A"
	pa=$AGENT_PORT
	agent b "$B"
	pb=$AGENT_PORT
	pp=$(free_port) || fail "no free port for Prometheus"
	fast_rules >"$TMP/rules.yml"
	# 2 s scrapes, not 1: in CI the bench floods both CPUs beside this test,
	# and a scrape that times out makes every series stale at once.
	cat >"$TMP/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 2s
	  scrape_timeout: 2s
	  evaluation_interval: 1s
	rule_files: [rules.yml]
	scrape_configs:
	  - job_name: vxray
	    static_configs:
	      - targets: ['127.0.0.1:$pa']
	        labels: {node: a}
	      - targets: ['127.0.0.1:$pb']
	        labels: {node: b}
	EOF
	prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
		--web.listen-address="127.0.0.1:$pp" --log.level=warn >"$TMP/prom.log" 2>&1 &
	PIDS+=($!)
	ping_loop
	# Healthy: both agents scraped, traffic both ways, no tunnel alert.
	for ((i = 0; i < 60; i++)); do
		[[ $(prom_query "$pp" 'count(vxray:vtep_decap_packets:rate5m > 0)' | jq -r '.data.result[0].value[1] // 0') -ge 2 ]] && break
		sleep 0.5
	done
	sleep 3
	f=$(firing "$pp")
	assert_no_match "$f" 'Vxray(OneSided|VniMismatch|UdpPortMismatch|MtuMismatch|OverlayMtuTooLarge|NetfilterDrops|ConntrackTableFull)' \
		"no alert while the lab is healthy"
	# ... and diagnose --prometheus finds nothing, over both nodes.
	prom_diag "$pp"
	[[ $DIAG_RC == 0 ]] || fail "diagnose --prometheus on the healthy lab exited $DIAG_RC: $DIAG"
	assert_match "$DIAG" '^HEALTHY \[healthy\] No fault found\.' "healthy lab: no fault"
	assert_match "$DIAG" "over a/$A, b/$B|over b/$B, a/$A" "both nodes read"
	prom_diag "$pp" -j
	[[ $DIAG_RC == 0 ]] || fail "diagnose --prometheus -j exited $DIAG_RC"
	printf '%s\n' "$DIAG" >"$TMP/diag.json"
	/usr/bin/python3 "$ROOT/tests/jsoncheck.py" "$ROOT/docs/schema" "$TMP/diag.json" >"$TMP/check" ||
		fail "diagnose --prometheus -j breaks its schema: $(cat "$TMP/check")"
	[[ $(jq -r 'select(.type == "diagnosis") | "\(.prometheus) \(.fault) \([.tunnels[] | select(.peer_netns != null)] | length)"' "$TMP/diag.json") == \
	   "http://127.0.0.1:$pp false 2" ]] || fail "diagnose --prometheus -j: not both ends paired: $DIAG"
	# Unreachable: exit 1 and one sentence.
	"$VXRAY" diagnose --prometheus "http://127.0.0.1:$(free_port)" >"$TMP/unreach" 2>&1
	[[ $? == 1 ]] || fail "diagnose --prometheus at a closed port did not exit 1: $(cat "$TMP/unreach")"
	[[ $(wc -l <"$TMP/unreach") == 1 ]] && grep -q '^vxray: cannot reach Prometheus at ' "$TMP/unreach" ||
		fail "unreachable Prometheus: not one sentence: $(cat "$TMP/unreach")"

	# 1. UDP 4789 blocked on B: A encapsulates toward B, B decapsulates
	# nothing from A. The alert fires once A's last decapsulated packet
	# at B leaves the 20 s window.
	lab_then_ping scenario 1
	f=$(wait_firing "$pp" '^VxrayOneSidedTunnel local_vtep=10\.0\.0\.1 remote_vtep=10\.0\.0\.2 ') ||
		fail "no one-sided alert naming 10.0.0.1 -> 10.0.0.2 (firing: $f)"
	assert_no_match "$f" '^VxrayOneSidedTunnel local_vtep=10\.0\.0\.2 ' "B's own direction is not called one-sided"
	prom_diag_finds "$pp" one_sided_tunnel "The tunnel a/$A -> b/$B is one-sided: netfilter in b/$B drops the outer VXLAN packets"
	assert_match "$DIAG" "series: vxray_tunnel_packets_total\\{node=\"b\",netns=\"$B\"\\} and \\{node=\"a\",netns=\"$A\"\\}" \
		"the finding names its series on both nodes"
	# --node a: a, and b as the far end of its tunnel.
	prom_diag_finds "$pp" one_sided_tunnel "The tunnel a/$A -> b/$B" --node a
	prom_diag "$pp" --node nosuch
	[[ $DIAG_RC == 1 ]] && assert_match "$DIAG" "no vxray series from node 'nosuch'" "an unknown --node is named" ||
		fail "--node nosuch exited $DIAG_RC: $DIAG"
	lab_then_ping heal

	# 2. B's overlay MTU lowered: the ends disagree, both directions named.
	ip -n "$B" link set vxlan100 mtu 1400 || fail "set B's MTU"
	f=$(wait_firing "$pp" '^VxrayMtuMismatch local_vtep=10\.0\.0\.2 remote_vtep=10\.0\.0\.1 ') ||
		fail "no MTU mismatch alert (firing: $f); $(mtu_seen "$pp" "$pa" "$pb")"
	assert_match "$f" '^VxrayMtuMismatch local_vtep=10\.0\.0\.1 remote_vtep=10\.0\.0\.2 ' "both ends named, both ways"
	prom_diag_finds "$pp" mtu_mismatch "MTU mismatch between the ends of VNI 100: a/$A's overlay MTU is 1450, b/$B's 1400"
	lab_then_ping heal

	# 3. Netfilter DROP/REJECT rules on overlay traffic in B: by rule.
	lab_then_ping scenario 2
	f=$(wait_firing "$pp" "^VxrayNetfilterDrops .*netns=$B\$") ||
		fail "no netfilter-drop alert for $B (firing: $f)"
	prom_diag_finds "$pp" netfilter_overlay "Netfilter in b/$B drops decapsulated overlay traffic \\([0-9]+ packets\\) by .*scenario 2: drop overlay ICMP"
	# With traffic, drops and a rule's drops: every panel has something to show.
	dashboard_queries_answer "$pp"
	lab_then_ping heal

	# 4. Conntrack exhaustion (max 10, 50+ UDP flows). The lab's own burst
	# of flows is over in seconds; new ones keep the table full and its
	# drops rising for as long as Prometheus may take under load.
	lab_then_ping scenario 3
	ip netns exec "$A" bash -c 'for ((i = 0; i < 1200; i++)); do
		echo x >/dev/udp/172.16.0.2/$((20000 + i % 500)); sleep 0.1; done' >/dev/null 2>&1 &
	PIDS+=($!)
	f=$(wait_firing "$pp" "^VxrayConntrackTableFull .*netns=$B\$") ||
		fail "no conntrack-full alert for $B (firing: $f)"
	prom_diag_finds "$pp" conntrack_exhaustion "The conntrack table in b/$B is exhausted"
	lab_then_ping heal
	[[ $(cat /proc/sys/net/netfilter/nf_conntrack_max) -gt 10 ]] || fail "heal did not restore nf_conntrack_max"
}

run_test "fleet: a real Prometheus with the shipped rules fires each fault's alert, naming both VTEPs; diagnose --prometheus names each fault; every dashboard panel answers" \
	test_alerts_fire_naming_both_vteps
