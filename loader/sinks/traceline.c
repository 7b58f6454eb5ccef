// SPDX-License-Identifier: GPL-2.0-only
/* `vxray trace` lines (traceline.h): one head for every source, then the
 * body of each kind of event, as text or one JSON object per line. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "hist.h"
#include "json.h"
#include "names.h"
#include "recfmt.h"
#include "traceline.h"

static void line_open(const struct vx_tl_out *o, struct jw *j, const struct vx_tl_line *l)
{
	char ts[32], num[16], since[24] = "";

	vx_fmt_wallclock(l->ts + o->mono_to_real, 6, ts, sizeof(ts));
	if (o->json) {
		jw_init(j, stdout);
		jw_record(j, "trace");
		jw_str(j, "time", ts);
		jw_uint(j, "ts_ns", l->ts);
		jw_str(j, "ts_from", l->on_receipt ? "receipt" : "kernel");
		jw_str(j, "hook", l->hook);
		jw_str(j, "event", l->event);
		if (l->pkt) {
			jw_uint(j, "pkt", l->pkt);
			jw_uint(j, "since_first_ns", l->ts - l->first_ts);
		} else {
			jw_null(j, "pkt");
		}
		if (l->joined && l->how != VX_JOIN_NONE)
			jw_str(j, "join", l->how == VX_JOIN_ID ? "identity" : "flow");
		else if (l->joined)
			jw_null(j, "join");
		if (l->id && l->id->family) {
			jw_uint(j, "ip_id", l->id->ip_id);
			jw_uint(j, "id_seq", l->id->seq);
		}
		jw_str(j, "netns", l->ns);
		jw_str(j, "device", l->dev ? l->dev : "-");
		return;
	}
	if (l->pkt)
		snprintf(num, sizeof(num), "pkt#%u", l->pkt);
	else
		snprintf(num, sizeof(num), "-");
	if (l->pkt && !l->first)
		vx_fmt_ns(l->ts - l->first_ts, since, sizeof(since));
	printf("%s %-10s %-9s %-16s %-8s %s %s ", ts, num, since, l->hook, l->event, l->ns,
	       l->dev ? l->dev : "-");
}

static void line_close(const struct vx_tl_out *o, struct jw *j, const struct vx_tl_line *l)
{
	if (o->json) {
		jw_bool(j, "late", l->late);
		jw_obj_close(j);
		jw_end_line(j);
		return;
	}
	printf("%s%s\n", l->how == VX_JOIN_FLOW ? "  (joined by flow)" : "",
	       l->late ? "  (late)" : "");
}

void vx_tl_dp(const struct vx_tl_out *o, const struct vx_tl_line *l, const struct vx_event *e)
{
	char in[160], os[INET6_ADDRSTRLEN], od[INET6_ADDRSTRLEN], vb[16];
	struct jw j;

	vx_dp_fmt_inner(&e->pkt, in, sizeof(in));
	vx_addr_str(e->pkt.outer_family, e->pkt.outer_src, os, sizeof(os));
	vx_addr_str(e->pkt.outer_family, e->pkt.outer_dst, od, sizeof(od));
	line_open(o, &j, l);
	if (o->json) {
		vx_vni_json(&j, "vni", e->pkt.vni);
		jw_str(&j, "packet", in);
		if (e->pkt.outer_family) {
			jw_str(&j, "outer_src", os);
			jw_str(&j, "outer_dst", od);
			jw_uint(&j, "outer_sport", e->pkt.outer_sport);
			jw_uint(&j, "outer_dport", e->pkt.outer_dport);
		}
		jw_uint(&j, "len", e->len);
	} else {
		printf("vni %s  %s", vx_vni_str(e->pkt.vni, vb, sizeof(vb)), in);
		if (e->pkt.outer_family)
			printf("  outer udp %s:%u -> %s:%u", os, e->pkt.outer_sport, od,
			       e->pkt.outer_dport);
	}
	line_close(o, &j, l);
}

/* The rule part of a netfilter line. */
static void print_rule(const struct vx_tl_out *o, struct jw *j, const struct vx_tl_rule *rule)
{
	const char *why = rule->why;
	int others = rule->others;
	const struct vx_nf_rule *r = rule->r;

	if (o->json) {
		if (!r) {
			jw_null(j, "rule");
			jw_str(j, "rule_why", why);
			return;
		}
		jw_obj_open(j, "rule");
		vx_nf_rule_json(j, r);
		jw_obj_close(j);
		if (others)
			jw_int(j, "rule_others", others);
		return;
	}
	if (!r) {
		printf("  rule ? (%s)", why);
		return;
	}
	if (r->policy)
		printf("  rule %s %s/%s policy %s", r->family, r->table, r->chain, r->text);
	else
		printf("  rule %s %s/%s #%d: %s", r->family, r->table, r->chain, r->position,
		       r->text);
	if (others)
		printf(" (or one of %d other rules that dropped since)", others);
}

static const char *family_name(int family)
{
	return family == 4 ? "ipv4" : family == 6 ? "ipv6" : "?";
}

/* A drop (VX_TEV_DROP) or a netfilter verdict (VX_TEV_NF). */
void vx_tl_drop(const struct vx_tl_out *o, const struct vx_tl_line *l, const struct vx_tev *e,
		bool nf_line, const char *first_hook, const struct vx_tl_rule *rule,
		const char *meaning)
{
	const struct vxd_event *d = &e->drop.ev;
	char flow[192];
	struct jw j;

	vx_ip_fmt(d->inner.family ? &d->inner : &d->outer, flow, sizeof(flow));
	line_open(o, &j, l);
	if (o->json) {
		if (first_hook)
			jw_str(&j, "pkt_first_seen", first_hook);
		/* VNI 0 is a VNI: the flag says whether the packet had one. */
		if (d->flags & VXD_F_TUNNEL)
			jw_uint(&j, "vni", d->vni);
		if (e->type == VX_TEV_DROP) {
			jw_str(&j, "reason", e->drop.reason);
			jw_str(&j, "location", e->drop.location);
		}
		jw_str(&j, "packet", flow);
		if (nf_line) {
			jw_str(&j, "nf_hook", vx_nf_hook_name(e->drop.hook));
			jw_str(&j, "nf_family", family_name(e->drop.family));
			print_rule(o, &j, rule);
		}
		if (meaning && e->type == VX_TEV_DROP)
			jw_str(&j, "meaning", meaning);
	} else {
		if (e->type == VX_TEV_DROP)
			printf(" %s at %s ", e->drop.reason, e->drop.location);
		else
			printf(" hook %s %s ", vx_nf_hook_name(e->drop.hook),
			       family_name(e->drop.family));
		printf(" %s", flow);
		if (!l->pkt)
			printf(" (no traced packet %s)",
			       d->id.family ? "with this identity" : "of this flow");
		if (e->type == VX_TEV_DROP && nf_line)
			printf("  hook %s", vx_nf_hook_name(e->drop.hook));
		if (nf_line)
			print_rule(o, NULL, rule);
	}
	line_close(o, &j, l);
	/* Said under the line, once: the view passes it the first time. */
	if (!o->json && meaning && e->type == VX_TEV_DROP)
		printf("    %s: %s\n", e->drop.reason, meaning);
}

static const char *ct_event_name(int type)
{
	switch (type) {
	case VX_CT_EV_NEW: return "CT-NEW";
	case VX_CT_EV_DESTROY: return "CT-DESTROY";
	case VX_CT_EV_ALLOC_FAILED: return "CT-ALLOC-FAIL";
	case VX_CT_EV_INSERT_FAILED: return "CT-INSERT-FAIL";
	}
	return "CT-?";
}

void vx_tl_ct(const struct vx_tl_out *o, const struct vx_tev *e, bool late)
{
	char flow[192];
	struct vx_tl_line l = { .ts = e->ts,
				.late = late,
				.on_receipt = e->on_receipt,
				.hook = e->ct.hook,
				.event = ct_event_name(e->ct.type),
				.ns = vx_ns_label(e->ct.inum) };
	struct jw j;

	if (e->ct.t.family)
		vx_ip_fmt(&e->ct.t, flow, sizeof(flow));
	else
		snprintf(flow, sizeof(flow), "(no tuple)");
	line_open(o, &j, &l);
	if (o->json)
		jw_str(&j, "packet", flow);
	else
		printf(" %s", flow);
	line_close(o, &j, &l);
}

void vx_tl_alert(const struct vx_tl_out *o, const struct vx_tev *e, bool late)
{
	struct vx_tl_line l = { .ts = e->ts,
				.late = late,
				.on_receipt = true,
				.hook = "ctnetlink stats",
				.event = "CT-ALERT",
				.ns = vx_ns_label(e->alert.inum) };
	struct jw j;

	line_open(o, &j, &l);
	if (o->json) {
		jw_str(&j, "why", e->alert.why);
		if (e->alert.have_count) {
			jw_uint(&j, "entries", e->alert.count);
			jw_uint(&j, "max_entries", e->alert.max);
		}
	} else {
		printf(" conntrack %s", e->alert.why);
	}
	line_close(o, &j, &l);
}

void vx_tl_link(const struct vx_tl_out *o, const struct vx_tev *e, bool late)
{
	const struct vx_dp_watched *w = e->link.w;
	struct vx_tl_line l = { .ts = e->ts,
				.late = late,
				.on_receipt = true,
				.hook = "rtnetlink",
				.event = "LINK",
				.ns = vx_ns_label(w->netns_inum),
				.dev = w->name };
	bool up = e->link.flags & IFF_UP, carrier = e->link.flags & IFF_LOWER_UP;
	struct jw j;

	line_open(o, &j, &l);
	if (o->json) {
		jw_str(&j, "change", vx_link_change_name(e->link.change));
		jw_bool(&j, "up", up);
		jw_bool(&j, "carrier", carrier);
		if (e->link.mtu)
			jw_uint(&j, "mtu", e->link.mtu);
		jw_str(&j, "layer", w->is_vxlan ? "overlay" : "underlay");
	} else {
		printf(" %s (%s %s, now %s, carrier %s", vx_link_change_name(e->link.change),
		       w->is_vxlan ? "vxlan" : "underlay", w->name, up ? "up" : "down",
		       carrier ? "on" : "off");
		if (e->link.mtu)
			printf(", mtu %u", e->link.mtu);
		printf(")");
	}
	line_close(o, &j, &l);
}

void vx_tl_retrans(const struct vx_tl_out *o, const struct vx_tev *e, bool late,
		   const struct vx_vxlan_dev *v, const char *backend)
{
	const struct vxr_event *r = &e->rt.ev;
	bool classic = !strncmp(backend, "tracepoint", 10);
	bool syn = r->kind == VXR_SYNACK;
	struct vxd_ip ip = { .family = r->family == AF_INET ? 4 : 6,
			     .proto = IPPROTO_TCP,
			     .sport = r->sport,
			     .dport = r->dport };
	char flow[192];
	struct vx_tl_line l = { .ts = e->ts,
				.late = late,
				.ns = vx_ns_label(r->netns),
				.dev = v ? v->name : "-",
				.event = syn ? "SYNACK-RETRANS" : "RETRANS" };
	struct jw j;

	l.hook = classic ? (syn ? "tracepoint/tcp/tcp_retransmit_synack" :
				  "tracepoint/tcp/tcp_retransmit_skb") :
			   (syn ? "tp_btf/tcp_retransmit_synack" : "tp_btf/tcp_retransmit_skb");
	memcpy(ip.saddr, r->saddr, 16);
	memcpy(ip.daddr, r->daddr, 16);
	vx_ip_fmt(&ip, flow, sizeof(flow));
	line_open(o, &j, &l);
	if (o->json) {
		jw_str(&j, "packet", flow);
		jw_uint(&j, "payload_len", r->len);
		if (!syn) {
			jw_uint(&j, "mss", r->mss);
			jw_bool(&j, "full_size", e->rt.full);
		}
		jw_bool(&j, "through_tunnel", v != NULL);
	} else {
		printf(" %s", flow);
		if (!syn)
			printf(" len %u mss %u%s", r->len, r->mss, e->rt.full ? " full-size" : "");
		if (!v)
			printf(" (not through a traced tunnel)");
	}
	line_close(o, &j, &l);
}

static const char *hook_of_stage(const struct vx_hook_event *h)
{
	bool kp = h->backend == VXX_BE_KPROBE, tp = h->backend == VXX_BE_TP_BTF;

	switch (h->stage) {
	case VX_ST_XMIT:
		return tp ? "tp_btf/net_dev_start_xmit" :
		       kp ? "kprobe/vxlan_xmit" :
			    "fentry/vxlan_xmit";
	case VX_ST_RCV: return kp ? "kprobe/vxlan_rcv" : "fentry/vxlan_rcv";
	}
	return "tp_btf/tcp_probe";
}

void vx_tl_hook(const struct vx_tl_out *o, struct vx_tl_line *l, const struct vx_tev *e)
{
	const struct vx_hook_event *h = &e->hk;
	char took[24] = "", vb[16];
	struct jw j;

	l->hook = hook_of_stage(h);
	l->event = h->stage == VX_ST_XMIT ? "XMIT" : h->stage == VX_ST_RCV ? "RCV" : "DELIVER";
	if (h->start_ns)
		vx_fmt_ns(h->ts_ns - h->start_ns, took, sizeof(took));
	line_open(o, &j, l);
	if (o->json) {
		vx_vni_json(&j, "vni", h->vni);
		if (h->start_ns)
			jw_uint(&j, "duration_ns", h->ts_ns - h->start_ns);
	} else {
		printf("vni %s  ", vx_vni_str(h->vni, vb, sizeof(vb)));
		if (h->stage == VX_ST_DELIVERY)
			printf("to a TCP socket");
		else
			printf("%s entry to return %s",
			       h->stage == VX_ST_XMIT ? "vxlan_xmit" : "vxlan_rcv", took);
		if (!l->pkt)
			printf(" (%s)",
			       h->id.family ? "no traced packet with this identity" : "not IP");
	}
	line_close(o, &j, l);
}
