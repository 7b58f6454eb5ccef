// SPDX-License-Identifier: GPL-2.0-only
/* The drop reason table against the running kernel's BTF: every entry
 * that this kernel names round-trips through its number, every entry said
 * to exist in every kernel exists here, every tunnel-related reason this
 * kernel has is in the table, and a reason the table does not hold is
 * printed with its number and its BTF name. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/btf.h>

#include "btfnames.h"
#include "dropreason.h"

static int need_btf(void **state)
{
	struct btf *btf = btf__load_vmlinux_btf();

	btf__free(btf);
	return btf ? 0 : -1;
}

/* Each entry: a name, a meaning, flags that agree with each other, and one
 * lookup with or without the kernel's prefix. */
static void test_table_entries(void **state)
{
	const struct vx_drop_reason_info *t;
	char full[96];
	int n;

	t = vx_drop_reason_table(&n);
	assert_true(n >= 20);
	for (int i = 0; i < n; i++) {
		assert_non_null(t[i].name);
		assert_true(strlen(t[i].meaning) > 10);
		assert_null(strstr(t[i].name, "SKB_DROP_REASON_"));
		assert_ptr_equal(vx_drop_reason_info(t[i].name), &t[i]);
		snprintf(full, sizeof(full), "SKB_DROP_REASON_%s", t[i].name);
		assert_ptr_equal(vx_drop_reason_info(full), &t[i]);
		assert_string_equal(vx_drop_reason_meaning(t[i].name), t[i].meaning);
		/* Outer-only is a decap reason; a neighbour one is an encap one. */
		if (t[i].flags & VX_DR_OUTER)
			assert_true(t[i].flags & VX_DR_DECAP);
		if (t[i].flags & VX_DR_NEIGH)
			assert_true(t[i].flags & VX_DR_ENCAP);
		for (int k = 0; k < i; k++)
			assert_string_not_equal(t[k].name, t[i].name);
	}
	assert_null(vx_drop_reason_info("NO_SUCH_REASON"));
	assert_null(vx_drop_reason_info(NULL));
	assert_null(vx_drop_reason_meaning("TCP_CSUM"));
	/* The meaning the issue asked for: external devices, not neighbours. */
	assert_non_null(
		strstr(vx_drop_reason_meaning("TUNNEL_TXINFO"), "metadata-mode (external)"));
	assert_non_null(strstr(vx_drop_reason_meaning("TUNNEL_TXINFO"), "not a neighbour failure"));
	assert_true(vx_drop_reason_is("TUNNEL_TXINFO", VX_DR_ENCAP));
	assert_false(vx_drop_reason_is("TUNNEL_TXINFO", VX_DR_NEIGH));
	assert_true(vx_drop_reason_is("SKB_DROP_REASON_NO_SOCKET", VX_DR_DECAP | VX_DR_OUTER));
	assert_false(vx_drop_reason_is("VXLAN_VNI_NOT_FOUND", VX_DR_OUTER));
}

/* Name -> this kernel's number -> name, for every entry it has; entries
 * said to be in every kernel must be. */
static void test_round_trip(void **state)
{
	const struct vx_drop_reason_info *t;
	char full[96], buf[64], ex[512], want[512];
	int n, present = 0;
	int64_t v;

	t = vx_drop_reason_table(&n);
	for (int i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "SKB_DROP_REASON_%s", t[i].name);
		if (vx_btf_enum_value("skb_drop_reason", full, &v)) {
			if (!t[i].kernels[0])
				fail_msg("%s is said to be in every kernel but this one has none",
					 t[i].name);
			continue;
		}
		present++;
		assert_string_equal(vx_drop_reason_name((uint32_t)v, buf, sizeof(buf)), t[i].name);
		assert_ptr_equal(vx_drop_reason_info(vx_btf_enum_name("skb_drop_reason", v)),
				 &t[i]);
		snprintf(want, sizeof(want), "%s: %s", t[i].name, t[i].meaning);
		assert_string_equal(vx_drop_reason_explain((uint32_t)v, ex, sizeof(ex)), want);
	}
	assert_true(present >= 10);
}

/* Every reason of the running kernel that a tunnel can meet is explained:
 * its VXLAN, tunnel, neighbour and fragment reasons. A kernel that adds one
 * fails this until the table says what it means. */
static void test_every_tunnel_reason_of_this_kernel(void **state)
{
	regex_t re;
	int checked = 0;

	assert_int_equal(regcomp(&re,
				 "^SKB_DROP_REASON_(VXLAN_|[A-Z_]*TUNNEL|NEIGH_|NO_TX_TARGET|"
				 "LOCAL_MAC|MAC_INVALID|FRAG_|DUP_FRAG|UDP_CSUM|NO_SOCKET|"
				 "PKT_TOO_BIG|RECURSION_LIMIT)",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	/* The core reasons are numbered from 0 without gaps; subsystems'
	 * (bits 16 and up) are not tunnel reasons. */
	for (int64_t v = 0; v < 1024; v++) {
		const char *name = vx_btf_enum_name("skb_drop_reason", v);

		if (!name || regexec(&re, name, 0, NULL, 0))
			continue;
		checked++;
		if (!vx_drop_reason_info(name))
			fail_msg("this kernel's %s (%lld) is not in the drop reason table", name,
				 (long long)v);
	}
	regfree(&re);
	assert_true(checked >= 5);
}

/* A reason the table does not hold: its number and its BTF name; one no
 * BTF names: its number. */
static void test_unknown_reasons(void **state)
{
	char ex[256], want[256];
	int64_t v;

	assert_int_equal(vx_btf_enum_value("skb_drop_reason", "SKB_DROP_REASON_TCP_CSUM", &v), 0);
	snprintf(want, sizeof(want), "reason %lld (SKB_DROP_REASON_TCP_CSUM)", (long long)v);
	assert_string_equal(vx_drop_reason_explain((uint32_t)v, ex, sizeof(ex)), want);
	assert_string_equal(vx_drop_reason_explain(0x7fff0000, ex, sizeof(ex)),
			    "reason 2147418112 (not named by this kernel's BTF)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_entries),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_tunnel_reason_of_this_kernel),
		cmocka_unit_test(test_unknown_reasons),
	};

	return cmocka_run_group_tests(tests, need_btf, NULL);
}
