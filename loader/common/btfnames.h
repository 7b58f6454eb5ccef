/* SPDX-License-Identifier: GPL-2.0-only */
/* Enum value <-> name from the running kernel's BTF. Enum numbers change
 * between kernels (SKB_DROP_REASON_NETFILTER_DROP is 6 on 5.19, 12 on
 * 6.18), so vxray never carries a table of its own. */
#ifndef VXRAY_BTFNAMES_H
#define VXRAY_BTFNAMES_H

#include <stddef.h>
#include <stdint.h>

/* @enum_name: "skb_drop_reason" for a named enum, or one of the values'
 * names prefixed with '=' ("=TCP_ESTABLISHED") for an anonymous one.
 * Returns the value's full name, NULL when this kernel has no such value
 * (or no BTF). Strings live as long as the process. */
const char *vx_btf_enum_name(const char *enum_name, int64_t val);
/* Value of @val_name in that enum: 0 or a negative errno (-ENOENT). */
int vx_btf_enum_value(const char *enum_name, const char *val_name, int64_t *out);

/* Drop reason names without the SKB_DROP_REASON_ prefix ("NETFILTER_DROP"),
 * "unknown(N)" for a value this kernel does not name. */
const char *vx_drop_reason_name(uint32_t reason, char *buf, size_t len);

/* The running kernel's BTF, parsed once and shared by every caller in the
 * loader (NULL without BTF); not the caller's to free. Release it when
 * startup is done: enum names looked up before stay valid, later lookups
 * parse it again. */
struct btf;
struct btf *vx_vmlinux_btf(void);
/* Also returns freed heap to the kernel (malloc_trim). */
void vx_vmlinux_btf_release(void);

/* Drop the cached BTF and enums (tests; freeing at exit). */
void vx_btf_names_reset(void);

#endif
