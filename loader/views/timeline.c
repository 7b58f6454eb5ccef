// SPDX-License-Identifier: GPL-2.0-only
/* The merge of `vxray trace` (timeline.h): a pending buffer, sorted by
 * timestamp at each flush, handed over up to the window's horizon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeline.h"

void vx_timeline_init(struct vx_timeline *tl, uint64_t window_ns)
{
	memset(tl, 0, sizeof(*tl));
	tl->window_ns = window_ns;
}

/* The packet waits with its event in the reorder window, so the file
 * follows the printed timeline. */
struct vx_cap *vx_timeline_cap_copy(const struct vx_cap *c)
{
	struct vx_cap *copy;

	if (!c)
		return NULL;
	copy = malloc(sizeof(*c) + c->caplen);
	if (copy)
		memcpy(copy, c, sizeof(*c) + c->caplen);
	return copy;
}

int vx_timeline_push(struct vx_timeline *t, const struct vx_tev *e)
{
	if (t->n_pend == t->cap_pend) {
		size_t cap = t->cap_pend ? t->cap_pend * 2 : 1024;
		struct vx_tev *p = realloc(t->pend, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->pend = p;
		t->cap_pend = cap;
	}
	t->pend[t->n_pend++] = *e;
	return 0;
}

void vx_timeline_push_or_warn(struct vx_timeline *t, const struct vx_tev *e, const char *what)
{
	if (vx_timeline_push(t, e)) {
		free(e->cap);
		pr_warn("trace: out of memory; a %s was not shown", what);
	}
}

static int cmp_tev(const void *a, const void *b)
{
	uint64_t x = ((const struct vx_tev *)a)->ts, y = ((const struct vx_tev *)b)->ts;

	return x < y ? -1 : x > y;
}

/* Print, in timestamp order, what is older than the window (everything
 * when @all). */
size_t vx_timeline_flush(struct vx_timeline *t, uint64_t now, bool all, vx_timeline_emit emit,
			 void *ctx)
{
	uint64_t horizon = now - t->window_ns;
	size_t n = 0;

	t->flushes++;
	if (!t->n_pend) /* pend is NULL until the first event */
		return 0;
	qsort(t->pend, t->n_pend, sizeof(*t->pend), cmp_tev);
	while (n < t->n_pend && (all || t->pend[n].ts <= horizon)) {
		const struct vx_tev *e = &t->pend[n++];
		bool late = e->ts < t->last_out_ts;

		t->late += late;
		if (!late)
			t->last_out_ts = e->ts;
		emit(ctx, e, late);
		free(e->cap);
		t->printed++;
	}
	memmove(t->pend, t->pend + n, (t->n_pend - n) * sizeof(*t->pend));
	t->n_pend -= n;
	return n;
}

/* Losses are said as soon as they are seen: a timeline with holes must
 * not look whole. */
void vx_timeline_say_lost(uint64_t now, uint64_t *seen, const char *what)
{
	if (now > *seen)
		pr_warn("trace: %llu %s lost (ring buffer full): the timeline has holes",
			(unsigned long long)(now - *seen), what);
	*seen = now;
}

void vx_timeline_say_late(const struct vx_timeline *t)
{
	if (t->late)
		pr_warn("trace: %llu of %llu events arrived after the %llu ms reorder window and are "
			"marked late",
			(unsigned long long)t->late, (unsigned long long)t->printed,
			(unsigned long long)(t->window_ns / 1000000));
}

void vx_timeline_free(struct vx_timeline *t)
{
	for (size_t i = 0; i < t->n_pend; i++)
		free(t->pend[i].cap);
	free(t->pend);
	t->pend = NULL;
	t->n_pend = t->cap_pend = 0;
}
