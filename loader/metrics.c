// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus text exposition and its HTTP server. See metrics.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"

struct series {
	char *vals[VX_METRICS_MAX_LABELS];
	uint64_t hash;
	double v;
	double sum;
	uint64_t *buckets;	/* histograms: n_bounds + 1, not cumulative */
};

struct vx_mfamily {
	struct vx_metrics *m;
	char *name, *help;
	enum vx_metric_type type;
	char *labels[VX_METRICS_MAX_LABELS];
	int n_labels;
	double bounds[VX_METRICS_MAX_BUCKETS];
	int n_bounds;
	unsigned int max_series;
	struct series *s;
	unsigned int n, cap;
	uint64_t refused;
	struct vx_mfamily *next;
};

struct vx_metrics {
	pthread_mutex_t lock;
	struct vx_mfamily *head, **tail;
};

static bool valid_name(const char *s, bool metric)
{
	if (!s || !*s)
		return false;
	/* Leading "__" is reserved for Prometheus' own labels. */
	if (!metric && s[0] == '_' && s[1] == '_')
		return false;
	for (const char *p = s; *p; p++) {
		bool ok = isalpha((unsigned char)*p) || *p == '_' || (metric && *p == ':') ||
			  (p != s && isdigit((unsigned char)*p));

		if (!ok || (unsigned char)*p > 127)
			return false;
	}
	return true;
}

struct vx_metrics *vx_metrics_new(void)
{
	struct vx_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->tail = &m->head;
	return m;
}

static void free_series(struct vx_mfamily *f, struct series *s)
{
	for (int i = 0; i < f->n_labels; i++)
		free(s->vals[i]);
	free(s->buckets);
}

void vx_metric_clear(struct vx_mfamily *f)
{
	for (unsigned int i = 0; i < f->n; i++)
		free_series(f, &f->s[i]);
	f->n = 0;
}

void vx_metrics_free(struct vx_metrics *m)
{
	struct vx_mfamily *f, *next;

	if (!m)
		return;
	for (f = m->head; f; f = next) {
		next = f->next;
		vx_metric_clear(f);
		free(f->s);
		for (int i = 0; i < f->n_labels; i++)
			free(f->labels[i]);
		free(f->name);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void vx_metrics_lock(struct vx_metrics *m)
{
	pthread_mutex_lock(&m->lock);
}

void vx_metrics_unlock(struct vx_metrics *m)
{
	pthread_mutex_unlock(&m->lock);
}

struct vx_mfamily *vx_metrics_add(struct vx_metrics *m, const char *name, enum vx_metric_type type,
				  const char *help, const char *const *labels,
				  unsigned int max_series)
{
	struct vx_mfamily *f;

	if (!valid_name(name, true) || !max_series) {
		errno = EINVAL;
		return NULL;
	}
	for (f = m->head; f; f = f->next) {
		if (!strcmp(f->name, name)) {
			errno = EEXIST;
			return NULL;
		}
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->m = m;
	f->type = type;
	f->max_series = max_series;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	for (int i = 0; labels && labels[i]; i++) {
		/* "le" belongs to the histogram buckets. */
		if (i == VX_METRICS_MAX_LABELS || !valid_name(labels[i], false) ||
		    !strcmp(labels[i], "le"))
			goto inval;
		f->labels[f->n_labels++] = strdup(labels[i]);
	}
	pthread_mutex_lock(&m->lock);
	*m->tail = f;
	m->tail = &f->next;
	pthread_mutex_unlock(&m->lock);
	return f;
inval:
	for (int i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f);
	errno = EINVAL;
	return NULL;
}

struct vx_mfamily *vx_metrics_add_histogram(struct vx_metrics *m, const char *name,
					    const char *help, const char *const *labels,
					    const double *bounds, int n_bounds,
					    unsigned int max_series)
{
	struct vx_mfamily *f;

	if (n_bounds < 1 || n_bounds > VX_METRICS_MAX_BUCKETS) {
		errno = EINVAL;
		return NULL;
	}
	for (int i = 0; i < n_bounds; i++) {
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1])) {
			errno = EINVAL;
			return NULL;
		}
	}
	f = vx_metrics_add(m, name, VX_METRIC_HISTOGRAM, help, labels, max_series);
	if (!f)
		return NULL;
	memcpy(f->bounds, bounds, sizeof(*bounds) * (size_t)n_bounds);
	f->n_bounds = n_bounds;
	return f;
}

static uint64_t hash_values(const struct vx_mfamily *f, const char *const *values)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (int i = 0; i < f->n_labels; i++) {
		for (const char *p = values[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;	/* separator: "a","bc" != "ab","c" */
	}
	return h;
}

/* The series for @values, created when there is room. */
static struct series *series_for(struct vx_mfamily *f, const char *const *values)
{
	uint64_t h = hash_values(f, values);
	struct series *s;

	for (unsigned int i = 0; i < f->n; i++) {
		bool same = f->s[i].hash == h;

		for (int l = 0; same && l < f->n_labels; l++)
			same = !strcmp(f->s[i].vals[l], values[l]);
		if (same)
			return &f->s[i];
	}
	if (f->n == f->max_series) {
		f->refused++;
		errno = ENOSPC;
		return NULL;
	}
	if (f->n == f->cap) {
		unsigned int cap = f->cap ? f->cap * 2 : 8;

		if (cap > f->max_series)
			cap = f->max_series;
		s = realloc(f->s, sizeof(*s) * cap);
		if (!s)
			return NULL;
		f->s = s;
		f->cap = cap;
	}
	s = &f->s[f->n];
	memset(s, 0, sizeof(*s));
	s->hash = h;
	for (int l = 0; l < f->n_labels; l++) {
		s->vals[l] = strdup(values[l]);
		if (!s->vals[l])
			goto nomem;
	}
	if (f->type == VX_METRIC_HISTOGRAM) {
		s->buckets = calloc((size_t)f->n_bounds + 1, sizeof(*s->buckets));
		if (!s->buckets)
			goto nomem;
	}
	f->n++;
	return s;
nomem:
	free_series(f, s);
	errno = ENOMEM;
	return NULL;
}

static bool values_ok(const struct vx_mfamily *f, const char *const *values)
{
	if (f->n_labels && !values)
		return false;
	for (int l = 0; l < f->n_labels; l++)
		if (!values[l])
			return false;
	return true;
}

int vx_metric_set(struct vx_mfamily *f, const char *const *values, double v)
{
	struct series *s;

	if (f->type == VX_METRIC_HISTOGRAM || !values_ok(f, values))
		return -EINVAL;
	s = series_for(f, values);
	if (!s)
		return -errno;
	s->v = v;
	return 0;
}

int vx_metric_add(struct vx_mfamily *f, const char *const *values, double delta)
{
	struct series *s;

	if (f->type == VX_METRIC_HISTOGRAM || !values_ok(f, values))
		return -EINVAL;
	s = series_for(f, values);
	if (!s)
		return -errno;
	s->v += delta;
	return 0;
}

int vx_metric_set_histogram(struct vx_mfamily *f, const char *const *values,
			    const uint64_t *counts, double sum)
{
	struct series *s;

	if (f->type != VX_METRIC_HISTOGRAM || !values_ok(f, values))
		return -EINVAL;
	s = series_for(f, values);
	if (!s)
		return -errno;
	memcpy(s->buckets, counts, sizeof(*counts) * ((size_t)f->n_bounds + 1));
	s->sum = sum;
	return 0;
}

/* ---- exposition --------------------------------------------------------- */

void vx_metrics_escape_label(const char *in, FILE *out)
{
	for (const char *p = in; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '"')
			fputs("\\\"", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
}

/* HELP text escapes only backslash and newline. */
static void escape_help(const char *in, FILE *out)
{
	for (const char *p = in; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
}

/* Shortest text that reads back as the same double: counters print as
 * integers, 0.1 as 0.1 rather than 0.10000000000000001. */
static void put_double(double v, FILE *out)
{
	char buf[40];

	if (isnan(v)) {
		fputs("NaN", out);
		return;
	}
	if (isinf(v)) {
		fputs(v > 0 ? "+Inf" : "-Inf", out);
		return;
	}
	/* Counters are whole numbers: never in exponent form below 2^63. */
	if (v == (double)(long long)v && v > -9.2e18 && v < 9.2e18) {
		fprintf(out, "%lld", (long long)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, out);
}

static void put_labels(const struct vx_mfamily *f, const struct series *s, const char *le,
		       FILE *out)
{
	bool any = f->n_labels || le;

	if (!any)
		return;
	fputc('{', out);
	for (int l = 0; l < f->n_labels; l++) {
		fprintf(out, "%s%s=\"", l ? "," : "", f->labels[l]);
		vx_metrics_escape_label(s->vals[l], out);
		fputc('"', out);
	}
	if (le)
		fprintf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
	fputc('}', out);
}

static void render_family(const struct vx_mfamily *f, FILE *out)
{
	static const char *const type_name[] = { "counter", "gauge", "histogram" };

	fprintf(out, "# HELP %s ", f->name);
	escape_help(f->help, out);
	fprintf(out, "\n# TYPE %s %s\n", f->name, type_name[f->type]);
	for (unsigned int i = 0; i < f->n; i++) {
		const struct series *s = &f->s[i];
		uint64_t cum = 0;
		char le[40];

		if (f->type != VX_METRIC_HISTOGRAM) {
			fputs(f->name, out);
			put_labels(f, s, NULL, out);
			fputc(' ', out);
			put_double(s->v, out);
			fputc('\n', out);
			continue;
		}
		for (int b = 0; b <= f->n_bounds; b++) {
			FILE *lf;

			cum += s->buckets[b];
			if (b < f->n_bounds) {
				lf = fmemopen(le, sizeof(le), "w");
				if (!lf)
					continue;
				put_double(f->bounds[b], lf);
				fclose(lf);
			} else {
				strcpy(le, "+Inf");
			}
			fprintf(out, "%s_bucket", f->name);
			put_labels(f, s, le, out);
			fprintf(out, " %llu\n", (unsigned long long)cum);
		}
		fprintf(out, "%s_sum", f->name);
		put_labels(f, s, NULL, out);
		fputc(' ', out);
		put_double(s->sum, out);
		fprintf(out, "\n%s_count", f->name);
		put_labels(f, s, NULL, out);
		fprintf(out, " %llu\n", (unsigned long long)cum);
	}
}

int vx_metrics_render(struct vx_metrics *m, FILE *out)
{
	const struct vx_mfamily *f;
	long start = ftell(out), end;

	pthread_mutex_lock(&m->lock);
	for (f = m->head; f; f = f->next)
		render_family(f, out);
	/* The cap's own counter: one series per family, always present so
	 * that an alert on it has something to watch before it fires. */
	fputs("# HELP vxray_metrics_series_refused_total New label sets refused because their "
	      "family reached its cardinality cap.\n"
	      "# TYPE vxray_metrics_series_refused_total counter\n", out);
	for (f = m->head; f; f = f->next) {
		fputs("vxray_metrics_series_refused_total{family=\"", out);
		vx_metrics_escape_label(f->name, out);
		fprintf(out, "\"} %llu\n", (unsigned long long)f->refused);
	}
	pthread_mutex_unlock(&m->lock);
	if (ferror(out))
		return -EIO;
	end = ftell(out);
	return start >= 0 && end >= start ? (int)(end - start) : 0;
}

int vx_metrics_render_buf(struct vx_metrics *m, char **buf, size_t *len)
{
	FILE *f;
	int ret;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (!f)
		return -errno;
	ret = vx_metrics_render(m, f);
	if (fclose(f) && ret >= 0)
		ret = -EIO;
	if (ret < 0) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return ret;
}

/* ---- HTTP --------------------------------------------------------------- */

struct vx_metrics_server {
	struct vx_metrics *m;
	struct MHD_Daemon *d;
	int fd;
	uint16_t port;
};

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

#ifndef VX_MHD_SONAME
#define VX_MHD_SONAME "libmicrohttpd.so.12"
#endif

/* libmicrohttpd is opened by the first vx_metrics_serve(), not linked:
 * it brings GnuTLS and its chain (p11-kit, nettle, hogweed, tasn1,
 * unistring, idn2, ffi), whose constructors ran and whose ~2.3 MiB of
 * pages stayed resident in every vxray process, though only --metrics
 * serves HTTP. Typed from the header, so a changed signature still fails
 * the build. */
static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
} mhd;

static int mhd_open(char *err, size_t errlen)
{
	void *h;

	if (mhd.start_daemon)
		return 0;
	h = dlopen(VX_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return ERR("cannot serve metrics: %s (install libmicrohttpd)", dlerror());
	mhd.stop_daemon = dlsym(h, "MHD_stop_daemon");
	mhd.create_response_from_buffer = dlsym(h, "MHD_create_response_from_buffer");
	mhd.add_response_header = dlsym(h, "MHD_add_response_header");
	mhd.queue_response = dlsym(h, "MHD_queue_response");
	mhd.destroy_response = dlsym(h, "MHD_destroy_response");
	/* Last: it is the "loaded" flag above. */
	mhd.start_daemon = dlsym(h, "MHD_start_daemon");
	if (!mhd.stop_daemon || !mhd.create_response_from_buffer || !mhd.add_response_header ||
	    !mhd.queue_response || !mhd.destroy_response || !mhd.start_daemon) {
		mhd.start_daemon = NULL;
		dlclose(h);
		return ERR("cannot serve metrics: " VX_MHD_SONAME " lacks a function vxray uses");
	}
	return 0;
}

int vx_metrics_parse_listen(const char *s, char *addr, size_t addrlen, uint16_t *port, char *err,
			    size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2] = "";
	const char *colon, *ps = s;
	unsigned char tmp[16];
	unsigned long v;
	char *end;

	if (!s || !*s)
		return ERR("--metrics needs [ADDR:]PORT, e.g. 9435 or 127.0.0.1:9435");
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return ERR("--metrics '%s': write an IPv6 address as [ADDR]:PORT", s);
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		ps = close + 2;
	} else if ((colon = strrchr(s, ':'))) {
		if (strchr(s, ':') != colon)
			return ERR("--metrics '%s': write an IPv6 address as [ADDR]:PORT", s);
		if ((size_t)(colon - s) >= sizeof(host))
			return ERR("--metrics '%s': the address is too long", s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		ps = colon + 1;
	}
	if (!isdigit((unsigned char)*ps))
		return ERR("--metrics '%s': the port must be a number from 0 to 65535", s);
	errno = 0;
	v = strtoul(ps, &end, 10);
	if (errno || *end || v > 65535)
		return ERR("--metrics '%s': the port must be a number from 0 to 65535", s);
	/* Metrics say which tunnels exist and how busy they are: serve them
	 * to this host only unless the user names another address. */
	if (!host[0])
		strcpy(host, "127.0.0.1");
	else if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1)
		return ERR("--metrics '%s': '%s' is not an IPv4 or IPv6 address", s, host);
	if (strlen(host) >= addrlen)
		return ERR("--metrics '%s': the address is too long", s);
	strcpy(addr, host);
	*port = (uint16_t)v;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct vx_metrics_server *srv = cls;
	static const char not_found[] = "Not found: vxray serves /metrics\n";
	static const char bad_method[] = "Only GET and HEAD are served\n";
	struct MHD_Response *r;
	unsigned int status = MHD_HTTP_OK;
	enum MHD_Result ret;
	char *buf = NULL;
	size_t len = 0;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		r = mhd.create_response_from_buffer(sizeof(bad_method) - 1, (void *)bad_method,
						    MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics")) {
		status = MHD_HTTP_NOT_FOUND;
		r = mhd.create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						    MHD_RESPMEM_PERSISTENT);
	} else if (vx_metrics_render_buf(srv->m, &buf, &len) < 0) {
		return MHD_NO;
	} else {
		r = mhd.create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
		if (r)
			mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						"text/plain; version=0.0.4; charset=utf-8");
		else
			free(buf);
	}
	if (!r)
		return MHD_NO;
	if (status != MHD_HTTP_OK)
		mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ret;
}

/* vxray binds the socket itself so that "port in use" comes back as an
 * errno it can explain, rather than MHD's NULL. */
static int listen_on(const char *addr, uint16_t port, uint16_t *bound, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, one = 1, e;

	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
	} else {
		return ERR("metrics address '%s' is not an IPv4 or IPv6 address", addr);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open a socket for metrics: %s", strerror(e));
		return -e;
	}
	/* Restarting the agent must not wait for TIME_WAIT to clear; this
	 * still refuses a port another process is listening on. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 16)) {
		e = errno;
		if (e == EADDRINUSE)
			snprintf(err, errlen,
				 "cannot serve metrics on %s:%u: the port is already in use by "
				 "another program; choose another with --metrics ADDR:PORT",
				 addr, port);
		else if (e == EADDRNOTAVAIL)
			snprintf(err, errlen,
				 "cannot serve metrics on %s:%u: that address is not on this host",
				 addr, port);
		else
			snprintf(err, errlen, "cannot serve metrics on %s:%u: %s", addr, port,
				 strerror(e));
		close(fd);
		return -e;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*bound = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
	return fd;
}

struct vx_metrics_server *vx_metrics_serve(struct vx_metrics *m, const char *addr, uint16_t port,
					   char *err, size_t errlen)
{
	struct vx_metrics_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "cannot serve metrics: out of memory");
		return NULL;
	}
	s->m = m;
	if (mhd_open(err, errlen)) {
		free(s);
		return NULL;
	}
	s->fd = listen_on(addr, port, &s->port, err, errlen);
	if (s->fd < 0) {
		free(s);
		return NULL;
	}
	/* Bounded: a handful of scrapers at a time, none allowed to hold a
	 * connection open for long. */
	s->d = mhd.start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot start the metrics HTTP server on %s:%u", addr, port);
		close(s->fd);
		free(s);
		return NULL;
	}
	return s;
}

uint16_t vx_metrics_server_port(const struct vx_metrics_server *s)
{
	return s->port;
}

void vx_metrics_server_stop(struct vx_metrics_server *s)
{
	if (!s)
		return;
	/* MHD closes the listen socket it was given when it stops. */
	mhd.stop_daemon(s->d);
	free(s);
}
