// SPDX-License-Identifier: GPL-2.0-only
/* `vxray encap`: every tunnel packet at the VXLAN devices (the inner frame
 * before encapsulation and after decapsulation) and at their underlays
 * (the outer packet), one line each, and every --interval a summary per
 * (namespace, VNI, remote VTEP). The programs are bpf/tc/vx_tc.bpf.c.
 *
 * Choosing interfaces, loading and attaching (TCX links or tc filters,
 * optional XDP, following --auto devices) is loader/engines/datapath.c; this file
 * only formats what the programs report. */
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

#include "capture.h"
#include "cmd.h"
#include "datapath.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "mexport.h"
#include "names.h"
#include "netns.h"
#include "recfmt.h"
#include "record.h"
#include "sysinfo.h"
#include "view.h"
#include "vxray.h"

struct encap {
	struct vx_opts *o;
	struct vx_dp dp;
	struct vx_view view; /* privileges, --metrics, --pcap */
	bool ran;	     /* the loop ran: the capture is real */
	uint64_t mono_to_real;
	uint64_t last_cnt[VX_C__MAX];
	uint64_t events;
};

/* Addresses for the summary: family 4 or 6, "-" for none. */
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

static void on_event(void *ctx, const struct vx_event *e, const struct vx_cap *cap)
{
	struct encap *x = ctx;
	const struct vx_dp_watched *w = vx_dp_lookup(&x->dp, e->netns, e->ifindex);
	struct vx_rec_names n = { .netns = vx_ns_label(e->netns),
				  .device = w ? w->name : "?",
				  .mono_to_real = x->mono_to_real };

	x->events++;
	vx_capture_dp(x->view.cap, e, cap, n.netns, n.device, x->mono_to_real);
	vx_encap_print(stdout, x->o->json, e, &n);
}

/* ---- summaries ---------------------------------------------------------- */

/* One summary row: a (namespace, VNI, remote VTEP) of a namespace as it
 * is now, or, shown once after it ended, of one that is gone (@gone, with
 * the label it had: a namespace created since may have its inode). */
struct tun_row {
	uint32_t netns, vni;
	uint8_t remote[16];
	uint8_t family;
	bool gone;
	const char *label; /* gone rows' */
	uint64_t enc_pkts, enc_bytes, dec_pkts, dec_bytes;
};

static struct tun_row *row_for(struct tun_row *rows, int *n, int max, uint32_t netns, uint32_t vni,
			       const uint8_t *remote, uint8_t family, const char *gone)
{
	for (int i = 0; i < *n; i++)
		if (rows[i].netns == netns && rows[i].vni == vni && rows[i].family == family &&
		    !memcmp(rows[i].remote, remote, 16) && rows[i].label == gone)
			return &rows[i];
	if (*n == max)
		return NULL;
	memset(&rows[*n], 0, sizeof(rows[*n]));
	rows[*n].netns = netns;
	rows[*n].vni = vni;
	rows[*n].family = family;
	rows[*n].gone = gone != NULL;
	rows[*n].label = gone;
	memcpy(rows[*n].remote, remote, 16);
	return &rows[(*n)++];
}

struct collect {
	const struct encap *x;
	struct tun_row *rows;
	int n, max;
	const char *gone;   /* the label of the ended namespace being added */
	uint64_t more_pkts; /* packets of tunnels past max rows */
};

/* Each packet once, under the remote VTEP the packet itself named
 * (vx_dp_tun_counts): never the device's configuration, which may have
 * changed since, or name no remote at all (FDB peers, external devices). */
static void collect_row(const struct vx_tun_key *k, const struct vx_tun_val *tot, void *ctx)
{
	struct collect *cl = ctx;
	const struct vx_dp_watched *dev;
	struct tun_row *r;

	/* An ended namespace's rows were weighed when it ended. */
	if (!cl->gone && !vx_dp_tun_counts(&cl->x->dp, k, &dev))
		return;
	r = row_for(cl->rows, &cl->n, cl->max, k->netns, k->vni, k->remote, k->family, cl->gone);
	if (!r) {
		cl->more_pkts += tot->packets;
		return;
	}
	if (k->at == VX_AT_TC_UL_OUT || k->at == VX_AT_TC_VX_OUT) {
		r->enc_pkts += tot->packets;
		r->enc_bytes += tot->bytes;
	} else {
		r->dec_pkts += tot->packets;
		r->dec_bytes += tot->bytes;
	}
}

/* The namespaces as they are now, then those that ended since the last
 * summary (their last totals, once). */
static int collect_rows(struct encap *x, struct tun_row *rows, int max, uint64_t *more_pkts)
{
	struct collect cl = { x, rows, 0, max, NULL, 0 };
	struct vx_dp_retired gone[64];
	int n;

	vx_dp_tun_foreach(&x->dp, collect_row, &cl);
	while ((n = vx_dp_retired_take(&x->dp, gone, 64)) > 0)
		for (int i = 0; i < n; i++) {
			cl.gone = gone[i].netns;
			collect_row(&gone[i].k, &gone[i].v, &cl);
		}
	*more_pkts = cl.more_pkts;
	return cl.n;
}

static const char *row_label(const struct tun_row *r, char *buf, size_t len)
{
	if (!r->gone)
		return vx_ns_label(r->netns);
	snprintf(buf, len, "%s (gone)", r->label);
	return buf;
}

static void on_tick(void *ctx, uint64_t now)
{
	static const struct {
		int idx;
		const char *name;
	} bad[] = {
		{ VX_R_BAD_ETH, "eth" },
		{ VX_R_BAD_VLAN, "vlan" },
		{ VX_R_BAD_IP4, "ipv4" },
		{ VX_R_BAD_IHL, "ihl" },
		{ VX_R_BAD_IPVER, "ip-version" },
		{ VX_R_BAD_IP6, "ipv6" },
		{ VX_R_BAD_IP6_EXT, "ipv6-ext" },
		{ VX_R_BAD_UDP, "udp" },
		{ VX_R_BAD_VXLAN, "vxlan" },
		{ VX_R_BAD_VXLAN_FLAGS, "vxlan-flags" },
		{ VX_R_BAD_INNER_ETH, "inner-eth" },
		{ VX_R_BAD_INNER_IP, "inner-ip" },
		{ VX_R_BAD_L4, "l4" },
	};
	struct encap *x = ctx;
	struct tun_row rows[128];
	uint64_t cnt[VX_C__MAX], malformed = 0, more_pkts;
	char ts[32], ra[INET6_ADDRSTRLEN], vb[16], label[VX_NETNS_NAME_MAX + 8];
	int n = collect_rows(x, rows, 128, &more_pkts);
	struct jw j;

	vx_dp_counters(&x->dp, cnt);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		malformed += cnt[bad[i].idx];
	fmt_time(x, now, ts, sizeof(ts));
	if (cnt[VX_C_LOST] > x->last_cnt[VX_C_LOST])
		pr_warn("%llu events lost: the ring buffer was full (counts below are exact)",
			(unsigned long long)(cnt[VX_C_LOST] - x->last_cnt[VX_C_LOST]));
	vx_dp_warn_evictions(&x->dp, cnt);

	if (x->o->json) {
		jw_init(&j, stdout);
		jw_record(&j, "encap_summary");
		jw_str(&j, "time", ts);
		jw_arr_open(&j, "tunnels");
		for (int i = 0; i < n; i++) {
			jw_obj_open(&j, NULL);
			jw_str(&j, "netns",
			       rows[i].gone ? rows[i].label : vx_ns_label(rows[i].netns));
			if (rows[i].gone)
				jw_bool(&j, "gone", true);
			vx_vni_json(&j, "vni", rows[i].vni);
			jw_str(&j, "remote_vtep",
			       rows[i].family ?
				       ip_str(rows[i].family, rows[i].remote, ra, sizeof(ra)) :
				       NULL);
			jw_uint(&j, "encap_packets", rows[i].enc_pkts);
			jw_uint(&j, "encap_bytes", rows[i].enc_bytes);
			jw_uint(&j, "decap_packets", rows[i].dec_pkts);
			jw_uint(&j, "decap_bytes", rows[i].dec_bytes);
			jw_obj_close(&j);
		}
		jw_arr_close(&j);
		if (more_pkts)
			jw_uint(&j, "more_tunnels_packets", more_pkts);
		jw_obj_open(&j, "malformed");
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (cnt[bad[i].idx])
				jw_uint(&j, bad[i].name, cnt[bad[i].idx]);
		jw_obj_close(&j);
		jw_uint(&j, "non_vxlan", cnt[VX_R_PLAIN_IP] + cnt[VX_R_NON_IP]);
		jw_uint(&j, "events", cnt[VX_C_EVENTS]);
		jw_uint(&j, "total_lost", cnt[VX_C_LOST]);
		jw_uint(&j, "rate_limited", cnt[VX_C_RATE_LIMITED]);
		jw_uint(&j, "tunnels_evicted", cnt[VX_C_TUN_EVICTED]);
		jw_obj_close(&j);
		jw_end_line(&j);
	} else {
		printf("--- %s totals since start ---\n", ts);
		printf("  %-12s %8s %-18s %12s %14s %12s %14s\n", "NETNS", "VNI", "REMOTE VTEP",
		       "ENCAP pkts", "ENCAP bytes", "DECAP pkts", "DECAP bytes");
		for (int i = 0; i < n; i++)
			printf("  %-12s %8s %-18s %12llu %14llu %12llu %14llu\n",
			       row_label(&rows[i], label, sizeof(label)),
			       vx_vni_str(rows[i].vni, vb, sizeof(vb)),
			       ip_str(rows[i].family, rows[i].remote, ra, sizeof(ra)),
			       (unsigned long long)rows[i].enc_pkts,
			       (unsigned long long)rows[i].enc_bytes,
			       (unsigned long long)rows[i].dec_pkts,
			       (unsigned long long)rows[i].dec_bytes);
		if (more_pkts)
			printf("  ... more than %d tunnels: %llu packets of the others are not in "
			       "these rows\n",
			       n, (unsigned long long)more_pkts);
		printf("  malformed %llu, non-VXLAN %llu, events %llu, lost %llu, rate-limited %llu\n",
		       (unsigned long long)malformed,
		       (unsigned long long)(cnt[VX_R_PLAIN_IP] + cnt[VX_R_NON_IP]),
		       (unsigned long long)cnt[VX_C_EVENTS], (unsigned long long)cnt[VX_C_LOST],
		       (unsigned long long)cnt[VX_C_RATE_LIMITED]);
		if (cnt[VX_C_TUN_EVICTED])
			printf("  tunnel counters evicted %llu (--max-tunnels %u)\n",
			       (unsigned long long)cnt[VX_C_TUN_EVICTED], x->dp.max_tun);
	}
	fflush(stdout);
	vx_capture_flush(x->view.cap);
	vx_mexport_begin(x->view.me);
	vx_mexport_datapath(x->view.me, &x->dp);
	vx_mexport_end(x->view.me);
	memcpy(x->last_cnt, cnt, sizeof(cnt));
}

/* ---- the command ------------------------------------------------------- */

int cmd_encap(struct vx_opts *o)
{
	struct encap x = { .o = o };
	struct vx_dp_opts po = { .o = o,
				 .events = !o->summary,
				 .xdp = o->xdp,
				 .on_event = on_event,
				 .ctx = &x,
				 .retired = true };
	struct vx_loop loop;
	int ret;

	if ((ret = vx_view_open(&x.view, o, VX_VIEW_CAPTURE)))
		return ret;
	po.snaplen = vx_capture_snaplen(x.view.cap);
	vx_dp_init(&x.dp, &po);
	if ((ret = vx_dp_pick(&x.dp)) || (ret = vx_dp_load(&x.dp)) || (ret = vx_dp_attach(&x.dp))) {
		ret = vx_exit_code(ret);
		goto out;
	}
	x.mono_to_real = vx_mono_to_real();

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &x);
	if (!ret)
		ret = vx_dp_add_to_loop(&x.dp, &loop);
	if (!ret) {
		int n = vx_dp_n_active(&x.dp);

		pr_info("watching %d interface%s in %d namespace%s with %s (%s), XDP %s%s%s%s%s; "
			"Ctrl-C to stop",
			n, n == 1 ? "" : "s", x.dp.n_inst, x.dp.n_inst == 1 ? "" : "s",
			vx_dp_tc_mode_name(x.dp.tc_mode), x.dp.tc_mode_why,
			!o->xdp	   ? "off (--xdp turns it on)" :
			x.dp.n_xdp ? "native on underlay ingress" :
				     "not attached anywhere",
			o->summary ? ", counters only" : "",
			o->auto_attach ? ", following link changes" : "",
			x.view.cap ? ", capturing to " : "", vx_capture_where(x.view.cap));
		x.ran = true;
		ret = vx_loop_run(&loop);
		if (ret)
			pr_err("encap: event loop failed: %s", strerror(-ret));
	}
	vx_loop_close(&loop);
	ret = ret ? VX_EXIT_FAIL : VX_EXIT_OK;
out:
	vx_view_close(&x.view, x.ran, x.last_cnt[VX_C_LOST]);
	vx_dp_close(&x.dp);
	return ret;
}
