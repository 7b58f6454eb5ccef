// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <net/if.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include "log.h"
#include "netns.h"

#define NETNS_RUN_DIR "/run/netns"

int vx_netns_path(const char *spec, char *path, size_t len)
{
	int pid = vx_netns_spec_pid(spec);

	if (pid)
		snprintf(path, len, "/proc/%d/ns/net", pid);
	else if (spec[0] == '/')
		snprintf(path, len, "%s", spec);
	else if (vx_valid_netns_name(spec))
		snprintf(path, len, NETNS_RUN_DIR "/%s", spec);
	else
		return -EINVAL;
	return 0;
}

int vx_netns_enter(const char *name, int *saved)
{
	char path[PATH_MAX];
	int fd, cur;

	*saved = -1;
	if (!name || !*name)
		return 0;
	if (vx_netns_path(name, path, sizeof(path)))
		return -EINVAL;
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
		/* A name whose file holds no namespace: being added or
		 * deleted (vx_netns_check). */
		return err == -EINVAL && vx_netns_is_name(name) ? -ENOENT : err;
	}
	close(fd);
	*saved = cur;
	return 0;
}

#define GONE_SAID 16

bool vx_netns_gone(const char *spec, int err)
{
	/* The names already said; past GONE_SAID, a gone one may be said
	 * again. */
	static char said[GONE_SAID][VX_NETNS_NAME_MAX];
	static unsigned int n_said;

	if (err != -ENOENT || !spec || !spec[0])
		return false;
	for (unsigned int i = 0; i < n_said && i < GONE_SAID; i++)
		if (!strcmp(said[i], spec))
			return true;
	snprintf(said[n_said++ % GONE_SAID], VX_NETNS_NAME_MAX, "%s", spec);
	pr_info("namespace %s is gone; left out", spec);
	return true;
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
	else if (vx_netns_path(name, path, sizeof(path)))
		return 0;
	if (stat(path, &st))
		return 0;
	return (uint32_t)st.st_ino;
}

static const char *ns_type_name(int type)
{
	switch (type) {
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWUTS: return "UTS";
	case CLONE_NEWIPC: return "IPC";
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWPID: return "PID";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	}
	return "non-network";
}

#define SPEC_FORMS "a name from `ip netns list`, a path such as /proc/PID/ns/net, or pid:PID"

int vx_netns_check(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int pid, fd, type;

	if (!name || !*name)
		return 0;
	pid = vx_netns_spec_pid(name);
	if (vx_netns_path(name, path, sizeof(path))) {
		snprintf(err, errlen, "'%s' is not a network namespace: give " SPEC_FORMS, name);
		return -EINVAL;
	}
	if (vx_netns_is_name(name) && access(path, F_OK)) {
		snprintf(
			err, errlen,
			"network namespace '%s' does not exist: `ip netns list` shows the names vxray can use",
			name);
		return -ENOENT;
	}
	if (pid) {
		char dir[32];

		snprintf(dir, sizeof(dir), "/proc/%d", pid);
		if (access(dir, F_OK)) {
			snprintf(err, errlen,
				 "no such process %d: pid:PID names the network namespace of a "
				 "running process",
				 pid);
			return -ENOENT;
		}
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, errlen, "no such file '%s': give " SPEC_FORMS, path);
		else
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	type = ioctl(fd, NS_GET_NSTYPE);
	close(fd);
	if (type < 0 && vx_netns_is_name(name)) {
		/* `ip netns add` creates the file before it mounts the
		 * namespace there, `ip netns del` unmounts it before it
		 * removes the file. */
		snprintf(err, errlen,
			 "network namespace '%s' does not exist: %s holds none (being added or "
			 "deleted); `ip netns list` shows the names vxray can use",
			 name, path);
		return -ENOENT;
	}
	if (type < 0) {
		snprintf(err, errlen, "'%s' is not a network namespace file: give " SPEC_FORMS,
			 path);
		return -EINVAL;
	}
	if (type != CLONE_NEWNET) {
		snprintf(err, errlen,
			 "'%s' is a %s namespace, not a network namespace: give " SPEC_FORMS, path,
			 ns_type_name(type));
		return -EINVAL;
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
		if (spec->netns[0] && !vx_netns_is_name(spec->netns)) {
			char path[PATH_MAX];

			vx_netns_path(spec->netns, path, sizeof(path));
			snprintf(
				err, errlen,
				"interface '%s' does not exist in namespace '%s': `nsenter --net=%s ip link` lists its interfaces",
				spec->name, spec->netns, path);
		} else if (spec->netns[0])
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

/* ---- every namespace on the host ------------------------------------------ */

int vx_nslink_inum(const char *link, uint32_t *inum)
{
	unsigned long long v = 0;
	const char *p;

	if (strncmp(link, "net:[", 5) || !isdigit((unsigned char)link[5]))
		return -EINVAL;
	for (p = link + 5; isdigit((unsigned char)*p); p++)
		if ((v = v * 10 + (unsigned)(*p - '0')) > UINT32_MAX)
			return -EINVAL;
	if (strcmp(p, "]") || !v)
		return -EINVAL;
	*inum = (uint32_t)v;
	return 0;
}

/* A mountinfo field with its octal escapes (\040 for a space) undone. */
static int unescape_field(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n + 1 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int vx_mountinfo_netns(const char *line, uint32_t *inum, char *path, size_t len)
{
	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
	const char *f[5], *p = line, *sep;
	size_t fl[5];
	char root[32];

	for (int i = 0; i < 5; i++) {
		while (*p == ' ')
			p++;
		f[i] = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		fl[i] = (size_t)(p - f[i]);
		if (!fl[i])
			return 0;
	}
	sep = strstr(p, " - ");
	if (!sep || strncmp(sep + 3, "nsfs ", 5) || fl[3] >= sizeof(root))
		return 0;
	memcpy(root, f[3], fl[3]);
	root[fl[3]] = '\0';
	if (vx_nslink_inum(root, inum))
		return 0;
	return unescape_field(f[4], fl[4], path, len) ? 0 : 1;
}

static int scan_add(struct vx_nsent *out, int n, int max, uint32_t inum, const char *spec)
{
	for (int i = 0; i < n; i++)
		if (out[i].inum == inum)
			return n;
	if (n == max || strlen(spec) >= sizeof(out[n].spec))
		return n;
	out[n].inum = inum;
	snprintf(out[n].spec, sizeof(out[n].spec), "%s", spec);
	return n + 1;
}

int vx_netns_scan(struct vx_nsent *out, int max)
{
	static char names[VX_MAX_NETNS * 4][VX_NETNS_NAME_MAX];
	char line[4096], path[PATH_MAX], link[64];
	uint32_t inum;
	int n = 0, nn;
	struct dirent *e;
	FILE *f;
	DIR *d;

	if ((inum = vx_netns_inum(NULL)))
		n = scan_add(out, n, max, inum, "");
	nn = vx_netns_list(names, VX_MAX_NETNS * 4);
	for (int i = 0; i < nn; i++)
		if ((inum = vx_netns_inum(names[i])))
			n = scan_add(out, n, max, inum, names[i]);
	/* Bind mounts elsewhere (Docker's /var/run/docker/netns, CNI's). */
	if ((f = fopen("/proc/self/mountinfo", "re"))) {
		while (fgets(line, sizeof(line), f))
			if (vx_mountinfo_netns(line, &inum, path, sizeof(path)) == 1)
				n = scan_add(out, n, max, inum, path);
		fclose(f);
	}
	/* Then every process's, as pid:PID. */
	if ((d = opendir("/proc"))) {
		while ((e = readdir(d))) {
			ssize_t l;

			if (!isdigit((unsigned char)e->d_name[0]))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
			if ((l = readlink(path, link, sizeof(link) - 1)) <= 0)
				continue;
			link[l] = '\0';
			if (vx_nslink_inum(link, &inum))
				continue;
			snprintf(path, sizeof(path), "pid:%s", e->d_name);
			n = scan_add(out, n, max, inum, path);
		}
		closedir(d);
	}
	return n;
}
