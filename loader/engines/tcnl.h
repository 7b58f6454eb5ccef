/* SPDX-License-Identifier: GPL-2.0-only */
/* tc over rtnetlink (libmnl), for kernels without TCX links: the clsact
 * qdisc and direct-action cls_bpf filters. Each function is named after
 * the message it sends. A socket works in the namespace it was opened in. */
#ifndef VXRAY_TCNL_H
#define VXRAY_TCNL_H

#include <stdbool.h>
#include <stdint.h>

struct vx_tcnl;

/* One cls_bpf (or other) filter as a dump reports it. */
struct vx_tc_filter {
	uint32_t prio;
	uint32_t handle;
	uint16_t protocol; /* network byte order, as tcm_info carries it */
	char kind[16];
	char bpf_name[64]; /* TCA_BPF_NAME, "" if none */
	uint32_t bpf_id;   /* TCA_BPF_ID, 0 if none */
};

/* Open a NETLINK_ROUTE socket in the calling thread's namespace. */
struct vx_tcnl *vx_tcnl_open(void);
void vx_tcnl_close(struct vx_tcnl *nl);

/* RTM_NEWQDISC clsact, NLM_F_EXCL: *created tells whether it was absent.
 * EEXIST is not an error. */
int vx_tcnl_newqdisc_clsact(struct vx_tcnl *nl, int ifindex, bool *created);
/* RTM_DELQDISC clsact; ENOENT (already gone) is not an error. */
int vx_tcnl_delqdisc_clsact(struct vx_tcnl *nl, int ifindex);
/* RTM_NEWTFILTER: a direct-action cls_bpf filter for every protocol at
 * @prio, handle 1, named @name, NLM_F_EXCL (EEXIST is an error: the
 * caller picked a free priority). */
int vx_tcnl_newtfilter_bpf(struct vx_tcnl *nl, int ifindex, bool egress, uint32_t prio, int prog_fd,
			   const char *name);
/* RTM_DELTFILTER of every filter at @prio; ENOENT is not an error. */
int vx_tcnl_deltfilter(struct vx_tcnl *nl, int ifindex, bool egress, uint32_t prio);
/* RTM_GETTFILTER dump of clsact ingress or egress into @out (at most @max).
 * Returns the number of filters; 0 when the device has no clsact. */
int vx_tcnl_gettfilter(struct vx_tcnl *nl, int ifindex, bool egress, struct vx_tc_filter *out,
		       int max);

#endif
