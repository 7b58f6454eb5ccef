// SPDX-License-Identifier: GPL-2.0-only
/* The drop reasons a VXLAN packet can meet and what the kernel means by
 * each (see dropreason.h). Each meaning is the kernel's own comment in
 * include/net/dropreason-core.h, said for a tunnel: where the driver
 * raises it (drivers/net/vxlan/vxlan_core.c, net/core/neighbour.c, ...)
 * says what it means for a VXLAN packet. */
#include <stdio.h>
#include <string.h>

#include "btfnames.h"
#include "dropreason.h"

#define PREFIX "SKB_DROP_REASON_"

/* "" in .kernels: in every kernel vxray runs on (Debian's 6.1 has it).
 * Otherwise the upstream release that added it; stable kernels get some
 * earlier (6.18.y has RECURSION_LIMIT), so only BTF says what the running
 * kernel has. */
static const struct vx_drop_reason_info table[] = {
	/* The receiver refused a VXLAN packet. */
	{ "VXLAN_INVALID_HDR",
	  "the VXLAN header is invalid: its I flag is not set or reserved bits are not zero",
	  "6.13+", VX_DR_DECAP },
	{ "VXLAN_VNI_NOT_FOUND", "no VXLAN device here serves the VNI the packet carries", "6.13+",
	  VX_DR_DECAP },
	{ "MAC_INVALID_SOURCE",
	  "the source MAC of the encapsulated frame is not a valid unicast address", "6.13+",
	  VX_DR_DECAP },
	{ "VXLAN_ENTRY_EXISTS",
	  "the encapsulated frame's source MAC arrived from another VTEP than a static (or "
	  "nexthop) FDB entry says, and learning may not move that entry",
	  "6.13+", VX_DR_DECAP },
	{ "IP_TUNNEL_ECN",
	  "the outer and inner ECN bits conflict in a way RFC 6040 says to drop (outer CE on an "
	  "inner packet that is not ECN-capable)",
	  "6.13+", VX_DR_DECAP },
	{ "NO_SOCKET",
	  "no socket listens on the packet's destination port; for an outer VXLAN packet: no "
	  "VXLAN device on this host uses the UDP port it was sent to",
	  "", VX_DR_DECAP | VX_DR_OUTER },
	{ "UDP_CSUM",
	  "the UDP checksum is wrong; on an outer VXLAN packet typically a broken transmit "
	  "checksum offload at the sender",
	  "", VX_DR_DECAP | VX_DR_OUTER },
	{ "OTHERHOST",
	  "the frame's destination MAC is not this interface's (seen because it is promiscuous): "
	  "it was sent to another host's address",
	  "", 0 },
	{ "IP_RPFILTER",
	  "reverse-path filtering: the source address is not routed back through the interface "
	  "the packet arrived on (rp_filter)",
	  "", 0 },
	{ "IP_INNOROUTES", "no route for the received packet (network unreachable)", "", 0 },
	{ "LOCAL_MAC",
	  "the decapsulated frame's source MAC is the VXLAN device's own: a loop, or the echo of "
	  "its own multicast, which the driver discards",
	  "6.13+", VX_DR_BENIGN },
	/* The sender could not encapsulate or send. */
	{ "VXLAN_NO_REMOTE",
	  "the VXLAN device has no remote and no FDB entry for the destination (NO_TX_TARGET "
	  "since 6.14)",
	  "6.13", VX_DR_ENCAP },
	{ "NO_TX_TARGET",
	  "the tunnel device has no target for the destination: a VXLAN device without a remote "
	  "and without an FDB entry for it",
	  "6.14+", VX_DR_ENCAP },
	{ "TUNNEL_TXINFO",
	  "a packet was sent on a metadata-mode (external) tunnel device without tunnel "
	  "information (no `encap` route or program gave it one); not a neighbour failure",
	  "6.13+", VX_DR_ENCAP },
	{ "IP_OUTNOROUTES",
	  "no route to the destination; for a VXLAN packet: no route to the remote VTEP", "",
	  VX_DR_ENCAP },
	{ "NEIGH_CREATEFAIL", "no neighbour (ARP/ND) entry could be created for the next hop", "",
	  VX_DR_ENCAP | VX_DR_NEIGH },
	{ "NEIGH_FAILED",
	  "the next hop's neighbour entry is FAILED: ARP/ND got no answer for its address", "",
	  VX_DR_ENCAP | VX_DR_NEIGH },
	{ "NEIGH_QUEUEFULL",
	  "too many packets waited for the next hop's ARP/ND to resolve (its queue is full)", "",
	  VX_DR_ENCAP | VX_DR_NEIGH },
	{ "NEIGH_DEAD", "the next hop's neighbour entry was removed while packets waited on it", "",
	  VX_DR_ENCAP | VX_DR_NEIGH },
	{ "NEIGH_HH_FILLFAIL", "the link-layer header for the next hop could not be filled in",
	  "6.16+", VX_DR_ENCAP | VX_DR_NEIGH },
	{ "RECURSION_LIMIT",
	  "a dead loop through virtual devices: a tunnel whose packets are routed back into "
	  "itself",
	  "7.1+, and stable backports", VX_DR_ENCAP },
	/* Size: the overlay does not fit the path. */
	{ "PKT_TOO_BIG", "the packet is larger than the MTU of its path and may not be fragmented",
	  "", VX_DR_MTU },
	{ "FRAG_REASM_TIMEOUT", "some fragments of the packet never arrived and reassembly gave up",
	  "6.2+", VX_DR_MTU },
	{ "DUP_FRAG", "a duplicate fragment", "6.2+", VX_DR_MTU },
	{ "FRAG_TOO_FAR",
	  "an IPv4 fragment arrived too far behind the rest of its packet (ipfrag_max_dist)",
	  "6.2+", VX_DR_MTU },
	/* Rules and programs the operator installed. */
	{ "NETFILTER_DROP", "a netfilter rule (iptables, nftables) or conntrack dropped it", "",
	  VX_DR_POLICY },
	{ "TC_INGRESS", "a tc filter or action on ingress dropped it", "", VX_DR_POLICY },
	{ "TC_EGRESS", "a tc filter or action on egress dropped it", "", VX_DR_POLICY },
	{ "XDP", "an XDP program dropped it", "", VX_DR_POLICY },
	/* Anywhere. */
	{ "NOT_SPECIFIED",
	  "the kernel gave no reason; before 6.13 every drop in the VXLAN driver is one, and "
	  "its location says where",
	  "", 0 },
	{ "PKT_TOO_SMALL", "the packet is shorter than its headers need", "", 0 },
	{ "HDR_TRUNC", "a header could not be read from the packet (truncated)", "", 0 },
};

#define N_TABLE ((int)(sizeof(table) / sizeof(table[0])))

const struct vx_drop_reason_info *vx_drop_reason_info(const char *name)
{
	if (!name)
		return NULL;
	if (!strncmp(name, PREFIX, strlen(PREFIX)))
		name += strlen(PREFIX);
	for (int i = 0; i < N_TABLE; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

const char *vx_drop_reason_meaning(const char *name)
{
	const struct vx_drop_reason_info *r = vx_drop_reason_info(name);

	return r ? r->meaning : NULL;
}

int vx_drop_reason_is(const char *name, uint32_t flags)
{
	const struct vx_drop_reason_info *r = vx_drop_reason_info(name);

	return r && (r->flags & flags) == flags;
}

const struct vx_drop_reason_info *vx_drop_reason_table(int *n)
{
	*n = N_TABLE;
	return table;
}

const char *vx_drop_reason_explain(uint32_t reason, char *buf, size_t len)
{
	const char *name = vx_btf_enum_name("skb_drop_reason", reason);
	const struct vx_drop_reason_info *r = vx_drop_reason_info(name);

	if (r)
		snprintf(buf, len, "%s: %s", r->name, r->meaning);
	else if (name)
		snprintf(buf, len, "reason %u (%s)", reason, name);
	else
		snprintf(buf, len, "reason %u (not named by this kernel's BTF)", reason);
	return buf;
}
