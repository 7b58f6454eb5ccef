/* SPDX-License-Identifier: GPL-2.0-only */
/* Named network namespaces, as `ip netns` keeps them under /run/netns. */
#ifndef VXRAY_NETNS_H
#define VXRAY_NETNS_H

#include <stdint.h>

#include "opts.h"

/* Switch the calling thread into the named namespace (NULL or "" = stay).
 * On success *saved is a fd for the previous namespace, to be passed to
 * vx_netns_leave(). Returns 0 or a negative errno (-ENOENT: no such name). */
int vx_netns_enter(const char *name, int *saved);
void vx_netns_leave(int saved);
/* Names of every namespace in /run/netns, sorted; returns the count. */
int vx_netns_list(char names[][VX_NETNS_NAME_MAX], int max);
/* The namespace's inode number (what BPF sees as net->ns.inum), 0 on error. */
uint32_t vx_netns_inum(const char *name);

/* Resolve an interface spec to its ifindex inside its namespace. On failure
 * writes one sentence for the user into @err and returns a negative errno. */
int vx_iface_resolve(const struct vx_iface_spec *spec, int *ifindex, char *err, size_t errlen);
/* Check that every --netns and -i namespace exists; same error contract. */
int vx_netns_check(const char *name, char *err, size_t errlen);
#endif
