/* SPDX-License-Identifier: GPL-2.0-only */
/* What `vxray diagnose` concludes, and from what. Pure reasoning: a
 * struct vx_evidence filled by the view from its engines goes in, findings
 * come out, each with a one-sentence verdict, its evidence and the next
 * step. No BPF, no I/O, so every verdict is unit-tested on hand-built
 * evidence (tests/unit/test_findings.c). It never knows which fault was
 * injected: it only reads counts, drops, tables and MTUs. */
#ifndef VXRAY_FINDINGS_H
#define VXRAY_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opts.h"

/* Tunnels: a live diagnosis has one per VXLAN device; one read from
 * Prometheus, one per device and remote VTEP of every node. */
#define VX_EV_MAX_TUN 128
#define VX_EV_MAX_PROBES 32 /* --probe targets */
#define VX_EV_MAX_DROPS 64
#define VX_EV_MAX_LAT 32
#define VX_MAX_FINDINGS 16
#define VX_FINDING_MAX_EV 12

/* Below this many encapsulated packets a silent peer proves nothing. */
#define VX_ONE_SIDED_MIN 3
/* Conntrack table this full (percent) counts as exhausted. */
#define VX_CT_FULL_PCT 95.0
/* Latency: the median must grow by this factor AND by this many us. */
#define VX_LAT_FACTOR 3.0
#define VX_LAT_MIN_DELTA_US 500.0

/* One VXLAN device, over the diagnosis window. */
struct vx_ev_tunnel {
	char netns[VX_NETNS_NAME_MAX];
	char device[16];
	char underlay[16];
	char master[16];	    /* the bridge it is a port of, "" when none */
	uint32_t vni;		    /* 0 when external */
	bool external;		    /* collect_md: each packet's tunnel key names its VNI */
	char local[46], remote[46]; /* VTEP addresses, "" when unknown */
	uint16_t dstport;
	uint32_t mtu, underlay_mtu;
	bool mtu_bad;			       /* vx_mtu_problem() */
	char mtu_msg[256];		       /* its sentence */
	int peer;			       /* the tunnel at the other end, -1: unknown */
	uint64_t encap, decap;		       /* packets this end encapsulated / decapsulated */
	uint64_t underlay_rx;		       /* packets the underlay device received */
	uint64_t rt_full, rt_small, rt_synack; /* TCP retransmits of flows through it */
	uint32_t rt_max_len;
	/* UDP checksum errors (Udp and Udp6 InCsumErrors) counted in its
	 * namespace during the window: bad outer checksums (pathjudge.c). */
	uint64_t udp_csum_errors;
};

/* Kernel drops of one kind in one place, over the window. */
struct vx_ev_drop {
	char netns[VX_NETNS_NAME_MAX];
	char reason[64];   /* the kernel's name, "SKB_DROP_REASON_" stripped */
	char location[64]; /* "sym+0xoff" or "" */
	char device[16];   /* "" when unknown */
	char rule[200];	   /* the netfilter rule, "" when unknown */
	bool outer;	   /* an encapsulated VXLAN packet (underlay traffic) */
	uint32_t vni;	   /* the VNI it carried, when it was one (has_vni) */
	bool has_vni;
	uint64_t count;
	/* None of the traffic that matters (the probe's, or the host's own
	 * link-local control traffic when nothing is probed; dropev.c):
	 * a note, never a finding. */
	bool unrelated;
	/* Whether it was tunnel traffic, and which side of the tunnel, is
	 * not known: a rule's counter read from Prometheus (promev.c) that
	 * names neither the VXLAN port nor a VXLAN device. outer is false. */
	bool side_unknown;
	char packet[160];   /* the first such packet, "udp 10.0.0.1:5000→10.0.0.2:4789" */
	char outer_src[46]; /* an outer VXLAN packet's VTEPs, "" when not one */
	char outer_dst[46];
	uint16_t outer_dport; /* ... and its UDP port, 0 when not one */
};

/* One namespace's conntrack table. */
struct vx_ev_ct {
	char netns[VX_NETNS_NAME_MAX];
	uint32_t count, max;
	uint64_t insert_failed, drop, early_drop; /* during the window */
};

/* One latency measurement against its baseline. */
struct vx_ev_lat {
	char netns[VX_NETNS_NAME_MAX];
	char device[16];
	char stage[16];	     /* "encap", "wire", "decap", "delivery", "rtt" */
	char base_from[160]; /* "the window's first third", "--baseline FILE", the agent's */
	bool has_base;
	/* The baseline is the window's own first third: it holds only for a
	 * fault that began during the window, so it comes after evidence that
	 * needs no baseline. */
	bool base_own;
	double base_p50_us, base_p90_us;
	double p50_us, p90_us;
	uint64_t samples;
	uint32_t vni; /* the stage's packets' VNI (0: unknown, "rtt") */
	/* Two humps (vx_hist_bimodal): where each begins, and the share of
	 * the samples in the upper one. */
	bool bimodal;
	double lo_us, hi_us, hi_share;
};

/* One --probe target: vxray's own pings. */
struct vx_ev_probe {
	char from[VX_NETNS_NAME_MAX]; /* the sending namespace, "" for vxray's own */
	char to[46];		      /* the address pinged */
	uint32_t sent, received;
	/* What pathjudge.c's PMTU check reads. The sizes are inner IP packet
	 * lengths (the ping's IP payload plus its IP header). */
	int tun;			 /* the tunnel it crossed (ev->tun), -1: unknown */
	uint32_t big_sent, big_received; /* full-size (the overlay MTU, DF) pings */
	uint32_t sweep_sent;		 /* sizes swept below the full size, DF */
	uint32_t sweep_ok;		 /* the largest size answered, 0: none */
	uint32_t sweep_lost;		 /* the smallest size lost, 0: none */
	bool sweep_clean;		 /* every size answered is below every size lost */
	uint32_t too_big;		 /* ICMP "fragmentation needed"/"too big" received */
	uint32_t too_big_mtu;		 /* the MTU the last of them named */
	uint32_t route_mtu;		 /* the sender's route MTU toward it after the burst */
	uint64_t tcp_sent, tcp_received; /* the TCP exchange, bytes */
	/* Round trips at the median: the overlay pings', and those of the
	 * tunnel's remote VTEP pinged over the underlay (ul_to; ul_samples 0
	 * when it was not). */
	double rtt_p50_us, ul_rtt_p50_us;
	uint32_t rtt_samples, ul_samples;
	char ul_to[46];
};

/* A probe target answering fewer than this share of its pings is
 * unreachable, when nothing else explains it. */
#define VX_PROBE_MIN_SENT 5
#define VX_PROBE_MIN_ANSWERED 0.5

struct vx_evidence {
	double window_s;
	bool probed; /* vxray sent its own traffic */
	/* Read from metrics (promev.c): no underlay receive counts, so a
	 * silent peer's packets cannot be placed on or off its underlay. */
	bool no_underlay_rx;
	struct vx_ev_tunnel tun[VX_EV_MAX_TUN];
	int n_tun;
	struct vx_ev_drop drops[VX_EV_MAX_DROPS];
	int n_drops;
	struct vx_ev_ct ct[VX_MAX_NETNS];
	int n_ct;
	struct vx_ev_lat lat[VX_EV_MAX_LAT];
	int n_lat;
	struct vx_ev_probe probes[VX_EV_MAX_PROBES];
	int n_probes;
	/* Every diagnosed namespace: those without a VXLAN device are hops
	 * on the underlay path (a router), watched when named. */
	char watched[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	int n_watched;
};

enum vx_verdict {
	VX_V_HEALTHY = 0,
	VX_V_ONE_SIDED,
	VX_V_NETFILTER_OVERLAY,
	VX_V_NETFILTER_UNDERLAY,
	VX_V_CONNTRACK,
	VX_V_MTU,
	VX_V_LATENCY,
	VX_V_DECAP,
	VX_V_ENCAP,
	VX_V_UNREACHABLE,
	VX_V_UNDERLAY_PATH, /* pathjudge.c */
	VX_V_PMTU_BLACKHOLE,
	VX_V_OUTER_CSUM,
	VX_V_NETFILTER, /* a rule drops, on traffic not known (side_unknown) */
	VX_V__MAX,
};

struct vx_finding {
	enum vx_verdict verdict;
	bool placed;		       /* in one namespace: netns (else not one place) */
	char netns[VX_NETNS_NAME_MAX]; /* that namespace as an option names it ("" is
					* vxray's own); JSON and text show its label */
	char device[16];
	char sentence[512]; /* the verdict in one sentence */
	char evidence[VX_FINDING_MAX_EV][256];
	int n_evidence;
	char next[384]; /* what to check or change */
};

/* Machine-readable id: "healthy", "one_sided_tunnel", "netfilter_overlay",
 * "netfilter_underlay", "conntrack_exhaustion", "mtu_mismatch",
 * "underlay_latency", "decap_failure", "encap_failure", "probe_unanswered",
 * "underlay_path_loss", "pmtu_black_hole", "outer_udp_checksum",
 * "netfilter_drop". */
const char *vx_verdict_id(enum vx_verdict v);

/* Fill @out (at most @max) with what @ev shows; returns how many. Always at
 * least one: VX_V_HEALTHY with the evidence of health when nothing is
 * wrong. */
int vx_findings_judge(const struct vx_evidence *ev, struct vx_finding *out, int max);

/* The tunnels of inventory @inv in the namespaces @names, each with its
 * peer (tunev.c). */
struct vx_inventory;
void vx_ev_from_inventory(struct vx_evidence *ev, const struct vx_inventory *inv,
			  const char names[][VX_NETNS_NAME_MAX], int n_names);
/* Each tunnel's peer (vx_ev_tunnel.peer): the tunnel elsewhere whose local
 * VTEP is its remote, with its VNI (or either external); one whose remote
 * is this tunnel's local VTEP first, when there are several. */
void vx_ev_pair_tunnels(struct vx_evidence *ev);

/* A new finding @v at @netns/@device in @out (*n of @max used), zeroed
 * but for those; NULL when @out is full (evid.c). */
struct vx_finding *vx_finding_add(struct vx_finding *out, int *n, int max, enum vx_verdict v,
				  const char *netns, const char *device);
/* One more line of evidence on @f (evid.c; nothing when @f is NULL or
 * full), and the line saying drop row @d. */
__attribute__((format(printf, 2, 3))) void vx_evid(struct vx_finding *f, const char *fmt, ...);
void vx_drop_evid(struct vx_finding *f, const struct vx_ev_drop *d);
/* How a verdict names @t's VNI: "VNI 100", or "external" for a device
 * whose packets each carry their own (never "VNI 0"). */
const char *vx_ev_vni(const struct vx_ev_tunnel *t, char *buf, size_t len);

/* ---- the values behind a verdict (mismatch.c) ----------------------------
 * When diagnose has read both ends of a tunnel, a mismatch is said with
 * both ("A sends to UDP 4789; B's vxlan100 listens on 4790"), from the
 * dropped packets where they carry it and from the inventory otherwise.
 * Declared here, beside the evidence they read: findings.c words its
 * verdicts with them. */

/* The watched tunnel in another namespace that sent the outer packets of
 * drop @x (its local address is their source, or its remote is the local
 * address of a tunnel in @x's namespace); NULL when none is. */
const struct vx_ev_tunnel *vx_mm_sender(const struct vx_evidence *ev, const struct vx_ev_drop *x);
/* The tunnel in @x's namespace those packets were meant for: the one at
 * their outer destination, else one with @sender's VNI, else the first. */
const struct vx_ev_tunnel *vx_mm_receiver(const struct vx_evidence *ev, const struct vx_ev_drop *x,
					  const struct vx_ev_tunnel *sender);

/* A NO_SOCKET drop of outer packets: "; A sends to UDP 4789; B's vxlan100
 * listens on 4790" ("" when neither end is known). */
void vx_mm_port(const struct vx_evidence *ev, const struct vx_ev_drop *x, char *buf, size_t len);
/* A VNI nobody serves: " (B's vxlan100 has VNI 200)", "" when unknown. */
void vx_mm_vni(const struct vx_evidence *ev, const struct vx_ev_drop *x, char *buf, size_t len);

/* The tunnel of @x's namespace a transmit drop belongs to: on its VXLAN
 * device or its underlay, else the namespace's only one; NULL if none. */
const struct vx_ev_tunnel *vx_mm_tunnel_at(const struct vx_evidence *ev,
					   const struct vx_ev_drop *x);
/* Where @x was going: its outer destination, else @t's remote; "" if
 * neither is known. */
const char *vx_mm_remote(const struct vx_ev_drop *x, const struct vx_ev_tunnel *t);
/* @t sends to a remote no watched tunnel holds while a tunnel of its VNI
 * in another namespace is watched: "; A's vxlan100 sends to 10.0.0.3, but
 * B's vxlan100 (VNI 100) is at 10.0.0.2" ("" otherwise). @b (may be NULL)
 * gets that other tunnel. */
void vx_mm_remote_miss(const struct vx_evidence *ev, const struct vx_ev_tunnel *t, char *buf,
		       size_t len, const struct vx_ev_tunnel **b);

/* The drops of @ev that are not findings because they hit none of the
 * traffic that matters (vx_ev_drop.unrelated) but have a reason that
 * would have been one: one sentence each in @notes (at most @max), saying
 * what was dropped and what the kernel means by its reason. Returns how
 * many. */
#define VX_NOTE_LEN 512
int vx_findings_notes(const struct vx_evidence *ev, char (*notes)[VX_NOTE_LEN], int max);

/* ---- pathjudge.c: the underlay path between two VTEPs ---------------------
 * Judged beside the findings above and as pure: a hop that drops the
 * tunnel's packets (named when its namespace is diagnosed: one without a
 * VXLAN device, a router), a PMTU black hole (the probe's size sweep), bad
 * outer UDP checksums at the receiver. vx_findings_judge() calls each at
 * its place in the order, sharing which drops are explained already. */
struct vx_pjudge {
	const struct vx_evidence *ev;
	bool *drop_used;     /* per ev->drops: a finding explains it already */
	const bool *ct_full; /* per ev->ct: a full table explains loss there */
	bool *tun_quiet;     /* per ev->tun: its silence is explained (set here) */
	struct vx_finding *out;
	int *n;
	int max;
};

/* UDP_CSUM drops (or Udp InCsumErrors with the tunnel losing packets) where
 * a tunnel ends: "outer_udp_checksum". Before the one-sided check. */
void vx_pjudge_outer_csum(struct vx_pjudge *p);
/* A tunnel whose outer packets never reach the peer's underlay, nor are
 * dropped there: "underlay_path_loss", at the diagnosed hop that drops them
 * when one does. Before the one-sided check. */
void vx_pjudge_path(struct vx_pjudge *p);
/* Small probe pings answered, full-size ones and the sweep's larger sizes
 * lost without an ICMP too-big or a lowered route MTU, both ends' MTUs
 * fitting: "pmtu_black_hole". Before the netfilter check, which would
 * otherwise take a hop's dropped ICMP for overlay traffic. */
void vx_pjudge_pmtu(struct vx_pjudge *p);

/* ---- latjudge.c: underlay latency -----------------------------------------
 * "underlay_latency", after the MTU check: a stage against its baseline
 * (--baseline, the agent's, else the window's first third), and what needs
 * no earlier run: the wire stage of one tunnel A->B against B->A (a queue
 * on one side's path moves one direction only) and against what a wire
 * between two ends on this host takes (tens of microseconds); one VNI of
 * a device against its others; an underlay stage with two humps far
 * apart. One finding, the rest its evidence. */
#define VX_WIRE_HOST_MAX_US 500.0
void vx_pjudge_latency(struct vx_pjudge *p);

#endif
