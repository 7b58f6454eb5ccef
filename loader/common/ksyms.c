// SPDX-License-Identifier: GPL-2.0-only
/* Kernel text symbols from /proc/kallsyms, read only when first needed:
 * most runs never name a kernel address, and the table costs a pass over
 * ~120k lines and a few MiB. When it is needed it is built compact -- one
 * array of (address, name offset) pairs sorted by address, the names in a
 * single arena -- and every lookup is a bisection. vx_ksym_addr() of one
 * name does not build it: a streaming pass stops at the first match. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "log.h"

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset into names */
};

static struct ksym *syms;
static size_t n_syms;
static char *names;
static int access_err; /* vx_ksyms_load()'s verdict */
static bool checked;
static int table_err;
static bool built;

/* One kallsyms line: "ffffffff81000000 T name\t[module]\n". The name ends at
 * white space, so a module's name is left out (as sscanf's %s did).
 * Returns false for malformed lines and for anything but code: a drop
 * location or a stack frame is never data. */
static bool parse_line(char *line, uint64_t *addr, const char **name, size_t *len)
{
	uint64_t a = 0;
	char *p = line, *n;

	for (;; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			break;
		a = a << 4 | d;
	}
	if (p == line || p[0] != ' ' || !p[1] || p[2] != ' ')
		return false;
	if (p[1] != 't' && p[1] != 'T' && p[1] != 'w' && p[1] != 'W')
		return false;
	n = p + 3;
	*len = strcspn(n, " \t\n");
	if (!*len)
		return false;
	*addr = a;
	*name = n;
	return true;
}

/* ~120k lines: read in large pieces, not stdio's 1 KiB here (5,000 read
 * calls for the whole file, each a turn of the kernel's iterator). */
static FILE *open_kallsyms(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");

	if (f)
		setvbuf(f, NULL, _IOFBF, 1 << 16);
	return f;
}

int vx_ksyms_load(void)
{
	char line[512];
	bool nonzero = false;
	int seen = 0;
	FILE *f;

	/* Only the access check: the table itself is built on first use.
	 * Text symbols come first in kallsyms, so this reads a few lines. */
	if (checked)
		return access_err;
	checked = true;
	f = open_kallsyms();
	if (!f) {
		access_err = -errno;
		pr_warn("cannot read /proc/kallsyms (%s): kernel addresses are shown as numbers",
			strerror(errno));
		return access_err;
	}
	while (!nonzero && fgets(line, sizeof(line), f)) {
		uint64_t addr;
		const char *name;
		size_t len;

		if (!parse_line(line, &addr, &name, &len))
			continue;
		nonzero = addr != 0;
		if (++seen == 1000)
			break; /* A thousand zero text addresses: hidden. */
	}
	fclose(f);
	if (!nonzero) {
		/* kptr_restrict (or missing CAP_SYSLOG) zeroes every address. */
		pr_warn("/proc/kallsyms shows only zero addresses (kernel.kptr_restrict): kernel addresses are shown as numbers");
		access_err = -EPERM;
	}
	return access_err;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int vx_ksyms_build(void)
{
	size_t cap = 0, names_cap = 0, names_len = 0;
	bool sorted = true;
	char line[512];
	FILE *f;

	if (built)
		return table_err;
	built = true;
	if ((table_err = vx_ksyms_load()))
		return table_err;
	f = open_kallsyms();
	if (!f)
		return table_err = -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *name;
		uint64_t addr;
		size_t len;

		if (!parse_line(line, &addr, &name, &len))
			continue;
		if (n_syms == cap) {
			size_t ncap = cap ? cap * 2 : 32768;
			struct ksym *n = realloc(syms, ncap * sizeof(*n));

			if (!n)
				goto nomem;
			syms = n;
			cap = ncap;
		}
		if (names_len + len + 1 > names_cap) {
			size_t ncap = names_cap ? names_cap * 2 : 1 << 20;
			char *n = ncap <= UINT32_MAX ? realloc(names, ncap) : NULL;

			if (!n)
				goto nomem;
			names = n;
			names_cap = ncap;
		}
		memcpy(names + names_len, name, len);
		names[names_len + len] = '\0';
		if (n_syms && syms[n_syms - 1].addr > addr)
			sorted = false;
		syms[n_syms++] = (struct ksym){ .addr = addr, .name = (uint32_t)names_len };
		names_len += len + 1;
	}
	fclose(f);
	/* Give back the slack of the doubling (up to half of each). */
	if (n_syms < cap) {
		struct ksym *n = realloc(syms, n_syms * sizeof(*n));

		if (n)
			syms = n;
	}
	if (names_len < names_cap) {
		char *n = realloc(names, names_len);

		if (n)
			names = n;
	}
	/* Core kernel symbols are in address order; modules are not. */
	if (!sorted)
		qsort(syms, n_syms, sizeof(*syms), cmp_ksym);
	return 0;
nomem:
	fclose(f);
	free(syms);
	free(names);
	syms = NULL;
	names = NULL;
	n_syms = 0;
	return table_err = -ENOMEM;
}

const char *vx_ksym_lookup(uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi;

	if (vx_ksyms_build() || !n_syms || addr < syms[0].addr)
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
	return names + syms[lo].name;
}

uint64_t vx_ksym_addr(const char *name)
{
	size_t want = strlen(name);
	uint64_t found = 0;
	char line[512];
	FILE *f;

	if (vx_ksyms_load())
		return 0;
	if (built) {
		for (size_t i = 0; i < n_syms; i++)
			if (!strcmp(names + syms[i].name, name))
				return syms[i].addr;
		return 0;
	}
	f = open_kallsyms();
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *n;
		uint64_t addr;
		size_t len;

		if (parse_line(line, &addr, &n, &len) && len == want && !memcmp(n, name, len))
			found = addr;
	}
	fclose(f);
	return found;
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
	free(syms);
	free(names);
	syms = NULL;
	names = NULL;
	n_syms = 0;
	checked = built = false;
	access_err = table_err = 0;
}
