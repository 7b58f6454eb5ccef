/* SPDX-License-Identifier: GPL-2.0-only */
/* Counters read inside a network namespace (nscount.c). */
#ifndef VXRAY_NSCOUNT_H
#define VXRAY_NSCOUNT_H

#include <stdint.h>

struct vx_if_counts {
	uint64_t rx, tx; /* packets */
};

/* rx/tx packets of @dev in @netns (/proc/net/dev): 0, or -ENOENT when
 * the device or the namespace is not there (@c zeroed). */
int vx_ns_if_counts(const char *netns, const char *dev, struct vx_if_counts *c);
/* UDP checksum errors (Udp InCsumErrors + Udp6InCsumErrors) in @netns,
 * from /proc/net/snmp and snmp6; 0 when unreadable. */
uint64_t vx_ns_udp_csum_errors(const char *netns);

#endif
