// SPDX-License-Identifier: GPL-2.0-only
#include "maputil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vxray.h"

uint64_t vx_percpu_sum(int map_fd, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0, *v;

	if (map_fd < 0 || ncpu <= 0 || !(v = calloc((size_t)ncpu, sizeof(*v))))
		return 0;
	if (!bpf_map_lookup_elem(map_fd, &key, v))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

int vx_ring_idle(struct bpf_map *rb)
{
	return bpf_map__set_max_entries(rb, (uint32_t)sysconf(_SC_PAGESIZE));
}

int vx_row_slot(void **rows, int *n, size_t row_size, const void *key, size_t key_size)
{
	char *r = *rows, *grown;
	int i;

	for (i = 0; i < *n; i++)
		if (!memcmp(r + (size_t)i * row_size, key, key_size))
			return i;
	grown = realloc(r, (size_t)(*n + 1) * row_size);
	if (!grown)
		return -ENOMEM;
	*rows = grown;
	memset(grown + (size_t)i * row_size, 0, row_size);
	memcpy(grown + (size_t)i * row_size, key, key_size);
	(*n)++;
	return i;
}

struct vx_cnt *vx_cnt_read(int cnt_fd, int *ncpu)
{
	struct vx_cnt *all;
	uint32_t zero = 0;
	int err;

	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu <= 0) {
		errno = -*ncpu;
		return NULL;
	}
	all = calloc((size_t)*ncpu, sizeof(*all));
	if (!all)
		return NULL;
	if (bpf_map_lookup_elem(cnt_fd, &zero, all)) {
		err = errno;
		free(all);
		errno = err;
		return NULL;
	}
	return all;
}

void vx_cnt_sum(int cnt_fd, uint64_t *out, int n)
{
	int ncpu;
	struct vx_cnt *all = vx_cnt_read(cnt_fd, &ncpu);

	memset(out, 0, sizeof(*out) * (size_t)n);
	for (int c = 0; all && c < ncpu; c++)
		for (int k = 0; k < n && k < VX_CNT_SLOTS; k++)
			out[k] += all[c].c[k];
	free(all);
}

/* Every CPU's slots, set-major: way w of set i of CPU c at
 * [(i * ncpu + c) * VX_TUN_WAYS + w], so that a set's slots on every CPU
 * are together. */
static int read_slots(int cnt_fd, int ncpu, struct vx_tun_slot *out)
{
	int n;
	struct vx_cnt *all = vx_cnt_read(cnt_fd, &n);

	if (!all)
		return -errno;
	for (int c = 0; c < ncpu && c < n; c++)
		for (size_t i = 0; i < VX_TUN_SETS; i++)
			memcpy(&out[(i * (size_t)ncpu + (size_t)c) * VX_TUN_WAYS],
			       &all[c].tslot[i * VX_TUN_WAYS], VX_TUN_WAYS * sizeof(*out));
	free(all);
	return 0;
}

int vx_tun_foreach(int tun_fd, int cnt_fd, vx_tun_fn fn, void *ctx)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	size_t per_set = (size_t)VX_TUN_WAYS * (ncpu > 0 ? ncpu : 1);
	size_t nslot = VX_TUN_SETS * per_set;
	struct vx_tun_slot *slots = calloc(nslot, sizeof(*slots));
	struct vx_tun_val *vals = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*vals));
	bool *used = calloc(nslot, sizeof(*used));
	struct vx_tun_key k, next;
	bool first = true;

	if (ncpu <= 0 || !slots || !vals || !used) {
		err = ncpu <= 0 ? ncpu : -ENOMEM;
		goto out;
	}
	/* The slots first: see vxray.h. */
	if ((err = read_slots(cnt_fd, ncpu, slots)))
		goto out;
	while (!bpf_map_get_next_key(tun_fd, first ? NULL : &k, &next)) {
		struct vx_tun_val tot = {};
		size_t base;

		first = false;
		k = next;
		if (bpf_map_lookup_elem(tun_fd, &k, vals))
			continue;
		base = vx_tun_set_of(&k) * per_set;
		for (int c = 0; c < ncpu; c++) {
			struct vx_tun_val v = vals[c];

			/* A slot holding the key has this CPU's newer totals;
			 * the datapath puts a key in one slot of a set only. */
			for (size_t w = 0; w < VX_TUN_WAYS; w++) {
				size_t i = base + (size_t)c * VX_TUN_WAYS + w;

				if (memcmp(&slots[i].key, &k, sizeof(k)))
					continue;
				used[i] = true;
				if (slots[i].val.packets > v.packets)
					v = slots[i].val;
			}
			tot.packets += v.packets;
			tot.bytes += v.bytes;
		}
		fn(&k, &tot, ctx);
	}
	/* Keys only in slots (their map entry was evicted, or not yet made):
	 * one call per key, over every CPU's slot of its set that holds it. */
	for (size_t i = 0; i < nslot; i++) {
		struct vx_tun_val tot = {};

		if (used[i] || !slots[i].key.at)
			continue;
		for (size_t j = i; j < (i / per_set + 1) * per_set; j++) {
			if (used[j] || memcmp(&slots[j].key, &slots[i].key, sizeof(k)))
				continue;
			used[j] = true;
			tot.packets += slots[j].val.packets;
			tot.bytes += slots[j].val.bytes;
		}
		fn(&slots[i].key, &tot, ctx);
	}
out:
	free(used);
	free(vals);
	free(slots);
	return err;
}
