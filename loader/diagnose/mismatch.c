// SPDX-License-Identifier: GPL-2.0-only
/* Both ends of a mismatch, in values (declared in findings.h, which
 * words its verdicts with them). Pure, like findings.c
 * (tests/unit/test_findings.c). */
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "names.h"

const struct vx_ev_tunnel *vx_mm_sender(const struct vx_evidence *ev, const struct vx_ev_drop *x)
{
	const struct vx_ev_tunnel *by_remote = NULL;

	for (int i = 0; i < ev->n_tun; i++) {
		const struct vx_ev_tunnel *a = &ev->tun[i];

		if (!strcmp(a->netns, x->netns))
			continue;
		if (x->outer_src[0] && !strcmp(a->local, x->outer_src))
			return a;
		for (int k = 0; k < ev->n_tun && !by_remote; k++)
			if (!strcmp(ev->tun[k].netns, x->netns) && a->remote[0] &&
			    !strcmp(ev->tun[k].local, a->remote))
				by_remote = a;
	}
	return by_remote;
}

const struct vx_ev_tunnel *vx_mm_receiver(const struct vx_evidence *ev, const struct vx_ev_drop *x,
					  const struct vx_ev_tunnel *sender)
{
	const struct vx_ev_tunnel *first = NULL, *same_vni = NULL;

	for (int i = 0; i < ev->n_tun; i++) {
		const struct vx_ev_tunnel *b = &ev->tun[i];

		if (strcmp(b->netns, x->netns))
			continue;
		if (x->outer_dst[0] && !strcmp(b->local, x->outer_dst) &&
		    (!sender || b->vni == sender->vni))
			return b;
		if (!same_vni && sender && b->vni == sender->vni)
			same_vni = b;
		if (!first)
			first = b;
	}
	return same_vni ? same_vni : first;
}

void vx_mm_port(const struct vx_evidence *ev, const struct vx_ev_drop *x, char *buf, size_t len)
{
	const struct vx_ev_tunnel *a = vx_mm_sender(ev, x), *b = vx_mm_receiver(ev, x, a);
	/* The port the packets carried, else the one the sender is set to. */
	unsigned port = x->outer_dport ? x->outer_dport : a ? a->dstport : 0;
	char who[128];

	buf[0] = '\0';
	if (!port || !b)
		return;
	if (a)
		snprintf(who, sizeof(who), "%s", vx_ns_label_of(a->netns));
	else if (x->outer_src[0])
		snprintf(who, sizeof(who), "%s", x->outer_src);
	else
		snprintf(who, sizeof(who), "the sender");
	if (port != b->dstport)
		snprintf(buf, len, "; %s sends to UDP %u; %s's %s listens on %u", who, port,
			 vx_ns_label_of(b->netns), b->device, b->dstport);
	else /* the right port, and still no socket: the device is down */
		snprintf(buf, len,
			 "; %s sends to UDP %u, which %s's %s is set to but does not listen on "
			 "(is it down?)",
			 who, port, vx_ns_label_of(b->netns), b->device);
}

void vx_mm_vni(const struct vx_evidence *ev, const struct vx_ev_drop *x, char *buf, size_t len)
{
	const struct vx_ev_tunnel *b = vx_mm_receiver(ev, x, NULL);

	buf[0] = '\0';
	/* VNI 0 is an external device's: it takes every VNI it is given. */
	if (b && b->vni)
		snprintf(buf, len, " (%s's %s has VNI %u)", vx_ns_label_of(b->netns), b->device,
			 b->vni);
}

const struct vx_ev_tunnel *vx_mm_tunnel_at(const struct vx_evidence *ev, const struct vx_ev_drop *x)
{
	const struct vx_ev_tunnel *only = NULL;
	int n = 0;

	for (int i = 0; i < ev->n_tun; i++) {
		const struct vx_ev_tunnel *t = &ev->tun[i];

		if (strcmp(t->netns, x->netns))
			continue;
		if (x->device[0] &&
		    (!strcmp(t->device, x->device) || !strcmp(t->underlay, x->device)) &&
		    (!x->outer_dst[0] || !t->remote[0] || !strcmp(t->remote, x->outer_dst)))
			return t;
		only = t;
		n++;
	}
	return n == 1 ? only : NULL;
}

const char *vx_mm_remote(const struct vx_ev_drop *x, const struct vx_ev_tunnel *t)
{
	if (x->outer_dst[0])
		return x->outer_dst;
	return t && t->remote[0] ? t->remote : "";
}

void vx_mm_remote_miss(const struct vx_evidence *ev, const struct vx_ev_tunnel *t, char *buf,
		       size_t len, const struct vx_ev_tunnel **other)
{
	const struct vx_ev_tunnel *b = NULL;

	buf[0] = '\0';
	if (other)
		*other = NULL;
	if (!t || !t->remote[0] || t->peer >= 0)
		return;
	for (int i = 0; i < ev->n_tun; i++) {
		const struct vx_ev_tunnel *c = &ev->tun[i];

		if (!strcmp(c->local, t->remote))
			return; /* somebody watched holds it: no miss */
		if (!b && c != t && c->vni == t->vni && c->local[0] && strcmp(c->netns, t->netns))
			b = c;
	}
	if (!b)
		return;
	snprintf(buf, len, "; %s's %s sends to %s, but %s's %s (VNI %u) is at %s",
		 vx_ns_label_of(t->netns), t->device, t->remote, vx_ns_label_of(b->netns),
		 b->device, b->vni, b->local);
	if (other)
		*other = b;
}
