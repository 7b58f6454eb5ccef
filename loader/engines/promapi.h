/* SPDX-License-Identifier: GPL-2.0-only */
/* A Prometheus server's HTTP API as an evidence source: instant queries
 * (GET /api/v1/query), all evaluated at one moment so that every answer
 * describes the same window. libcurl speaks HTTP (and HTTPS, and the
 * user:password@ a URL may carry); jansson reads the answers. Used by
 * `vxray diagnose --prometheus` (loader/diagnose/promev.c). */
#ifndef VXRAY_PROMAPI_H
#define VXRAY_PROMAPI_H

#include <jansson.h>
#include <stddef.h>

struct vx_prom;

/* A client of the server at @url (its base URL, "http://host:9090"; a
 * trailing slash is fine), querying at the current time from now on.
 * NULL with one sentence in @err when @url is not an http(s) URL or
 * memory runs out. */
struct vx_prom *vx_prom_open(const char *url, char *err, size_t errlen);
void vx_prom_close(struct vx_prom *p);

/* The base URL, as given. */
const char *vx_prom_url(const struct vx_prom *p);

/* Evaluate @promql (an instant vector) at the client's moment: the
 * result's array of samples, owned by the client until the next query or
 * close. NULL with one sentence in @err when the server cannot be reached,
 * is not a Prometheus API, or refuses the query. */
json_t *vx_prom_query(struct vx_prom *p, const char *promql, char *err, size_t errlen);

/* A sample's label @name, "" when it has none. */
const char *vx_prom_label(json_t *sample, const char *name);
/* A sample's value; NaN when it has none or it is not a number. */
double vx_prom_value(json_t *sample);

#endif
