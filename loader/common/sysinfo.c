// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "sysinfo.h"

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

static void read_caps(struct vx_sysinfo *si)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return;
	si->cap_sys_admin = has_cap(data, CAP_SYS_ADMIN);
	si->cap_net_admin = has_cap(data, CAP_NET_ADMIN);
	si->cap_bpf = has_cap(data, CAP_BPF);
	si->cap_perfmon = has_cap(data, CAP_PERFMON);
}

static void find_tracefs(struct vx_sysinfo *si)
{
	char dev[64], dir[256], type[32];
	FILE *f = fopen("/proc/self/mounts", "re");

	si->tracefs[0] = '\0';
	if (!f)
		return;
	while (fscanf(f, "%63s %255s %31s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "tracefs")) {
			snprintf(si->tracefs, sizeof(si->tracefs), "%s", dir);
			break;
		}
	}
	fclose(f);
}

/* The lockdown mode lives in securityfs, which is often not mounted. Read
 * it from a child in a private mount namespace so the host's mount table
 * is left exactly as it was. */
static void read_lockdown(struct vx_sysinfo *si)
{
	int pfd[2];
	pid_t pid;
	char buf[128] = "";
	ssize_t n;

	snprintf(si->lockdown, sizeof(si->lockdown), "unknown");
	if (pipe2(pfd, O_CLOEXEC))
		return;
	pid = fork();
	if (pid == 0) {
		int fd;

		close(pfd[0]);
		fd = open("/sys/kernel/security/lockdown", O_RDONLY);
		if (fd < 0 && !unshare(CLONE_NEWNS) &&
		    !mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) &&
		    !mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL))
			fd = open("/sys/kernel/security/lockdown", O_RDONLY);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			if (n > 0 && write(pfd[1], buf, (size_t)n) < 0)
				_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	if (pid > 0) {
		n = read(pfd[0], buf, sizeof(buf) - 1);
		waitpid(pid, NULL, 0);
		if (n > 0) {
			/* "none [integrity] confidentiality": the bracketed one is active. */
			char *l = strchr(buf, '['), *r = l ? strchr(l, ']') : NULL;

			if (l && r) {
				*r = '\0';
				snprintf(si->lockdown, sizeof(si->lockdown), "%s", l + 1);
			}
		}
	}
	close(pfd[0]);
}

void vx_sysinfo_collect(struct vx_sysinfo *si)
{
	struct utsname u;
	struct btf *btf;

	memset(si, 0, sizeof(*si));
	if (!uname(&u)) {
		snprintf(si->release, sizeof(si->release), "%s", u.release);
		snprintf(si->machine, sizeof(si->machine), "%s", u.machine);
	}
	/* Parsed once for the whole loader (btfnames.c), not per caller. */
	btf = vx_vmlinux_btf();
	si->btf_err = btf ? 0 : -errno;
	si->btf = !si->btf_err;
	read_caps(si);
	find_tracefs(si);
	read_lockdown(si);
}

bool vx_sysinfo_privileged(const struct vx_sysinfo *si)
{
	return vx_sysinfo_privilege_problem(si) == NULL;
}

const char *vx_sysinfo_btf_problem(const struct vx_sysinfo *si)
{
	if (si->btf)
		return NULL;
	return "this kernel has no BTF (/sys/kernel/btf/vmlinux): vxray's CO-RE programs cannot "
	       "load; use a kernel built with CONFIG_DEBUG_INFO_BTF=y";
}

const char *vx_sysinfo_problem(const struct vx_sysinfo *si)
{
	const char *p = vx_sysinfo_privilege_problem(si);

	return p ? p : vx_sysinfo_btf_problem(si);
}

const char *vx_sysinfo_privilege_problem(const struct vx_sysinfo *si)
{
	/* CAP_SYS_ADMIN covers BPF and perf on every kernel; without it the
	 * split capabilities (5.8+) must all be there, and NET_ADMIN always. */
	if (!si->cap_net_admin || (!si->cap_sys_admin && (!si->cap_bpf || !si->cap_perfmon)))
		return "vxray needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (or CAP_SYS_ADMIN) "
		       "to load and attach its programs: run it as root, e.g. with sudo";
	return NULL;
}
