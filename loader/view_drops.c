// SPDX-License-Identifier: GPL-2.0-only
/* `vxray drops`: kernel packet drops with the kernel's own reason, the
 * function that dropped the packet, its namespace and device, and the
 * tunnel it belonged to. The probe is bpf/kprobe/vx_drops.bpf.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "cmd.h"
#include "inventory.h"
#include "json.h"
#include "ksyms.h"
#include "log.h"
#include "loop.h"
#include "netns.h"
#include "sysinfo.h"
/* The shared structs first: the skeleton names struct vxd_config. */
#include "../bpf/kprobe/vx_drops.h"
#include "vx_drops.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define STACK_ENTRIES 4096
#define MAX_NAMES 128

struct ns_name {
	uint32_t inum;
	char name[VX_NETNS_NAME_MAX];
};

struct if_name {
	uint32_t inum;
	uint32_t ifindex;
	char name[IF_NAMESIZE];
};

struct agg_row {
	struct vxd_agg_key key;
	uint64_t count;		/* cumulative, as the kernel counts it */
	uint64_t prev;		/* at the last summary */
};

struct drops {
	struct vx_opts *o;
	struct vx_drops *skel;
	struct bpf_link *link;
	struct ring_buffer *rb;
	const char *backend;	/* what attached, for messages */
	bool mounted_tracefs;
	uint64_t mono_to_real;	/* add to bpf_ktime_get_ns() for wall time */
	uint64_t events, shown, lost_seen, drops_total;
	uint64_t last_tick;
	struct ns_name ns[MAX_NAMES];
	int n_ns;
	uint32_t host_inum;
	struct if_name ifs[MAX_NAMES];
	int n_ifs;
	struct agg_row *agg;
	int n_agg;
};

/* ---- naming ------------------------------------------------------------ */

static void load_ns_names(struct drops *d)
{
	static char names[VX_MAX_NETNS * 4][VX_NETNS_NAME_MAX];
	struct stat st;
	int n;

	d->n_ns = 0;
	/* pid 1's namespace is the host's; vxray may itself run elsewhere. */
	d->host_inum = stat("/proc/1/ns/net", &st) ? vx_netns_inum(NULL) : (uint32_t)st.st_ino;
	n = vx_netns_list(names, VX_MAX_NETNS * 4);
	for (int i = 0; i < n && d->n_ns < MAX_NAMES; i++) {
		uint32_t inum = vx_netns_inum(names[i]);

		if (!inum)
			continue;
		d->ns[d->n_ns].inum = inum;
		snprintf(d->ns[d->n_ns].name, VX_NETNS_NAME_MAX, "%s", names[i]);
		d->n_ns++;
	}
}

static const char *ns_lookup(struct drops *d, uint32_t inum)
{
	for (int i = 0; i < d->n_ns; i++)
		if (d->ns[i].inum == inum)
			return d->ns[i].name;
	return NULL;
}

/* Named namespace of @inum; "host" for the init one, "" when unnamed. */
static const char *ns_name(struct drops *d, uint32_t inum, char *buf, size_t len)
{
	const char *n;

	if (inum == d->host_inum)
		return "host";
	n = ns_lookup(d, inum);
	if (!n) {
		/* Created after vxray started: look once more. */
		load_ns_names(d);
		n = ns_lookup(d, inum);
	}
	if (n)
		return n;
	snprintf(buf, len, "netns:%u", inum);
	return buf;
}

static const char *dev_name(struct drops *d, uint32_t inum, uint32_t ifindex)
{
	static char unnamed[IF_NAMESIZE + 8];
	char name[IF_NAMESIZE] = "";
	const char *ns = NULL;
	int saved = -1;

	if (!ifindex)
		return "-";
	for (int i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].inum == inum && d->ifs[i].ifindex == ifindex)
			return d->ifs[i].name;
	if (inum != vx_netns_inum(NULL)) {
		ns = ns_lookup(d, inum);
		if (!ns || vx_netns_enter(ns, &saved))
			goto unnamed;
	}
	if (!if_indextoname(ifindex, name))
		name[0] = '\0';
	if (ns)
		vx_netns_leave(saved);
	if (!name[0])
		goto unnamed;
	if (d->n_ifs < MAX_NAMES) {
		struct if_name *e = &d->ifs[d->n_ifs++];

		e->inum = inum;
		e->ifindex = ifindex;
		snprintf(e->name, sizeof(e->name), "%s", name);
		return e->name;
	}
	snprintf(unnamed, sizeof(unnamed), "%s", name);
	return unnamed;
unnamed:
	snprintf(unnamed, sizeof(unnamed), "if%u", ifindex);
	return unnamed;
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_GRE: return "gre";
	}
	snprintf(buf, len, "proto%u", p);
	return buf;
}

static bool has_ports(const struct vxd_ip *ip)
{
	return ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP || ip->proto == IPPROTO_SCTP;
}

static const char *addr_str(const struct vxd_ip *ip, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(ip->family == 6 ? AF_INET6 : AF_INET, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* "udp 10.0.0.1:5000→10.0.0.2:4789" or "172.16.0.1→172.16.0.2 icmp" */
static void fmt_ip(const struct vxd_ip *ip, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN], dd[INET6_ADDRSTRLEN], pb[16];
	const char *p = proto_name(ip->proto, pb, sizeof(pb));

	addr_str(ip, ip->saddr, s, sizeof(s));
	addr_str(ip, ip->daddr, dd, sizeof(dd));
	if (has_ports(ip))
		snprintf(out, len, "%s %s%s%s:%u→%s%s%s:%u", p,
			 ip->family == 6 ? "[" : "", s, ip->family == 6 ? "]" : "", ip->sport,
			 ip->family == 6 ? "[" : "", dd, ip->family == 6 ? "]" : "", ip->dport);
	else if (ip->proto == IPPROTO_ICMP || ip->proto == IPPROTO_ICMPV6)
		snprintf(out, len, "%s→%s %s type %u code %u", s, dd, p, ip->sport, ip->dport);
	else
		snprintf(out, len, "%s→%s %s", s, dd, p);
}

static void fmt_time(struct drops *d, uint64_t mono_ns, char *buf, size_t len)
{
	uint64_t ns = mono_ns + d->mono_to_real;
	time_t sec = ns / NSEC_PER_SEC;
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(ns % NSEC_PER_SEC / NSEC_PER_MSEC));
}

/* ---- filters (userspace: they only thin the event lines) ----------------- */

static bool ip_matches_host(const struct vxd_ip *ip, const char *host)
{
	char s[INET6_ADDRSTRLEN], dd[INET6_ADDRSTRLEN];

	if (!ip->family)
		return false;
	return !strcmp(addr_str(ip, ip->saddr, s, sizeof(s)), host) ||
	       !strcmp(addr_str(ip, ip->daddr, dd, sizeof(dd)), host);
}

static bool event_wanted(const struct vx_opts *o, const struct vxd_event *e)
{
	const struct vxd_ip *pkt = (e->flags & VXD_F_INNER) ? &e->inner : &e->outer;

	if (o->has_vni && (!(e->flags & VXD_F_TUNNEL) || e->vni != o->vni))
		return false;
	if (o->proto >= 0 && e->outer.proto != o->proto && e->inner.proto != o->proto)
		return false;
	if (o->has_port && e->outer.sport != o->port && e->outer.dport != o->port &&
	    e->inner.sport != o->port && e->inner.dport != o->port)
		return false;
	if (o->host[0] && !ip_matches_host(&e->outer, o->host) && !ip_matches_host(pkt, o->host))
		return false;
	return true;
}

/* ---- output ------------------------------------------------------------ */

/* The frames above the kernel's drop function are the BPF trampoline or
 * tracepoint plumbing, different per backend: start at the drop function
 * when it is in the stack. Returns the index of the first frame to show. */
static int stack_start(const uint64_t *ips)
{
	for (int i = 0; i < VXD_STACK_DEPTH && ips[i]; i++) {
		const char *s = vx_ksym_lookup(ips[i], NULL);

		if (s && (!strcmp(s, "sk_skb_reason_drop") || !strcmp(s, "kfree_skb_reason") ||
			  !strcmp(s, "kfree_skb") || !strcmp(s, "kfree_skb_list_reason")))
			return i;
	}
	return 0;
}

/* 0 and @ips filled, or a negative errno. */
static int read_stack(struct drops *d, int32_t id, uint64_t *ips)
{
	if (id < 0)
		return id;
	return bpf_map__lookup_elem(d->skel->maps.vxd_stacks, &id, sizeof(id), ips,
				    VXD_STACK_DEPTH * sizeof(*ips), 0);
}

static void print_stack_text(struct drops *d, int32_t id)
{
	uint64_t ips[VXD_STACK_DEPTH] = {};
	char sym[160];
	int ret = read_stack(d, id, ips);

	if (ret) {
		printf("    [no stack: %s]\n", vx_strerror(ret));
		return;
	}
	for (int i = stack_start(ips); i < VXD_STACK_DEPTH && ips[i]; i++)
		printf("    %s\n", vx_ksym_fmt(ips[i], sym, sizeof(sym)));
}

static void json_ip(struct jw *w, const char *key, const struct vxd_ip *ip)
{
	char a[INET6_ADDRSTRLEN], pb[16];

	jw_obj_open(w, key);
	jw_int(w, "family", ip->family);
	jw_str(w, "proto", proto_name(ip->proto, pb, sizeof(pb)));
	jw_str(w, "src", addr_str(ip, ip->saddr, a, sizeof(a)));
	jw_str(w, "dst", addr_str(ip, ip->daddr, a, sizeof(a)));
	if (has_ports(ip)) {
		jw_uint(w, "sport", ip->sport);
		jw_uint(w, "dport", ip->dport);
	} else if (ip->proto == IPPROTO_ICMP || ip->proto == IPPROTO_ICMPV6) {
		jw_uint(w, "icmp_type", ip->sport);
		jw_uint(w, "icmp_code", ip->dport);
	}
	jw_obj_close(w);
}

static void print_event_json(struct drops *d, const struct vxd_event *e, const char *reason,
			     const char *loc, const char *ns, const char *dev)
{
	char a[INET6_ADDRSTRLEN], sym[160], ts[32];
	struct jw w;

	fmt_time(d, e->ts_ns, ts, sizeof(ts));
	jw_init(&w, stdout);
	jw_obj_open(&w, NULL);
	jw_str(&w, "type", "drop");
	jw_str(&w, "time", ts);
	jw_uint(&w, "time_ns", e->ts_ns + d->mono_to_real);
	jw_str(&w, "reason", reason);
	jw_uint(&w, "reason_num", e->reason);
	jw_str(&w, "location", loc);
	jw_uint(&w, "location_addr", e->location);
	jw_str(&w, "netns", ns);
	jw_uint(&w, "netns_inum", e->netns);
	jw_str(&w, "dev", dev);
	jw_uint(&w, "ifindex", e->ifindex);
	jw_uint(&w, "len", e->len);
	jw_uint(&w, "protocol", e->protocol);
	if (e->flags & VXD_F_OUTER)
		json_ip(&w, "outer", &e->outer);
	if (e->flags & VXD_F_TUNNEL) {
		jw_uint(&w, "vni", e->vni);
		if (e->flags & VXD_F_OUTER)
			jw_str(&w, "vtep", addr_str(&e->outer, e->outer.saddr, a, sizeof(a)));
		jw_bool(&w, "decapsulated", e->flags & VXD_F_DECAP);
	}
	if (e->flags & VXD_F_INNER)
		json_ip(&w, "inner", &e->inner);
	if (d->o->stack) {
		uint64_t ips[VXD_STACK_DEPTH] = {};
		int32_t id = e->stack_id;

		jw_arr_open(&w, "stack");
		if (!read_stack(d, id, ips))
			for (int i = stack_start(ips); i < VXD_STACK_DEPTH && ips[i]; i++)
				jw_str(&w, NULL, vx_ksym_fmt(ips[i], sym, sizeof(sym)));
		jw_arr_close(&w);
	}
	jw_obj_close(&w);
	jw_end_line(&w);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct drops *d = ctx;
	const struct vxd_event *e = data;
	char rbuf[32], loc[160], nsb[32], ts[32], outer[160], inner[160], a[INET6_ADDRSTRLEN];
	const char *reason, *ns, *dev;

	if (size < sizeof(*e))
		return 0;
	d->events++;
	if (!event_wanted(d->o, e))
		return 0;
	d->shown++;
	reason = vx_drop_reason_name(e->reason, rbuf, sizeof(rbuf));
	vx_ksym_fmt(e->location, loc, sizeof(loc));
	if (!e->location)
		snprintf(loc, sizeof(loc), "-");
	ns = ns_name(d, e->netns, nsb, sizeof(nsb));
	dev = dev_name(d, e->netns, e->ifindex);
	if (d->o->json) {
		print_event_json(d, e, reason, loc, ns, dev);
		return 0;
	}

	fmt_time(d, e->ts_ns, ts, sizeof(ts));
	if (e->flags & VXD_F_OUTER)
		fmt_ip(&e->outer, outer, sizeof(outer));
	else
		snprintf(outer, sizeof(outer), "ethertype 0x%04x", e->protocol);
	printf("%s DROP %s %s netns=%s dev=%s len=%u %s", ts, reason, loc, ns, dev, e->len, outer);
	if (e->flags & VXD_F_TUNNEL) {
		printf(" vni=%u", e->vni);
		if (e->flags & VXD_F_OUTER)
			printf(" vtep=%s", addr_str(&e->outer, e->outer.saddr, a, sizeof(a)));
		if (e->flags & VXD_F_INNER) {
			fmt_ip(&e->inner, inner, sizeof(inner));
			printf(" inner %s", inner);
		}
	}
	putchar('\n');
	if (d->o->stack)
		print_stack_text(d, e->stack_id);
	fflush(stdout);
	return 0;
}

static uint64_t read_lost(struct drops *d)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	uint32_t zero = 0;
	uint64_t *v;

	if (ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map__lookup_elem(d->skel->maps.vxd_lost, &zero, sizeof(zero), v,
				  ncpu * sizeof(*v), 0))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* Pull the kernel's cumulative counters into d->agg (new keys appended). */
static void read_agg(struct drops *d)
{
	int fd = bpf_map__fd(d->skel->maps.vxd_agg);
	struct vxd_agg_key key, next, *prev = NULL;
	uint64_t count;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &count))
			continue;
		int i;

		for (i = 0; i < d->n_agg; i++)
			if (!memcmp(&d->agg[i].key, &key, sizeof(key)))
				break;
		if (i == d->n_agg) {
			struct agg_row *n = realloc(d->agg, (d->n_agg + 1) * sizeof(*n));

			if (!n)
				return;
			d->agg = n;
			memset(&d->agg[i], 0, sizeof(d->agg[i]));
			d->agg[i].key = key;
			d->n_agg++;
		}
		d->agg[i].count = count;
	}
}

static int cmp_delta(const void *a, const void *b)
{
	const struct agg_row *x = a, *y = b;
	uint64_t dx = x->count - x->prev, dy = y->count - y->prev;

	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

static void on_tick(void *ctx, uint64_t now)
{
	struct drops *d = ctx;
	uint64_t lost = read_lost(d), new_lost = lost - d->lost_seen, delta = 0;
	char rbuf[32], loc[160], nsb[32], ts[32];
	double secs = (double)(now - d->last_tick) / NSEC_PER_SEC;
	struct jw w;

	read_agg(d);
	if (d->n_agg)	/* agg is NULL until the first drop */
		qsort(d->agg, d->n_agg, sizeof(*d->agg), cmp_delta);
	for (int i = 0; i < d->n_agg; i++)
		delta += d->agg[i].count - d->agg[i].prev;
	d->drops_total += delta;
	fmt_time(d, now, ts, sizeof(ts));

	if (d->o->json) {
		jw_init(&w, stdout);
		jw_obj_open(&w, NULL);
		jw_str(&w, "type", "summary");
		jw_double(&w, "interval_s", secs);
		jw_uint(&w, "drops", delta);
		jw_uint(&w, "lost", new_lost);
		jw_uint(&w, "total_drops", d->drops_total);
		jw_uint(&w, "total_lost", lost);
		jw_bool(&w, "heartbeat", !delta);
		jw_arr_open(&w, "by");
	} else if (delta) {
		printf("--- %s drops in the last %.1fs: %llu, lost %llu ---\n", ts, secs,
		       (unsigned long long)delta, (unsigned long long)new_lost);
	} else {
		printf("--- still tracing, %llu drops, %llu lost ---\n",
		       (unsigned long long)d->drops_total, (unsigned long long)lost);
	}
	for (int i = 0; i < d->n_agg && d->agg[i].count > d->agg[i].prev; i++) {
		const struct agg_row *r = &d->agg[i];
		const char *reason = vx_drop_reason_name(r->key.reason, rbuf, sizeof(rbuf));
		const char *ns = ns_name(d, r->key.netns, nsb, sizeof(nsb));

		if (r->key.location)
			vx_ksym_fmt(r->key.location, loc, sizeof(loc));
		else
			snprintf(loc, sizeof(loc), "-");
		if (d->o->json) {
			jw_obj_open(&w, NULL);
			jw_str(&w, "reason", reason);
			jw_uint(&w, "reason_num", r->key.reason);
			jw_str(&w, "location", loc);
			jw_str(&w, "netns", ns);
			jw_uint(&w, "count", r->count - r->prev);
			jw_obj_close(&w);
		} else {
			printf("%10llu  %-24s %-36s %s\n", (unsigned long long)(r->count - r->prev),
			       reason, loc, ns);
		}
	}
	if (d->o->json) {
		jw_arr_close(&w);
		jw_obj_close(&w);
		jw_end_line(&w);
	}
	if (new_lost)
		pr_warn("%llu drop events did not fit the ring buffer; the counts above are exact, the event lines are not",
			(unsigned long long)new_lost);
	for (int i = 0; i < d->n_agg; i++)
		d->agg[i].prev = d->agg[i].count;
	d->lost_seen = lost;
	d->last_tick = now;
	fflush(stdout);
}

/* ---- scoping ----------------------------------------------------------- */

static int scope_add(struct vxd_scope_key *s, int *n, uint32_t netns, uint32_t ifindex)
{
	for (int i = 0; i < *n; i++)
		if (s[i].netns == netns && s[i].ifindex == ifindex)
			return 0;
	if (*n >= VXD_MAX_SCOPE) {
		pr_err("more than %d interfaces to watch: name fewer with -i/--netns", VXD_MAX_SCOPE);
		return -E2BIG;
	}
	s[*n].netns = netns;
	s[*n].ifindex = ifindex;
	(*n)++;
	return 0;
}

static int scope_auto(struct vx_opts *o, struct vxd_scope_key *s, int *n, uint16_t *port)
{
	static char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	struct vx_inventory inv = {};
	int nn, ret = 0;

	if (o->n_netns) {
		nn = o->n_netns;
		memcpy(names, o->netns, sizeof(o->netns[0]) * nn);
	} else {
		/* Every namespace vxray can name, and its own. */
		names[0][0] = '\0';
		nn = 1 + vx_netns_list(names + 1, VX_MAX_NETNS - 1);
	}
	for (int i = 0; i < nn; i++) {
		ret = vx_inventory_collect(&inv, names[i]);
		if (ret)
			pr_debug("inventory of netns '%s': %s", names[i], vx_strerror(ret));
	}
	ret = 0;
	for (int i = 0; i < inv.n && !ret; i++) {
		const struct vx_vxlan_dev *v = &inv.devs[i];

		ret = scope_add(s, n, v->netns_inum, v->ifindex);
		if (!ret && v->underlay_ifindex)
			ret = scope_add(s, n, v->netns_inum, v->underlay_ifindex);
		if (v->dstport && v->dstport != 4789)
			*port = v->dstport;
		pr_debug("--auto: watching %s%s%s and its underlay %s", v->netns,
			 v->netns[0] ? ":" : "", v->name, v->underlay[0] ? v->underlay : "(none)");
	}
	if (!ret && !inv.n) {
		pr_err("--auto found no VXLAN device in the chosen namespaces: name them with -i or --netns");
		ret = -ENOENT;
	}
	vx_inventory_free(&inv);
	return ret;
}

static int build_scope(struct vx_opts *o, struct vxd_scope_key *s, int *n, uint16_t *port)
{
	char err[256];
	int ret, ifindex;

	*n = 0;
	for (int i = 0; i < o->n_ifaces; i++) {
		ret = vx_iface_resolve(&o->ifaces[i], &ifindex, err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
		ret = scope_add(s, n, vx_netns_inum(o->ifaces[i].netns), ifindex);
		if (ret)
			return ret;
	}
	for (int i = 0; i < o->n_netns; i++) {
		ret = vx_netns_check(o->netns[i], err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
		if (o->auto_attach)
			continue;	/* --auto narrows these to their VXLAN devices */
		ret = scope_add(s, n, vx_netns_inum(o->netns[i]), 0);
		if (ret)
			return ret;
	}
	if (o->auto_attach)
		return scope_auto(o, s, n, port);
	return 0;
}

/* ---- backends ---------------------------------------------------------- */

enum { BE_FENTRY, BE_KPROBE, BE_TP_BTF, BE_TRACEPOINT };
static const char *const be_names[] = {
	[BE_FENTRY] = "fentry", [BE_KPROBE] = "kprobe",
	[BE_TP_BTF] = "tp_btf", [BE_TRACEPOINT] = "tracepoint",
};

static bool kernel_has_func(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok = btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;

	btf__free(btf);
	return ok;
}

/* sk_skb_reason_drop() replaced kfree_skb_reason() as the out-of-line
 * drop function in 6.11 (kfree_skb_reason became an inline wrapper). */
static struct bpf_program *pick_prog(struct vx_drops *skel, int be, const char **what)
{
	bool new_fn = kernel_has_func("sk_skb_reason_drop");

	switch (be) {
	case BE_FENTRY:
		*what = new_fn ? "fentry/sk_skb_reason_drop" : "fentry/kfree_skb_reason";
		return new_fn ? skel->progs.vxd_fentry_new : skel->progs.vxd_fentry_old;
	case BE_KPROBE:
		new_fn = vx_ksym_addr("sk_skb_reason_drop") || new_fn;
		*what = new_fn ? "kprobe/sk_skb_reason_drop" : "kprobe/kfree_skb_reason";
		return new_fn ? skel->progs.vxd_kprobe_new : skel->progs.vxd_kprobe_old;
	case BE_TP_BTF:
		*what = "tp_btf/kfree_skb";
		return skel->progs.vxd_tp_btf;
	default:
		*what = "tracepoint/skb/kfree_skb";
		return skel->progs.vxd_tracepoint;
	}
}

static int ensure_tracefs(struct drops *d)
{
	struct vx_sysinfo si;

	if (!access(TRACEFS "/events/skb/kfree_skb", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events/skb/kfree_skb", F_OK))
		return 0;
	vx_sysinfo_collect(&si);
	if (si.tracefs[0])
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return -errno;
	d->mounted_tracefs = true;
	pr_info("mounted tracefs on " TRACEFS " for the classic tracepoint; vxray unmounts it on exit");
	return 0;
}

static int try_backend(struct drops *d, int be, const struct vxd_config *cfg,
		       const struct vxd_scope_key *scope, int n_scope, char *why, size_t len)
{
	struct bpf_program *prog, *p;
	const char *what;
	uint8_t one = 1;
	int ret;

	d->skel = vx_drops__open();
	if (!d->skel) {
		ret = -errno;
		snprintf(why, len, "opening the BPF object: %s", vx_strerror(ret));
		return ret;
	}
	d->skel->rodata->cfg = *cfg;
	if (cfg->stack)
		bpf_map__set_max_entries(d->skel->maps.vxd_stacks, STACK_ENTRIES);
	prog = pick_prog(d->skel, be, &what);
	bpf_object__for_each_program(p, d->skel->obj)
		bpf_program__set_autoload(p, p == prog);

	if (be == BE_TRACEPOINT && (ret = ensure_tracefs(d))) {
		snprintf(why, len, "%s needs tracefs, and mounting it on " TRACEFS " failed: %s",
			 what, vx_strerror(ret));
		goto err;
	}
	ret = vx_drops__load(d->skel);
	if (ret) {
		snprintf(why, len, "the kernel refused to load %s: %s", what, vx_strerror(ret));
		goto err;
	}
	for (int i = 0; i < n_scope; i++) {
		ret = bpf_map__update_elem(d->skel->maps.vxd_scope, &scope[i], sizeof(scope[i]),
					   &one, sizeof(one), BPF_ANY);
		if (ret) {
			snprintf(why, len, "filling the scope map: %s", vx_strerror(ret));
			goto err;
		}
	}
	d->link = bpf_program__attach(prog);
	if (!d->link) {
		ret = -errno;
		snprintf(why, len, "the kernel refused to attach %s: %s%s", what, vx_strerror(ret),
			 be == BE_KPROBE ? " (this kernel has no kprobes: CONFIG_KPROBES is off)" : "");
		goto err;
	}
	d->backend = what;
	return 0;
err:
	vx_drops__destroy(d->skel);
	d->skel = NULL;
	return ret;
}

static int open_backend(struct drops *d, const struct vxd_config *cfg,
			const struct vxd_scope_key *scope, int n_scope)
{
	static const int order_auto[] = { BE_FENTRY, BE_KPROBE, BE_TP_BTF, BE_TRACEPOINT };
	static const int order_fentry[] = { BE_FENTRY };
	static const int order_kprobe[] = { BE_KPROBE };
	static const int order_tp[] = { BE_TP_BTF, BE_TRACEPOINT };
	const int *order;
	char why[4][256];
	int n, ret = -ENOENT;

	switch (d->o->backend) {
	case VX_BACKEND_FENTRY: order = order_fentry; n = 1; break;
	case VX_BACKEND_KPROBE: order = order_kprobe; n = 1; break;
	case VX_BACKEND_TRACEPOINT: order = order_tp; n = 2; break;
	default: order = order_auto; n = 4; break;
	}
	for (int i = 0; i < n; i++) {
		/* Test knob: prove the classic-tracepoint fallback on kernels
		 * where tp_btf works. */
		if (order[i] == BE_TP_BTF && getenv("VXRAY_DROPS_NO_TP_BTF")) {
			snprintf(why[i], sizeof(why[i]), "skipped (VXRAY_DROPS_NO_TP_BTF)");
			continue;
		}
		ret = try_backend(d, order[i], cfg, scope, n_scope, why[i], sizeof(why[i]));
		if (!ret) {
			pr_debug("drops: attached %s", d->backend);
			return 0;
		}
		pr_debug("drops: backend %s: %s", be_names[order[i]], why[i]);
	}
	if (n == 1)
		pr_err("the %s backend cannot run here: %s; use --backend tracepoint or leave --backend out",
		       be_names[order[0]], why[0]);
	else
		pr_err("no drop probe could be attached (last: %s): `vxray doctor` shows what this kernel allows",
		       why[n - 1]);
	return ret;
}

static void close_all(struct drops *d)
{
	ring_buffer__free(d->rb);
	bpf_link__destroy(d->link);
	vx_drops__destroy(d->skel);
	if (d->mounted_tracefs && umount2(TRACEFS, MNT_DETACH))
		pr_warn("could not unmount the tracefs vxray mounted on " TRACEFS ": %s",
			strerror(errno));
	free(d->agg);
}

int cmd_drops(struct vx_opts *o)
{
	static struct vxd_scope_key scope[VXD_MAX_SCOPE];
	struct vxd_config cfg = { .consumed_reason = ~0U, .vxlan_port = 4789 };
	struct drops d = { .o = o };
	struct vx_sysinfo si;
	struct vx_loop loop;
	struct timespec rt, mt;
	const char *priv;
	int64_t consumed;
	int n_scope = 0, ret;

	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_privilege_problem(&si);
	if (priv) {
		pr_err("%s", priv);
		return VX_EXIT_FAIL;
	}
	load_ns_names(&d);
	ret = build_scope(o, scope, &n_scope, &cfg.vxlan_port);
	if (ret)
		return VX_EXIT_FAIL;
	cfg.scoped = n_scope > 0;
	cfg.stack = o->stack;
	if (!vx_btf_enum_value("skb_drop_reason", "SKB_CONSUMED", &consumed))
		cfg.consumed_reason = (uint32_t)consumed;
	vx_ksyms_load();

	ret = open_backend(&d, &cfg, scope, n_scope);
	if (ret)
		return VX_EXIT_FAIL;
	d.rb = ring_buffer__new(bpf_map__fd(d.skel->maps.vxd_rb), on_event, &d, NULL);
	if (!d.rb) {
		pr_err("cannot read the drop ring buffer: %s", vx_strerror(-errno));
		ret = -errno;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	d.mono_to_real = (rt.tv_sec - mt.tv_sec) * NSEC_PER_SEC + rt.tv_nsec - mt.tv_nsec;
	d.last_tick = vx_now_ns();

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &d);
	if (!ret)
		ret = vx_loop_add_ringbuf(&loop, d.rb);
	if (ret) {
		pr_err("cannot set up the event loop: %s", vx_strerror(ret));
		vx_loop_close(&loop);
		goto out;
	}
	pr_info("tracing drops with %s in %s; Ctrl-C to stop", d.backend,
		n_scope ? "the chosen namespaces/devices" : "every namespace");
	ret = vx_loop_run(&loop);
	vx_loop_close(&loop);
	if (ret)
		pr_err("drop tracing stopped early: %s", vx_strerror(ret));
out:
	close_all(&d);
	return ret ? VX_EXIT_FAIL : VX_EXIT_OK;
}
