/* SPDX-License-Identifier: GPL-2.0-only */
/* VXLAN devices and their underlays, read over rtnetlink with libmnl. */
#ifndef VXRAY_INVENTORY_H
#define VXRAY_INVENTORY_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "opts.h"

union vx_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

struct vx_vxlan_dev {
	char netns[VX_NETNS_NAME_MAX]; /* "" = vxray's own namespace */
	uint32_t netns_inum;
	char name[IF_NAMESIZE];
	int ifindex;
	uint32_t vni;
	int local_family; /* 0 when no local address is set */
	union vx_addr local;
	int remote_family; /* 0 when neither remote nor group */
	union vx_addr remote;
	bool remote_is_group; /* multicast group rather than unicast remote */
	uint16_t dstport;     /* host byte order */
	bool learning;
	bool up;
	uint32_t mtu;
	int underlay_ifindex; /* 0 when none could be found */
	char underlay[IF_NAMESIZE];
	uint32_t underlay_mtu;
	bool underlay_from_route; /* found by route lookup, not IFLA_VXLAN_LINK */
};

struct vx_inventory {
	struct vx_vxlan_dev *devs;
	int n;
	int cap;
};

/* Append every VXLAN device in namespace @netns (NULL/"" = current). */
int vx_inventory_collect(struct vx_inventory *inv, const char *netns);
void vx_inventory_free(struct vx_inventory *inv);

struct nlmsghdr;
/* Decode one RTM_NEWLINK message: 1 and @out filled for a VXLAN device,
 * 0 for any other link, -EINVAL for a malformed message. Never reads past
 * nlmsg_len. The underlay fields are left for the caller to resolve. */
int vx_inventory_parse_link(const struct nlmsghdr *nlh, struct vx_vxlan_dev *out);

/* glibc's <net/if.h> stops before the kernel's carrier flag, and
 * <linux/if.h> cannot be included beside it. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* Any link in an RTM_NEWLINK or RTM_DELLINK message (a notification or a
 * dump reply): what a link change says. */
struct vx_link_msg {
	int ifindex;
	unsigned int flags;	/* IFF_*: IFF_UP, IFF_LOWER_UP, ... */
	uint32_t mtu;		/* 0 when the message does not say */
	bool deleted;		/* RTM_DELLINK */
	char name[IF_NAMESIZE]; /* "" when the message does not say */
};
/* Decode @nlh: 0 with @out filled, -EINVAL for a malformed message or one
 * of another type. Never reads past nlmsg_len. */
int vx_link_parse(const struct nlmsghdr *nlh, struct vx_link_msg *out);

/* The device the kernel routes @addr out of, inside @netns: *oif set,
 * 0 returned, or a negative errno. */
int vx_route_oif(const char *netns, int family, const void *addr, int *oif);

/* VXLAN overhead for the outer family: 50 bytes over IPv4, 70 over IPv6
 * (outer Ethernet 14 + IP 20/40 + UDP 8 + VXLAN 8). */
int vx_vxlan_overhead(int outer_family);
/* True when the overlay MTU does not fit the underlay; fills @msg with one
 * sentence naming both numbers. */
bool vx_mtu_problem(const struct vx_vxlan_dev *d, char *msg, size_t len);

#endif
