// SPDX-License-Identifier: GPL-2.0-only
/* Tunnel totals per namespace incarnation: see dp_incarn.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_incarn.h"

/* The index of @k in the sorted baselines, or where it would go (*found
 * false). */
static int base_find(const struct vx_incarn *c, const struct vx_tun_key *k, bool *found)
{
	int lo = 0, hi = c->n_base;

	*found = false;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2, r = memcmp(&c->base[mid].k, k, sizeof(*k));

		if (!r) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What @tot counted above @base (all of it when below: made again). */
static struct vx_tun_val above(const struct vx_tun_val *tot, const struct vx_tun_val *base)
{
	struct vx_tun_val v = *tot;

	if (tot->packets >= base->packets && tot->bytes >= base->bytes) {
		v.packets -= base->packets;
		v.bytes -= base->bytes;
	}
	return v;
}

static int keep_row(struct vx_incarn *c, const struct vx_tun_key *k, const struct vx_tun_val *v,
		    const char *label)
{
	if (c->n_ret == VX_INCARN_MAX_RETIRED) {
		memmove(c->ret, c->ret + 1, sizeof(*c->ret) * (size_t)(c->n_ret - 1));
		c->n_ret--;
		c->dropped++;
	}
	if (c->n_ret == c->cap_ret) {
		int cap = c->cap_ret ? 2 * c->cap_ret : 16;
		void *p = realloc(c->ret, sizeof(*c->ret) * (size_t)cap);

		if (!p)
			return -ENOMEM;
		c->ret = p;
		c->cap_ret = cap;
	}
	c->ret[c->n_ret].k = *k;
	c->ret[c->n_ret].v = *v;
	c->ret[c->n_ret].netns = label;
	c->n_ret++;
	return 0;
}

int vx_incarn_end(struct vx_incarn *c, const struct vx_tun_key *k, const struct vx_tun_val *tot,
		  const char *label, bool keep)
{
	bool found;
	int i = base_find(c, k, &found);
	struct vx_tun_val own = *tot;

	if (found) {
		own = above(tot, &c->base[i].v);
		c->base[i].v = *tot;
	} else {
		if (c->n_base == c->cap_base) {
			int cap = c->cap_base ? 2 * c->cap_base : 16;
			void *p = realloc(c->base, sizeof(*c->base) * (size_t)cap);

			if (!p)
				return -ENOMEM;
			c->base = p;
			c->cap_base = cap;
		}
		memmove(c->base + i + 1, c->base + i, sizeof(*c->base) * (size_t)(c->n_base - i));
		c->base[i].k = *k;
		c->base[i].v = *tot;
		c->n_base++;
	}
	if (!keep || !own.packets)
		return 0;
	return keep_row(c, k, &own, label);
}

bool vx_incarn_current(const struct vx_incarn *c, const struct vx_tun_key *k,
		       struct vx_tun_val *tot)
{
	bool found;
	int i;

	if (!c || !c->n_base)
		return true;
	i = base_find(c, k, &found);
	if (found)
		*tot = above(tot, &c->base[i].v);
	return tot->packets != 0;
}

int vx_incarn_take(struct vx_incarn *c, struct vx_dp_retired *out, int max)
{
	int n = c->n_ret < max ? c->n_ret : max;

	if (n <= 0)
		return 0;
	memcpy(out, c->ret, sizeof(*out) * (size_t)n);
	memmove(c->ret, c->ret + n, sizeof(*c->ret) * (size_t)(c->n_ret - n));
	c->n_ret -= n;
	return n;
}

void vx_incarn_free(struct vx_incarn *c)
{
	free(c->base);
	free(c->ret);
	memset(c, 0, sizeof(*c));
}
