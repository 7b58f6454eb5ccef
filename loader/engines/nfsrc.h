/* SPDX-License-Identifier: GPL-2.0-only */
/* The netfilter verdict engine: packets netfilter dropped, with the hook
 * and family they were dropped at. `vxray policy` and `vxray trace` use it
 * in-process; policy.c names the rule.
 *
 * Backends, best first (or the one --backend forces): fexit on
 * nf_hook_slow, kprobe + kretprobe on it (bpf/kprobe/vx_nfhook.bpf.c: the
 * hook and family from the kernel's own struct nf_hook_state), else the
 * drop engine (dropsrc) with only SKB_DROP_REASON_NETFILTER_DROP and a
 * stack per drop, the hook read off the stack (vx_nf_hook_of_drop). A user
 * that already runs the drop engine for every reason asks for the
 * nf_hook_slow backends only (hooks_only) and reads its own drops' hooks.
 *
 * Lifecycle: vx_nfsrc_open() -> vx_nfsrc_add_to_loop() -> the callback per
 * drop -> vx_nfsrc_read_counts() and vx_nfsrc_lost() at each tick ->
 * vx_nfsrc_close(). */
#ifndef VXRAY_NFSRC_H
#define VXRAY_NFSRC_H

#include <stdbool.h>
#include <stdint.h>

#include "dropsrc.h"
#include "opts.h"
#include "policy.h"

struct vx_loop;
struct vx_nfsrc;

/* One netfilter drop: @d as the drop engine decodes it (its reason is
 * "NETFILTER_DROP"; after nf_hook_slow the skb is freed, so its length is
 * 0 and its headers best effort), the hook, and the family (4, 6, or 0
 * when unknown). Valid only during the call. */
typedef void (*vx_nf_cb)(void *ctx, const struct vx_drop *d, enum vx_nf_hook hook, int family);

struct vx_nfsrc_cfg {
	enum vx_backend backend;	   /* VX_BACKEND_AUTO: best first */
	const struct vxd_scope_key *scope; /* none: every namespace */
	int n_scope;
	uint16_t vxlan_port; /* 0: 4789 */
	/* Only the nf_hook_slow backends: -EOPNOTSUPP, silently, when the
	 * kernel refuses both, instead of opening the drop engine. */
	bool hooks_only;
	/* --pcap: packet bytes with each drop. Only the drop engine has them
	 * (nf_hook_slow returns after the skb was freed), so it is used. */
	uint16_t snaplen;
};

/* 0, or a negative errno having printed one sentence (none for
 * -EOPNOTSUPP with hooks_only; vx_nfsrc_why() then says why). */
int vx_nfsrc_open(struct vx_nfsrc **out, const struct vx_nfsrc_cfg *cfg, vx_nf_cb cb, void *ctx);
/* The drop engine delivering, NULL when nf_hook_slow does. */
struct vx_dropsrc *vx_nfsrc_dropsrc(const struct vx_nfsrc *s);
/* The drop engine's rows of the last vx_nfsrc_read_counts() (0 and NULL
 * when nf_hook_slow delivers): by reason and location, for --metrics. */
int vx_nfsrc_last_rows(const struct vx_nfsrc *s, const struct vx_drop_row **rows);
/* Why the nf_hook_slow backends were refused, after a failed open with
 * hooks_only: one phrase, valid until the next open. */
const char *vx_nfsrc_why(void);
/* "fexit/nf_hook_slow", "kprobe+kretprobe/nf_hook_slow", or the drop
 * engine's backend. */
const char *vx_nfsrc_backend(const struct vx_nfsrc *s);
int vx_nfsrc_add_to_loop(struct vx_nfsrc *s, struct vx_loop *l);
/* Deliver what is already in the ring buffer. */
void vx_nfsrc_drain(struct vx_nfsrc *s);
/* Drops the kernel counted (exact, whatever the ring buffer lost) since the
 * previous call: @fn once per namespace that had some. */
void vx_nfsrc_read_counts(struct vx_nfsrc *s, void (*fn)(void *ctx, uint32_t netns, uint64_t n),
			  void *ctx);
/* Events the ring buffer had no room for, since open. */
uint64_t vx_nfsrc_lost(struct vx_nfsrc *s);
void vx_nfsrc_close(struct vx_nfsrc *s);

/* The hook of a drop-engine NETFILTER_DROP, from its stack (the first
 * NF_HOOK caller below nf_hook_slow); VX_NFH_UNKNOWN without a stack.
 * *@family is set to 4, 6 or 0. */
enum vx_nf_hook vx_nf_hook_of_drop(const struct vx_drop *d, int *family);

#endif
