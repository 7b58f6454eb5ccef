/* SPDX-License-Identifier: GPL-2.0-only */
/* The event loop every view shares: ring buffers and netlink sockets
 * multiplexed with epoll, a periodic --interval callback, and a stop at
 * --duration or on SIGINT/SIGTERM (vx_exiting). Nothing is torn down from
 * a signal handler: the handler sets a flag, epoll_wait returns EINTR,
 * and the loop returns to its caller, which detaches in order. */
#ifndef VXRAY_LOOP_H
#define VXRAY_LOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

/* Set by main.c's SIGINT/SIGTERM handler; the loop, and the few waits
 * outside it (diagnose's probe), poll it. */
extern volatile sig_atomic_t vx_exiting;

struct ring_buffer;

/* A link-monitor socket per followed namespace (the datapath follows up
 * to 1024, VX_DP_MAX_INST), plus rings and timers. */
#define VX_LOOP_MAX_FDS 1088
/* Ring buffers are drained at least this often: the BPF programs wake the
 * consumer only once a ring is an eighth full (bpf/include/vx_rb.bpf.h), so
 * this bounds how late an event on a quiet ring is printed. */
#define VX_LOOP_DRAIN_MS 20
#define VX_LOOP_DRAIN_NS (VX_LOOP_DRAIN_MS * 1000000ULL)

typedef int (*vx_fd_cb)(void *ctx);
typedef void (*vx_tick_cb)(void *ctx, uint64_t now_ns);

struct vx_loop_src {
	int fd;
	vx_fd_cb cb;
	void *ctx;
};

struct vx_loop {
	int epfd;
	int n_src;
	struct vx_loop_src src[VX_LOOP_MAX_FDS];
	uint64_t interval_ns;
	uint64_t deadline_ns; /* 0: none */
	/* How often rings are drained and stdout flushed between ticks:
	 * VX_LOOP_DRAIN_NS from vx_loop_init(). 0 for a command that prints
	 * nothing between ticks (the agent, diagnose): it then sleeps until
	 * a source is readable or the tick, instead of waking 50 times a
	 * second with nothing to do; a ring an eighth full still wakes it. */
	uint64_t drain_ns;
	vx_tick_cb tick;
	void *tick_ctx;
};

int vx_loop_init(struct vx_loop *l, uint64_t duration_ns, uint64_t interval_ns, vx_tick_cb tick,
		 void *tick_ctx);
/* Call @cb when @fd is readable; a negative return ends the loop with it. */
int vx_loop_add_fd(struct vx_loop *l, int fd, vx_fd_cb cb, void *ctx);
int vx_loop_del_fd(struct vx_loop *l, int fd);
/* Consume @rb whenever it has data (ring_buffer__epoll_fd). */
int vx_loop_add_ringbuf(struct vx_loop *l, struct ring_buffer *rb);
/* Run until the duration ends or a signal arrives; the tick callback runs
 * every interval and once more at the end. Returns 0 or a negative errno. */
int vx_loop_run(struct vx_loop *l);
void vx_loop_close(struct vx_loop *l);

#endif
