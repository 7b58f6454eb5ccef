/* SPDX-License-Identifier: GPL-2.0-only */
/* One logging layer for vxray and libbpf. Messages go to stderr; in JSON
 * mode warnings become one JSON object per line so that a consumer of
 * `vxray -j` never has to parse prose. */
#ifndef VXRAY_LOG_H
#define VXRAY_LOG_H

#include <stdbool.h>

enum vx_log_level {
	VX_LOG_ERROR, /* the reason vxray is about to exit non-zero */
	VX_LOG_WARN,
	VX_LOG_INFO,
	VX_LOG_DEBUG,
};

void vx_log_setup(int verbose, bool json);
void vx_log(enum vx_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool vx_log_json(void);

#define pr_err(...) vx_log(VX_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) vx_log(VX_LOG_WARN, __VA_ARGS__)
#define pr_info(...) vx_log(VX_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) vx_log(VX_LOG_DEBUG, __VA_ARGS__)

/* errno-style description that also knows libbpf's own error codes. */
const char *vx_strerror(int err);

#endif
