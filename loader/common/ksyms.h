/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel addresses as "sym+0xoff", from /proc/kallsyms read once, on the
 * first lookup. */
#ifndef VXRAY_KSYMS_H
#define VXRAY_KSYMS_H

#include <stddef.h>
#include <stdint.h>

/* Check that kallsyms can be read (idempotent, cheap: the table is built on
 * the first lookup). 0, -EPERM when kptr_restrict hides every address (said
 * once, as a warning), or another negative errno. */
int vx_ksyms_load(void);
/* Build the table now rather than on the first lookup: for a process
 * that will look up soon and should do its one-time work before it says
 * it is ready (the node agent: the first drop comes within seconds). */
int vx_ksyms_build(void);
/* Symbol containing @addr, with the offset into it; NULL when unknown. */
const char *vx_ksym_lookup(uint64_t addr, uint64_t *off);
/* Address of @name, 0 when absent (or hidden). */
uint64_t vx_ksym_addr(const char *name);
/* "sym+0xoff" into @buf, or the raw "0x..." when it cannot be named. */
const char *vx_ksym_fmt(uint64_t addr, char *buf, size_t len);
void vx_ksyms_free(void);

#endif
