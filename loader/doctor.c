// SPDX-License-Identifier: GPL-2.0-only
/* `vxray doctor`: what this kernel lets vxray do, and every VXLAN device in
 * the chosen namespaces with its MTU checked against its underlay. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "hookprobe.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "netns.h"
#include "sysinfo.h"

static const char *addr_str(int family, const union vx_addr *a, char *buf, size_t len)
{
	if (!family)
		return "-";
	return inet_ntop(family, a, buf, (socklen_t)len) ? buf : "?";
}

static const char *ns_label(const char *netns)
{
	return netns && *netns ? netns : "(this)";
}

/* The namespaces to look in: --netns and the -i namespaces when given,
 * otherwise this one and every named one. */
static int pick_namespaces(const struct vx_opts *o, char names[][VX_NETNS_NAME_MAX], int max)
{
	char err[256];
	int n = 0;

	for (int i = 0; i < o->n_netns && n < max; i++)
		snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->netns[i]);
	for (int i = 0; i < o->n_ifaces && n < max; i++) {
		bool dup = false;

		for (int j = 0; j < n; j++)
			dup |= !strcmp(names[j], o->ifaces[i].netns);
		if (!dup)
			snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->ifaces[i].netns);
	}
	for (int i = 0; i < n; i++) {
		if (vx_netns_check(names[i], err, sizeof(err))) {
			pr_err("%s", err);
			return -ENOENT;
		}
	}
	if (n)
		return n;
	names[n++][0] = '\0';
	return n + vx_netns_list(names + 1, max - 1);
}

static void print_text(const struct vx_sysinfo *si, const struct vx_feature *feat, int feat_err,
		       const struct vx_inventory *inv, int n_problems)
{
	char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN], msg[256];

	printf("vxray doctor: kernel %s (%s)\n\n", si->release, si->machine);
	printf("System\n");
	printf("  %-18s %s\n", "BTF", si->btf ? "yes (/sys/kernel/btf/vmlinux)" :
	       "NO: vxray needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
	printf("  %-18s %s\n", "lockdown", si->lockdown);
	if (si->tracefs[0])
		printf("  %-18s mounted at %s\n", "tracefs", si->tracefs);
	else
		printf("  %-18s not mounted (classic tracepoints need it; vxray mounts it when it must)\n",
		       "tracefs");
	printf("  %-18s CAP_BPF %s, CAP_PERFMON %s, CAP_NET_ADMIN %s, CAP_SYS_ADMIN %s\n",
	       "privileges", si->cap_bpf ? "yes" : "no", si->cap_perfmon ? "yes" : "no",
	       si->cap_net_admin ? "yes" : "no", si->cap_sys_admin ? "yes" : "no");

	printf("\nHooks (each tried: load and attach a tiny program)\n");
	if (feat_err) {
		printf("  not probed: %s\n", vx_strerror(feat_err));
	} else {
		for (int k = 0; k < VX_HOOK__MAX; k++) {
			const struct vx_feature *f = &feat[k];

			printf("  %-18s %-4s %s\n", vx_hook_kind_name(k),
			       f->loads && f->attaches ? "yes" : "no", f->detail);
		}
	}

	printf("\nVXLAN devices\n");
	if (!inv->n) {
		printf("  none found\n");
	} else {
		printf("  %-12s %-14s %8s %-16s %-18s %5s %-14s %-5s %5s %5s\n", "NETNS", "DEVICE",
		       "VNI", "LOCAL", "REMOTE", "PORT", "UNDERLAY", "LEARN", "MTU", "U-MTU");
		for (int i = 0; i < inv->n; i++) {
			const struct vx_vxlan_dev *d = &inv->devs[i];
			char remote[INET6_ADDRSTRLEN + 8], umtu[16] = "-";

			if (d->underlay_mtu)
				snprintf(umtu, sizeof(umtu), "%u", d->underlay_mtu);
			snprintf(remote, sizeof(remote), "%s%s",
				 addr_str(d->remote_family, &d->remote, a2, sizeof(a2)),
				 d->remote_is_group ? " (grp)" : "");
			printf("  %-12s %-14s %8u %-16s %-18s %5u %-14s %-5s %5u %5s\n",
			       ns_label(d->netns), d->name, d->vni,
			       addr_str(d->local_family, &d->local, a1, sizeof(a1)), remote,
			       d->dstport, d->underlay[0] ? d->underlay : "-",
			       d->learning ? "yes" : "no", d->mtu, umtu);
		}
	}

	printf("\nFindings\n");
	for (int i = 0; i < inv->n; i++)
		if (vx_mtu_problem(&inv->devs[i], msg, sizeof(msg)))
			printf("  MTU: %s\n", msg);
	if (!n_problems)
		printf("  no problem found\n");
}

static void print_json(const struct vx_sysinfo *si, const struct vx_feature *feat, int feat_err,
		       const struct vx_inventory *inv)
{
	char a[INET6_ADDRSTRLEN], msg[256];
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_open(&w, NULL);
	jw_obj_open(&w, "system");
	jw_str(&w, "kernel", si->release);
	jw_str(&w, "machine", si->machine);
	jw_bool(&w, "btf", si->btf);
	jw_str(&w, "lockdown", si->lockdown);
	if (si->tracefs[0])
		jw_str(&w, "tracefs", si->tracefs);
	else
		jw_null(&w, "tracefs");
	jw_obj_open(&w, "capabilities");
	jw_bool(&w, "CAP_BPF", si->cap_bpf);
	jw_bool(&w, "CAP_PERFMON", si->cap_perfmon);
	jw_bool(&w, "CAP_NET_ADMIN", si->cap_net_admin);
	jw_bool(&w, "CAP_SYS_ADMIN", si->cap_sys_admin);
	jw_obj_close(&w);
	jw_obj_close(&w);

	jw_obj_open(&w, "hooks");
	if (feat_err)
		jw_str(&w, "error", vx_strerror(feat_err));
	for (int k = 0; !feat_err && k < VX_HOOK__MAX; k++) {
		jw_obj_open(&w, vx_hook_kind_name(k));
		jw_bool(&w, "supported", feat[k].loads && feat[k].attaches);
		jw_bool(&w, "loads", feat[k].loads);
		jw_bool(&w, "attaches", feat[k].attaches);
		if (feat[k].err)
			jw_int(&w, "errno", -feat[k].err);
		jw_str(&w, "detail", feat[k].detail);
		jw_obj_close(&w);
	}
	jw_obj_close(&w);

	jw_arr_open(&w, "vxlan");
	for (int i = 0; i < inv->n; i++) {
		const struct vx_vxlan_dev *d = &inv->devs[i];
		bool bad = vx_mtu_problem(d, msg, sizeof(msg));

		jw_obj_open(&w, NULL);
		jw_str(&w, "netns", d->netns);
		jw_str(&w, "device", d->name);
		jw_int(&w, "ifindex", d->ifindex);
		jw_uint(&w, "vni", d->vni);
		if (d->local_family)
			jw_str(&w, "local", addr_str(d->local_family, &d->local, a, sizeof(a)));
		else
			jw_null(&w, "local");
		if (d->remote_family)
			jw_str(&w, d->remote_is_group ? "group" : "remote",
			       addr_str(d->remote_family, &d->remote, a, sizeof(a)));
		else
			jw_null(&w, "remote");
		jw_uint(&w, "dstport", d->dstport);
		jw_bool(&w, "learning", d->learning);
		jw_bool(&w, "up", d->up);
		jw_uint(&w, "mtu", d->mtu);
		if (d->underlay[0]) {
			jw_str(&w, "underlay", d->underlay);
			jw_uint(&w, "underlay_mtu", d->underlay_mtu);
			jw_str(&w, "underlay_found_by", d->underlay_from_route ? "route" : "link");
		} else {
			jw_null(&w, "underlay");
		}
		jw_bool(&w, "mtu_ok", !bad);
		if (bad)
			jw_str(&w, "mtu_problem", msg);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_obj_close(&w);
	jw_end_line(&w);
}

int cmd_doctor(struct vx_opts *o)
{
	char names[VX_MAX_NETNS + 1][VX_NETNS_NAME_MAX];
	struct vx_feature feat[VX_HOOK__MAX] = {};
	struct vx_inventory inv = {};
	struct vx_sysinfo si;
	const char *priv;
	char err[256], msg[256];
	int n_ns, feat_err = -EPERM, n_problems = 0, ret;

	for (int i = 0; i < o->n_ifaces; i++) {
		int ifindex;

		if (vx_iface_resolve(&o->ifaces[i], &ifindex, err, sizeof(err))) {
			pr_err("%s", err);
			return VX_EXIT_USAGE;
		}
	}
	n_ns = pick_namespaces(o, names, VX_MAX_NETNS + 1);
	if (n_ns < 0)
		return VX_EXIT_USAGE;

	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_privilege_problem(&si);
	if (!priv)
		feat_err = vx_features_probe(feat);

	for (int i = 0; i < n_ns; i++) {
		ret = vx_inventory_collect(&inv, names[i]);
		if (ret && ret != -EPERM) {
			pr_err("cannot list VXLAN devices in namespace %s: %s", ns_label(names[i]),
				vx_strerror(ret));
			vx_inventory_free(&inv);
			return VX_EXIT_FAIL;
		}
	}
	for (int i = 0; i < inv.n; i++)
		n_problems += vx_mtu_problem(&inv.devs[i], msg, sizeof(msg));

	if (o->json)
		print_json(&si, feat, feat_err, &inv);
	else
		print_text(&si, feat, feat_err, &inv, n_problems);
	vx_inventory_free(&inv);

	if (!si.btf) {
		pr_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): vxray's CO-RE programs "
			"cannot load; use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return VX_EXIT_FAIL;
	}
	if (priv) {
		pr_err("%s", priv);
		return VX_EXIT_FAIL;
	}
	return n_problems ? VX_EXIT_FINDING : VX_EXIT_OK;
}
