/* SPDX-License-Identifier: GPL-2.0-only */
/* Network namespaces as the user names them (netns specs, opts.h): named
 * ones as `ip netns` keeps them under /run/netns, namespace files by
 * path, and pid:PID. */
#ifndef VXRAY_NETNS_H
#define VXRAY_NETNS_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"

/* The file of a netns spec into @path: /run/netns/NAME, /proc/PID/ns/net,
 * or the path given; -EINVAL for a spec of no form. */
int vx_netns_path(const char *spec, char *path, size_t len);
/* Switch the calling thread into the namespace of a spec (NULL or "" = stay).
 * On success *saved is a fd for the previous namespace, to be passed to
 * vx_netns_leave(). Returns 0 or a negative errno (-ENOENT: no such name). */
int vx_netns_enter(const char *name, int *saved);
void vx_netns_leave(int saved);
/* Whether @err (from entering or checking @spec) says the namespace is
 * gone. A namespace vxray chose itself (--all-netns, or every named one
 * when none is given), or one already found to exist, can be deleted
 * between the listing and its use: such a one is said once, at info
 * level, however many parts of vxray meet it, and each caller leaves it
 * out as if it had never been listed.
 * A namespace the user named that is not there at the start is not
 * passed here: that is an error. */
bool vx_netns_gone(const char *spec, int err);
/* Names of every namespace in /run/netns, sorted; returns the count. */
int vx_netns_list(char names[][VX_NETNS_NAME_MAX], int max);
/* The namespace's inode number (what BPF sees as net->ns.inum), 0 on error. */
uint32_t vx_netns_inum(const char *name);

/* Resolve an interface spec to its ifindex inside its namespace. On failure
 * writes one sentence for the user into @err and returns a negative errno. */
int vx_iface_resolve(const struct vx_iface_spec *spec, int *ifindex, char *err, size_t errlen);
/* Check that a --netns or -i namespace exists and is a network namespace
 * ("no such process 1234", "'/etc/hosts' is not a network namespace
 * file"); same error contract. */
int vx_netns_check(const char *name, char *err, size_t errlen);

/* Every network namespace vxray can see: its own (spec ""), the named
 * ones, other nsfs mounts (by path), then each process's (pid:PID), one
 * entry per namespace inode, at most @max. Returns the count. */
struct vx_nsent {
	uint32_t inum;
	char spec[VX_NETNS_NAME_MAX];
};
int vx_netns_scan(struct vx_nsent *out, int max);
/* A /proc/PID/ns/net link's text, "net:[4026531840]", to its inode. */
int vx_nslink_inum(const char *link, uint32_t *inum);
/* One /proc/self/mountinfo line: 1 with the namespace inode and the
 * mount point (escapes undone) for a network namespace mounted there
 * (nsfs, root "net:[N]"), else 0. */
int vx_mountinfo_netns(const char *line, uint32_t *inum, char *path, size_t len);
#endif
