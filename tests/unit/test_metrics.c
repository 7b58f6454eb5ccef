// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus exposition text byte for byte (what promtool and a
 * Prometheus server parse), the cardinality cap, --metrics parsing, and
 * the HTTP server on a loopback port: /metrics, 404 elsewhere, port in use. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "httpd.h"
#include "metrics.h"

static char *render(struct vx_metrics *m)
{
	char *buf;
	size_t len;

	assert_true(vx_metrics_render_buf(m, &buf, &len) >= 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static void test_counter_and_gauge(void **state)
{
	static const char *const labels[] = { "netns", "vni", NULL };
	struct vx_metrics *m = vx_metrics_new();
	struct vx_mfamily *c = vx_metrics_add(m, "vxray_tunnel_packets_total", VX_METRIC_COUNTER,
					      "Tunnel packets.", labels, 10);
	struct vx_mfamily *g = vx_metrics_add(m, "vxray_programs_attached", VX_METRIC_GAUGE,
					      "Programs attached now.", NULL, 1);
	char *out;

	assert_non_null(c);
	assert_non_null(g);
	assert_int_equal(vx_metric_set(c, (const char *[]){ "vxlab-a", "100" }, 5), 0);
	assert_int_equal(vx_metric_set(c, (const char *[]){ "vxlab-b", "100" }, 7), 0);
	/* Set, not add: the kernel's maps hold totals. */
	assert_int_equal(vx_metric_set(c, (const char *[]){ "vxlab-a", "100" }, 9), 0);
	assert_int_equal(vx_metric_set(g, NULL, 4), 0);
	assert_int_equal(vx_metric_add(c, (const char *[]){ "vxlab-b", "100" }, 0), 0);
	out = render(m);
	assert_string_equal(
		out,
		"# HELP vxray_tunnel_packets_total Tunnel packets.\n"
		"# TYPE vxray_tunnel_packets_total counter\n"
		"vxray_tunnel_packets_total{netns=\"vxlab-a\",vni=\"100\"} 9\n"
		"vxray_tunnel_packets_total{netns=\"vxlab-b\",vni=\"100\"} 7\n"
		"# HELP vxray_programs_attached Programs attached now.\n"
		"# TYPE vxray_programs_attached gauge\n"
		"vxray_programs_attached 4\n"
		"# HELP vxray_metrics_series_refused_total New label sets refused because their "
		"family reached its cardinality cap.\n"
		"# TYPE vxray_metrics_series_refused_total counter\n"
		"vxray_metrics_series_refused_total{family=\"vxray_tunnel_packets_total\"} 0\n"
		"vxray_metrics_series_refused_total{family=\"vxray_programs_attached\"} 0\n");
	free(out);
	vx_metrics_free(m);
}

static void test_label_escaping(void **state)
{
	static const char *const labels[] = { "device", NULL };
	struct vx_metrics *m = vx_metrics_new();
	struct vx_mfamily *f =
		vx_metrics_add(m, "x_total", VX_METRIC_COUNTER,
			       "Back\\slash and\nnewline in help; \"quotes\" stay.", labels, 4);
	char *out;

	assert_int_equal(vx_metric_set(f, (const char *[]){ "a\"b\\c\nd" }, 1), 0);
	out = render(m);
	assert_non_null(strstr(out, "# HELP x_total Back\\\\slash and\\nnewline in help; "
				    "\"quotes\" stay.\n"));
	assert_non_null(strstr(out, "x_total{device=\"a\\\"b\\\\c\\nd\"} 1\n"));
	free(out);
	vx_metrics_free(m);
}

static void test_values(void **state)
{
	static const char *const labels[] = { "k", NULL };
	struct vx_metrics *m = vx_metrics_new();
	struct vx_mfamily *f = vx_metrics_add(m, "v", VX_METRIC_GAUGE, "", labels, 8);
	char *out;

	vx_metric_set(f, (const char *[]){ "big" }, 9007199254740992.0); /* 2^53 */
	vx_metric_set(f, (const char *[]){ "tenth" }, 0.1);
	vx_metric_set(f, (const char *[]){ "round" }, 720);
	vx_metric_set(f, (const char *[]){ "inf" }, 1.0 / 0.0);
	vx_metric_set(f, (const char *[]){ "neg" }, -2.5);
	out = render(m);
	assert_non_null(strstr(out, "v{k=\"big\"} 9007199254740992\n"));
	assert_non_null(strstr(out, "v{k=\"tenth\"} 0.1\n"));
	assert_non_null(strstr(out, "v{k=\"round\"} 720\n"));
	assert_non_null(strstr(out, "v{k=\"inf\"} +Inf\n"));
	assert_non_null(strstr(out, "v{k=\"neg\"} -2.5\n"));
	free(out);
	/* add() starts a new series at 0 and accumulates. */
	vx_metric_add(f, (const char *[]){ "sum" }, 2);
	vx_metric_add(f, (const char *[]){ "sum" }, 3);
	out = render(m);
	assert_non_null(strstr(out, "v{k=\"sum\"} 5\n"));
	free(out);
	vx_metrics_free(m);
}

static void test_histogram(void **state)
{
	static const char *const labels[] = { "stage", NULL };
	static const double bounds[] = { 0.000001, 0.001, 0.5 };
	struct vx_metrics *m = vx_metrics_new();
	struct vx_mfamily *h = vx_metrics_add_histogram(m, "vxray_latency_seconds", "Latency.",
							labels, bounds, 3, 4);
	const uint64_t counts[] = { 1, 2, 0, 3 }; /* per bucket; last: above 0.5 */
	char *out;

	assert_non_null(h);
	assert_int_equal(vx_metric_set_histogram(h, (const char *[]){ "encap" }, counts, 4.25), 0);
	/* A histogram is not a counter and vice versa. */
	assert_int_equal(vx_metric_set(h, (const char *[]){ "encap" }, 1), -EINVAL);
	out = render(m);
	assert_non_null(strstr(out, "# HELP vxray_latency_seconds Latency.\n"
				    "# TYPE vxray_latency_seconds histogram\n"
				    "vxray_latency_seconds_bucket{stage=\"encap\",le=\"1e-06\"} 1\n"
				    "vxray_latency_seconds_bucket{stage=\"encap\",le=\"0.001\"} 3\n"
				    "vxray_latency_seconds_bucket{stage=\"encap\",le=\"0.5\"} 3\n"
				    "vxray_latency_seconds_bucket{stage=\"encap\",le=\"+Inf\"} 6\n"
				    "vxray_latency_seconds_sum{stage=\"encap\"} 4.25\n"
				    "vxray_latency_seconds_count{stage=\"encap\"} 6\n"));
	free(out);
	vx_metrics_free(m);
}

static void test_cardinality_cap(void **state)
{
	static const char *const labels[] = { "remote_vtep", NULL };
	struct vx_metrics *m = vx_metrics_new();
	struct vx_mfamily *f = vx_metrics_add(m, "t_total", VX_METRIC_COUNTER, "", labels, 2);
	char *out;

	assert_int_equal(vx_metric_set(f, (const char *[]){ "10.0.0.1" }, 1), 0);
	assert_int_equal(vx_metric_set(f, (const char *[]){ "10.0.0.2" }, 1), 0);
	assert_int_equal(vx_metric_set(f, (const char *[]){ "10.0.0.3" }, 1), -ENOSPC);
	assert_int_equal(vx_metric_set(f, (const char *[]){ "10.0.0.4" }, 1), -ENOSPC);
	/* Updating a series that exists still works when the family is full. */
	assert_int_equal(vx_metric_set(f, (const char *[]){ "10.0.0.1" }, 5), 0);
	out = render(m);
	assert_null(strstr(out, "10.0.0.3"));
	assert_non_null(strstr(out, "t_total{remote_vtep=\"10.0.0.1\"} 5\n"));
	assert_non_null(strstr(out, "vxray_metrics_series_refused_total{family=\"t_total\"} 2\n"));
	free(out);
	vx_metric_clear(f);
	assert_int_equal(vx_metric_set(f, (const char *[]){ "10.0.0.3" }, 1), 0);
	vx_metrics_free(m);
}

static void test_bad_names(void **state)
{
	static const char *const le[] = { "le", NULL };
	static const char *const reserved[] = { "__name", NULL };
	static const char *const dash[] = { "remote-vtep", NULL };
	static const double unsorted[] = { 1, 0.5 };
	struct vx_metrics *m = vx_metrics_new();

	assert_null(vx_metrics_add(m, "1abc", VX_METRIC_GAUGE, "", NULL, 1));
	assert_int_equal(errno, EINVAL);
	assert_null(vx_metrics_add(m, "a-b", VX_METRIC_GAUGE, "", NULL, 1));
	assert_null(vx_metrics_add(m, "a", VX_METRIC_GAUGE, "", le, 1));
	assert_null(vx_metrics_add(m, "a", VX_METRIC_GAUGE, "", reserved, 1));
	assert_null(vx_metrics_add(m, "a", VX_METRIC_GAUGE, "", dash, 1));
	assert_null(vx_metrics_add_histogram(m, "h", "", NULL, unsorted, 2, 1));
	assert_non_null(vx_metrics_add(m, "ns:a_total", VX_METRIC_COUNTER, "", NULL, 1));
	assert_null(vx_metrics_add(m, "ns:a_total", VX_METRIC_COUNTER, "", NULL, 1));
	assert_int_equal(errno, EEXIST);
	vx_metrics_free(m);
}

static void test_parse_listen(void **state)
{
	char addr[64], err[256];
	uint16_t port;

	assert_int_equal(
		vx_metrics_parse_listen("9435", addr, sizeof(addr), &port, err, sizeof(err)), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 9435);
	assert_int_equal(
		vx_metrics_parse_listen(":9100", addr, sizeof(addr), &port, err, sizeof(err)), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 9100);
	assert_int_equal(
		vx_metrics_parse_listen("0.0.0.0:80", addr, sizeof(addr), &port, err, sizeof(err)),
		0);
	assert_string_equal(addr, "0.0.0.0");
	assert_int_equal(
		vx_metrics_parse_listen("[::1]:9435", addr, sizeof(addr), &port, err, sizeof(err)),
		0);
	assert_string_equal(addr, "::1");
	assert_int_equal(
		vx_metrics_parse_listen("localhost:1", addr, sizeof(addr), &port, err, sizeof(err)),
		0);
	assert_string_equal(addr, "127.0.0.1");

	assert_int_equal(
		vx_metrics_parse_listen("70000", addr, sizeof(addr), &port, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "port must be a number"));
	assert_int_equal(vx_metrics_parse_listen("host.example:80", addr, sizeof(addr), &port, err,
						 sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not an IPv4 or IPv6 address"));
	assert_int_equal(
		vx_metrics_parse_listen("::1:80", addr, sizeof(addr), &port, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "[ADDR]:PORT"));
	assert_int_equal(
		vx_metrics_parse_listen("1.2.3.4:", addr, sizeof(addr), &port, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(vx_metrics_parse_listen("", addr, sizeof(addr), &port, err, sizeof(err)),
			 -EINVAL);
}

/* One HTTP/1.0 request to 127.0.0.1:@port; returns the whole response. */
static char *http_get(uint16_t port, const char *method, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	static char resp[65536];
	char req[256];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got < sizeof(resp) - 1 && (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	close(fd);
	return resp;
}

static void test_http(void **state)
{
	struct vx_metrics *m = vx_metrics_new();
	struct vx_mfamily *g = vx_metrics_add(m, "vxray_up", VX_METRIC_GAUGE, "Up.", NULL, 1);
	struct vx_metrics_server *s, *s2;
	char err[256];
	uint16_t port;
	char *r;

	vx_metric_set(g, NULL, 1);
	s = vx_metrics_serve(m, "127.0.0.1", 0, err, sizeof(err));
	assert_non_null(s);
	port = vx_metrics_server_port(s);
	assert_true(port > 0);

	r = http_get(port, "GET", "/metrics");
	assert_non_null(strstr(r, " 200 "));
	assert_non_null(strstr(r, "text/plain; version=0.0.4"));
	assert_non_null(strstr(r, "\r\n\r\n# HELP vxray_up Up.\n"));
	assert_non_null(strstr(r, "\nvxray_up 1\n"));

	r = http_get(port, "GET", "/");
	assert_non_null(strstr(r, " 404 "));
	assert_null(strstr(r, "vxray_up"));
	r = http_get(port, "POST", "/metrics");
	assert_non_null(strstr(r, " 405 "));

	/* A second server on the same port says so in one sentence. */
	errno = 0;
	s2 = vx_metrics_serve(m, "127.0.0.1", port, err, sizeof(err));
	assert_null(s2);
	/* errno tells the view it is the environment (exit 4), not usage. */
	assert_int_equal(errno, EADDRINUSE);
	assert_non_null(strstr(err, "already in use"));
	assert_non_null(strstr(err, "--metrics"));

	vx_metrics_server_stop(s);
	vx_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_and_gauge),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_cardinality_cap),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_http),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
