/* SPDX-License-Identifier: GPL-2.0-only */
/* `vxray doctor`'s parts (doctor_vxlan.c). */
#ifndef VXRAY_DOCTOR_H
#define VXRAY_DOCTOR_H

#include "inventory.h"
#include "json.h"

/* The "VXLAN devices" section: a table, one row per device of @inv and a
 * line below for what the row cannot hold. */
void vx_doctor_vxlan_text(const struct vx_inventory *inv);
/* The "vxlan" array of doctor's JSON (documented in vxray.8). */
void vx_doctor_vxlan_json(struct jw *w, const struct vx_inventory *inv);

#endif
