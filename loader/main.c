// SPDX-License-Identifier: GPL-2.0-only
/* vxray: see inside Linux overlay networks. Option parsing and dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd.h"
#include "datapath.h"
#include "log.h"
#include "loop.h"
#include "httpd.h"
#include "vx_cap.h"

static const struct vx_cmd commands[] = {
	{ "trace", "one merged timeline of every hook, following each packet",
	  "Follows inner packets through the tunnel: ENCAP at the sender, the outer\n"
	  "packet on the underlay, vxlan_xmit/vxlan_rcv where a backend allows, DECAP\n"
	  "at the receiver, delivery to a TCP socket -- or where it died: the kernel's\n"
	  "drop reason, the netfilter hook and rule -- joined to the packet by its\n"
	  "identity. Conntrack entries and table-full ALERTs, link changes of watched\n"
	  "devices and TCP retransmits share the timeline. Kernel-timestamp order\n"
	  "within a 200 ms reorder window; netlink events are stamped on receipt.\n"
	  "A source this kernel refuses is left out: the startup line says which run.",
	  VX_OPT_FILTERS | VX_OPT_BACKEND | VX_OPT_XDP | VX_OPT_PCAP | VX_OPT_ALLNS, cmd_trace },
	{ "encap", "VXLAN encapsulation and decapsulation events",
	  "One line per tunnel packet: device, direction, ENCAP/DECAP, VNI, outer and\n"
	  "inner headers; every --interval a summary per (namespace, VNI, remote VTEP).",
	  VX_OPT_FILTERS | VX_OPT_SUMMARY | VX_OPT_XDP | VX_OPT_PCAP | VX_OPT_METRICS |
		  VX_OPT_ALLNS,
	  cmd_encap },
	{ "drops", "kernel packet drops with reason, location and stack",
	  "Every skb the kernel frees as dropped, with the reason named from this\n"
	  "kernel's BTF, the function that dropped it, and the tunnel it belonged to.",
	  VX_OPT_FILTERS | VX_OPT_STACK | VX_OPT_BACKEND | VX_OPT_PCAP | VX_OPT_METRICS,
	  cmd_drops },
	{ "conntrack", "conntrack table pressure per namespace",
	  "New, confirmed and destroyed entries, table count and max, allocation and\n"
	  "insert failures; an ALERT when the table fills.",
	  VX_OPT_BACKEND | VX_OPT_METRICS, cmd_conntrack },
	{ "retrans", "TCP retransmits inside the overlay, with the MTU fingerprint",
	  "Each retransmit with its inner 4-tuple, TCP state and carrying tunnel.",
	  VX_OPT_FILTERS | VX_OPT_BACKEND | VX_OPT_METRICS, cmd_retrans },
	{ "policy", "netfilter drops with the rule that dropped the packet",
	  "Hook, family, namespace, headers, and the iptables/nftables rule.",
	  VX_OPT_FILTERS | VX_OPT_STACK | VX_OPT_BACKEND | VX_OPT_PCAP | VX_OPT_METRICS,
	  cmd_policy },
	{ "latency", "per-stage tunnel latency histograms",
	  "encap, underlay wire, decap, TCP delivery and vxlan_xmit latency, joined per\n"
	  "packet in the kernel: histograms, p50/p90/p99/p99.9, max, join rate;\n"
	  "--backend picks how vxlan_xmit is timed; --sample how many packets are\n"
	  "timed (counters stay exact).",
	  VX_OPT_FILTERS | VX_OPT_BACKEND | VX_OPT_XDP | VX_OPT_METRICS | VX_OPT_ALLNS |
		  VX_OPT_SAMPLE,
	  cmd_latency },
	{ "diagnose", "run every view for a window and name the root cause",
	  "Watches the chosen namespaces (default: every one holding a VXLAN device)\n"
	  "for -d (default 10s) and prints findings: a verdict, its evidence and the\n"
	  "next step, or \"no fault found\". Exits 3 on a fault. --probe pings and\n"
	  "sends one short TCP exchange from each named namespace to its VXLAN peer's\n"
	  "overlay address (nothing is sent without it). Latency is judged without an\n"
	  "earlier run (the wire one way against the other), and against a baseline:\n"
	  "--baseline FILE (an earlier healthy `diagnose -j`), else the one `vxray\n"
	  "agent` keeps in --state-dir when there is one, else the window's first third.\n"
	  "--prometheus URL judges the same way what every node's `vxray agent`\n"
	  "recorded in Prometheus over --window (default 5m): both ends of each\n"
	  "tunnel across nodes, no privileges needed; exits 1 when it cannot be read.",
	  VX_OPT_DIAG | VX_OPT_BACKEND | VX_OPT_STATE | VX_OPT_SAMPLE, cmd_diagnose },
	{ "doctor", "what this kernel supports, and every VXLAN device with MTU checks",
	  "Checks BTF, lockdown, tracefs and privileges; tries each hook kind vxray\n"
	  "uses (load and attach a tiny program); lists every VXLAN device in the\n"
	  "chosen namespaces (default: this one and every named one) and flags\n"
	  "overlay MTUs that do not fit the underlay. Exits 3 when it finds an MTU\n"
	  "problem, so scripts can use it as a check.",
	  VX_OPT_BACKEND, cmd_doctor },
	{ "agent", "node agent: serve every counter and histogram as Prometheus metrics",
	  "Prints no events. Attaches the datapath with latency histograms (--auto\n"
	  "unless -i is given: every VXLAN device and its underlay, followed as they\n"
	  "come and go), the delivery latency hook (and with --xmit-latency the\n"
	  "vxlan_xmit/vxlan_rcv ones, best backend that loads; a refused one is a\n"
	  "health metric), the drop, retransmit and\n"
	  "conntrack probes; refreshes the metrics every --interval and serves them\n"
	  "on http://127.0.0.1:9435/metrics (or --metrics ADDR:PORT) until stopped.\n"
	  "Memory stays bounded whatever the number of flows: LRU maps in the\n"
	  "kernel, a cap on label sets per metric family. Keeps a rolling healthy\n"
	  "latency baseline per device and stage in --state-dir (default\n"
	  "/var/lib/vxray/baseline.json) that `vxray diagnose` uses. Its --sample\n"
	  "auto times every packet up to about 1024 a second per hook and CPU (the\n"
	  "latency view's: 8192), 1 in N above: always on, it takes fewer stamps.",
	  VX_OPT_BACKEND | VX_OPT_METRICS | VX_OPT_ALLNS | VX_OPT_STATE | VX_OPT_SAMPLE |
		  VX_OPT_XMITLAT,
	  cmd_agent },
	{ "version", "what this vxray is: version, libbpf, kernel, backends built in",
	  "The same as `vxray --version`; with -j, one JSON object. Which backends\n"
	  "this kernel allows is `vxray doctor`'s answer.",
	  0, cmd_version },
};
#define N_COMMANDS (int)(sizeof(commands) / sizeof(commands[0]))

enum {
	OPT_AUTO = 256,
	OPT_NETNS,
	OPT_INTERVAL,
	OPT_BACKEND,
	OPT_VNI,
	OPT_HOST,
	OPT_PORT,
	OPT_PROTO,
	OPT_RATE,
	OPT_STACK,
	OPT_PROBE,
	OPT_BASELINE,
	OPT_METRICS,
	OPT_SUMMARY,
	OPT_XDP,
	OPT_TARGET,
	OPT_PCAP,
	OPT_SNAPLEN,
	OPT_ALL_NETNS,
	OPT_STATE_DIR,
	OPT_SAMPLE,
	OPT_VERSION,
	OPT_INNER_HOST,
	OPT_OUTER_HOST,
	OPT_XMIT_LATENCY,
	OPT_PROMETHEUS,
	OPT_WINDOW,
	OPT_NODE,
	OPT_MAX_IFACES,
	OPT_MAX_TUNNELS,
};

static const struct option long_opts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "auto", no_argument, NULL, OPT_AUTO },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "vni", required_argument, NULL, OPT_VNI },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "stack", no_argument, NULL, OPT_STACK },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "summary", no_argument, NULL, OPT_SUMMARY },
	{ "xdp", no_argument, NULL, OPT_XDP },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "all-netns", no_argument, NULL, OPT_ALL_NETNS },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "inner-host", required_argument, NULL, OPT_INNER_HOST },
	{ "outer-host", required_argument, NULL, OPT_OUTER_HOST },
	{ "xmit-latency", no_argument, NULL, OPT_XMIT_LATENCY },
	{ "prometheus", required_argument, NULL, OPT_PROMETHEUS },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "max-interfaces", required_argument, NULL, OPT_MAX_IFACES },
	{ "max-tunnels", required_argument, NULL, OPT_MAX_TUNNELS },
	{ 0 },
};

static const char *opt_name(int val)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: vxray COMMAND [OPTIONS]\n"
		   "\n"
		   "See inside Linux overlay networks: where each tunnel packet was\n"
		   "encapsulated and decapsulated, how long each stage took, and the\n"
		   "kernel's own verdict when something went wrong.\n"
		   "\n"
		   "Commands:\n");
	for (int i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"Where to look:\n"
		"  -i, --interface [NETNS:]IFACE  attach to IFACE, inside network namespace NETNS\n"
		"                                 (as --netns takes it); repeatable\n"
		"      --auto                     every VXLAN device and its underlay device in\n"
		"                                 the chosen namespaces, followed as devices,\n"
		"                                 addresses, routes and named namespaces change\n"
		"      --netns NETNS              a namespace to look in: a NAME under /run/netns,\n"
		"                                 a namespace file by path (/proc/PID/ns/net,\n"
		"                                 /var/run/docker/netns/ID), or pid:PID; repeatable\n"
		"      --all-netns                encap, trace, latency, agent: every namespace\n"
		"                                 holding a VXLAN device (named, mounted, or any\n"
		"                                 process's), and each new one as it appears;\n"
		"                                 implies --auto\n"
		"      --max-interfaces N         interfaces the datapath may watch at once (default\n"
		"                                 4096, at most 65536): about 1.2 KiB each while\n"
		"                                 watched, and a device-map entry per VXLAN device\n"
		"      --max-tunnels N            tunnel counters the kernel keeps (default 4096,\n"
		"                                 256 to 1048576): one per device, hook, VNI and\n"
		"                                 remote VTEP, about 80 + 16 x CPUs bytes each;\n"
		"                                 a full mesh of R remotes takes about 4R\n"
		"\n"
		"How long and how to print:\n"
		"  -d, --duration TIME            stop after TIME (10s, 500ms, 2m); default: until Ctrl-C\n"
		"      --interval TIME            summary period (default 1s)\n"
		"  -o, --output FILE              write the view's output to FILE (created or\n"
		"                                 truncated) instead of stdout; messages stay on stderr\n"
		"  -j, --json                     JSON lines on stdout, errors as JSON on stderr\n"
		"  -v, --verbose                  vxray's own debug lines and libbpf's debug output\n"
		"      --backend KIND             fentry, kprobe or tracepoint; default: best that loads\n"
		"      --metrics [ADDR:]PORT      serve Prometheus metrics on /metrics (agent, and\n"
		"                                 encap drops latency retrans conntrack policy from\n"
		"                                 their own reads); ADDR defaults to 127.0.0.1\n"
		"      --summary                  encap: counters only, no per-packet events;\n"
		"                                 a summary every --interval\n"
		"      --xdp                      encap: also XDP on underlay ingress, native mode\n"
		"                                 only (off by default: native XDP moves a veth to\n"
		"                                 NAPI receive; never over another XDP program)\n"
		"      --pcap FILE                encap, trace, drops, policy: write each event's\n"
		"                                 packet to FILE as pcapng (Wireshark, tshark), one\n"
		"                                 interface per namespace/device/hook, a comment per\n"
		"                                 packet naming its event; FILE - streams it to\n"
		"                                 standard output (| tshark -r -), and what the view\n"
		"                                 prints goes to standard error (or -o)\n"
		"      --snaplen N                with --pcap: bytes kept of each packet, 16-2048\n"
		"                                 (default 256)\n"
		"      --sample auto|N            latency, diagnose, agent: time 1 in N packets\n"
		"                                 (N a power of two; 1: every packet, for a short\n"
		"                                 investigation); auto (default) times every packet\n"
		"                                 up to ~8k per second and CPU (agent, diagnose:\n"
		"                                 ~1k), 1 in N above. The same packets at every\n"
		"                                 hook and on both hosts, by a hash of the packet;\n"
		"                                 counters stay exact\n"
		"      --xmit-latency             agent: also time vxlan_xmit and vxlan_rcv (their\n"
		"                                 hooks run for every frame every device of the\n"
		"                                 node sends: off by default; `latency` has them)\n"
		"  tc programs use TCX links where the kernel has them (6.6+), else clsact +\n"
		"  cls_bpf filters over netlink; VXRAY_TC_ATTACH=netlink|tcx forces one.\n"
		"\n"
		"Diagnose:\n"
		"      --probe                    send a little traffic of vxray's own: pings and\n"
		"                                 one short TCP exchange per tunnel (nothing without it)\n"
		"      --target [NETNS:]ADDR      probe ADDR (IPv4, or NETNS:[IPv6]) from NETNS\n"
		"                                 (default: vxray's own) instead; repeatable, implies --probe\n"
		"      --baseline FILE            compare latency with an earlier healthy `diagnose -j`\n"
		"      --state-dir DIR            agent: keep a rolling latency baseline in\n"
		"                                 DIR/baseline.json; diagnose: use it when there is\n"
		"                                 no --baseline (default /var/lib/vxray)\n"
		"      --prometheus URL           judge what the nodes' agents recorded in the\n"
		"                                 Prometheus at URL (http://HOST:9090) instead of\n"
		"                                 watching live: every node, both ends of each tunnel\n"
		"      --window TIME              with --prometheus: how far back (default 5m)\n"
		"      --node NAME                with --prometheus: NAME (its node label, else its\n"
		"                                 instance) and the far ends of its tunnels only\n"
		"\n"
		"Filters (applied in the kernel before an event is emitted):\n"
		"      --vni N  --host ADDR  --port N  --proto tcp|udp|icmp|icmpv6  --rate N/s\n"
		"      --host matches the inner or the outer addresses; --inner-host ADDR only\n"
		"      the inner (or only) IP header, --outer-host ADDR only the outer one of a\n"
		"      tunnel packet (a VTEP)\n"
		"\n"
		"Exit status: 0 ok, 1 runtime error, 2 bad usage, 3 a problem was found,\n"
		"4 environment not ready (privileges, BTF, port in use, no such device yet).\n"
		"Run `vxray COMMAND --help` for a command's own help; `vxray doctor` first;\n"
		"`vxray --version` for the version.\n");
}

static void cmd_usage(FILE *f, const struct vx_cmd *c)
{
	fprintf(f, "Usage: vxray %s [OPTIONS]\n\n%s\n\n%s\n", c->name, c->summary, c->help);
	fprintf(f,
		"\nOptions: -i/--interface [NETNS:]IFACE, --auto, --netns NETNS, -d/--duration,\n"
		"--interval, -o/--output FILE, -j/--json, -v/--verbose");
	if (c->opts & VX_OPT_ALLNS)
		fprintf(f, ", --all-netns");
	if (c->opts & VX_OPT_BACKEND)
		fprintf(f, ", --backend fentry|kprobe|tracepoint");
	if (c->opts & VX_OPT_FILTERS)
		fprintf(f,
			",\n--vni N, --host ADDR, --inner-host ADDR, --outer-host ADDR, --port N, "
			"--proto P, --rate N");
	if (c->opts & VX_OPT_STACK)
		fprintf(f, ", --stack");
	if (c->opts & VX_OPT_DIAG)
		fprintf(f, ", --probe, --target [NETNS:]ADDR, --baseline FILE,\n--prometheus URL, "
			   "--window TIME, --node NAME");
	if (c->opts & VX_OPT_STATE)
		fprintf(f, ", --state-dir DIR");
	if (c->opts & VX_OPT_METRICS)
		fprintf(f, ", --metrics [ADDR:]PORT");
	if (c->opts & VX_OPT_SUMMARY)
		fprintf(f, ", --summary");
	if (c->opts & VX_OPT_XDP)
		fprintf(f, ", --xdp");
	if (c->opts & VX_OPT_PCAP)
		fprintf(f, ", --pcap FILE, --snaplen N");
	if (c->opts & VX_OPT_SAMPLE)
		fprintf(f, ", --sample auto|N");
	if (c->opts & VX_OPT_XMITLAT)
		fprintf(f, ", --xmit-latency");
	fprintf(f, ".\nRun `vxray --help` for what each option means.\n");
}

static const struct vx_cmd *find_cmd(const char *name)
{
	for (int i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int usage_error(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	pr_err("%s", msg);
	return -EINVAL;
}

static int need_opt(const struct vx_cmd *c, unsigned int bit, const char *name)
{
	if (c->opts & bit)
		return 0;
	if (bit == VX_OPT_METRICS) {
		pr_err("`vxray %s` serves no metrics: `vxray agent --metrics [ADDR:]PORT` serves "
		       "them all, and encap, drops, latency, retrans, conntrack and policy take "
		       "--metrics too",
		       c->name);
		return -EINVAL;
	}
	pr_err("option --%s does not apply to `vxray %s`; see `vxray %s --help`", name, c->name,
	       c->name);
	return -EINVAL;
}

/* 1 when @arg is an option whose value is the next argument. */
static int takes_value(const char *arg)
{
	if (arg[0] != '-' || !arg[1])
		return 0;
	if (arg[1] != '-')
		return arg[2] == '\0' && strchr("ido", arg[1]) != NULL;
	if (strchr(arg, '='))
		return 0;
	for (const struct option *o = long_opts; o->name; o++)
		if (!strcmp(arg + 2, o->name))
			return o->has_arg == required_argument;
	return 0;
}

/* Room for one more -i in @o: interfaces named on the command line are
 * as many as the datapath may watch, allocated as they come. 0, or
 * -ENOMEM with the sentence in @err. */
static int grow_ifaces(struct vx_opts *o, char *err, size_t errlen)
{
	int cap = o->cap_ifaces ? 2 * o->cap_ifaces : 8;
	struct vx_iface_spec *n;

	if (o->n_ifaces < o->cap_ifaces)
		return 0;
	n = realloc(o->ifaces, (size_t)cap * sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory for %d -i options", cap);
		return -ENOMEM;
	}
	o->ifaces = n;
	o->cap_ifaces = cap;
	return 0;
}

/* Returns 0, 1 when help was printed, or -EINVAL. */
static int parse_args(int argc, char **argv, struct vx_opts *o)
{
	char err[256];
	int cmd_idx = 0, c, ret;

	/* The subcommand may stand anywhere; find it first so options can be
	 * checked against it, then let getopt see the rest. */
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-' && find_cmd(argv[i])) {
			cmd_idx = i;
			break;
		}
		/* An option's value is not the command: `-o trace encap`. */
		i += takes_value(argv[i]);
	}
	/* -j and -v must take effect before the first message is printed. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			o->json = true;
	}
	vx_log_setup(0, o->json);
	if (cmd_idx) {
		o->cmd = find_cmd(argv[cmd_idx]);
		memmove(&argv[cmd_idx], &argv[cmd_idx + 1],
			(size_t)(argc - cmd_idx - 1) * sizeof(*argv));
		argc--;
	}

	o->interval_ns = NSEC_PER_SEC;
	o->proto = -1;
	o->sample = VX_SAMPLE_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:d:o:jvh", long_opts, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case 'i':
			if (o->n_ifaces >= VX_DP_MAX_WATCH_LIMIT)
				return usage_error(
					"too many -i options: at most %s (--auto watches "
					"every VXLAN device and its underlay)",
					"65536");
			if ((ret = grow_ifaces(o, err, sizeof(err))))
				break;
			ret = vx_parse_iface_spec(optarg, &o->ifaces[o->n_ifaces], err,
						  sizeof(err));
			if (!ret)
				o->n_ifaces++;
			break;
		case OPT_AUTO: o->auto_attach = true; break;
		case OPT_NETNS:
			if (o->n_netns >= VX_MAX_NETNS)
				return usage_error(
					"too many --netns options: at most 1024 (--all-netns "
					"takes every namespace)",
					NULL);
			ret = vx_parse_netns(optarg, o->netns[o->n_netns], VX_NETNS_NAME_MAX, err,
					     sizeof(err));
			if (!ret)
				o->n_netns++;
			break;
		case OPT_ALL_NETNS:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_ALLNS, "all-netns")))
				return ret;
			o->all_netns = true;
			break;
		case 'd': ret = vx_parse_duration(optarg, &o->duration_ns, err, sizeof(err)); break;
		case OPT_INTERVAL:
			ret = vx_parse_duration(optarg, &o->interval_ns, err, sizeof(err));
			break;
		case 'o':
			if (!optarg[0])
				return usage_error(
					"-o/--output needs a file name; `-` is standard output",
					NULL);
			o->output = optarg;
			break;
		case 'j': o->json = true; break;
		case 'v': o->verbose++; break;
		case OPT_VERSION: {
			struct vx_opts text = { .json = false };

			cmd_version(&text);
			return 1;
		}
		case 'h':
			if (o->cmd)
				cmd_usage(stdout, o->cmd);
			else
				usage(stdout);
			return 1;
		case OPT_BACKEND:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_BACKEND, "backend")))
				return ret;
			if (!strcmp(optarg, "fentry"))
				o->backend = VX_BACKEND_FENTRY;
			else if (!strcmp(optarg, "kprobe"))
				o->backend = VX_BACKEND_KPROBE;
			else if (!strcmp(optarg, "tracepoint"))
				o->backend = VX_BACKEND_TRACEPOINT;
			else
				return usage_error(
					"backend '%s' is not known: use fentry, kprobe or tracepoint",
					optarg);
			break;
		case OPT_VNI:
		case OPT_HOST:
		case OPT_INNER_HOST:
		case OPT_OUTER_HOST:
		case OPT_PORT:
		case OPT_PROTO:
		case OPT_RATE:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_FILTERS, opt_name(c))))
				return ret;
			if (c == OPT_VNI) {
				ret = vx_parse_vni(optarg, &o->vni, err, sizeof(err));
				o->has_vni = !ret;
			} else if (c == OPT_HOST || c == OPT_INNER_HOST || c == OPT_OUTER_HOST) {
				if (o->host[0])
					return usage_error("--host, --inner-host and --outer-host "
							   "each set the one host filter: give one "
							   "of them once%s",
							   "");
				ret = vx_parse_host(optarg, o->host, sizeof(o->host), err,
						    sizeof(err));
				o->host_side = c == OPT_INNER_HOST ? VX_HOST_INNER :
					       c == OPT_OUTER_HOST ? VX_HOST_OUTER :
								     VX_HOST_EITHER;
			} else if (c == OPT_PORT) {
				ret = vx_parse_port(optarg, &o->port, err, sizeof(err));
				o->has_port = !ret;
			} else if (c == OPT_PROTO) {
				ret = vx_parse_proto(optarg, &o->proto, err, sizeof(err));
			} else {
				ret = vx_parse_u32(optarg, "--rate", 1, 100000000, &o->rate, err,
						   sizeof(err));
			}
			break;
		case OPT_STACK:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_STACK, "stack")))
				return ret;
			o->stack = true;
			break;
		case OPT_PROBE:
		case OPT_BASELINE:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_DIAG,
						      c == OPT_PROBE ? "probe" : "baseline")))
				return ret;
			if (c == OPT_PROBE)
				o->probe = true;
			else
				o->baseline = optarg;
			break;
		case OPT_PROMETHEUS:
		case OPT_WINDOW:
		case OPT_NODE:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_DIAG, opt_name(c))))
				return ret;
			if (c == OPT_PROMETHEUS)
				o->prometheus = optarg;
			else if (c == OPT_NODE)
				o->node = optarg;
			else
				ret = vx_parse_duration(optarg, &o->window_ns, err, sizeof(err));
			if (!ret && c == OPT_WINDOW && o->window_ns < NSEC_PER_SEC)
				return usage_error("--window must be at least 1s: Prometheus "
						   "keeps samples seconds apart%s",
						   "");
			break;
		case OPT_MAX_IFACES:
			ret = vx_parse_u32(optarg, "--max-interfaces", 16, VX_DP_MAX_WATCH_LIMIT,
					   &o->max_ifaces, err, sizeof(err));
			break;
		case OPT_MAX_TUNNELS:
			ret = vx_parse_u32(optarg, "--max-tunnels", VX_DP_MIN_TUNNELS,
					   VX_DP_MAX_TUNNELS, &o->max_tunnels, err, sizeof(err));
			break;
		case OPT_XMIT_LATENCY:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_XMITLAT, "xmit-latency")))
				return ret;
			o->xmit_stage = true;
			break;
		case OPT_SAMPLE:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_SAMPLE, "sample")))
				return ret;
			ret = vx_parse_sample(optarg, &o->sample, err, sizeof(err));
			o->sample_set = !ret;
			break;
		case OPT_STATE_DIR:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_STATE, "state-dir")))
				return ret;
			if (!optarg[0])
				return usage_error("--state-dir needs a directory", NULL);
			o->state_dir = optarg;
			break;
		case OPT_TARGET:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_DIAG, "target")))
				return ret;
			if (o->n_targets >= VX_MAX_TARGETS)
				return usage_error("too many --target options: at most 8", NULL);
			ret = vx_parse_target(optarg, &o->targets[o->n_targets], err, sizeof(err));
			if (!ret) {
				o->n_targets++;
				o->probe = true;
			}
			break;
		case OPT_METRICS:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_METRICS, "metrics")))
				return ret;
			ret = vx_metrics_parse_listen(optarg, o->metrics_addr,
						      sizeof(o->metrics_addr), &o->metrics_port,
						      err, sizeof(err));
			o->has_metrics = !ret;
			break;
		case OPT_SUMMARY:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_SUMMARY, "summary")))
				return ret;
			o->summary = true;
			break;
		case OPT_XDP:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_XDP, "xdp")))
				return ret;
			o->xdp = true;
			break;
		case OPT_PCAP:
		case OPT_SNAPLEN:
			if (o->cmd && (ret = need_opt(o->cmd, VX_OPT_PCAP, opt_name(c))))
				return ret;
			if (c == OPT_PCAP && !optarg[0])
				return usage_error(
					"--pcap needs the name of a file to write the capture to%s",
					"");
			if (c == OPT_PCAP)
				o->pcap = optarg;
			else
				ret = vx_parse_u32(optarg, "--snaplen", VX_SNAPLEN_MIN,
						   VX_SNAPLEN_MAX, &o->snaplen, err, sizeof(err));
			break;
		case ':':
			return usage_error("option %s needs a value; see `vxray --help`",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'; see `vxray --help`",
					   argv[optind - 1]);
		}
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
	}
	if (optind < argc) {
		if (!o->cmd)
			return usage_error("unknown command '%s'; run `vxray --help` for the list",
					   argv[optind]);
		return usage_error("unexpected argument '%s'; see `vxray --help`", argv[optind]);
	}
	if (!o->cmd) {
		usage(stderr);
		return -EINVAL;
	}
	if (o->snaplen && !o->pcap)
		return usage_error("--snaplen only sets how much of each packet --pcap keeps: add "
				   "--pcap FILE%s",
				   "");
	if (o->all_netns && (o->n_netns || o->n_ifaces))
		return usage_error("--all-netns chooses every namespace itself: leave out --netns "
				   "and -i, or name the namespaces without --all-netns%s",
				   "");
	if ((o->window_ns || o->node) && !o->prometheus)
		return usage_error("--window and --node say what to read from Prometheus: add "
				   "--prometheus URL%s",
				   "");
	if (o->prometheus && (o->probe || o->baseline || o->n_netns || o->n_ifaces ||
			      o->auto_attach || o->duration_ns || o->state_dir))
		return usage_error("--prometheus judges what the agents recorded: --probe, "
				   "--target, --baseline, --netns, -i, --auto, -d and --state-dir "
				   "are for a live diagnose on this node%s",
				   "");
	if (o->pcap && o->summary)
		return usage_error("--pcap writes each event's packet and --summary turns events "
				   "off: drop one of them%s",
				   "");
	vx_log_setup(o->verbose, o->json);
	return 0;
}

/* --pcap -: the capture keeps standard output (a pipe to tshark, say),
 * and what the view prints goes to standard error, or to -o FILE. */
static int stream_capture(struct vx_opts *o)
{
	if (!o->pcap || strcmp(o->pcap, "-"))
		return 0;
	if (o->output && !strcmp(o->output, "-")) {
		pr_err("--pcap - and -o - both want standard output: give one of them a file");
		return -EINVAL;
	}
	if (isatty(STDOUT_FILENO)) {
		pr_err("--pcap - writes binary pcapng to standard output, which is a terminal: "
		       "pipe it (| tshark -r -) or give --pcap a file");
		return -EINVAL;
	}
	o->pcap_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (o->pcap_fd < 0 || (!o->output && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)) {
		pr_err("cannot keep standard output for --pcap -: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* -o FILE becomes standard output before the view starts, so every view
 * writes there unchanged and an unwritable file is refused before anything
 * is loaded or attached. */
static int open_output(const char *path)
{
	int fd;

	if (!path || !strcmp(path, "-"))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0) {
		pr_err("cannot write the output file '%s': %s; give a writable path with -o", path,
		       strerror(errno));
		return -errno;
	}
	if (dup2(fd, STDOUT_FILENO) < 0) {
		int err = -errno;

		pr_err("cannot make '%s' the output: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	vx_exiting = 1;
}

/* Each watched interface holds a TCX link or two (two descriptors each),
 * each followed namespace a few more: a thousand devices need more than
 * the 1024 a systemd service starts with. Its hard limit is high, and
 * vxray polls with epoll and poll(), never select(): take all of it. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	/* Events go out in large writes when stdout is a file or a pipe; the
	 * loop flushes it every drain period, tick and at exit (loop.c). */
	static char outbuf[256 * 1024];
	struct vx_opts opts = {};
	struct sigaction sa = { .sa_handler = on_signal };
	int ret;

	/* A fixed threshold: every block of 128 KiB or more is its own mmap,
	 * unmapped when freed. glibc's default raises the threshold to the
	 * size of the last such block freed, so after the first BTF parse is
	 * released the next one (libbpf's, in each skeleton load) lands in the
	 * brk heap and stays resident after it is freed. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	ret = parse_args(argc, argv, &opts);
	if (ret > 0)
		return VX_EXIT_OK;
	if (ret < 0 || stream_capture(&opts) || open_output(opts.output))
		return VX_EXIT_USAGE;
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	raise_fd_limit();

	if (opts.all_netns)
		vx_dp_all_netns(&opts);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return opts.cmd->run(&opts);
}
