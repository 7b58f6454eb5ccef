// SPDX-License-Identifier: GPL-2.0-only
/* Counters diagnose reads inside a namespace at the start and the end of
 * its window: from the namespace's own /proc/thread-self/net files, opened
 * after entering it. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
#include "nscount.h"

int vx_ns_if_counts(const char *netns, const char *dev, struct vx_if_counts *c)
{
	char line[512], name[IF_NAMESIZE + 2];
	int saved, err = -ENOENT;
	FILE *f;

	memset(c, 0, sizeof(*c));
	if (!dev[0] || vx_netns_enter(netns, &saved))
		return -ENOENT;
	f = fopen("/proc/thread-self/net/dev", "re");
	vx_netns_leave(saved);
	if (!f)
		return -errno;
	snprintf(name, sizeof(name), "%s:", dev);
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		unsigned long long v[10];

		while (*p == ' ')
			p++;
		if (strncmp(p, name, strlen(name)))
			continue;
		if (sscanf(p + strlen(name), "%llu %llu %*u %*u %*u %*u %*u %*u %llu %llu", &v[0],
			   &v[1], &v[8], &v[9]) == 4) {
			c->rx = v[1];
			c->tx = v[9];
			err = 0;
		}
		break;
	}
	fclose(f);
	return err;
}

uint64_t vx_ns_udp_csum_errors(const char *netns)
{
	char head[512], vals[512], *hs, *vs, *h, *v;
	unsigned long long n;
	uint64_t sum = 0;
	FILE *f[2];
	int saved;

	if (vx_netns_enter(netns, &saved))
		return 0;
	f[0] = fopen("/proc/thread-self/net/snmp", "re");
	f[1] = fopen("/proc/thread-self/net/snmp6", "re");
	vx_netns_leave(saved);
	/* snmp: a "Udp:" line of names, then one of values. */
	while (f[0] && fgets(head, sizeof(head), f[0])) {
		if (strncmp(head, "Udp: ", 5) || !fgets(vals, sizeof(vals), f[0]))
			continue;
		h = strtok_r(head, " \n", &hs);
		v = strtok_r(vals, " \n", &vs);
		for (; h && v; h = strtok_r(NULL, " \n", &hs), v = strtok_r(NULL, " \n", &vs))
			if (!strcmp(h, "InCsumErrors"))
				sum += strtoull(v, NULL, 10);
		break;
	}
	while (f[1] && fgets(head, sizeof(head), f[1]))
		if (sscanf(head, "Udp6InCsumErrors %llu", &n) == 1)
			sum += n;
	for (int i = 0; i < 2; i++)
		if (f[i])
			fclose(f[i]);
	return sum;
}
