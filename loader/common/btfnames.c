// SPDX-License-Identifier: GPL-2.0-only
/* Enum names from /sys/kernel/btf/vmlinux: each enum asked for is copied
 * out once, so a view that prints a name per event never reparses BTF, and
 * the one vmlinux BTF the loader shares (vx_vmlinux_btf) can be released
 * after startup. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "log.h"

#define DROP_PREFIX "SKB_DROP_REASON_"
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* The kernel's BTF (5.5 MiB on 6.18), parsed with one copy instead of two.
 * libbpf 1.1 reads the file into a buffer and btf__new() then copies that
 * buffer: both are resident at once, and that pair was vxray's peak RSS
 * (massif: 2 x 5.5 MiB inside btf__parse, during vx_drops__load). Since
 * 6.16 the kernel lets the file be mapped read-only; those pages are the
 * kernel's own and never count in this process's RSS, so only btf__new()'s
 * copy is left (libbpf 1.6 does the same: btf_parse_raw_mmap).
 *
 * Defined here, the function also serves libbpf itself: bpf_object__load()
 * calls it through libbpf's PLT (R_X86_64_JUMP_SLOT), so the executable's
 * definition wins and every skeleton load gains too. Where the file cannot
 * be mapped (older kernels, no sysfs BTF) libbpf's own search runs,
 * unchanged. The result is an ordinary libbpf BTF, freed with btf__free(). */
struct btf *btf__load_vmlinux_btf(void)
{
	static struct btf *(*libbpf_load)(void);
	struct btf *btf = NULL;
	struct stat st;
	void *raw;
	int fd;

	fd = open(VMLINUX_BTF, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		raw = fstat(fd, &st) || st.st_size <= 0 ?
			      MAP_FAILED :
			      mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (raw != MAP_FAILED) {
			btf = btf__new(raw, (uint32_t)st.st_size);
			munmap(raw, (size_t)st.st_size);
			if (btf)
				return btf;
		}
	}
	if (!libbpf_load)
		libbpf_load = (struct btf * (*)(void)) dlsym(RTLD_NEXT, "btf__load_vmlinux_btf");
	if (!libbpf_load) {
		errno = ENOSYS;
		return NULL;
	}
	return libbpf_load();
}

static struct btf *vmlinux_btf;
static int vmlinux_err;

static struct btf *get_btf(void)
{
	if (!vmlinux_btf && !vmlinux_err) {
		vmlinux_btf = btf__load_vmlinux_btf();
		if (!vmlinux_btf)
			vmlinux_err = -errno;
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

/* Resolved enums, copied out of BTF so the BTF itself can be released
 * once startup is done (vx_vmlinux_btf_release): its ~6 MiB parsed form
 * would otherwise stay in RSS for the life of the process. */
struct enum_copy {
	char key[64];
	bool found;
	int n;
	int64_t *vals;
	char **names;
};
#define ENUM_CACHE 16
static struct enum_copy enum_cache[ENUM_CACHE];

static void copy_enum(struct enum_copy *e, const struct btf *btf, const struct btf_type *t)
{
	int n = member_count(t);

	e->vals = calloc((size_t)n, sizeof(*e->vals));
	e->names = calloc((size_t)n, sizeof(*e->names));
	if (!e->vals || !e->names) {
		free(e->vals);
		free(e->names);
		e->vals = NULL;
		e->names = NULL;
		return;
	}
	for (int i = 0; i < n; i++) {
		e->vals[i] = member_val(t, i);
		e->names[i] = strdup(member_name(btf, t, i));
		if (!e->names[i])
			break;
		e->n = i + 1;
	}
	e->found = true;
}

static const struct enum_copy *find_enum(const char *enum_name)
{
	const struct btf_type *t = NULL;
	struct btf *btf;
	int i, id, n;

	if (!enum_name)
		return NULL;
	for (i = 0; i < ENUM_CACHE && enum_cache[i].key[0]; i++)
		if (!strcmp(enum_cache[i].key, enum_name))
			return enum_cache[i].found ? &enum_cache[i] : NULL;
	btf = get_btf();
	if (!btf) {
		/* Said once, where a name is wanted: a view that cannot run
		 * without BTF has already said so in its own words. */
		static bool warned;

		if (!warned)
			pr_warn("cannot read the kernel's BTF (/sys/kernel/btf/vmlinux: %s): enum "
				"values are shown as numbers",
				vmlinux_err == -ESRCH ? "not found" : vx_strerror(vmlinux_err));
		warned = true;
		return NULL;
	}

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
	if (i == ENUM_CACHE)
		i = ENUM_CACHE - 1; /* full: the last slot is reused */
	free(enum_cache[i].vals);
	for (int m = 0; m < enum_cache[i].n; m++)
		free(enum_cache[i].names[m]);
	free(enum_cache[i].names);
	memset(&enum_cache[i], 0, sizeof(enum_cache[i]));
	snprintf(enum_cache[i].key, sizeof(enum_cache[i].key), "%s", enum_name);
	if (t)
		copy_enum(&enum_cache[i], btf, t);
	return enum_cache[i].found ? &enum_cache[i] : NULL;
}

const char *vx_btf_enum_name(const char *enum_name, int64_t val)
{
	const struct enum_copy *e = find_enum(enum_name);

	if (!e)
		return NULL;
	for (int i = 0; i < e->n; i++)
		if (e->vals[i] == val)
			return e->names[i];
	return NULL;
}

int vx_btf_enum_value(const char *enum_name, const char *val_name, int64_t *out)
{
	const struct enum_copy *e = find_enum(enum_name);

	if (!e)
		return vmlinux_err ? vmlinux_err : -ENOENT;
	for (int i = 0; i < e->n; i++) {
		if (!strcmp(e->names[i], val_name)) {
			*out = e->vals[i];
			return 0;
		}
	}
	return -ENOENT;
}

struct btf *vx_vmlinux_btf(void)
{
	return get_btf();
}

void vx_vmlinux_btf_release(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	/* Give the freed megabytes back -- ours and libbpf's own parse, freed
	 * after the skeleton load: after a large free glibc raises its mmap
	 * threshold, so a parse lands in the brk heap, which is only returned
	 * on request. */
	malloc_trim(0);
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
	vx_vmlinux_btf_release();
	vmlinux_err = 0;
	for (int i = 0; i < ENUM_CACHE; i++) {
		for (int m = 0; m < enum_cache[i].n; m++)
			free(enum_cache[i].names[m]);
		free(enum_cache[i].names);
		free(enum_cache[i].vals);
	}
	memset(enum_cache, 0, sizeof(enum_cache));
}
