// SPDX-License-Identifier: GPL-2.0-only
/* The HTTP server behind --metrics: the listen address, the socket, and
 * libmicrohttpd (opened at run time) serving the registry of metrics.c on
 * /metrics. See httpd.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "httpd.h"
#include "metrics.h"

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
		mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; charset=utf-8");
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
		errno = ENOMEM;
		return NULL;
	}
	s->m = m;
	if (mhd_open(err, errlen)) {
		free(s);
		errno = ELIBACC;
		return NULL;
	}
	s->fd = listen_on(addr, port, &s->port, err, errlen);
	if (s->fd < 0) {
		errno = -s->fd;
		free(s);
		return NULL;
	}
	/* Bounded: a handful of scrapers at a time, none allowed to hold a
	 * connection open for long. */
	s->d = mhd.start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot start the metrics HTTP server on %s:%u", addr, port);
		close(s->fd);
		free(s);
		errno = EIO;
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
