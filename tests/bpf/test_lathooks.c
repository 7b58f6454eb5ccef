// SPDX-License-Identifier: GPL-2.0-only
/* The latency hooks' watched set (vx_xmit.h: vxx_wset in front of vxx_dev
 * and vxx_ns), as the loader keeps it: a key whose slot is taken goes to
 * the hash map and the slot counts it, so the kernel side looks further
 * only there; removing keys in any order leaves every slot as it was. The
 * programs are not loaded (nothing is attached): the maps are the test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lathooks.h"
#include "../bpf/kprobe/vx_xmit.h"
#include "vx_xmit.skel.h"

static int setup(void **state)
{
	struct vx_lathooks *h;
	struct bpf_program *p;

	if (geteuid())
		return 0;
	h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->skel = vx_xmit__open();
	assert_non_null(h->skel);
	bpf_object__for_each_program (p, h->skel->obj)
		bpf_program__set_autoload(p, false);
	assert_int_equal(vx_xmit__load(h->skel), 0);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct vx_lathooks *h = *state;

	if (h) {
		vx_xmit__destroy(h->skel);
		free(h);
	}
	return 0;
}

static struct vx_xmit_slot slot(const struct vx_lathooks *h, uint32_t k)
{
	struct vx_xmit_slot s;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.vxx_wset), &k, &s), 0);
	return s;
}

static int in_hash(const struct vx_lathooks *h, uint32_t netns, uint32_t ifindex, uint32_t *vni)
{
	struct vx_xmit_dev d = { .netns = netns, .ifindex = ifindex };
	uint32_t v = 0;
	int r;

	if (!ifindex)
		return !bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.vxx_ns), &netns, &v);
	r = !bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.vxx_dev), &d, &v);
	if (vni)
		*vni = v;
	return r;
}

/* Another ifindex of @netns whose slot is @ifindex's. */
static uint32_t collider(uint32_t netns, uint32_t ifindex)
{
	for (uint32_t i = ifindex + 1; i < ifindex + 1000000; i++)
		if (vx_xmit_slot_of(netns, i) == vx_xmit_slot_of(netns, ifindex))
			return i;
	fail_msg("no colliding ifindex");
	return 0;
}

static void test_collisions(void **state)
{
	struct vx_lathooks *h = *state;
	const uint32_t ns = 4026532001u, a = 7, b = collider(ns, a), c = collider(ns, b);
	const uint32_t k = vx_xmit_slot_of(ns, a);
	struct vx_xmit_slot s;
	uint32_t vni;

	if (!h)
		skip();
	assert_int_equal(vx_lathooks_watch(h, ns, a, 100, true), 0);
	assert_int_equal(vx_lathooks_watch(h, ns, b, 200, true), 0);
	assert_int_equal(vx_lathooks_watch(h, ns, c, 300, true), 0);
	/* Again: no second count. */
	assert_int_equal(vx_lathooks_watch(h, ns, c, 301, true), 0);
	s = slot(h, k);
	assert_int_equal(s.netns, ns);
	assert_int_equal(s.ifindex, a);
	assert_int_equal(s.vni, 100);
	assert_int_equal(s.more, 2);
	assert_true(in_hash(h, ns, b, &vni));
	assert_int_equal(vni, 200);
	assert_true(in_hash(h, ns, c, &vni));
	assert_int_equal(vni, 301);
	assert_false(in_hash(h, ns, a, NULL));

	/* The slot's own key leaves: the others stay where they are. */
	assert_int_equal(vx_lathooks_watch(h, ns, a, 0, false), 0);
	s = slot(h, k);
	assert_int_equal(s.netns, 0);
	assert_int_equal(s.more, 2);
	/* c, in the hash, is set again while the slot is free: it stays in
	 * the hash (never in both, or its removal would leave a copy). */
	assert_int_equal(vx_lathooks_watch(h, ns, c, 302, true), 0);
	assert_int_equal(slot(h, k).netns, 0);
	assert_true(in_hash(h, ns, c, &vni));
	assert_int_equal(vni, 302);
	assert_int_equal(slot(h, k).more, 2);
	assert_int_equal(vx_lathooks_watch(h, ns, b, 0, false), 0);
	assert_int_equal(vx_lathooks_watch(h, ns, b, 0, false), 0); /* not there: no change */
	assert_int_equal(slot(h, k).more, 1);
	/* A new key takes the free slot. */
	assert_int_equal(vx_lathooks_watch(h, ns, a, 101, true), 0);
	s = slot(h, k);
	assert_int_equal(s.ifindex, a);
	assert_int_equal(s.vni, 101);
	assert_int_equal(s.more, 1);
	assert_int_equal(vx_lathooks_watch(h, ns, c, 0, false), 0);
	assert_int_equal(vx_lathooks_watch(h, ns, a, 0, false), 0);
	s = slot(h, k);
	assert_int_equal(s.netns, 0);
	assert_int_equal(s.more, 0);
	assert_false(in_hash(h, ns, c, NULL));
}

/* Namespaces share the set as (netns, 0). */
static void test_namespaces(void **state)
{
	struct vx_lathooks *h = *state;
	const uint32_t ns = 4026532100u;

	if (!h)
		skip();
	assert_int_equal(vx_lathooks_watch_ns(h, ns, true), 0);
	assert_int_equal(slot(h, vx_xmit_slot_of(ns, 0)).netns, ns);
	assert_int_equal(slot(h, vx_xmit_slot_of(ns, 0)).ifindex, 0);
	assert_int_equal(vx_lathooks_watch_ns(h, ns, false), 0);
	assert_int_equal(slot(h, vx_xmit_slot_of(ns, 0)).netns, 0);
	assert_false(in_hash(h, ns, 0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
