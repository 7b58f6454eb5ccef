// SPDX-License-Identifier: GPL-2.0-only
/* `vxray drops`: kernel packet drops with the kernel's own reason, the
 * function that dropped the packet, its namespace and device, and the
 * tunnel it belonged to. The engine is loader/engines/dropsrc.c; this file only
 * filters and prints. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "btfnames.h"
#include "capture.h"
#include "cmd.h"
#include "dropreason.h"
#include "dropsrc.h"
#include "json.h"
#include "ksyms.h"
#include "log.h"
#include "loop.h"
#include "mexport.h"
#include "names.h"
#include "sysinfo.h"
#include "view.h"

struct drops {
	struct vx_opts *o;
	struct vx_dropsrc *src;
	struct vx_view view;   /* privileges, --metrics, --pcap */
	uint64_t mono_to_real; /* add to bpf_ktime_get_ns() for wall time */
	uint64_t lost_seen, drops_total;
	uint64_t last_tick;
	/* Reasons whose meaning a text line has said already. */
	const struct vx_drop_reason_info *explained[64];
	int n_explained;
};

/* What the kernel means by @reason, the first time a text line names it
 * (NULL after, and for a reason the table does not hold). */
static const char *explain_once(struct drops *d, const char *reason)
{
	const struct vx_drop_reason_info *r = vx_drop_reason_info(reason);

	if (!r)
		return NULL;
	for (int i = 0; i < d->n_explained; i++)
		if (d->explained[i] == r)
			return NULL;
	if (d->n_explained < (int)(sizeof(d->explained) / sizeof(d->explained[0])))
		d->explained[d->n_explained++] = r;
	return r->meaning;
}

/* ---- output ------------------------------------------------------------ */

static void print_event_json(struct drops *d, const struct vx_drop *dr, const char *ns,
			     const char *dev)
{
	const struct vxd_event *e = dr->ev;
	char sym[160], ts[32];
	struct jw w;

	vx_fmt_wallclock(e->ts_ns + d->mono_to_real, 3, ts, sizeof(ts));
	jw_init(&w, stdout);
	jw_record(&w, "drop");
	jw_str(&w, "time", ts);
	jw_uint(&w, "time_ns", e->ts_ns + d->mono_to_real);
	jw_str(&w, "reason", dr->reason);
	jw_uint(&w, "reason_num", e->reason);
	jw_str(&w, "location", dr->location);
	jw_uint(&w, "location_addr", e->location);
	jw_str(&w, "netns", ns);
	jw_uint(&w, "netns_inum", e->netns);
	jw_str(&w, "device", dev);
	jw_uint(&w, "ifindex", e->ifindex);
	jw_uint(&w, "len", e->len);
	jw_uint(&w, "ethertype", e->protocol);
	if (e->flags & VXD_F_OUTER)
		vx_ip_json(&w, "outer", &e->outer);
	if (e->flags & VXD_F_TUNNEL) {
		jw_uint(&w, "vni", e->vni);
		jw_bool(&w, "decapsulated", e->flags & VXD_F_DECAP);
	}
	if (e->flags & VXD_F_INNER)
		vx_ip_json(&w, "inner", &e->inner);
	if (d->o->stack) {
		jw_arr_open(&w, "stack");
		for (int i = 0; i < dr->n_stack; i++)
			jw_str(&w, NULL, vx_ksym_fmt(dr->stack[i], sym, sizeof(sym)));
		jw_arr_close(&w);
	}
	if (vx_drop_reason_meaning(dr->reason))
		jw_str(&w, "meaning", vx_drop_reason_meaning(dr->reason));
	jw_obj_close(&w);
	jw_end_line(&w);
}

static void on_drop(void *ctx, const struct vx_drop *dr)
{
	struct drops *d = ctx;
	const struct vxd_event *e = dr->ev;
	char ts[32], outer[160], inner[160], a[INET6_ADDRSTRLEN], sym[160];
	const char *ns, *dev, *meaning;

	if (!vx_drop_event_wanted(d->o, e))
		return;
	ns = vx_ns_label(e->netns);
	dev = vx_dev_label(e->netns, e->ifindex);
	vx_capture_drop(d->view.cap, dr, ns, dev, vx_dropsrc_hook(d->src), d->mono_to_real);
	if (d->o->json) {
		print_event_json(d, dr, ns, dev);
		return;
	}

	vx_fmt_wallclock(e->ts_ns + d->mono_to_real, 3, ts, sizeof(ts));
	if (e->flags & VXD_F_OUTER)
		vx_ip_fmt(&e->outer, outer, sizeof(outer));
	else
		snprintf(outer, sizeof(outer), "ethertype 0x%04x", e->protocol);
	printf("%s DROP %s %s netns=%s dev=%s len=%u %s", ts, dr->reason, dr->location, ns, dev,
	       e->len, outer);
	if (e->flags & VXD_F_TUNNEL) {
		printf(" vni=%u", e->vni);
		if (e->flags & VXD_F_OUTER)
			printf(" vtep=%s", vx_ip_addr_str(&e->outer, e->outer.saddr, a, sizeof(a)));
		if (e->flags & VXD_F_INNER) {
			vx_ip_fmt(&e->inner, inner, sizeof(inner));
			printf(" inner %s", inner);
		}
	}
	putchar('\n');
	meaning = explain_once(d, dr->reason);
	if (meaning)
		printf("    %s: %s\n", dr->reason, meaning);
	if (d->o->stack) {
		if (!dr->stack)
			printf("    [no stack: %s]\n", vx_strerror(dr->stack_err));
		for (int i = 0; i < dr->n_stack; i++)
			printf("    %s\n", vx_ksym_fmt(dr->stack[i], sym, sizeof(sym)));
	}
	fflush(stdout);
}

static void on_tick(void *ctx, uint64_t now)
{
	struct drops *d = ctx;
	uint64_t lost = vx_dropsrc_lost(d->src), new_lost = lost - d->lost_seen, delta = 0;
	char rbuf[32], loc[160], ts[32];
	double secs = (double)(now - d->last_tick) / NSEC_PER_SEC;
	const struct vx_drop_row *rows;
	int n = vx_dropsrc_read_agg(d->src, &rows);
	struct jw w;

	for (int i = 0; i < n; i++)
		delta += rows[i].delta;
	d->drops_total += delta;
	vx_fmt_wallclock(now + d->mono_to_real, 3, ts, sizeof(ts));

	if (d->o->json) {
		jw_init(&w, stdout);
		jw_record(&w, "drops_summary");
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
	for (int i = 0; i < n; i++) {
		const struct vx_drop_row *r = &rows[i];
		const char *reason = vx_drop_reason_name(r->key.reason, rbuf, sizeof(rbuf));
		const char *ns = vx_ns_label(r->key.netns);

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
			jw_uint(&w, "count", r->delta);
			if (vx_drop_reason_meaning(reason))
				jw_str(&w, "meaning", vx_drop_reason_meaning(reason));
			jw_obj_close(&w);
		} else {
			const char *meaning = explain_once(d, reason);

			printf("%10llu  %-24s %-36s %s\n", (unsigned long long)r->delta, reason,
			       loc, ns);
			if (meaning)
				printf("%12s%s: %s\n", "", reason, meaning);
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
	vx_mexport_begin(d->view.me);
	vx_mexport_drops(d->view.me, rows, n, lost);
	vx_mexport_end(d->view.me);
	d->lost_seen = lost;
	d->last_tick = now;
	fflush(stdout);
	vx_capture_flush(d->view.cap);
}

int cmd_drops(struct vx_opts *o)
{
	static struct vxd_scope_key scope[VXD_MAX_SCOPE];
	struct vx_dropsrc_cfg cfg = { .backend = o->backend, .scope = scope, .stack = o->stack };
	struct drops d = { .o = o };
	struct vx_loop loop;
	int ret;

	if ((ret = vx_view_open(&d.view, o, VX_VIEW_CAPTURE)))
		return ret;
	ret = vx_drop_scope_build(o, scope, &cfg.n_scope, &cfg.vxlan_port);
	if (ret) { /* a namespace or interface the user named is not there */
		vx_view_close(&d.view, false, 0);
		return vx_exit_code(ret);
	}
	cfg.snaplen = vx_capture_snaplen(d.view.cap);
	if (vx_dropsrc_open(&d.src, &cfg, on_drop, &d)) {
		vx_view_close(&d.view, false, 0);
		return VX_EXIT_FAIL;
	}
	vx_mexport_begin(d.view.me);
	vx_mexport_backend(d.view.me, "drops", vx_dropsrc_backend(d.src));
	vx_mexport_attached(d.view.me, "drops", 1);
	vx_mexport_end(d.view.me);
	d.mono_to_real = vx_mono_to_real();
	d.last_tick = vx_now_ns();

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &d);
	if (!ret)
		ret = vx_dropsrc_add_to_loop(d.src, &loop);
	if (ret) {
		pr_err("cannot set up the event loop: %s", vx_strerror(ret));
		vx_loop_close(&loop);
		goto out;
	}
	pr_info("tracing drops with %s in %s%s%s; Ctrl-C to stop", vx_dropsrc_backend(d.src),
		cfg.n_scope ? "the chosen namespaces/devices" : "every namespace",
		d.view.cap ? ", capturing to " : "", vx_capture_where(d.view.cap));
	ret = vx_loop_run(&loop);
	vx_loop_close(&loop);
	if (ret)
		pr_err("drop tracing stopped early: %s", vx_strerror(ret));
out:
	vx_view_close(&d.view, true, vx_dropsrc_lost(d.src));
	vx_dropsrc_close(d.src);
	return ret ? VX_EXIT_FAIL : VX_EXIT_OK;
}
