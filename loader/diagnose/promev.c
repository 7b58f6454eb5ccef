// SPDX-License-Identifier: GPL-2.0-only
/* The evidence of a diagnosis, read from Prometheus; see promev.h. Every
 * query is an instant one at the same moment (promapi.c): counters as
 * increase() over the window, gauges as they are now (a device, an MTU, a
 * table's max) or at their worst in the window (a table's fill). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "inventory.h"
#include "promev.h"

/* Where the series came from: one agent's namespace. */
#define BY_PLACE "node, instance, netns"

#define MAX_DEVS 256
#define MAX_REMOTES 1024

struct dev {
	int place;
	char device[16], underlay[16];
	bool external;
	uint32_t vni;
	uint16_t dstport;
	char local[46], remote[46];
	uint32_t mtu, underlay_mtu;
};

struct remote {
	int dev;
	char addr[46];
};

struct ctx {
	struct vx_prom *p;
	struct vx_promev *pe;
	struct vx_evidence *ev;
	char *err;
	size_t errlen;
	char win[32]; /* the window as PromQL writes it: "300s" */
	struct dev devs[MAX_DEVS];
	int n_devs;
	struct remote remotes[MAX_REMOTES];
	int n_remotes;
	bool full_places, full_tun, full_drops;
};

__attribute__((format(printf, 2, 3))) static void note(struct vx_promev *pe, const char *fmt, ...)
{
	va_list ap;

	if (pe->n_notes >= VX_PROMEV_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(pe->notes[pe->n_notes++], VX_PROMEV_NOTE_LEN, fmt, ap);
	va_end(ap);
}

/* The query @fmt (its one %s the window) evaluated; NULL after the error
 * sentence is in c->err. */
__attribute__((format(printf, 2, 3))) static json_t *query(struct ctx *c, const char *fmt, ...)
{
	char promql[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(promql, sizeof(promql), fmt, ap);
	va_end(ap);
	return vx_prom_query(c->p, promql, c->err, c->errlen);
}

static uint64_t count_of(json_t *s)
{
	double v = vx_prom_value(s);

	return isfinite(v) && v > 0 ? (uint64_t)llround(v) : 0;
}

/* The node a sample is from: its `node` label, else its `instance`. */
static const char *node_of(json_t *s, const char **label)
{
	const char *n = vx_prom_label(s, "node");

	*label = "node";
	if (n[0])
		return n;
	*label = "instance";
	return vx_prom_label(s, "instance");
}

/* The place of sample @s, added when new; -1 when there is no room. */
static int place_of(struct ctx *c, json_t *s)
{
	struct vx_promev *pe = c->pe;
	const char *label, *node = node_of(s, &label), *ns = vx_prom_label(s, "netns");
	struct vx_promev_place *pl;

	for (int i = 0; i < pe->n_places; i++)
		if (!strcmp(pe->places[i].node, node) && !strcmp(pe->places[i].netns, ns))
			return i;
	if (pe->n_places >= VX_MAX_NETNS) {
		if (!c->full_places)
			note(pe,
			     "more than %d namespaces report series: the others are left out "
			     "(--node narrows the diagnosis)",
			     VX_MAX_NETNS);
		c->full_places = true;
		return -1;
	}
	pl = &pe->places[pe->n_places];
	snprintf(pl->node, sizeof(pl->node), "%s", node);
	snprintf(pl->node_label, sizeof(pl->node_label), "%s", label);
	snprintf(pl->netns, sizeof(pl->netns), "%s", ns);
	if (snprintf(pl->name, sizeof(pl->name), "%s/%s", node, ns[0] ? ns : "host") >=
	    (int)sizeof(pl->name))
		note(pe, "the place %s/%s is shortened to %s in what follows", node, ns, pl->name);
	return pe->n_places++;
}

static struct dev *dev_of(struct ctx *c, int place, const char *device)
{
	for (int i = 0; i < c->n_devs; i++)
		if (c->devs[i].place == place && !strcmp(c->devs[i].device, device))
			return &c->devs[i];
	return NULL;
}

/* The known device sample @s is about, or NULL. */
static struct dev *dev_of_sample(struct ctx *c, json_t *s)
{
	int pl = place_of(c, s);

	return pl < 0 ? NULL : dev_of(c, pl, vx_prom_label(s, "device"));
}

/* Each known device's MTU, or with @underlay its underlay's. */
static int read_mtu(struct ctx *c, bool underlay)
{
	json_t *r = query(c, "%s",
			  underlay ? "vxray_vxlan_underlay_mtu_bytes" :
				     "vxray_vxlan_device_mtu_bytes"),
	       *s;
	size_t i;

	if (!r)
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
	{
		struct dev *d = dev_of_sample(c, s);

		if (d)
			*(underlay ? &d->underlay_mtu : &d->mtu) = (uint32_t)count_of(s);
	}
	return 0;
}

/* A VTEP label's value, "" for "none". */
static void vtep(char *out, size_t len, const char *v)
{
	snprintf(out, len, "%s", strcmp(v, "none") ? v : "");
}

static int read_devices(struct ctx *c)
{
	json_t *r = query(c, "vxray_vxlan_device_info"), *s;
	size_t i;

	if (!r)
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
	{
		int pl = place_of(c, s);
		struct dev *d;

		if (pl < 0 || c->n_devs >= MAX_DEVS)
			continue;
		d = &c->devs[c->n_devs++];
		d->place = pl;
		snprintf(d->device, sizeof(d->device), "%s", vx_prom_label(s, "device"));
		snprintf(d->underlay, sizeof(d->underlay), "%s", vx_prom_label(s, "underlay"));
		d->external = strcmp(vx_prom_label(s, "mode"), "classic") != 0;
		d->vni = d->external ? 0 : (uint32_t)strtoul(vx_prom_label(s, "vni"), NULL, 10);
		d->dstport = (uint16_t)strtoul(vx_prom_label(s, "dstport"), NULL, 10);
		vtep(d->local, sizeof(d->local), vx_prom_label(s, "local_vtep"));
		vtep(d->remote, sizeof(d->remote), vx_prom_label(s, "remote_vtep"));
	}
	if (read_mtu(c, false))
		return -EHOSTUNREACH;
	return read_mtu(c, true);
}

static void add_remote(struct ctx *c, int dev, const char *addr)
{
	if (!addr[0] || !strcmp(addr, "none"))
		return;
	for (int i = 0; i < c->n_remotes; i++)
		if (c->remotes[i].dev == dev && !strcmp(c->remotes[i].addr, addr))
			return;
	if (c->n_remotes >= MAX_REMOTES)
		return;
	c->remotes[c->n_remotes].dev = dev;
	snprintf(c->remotes[c->n_remotes++].addr, sizeof(c->remotes[0].addr), "%s", addr);
}

static struct vx_ev_tunnel *new_tunnel(struct ctx *c, const struct dev *d, const char *remote)
{
	struct vx_evidence *ev = c->ev;
	struct vx_ev_tunnel *t;
	struct vx_vxlan_dev v = { 0 };

	if (ev->n_tun >= VX_EV_MAX_TUN) {
		if (!c->full_tun)
			note(c->pe,
			     "more than %d tunnels (device, remote VTEP) report series: the others "
			     "are left out (--node narrows the diagnosis)",
			     VX_EV_MAX_TUN);
		c->full_tun = true;
		return NULL;
	}
	t = &ev->tun[ev->n_tun++];
	snprintf(t->netns, sizeof(t->netns), "%s", c->pe->places[d->place].name);
	snprintf(t->device, sizeof(t->device), "%s", d->device);
	snprintf(t->underlay, sizeof(t->underlay), "%s", d->underlay);
	t->vni = d->vni;
	t->external = d->external;
	snprintf(t->local, sizeof(t->local), "%s", d->local);
	snprintf(t->remote, sizeof(t->remote), "%s", remote);
	t->dstport = d->dstport;
	t->mtu = d->mtu;
	t->underlay_mtu = d->underlay_mtu;
	/* vx_mtu_problem() words it from what an inventory would hold. */
	snprintf(v.netns, sizeof(v.netns), "%s", t->netns);
	snprintf(v.name, sizeof(v.name), "%s", d->device);
	snprintf(v.underlay, sizeof(v.underlay), "%s", d->underlay);
	v.mtu = d->mtu;
	v.underlay_mtu = d->underlay_mtu;
	v.local_family = strchr(d->local, ':') ? AF_INET6 : d->local[0] ? AF_INET : 0;
	t->mtu_bad = vx_mtu_problem(&v, t->mtu_msg, sizeof(t->mtu_msg));
	t->peer = -1;
	return t;
}

/* One tunnel per (device, remote VTEP): its own remote, its FDB's and its
 * routes' (vxray_vxlan_remote_info), and those its packets went to or came
 * from; a device with none is one tunnel without a remote. */
static int read_tunnels(struct ctx *c)
{
	json_t *r, *s;
	size_t i;

	for (int d = 0; d < c->n_devs; d++)
		add_remote(c, d, c->devs[d].remote);
	if (!(r = query(c, "vxray_vxlan_remote_info")))
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
	{
		struct dev *d = dev_of_sample(c, s);

		if (d)
			add_remote(c, (int)(d - c->devs), vx_prom_label(s, "remote_vtep"));
	}
	r = query(c,
		  "sum by (" BY_PLACE ", device, remote_vtep, direction) "
		  "(increase(vxray_tunnel_packets_total[%s]))",
		  c->win);
	if (!r)
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
	{
		struct dev *d = dev_of_sample(c, s);

		if (d && count_of(s))
			add_remote(c, (int)(d - c->devs), vx_prom_label(s, "remote_vtep"));
	}
	for (int d = 0; d < c->n_devs; d++) {
		bool any = false;

		for (int k = 0; k < c->n_remotes; k++)
			if (c->remotes[k].dev == d) {
				any = true;
				new_tunnel(c, &c->devs[d], c->remotes[k].addr);
			}
		if (!any)
			new_tunnel(c, &c->devs[d], "");
	}
	json_array_foreach(r, i, s)
	{
		int pl = place_of(c, s);
		const char *dev = vx_prom_label(s, "device"),
			   *rem = vx_prom_label(s, "remote_vtep");
		bool encap = !strcmp(vx_prom_label(s, "direction"), "encap");

		for (int t = 0; pl >= 0 && t < c->ev->n_tun; t++) {
			struct vx_ev_tunnel *x = &c->ev->tun[t];

			if (strcmp(x->netns, c->pe->places[pl].name) || strcmp(x->device, dev) ||
			    (x->remote[0] && strcmp(x->remote, rem)))
				continue;
			*(encap ? &x->encap : &x->decap) += count_of(s);
			break;
		}
	}
	return 0;
}

/* Whether rule text @rule matches UDP destination port @port: iptables'
 * "--dport 4789", nftables' "udp dport 4789". */
static bool names_port(const char *rule, uint16_t port)
{
	for (const char *p = strstr(rule, "dport"); p; p = strstr(p + 5, "dport")) {
		const char *v = p + 5;
		char *end;

		while (*v == ' ' || *v == '=')
			v++;
		if (isdigit((unsigned char)*v) && strtoul(v, &end, 10) == port &&
		    !isdigit((unsigned char)*end) && *end != ':' && *end != '-')
			return true;
	}
	return false;
}

/* Whether @rule names interface @dev as a word ("-i vxlan100",
 * iifname "vxlan100"). */
static bool names_dev(const char *rule, const char *dev)
{
	size_t n = strlen(dev);

	for (const char *p = strstr(rule, dev); n && p; p = strstr(p + 1, dev)) {
		char before = p == rule ? ' ' : p[-1], after = p[n];

		if ((before == ' ' || before == '"') && (!after || after == ' ' || after == '"'))
			return true;
	}
	return false;
}

static struct vx_ev_drop *new_drop(struct ctx *c, int place, const char *reason, uint64_t n)
{
	struct vx_evidence *ev = c->ev;
	struct vx_ev_drop *x;

	if (ev->n_drops >= VX_EV_MAX_DROPS) {
		if (!c->full_drops)
			note(c->pe, "more than %d kinds of drops: the others are left out",
			     VX_EV_MAX_DROPS);
		c->full_drops = true;
		return NULL;
	}
	x = &ev->drops[ev->n_drops++];
	snprintf(x->netns, sizeof(x->netns), "%s", c->pe->places[place].name);
	snprintf(x->reason, sizeof(x->reason), "%s", reason);
	x->count = n;
	return x;
}

/* The rules' own counters first: they say which rule and, by what it
 * matches, which traffic. The kernel's NETFILTER_DROP count beyond theirs
 * is drops no counted rule names (conntrack, rules without counters). */
static int read_drops(struct ctx *c)
{
	uint64_t by_rules[VX_MAX_NETNS] = { 0 }, neigh[VX_MAX_NETNS] = { 0 };
	json_t *r, *s;
	size_t i;

	r = query(c,
		  "sum by (" BY_PLACE ", family, table, chain, rule, verdict) "
		  "(increase(vxray_netfilter_drops_total[%s])) > 0",
		  c->win);
	if (!r)
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
	{
		int pl = place_of(c, s);
		const char *rule = vx_prom_label(s, "rule");
		bool outer = false, overlay = false;
		struct vx_ev_drop *x;

		if (pl < 0 || !count_of(s) || !(x = new_drop(c, pl, "NETFILTER_DROP", count_of(s))))
			continue;
		by_rules[pl] += x->count;
		if (!strcmp(rule, "policy"))
			snprintf(x->rule, sizeof(x->rule), "policy %s of %s %s/%s",
				 vx_prom_label(s, "verdict"), vx_prom_label(s, "family"),
				 vx_prom_label(s, "table"), vx_prom_label(s, "chain"));
		else if (!strncmp(rule, "-A ", 3))
			snprintf(x->rule, sizeof(x->rule), "%s", rule);
		else
			snprintf(x->rule, sizeof(x->rule), "%s %s/%s: %s",
				 vx_prom_label(s, "family"), vx_prom_label(s, "table"),
				 vx_prom_label(s, "chain"), rule);
		for (int d = 0; d < c->n_devs; d++) {
			if (c->devs[d].place != pl)
				continue;
			outer |= names_port(rule, c->devs[d].dstport);
			overlay |= names_dev(rule, c->devs[d].device);
		}
		x->outer = outer && !overlay;
		x->side_unknown = outer == overlay;
	}
	r = query(c,
		  "sum by (" BY_PLACE ", reason, location) (increase(vxray_drops_total[%s])) > 0",
		  c->win);
	if (!r)
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
	{
		int pl = place_of(c, s);
		const char *reason = vx_prom_label(s, "reason"),
			   *loc = vx_prom_label(s, "location");
		uint64_t n = count_of(s);
		struct vx_ev_drop *x;

		if (pl < 0 || !n)
			continue;
		if (!strcmp(reason, "NETFILTER_DROP")) {
			uint64_t named = by_rules[pl] < n ? by_rules[pl] : n;

			by_rules[pl] -= named;
			if (!(n -= named))
				continue;
		} else if (!strncmp(reason, "NEIGH_", 6)) {
			/* On the VXLAN device they are the overlay's own ARP;
			 * on the underlay, a remote VTEP unresolved. The
			 * series do not say which device. */
			neigh[pl] += n;
			continue;
		}
		if (!(x = new_drop(c, pl, reason, n)))
			continue;
		snprintf(x->location, sizeof(x->location), "%s", strcmp(loc, "unknown") ? loc : "");
		x->side_unknown = !strcmp(reason, "NETFILTER_DROP");
	}
	for (int pl = 0; pl < c->pe->n_places; pl++)
		if (neigh[pl])
			note(c->pe,
			     "%llu neighbour-resolution drops (NEIGH_*) in %s are not judged: the "
			     "series do not say on which device; `vxray drops --netns %s` on %s does",
			     (unsigned long long)neigh[pl], c->pe->places[pl].name,
			     c->pe->places[pl].netns[0] ? c->pe->places[pl].netns : "host",
			     c->pe->places[pl].node);
	return 0;
}

static struct vx_ev_ct *ct_of(struct ctx *c, json_t *s)
{
	struct vx_evidence *ev = c->ev;
	int pl = place_of(c, s);

	if (pl < 0)
		return NULL;
	for (int i = 0; i < ev->n_ct; i++)
		if (!strcmp(ev->ct[i].netns, c->pe->places[pl].name))
			return &ev->ct[i];
	if (ev->n_ct >= VX_MAX_NETNS)
		return NULL;
	snprintf(ev->ct[ev->n_ct].netns, VX_NETNS_NAME_MAX, "%s", c->pe->places[pl].name);
	return &ev->ct[ev->n_ct++];
}

static int read_conntrack(struct ctx *c)
{
	static const char *const fails[] = { "insert_failed", "drops", "early_drops" };
	json_t *r, *s;
	size_t i;

	/* The table at its fullest during the window, against its max now. */
	if (!(r = query(c, "max_over_time(vxray_conntrack_entries[%s])", c->win)))
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
	{
		struct vx_ev_ct *ct = ct_of(c, s);

		if (ct)
			ct->count = (uint32_t)count_of(s);
	}
	if (!(r = query(c, "vxray_conntrack_entries_max")))
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
	{
		struct vx_ev_ct *ct = ct_of(c, s);

		if (ct)
			ct->max = (uint32_t)count_of(s);
	}
	for (int f = 0; f < 3; f++) {
		r = query(c, "sum by (" BY_PLACE ") (increase(vxray_conntrack_%s_total[%s]))",
			  fails[f], c->win);
		if (!r)
			return -EHOSTUNREACH;
		json_array_foreach(r, i, s)
		{
			struct vx_ev_ct *ct = ct_of(c, s);

			if (ct)
				*(f == 0 ? &ct->insert_failed :
				  f == 1 ? &ct->drop :
					   &ct->early_drop) = count_of(s);
		}
	}
	return 0;
}

/* TCP retransmits per device, on each of its tunnels: the MTU verdict's
 * fingerprint. */
static int read_retrans(struct ctx *c)
{
	json_t *r, *s;
	size_t i;

	for (int pass = 0; pass < 2; pass++) {
		r = pass ? query(c,
				 "sum by (" BY_PLACE ", device) "
				 "(increase(vxray_tcp_synack_retransmits_total[%s])) > 0",
				 c->win) :
			   query(c,
				 "sum by (" BY_PLACE ", device, size) "
				 "(increase(vxray_tcp_retransmits_total[%s])) > 0",
				 c->win);
		if (!r)
			return -EHOSTUNREACH;
		json_array_foreach(r, i, s)
		{
			int pl = place_of(c, s);
			bool full = !strcmp(vx_prom_label(s, "size"), "full");

			for (int t = 0; pl >= 0 && t < c->ev->n_tun; t++) {
				struct vx_ev_tunnel *x = &c->ev->tun[t];

				if (strcmp(x->netns, c->pe->places[pl].name) ||
				    strcmp(x->device, vx_prom_label(s, "device")))
					continue;
				*(pass ? &x->rt_synack :
				  full ? &x->rt_full :
					 &x->rt_small) = count_of(s);
			}
		}
	}
	return 0;
}

static struct vx_ev_lat *lat_of(struct ctx *c, json_t *s)
{
	struct vx_evidence *ev = c->ev;
	const char *dev = vx_prom_label(s, "device"), *stage = vx_prom_label(s, "stage");
	int pl = place_of(c, s);
	struct vx_ev_lat *l;

	if (pl < 0)
		return NULL;
	for (int i = 0; i < ev->n_lat; i++) {
		l = &ev->lat[i];
		if (!strcmp(l->netns, c->pe->places[pl].name) && !strcmp(l->device, dev) &&
		    !strcmp(l->stage, stage))
			return l;
	}
	if (ev->n_lat >= VX_EV_MAX_LAT)
		return NULL;
	l = &ev->lat[ev->n_lat++];
	snprintf(l->netns, sizeof(l->netns), "%s", c->pe->places[pl].name);
	snprintf(l->device, sizeof(l->device), "%s", dev);
	snprintf(l->stage, sizeof(l->stage), "%s", stage);
	snprintf(l->base_from, sizeof(l->base_from), "the same %s an hour earlier", c->win);
	return l;
}

/* Each stage's median and 90th percentile from its histogram buckets (as
 * precise as the buckets: each power of four), now and an hour earlier. */
static int read_latency(struct ctx *c)
{
	static const char *const at[] = { "", " offset 1h" };
	json_t *r, *s;
	size_t i;

	for (int b = 0; b < 2; b++) {
		r = query(c,
			  "sum by (" BY_PLACE ", device, stage) "
			  "(increase(vxray_latency_seconds_count[%s]%s)) > 0",
			  c->win, at[b]);
		if (!r)
			return -EHOSTUNREACH;
		json_array_foreach(r, i, s)
		{
			struct vx_ev_lat *l = b ? NULL : lat_of(c, s);

			if (l)
				l->samples = count_of(s);
		}
		for (int q = 0; q < 2; q++) {
			r = query(c,
				  "histogram_quantile(%s, sum by (" BY_PLACE ", device, stage, le) "
				  "(rate(vxray_latency_seconds_bucket[%s]%s)))",
				  q ? "0.9" : "0.5", c->win, at[b]);
			if (!r)
				return -EHOSTUNREACH;
			json_array_foreach(r, i, s)
			{
				double v = vx_prom_value(s) * 1e6;
				struct vx_ev_lat *l;

				if (!isfinite(v) || !(l = lat_of(c, s)) || !l->samples)
					continue;
				if (b) {
					l->has_base = true;
					*(q ? &l->base_p90_us : &l->base_p50_us) = v;
				} else {
					*(q ? &l->p90_us : &l->p50_us) = v;
				}
			}
		}
	}
	return 0;
}

/* What may make the evidence incomplete: an agent that stopped answering,
 * events lost, a probe running on nothing. */
static int read_health(struct ctx *c)
{
	const char *label;
	json_t *r, *s;
	size_t i;

	r = query(c, "(up == 0) and on (instance) max_over_time(vxray_build_info[1h])");
	if (!r)
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
		note(c->pe,
		     "the agent of %s (%s) does not answer Prometheus' scrapes: its series are "
		     "missing from this diagnosis",
		     node_of(s, &label), vx_prom_label(s, "instance"));
	r = query(c, "sum by (node, instance, source) (increase(vxray_events_lost_total[%s])) > 0",
		  c->win);
	if (!r)
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s) note(
		c->pe,
		"the agent of %s lost %llu %s events (ring buffer full): counts stay exact, "
		"drop locations may be missing",
		node_of(s, &label), (unsigned long long)count_of(s), vx_prom_label(s, "source"));
	if (!(r = query(c, "vxray_probe_backend_info{backend=\"none\"} == 1")))
		return -EHOSTUNREACH;
	json_array_foreach(r, i, s)
		note(c->pe,
		     "the agent of %s runs its %s probe on nothing (the kernel refused every "
		     "backend): its series stay empty",
		     node_of(s, &label), vx_prom_label(s, "probe"));
	return 0;
}

/* ---- --node ------------------------------------------------------------------ */

int vx_promev_place(const struct vx_promev *pe, const char *name)
{
	for (int i = 0; i < pe->n_places; i++)
		if (!strcmp(pe->places[i].name, name))
			return i;
	return -1;
}

static bool kept(const struct vx_promev *pe, const bool *keep, const char *name)
{
	int i = vx_promev_place(pe, name);

	return i >= 0 && keep[i];
}

/* Keep --node's places and those of the nodes at the far ends of its
 * tunnels; everything else goes. */
static int narrow(struct ctx *c)
{
	struct vx_promev *pe = c->pe;
	struct vx_evidence *ev = c->ev;
	bool node_keep[VX_MAX_NETNS] = { false }, keep[VX_MAX_NETNS] = { false }, any = false;
	char seen[512] = "";
	int n;

	for (int i = 0; i < pe->n_places; i++) {
		any |= node_keep[i] = !strcmp(pe->places[i].node, pe->node);
		if (!strstr(seen, pe->places[i].node) && strlen(seen) + 130 < sizeof(seen))
			snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s",
				 seen[0] ? ", " : "", pe->places[i].node);
	}
	if (!any) {
		snprintf(c->err, c->errlen,
			 "Prometheus at %s has no vxray series from node '%s' in the last %s (the "
			 "nodes it has: %s)",
			 vx_prom_url(c->p), pe->node, c->win, seen[0] ? seen : "none");
		return -ENOENT;
	}
	for (int t = 0; t < ev->n_tun; t++) {
		int a = vx_promev_place(pe, ev->tun[t].netns), b;

		if (ev->tun[t].peer < 0 || a < 0 ||
		    (b = vx_promev_place(pe, ev->tun[ev->tun[t].peer].netns)) < 0)
			continue;
		if (node_keep[a] || node_keep[b])
			keep[a] = keep[b] = true;
	}
	for (int i = 0; i < pe->n_places; i++)
		keep[i] |= node_keep[i];
	/* The far end's node: all of its places. */
	for (int i = 0; i < pe->n_places; i++)
		for (int k = 0; k < pe->n_places; k++)
			if (keep[k] && !strcmp(pe->places[i].node, pe->places[k].node))
				keep[i] = true;
/* Keep the rows of @arr (@n of them) whose place is kept. */
#define KEEP_PLACED(arr, n)                                                                        \
	do {                                                                                       \
		int m_ = 0;                                                                        \
		for (int i_ = 0; i_ < (n); i_++)                                                   \
			if (kept(pe, keep, (arr)[i_].netns))                                       \
				(arr)[m_++] = (arr)[i_];                                           \
		(n) = m_;                                                                          \
	} while (0)
	KEEP_PLACED(ev->tun, ev->n_tun);
	KEEP_PLACED(ev->drops, ev->n_drops);
	KEEP_PLACED(ev->ct, ev->n_ct);
	KEEP_PLACED(ev->lat, ev->n_lat);
#undef KEEP_PLACED
	n = 0;
	for (int i = 0; i < pe->n_places; i++)
		if (keep[i])
			pe->places[n++] = pe->places[i];
	pe->n_places = n;
	vx_ev_pair_tunnels(ev);
	return 0;
}

int vx_promev_fill(struct vx_prom *p, struct vx_promev *pe, struct vx_evidence *ev, char *err,
		   size_t errlen)
{
	static struct ctx c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.pe = pe;
	c.ev = ev;
	c.err = err;
	c.errlen = errlen;
	snprintf(c.win, sizeof(c.win), "%llus", (unsigned long long)pe->window_s);
	ev->window_s = (double)pe->window_s;
	ev->no_underlay_rx = true;
	if ((ret = read_devices(&c)) || (ret = read_tunnels(&c)) || (ret = read_drops(&c)) ||
	    (ret = read_conntrack(&c)) || (ret = read_retrans(&c)) || (ret = read_latency(&c)) ||
	    (ret = read_health(&c)))
		return ret;
	if (!pe->n_places) {
		snprintf(err, errlen,
			 "Prometheus at %s has no vxray series in the last %s: is it scraping the "
			 "nodes' agents (`vxray agent`, docs/deploy/prometheus.yml)?",
			 vx_prom_url(p), c.win);
		return -ENOENT;
	}
	vx_ev_pair_tunnels(ev);
	if (pe->node && (ret = narrow(&c)))
		return ret;
	for (int i = 0; i < pe->n_places && i < VX_MAX_NETNS; i++)
		snprintf(ev->watched[i], VX_NETNS_NAME_MAX, "%s", pe->places[i].name);
	ev->n_watched = pe->n_places;
	return 0;
}
