// SPDX-License-Identifier: GPL-2.0-only
/* Enum names from /sys/kernel/btf/vmlinux, loaded once and cached: a view
 * prints a name per event, so lookups must not reparse BTF. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "log.h"

#define DROP_PREFIX "SKB_DROP_REASON_"

static struct btf *vmlinux_btf;
static int vmlinux_err;

static struct btf *get_btf(void)
{
	if (!vmlinux_btf && !vmlinux_err) {
		vmlinux_btf = btf__load_vmlinux_btf();
		if (!vmlinux_btf) {
			vmlinux_err = -errno;
			pr_warn("cannot read the kernel's BTF (%s): enum values are shown as numbers",
				vx_strerror(vmlinux_err));
		}
	}
	return vmlinux_btf;
}

/* Member lookups on one BTF enum, ENUM (32-bit) or ENUM64 alike. */
static int member_count(const struct btf_type *t)
{
	return btf_vlen(t);
}

static int64_t member_val(const struct btf_type *t, int i)
{
	if (btf_is_enum64(t))
		return (int64_t)btf_enum64_value(btf_enum64(t) + i);
	return btf_kflag(t) ? (int64_t)btf_enum(t)[i].val : (int64_t)(uint32_t)btf_enum(t)[i].val;
}

static const char *member_name(const struct btf *btf, const struct btf_type *t, int i)
{
	uint32_t off = btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;

	return btf__name_by_offset(btf, off);
}

/* Cache of resolved enum type ids by the caller's key. */
#define ENUM_CACHE 16
static struct {
	char key[64];
	const struct btf_type *t;
} enum_cache[ENUM_CACHE];

static const struct btf_type *find_enum(const char *enum_name)
{
	struct btf *btf = get_btf();
	const struct btf_type *t = NULL;
	int i, id, n;

	if (!btf || !enum_name)
		return NULL;
	for (i = 0; i < ENUM_CACHE && enum_cache[i].key[0]; i++)
		if (!strcmp(enum_cache[i].key, enum_name))
			return enum_cache[i].t;

	if (enum_name[0] != '=') {
		id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
		if (id < 0)
			id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM64);
		if (id > 0)
			t = btf__type_by_id(btf, id);
	} else {
		/* Anonymous enum: the one that has a member of that name. */
		n = btf__type_cnt(btf);
		for (id = 1; id < n && !t; id++) {
			const struct btf_type *c = btf__type_by_id(btf, id);

			if (!btf_is_any_enum(c))
				continue;
			for (int m = 0; m < member_count(c); m++) {
				if (!strcmp(member_name(btf, c, m), enum_name + 1)) {
					t = c;
					break;
				}
			}
		}
	}
	if (i < ENUM_CACHE) {
		snprintf(enum_cache[i].key, sizeof(enum_cache[i].key), "%s", enum_name);
		enum_cache[i].t = t;
	}
	return t;
}

const char *vx_btf_enum_name(const char *enum_name, int64_t val)
{
	const struct btf_type *t = find_enum(enum_name);

	if (!t)
		return NULL;
	for (int i = 0; i < member_count(t); i++)
		if (member_val(t, i) == val)
			return member_name(vmlinux_btf, t, i);
	return NULL;
}

int vx_btf_enum_value(const char *enum_name, const char *val_name, int64_t *out)
{
	const struct btf_type *t = find_enum(enum_name);

	if (!t)
		return vmlinux_err ? vmlinux_err : -ENOENT;
	for (int i = 0; i < member_count(t); i++) {
		if (!strcmp(member_name(vmlinux_btf, t, i), val_name)) {
			*out = member_val(t, i);
			return 0;
		}
	}
	return -ENOENT;
}

const char *vx_drop_reason_name(uint32_t reason, char *buf, size_t len)
{
	const char *n = vx_btf_enum_name("skb_drop_reason", reason);

	if (!n) {
		snprintf(buf, len, "unknown(%u)", reason);
		return buf;
	}
	if (!strncmp(n, DROP_PREFIX, strlen(DROP_PREFIX)))
		n += strlen(DROP_PREFIX);
	return n;
}

void vx_btf_names_reset(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	vmlinux_err = 0;
	memset(enum_cache, 0, sizeof(enum_cache));
}
