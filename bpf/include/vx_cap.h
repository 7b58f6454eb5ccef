/* SPDX-License-Identifier: GPL-2.0-only */
/* Packet capture (--pcap): the tail a ring-buffer record carries when the
 * loader set a snap length in .rodata. Shared by the datapath programs
 * (struct vx_event), the drop probe (struct vxd_event) and the loader.
 *
 * A record is then [event][struct vx_cap][data: VX_CAP_ROOM(snaplen)
 * bytes], the room fixed for the whole run so that the ring reservation
 * is a constant the verifier accepts; only the first caplen bytes of data
 * are the packet, the rest is zeroed. With snaplen 0 (capture off) the
 * record is the bare event and the capture code is dead at load time. */
#ifndef VXRAY_CAP_H
#define VXRAY_CAP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VX_SNAPLEN_DEFAULT 256
/* A whole 1500-byte-MTU overlay frame with its outer headers fits; the
 * bound also caps the per-event zeroing loop and the ring space. */
#define VX_SNAPLEN_MAX 2048
#define VX_SNAPLEN_MIN 16

/* Bytes of data space for a snap length: 8-byte words, so the zeroing
 * loop and the next record stay aligned. */
#define VX_CAP_ROOM(snaplen) (((snaplen) + 7u) & ~7u)

/* What the first captured byte is. */
enum vx_cap_link {
	VX_CAP_ETH = 1, /* an Ethernet header (LINKTYPE_ETHERNET) */
	VX_CAP_RAW = 2, /* an IPv4/IPv6 header (LINKTYPE_RAW): no MAC header */
};

struct vx_cap {
	__u32 orig_len; /* the frame's length from its first byte on */
	__u16 caplen;	/* valid bytes of data, <= snaplen */
	__u8 link;	/* enum vx_cap_link; 0: nothing could be read */
	__u8 pad;
};
_Static_assert(sizeof(struct vx_cap) == 8, "vx_cap layout");

#endif
