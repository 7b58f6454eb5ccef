// SPDX-License-Identifier: GPL-2.0-only
/* `vxray encap`: every tunnel packet at the VXLAN devices (the inner frame
 * before encapsulation and after decapsulation) and at their underlays
 * (the outer packet), one line each, and every --interval a summary per
 * (namespace, VNI, remote VTEP). The programs are bpf/tc/vx_tc.bpf.c.
 *
 * One skeleton instance per namespace, because the namespace is a
 * read-only constant of the programs; the ring buffer, the counters and
 * the tunnel map are created once and shared by every instance. The
 * programs are attached with TCX links: a link dies with vxray's last fd,
 * so nothing stays attached after an exit, a crash or SIGKILL. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "netns.h"
#include "sysinfo.h"
#include "vxray.h"
#include "vx_tc.skel.h"

#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

#define MAX_INST VX_MAX_NETNS
#define MAX_LINKS 256

/* An interface vxray watches. */
struct watched {
	int inst;
	int ifindex;
	char name[IF_NAMESIZE];
	const struct vx_vxlan_dev *vx;	/* its VXLAN, or the VXLAN it carries */
	bool is_vxlan;
};

struct inst {
	char netns[VX_NETNS_NAME_MAX];
	uint32_t inum;
	struct vx_tc *skel;
};

struct encap {
	struct vx_opts *o;
	struct vx_inventory inv;
	struct inst inst[MAX_INST];
	int n_inst;
	struct watched w[MAX_LINKS / 2];
	int n_w;
	int links[MAX_LINKS];
	int n_links;
	struct ring_buffer *rb;
	uint64_t mono_to_real;
	uint64_t last_cnt[VX_C__MAX];
	uint64_t events;
};

static const struct watched *find_watched(const struct encap *x, uint32_t inum, uint32_t ifindex)
{
	for (int i = 0; i < x->n_w; i++)
		if (x->inst[x->w[i].inst].inum == inum && x->w[i].ifindex == (int)ifindex)
			return &x->w[i];
	return NULL;
}

static const char *at_name(uint8_t at)
{
	switch (at) {
	case VX_AT_XDP_UL_IN: return "xdp-in";
	case VX_AT_TC_UL_IN:
	case VX_AT_TC_VX_IN: return "in";
	case VX_AT_TC_UL_OUT:
	case VX_AT_TC_VX_OUT: return "out";
	}
	return "?";
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	}
	return "other";
}

static const char *ip_str(int family, const uint8_t *a, char *buf, size_t len)
{
	if (family != 4 && family != 6)
		return "-";
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len) ? buf : "?";
}

static void fmt_time(const struct encap *x, uint64_t mono, char *buf, size_t len)
{
	vx_fmt_wallclock(mono + x->mono_to_real, 6, buf, len);
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct encap *x = ctx;
	const struct vx_event *e = data;
	const struct vx_pkt *p = &e->pkt;
	const struct watched *w;
	char ts[32], os[INET6_ADDRSTRLEN], od[INET6_ADDRSTRLEN], is[INET6_ADDRSTRLEN],
		id[INET6_ADDRSTRLEN], l4[64] = "";
	const char *ns, *dev;

	if (len < sizeof(*e))
		return 0;
	x->events++;
	w = find_watched(x, e->netns, e->ifindex);
	ns = vx_netns_name_by_inum(e->netns);
	dev = w ? w->name : "?";
	fmt_time(x, e->ts_ns, ts, sizeof(ts));
	ip_str(p->outer_family, p->outer_src, os, sizeof(os));
	ip_str(p->outer_family, p->outer_dst, od, sizeof(od));
	ip_str(p->inner_family, p->inner_src, is, sizeof(is));
	ip_str(p->inner_family, p->inner_dst, id, sizeof(id));
	if (p->inner_proto == IPPROTO_ICMP || p->inner_proto == IPPROTO_ICMPV6)
		snprintf(l4, sizeof(l4), "type %u id %u seq %u", p->icmp_type, p->icmp_id,
			 p->icmp_seq);
	else if (p->inner_proto == IPPROTO_TCP || p->inner_proto == IPPROTO_UDP)
		snprintf(l4, sizeof(l4), "%u → %u", p->inner_sport, p->inner_dport);

	if (x->o->json) {
		struct jw j;

		jw_init(&j, stdout);
		jw_obj_open(&j, NULL);
		jw_str(&j, "type", e->kind == VX_K_ENCAP ? "encap" : "decap");
		jw_str(&j, "time", ts);
		jw_uint(&j, "time_ns", e->ts_ns + x->mono_to_real);
		jw_str(&j, "netns", ns);
		jw_str(&j, "device", dev);
		jw_str(&j, "hook", at_name(e->at));
		jw_str(&j, "layer", p->outer_family ? "underlay" : "overlay");
		jw_uint(&j, "vni", p->vni);
		if (p->outer_family) {
			jw_str(&j, "outer_src", os);
			jw_str(&j, "outer_dst", od);
			jw_uint(&j, "outer_sport", p->outer_sport);
			jw_uint(&j, "outer_dport", p->outer_dport);
		}
		jw_str(&j, "inner_src", p->inner_family ? is : NULL);
		jw_str(&j, "inner_dst", p->inner_family ? id : NULL);
		jw_str(&j, "proto", proto_name(p->inner_proto));
		if (p->inner_proto == IPPROTO_ICMP || p->inner_proto == IPPROTO_ICMPV6) {
			jw_uint(&j, "icmp_type", p->icmp_type);
			jw_uint(&j, "icmp_id", p->icmp_id);
			jw_uint(&j, "icmp_seq", p->icmp_seq);
		} else {
			jw_uint(&j, "sport", p->inner_sport);
			jw_uint(&j, "dport", p->inner_dport);
		}
		jw_uint(&j, "len", e->len);
		jw_obj_close(&j);
		jw_end_line(&j);
		return 0;
	}
	printf("%s %-10s %-10s %-3s %s vni=%u", ts, ns, dev, at_name(e->at),
	       e->kind == VX_K_ENCAP ? "ENCAP" : "DECAP", p->vni);
	if (p->outer_family)
		printf(" outer %s:%u→%s:%u", os, p->outer_sport, od, p->outer_dport);
	printf(" inner %s→%s %s %s len=%u\n", is, id, proto_name(p->inner_proto), l4, e->len);
	return 0;
}

/* ---- summaries ---------------------------------------------------------- */

struct tun_row {
	uint32_t netns, vni;
	uint8_t remote[16];
	uint8_t family;
	uint64_t enc_pkts, enc_bytes, dec_pkts, dec_bytes;
};

static struct tun_row *row_for(struct tun_row *rows, int *n, int max, uint32_t netns, uint32_t vni,
			       const uint8_t *remote, uint8_t family)
{
	for (int i = 0; i < *n; i++)
		if (rows[i].netns == netns && rows[i].vni == vni && rows[i].family == family &&
		    !memcmp(rows[i].remote, remote, 16))
			return &rows[i];
	if (*n == max)
		return NULL;
	memset(&rows[*n], 0, sizeof(rows[*n]));
	rows[*n].netns = netns;
	rows[*n].vni = vni;
	rows[*n].family = family;
	memcpy(rows[*n].remote, remote, 16);
	return &rows[(*n)++];
}

static void sum_counters(const struct encap *x, uint64_t out[VX_C__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));
	int fd = bpf_map__fd(x->inst[0].skel->maps.vxp_cnt);

	memset(out, 0, sizeof(uint64_t) * VX_C__MAX);
	for (uint32_t k = 0; vals && k < VX_C__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
}

/* Underlay hooks count per remote VTEP; VXLAN-device hooks (whose frames
 * have no outer header) are attributed to the device's configured remote. */
static int collect_rows(const struct encap *x, struct tun_row *rows, int max)
{
	int ncpu = libbpf_num_possible_cpus(), n = 0;
	int fd = bpf_map__fd(x->inst[0].skel->maps.vxp_tun);
	struct vx_tun_val *vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));
	struct vx_tun_key k, next;
	bool first = true;

	while (vals && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		const struct watched *w = find_watched(x, next.netns, next.ifindex);
		uint64_t pk = 0, by = 0;
		uint8_t remote[16] = {}, family = next.family;
		struct tun_row *r;

		first = false;
		k = next;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++) {
			pk += vals[c].packets;
			by += vals[c].bytes;
		}
		memcpy(remote, k.remote, 16);
		if (!family && w && w->vx && w->vx->remote_family) {
			family = w->vx->remote_family == AF_INET ? 4 : 6;
			memcpy(remote, &w->vx->remote, family == 4 ? 4 : 16);
		}
		/* Count each packet once: at the VXLAN device when it is
		 * watched, else at the underlay. */
		if (w && !w->is_vxlan) {
			bool vx_watched = false;

			for (int i = 0; i < x->n_w; i++)
				vx_watched |= x->w[i].is_vxlan && x->w[i].vx == w->vx;
			if (vx_watched)
				continue;
		}
		r = row_for(rows, &n, max, k.netns, k.vni, remote, family);
		if (!r)
			continue;
		if (k.at == VX_AT_TC_UL_OUT || k.at == VX_AT_TC_VX_OUT) {
			r->enc_pkts += pk;
			r->enc_bytes += by;
		} else {
			r->dec_pkts += pk;
			r->dec_bytes += by;
		}
	}
	free(vals);
	return n;
}

static void on_tick(void *ctx, uint64_t now)
{
	static const struct { int idx; const char *name; } bad[] = {
		{ VX_R_BAD_ETH, "eth" }, { VX_R_BAD_VLAN, "vlan" }, { VX_R_BAD_IP4, "ipv4" },
		{ VX_R_BAD_IHL, "ihl" }, { VX_R_BAD_IPVER, "ip-version" }, { VX_R_BAD_IP6, "ipv6" },
		{ VX_R_BAD_IP6_EXT, "ipv6-ext" }, { VX_R_BAD_UDP, "udp" },
		{ VX_R_BAD_VXLAN, "vxlan" }, { VX_R_BAD_VXLAN_FLAGS, "vxlan-flags" },
		{ VX_R_BAD_INNER_ETH, "inner-eth" }, { VX_R_BAD_INNER_IP, "inner-ip" },
		{ VX_R_BAD_L4, "l4" },
	};
	struct encap *x = ctx;
	struct tun_row rows[128];
	uint64_t cnt[VX_C__MAX], malformed = 0;
	char ts[32], ra[INET6_ADDRSTRLEN];
	int n = collect_rows(x, rows, 128);
	struct jw j;

	sum_counters(x, cnt);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		malformed += cnt[bad[i].idx];
	fmt_time(x, now, ts, sizeof(ts));
	if (cnt[VX_C_LOST] > x->last_cnt[VX_C_LOST])
		pr_warn("%llu events lost: the ring buffer was full (counts below are exact)",
			(unsigned long long)(cnt[VX_C_LOST] - x->last_cnt[VX_C_LOST]));

	if (x->o->json) {
		jw_init(&j, stdout);
		jw_obj_open(&j, NULL);
		jw_str(&j, "type", "summary");
		jw_str(&j, "time", ts);
		jw_arr_open(&j, "tunnels");
		for (int i = 0; i < n; i++) {
			jw_obj_open(&j, NULL);
			jw_str(&j, "netns", vx_netns_name_by_inum(rows[i].netns));
			jw_uint(&j, "vni", rows[i].vni);
			jw_str(&j, "remote_vtep", ip_str(rows[i].family, rows[i].remote, ra, sizeof(ra)));
			jw_uint(&j, "encap_packets", rows[i].enc_pkts);
			jw_uint(&j, "encap_bytes", rows[i].enc_bytes);
			jw_uint(&j, "decap_packets", rows[i].dec_pkts);
			jw_uint(&j, "decap_bytes", rows[i].dec_bytes);
			jw_obj_close(&j);
		}
		jw_arr_close(&j);
		jw_obj_open(&j, "malformed");
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (cnt[bad[i].idx])
				jw_uint(&j, bad[i].name, cnt[bad[i].idx]);
		jw_obj_close(&j);
		jw_uint(&j, "non_vxlan", cnt[VX_R_PLAIN_IP] + cnt[VX_R_NON_IP]);
		jw_uint(&j, "events", cnt[VX_C_EVENTS]);
		jw_uint(&j, "events_lost", cnt[VX_C_LOST]);
		jw_uint(&j, "rate_limited", cnt[VX_C_RATE_LIMITED]);
		jw_obj_close(&j);
		jw_end_line(&j);
	} else {
		printf("--- %s totals since start ---\n", ts);
		printf("  %-12s %8s %-18s %12s %14s %12s %14s\n", "NETNS", "VNI", "REMOTE VTEP",
		       "ENCAP pkts", "ENCAP bytes", "DECAP pkts", "DECAP bytes");
		for (int i = 0; i < n; i++)
			printf("  %-12s %8u %-18s %12llu %14llu %12llu %14llu\n",
			       vx_netns_name_by_inum(rows[i].netns), rows[i].vni,
			       ip_str(rows[i].family, rows[i].remote, ra, sizeof(ra)),
			       (unsigned long long)rows[i].enc_pkts,
			       (unsigned long long)rows[i].enc_bytes,
			       (unsigned long long)rows[i].dec_pkts,
			       (unsigned long long)rows[i].dec_bytes);
		printf("  malformed %llu, non-VXLAN %llu, events %llu, lost %llu, rate-limited %llu\n",
		       (unsigned long long)malformed,
		       (unsigned long long)(cnt[VX_R_PLAIN_IP] + cnt[VX_R_NON_IP]),
		       (unsigned long long)cnt[VX_C_EVENTS], (unsigned long long)cnt[VX_C_LOST],
		       (unsigned long long)cnt[VX_C_RATE_LIMITED]);
	}
	fflush(stdout);
	memcpy(x->last_cnt, cnt, sizeof(cnt));
}

/* ---- setup -------------------------------------------------------------- */

static int inst_for(struct encap *x, const char *netns)
{
	for (int i = 0; i < x->n_inst; i++)
		if (!strcmp(x->inst[i].netns, netns))
			return i;
	if (x->n_inst == MAX_INST)
		return -E2BIG;
	snprintf(x->inst[x->n_inst].netns, VX_NETNS_NAME_MAX, "%s", netns);
	x->inst[x->n_inst].inum = vx_netns_inum(netns);
	return x->n_inst++;
}

static int add_watch(struct encap *x, const char *netns, int ifindex, const char *name,
		     const struct vx_vxlan_dev *vx, bool is_vxlan)
{
	int inst = inst_for(x, netns);

	if (inst < 0)
		return inst;
	for (int i = 0; i < x->n_w; i++)
		if (x->w[i].inst == inst && x->w[i].ifindex == ifindex)
			return 0;
	if (x->n_w == MAX_LINKS / 2)
		return -E2BIG;
	x->w[x->n_w] = (struct watched){ .inst = inst, .ifindex = ifindex, .vx = vx,
					  .is_vxlan = is_vxlan };
	snprintf(x->w[x->n_w].name, IF_NAMESIZE, "%s", name);
	x->n_w++;
	return 0;
}

/* What to watch: -i interfaces, or with --auto every VXLAN device and its
 * underlay in the chosen namespaces. */
static int pick_interfaces(struct encap *x)
{
	char names[VX_MAX_NETNS + 1][VX_NETNS_NAME_MAX], err[256];
	struct vx_opts *o = x->o;
	int n = 0, ret;

	for (int i = 0; i < o->n_netns; i++) {
		if (vx_netns_check(o->netns[i], err, sizeof(err))) {
			pr_err("%s", err);
			return -ENOENT;
		}
		snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->netns[i]);
	}
	for (int i = 0; i < o->n_ifaces && n <= VX_MAX_NETNS; i++)
		snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->ifaces[i].netns);
	if (!n)
		names[n++][0] = '\0';
	for (int i = 0; i < n; i++) {
		bool dup = false;

		for (int j = 0; j < i; j++)
			dup |= !strcmp(names[i], names[j]);
		if (!dup && (ret = vx_inventory_collect(&x->inv, names[i])))
			return ret;
	}
	for (int i = 0; i < o->n_ifaces; i++) {
		const struct vx_iface_spec *s = &o->ifaces[i];
		const struct vx_vxlan_dev *vx = NULL;
		bool is_vx = false;
		int ifindex;

		if (vx_iface_resolve(s, &ifindex, err, sizeof(err))) {
			pr_err("%s", err);
			return -ENODEV;
		}
		for (int d = 0; d < x->inv.n; d++) {
			const struct vx_vxlan_dev *v = &x->inv.devs[d];

			if (strcmp(v->netns, s->netns))
				continue;
			if (v->ifindex == ifindex) {
				vx = v;
				is_vx = true;
			} else if (v->underlay_ifindex == ifindex && !vx) {
				vx = v;
			}
		}
		if ((ret = add_watch(x, s->netns, ifindex, s->name, vx, is_vx)))
			return ret;
	}
	if (o->auto_attach) {
		for (int d = 0; d < x->inv.n; d++) {
			const struct vx_vxlan_dev *v = &x->inv.devs[d];

			if ((ret = add_watch(x, v->netns, v->ifindex, v->name, v, true)))
				return ret;
			if (v->underlay_ifindex &&
			    (ret = add_watch(x, v->netns, v->underlay_ifindex, v->underlay, v, false)))
				return ret;
		}
		if (!x->inv.n) {
			pr_err("--auto found no VXLAN device in the chosen namespaces; `vxray doctor` "
			       "lists them, --netns NAME looks inside a namespace");
			return -ENODEV;
		}
	}
	if (!x->n_w) {
		pr_err("nothing to watch: name interfaces with -i [NETNS:]IFACE or use --auto "
		       "(every VXLAN device and its underlay)");
		return -EINVAL;
	}
	return 0;
}

static int host_filter(struct vx_dp_config *c, const char *host)
{
	if (!host[0])
		return 0;
	if (inet_pton(AF_INET, host, c->host) == 1)
		c->has_host = 4;
	else if (inet_pton(AF_INET6, host, c->host) == 1)
		c->has_host = 6;
	else
		return -EINVAL;
	return 0;
}

static int open_instances(struct encap *x)
{
	struct vx_opts *o = x->o;
	struct vx_dp_config c = { .events = 1 };
	int ncpu = libbpf_num_possible_cpus(), nports = 0, err;

	if (host_filter(&c, o->host)) {
		pr_err("--host '%s' is not an IPv4 or IPv6 address", o->host);
		return -EINVAL;
	}
	c.has_vni = o->has_vni;
	c.vni = o->vni;
	c.has_port = o->has_port;
	c.port = o->port;
	c.proto = o->proto > 0 ? (uint8_t)o->proto : 0;
	/* --rate is per second overall; the kernel keeps one window per CPU. */
	c.rate = o->rate ? (o->rate + (uint32_t)ncpu - 1) / (uint32_t)(ncpu > 0 ? ncpu : 1) : 0;
	for (int d = 0; d < x->inv.n && nports < VX_MAX_VXLAN_PORTS; d++) {
		bool seen = x->inv.devs[d].dstport == 4789;

		for (int i = 0; i < nports; i++)
			seen |= c.vxlan_ports[i] == x->inv.devs[d].dstport;
		if (!seen)
			c.vxlan_ports[nports++] = x->inv.devs[d].dstport;
	}
	c.n_vxlan_ports = (uint8_t)nports;

	for (int i = 0; i < x->n_inst; i++) {
		struct inst *in = &x->inst[i];

		in->skel = vx_tc__open();
		if (!in->skel)
			return -errno;
		c.netns = in->inum;
		memcpy((void *)&in->skel->rodata->cfg, &c, sizeof(c));
		bpf_program__set_expected_attach_type(in->skel->progs.vx_tc_ul_in, BPF_TCX_INGRESS);
		bpf_program__set_expected_attach_type(in->skel->progs.vx_tc_vx_in, BPF_TCX_INGRESS);
		bpf_program__set_expected_attach_type(in->skel->progs.vx_tc_ul_out, BPF_TCX_EGRESS);
		bpf_program__set_expected_attach_type(in->skel->progs.vx_tc_vx_out, BPF_TCX_EGRESS);
		if (i > 0) {
			struct vx_tc *f = x->inst[0].skel;

			if ((err = bpf_map__reuse_fd(in->skel->maps.vxp_rb, bpf_map__fd(f->maps.vxp_rb))) ||
			    (err = bpf_map__reuse_fd(in->skel->maps.vxp_cnt, bpf_map__fd(f->maps.vxp_cnt))) ||
			    (err = bpf_map__reuse_fd(in->skel->maps.vxp_tun, bpf_map__fd(f->maps.vxp_tun))))
				return err;
		}
		if ((err = vx_tc__load(in->skel)))
			return err;
	}
	return 0;
}

static int attach_all(struct encap *x)
{
	for (int i = 0; i < x->n_w; i++) {
		struct watched *w = &x->w[i];
		struct inst *in = &x->inst[w->inst];
		struct bpf_program *pin = w->is_vxlan ? in->skel->progs.vx_tc_vx_in :
							 in->skel->progs.vx_tc_ul_in;
		struct bpf_program *pout = w->is_vxlan ? in->skel->progs.vx_tc_vx_out :
							  in->skel->progs.vx_tc_ul_out;
		int saved, err = vx_netns_enter(in->netns, &saved), fd;

		if (err)
			return err;
		if (w->is_vxlan && w->vx) {
			uint32_t k = (uint32_t)w->ifindex, v = w->vx->vni;

			bpf_map_update_elem(bpf_map__fd(in->skel->maps.vxp_dev), &k, &v, BPF_ANY);
		}
		for (int dir = 0; dir < 2 && !err; dir++) {
			fd = bpf_link_create(bpf_program__fd(dir ? pout : pin), w->ifindex,
					     dir ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);
			if (fd < 0) {
				err = fd;
				pr_err("cannot attach to %s %s in %s: %s%s", w->name,
				       dir ? "egress" : "ingress", in->netns[0] ? in->netns : "this namespace",
				       vx_strerror(fd),
				       fd == -EINVAL ? " (this kernel has no TCX links, which arrived "
						       "in 6.6; the netlink tc path is not implemented yet)" : "");
			} else {
				x->links[x->n_links++] = fd;
			}
		}
		vx_netns_leave(saved);
		if (err)
			return err;
		pr_debug("attached to %s (%s) in %s", w->name, w->is_vxlan ? "vxlan" : "underlay",
			 in->netns[0] ? in->netns : "this namespace");
	}
	return 0;
}

int cmd_encap(struct vx_opts *o)
{
	struct encap x = { .o = o };
	struct vx_sysinfo si;
	struct vx_loop loop;
	const char *priv;
	int ret;

	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_privilege_problem(&si);
	if (priv) {
		pr_err("%s", priv);
		return VX_EXIT_FAIL;
	}
	ret = pick_interfaces(&x);
	if (ret) {
		vx_inventory_free(&x.inv);
		return ret == -ENOENT || ret == -ENODEV || ret == -EINVAL ? VX_EXIT_USAGE : VX_EXIT_FAIL;
	}
	ret = open_instances(&x);
	if (ret) {
		if (ret != -EINVAL)
			pr_err("cannot load the datapath programs: %s", vx_strerror(ret));
		ret = ret == -EINVAL ? VX_EXIT_USAGE : VX_EXIT_FAIL;
		goto out;
	}
	ret = attach_all(&x);
	if (ret) {
		ret = VX_EXIT_FAIL;
		goto out;
	}
	x.rb = ring_buffer__new(bpf_map__fd(x.inst[0].skel->maps.vxp_rb), on_event, &x, NULL);
	if (!x.rb) {
		pr_err("cannot open the event ring buffer: %s", strerror(errno));
		ret = VX_EXIT_FAIL;
		goto out;
	}
	x.mono_to_real = vx_mono_to_real();
	pr_info("watching %d interface%s in %d namespace%s with TCX links; Ctrl-C to stop", x.n_w,
		x.n_w == 1 ? "" : "s", x.n_inst, x.n_inst == 1 ? "" : "s");

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &x);
	if (!ret)
		ret = vx_loop_add_ringbuf(&loop, x.rb);
	if (!ret)
		ret = vx_loop_run(&loop);
	vx_loop_close(&loop);
	if (ret) {
		pr_err("encap: event loop failed: %s", strerror(-ret));
		ret = VX_EXIT_FAIL;
	}
out:
	ring_buffer__free(x.rb);
	/* Detach in reverse order of attachment. */
	for (int i = x.n_links - 1; i >= 0; i--)
		close(x.links[i]);
	for (int i = x.n_inst - 1; i >= 0; i--)
		vx_tc__destroy(x.inst[i].skel);
	vx_inventory_free(&x.inv);
	return ret;
}
