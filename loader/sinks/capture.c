// SPDX-License-Identifier: GPL-2.0-only
/* --pcap: events with their packet bytes into a pcapng file; see capture.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "dropsrc.h"
#include "names.h"
#include "log.h"
#include "pcapng.h"
#include "vxray.h"

#ifndef VXRAY_VERSION
#define VXRAY_VERSION "unknown"
#endif

struct vx_capture {
	struct vx_pcapng *w;
	const char *path;
	uint16_t snaplen;
	bool failed;	  /* a write failed: said once, nothing more written */
	uint64_t refused; /* events without a block (interface cap) */
};

int vx_capture_open(struct vx_capture **out, const struct vx_opts *o)
{
	struct vx_capture *c;
	char err[512];
	int ret;

	*out = NULL;
	if (!o->pcap)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = o->pcap;
	c->snaplen = (uint16_t)(o->snaplen ? o->snaplen : VX_SNAPLEN_DEFAULT);
	if (o->pcap_fd > 0) {
		/* --pcap -: standard output, kept aside by main.c. */
		FILE *f = fdopen(o->pcap_fd, "wb");

		ret = f ? vx_pcapng_open(&c->w, f, "vxray " VXRAY_VERSION) : -errno;
		if (ret && f)
			fclose(f);
		c->path = "standard output";
		snprintf(err, sizeof(err), "cannot write the capture to standard output: %s",
			 strerror(-ret));
	} else {
		ret = vx_pcapng_create(&c->w, o->pcap, "vxray " VXRAY_VERSION, err, sizeof(err));
	}
	if (ret) {
		pr_err("%s", err);
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

const char *vx_capture_where(const struct vx_capture *c)
{
	return c ? c->path : "";
}

uint16_t vx_capture_snaplen(const struct vx_capture *c)
{
	return c ? c->snaplen : 0;
}

static void write_packet(struct vx_capture *c, const char *name, uint16_t link, uint64_t ts,
			 const struct vx_cap *cap, uint32_t len, const char *comment)
{
	int id, err;

	if (c->failed)
		return;
	id = vx_pcapng_iface(c->w, name, link, c->snaplen);
	if (id == -ENOSPC) {
		c->refused++;
		return;
	}
	err = id < 0 ? id :
		       vx_pcapng_packet(c->w, (uint32_t)id, ts,
					cap ? (const void *)(cap + 1) : NULL, cap ? cap->caplen : 0,
					cap && cap->link ? cap->orig_len : len, comment);
	if (err) {
		c->failed = true;
		pr_warn("capture to %s stopped: %s", c->path, vx_strerror(err));
	}
}

static uint16_t linktype(const struct vx_cap *cap, uint16_t dflt)
{
	if (!cap || !cap->link)
		return dflt;
	return cap->link == VX_CAP_RAW ? VX_PCAPNG_LINK_RAW : VX_PCAPNG_LINK_ETHERNET;
}

void vx_capture_dp(struct vx_capture *c, const struct vx_event *e, const struct vx_cap *cap,
		   const char *netns, const char *dev, uint64_t mono_to_real)
{
	const struct vx_pkt *p = &e->pkt;
	char name[160], comment[512], outer[160], inner[160], vb[16];
	struct vxd_ip ip;
	bool icmp = vx_proto_is_icmp(p->inner_proto);

	/* Before touching the buffers: without --pcap this runs for nothing
	 * once per event. */
	if (!c)
		return;
	outer[0] = '\0';
	snprintf(inner, sizeof(inner), "not IP");
	snprintf(name, sizeof(name), "%s/%s/%s", netns, dev, vx_at_capture(e->at));
	if (p->outer_family) {
		vx_ip_set(&ip, p->outer_family, p->outer_src, p->outer_dst, IPPROTO_UDP,
			  p->outer_sport, p->outer_dport);
		vx_ip_fmt(&ip, outer, sizeof(outer));
	}
	if (p->inner_family) {
		vx_ip_set(&ip, p->inner_family, p->inner_src, p->inner_dst, p->inner_proto,
			  icmp ? p->icmp_type : p->inner_sport,
			  icmp ? p->icmp_code : p->inner_dport);
		vx_ip_fmt(&ip, inner, sizeof(inner));
	}
	snprintf(comment, sizeof(comment), "%s vni=%s hook=%s%s%s inner %s len=%u",
		 vx_at_kind(e->at), vx_vni_str(p->vni, vb, sizeof(vb)), vx_at_capture(e->at),
		 outer[0] ? " outer " : "", outer, inner, e->len);
	write_packet(c, name, linktype(cap, VX_PCAPNG_LINK_ETHERNET), e->ts_ns + mono_to_real, cap,
		     e->len, comment);
}

/* Append to a comment; a full buffer just ends it there. */
static void cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

void vx_capture_drop(struct vx_capture *c, const struct vx_drop *d, const char *netns,
		     const char *dev, const char *hook, uint64_t mono_to_real)
{
	const struct vxd_event *e = d->ev;
	char name[160], comment[512] = "", ip[160];

	if (!c)
		return;
	snprintf(name, sizeof(name), "%s/%s/%s", netns, dev, hook);
	cat(comment, sizeof(comment), "DROP reason=%s location=%s netns=%s dev=%s", d->reason,
	    d->location, netns, dev);
	if (e->flags & VXD_F_TUNNEL)
		cat(comment, sizeof(comment), " vni=%u%s", e->vni,
		    e->flags & VXD_F_DECAP ? " decapsulated" : "");
	if (e->flags & VXD_F_OUTER) {
		vx_ip_fmt(&e->outer, ip, sizeof(ip));
		cat(comment, sizeof(comment), " outer %s", ip);
	}
	if (e->flags & VXD_F_INNER) {
		vx_ip_fmt(&e->inner, ip, sizeof(ip));
		cat(comment, sizeof(comment), " inner %s", ip);
	}
	write_packet(c, name, linktype(d->cap, VX_PCAPNG_LINK_RAW), e->ts_ns + mono_to_real, d->cap,
		     e->len, comment);
}

void vx_capture_flush(struct vx_capture *c)
{
	int err;

	if (!c || c->failed)
		return;
	err = vx_pcapng_flush(c->w);
	if (err) {
		c->failed = true;
		pr_warn("capture to %s stopped: %s", c->path, vx_strerror(err));
	}
}

void vx_capture_close(struct vx_capture *c, uint64_t lost)
{
	uint64_t n;
	int err;

	if (!c)
		return;
	n = vx_pcapng_packets(c->w);
	err = vx_pcapng_close(c->w);
	if (err && !c->failed)
		pr_warn("capture to %s is incomplete: %s", c->path, vx_strerror(err));
	pr_info("wrote %llu packet%s to %s (snap length %u)%s", (unsigned long long)n,
		n == 1 ? "" : "s", c->path, c->snaplen,
		lost ? "; events the ring buffer had no room for are not in it" : "");
	if (c->refused)
		pr_warn("%llu packets are not in %s: it already describes %d interfaces",
			(unsigned long long)c->refused, c->path, VX_PCAPNG_MAX_IFACES);
	free(c);
}

void vx_capture_discard(struct vx_capture *c)
{
	if (!c)
		return;
	vx_pcapng_close(c->w);
	unlink(c->path);
	free(c);
}
