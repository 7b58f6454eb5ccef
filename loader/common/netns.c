// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <net/if.h>
#include <unistd.h>

#include "netns.h"

#define NETNS_RUN_DIR "/run/netns"

int vx_netns_enter(const char *name, int *saved)
{
	char path[PATH_MAX];
	int fd, cur;

	*saved = -1;
	if (!name || !*name)
		return 0;
	if (!vx_valid_netns_name(name))
		return -EINVAL;
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (cur < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (setns(fd, CLONE_NEWNET)) {
		int err = -errno;

		close(fd);
		close(cur);
		return err;
	}
	close(fd);
	*saved = cur;
	return 0;
}

void vx_netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Failing to return would leave every later step in the wrong
	 * namespace; there is no sane way to continue. */
	if (setns(saved, CLONE_NEWNET)) {
		perror("vxray: cannot return to the original network namespace");
		abort();
	}
	close(saved);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int vx_netns_list(char names[][VX_NETNS_NAME_MAX], int max)
{
	DIR *d = opendir(NETNS_RUN_DIR);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		if (!vx_valid_netns_name(e->d_name) || e->d_name[0] == '.')
			continue;
		/* vx_valid_netns_name() bounds the length, so this cannot cut. */
		memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
	}
	closedir(d);
	qsort(names, (size_t)n, VX_NETNS_NAME_MAX, cmp_names);
	return n;
}

uint32_t vx_netns_inum(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (!name || !*name)
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	else
		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	if (stat(path, &st))
		return 0;
	return (uint32_t)st.st_ino;
}

int vx_netns_check(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (!name || !*name)
		return 0;
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	if (access(path, F_OK)) {
		snprintf(
			err, errlen,
			"network namespace '%s' does not exist: `ip netns list` shows the names vxray can use",
			name);
		return -ENOENT;
	}
	return 0;
}

int vx_iface_resolve(const struct vx_iface_spec *spec, int *ifindex, char *err, size_t errlen)
{
	int saved, ret, idx;

	ret = vx_netns_check(spec->netns, err, errlen);
	if (ret)
		return ret;
	ret = vx_netns_enter(spec->netns, &saved);
	if (ret) {
		snprintf(err, errlen, "cannot enter network namespace '%s': %s", spec->netns,
			 strerror(-ret));
		return ret;
	}
	idx = (int)if_nametoindex(spec->name);
	vx_netns_leave(saved);
	if (!idx) {
		if (spec->netns[0])
			snprintf(
				err, errlen,
				"interface '%s' does not exist in namespace '%s': `ip -n %s link` lists its interfaces",
				spec->name, spec->netns, spec->netns);
		else
			snprintf(err, errlen,
				 "interface '%s' does not exist here: `ip link` lists interfaces, "
				 "and NETNS:IFACE names one inside a namespace",
				 spec->name);
		return -ENODEV;
	}
	*ifindex = idx;
	return 0;
}
