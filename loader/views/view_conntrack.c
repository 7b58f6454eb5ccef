// SPDX-License-Identifier: GPL-2.0-only
/* `vxray conntrack`: conntrack table pressure per network namespace, every
 * interval: new, confirmed and destroyed entries by L4 protocol, table
 * count against its max, the kernel's failure counters, and an ALERT line
 * when the table is full or failures rise. The engine is conntrack.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "conntrack.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "mexport.h"
#include "names.h"
#include "netns.h"
#include "sysinfo.h"
#include "view.h"

struct view {
	struct vx_opts *o;
	struct vx_ct *ct;
	struct vx_ct_snapshot snap;
	struct vx_view view; /* privileges, --metrics, --pcap */
	int err;
};

static bool add_name(char names[][VX_NETNS_NAME_MAX], int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(names[i], name))
			return true;
	if (*n >= VX_MAX_NETNS)
		return false;
	snprintf(names[(*n)++], VX_NETNS_NAME_MAX, "%s", name);
	return true;
}

/* --netns and the -i namespaces; --auto narrows to the namespaces holding a
 * VXLAN device; nothing: this namespace and every named one. */
static int pick_namespaces(const struct vx_opts *o, char names[][VX_NETNS_NAME_MAX])
{
	static char cand[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	struct vx_inventory inv = {};
	char err[256];
	int n = 0, nc = 0, ret;

	for (int i = 0; i < o->n_netns; i++)
		add_name(cand, &nc, o->netns[i]);
	for (int i = 0; i < o->n_ifaces; i++) {
		int ifindex;

		/* Conntrack is per namespace, but a named interface that is
		 * not there is still a mistake worth a sentence. */
		if ((ret = vx_iface_resolve(&o->ifaces[i], &ifindex, err, sizeof(err)))) {
			pr_err("%s", err);
			return ret;
		}
		add_name(cand, &nc, o->ifaces[i].netns);
	}
	for (int i = 0; i < nc; i++) {
		if ((ret = vx_netns_check(cand[i], err, sizeof(err)))) {
			pr_err("%s", err);
			return ret;
		}
	}
	if (!nc) {
		cand[nc++][0] = '\0';
		nc += vx_netns_list(cand + 1, VX_MAX_NETNS - 1);
	}
	if (!o->auto_attach) {
		memcpy(names, cand, sizeof(cand[0]) * nc);
		return nc;
	}
	for (int i = 0; i < nc; i++)
		if (vx_inventory_collect(&inv, cand[i]))
			pr_debug("--auto: cannot list VXLAN devices in namespace %s",
				 vx_ns_label_of(cand[i]));
	for (int i = 0; i < inv.n; i++)
		add_name(names, &n, inv.devs[i].netns);
	vx_inventory_free(&inv);
	if (!n) {
		pr_err("--auto found no VXLAN device in the chosen namespaces: name them with --netns");
		return -ENOENT;
	}
	return n;
}

/* "udp=30 tcp=2", or "0". */
static void fmt_by_l4(const uint64_t *v, char *buf, size_t len)
{
	int off = 0;

	buf[0] = '\0';
	for (int l = 0; l < VX_CT_L4__MAX && off < (int)len; l++)
		if (v[l])
			off += snprintf(buf + off, len - off, "%s%s=%llu", off ? "," : "",
					vx_ct_l4_name(l), (unsigned long long)v[l]);
	if (!off)
		snprintf(buf, len, "0");
}

static void json_by_l4(struct jw *w, const char *key, const uint64_t *v)
{
	jw_obj_open(w, key);
	for (int l = 0; l < VX_CT_L4__MAX; l++)
		jw_uint(w, vx_ct_l4_name(l), v[l]);
	jw_obj_close(w);
}

static void print_json(const struct vx_ct_snapshot *s, const struct vx_ct_ns *ns, const char *ts)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_record(&w, "conntrack");
	jw_str(&w, "time", ts);
	jw_double(&w, "interval_s", s->interval_s);
	jw_str(&w, "netns", vx_ns_label_of(ns->netns));
	jw_uint(&w, "netns_inum", ns->inum);
	jw_str(&w, "backend", s->backend);
	json_by_l4(&w, "new", ns->new);
	json_by_l4(&w, "confirmed", ns->confirmed);
	json_by_l4(&w, "destroyed", ns->destroyed);
	if (ns->have_count) {
		jw_uint(&w, "entries", ns->count);
		jw_uint(&w, "max_entries", ns->max);
		jw_double(&w, "fill_pct", ns->fill_pct);
	} else {
		jw_null(&w, "entries");
		jw_null(&w, "max_entries");
		jw_null(&w, "fill_pct");
	}
	if (s->alloc_failed_known)
		jw_uint(&w, "alloc_failed", ns->alloc_failed);
	else
		jw_null(&w, "alloc_failed");
	jw_uint(&w, "insert_failed", ns->insert_failed);
	jw_uint(&w, "drop", ns->drop);
	jw_uint(&w, "early_drop", ns->early_drop);
	jw_uint(&w, "lost", s->lost);
	jw_bool(&w, "alert", ns->alert);
	if (ns->alert)
		jw_str(&w, "why", ns->alert_why);
	jw_obj_close(&w);
	jw_end_line(&w);
}

static void print_text(const struct vx_ct_snapshot *s, const struct vx_ct_ns *ns, const char *ts)
{
	char nb[128], cb[128], db[128], af[32] = "n/a", tbl[64] = "count ? (unreadable)";

	fmt_by_l4(ns->new, nb, sizeof(nb));
	fmt_by_l4(ns->confirmed, cb, sizeof(cb));
	fmt_by_l4(ns->destroyed, db, sizeof(db));
	if (s->alloc_failed_known)
		snprintf(af, sizeof(af), "%llu", (unsigned long long)ns->alloc_failed);
	if (ns->have_count)
		snprintf(tbl, sizeof(tbl), "count=%u max=%u fill=%.1f%%", ns->count, ns->max,
			 ns->fill_pct);
	printf("%s CT netns=%s %s new=%s confirmed=%s destroyed=%s alloc_failed=%s insert_failed=%llu drop=%llu early_drop=%llu\n",
	       ts, vx_ns_label_of(ns->netns), tbl, nb, cb, db, af,
	       (unsigned long long)ns->insert_failed, (unsigned long long)ns->drop,
	       (unsigned long long)ns->early_drop);
	if (ns->alert)
		printf("%s ALERT netns=%s conntrack %s; raise net.netfilter.nf_conntrack_max or shorten the conntrack timeouts\n",
		       ts, vx_ns_label_of(ns->netns), ns->alert_why);
}

static void on_tick(void *ctx, uint64_t now)
{
	struct view *v = ctx;
	char ts[32];
	int ret;

	ret = vx_ct_snapshot(v->ct, &v->snap);
	if (ret == -ENOMEM) {
		v->err = ret;
		return;
	}
	vx_mexport_begin(v->view.me);
	vx_mexport_conntrack(v->view.me, &v->snap);
	vx_mexport_end(v->view.me);
	vx_fmt_wallclock(now + vx_mono_to_real(), 0, ts, sizeof(ts));
	for (int i = 0; i < v->snap.n; i++) {
		if (v->o->json)
			print_json(&v->snap, &v->snap.ns[i], ts);
		else
			print_text(&v->snap, &v->snap.ns[i], ts);
	}
	if (v->snap.lost)
		pr_warn("%llu conntrack event bursts or counts were lost this interval (%llu in all): the new/destroyed figures are low, the table and failure counters are exact",
			(unsigned long long)v->snap.lost, (unsigned long long)v->snap.total_lost);
	fflush(stdout);
}

int cmd_conntrack(struct vx_opts *o)
{
	static char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	struct view v = { .o = o };
	struct vx_loop loop;
	char err[512];
	int n, ret;

	n = pick_namespaces(o, names);
	if (n < 0)
		return vx_exit_code(n);
	if ((ret = vx_view_open(&v.view, o, VX_VIEW_BTF_OPTIONAL)))
		return ret;
	/* ctnetlink needs no BTF, so conntrack still runs: say what is lost. */
	if (!v.view.si.btf)
		pr_warn("%s; conntrack falls back to ctnetlink events, which cannot see refused "
			"allocations",
			vx_sysinfo_btf_problem(&v.view.si));
	ret = vx_ct_open(&v.ct, names, n, err, sizeof(err));
	if (!ret)
		ret = vx_ct_attach(v.ct, o->backend, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		vx_ct_close(v.ct);
		vx_view_close(&v.view, false, 0);
		return VX_EXIT_FAIL;
	}
	vx_mexport_begin(v.view.me);
	vx_mexport_backend(v.view.me, "conntrack", vx_ct_backend(v.ct));
	vx_mexport_end(v.view.me);
	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &v);
	if (!ret)
		ret = vx_ct_add_to_loop(v.ct, &loop);
	if (ret) {
		pr_err("cannot set up the event loop: %s", vx_strerror(ret));
		goto out;
	}
	pr_info("watching conntrack in %d namespace%s with %s; Ctrl-C to stop", n,
		n == 1 ? "" : "s", vx_ct_backend(v.ct));
	ret = vx_loop_run(&loop);
	if (!ret)
		ret = v.err;
	if (ret)
		pr_err("conntrack watching stopped early: %s", vx_strerror(ret));
out:
	vx_loop_close(&loop);
	vx_view_close(&v.view, true, 0);
	vx_ct_close(v.ct);
	return ret ? VX_EXIT_FAIL : VX_EXIT_OK;
}
