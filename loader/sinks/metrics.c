// SPDX-License-Identifier: GPL-2.0-only
/* The metric registry and its Prometheus text exposition. See metrics.h;
 * the HTTP server that serves it is httpd.c. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct series {
	char *vals[VX_METRICS_MAX_LABELS];
	uint64_t hash;
	double v;
	double sum;
	uint64_t *buckets; /* histograms: n_bounds + 1, not cumulative */
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
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (int i = 0; i < f->n_labels; i++) {
		for (const char *p = values[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL; /* separator: "a","bc" != "ab","c" */
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

void vx_metric_refuse(struct vx_mfamily *f)
{
	f->refused++;
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

int vx_metric_set_histogram(struct vx_mfamily *f, const char *const *values, const uint64_t *counts,
			    double sum)
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
	      "# TYPE vxray_metrics_series_refused_total counter\n",
	      out);
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
