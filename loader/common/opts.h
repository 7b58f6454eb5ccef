/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line model shared by every subcommand. Parsing lives in opts.c
 * and is pure (no side effects) so that it can be unit-tested and fuzzed. */
#ifndef VXRAY_OPTS_H
#define VXRAY_OPTS_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

/* Namespaces one run watches: --netns options, or those --all-netns
 * finds. */
#define VX_MAX_NETNS 1024
#define VX_NETNS_NAME_MAX 64

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
/* Longest --duration/--interval accepted: a week. Anything longer is far more
 * likely a typo (ms vs s) than an intent, and vxray is meant to be stopped. */
#define VX_MAX_DURATION_NS (7ULL * 24 * 3600 * NSEC_PER_SEC)

/* A network namespace as the user gives it (--netns, -i NETNS:IFACE), a
 * "netns spec": a NAME under /run/netns (`ip netns`), an absolute path to
 * a namespace file (/proc/PID/ns/net, /var/run/docker/netns/..., any nsfs
 * mount), or pid:PID, the namespace of a running process. "" is vxray's
 * own. A spec is at most VX_NETNS_NAME_MAX - 1 characters.
 *
 * An interface as the user named it: "eth0" or "NETNS:eth0". An empty netns
 * means vxray's own network namespace. */
struct vx_iface_spec {
	char netns[VX_NETNS_NAME_MAX];
	char name[IF_NAMESIZE];
};

/* A probe target as the user named it: "ADDR", "NETNS:ADDR" or, for IPv6
 * with a namespace, "NETNS:[ADDR]". An empty netns means vxray's own. */
#define VX_MAX_TARGETS 8
struct vx_target_spec {
	char netns[VX_NETNS_NAME_MAX];
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

enum vx_backend {
	VX_BACKEND_AUTO = 0,
	VX_BACKEND_FENTRY,
	VX_BACKEND_KPROBE,
	VX_BACKEND_TRACEPOINT,
};

struct vx_opts {
	const struct vx_cmd *cmd;

	struct vx_iface_spec *ifaces; /* -i, as many as given */
	int n_ifaces, cap_ifaces;
	char netns[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	int n_netns;
	bool auto_attach;
	bool all_netns; /* --all-netns: every namespace holding a VXLAN device */
	bool json;
	int verbose;
	const char *output;   /* -o FILE; NULL or "-": standard output */
	uint64_t duration_ns; /* 0: until interrupted */
	uint64_t interval_ns;
	enum vx_backend backend;
	uint32_t max_ifaces;  /* --max-interfaces; 0: the datapath's default */
	uint32_t max_tunnels; /* --max-tunnels; 0: VX_TUN_DEF_KEYS */

	/* Filters (encap, trace, ...), applied in the kernel. */
	bool has_vni;
	uint32_t vni;
	char host[64];
	uint8_t host_side; /* enum vx_host_side: --host, --inner-host, --outer-host */
	bool has_port;
	uint16_t port;
	int proto;     /* IPPROTO_*, -1 when not set */
	uint32_t rate; /* events per second, 0: unlimited */

	/* --metrics [ADDR:]PORT: serve Prometheus text on /metrics. */
	bool has_metrics;
	char metrics_addr[64];
	uint16_t metrics_port;

	/* --pcap FILE --snaplen N: packet bytes at each hook into pcapng. */
	const char *pcap;
	int pcap_fd;	  /* --pcap -: standard output as it was, 0 otherwise */
	uint32_t snaplen; /* 0: VX_SNAPLEN_DEFAULT */

	/* --sample: which packets latency stamps, VX_SAMPLE_* (vxray.h);
	 * sample_set says --sample was given (else VX_SAMPLE_DEFAULT). */
	uint8_t sample;
	bool sample_set;
	bool xmit_stage; /* agent --xmit-latency: vxlan_xmit/vxlan_rcv hooks too */

	bool summary; /* encap: counters only, no events */
	bool xdp;     /* datapath: XDP on underlay ingress */

	bool stack;				       /* drops: full kernel stacks */
	bool probe;				       /* diagnose: send own traffic */
	struct vx_target_spec targets[VX_MAX_TARGETS]; /* diagnose --target */
	int n_targets;
	const char *baseline; /* diagnose: earlier healthy run */
	/* diagnose --prometheus URL [--window TIME] [--node NAME]: judge what
	 * the agents recorded there instead of watching live */
	const char *prometheus;
	uint64_t window_ns; /* 0: 5 minutes */
	const char *node;   /* NULL: every node */
	/* agent keeps, diagnose reads, the latency baseline there (NULL:
	 * basestate.h's default) */
	const char *state_dir;
};

/* Each parser returns 0 or a negative errno and writes a one-sentence
 * explanation into @err (always NUL-terminated) when it fails. */
int vx_parse_duration(const char *s, uint64_t *ns, char *err, size_t errlen);
int vx_parse_iface_spec(const char *s, struct vx_iface_spec *out, char *err, size_t errlen);
int vx_parse_vni(const char *s, uint32_t *vni, char *err, size_t errlen);
int vx_parse_port(const char *s, uint16_t *port, char *err, size_t errlen);
int vx_parse_proto(const char *s, int *proto, char *err, size_t errlen);
int vx_parse_target(const char *s, struct vx_target_spec *out, char *err, size_t errlen);
/* An IPv4 or IPv6 address literal, written to @out in canonical form (so
 * that a text comparison matches inet_ntop's output); @outlen >= 46. */
int vx_parse_host(const char *s, char *out, size_t outlen, char *err, size_t errlen);
/* --sample: "auto", or N, a power of two from 1 (every packet) to
 * 2^VX_SAMPLE_SHIFT_MAX, into a VX_SAMPLE_* byte. */
int vx_parse_sample(const char *s, uint8_t *out, char *err, size_t errlen);
/* What @sample means, for a label or a line: "1", "1/64", "auto". */
const char *vx_sample_str(uint8_t sample, char *buf, size_t len);
int vx_parse_u32(const char *s, const char *what, uint32_t min, uint32_t max, uint32_t *out,
		 char *err, size_t errlen);
bool vx_valid_netns_name(const char *s);
/* A netns spec (above) into @out (@outlen >= VX_NETNS_NAME_MAX): a name
 * as it is, /run/netns/NAME (or /var/run/netns/NAME) as NAME, so that it
 * is followed by name, pid:PID and other paths as they are. Checks the
 * form only; vx_netns_check() looks at the system. */
int vx_parse_netns(const char *s, char *out, size_t outlen, char *err, size_t errlen);
/* Whether a (parsed) spec is a /run/netns name, or "" (vxray's own). */
bool vx_netns_is_name(const char *spec);
/* The PID of a pid:PID spec, else 0. */
int vx_netns_spec_pid(const char *spec);
/* Format @ns as "1.5s", "250ms", "3m" for messages. */
const char *vx_fmt_duration(uint64_t ns, char *buf, size_t len);

#endif
