// SPDX-License-Identifier: GPL-2.0-only
/* BTF enum names and kallsyms lookups against the running kernel, each
 * checked with an independent lookup rather than a number in the test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/btf.h>

#include "btfnames.h"
#include "ksyms.h"

/* The value of SKB_DROP_REASON_<name> as bpftool's C dump of the kernel's
 * BTF spells it: "	SKB_DROP_REASON_NETFILTER_DROP = 12,". */
static long bpftool_enum_value(const char *name)
{
	char line[512], want[128];
	long val = -1;
	FILE *p;

	p = popen("bpftool btf dump file /sys/kernel/btf/vmlinux format c 2>/dev/null", "r");
	if (!p)
		return -1;
	snprintf(want, sizeof(want), "%s = ", name);
	while (fgets(line, sizeof(line), p)) {
		char *s = strstr(line, want);

		if (s && (s == line || s[-1] == '\t' || s[-1] == ' ')) {
			val = strtol(s + strlen(want), NULL, 0);
			break;
		}
	}
	/* Read to the end so bpftool never dies of SIGPIPE. */
	while (fgets(line, sizeof(line), p))
		;
	pclose(p);
	return val;
}

static int need_btf(void **state)
{
	struct btf *btf = btf__load_vmlinux_btf();

	btf__free(btf);
	return btf ? 0 : -1;
}

static void netfilter_drop_matches_kernel(void **state)
{
	long want = bpftool_enum_value("SKB_DROP_REASON_NETFILTER_DROP");
	char buf[32];
	int64_t v;

	if (want < 0)
		skip();
	assert_string_equal(vx_drop_reason_name(want, buf, sizeof(buf)), "NETFILTER_DROP");
	assert_int_equal(vx_btf_enum_value("skb_drop_reason", "SKB_DROP_REASON_NETFILTER_DROP", &v),
			 0);
	assert_int_equal(v, want);
	assert_string_equal(vx_btf_enum_name("skb_drop_reason", want),
			    "SKB_DROP_REASON_NETFILTER_DROP");
}

static void unknown_reason(void **state)
{
	char buf[32];

	assert_null(vx_btf_enum_name("skb_drop_reason", 0x7fff0000));
	assert_string_equal(vx_drop_reason_name(0x7fff0000, buf, sizeof(buf)),
			    "unknown(2147418112)");
	assert_null(vx_btf_enum_name("no_such_enum_in_any_kernel", 1));
	assert_int_equal(vx_btf_enum_value("skb_drop_reason", "NOPE", &(int64_t){ 0 }), -ENOENT);
}

/* Anonymous enums (TCP states) are found through one of their members. */
static void anonymous_enum(void **state)
{
	int64_t v;

	assert_int_equal(vx_btf_enum_value("=TCP_ESTABLISHED", "TCP_ESTABLISHED", &v), 0);
	assert_int_equal(v, 1); /* uapi: fixed by the ABI, unlike drop reasons */
	assert_string_equal(vx_btf_enum_name("=TCP_ESTABLISHED", 7), "TCP_CLOSE");
}

/* nf_hook_slow's address, read from /proc/kallsyms by hand. */
static int kallsyms_addr_of(char *name, size_t len, unsigned long long *addr)
{
	char line[512], n[256], t;
	FILE *f = fopen("/proc/kallsyms", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", addr, &t, n) == 3 && *addr &&
		    (t == 'T' || t == 't') && !strchr(line, '[') && !strcmp(n, "nf_hook_slow")) {
			snprintf(name, len, "%s", n);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static void ksyms_lookup(void **state)
{
	unsigned long long addr;
	char name[256], buf[300], want[300];
	uint64_t off;

	if (kallsyms_addr_of(name, sizeof(name), &addr))
		skip(); /* kptr_restrict hides addresses */
	assert_int_equal(vx_ksyms_load(), 0);
	/* By name before any lookup: the streaming pass, not the table. */
	assert_int_equal(vx_ksym_addr("nf_hook_slow"), addr);
	assert_int_equal(vx_ksym_addr("no_such_symbol_in_any_kernel"), 0);
	assert_string_equal(vx_ksym_fmt(addr, buf, sizeof(buf)), "nf_hook_slow+0x0");
	snprintf(want, sizeof(want), "nf_hook_slow+0x%x", 0x10);
	assert_string_equal(vx_ksym_fmt(addr + 0x10, buf, sizeof(buf)), want);
	assert_string_equal(vx_ksym_lookup(addr + 3, &off), "nf_hook_slow");
	assert_int_equal(off, 3);
	assert_int_equal(vx_ksym_addr("nf_hook_slow"), addr);
	assert_string_equal(vx_ksym_fmt(0x10, buf, sizeof(buf)), "0x10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(netfilter_drop_matches_kernel),
		cmocka_unit_test(unknown_reason),
		cmocka_unit_test(anonymous_enum),
		cmocka_unit_test(ksyms_lookup),
	};

	return cmocka_run_group_tests(tests, need_btf, NULL);
}
