// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "json.h"
#include "log.h"

static int log_verbose;
static bool log_as_json;

/* libbpf is chatty about things vxray expects to fail (feature probes,
 * backend fallbacks), so everything it says, debug included, is shown only
 * with -v. vxray reports the failures that matter in its own words. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (log_verbose < 1)
		return 0;
	/* libbpf starts most of its messages with its own name. */
	if (strncmp(fmt, "libbpf: ", 8))
		fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void vx_log_setup(int verbose, bool json)
{
	log_verbose = verbose;
	log_as_json = json;
	libbpf_set_print(libbpf_print);
}

bool vx_log_json(void)
{
	return log_as_json;
}

void vx_log(enum vx_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char buf[1024];
	va_list ap;
	size_t n;

	if (level == VX_LOG_DEBUG && log_verbose < 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';

	if (log_as_json) {
		struct jw w;

		jw_init(&w, stderr);
		jw_record(&w, "log");
		jw_str(&w, "level", names[level]);
		jw_str(&w, "message", buf);
		jw_obj_close(&w);
		jw_end_line(&w);
		return;
	}
	fprintf(stderr, "vxray: %s%s\n", level == VX_LOG_WARN ? "warning: " : "", buf);
}

const char *vx_strerror(int err)
{
	static __thread char buf[128];

	if (err < 0)
		err = -err;
	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}
