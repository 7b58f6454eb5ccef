/* SPDX-License-Identifier: GPL-2.0-only */
/* Decoders of untrusted ctnetlink input, for the conntrack engine
 * (conntrack.c), which sends the requests and reads the sockets.
 *
 * Pure: they read only the @len bytes at @nlh (which must cover
 * nlh->nlmsg_len) and write only their outputs. Each returns a negative
 * errno on a malformed or foreign message and leaves the outputs alone. */
#ifndef VXRAY_CTNL_H
#define VXRAY_CTNL_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/kprobe/vx_drops.h" /* struct vxd_ip: a tuple */

struct nlmsghdr;

/* The kernel's per-CPU conntrack statistics (conntrack -S), summed. */
struct vx_ct_cpu_stats {
	uint64_t found, invalid, insert, insert_failed, drop, early_drop, error;
	uint64_t search_restart, clash_resolve, chaintoolong;
};

/* One IPCTNL_MSG_CT_GET_STATS_CPU reply (one CPU): added into @sum. */
int vx_ct_parse_stats_cpu(const struct nlmsghdr *nlh, size_t len, struct vx_ct_cpu_stats *sum);
/* The IPCTNL_MSG_CT_GET_STATS reply: entries in the namespace's table and,
 * when the kernel says, nf_conntrack_max (else *max is left alone). */
int vx_ct_parse_stats(const struct nlmsghdr *nlh, size_t len, uint32_t *count, uint32_t *max);

/* Event kinds; the BPF records' enum vxc_ev_kind has the same values. */
enum {
	VX_CT_EV_OTHER = 0,
	VX_CT_EV_NEW = 1,	    /* an entry is in the table (confirmed) */
	VX_CT_EV_DESTROY = 2,	    /* a confirmed entry left it */
	VX_CT_EV_ALLOC_FAILED = 3,  /* refused: the table was full (BPF only) */
	VX_CT_EV_INSERT_FAILED = 4, /* not inserted, packet dropped (BPF only) */
};
/* A ctnetlink event: VX_CT_EV_NEW, VX_CT_EV_DESTROY or VX_CT_EV_OTHER
 * (updates), with the original tuple's L4 protocol in *proto (0 when the
 * message does not say). */
int vx_ct_parse_event(const struct nlmsghdr *nlh, size_t len, uint8_t *proto);
/* The same, with the whole original tuple in @t: family 4 or 6 (0 when the
 * message has no addresses), addresses, protocol, ports, or ICMP type and
 * code in the port fields as drop records have them. */
int vx_ct_parse_event_tuple(const struct nlmsghdr *nlh, size_t len, struct vxd_ip *t);

#endif
