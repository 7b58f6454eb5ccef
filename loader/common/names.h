/* SPDX-License-Identifier: GPL-2.0-only */
/* The vocabulary every engine, view and sink words its output with: one
 * label per network namespace, interface names, IP protocols and
 * addresses, the datapath's hook names. Nothing here knows about an
 * engine; everything above uses it, so that one thing has one name in
 * every view, every JSON field and every metric label. */
#ifndef VXRAY_NAMES_H
#define VXRAY_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/kprobe/vx_drops.h"

struct jw;

/* The label of the network namespace with inode @inum, the same in every
 * view and metric:
 *   "host"       the node's own (init_net: kthreadd's, else pid 1's),
 *   NAME         its `ip netns` name (/run/netns), also after it was
 *                deleted, for the records it left behind,
 *   "netns:N"    a namespace that never had a name while vxray ran.
 * The pointer stays valid, with the same text, for the life of the
 * process (up to VX_NS_LABELS namespaces; then a per-call buffer). */
#define VX_NS_LABELS 4096
const char *vx_ns_label(uint32_t inum);
/* The label of a namespace given as an option (a netns spec, opts.h): a
 * name as it is, any other the label of its inode; "" is vxray's own. */
const char *vx_ns_label_of(const char *netns);
/* The namespace with inode @inum ended: a namespace that later gets the
 * same inode gets a label of its own. Labels handed out keep their text. */
void vx_ns_label_forget(uint32_t inum);
/* The inode of the node's own namespace (see vx_ns_label). */
uint32_t vx_ns_host_inum(void);

/* The name of interface @ifindex in namespace @inum, "if<N>" when it
 * cannot be found (gone, or a namespace without a name), "-" for 0. */
const char *vx_dev_label(uint32_t inum, uint32_t ifindex);

/* "tcp", "udp", "icmp", "icmpv6", "sctp", "gre", else "proto<N>" in @buf. */
const char *vx_proto_name(uint8_t proto, char *buf, size_t len);
/* ICMP or ICMPv6: the datapath records type/code (and id/seq) in the
 * port fields. */
bool vx_proto_is_icmp(uint8_t proto);
/* The EtherType of a non-IP frame: "arp", else "non-ip". */
const char *vx_ethertype_name(uint16_t ethertype);
/* An address of family 4 or 6 (IP version), written to @buf; "-" for any
 * other family, "?" when it cannot be printed. */
const char *vx_addr_str(int family, const uint8_t *a, char *buf, size_t len);

/* A VNI as every output words it: the number, or "?" where the datapath
 * could not read one (VX_VNI_UNKNOWN: a packet on an external device
 * without tunnel metadata), written to @buf; in JSON the number or null. */
const char *vx_vni_str(uint32_t vni, char *buf, size_t len);
void vx_vni_json(struct jw *w, const char *key, uint32_t vni);

/* A 5-tuple as the drop probe records it (struct vxd_ip). */
bool vx_ip_has_ports(const struct vxd_ip *ip);
/* One of @ip's addresses (@a: ip->saddr or ip->daddr). */
const char *vx_ip_addr_str(const struct vxd_ip *ip, const uint8_t *a, char *buf, size_t len);
/* "udp 10.0.0.1:5000→10.0.0.2:4789" or "172.16.0.1→172.16.0.2 icmp type 8 code 0" */
void vx_ip_fmt(const struct vxd_ip *ip, char *out, size_t len);
void vx_ip_json(struct jw *w, const char *key, const struct vxd_ip *ip);
/* A parsed datapath header in struct vxd_ip's shape (@family 4 or 6). */
void vx_ip_set(struct vxd_ip *ip, uint8_t family, const uint8_t *s, const uint8_t *d, uint8_t proto,
	       uint16_t sport, uint16_t dport);

/* The datapath hooks (enum vx_at, vxray.h), as each output names them:
 * encap lines ("in", "out", "xdp-in"), trace lines ("tc/underlay-in"),
 * trace's event word ("ENCAP", "WIRE-IN", ...) and pcapng interface names
 * ("tc-ingress"). */
const char *vx_at_short(uint8_t at);
const char *vx_at_path(uint8_t at);
const char *vx_at_what(uint8_t at);
const char *vx_at_capture(uint8_t at);
/* The encap lines' and capture comments' word for what the hook saw:
 * "ENCAP" leaving, "RX" an outer packet received on the underlay (not
 * decapsulated yet: it may still be dropped before the VXLAN device),
 * "DECAP" the inner packet on the VXLAN device. */
const char *vx_at_kind(uint8_t at);
/* Whether hook @at sees packets leaving (by construction of the hook, not
 * from a record's kind byte). */
bool vx_at_leaving(uint8_t at);

/* The netfilter hooks, in the order a packet meets them. */
enum vx_nf_hook {
	VX_NFH_UNKNOWN = 0,
	VX_NFH_PREROUTING,
	VX_NFH_INPUT,
	VX_NFH_FORWARD,
	VX_NFH_OUTPUT,
	VX_NFH_POSTROUTING,
	VX_NFH_INGRESS,
};

/* The hook for a kernel's NF_INET_* number and protocol family (the
 * fexit/kprobe backends read them from struct nf_hook_state). */
enum vx_nf_hook vx_nf_hook_from_num(unsigned int hooknum, unsigned int pf);
/* "PREROUTING", "INPUT", ..., "?" */
const char *vx_nf_hook_name(enum vx_nf_hook h);

#endif
