/* SPDX-License-Identifier: GPL-2.0-only */
/* VXLAN devices and their underlays, read over rtnetlink with libmnl. */
#ifndef VXRAY_INVENTORY_H
#define VXRAY_INVENTORY_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "vxray.h"

union vx_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

/* One VNI range of a VNI-filtering device (`bridge vni add dev vx vni 100
 * group 239.1.1.1`), with the multicast group (or unicast remote) given
 * for it, if any. */
struct vx_vni_range {
	uint32_t start, end; /* end == start for a single VNI */
	int group_family;    /* 0: none */
	union vx_addr group;
};

/* Where a device sends besides its own `remote`: an all-zero FDB entry's
 * destination (`bridge fdb append 00:00:00:00:00:00 dev vx dst R`: head-end
 * replication, EVPN, Docker's overlay), or, for an external device, an
 * lwtunnel route's (`ip route add P encap ip id N dst R dev vx`). */
enum vx_remote_from {
	VX_REMOTE_FDB = 1,
	VX_REMOTE_ROUTE,
};

struct vx_remote {
	int family; /* AF_INET, AF_INET6 */
	union vx_addr addr;
	uint32_t vni; /* the entry's own VNI, VX_VNI_UNKNOWN when it has none */
	uint8_t from; /* enum vx_remote_from */
};

#define VX_INV_MAX_VNIS 16
#define VX_INV_MAX_REMOTES 16

struct vx_vxlan_dev {
	char netns[VX_NETNS_NAME_MAX]; /* "" = vxray's own namespace */
	uint32_t netns_inum;
	char name[IF_NAMESIZE];
	int ifindex;
	uint32_t vni;	/* 0 and meaningless when external */
	bool external;	/* collect_md: each packet's VNI and remote in its tunnel key */
	bool vnifilter; /* external, accepting only the VNIs in vnis[] */
	int n_vnis;	/* VNI ranges the kernel listed; the first VX_INV_MAX_VNIS kept */
	struct vx_vni_range vnis[VX_INV_MAX_VNIS];
	int n_remotes; /* remotes found; the first VX_INV_MAX_REMOTES kept */
	struct vx_remote remotes[VX_INV_MAX_REMOTES];
	int local_family; /* 0 when no local address is set */
	union vx_addr local;
	/* Without a local address, the source the kernel gives its outer
	 * packets: the preferred source of the route to its first remote
	 * (0 when unknown). */
	int route_src_family;
	union vx_addr route_src;
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
	/* The bridge (or other master) it is a port of: where the overlay
	 * address lives in a bridged set-up. 0 and "" when none. */
	int master_ifindex;
	char master[IF_NAMESIZE];
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

/* Decoders of the messages that say where a device sends (loader/common/
 * peers.c), pure like vx_inventory_parse_link: 1 and the out-parameters
 * filled for a message of interest, 0 for any other, -EINVAL for a
 * malformed one; never a read past nlmsg_len.
 * An AF_BRIDGE neighbour (RTM_NEWNEIGH) that is an all-zero FDB entry with
 * a destination: *ifindex is its device. */
int vx_inventory_parse_fdb(const struct nlmsghdr *nlh, int *ifindex, struct vx_remote *out);
/* An RTM_NEWROUTE whose encapsulation is an IP tunnel (lwtunnel ip/ip6):
 * *oif is the device it leaves by, @out the tunnel's destination and id. */
int vx_inventory_parse_route(const struct nlmsghdr *nlh, int *oif, struct vx_remote *out);
/* An RTM_NEWTUNNEL (the VNI filter dump, `bridge vni`) of device @d
 * (tunnel_msg.ifindex == d->ifindex): its ranges appended to d->vnis. */
int vx_inventory_parse_vnifilter(const struct nlmsghdr *nlh, struct vx_vxlan_dev *d);
/* Whether netlink attributes fill @len bytes from @start exactly: libmnl's
 * walk stops quietly at the first one that does not fit, and a message
 * cut short would read as one without its last attributes (peers.c too). */
bool vx_nl_attrs_fill(const void *start, int len);
/* Add @r to @d's remotes unless it is there already: 1 added, 0 not. */
int vx_inventory_add_remote(struct vx_vxlan_dev *d, const struct vx_remote *r);
/* The remote a device's outer packets go to first, for its underlay and
 * MTU: its own unicast `remote`, else its first unicast FDB or route
 * remote. 0 when it has none (family returned, address in @out). */
int vx_inventory_first_remote(const struct vx_vxlan_dev *d, union vx_addr *out);

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
