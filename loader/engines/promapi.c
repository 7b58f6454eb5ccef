// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus HTTP API client; see promapi.h. */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "promapi.h"

/* A query answer larger than this is not one a diagnosis can use. */
#define MAX_BODY (64u << 20)

struct vx_prom {
	CURL *curl;
	char url[512]; /* the base URL, without its trailing slashes */
	char at[32];   /* the moment every query is evaluated at, Unix seconds */
	char *body;
	size_t len, cap;
	json_t *answer; /* the last query's whole answer */
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct vx_prom *p = ctx;
	size_t add = size * n;

	if (p->len + add + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 16384;
		char *b;

		while (cap < p->len + add + 1)
			cap *= 2;
		if (cap > MAX_BODY || !(b = realloc(p->body, cap)))
			return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
		p->body = b;
		p->cap = cap;
	}
	memcpy(p->body + p->len, data, add);
	p->len += add;
	p->body[p->len] = '\0';
	return add;
}

struct vx_prom *vx_prom_open(const char *url, char *err, size_t errlen)
{
	static bool global_done;
	struct vx_prom *p;
	struct timespec now;
	size_t n;

	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		snprintf(err, errlen,
			 "--prometheus takes the server's base URL, http://HOST:PORT (9090 is "
			 "Prometheus' own port), not '%s'",
			 url);
		return NULL;
	}
	n = strlen(url);
	while (n > 8 && url[n - 1] == '/')
		n--;
	if (n >= sizeof(p->url)) {
		snprintf(err, errlen, "the --prometheus URL is longer than %zu characters",
			 sizeof(p->url) - 1);
		return NULL;
	}
	if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return NULL;
	}
	global_done = true;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->curl = curl_easy_init())) {
		snprintf(err, errlen, "cannot set up an HTTP client: out of memory");
		free(p);
		return NULL;
	}
	memcpy(p->url, url, n);
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(p->at, sizeof(p->at), "%lld.%03ld", (long long)now.tv_sec, now.tv_nsec / 1000000);
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(p->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(p->curl, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->curl, CURLOPT_USERAGENT, "vxray diagnose");
	return p;
}

void vx_prom_close(struct vx_prom *p)
{
	if (!p)
		return;
	json_decref(p->answer);
	curl_easy_cleanup(p->curl);
	free(p->body);
	free(p);
}

const char *vx_prom_url(const struct vx_prom *p)
{
	return p->url;
}

json_t *vx_prom_query(struct vx_prom *p, const char *promql, char *err, size_t errlen)
{
	char *q = curl_easy_escape(p->curl, promql, 0), *req = NULL;
	const char *status, *msg;
	json_error_t jerr;
	json_t *data;
	long code = 0;
	CURLcode rc;

	json_decref(p->answer);
	p->answer = NULL;
	p->len = 0;
	if (!q || asprintf(&req, "%s/api/v1/query?time=%s&query=%s", p->url, p->at, q) < 0) {
		curl_free(q);
		snprintf(err, errlen, "cannot build a query: out of memory");
		return NULL;
	}
	curl_free(q);
	curl_easy_setopt(p->curl, CURLOPT_URL, req);
	rc = curl_easy_perform(p->curl);
	free(req);
	if (rc != CURLE_OK) {
		snprintf(err, errlen,
			 "cannot reach Prometheus at %s: %s; check the URL and that the server "
			 "runs (curl %s/-/ready)",
			 p->url, curl_easy_strerror(rc), p->url);
		return NULL;
	}
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
	p->answer = p->len ? json_loadb(p->body, p->len, 0, &jerr) : NULL;
	status = json_string_value(json_object_get(p->answer, "status"));
	if (!status) {
		snprintf(err, errlen,
			 "%s answered HTTP %ld without a Prometheus API answer: is it the base URL "
			 "of a Prometheus server (http://HOST:9090)?",
			 p->url, code);
		return NULL;
	}
	if (strcmp(status, "success")) {
		msg = json_string_value(json_object_get(p->answer, "error"));
		snprintf(err, errlen, "Prometheus at %s refused the query %s: %s", p->url, promql,
			 msg ? msg : "no reason given");
		return NULL;
	}
	data = json_object_get(p->answer, "data");
	if (strcmp(json_string_value(json_object_get(data, "resultType")) ?: "", "vector") ||
	    !json_is_array(json_object_get(data, "result"))) {
		snprintf(err, errlen, "Prometheus at %s answered %s with no instant vector", p->url,
			 promql);
		return NULL;
	}
	return json_object_get(data, "result");
}

const char *vx_prom_label(json_t *sample, const char *name)
{
	return json_string_value(json_object_get(json_object_get(sample, "metric"), name)) ?: "";
}

double vx_prom_value(json_t *sample)
{
	const char *v = json_string_value(json_array_get(json_object_get(sample, "value"), 1));
	char *end;
	double d;

	if (!v)
		return NAN;
	d = strtod(v, &end);
	return *end ? NAN : d;
}
