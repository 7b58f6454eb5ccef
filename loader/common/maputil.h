/* SPDX-License-Identifier: GPL-2.0-only */
/* Small readers shared by the engines that keep counters in BPF maps. */
#ifndef VXRAY_MAPUTIL_H
#define VXRAY_MAPUTIL_H

#include <stddef.h>
#include <stdint.h>

/* The sum over CPUs of the u64 at KEY of the per-CPU array MAP_FD (a lost
 * counter, say); 0 when it cannot be read. */
uint64_t vx_percpu_sum(int map_fd, uint32_t key);

/* The index of the row whose first KEY_SIZE bytes equal KEY in *ROWS (*N
 * rows of ROW_SIZE bytes each), appending a zeroed row with that key when
 * there is none; -ENOMEM when it cannot grow. */
int vx_row_slot(void **rows, int *n, size_t row_size, const void *key, size_t key_size);

struct bpf_map;

/* Sizes ring buffer RB, before its object is loaded, for a mode that never
 * writes to it (events off): one page, the least a ring can be, not the
 * megabytes of kernel memory its full size would hold for nothing. */
int vx_ring_idle(struct bpf_map *rb);

struct vx_cnt;
struct vx_tun_key;
struct vx_tun_val;

/* Every CPU's struct vx_cnt from the datapath's per-CPU counters CNT_FD
 * (vxp_cnt), in an array of libbpf_num_possible_cpus() the caller frees;
 * NULL with errno set when it cannot be read. */
struct vx_cnt *vx_cnt_read(int cnt_fd, int *ncpu);
/* The sum over CPUs of each counter of CNT_FD (enum vx_result, enum
 * vx_counter) into OUT[0..N); all 0 when it cannot be read. */
void vx_cnt_sum(int cnt_fd, uint64_t *out, int n);

/* Calls FN once per tunnel with its packets and bytes summed over CPUs,
 * read from the datapath's per-tunnel map TUN_FD (vxp_tun) and the
 * per-CPU slots in front of it, in CNT_FD (vxp_cnt), in the order that
 * keeps successive reads from going backwards (vxray.h). -errno when the
 * maps cannot be read. */
typedef void (*vx_tun_fn)(const struct vx_tun_key *k, const struct vx_tun_val *tot, void *ctx);
int vx_tun_foreach(int tun_fd, int cnt_fd, vx_tun_fn fn, void *ctx);

#endif
