// SPDX-License-Identifier: GPL-2.0-only
#include "maputil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

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
