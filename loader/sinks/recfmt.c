// SPDX-License-Identifier: GPL-2.0-only
/* Output of ring-buffer records; see recfmt.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "btfnames.h"
#include "hist.h"
#include "json.h"
#include "clock.h"
#include "names.h"
#include "recfmt.h"

/* ---- datapath events ---------------------------------------------------- */

/* What the inner frame carries: the IP protocol, or for a non-IP inner
 * frame (ARP resolving the overlay peer, LLDP...) its EtherType. */
static const char *inner_name(const struct vx_pkt *p, char *buf, size_t len)
{
	if (p->inner_family == 4 || p->inner_family == 6)
		return vx_proto_name(p->inner_proto, buf, len);
	return vx_ethertype_name(p->inner_ethertype);
}

void vx_encap_print(FILE *f, bool json, const struct vx_event *e, const struct vx_rec_names *n)
{
	const struct vx_pkt *p = &e->pkt;
	char ts[32], os[INET6_ADDRSTRLEN], od[INET6_ADDRSTRLEN], is[INET6_ADDRSTRLEN],
		id[INET6_ADDRSTRLEN], l4[64] = "", pb[16], vb[16];
	bool outer = p->outer_family == 4 || p->outer_family == 6;

	vx_fmt_wallclock(e->ts_ns + n->mono_to_real, 6, ts, sizeof(ts));
	vx_addr_str(p->outer_family, p->outer_src, os, sizeof(os));
	vx_addr_str(p->outer_family, p->outer_dst, od, sizeof(od));
	vx_addr_str(p->inner_family, p->inner_src, is, sizeof(is));
	vx_addr_str(p->inner_family, p->inner_dst, id, sizeof(id));
	if (json) {
		bool inner = p->inner_family == 4 || p->inner_family == 6;
		struct jw j;

		jw_init(&j, f);
		jw_record(&j, vx_at_leaving(e->at) ? "encap" : "decap");
		jw_str(&j, "time", ts);
		jw_uint(&j, "time_ns", e->ts_ns + n->mono_to_real);
		jw_str(&j, "netns", n->netns);
		jw_str(&j, "device", n->device);
		jw_str(&j, "hook", vx_at_path(e->at));
		jw_str(&j, "layer", outer ? "underlay" : "overlay");
		vx_vni_json(&j, "vni", p->vni);
		if (outer) {
			jw_str(&j, "outer_src", os);
			jw_str(&j, "outer_dst", od);
			jw_uint(&j, "outer_sport", p->outer_sport);
			jw_uint(&j, "outer_dport", p->outer_dport);
		}
		jw_str(&j, "inner_src", inner ? is : NULL);
		jw_str(&j, "inner_dst", inner ? id : NULL);
		jw_str(&j, "proto", inner_name(p, pb, sizeof(pb)));
		if (!inner) {
			jw_uint(&j, "ethertype", p->inner_ethertype);
		} else if (vx_proto_is_icmp(p->inner_proto)) {
			jw_uint(&j, "icmp_type", p->icmp_type);
			jw_uint(&j, "icmp_id", p->icmp_id);
			jw_uint(&j, "icmp_seq", p->icmp_seq);
		} else {
			jw_uint(&j, "inner_sport", p->inner_sport);
			jw_uint(&j, "inner_dport", p->inner_dport);
		}
		jw_uint(&j, "len", e->len);
		jw_obj_close(&j);
		jw_end_line(&j);
		return;
	}
	if (vx_proto_is_icmp(p->inner_proto))
		snprintf(l4, sizeof(l4), "type %u id %u seq %u", p->icmp_type, p->icmp_id,
			 p->icmp_seq);
	else if (p->inner_proto == IPPROTO_TCP || p->inner_proto == IPPROTO_UDP)
		snprintf(l4, sizeof(l4), "%u → %u", p->inner_sport, p->inner_dport);
	fprintf(f, "%s %-10s %-10s %-3s %s vni=%s", ts, n->netns, n->device, vx_at_short(e->at),
		vx_at_kind(e->at), vx_vni_str(p->vni, vb, sizeof(vb)));
	if (outer)
		fprintf(f, " outer %s:%u→%s:%u", os, p->outer_sport, od, p->outer_dport);
	if (p->inner_family == 4 || p->inner_family == 6)
		fprintf(f, " inner %s→%s %s %s len=%u\n", is, id,
			vx_proto_name(p->inner_proto, pb, sizeof(pb)), l4, e->len);
	else
		fprintf(f, " inner %s ethertype 0x%04x len=%u\n", inner_name(p, pb, sizeof(pb)),
			p->inner_ethertype, e->len);
}

void vx_dp_fmt_inner(const struct vx_pkt *p, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[16];
	const char *proto = vx_proto_name(p->inner_proto, pb, sizeof(pb));

	if (p->inner_family != 4 && p->inner_family != 6) {
		snprintf(out, len, "%s ethertype 0x%04x", vx_ethertype_name(p->inner_ethertype),
			 p->inner_ethertype);
		return;
	}
	vx_addr_str(p->inner_family, p->inner_src, s, sizeof(s));
	vx_addr_str(p->inner_family, p->inner_dst, d, sizeof(d));
	if (p->inner_proto == IPPROTO_TCP || p->inner_proto == IPPROTO_UDP)
		snprintf(out, len, "%s %s:%u -> %s:%u", proto, s, p->inner_sport, d,
			 p->inner_dport);
	else if (vx_proto_is_icmp(p->inner_proto))
		snprintf(out, len, "%s %s -> %s type %u id %u seq %u", proto, s, d, p->icmp_type,
			 p->icmp_id, p->icmp_seq);
	else
		snprintf(out, len, "%s %s -> %s", proto, s, d);
}

/* ---- TCP retransmits ---------------------------------------------------- */

/* Addresses of the record's family (AF_INET or AF_INET6; "?" otherwise). */
static const char *sock_addr(int family, const void *a, char *buf, size_t len)
{
	if (family != AF_INET && family != AF_INET6)
		return "?";
	return inet_ntop(family, a, buf, (socklen_t)len) ? buf : "?";
}

static const char *tcp_state(uint8_t state)
{
	const char *n = vx_btf_enum_name("=TCP_ESTABLISHED", state);

	return n && !strncmp(n, "TCP_", 4) ? n + 4 : "?";
}

void vx_retrans_print(FILE *f, bool json, const struct vxr_event *e, bool full_size,
		      const struct vx_vxlan_dev *t, const struct vx_rec_names *n)
{
	char ts[32], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN],
		rm[INET6_ADDRSTRLEN];
	bool synack = e->kind == VXR_SYNACK;

	sock_addr(e->family, e->saddr, s, sizeof(s));
	sock_addr(e->family, e->daddr, d, sizeof(d));
	vx_fmt_wallclock(e->ts_ns + n->mono_to_real, 3, ts, sizeof(ts));
	if (t) {
		sock_addr(t->local_family, &t->local, l, sizeof(l));
		sock_addr(t->remote_family, &t->remote, rm, sizeof(rm));
	}
	if (json) {
		struct jw w;

		jw_init(&w, f);
		jw_record(&w, synack ? "synack_retrans" : "retrans");
		jw_str(&w, "time", ts);
		jw_uint(&w, "time_ns", e->ts_ns + n->mono_to_real);
		jw_str(&w, "netns", n->netns);
		jw_str(&w, "inner_src", s);
		jw_uint(&w, "inner_sport", e->sport);
		jw_str(&w, "inner_dst", d);
		jw_uint(&w, "inner_dport", e->dport);
		jw_str(&w, "state", tcp_state(e->state));
		if (!synack) {
			jw_uint(&w, "payload_len", e->len);
			jw_uint(&w, "mss", e->mss);
			jw_uint(&w, "pmtu", e->pmtu);
			jw_bool(&w, "full_size", full_size);
		}
		if (t) {
			jw_obj_open(&w, "tunnel");
			jw_str(&w, "device", t->name);
			/* null for an external device, as everywhere. */
			if (t->external)
				jw_null(&w, "vni");
			else
				jw_uint(&w, "vni", t->vni);
			jw_str(&w, "local_vtep", t->local_family ? l : NULL);
			jw_str(&w, "remote_vtep", t->remote_family ? rm : NULL);
			jw_obj_close(&w);
		} else {
			jw_null(&w, "tunnel");
		}
		jw_obj_close(&w);
		jw_end_line(&w);
		return;
	}
	fprintf(f, "%s %s netns=%s %s:%u → %s:%u state=%s", ts,
		synack ? "SYNACK-RETRANS" : "RETRANS", n->netns, s, e->sport, d, e->dport,
		tcp_state(e->state));
	if (!synack)
		fprintf(f, " len=%u mss=%u%s", e->len, e->mss, full_size ? " full-size" : "");
	if (t)
		fprintf(f, " tunnel=%s vni=%u vtep %s→%s", t->name, t->vni,
			t->local_family ? l : "?", t->remote_family ? rm : "?");
	fputc('\n', f);
}

/* ---- netfilter drops ----------------------------------------------------- */

const char *vx_nf_family_name(int family, const struct vxd_event *e)
{
	if (!family)
		family = (e->flags & VXD_F_INNER) ? e->inner.family : e->outer.family;
	return family == 4 ? "ipv4" : family == 6 ? "ipv6" : "?";
}

void vx_nf_drop_print(FILE *f, bool json, const struct vx_nf_drop_out *d,
		      const struct vx_rec_names *n)
{
	const struct vxd_event *e = d->e;
	char ts[32], pkt[160], outer[160], a[INET6_ADDRSTRLEN];

	vx_fmt_wallclock(e->ts_ns + n->mono_to_real, 3, ts, sizeof(ts));
	if (json) {
		struct jw w;

		jw_init(&w, f);
		jw_record(&w, "nf_drop");
		jw_str(&w, "time", ts);
		jw_uint(&w, "time_ns", e->ts_ns + n->mono_to_real);
		jw_str(&w, "nf_hook", vx_nf_hook_name(d->hook));
		jw_str(&w, "nf_family", d->family);
		jw_str(&w, "netns", n->netns);
		jw_uint(&w, "netns_inum", e->netns);
		jw_str(&w, "device", n->device);
		if (e->len)
			jw_uint(&w, "len", e->len);
		jw_str(&w, "location", d->location);
		if (e->flags & VXD_F_OUTER)
			vx_ip_json(&w, "outer", &e->outer);
		if (e->flags & VXD_F_TUNNEL) {
			jw_uint(&w, "vni", e->vni);
		}
		if (e->flags & VXD_F_INNER)
			vx_ip_json(&w, "inner", &e->inner);
		if (d->stack) {
			jw_arr_open(&w, "stack");
			for (int i = 0; i < d->n_stack; i++)
				jw_str(&w, NULL, d->stack[i]);
			jw_arr_close(&w);
		}
		jw_obj_close(&w);
		jw_end_line(&w);
		return;
	}
	if (e->flags & VXD_F_INNER)
		vx_ip_fmt(&e->inner, pkt, sizeof(pkt));
	else if (e->flags & VXD_F_OUTER)
		vx_ip_fmt(&e->outer, pkt, sizeof(pkt));
	else
		snprintf(pkt, sizeof(pkt), "ethertype 0x%04x", e->protocol);
	fprintf(f, "%s NF_DROP hook=%s family=%s netns=%s dev=%s len=", ts,
		vx_nf_hook_name(d->hook), d->family, n->netns, n->device);
	if (e->len)
		fprintf(f, "%u %s", e->len, pkt);
	else
		fprintf(f, "- %s", pkt); /* nf_hook_slow backends: skb already freed */
	if (e->flags & VXD_F_TUNNEL) {
		fprintf(f, " vni=%u", e->vni);
		if (e->flags & VXD_F_OUTER) {
			vx_ip_fmt(&e->outer, outer, sizeof(outer));
			fprintf(f, " vtep=%s outer %s",
				vx_ip_addr_str(&e->outer, e->outer.saddr, a, sizeof(a)), outer);
		}
	}
	fputc('\n', f);
	for (int i = 0; d->stack && i < d->n_stack; i++)
		fprintf(f, "    %s\n", d->stack[i]);
}
