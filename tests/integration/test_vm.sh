#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The kernel matrix: the same build, booted on Debian's 6.1 kernel under
# qemu (tests/vm/vmtest), where fentry and kprobes work and TCX does not.
# The guest's own TAP lines are re-emitted here, tagged with the kernel and
# backend, so they count in `make check`'s closing line.
source "$(dirname "$0")/../lib.sh"

VMTEST=${VMTEST:-}
VM=$ROOT/tests/vm/vmtest
# Two sizes of the matrix, each one guest boot per pass (a pass: the
# backends vxray picks itself, then each forced backend, VX_BACKEND, which
# the views' tests pass as --backend).
#  quick (`make check`): doctor, the parser and difffuzz smoke, two diagnose
#    runs, and under each of fentry and kprobe every view that has a
#    kernel-function backend loads, attaches and gets an event (the tests
#    named by VM_BACKEND_TESTS).
#  full (`make vmtest`, VM_MATRIX=full): every suite below whole, under each
#    backend; run it after touching bpf/kprobe, backend selection or attach
#    code (docs/LAB.md).
# Set but empty means none: VM_SUITES=encap VM_BACKEND_SUITES= runs one suite;
# VM_BACKENDS=kprobe runs the backend suites under that backend only.
VM_MATRIX=${VM_MATRIX:-quick}
if [[ $VM_MATRIX == full ]]; then
	VM_SUITES=${VM_SUITES-"bpf/parser bpf/latency bpf/agg integration/retrans integration/encap integration/difffuzz integration/trace"}
	VM_SUITE_TESTS=${VM_SUITE_TESTS-}
	VM_BACKEND_SUITES=${VM_BACKEND_SUITES-"integration/drops integration/conntrack integration/policy integration/latency integration/diagnose integration/pcap integration/labels"}
	VM_BACKEND_TESTS=${VM_BACKEND_TESTS-}
else
	VM_SUITES=${VM_SUITES-"bpf/parser bpf/latency integration/difffuzz integration/diagnose"}
	# Of diagnose, two runs: the netfilter verdict joins drops, netfilter
	# and the datapath in one window; netem's 1 ms named on the first run.
	VM_SUITE_TESTS=${VM_SUITE_TESTS-"^difffuzz: |^diagnose: scenario 2 -> |^diagnose: scenario 6 on the first run"}
	VM_BACKEND_SUITES=${VM_BACKEND_SUITES-"integration/drops integration/conntrack integration/policy integration/latency integration/pcap integration/metrics"}
	# drops, conntrack (and its SIGKILL), policy, latency's xmit and rcv
	# brackets, trace through pcap, and the agent's drop probe through its
	# scrape: each with the forced backend.
	VM_BACKEND_TESTS=${VM_BACKEND_TESTS-"^drops: NETFILTER_DROP over VXLAN, text|^conntrack: (healthy lab|SIGKILL)|^policy: scenario 2 names|^latency: (healthy tunnel|vxlan_rcv timed)|^pcap: trace writes|^metrics: scrape during scenario 2"}
fi

if [[ -n $VMTEST ]]; then
	echo "1..0 # SKIP inside the guest already"
	exit 0
fi

guest_kernel() {
	ls /lib/modules | grep -v "^$(uname -r)$" | sort -V | tail -1
}

test_guest_doctor() {
	require_root
	local out
	out=$("$VM" -- "$VXRAY" doctor -j 2>&1) || [[ $? == 3 ]] || fail "vmtest/doctor failed: $out"
	assert_match "$out" '"kernel":"6\.1\.' "guest runs Debian's 6.1 kernel"
	assert_match "$out" '"fentry/fexit":\{"supported":true' "doctor in the guest: fentry yes"
	assert_match "$out" '"kprobe/kretprobe":\{"supported":true' "doctor in the guest: kprobe yes"
	assert_match "$out" '"tp_btf":\{"supported":true' "doctor in the guest: tp_btf yes"
	assert_match "$out" '"tcx link":\{"supported":false' "doctor in the guest: no TCX on 6.1"
}

run_test "6.1 guest: doctor reports fentry, kprobe yes and no TCX" test_guest_doctor

# guest_pass TAG BACKEND TESTS SUITES...: one guest boot runs SUITES
# (tests/run names) with VX_BACKEND=BACKEND and VX_TESTS=TESTS; their TAP
# lines are folded in here.
guest_pass() {
	local tag=$1 backend=$2 tests=$3 out rc log t0=$SECONDS seen=$T_N
	shift 3
	log=$ROOT/$BUILD/vm/matrix-${tag// /-}.log
	out=$("$VM" --timeout 5400 --log "$log" -- \
		env "VX_BACKEND=$backend" "VX_TESTS=$tests" tests/run -j1 "$@" 2>&1)
	rc=$?
	echo "# [$tag] $*: $((SECONDS - t0)) s in the guest (boot included)"
	if ((rc == 125)); then
		T_N=$((T_N + 1))
		echo "not ok $T_N - [$tag] the guest did not run $*"
		sed 's/^/# /' <<<"$out" | tail -20
		return
	fi
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
			T_N=$((T_N + 1))
			echo "${BASH_REMATCH[1]}ok $T_N - [$tag] ${BASH_REMATCH[2]}"
		elif [[ $line =~ ^(not\ )?ok\ [0-9]+\ (#\ SKIP.*)$ ]]; then
			# cmocka's skips carry no name: still a skip, never lost.
			T_N=$((T_N + 1))
			echo "ok $T_N - [$tag] ${BASH_REMATCH[2]}"
		elif [[ $line =~ ^not\ ok\ -\ (.*)$ ]]; then
			T_N=$((T_N + 1))
			echo "not ok $T_N - [$tag] ${BASH_REMATCH[1]}"
		elif [[ $line =~ ^==\ (.*)\ \(([0-9]+)\ s\)$ ]]; then
			echo "# [$tag] ${BASH_REMATCH[1]##*/}: ${BASH_REMATCH[2]} s in the guest"
		elif [[ $line == '# '* && $line != '# the ten slowest'* && $line != '#   '* ]]; then
			echo "$line"
		fi
	done <<<"$out"
	if ((T_N == seen)) || { ((rc != 0)) && ! grep -q '^not ok' <<<"$out"; }; then
		T_N=$((T_N + 1))
		echo "not ok $T_N - [$tag] the guest's tests/run exited $rc"
		sed 's/^/# /' <<<"$out" | tail -20
	fi
}

if ((EUID == 0)) && [[ -x $VM ]]; then
	matrix_t0=$SECONDS
	kver=$(guest_kernel)
	# shellcheck disable=SC2086
	[[ -z $VM_SUITES ]] || guest_pass "$kver" "" "$VM_SUITE_TESTS" $VM_SUITES
	for backend in ${VM_BACKENDS:-fentry kprobe}; do
		[[ -n $VM_BACKEND_SUITES ]] || break
		# shellcheck disable=SC2086
		guest_pass "$kver $backend" "$backend" "$VM_BACKEND_TESTS" $VM_BACKEND_SUITES
	done
	echo "# kernel matrix: $((SECONDS - matrix_t0)) s in all"
fi
