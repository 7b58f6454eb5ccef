/* SPDX-License-Identifier: GPL-2.0-only */
/* A pcapng writer (the IETF opsawg pcapng draft): one Section Header
 * Block, an Interface Description Block per interface (if_name and
 * if_tsresol = 9, nanoseconds), and Enhanced Packet Blocks with an
 * opt_comment. Blocks are written in host byte order, which the section's
 * byte-order magic tells readers. Pure over a FILE: no BPF, no globals.
 *
 * Untrusted lengths are safe: a packet's captured length is clamped to its
 * interface's snap length (and VX_PCAPNG_MAX_SNAPLEN) before @data is
 * read, an original length below it is raised to it, and comments and
 * names longer than an option can hold are cut at a UTF-8 boundary.
 *
 *	vx_pcapng_create(&w, path, "vxray 1.0", err, sizeof(err));
 *	id = vx_pcapng_iface(w, "ns/vxlan100/tc-egress", VX_PCAPNG_LINK_ETHERNET, 256);
 *	vx_pcapng_packet(w, id, ts_ns, bytes, caplen, origlen, "ENCAP vni=100 ...");
 *	vx_pcapng_close(w);
 */
#ifndef VXRAY_PCAPNG_H
#define VXRAY_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VX_PCAPNG_LINK_ETHERNET 1 /* LINKTYPE_ETHERNET */
#define VX_PCAPNG_LINK_RAW 101	  /* LINKTYPE_RAW: IPv4 or IPv6, no MAC header */
#define VX_PCAPNG_MAX_IFACES 1024
#define VX_PCAPNG_MAX_SNAPLEN 262144 /* what tcpdump and Wireshark accept */
#define VX_PCAPNG_MAX_OPT 65532	     /* longest option value, 4-byte padded */

/* Block types and option codes, for readers of the tests. */
#define VX_PCAPNG_SHB 0x0A0D0D0Au
#define VX_PCAPNG_IDB 0x00000001u
#define VX_PCAPNG_EPB 0x00000006u
#define VX_PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define VX_PCAPNG_OPT_END 0
#define VX_PCAPNG_OPT_COMMENT 1
#define VX_PCAPNG_OPT_SHB_USERAPPL 4
#define VX_PCAPNG_OPT_IF_NAME 2
#define VX_PCAPNG_OPT_IF_TSRESOL 9

struct vx_pcapng;

/* Write the section header to @f, which the writer then owns (closes);
 * on failure @f is still the caller's. @appl names the writing
 * application (shb_userappl), NULL for none. 0 or a negative errno. */
int vx_pcapng_open(struct vx_pcapng **out, FILE *f, const char *appl);
/* Create (or truncate) @path and open it. 0, or a negative errno with
 * one sentence in @err saying what to do. */
int vx_pcapng_create(struct vx_pcapng **out, const char *path, const char *appl, char *err,
		     size_t errlen);
/* The id of the interface (@name, @linktype), written now when it is new.
 * @snaplen 0 means VX_PCAPNG_MAX_SNAPLEN. Returns the id (>= 0), -ENOSPC
 * beyond VX_PCAPNG_MAX_IFACES, -EINVAL for a NULL name, or a write error. */
int vx_pcapng_iface(struct vx_pcapng *w, const char *name, uint16_t linktype, uint32_t snaplen);
/* One packet on interface @iface at wall-clock @ts_ns: @data holds at
 * least min(@caplen, the interface's snap length) bytes. @comment may be
 * NULL. 0, -EINVAL (unknown interface, NULL data with a length), or the
 * writer's first write error (sticky: later calls write nothing). */
int vx_pcapng_packet(struct vx_pcapng *w, uint32_t iface, uint64_t ts_ns, const void *data,
		     uint32_t caplen, uint32_t origlen, const char *comment);
/* Hand what is buffered to the file. 0 or the first write error. */
int vx_pcapng_flush(struct vx_pcapng *w);
/* Packets written so far. */
uint64_t vx_pcapng_packets(const struct vx_pcapng *w);
/* Flush and close; NULL is fine. 0 or the first write error. */
int vx_pcapng_close(struct vx_pcapng *w);

#endif
