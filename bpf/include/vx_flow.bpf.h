/* SPDX-License-Identifier: GPL-2.0-only */
/* The flow table (struct vx_flow_key -> vx_flow_val, vxray.h): the
 * tunnel each TCP flow's packets carried, learned by the datapath from
 * its SYN or SYN-ACK (vxp_flow) and read by the retransmit probe in
 * counting mode (vxr_flow, the same map through bpf_map__reuse_fd, which
 * wants one shape). LRU: bounded whatever the number of flows; a flow
 * evicted before it retransmits falls back to the route. */
#ifndef VXRAY_FLOW_BPF_H
#define VXRAY_FLOW_BPF_H

#include <bpf/bpf_helpers.h>

#include "vxray.h"

#define VX_FLOW_MAP(name)                                                                          \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);                                               \
		__uint(max_entries, 8192);                                                         \
		__type(key, struct vx_flow_key);                                                   \
		__type(value, struct vx_flow_val);                                                 \
	} name SEC(".maps")

#endif
