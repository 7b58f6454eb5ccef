// SPDX-License-Identifier: GPL-2.0-only
/* /proc/kallsyms into one array sorted by address, searched by bisection:
 * ~150k symbols load in a few milliseconds and every lookup is O(log n). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "log.h"

struct ksym {
	uint64_t addr;
	char *name;
};

static struct ksym *syms;
static size_t n_syms;
static int load_err;
static bool loaded;

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int vx_ksyms_load(void)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;
	bool nonzero = false;
	FILE *f;

	if (loaded)
		return load_err;
	loaded = true;
	f = fopen("/proc/kallsyms", "re");
	if (!f) {
		load_err = -errno;
		pr_warn("cannot read /proc/kallsyms (%s): kernel addresses are shown as numbers",
			strerror(errno));
		return load_err;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		/* Only code: a drop location or a stack frame is never data. */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (addr)
			nonzero = true;
		if (n_syms == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			struct ksym *n = realloc(syms, ncap * sizeof(*n));

			if (!n) {
				load_err = -ENOMEM;
				break;
			}
			syms = n;
			cap = ncap;
		}
		syms[n_syms].addr = addr;
		syms[n_syms].name = strdup(name);
		if (!syms[n_syms].name) {
			load_err = -ENOMEM;
			break;
		}
		n_syms++;
	}
	fclose(f);
	if (!load_err && !nonzero) {
		/* kptr_restrict (or missing CAP_SYSLOG) zeroes every address. */
		pr_warn("/proc/kallsyms shows only zero addresses (kernel.kptr_restrict): kernel addresses are shown as numbers");
		load_err = -EPERM;
	}
	if (load_err) {
		int err = load_err;

		vx_ksyms_free();
		loaded = true;
		load_err = err;
		return err;
	}
	qsort(syms, n_syms, sizeof(*syms), cmp_ksym);
	return 0;
}

const char *vx_ksym_lookup(uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi;

	if (vx_ksyms_load() || !n_syms || addr < syms[0].addr)
		return NULL;
	/* Last symbol whose address is <= addr. */
	hi = n_syms;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (off)
		*off = addr - syms[lo].addr;
	return syms[lo].name;
}

uint64_t vx_ksym_addr(const char *name)
{
	if (vx_ksyms_load())
		return 0;
	for (size_t i = 0; i < n_syms; i++)
		if (!strcmp(syms[i].name, name))
			return syms[i].addr;
	return 0;
}

const char *vx_ksym_fmt(uint64_t addr, char *buf, size_t len)
{
	uint64_t off;
	const char *s = addr ? vx_ksym_lookup(addr, &off) : NULL;

	if (s)
		snprintf(buf, len, "%s+0x%llx", s, (unsigned long long)off);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	return buf;
}

void vx_ksyms_free(void)
{
	for (size_t i = 0; i < n_syms; i++)
		free(syms[i].name);
	free(syms);
	syms = NULL;
	n_syms = 0;
	loaded = false;
	load_err = 0;
}
