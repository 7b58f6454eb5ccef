/* SPDX-License-Identifier: GPL-2.0-only */
/* The HTTP server of `--metrics` and `vxray agent`: parses the listen
 * address, binds it, and serves a metrics.h registry on /metrics from a
 * libmicrohttpd thread. libmicrohttpd is dlopen'ed by the first
 * vx_metrics_serve(), so a vxray that serves nothing never loads it. */
#ifndef VXRAY_HTTPD_H
#define VXRAY_HTTPD_H

#include <stddef.h>
#include <stdint.h>

struct vx_metrics;
struct vx_metrics_server;

/* Parse "ADDR:PORT", ":PORT" or "PORT" (and "[V6]:PORT"); no address
 * means 127.0.0.1. Returns 0 or -EINVAL with one sentence in @err. */
int vx_metrics_parse_listen(const char *s, char *addr, size_t addrlen, uint16_t *port, char *err,
			    size_t errlen);
/* Listen on @addr:@port and serve @m on /metrics from a thread of its
 * own. Returns NULL with one sentence in @err and errno saying which
 * kind of failure: EADDRINUSE (port in use), EADDRNOTAVAIL (address not
 * on this host), EINVAL (not an address), ELIBACC (no libmicrohttpd). */
struct vx_metrics_server *vx_metrics_serve(struct vx_metrics *m, const char *addr, uint16_t port,
					   char *err, size_t errlen);
/* The port actually bound (useful when 0 was asked for). */
uint16_t vx_metrics_server_port(const struct vx_metrics_server *s);
void vx_metrics_server_stop(struct vx_metrics_server *s);

#endif
