/* SPDX-License-Identifier: GPL-2.0-only */
/* The traffic of `vxray diagnose --probe`: small pings to every target
 * every 200 ms for the whole window and, in its middle, a burst of three
 * full-size pings (the overlay MTU, DF), a sweep of smaller DF pings and
 * one short TCP exchange per target, all between addresses of the host's own namespaces (or one the
 * user named with --target). A child process sends it, so the engines keep
 * draining; it reports on a pipe, one line per packet, and the results
 * land in the targets' counts and round trips.
 *
 * Lifecycle: vx_probe_pick_targets() or vx_probe_user_targets() ->
 * vx_probe_start() -> vx_probe_read() whenever vx_probe_fd() is readable
 * -> vx_probe_stop() -> vx_probe_fill_probes() and vx_probe_fill_latency()
 * put the results in the evidence (probe_ev.c). This is the only part of
 * vxray that sends traffic. */
#ifndef VXRAY_PROBE_H
#define VXRAY_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <sys/types.h>

#include "baseline.h"
#include "findings.h"
#include "opts.h"

#define VX_PROBE_MAX_RTT 512
/* A shorter window has no middle for the burst and no first third to
 * compare against. */
#define VX_PROBE_MIN_NS (4 * NSEC_PER_SEC)
/* The burst's size sweep: DF pings from just under the full size down,
 * VX_PROBE_SWEEP_FINE of them 10 bytes apart (where the usual tunnel and
 * VPN overheads put a path MTU), then the rest evenly down to the floor
 * (IP payload bytes): where the answers stop is the path's MTU, within a
 * step (pathjudge.c's PMTU black hole). */
#define VX_PROBE_SWEEP 40
#define VX_PROBE_SWEEP_FINE 30
#define VX_PROBE_SWEEP_STEP 10
#define VX_PROBE_SWEEP_FLOOR 512

/* A probe target: from tunnel @tun's namespace to its peer's overlay
 * address, or an address the user named (--target) from a namespace of
 * theirs; @tun -1 when no diagnosed tunnel starts in that namespace.
 * @dst_ns is where the address lives, "" (with @dst_known false) when it
 * is on no namespace of this host: then only pings go. */
struct vx_probe_target {
	int tun;
	char src_ns[VX_NETNS_NAME_MAX], dst_ns[VX_NETNS_NAME_MAX];
	bool dst_known;
	int family; /* AF_INET, AF_INET6 */
	uint8_t dst[16];
	uint32_t mtu;
	/* Results, from the probe's pipe. */
	double rtt_us[VX_PROBE_MAX_RTT];
	double rtt_ms_at[VX_PROBE_MAX_RTT]; /* when, from the window's start */
	int n_rtt;
	unsigned sent, received, big_sent, big_received;
	uint64_t tcp_sent, tcp_received;
	bool tcp_done;
	/* The size sweep ("Z" lines: IP payload sizes sent) and the ICMP
	 * "fragmentation needed"/"packet too big" errors that came back for
	 * the target's pings ("F" lines, with the MTU they name). */
	uint16_t sw_size[VX_PROBE_SWEEP];
	uint8_t sw_sent[VX_PROBE_SWEEP], sw_got[VX_PROBE_SWEEP];
	int n_sw;
	unsigned too_big;
	uint32_t too_big_mtu;
	/* The route's MTU toward the target after the burst ("P" line): below
	 * the overlay MTU when PMTU discovery learned a smaller path. */
	uint32_t route_mtu;
	/* The tunnel's remote VTEP, pinged from src_ns beside the overlay
	 * pings ("S" and "R" lines of index VX_PROBE_UL + idx): the
	 * underlay's own round trip. ul_family 0: not pinged. */
	int ul_family;
	uint8_t ul_dst[16];
	double ul_rtt_us[VX_PROBE_MAX_RTT];
	int n_ul_rtt;
	unsigned ul_sent, ul_received;
};
/* The report's index of target idx's underlay pings. */
#define VX_PROBE_UL 1000

struct vx_probe {
	struct vx_probe_target tg[VX_EV_MAX_PROBES];
	int n_tg;
	pid_t pid;
	int fd;
	char buf[65536]; /* the child's report */
	size_t len;
	size_t scanned; /* buf bytes scanned for burst marks */
};

/* Before and after the mid-window burst: its queueing is vxray's doing,
 * never a fault, so a caller measuring latency takes it out. */
enum vx_probe_mark {
	VX_PROBE_BURST_BEGIN,
	VX_PROBE_BURST_END,
};
typedef void (*vx_probe_mark_cb)(void *ctx, enum vx_probe_mark m);

/* From each tunnel of @ev with a known peer to the peer's overlay address,
 * both ends inside named namespaces: vxray never probes from or to the
 * namespace it runs in. */
void vx_probe_pick_targets(struct vx_probe *p, const struct vx_evidence *ev);
/* The @n targets the user named with --target, looked up among @ev's
 * tunnels and in @names (the diagnosed namespaces) first, then in every
 * named namespace. Returns -ENOENT with the sentence printed when a source
 * namespace does not exist. */
int vx_probe_user_targets(struct vx_probe *p, const struct vx_target_spec *specs, int n,
			  const struct vx_evidence *ev, const char names[][VX_NETNS_NAME_MAX],
			  int n_names);

/* Fork the child that sends for @window_ns. 0 or a negative errno. */
int vx_probe_start(struct vx_probe *p, uint64_t window_ns);
/* The pipe to poll while the child runs. */
int vx_probe_fd(const struct vx_probe *p);
/* Read what the child reported so far; @cb (may be NULL) hears each burst
 * mark as its line arrives. Returns 0 for the event loop. */
int vx_probe_read(struct vx_probe *p, vx_probe_mark_cb cb, void *ctx);
/* Wait for the child (killing it when it outstays the window), read the
 * rest of its report and parse it into the targets. Idempotent. */
void vx_probe_stop(struct vx_probe *p);
/* Parse the report in p->buf (p->len bytes) into the targets' results;
 * vx_probe_stop() calls it. Lines naming no target are ignored. */
void vx_probe_parse(struct vx_probe *p);

/* The target's address, printable ("?" when it is not). */
const char *vx_probe_target_addr(const struct vx_probe_target *g, char *buf, size_t len);

/* One ev->probes entry per target: pings sent and answered, the
 * full-size ones and the sweep, ICMP too-big errors, the TCP exchange. */
void vx_probe_fill_probes(const struct vx_probe *p, struct vx_evidence *ev);
/* One "rtt" ev->lat entry per target that had answers: against @base
 * (@baseline says where it came from) when it knows the target, else against
 * the window's own first third when there are 9 round trips or more. */
void vx_probe_fill_latency(const struct vx_probe *p, struct vx_evidence *ev,
			   const struct vx_baseline *base, const char *baseline);

/* snprintf("%s") between fields of one static struct trips -Wrestrict;
 * they never overlap, but say it with memmove. */
static inline void vx_probe_cpy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memmove(dst, src, n);
	dst[n] = '\0';
}

#endif
