// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "btfnames.h"
#include "loop.h"

volatile sig_atomic_t vx_exiting;

int vx_loop_init(struct vx_loop *l, uint64_t duration_ns, uint64_t interval_ns, vx_tick_cb tick,
		 void *tick_ctx)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->interval_ns = interval_ns ? interval_ns : 1000000000ULL;
	l->deadline_ns = duration_ns ? vx_now_ns() + duration_ns : 0;
	l->drain_ns = VX_LOOP_DRAIN_NS;
	l->tick = tick;
	l->tick_ctx = tick_ctx;
	return 0;
}

int vx_loop_add_fd(struct vx_loop *l, int fd, vx_fd_cb cb, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int i = 0;

	/* A slot vx_loop_del_fd freed is taken again: sources that come and
	 * go (a namespace deleted and recreated) must not use up the table. */
	while (i < l->n_src && l->src[i].cb)
		i++;
	if (i == VX_LOOP_MAX_FDS)
		return -E2BIG;
	ev.data.u32 = (uint32_t)i;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->src[i] = (struct vx_loop_src){ .fd = fd, .cb = cb, .ctx = ctx };
	if (i == l->n_src)
		l->n_src++;
	return 0;
}

int vx_loop_del_fd(struct vx_loop *l, int fd)
{
	for (int i = 0; i < l->n_src; i++) {
		if (l->src[i].fd != fd)
			continue;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		/* Keep indices stable: epoll data holds them. */
		l->src[i].fd = -1;
		l->src[i].cb = NULL;
		return 0;
	}
	return -ENOENT;
}

static int consume_ringbuf(void *ctx)
{
	int n = ring_buffer__consume(ctx);

	return n < 0 ? n : 0;
}

int vx_loop_add_ringbuf(struct vx_loop *l, struct ring_buffer *rb)
{
	return vx_loop_add_fd(l, ring_buffer__epoll_fd(rb), consume_ringbuf, rb);
}

static int drain_ringbufs(struct vx_loop *l)
{
	for (int i = 0; i < l->n_src; i++) {
		int ret;

		if (l->src[i].cb != consume_ringbuf)
			continue;
		ret = consume_ringbuf(l->src[i].ctx);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int vx_loop_run(struct vx_loop *l)
{
	struct epoll_event evs[16];
	uint64_t next_tick = vx_now_ns() + l->interval_ns, last_tick = 0;
	uint64_t next_drain = l->drain_ns ? vx_now_ns() + l->drain_ns : UINT64_MAX;
	int ret = 0;

	/* Startup is over: enum names are copied out; the parsed kernel BTF
	 * (several MiB) need not stay resident. */
	vx_vmlinux_btf_release();

	while (!vx_exiting) {
		uint64_t now = vx_now_ns(), wake = next_tick;
		int n, timeout_ms;

		if (l->deadline_ns && l->deadline_ns < wake)
			wake = l->deadline_ns;
		if (next_drain < wake)
			wake = next_drain;
		timeout_ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		n = epoll_wait(l->epfd, evs, 16, timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct vx_loop_src *s = &l->src[evs[i].data.u32];

			if (s->cb && (ret = s->cb(s->ctx)) < 0)
				goto out;
		}
		now = vx_now_ns();
		if (now >= next_drain) {
			/* The programs skip the wakeup while a ring is nearly
			 * empty (vx_rb.bpf.h): collect what they left, and hand
			 * what was printed to whoever reads stdout. */
			if ((ret = drain_ringbufs(l)) < 0)
				goto out;
			fflush(stdout);
			next_drain = now + l->drain_ns;
		}
		if (now >= next_tick) {
			if ((ret = drain_ringbufs(l)) < 0)
				goto out;
			if (l->tick)
				l->tick(l->tick_ctx, now);
			fflush(stdout);
			last_tick = now;
			next_tick += l->interval_ns;
			if (next_tick <= now)
				next_tick = now + l->interval_ns;
		}
		if (l->deadline_ns && now >= l->deadline_ns)
			break;
	}
out:
	/* Drain what arrived before the stop, then report the last interval
	 * -- unless a tick just did (a duration that is a multiple of the
	 * interval ends right on one). */
	drain_ringbufs(l);
	if (l->tick && vx_now_ns() - last_tick > 5 * 1000000ULL)
		l->tick(l->tick_ctx, vx_now_ns());
	fflush(stdout);
	return ret;
}

void vx_loop_close(struct vx_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}
