#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The kernel matrix: the same build, booted on Debian's 6.1 kernel under
# qemu (tests/vm/vmtest), where fentry and kprobes work and TCX does not.
# The guest's own TAP lines are re-emitted here, tagged with the kernel and
# backend, so they count in `make check`'s closing line.
source "$(dirname "$0")/../lib.sh"

VMTEST=${VMTEST:-}
VM=$ROOT/tests/vm/vmtest
# Suites run inside the guest. Views with kernel-hook backends run once per
# backend the guest allows (VX_BACKEND, passed by their tests as --backend).
# Set but empty means none: VM_SUITES=encap VM_BACKEND_SUITES= runs one suite.
VM_SUITES=${VM_SUITES-"doctor parser retrans encap difffuzz trace"}
VM_BACKEND_SUITES=${VM_BACKEND_SUITES-"drops conntrack policy latency diagnose pcap"}

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

# guest_suites TAG ENV SUITES...: run suites in the guest, fold results in.
guest_suites() {
	local tag=$1 envs=$2 out rc log
	shift 2
	log=$ROOT/$BUILD/vm/matrix-${tag// /-}.log
	for suite in "$@"; do
		local t0=$SECONDS
		out=$("$VM" --log "$log" -- env $envs tests/run "$suite" 2>&1)
		rc=$?
		echo "# [$tag] $suite: $((SECONDS - t0)) s in the guest (boot included)"
		if ((rc == 125)); then
			T_N=$((T_N + 1))
			echo "not ok $T_N - [$tag] the guest did not run suite $suite"
			sed 's/^/# /' <<<"$out" | tail -20
			continue
		fi
		local seen=$T_N
		while IFS= read -r line; do
			if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
				T_N=$((T_N + 1))
				echo "${BASH_REMATCH[1]}ok $T_N - [$tag] ${BASH_REMATCH[2]}"
			elif [[ $line =~ ^not\ ok\ -\ (.*)$ ]]; then
				T_N=$((T_N + 1))
				echo "not ok $T_N - [$tag] ${BASH_REMATCH[1]}"
			elif [[ $line == '# '* ]]; then
				echo "$line"
			fi
		done <<<"$out"
		if ((T_N == seen)); then
			T_N=$((T_N + 1))
			echo "not ok $T_N - [$tag] suite $suite reported no test in the guest (exit $rc)"
			sed 's/^/# /' <<<"$out" | tail -20
		fi
	done
}

if ((EUID == 0)) && [[ -x $VM ]]; then
	matrix_t0=$SECONDS
	kver=$(guest_kernel)
	# shellcheck disable=SC2086
	guest_suites "$kver" "VX_BACKEND=" $VM_SUITES
	for backend in fentry kprobe; do
		[[ -n $VM_BACKEND_SUITES ]] || break
		# shellcheck disable=SC2086
		guest_suites "$kver $backend" "VX_BACKEND=$backend" $VM_BACKEND_SUITES
	done
	echo "# kernel matrix: $((SECONDS - matrix_t0)) s in all"
fi
