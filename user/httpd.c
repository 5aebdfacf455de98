// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "httpd.h"
#include "metrics.h"

/* A scraper needs one connection; a few more cover retries and a browser, not a flood. */
#define HTTPD_MAX_CONNECTIONS 8
#define HTTPD_IDLE_TIMEOUT_S 10

struct httpd {
	struct MHD_Daemon *mhd;
	int port;
	httpd_metrics_fn fn;
	void *ctx;
	char last_log[256];	/* libmicrohttpd's last message, for our own one line */
};

static int bad_listen(const char *s, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen, "bad listen address \"%s\": %s (expected HOST:PORT, e.g. %s or "
			      "[::1]:27362)", s, why, HTTPD_DEFAULT_LISTEN);
	return -1;
}

int httpd_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
		       size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	const char *colon = strrchr(s, ':'), *h = s;
	char host[256], *end;
	size_t hl;
	long port;
	int r;

	if (!colon || colon == s)
		return bad_listen(s, "no host", err, errlen);
	hl = (size_t)(colon - s);
	if (*s == '[') {	/* [v6]:port */
		if (colon[-1] != ']')
			return bad_listen(s, "an IPv6 address goes in brackets", err, errlen);
		h++;
		hl -= 2;
	} else if (memchr(s, ':', hl)) {
		return bad_listen(s, "an IPv6 address goes in brackets", err, errlen);
	}
	if (hl == 0 || hl >= sizeof(host))
		return bad_listen(s, "no host", err, errlen);
	memcpy(host, h, hl);
	host[hl] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 0 || port > 65535)
		return bad_listen(s, "the port is not a number from 0 to 65535", err, errlen);
	/* A name other than localhost would listen wherever DNS says: numeric only. */
	if (strcmp(host, "localhost"))
		hints.ai_flags |= AI_NUMERICHOST;
	r = getaddrinfo(host, colon + 1, &hints, &ai);
	if (r)
		return bad_listen(s, gai_strerror(r), err, errlen);
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* The socket is ours, not MHD's, so that every way binding fails is our own one line. */
static int listen_socket(const char *s, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, e;

	if (httpd_parse_listen(s, &ss, &len, err, errlen))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", s, strerror(errno));
		return -1;
	}
	/* a restarted daemon binds at once, past its old connections in TIME_WAIT */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (!bind(fd, (struct sockaddr *)&ss, len) && !listen(fd, 16))
		return fd;
	e = errno;
	close(fd);
	snprintf(err, errlen, "cannot listen on %s: %s%s", s, strerror(e),
		 e == EADDRINUSE ? " (another mapwatch daemon, or another program, has the "
				   "port: choose another with --listen)" :
		 e == EADDRNOTAVAIL ? " (no interface of this host has that address)" :
		 e == EACCES ? " (a port below 1024 needs CAP_NET_BIND_SERVICE)" : "");
	return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, GString *body,
			     const char *type)
{
	gsize n = body->len;
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
		n, g_string_free(body, FALSE), g_free);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* A GET carries no body: every request is answered on its first call. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **req)
{
	struct httpd *h = cls;
	GString *body = g_string_new(NULL);

	(void)version, (void)upload, (void)upload_size, (void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		g_string_append(body, "only GET and HEAD\n");
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, body, "text/plain");
	}
	if (!strcmp(url, "/metrics")) {
		if (!h->fn(body, h->ctx))
			return reply(c, MHD_HTTP_OK, body, MX_CONTENT_TYPE);
		g_string_assign(body, "mapwatch could not collect its metrics\n");
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, body, "text/plain");
	}
	if (!strcmp(url, "/")) {
		g_string_append(body, "mapwatch daemon: metrics at /metrics\n");
		return reply(c, MHD_HTTP_OK, body, "text/plain");
	}
	g_string_append(body, "not found: metrics are at /metrics\n");
	return reply(c, MHD_HTTP_NOT_FOUND, body, "text/plain");
}

/* libmicrohttpd never prints: its last message goes into our own one line, if we fail. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	size_t n;

	vsnprintf(h->last_log, sizeof(h->last_log), fmt, ap);
	n = strlen(h->last_log);
	while (n && (h->last_log[n - 1] == '\n' || h->last_log[n - 1] == '.'))
		h->last_log[--n] = 0;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port);
}

struct httpd *httpd_start(const char *listen, httpd_metrics_fn fn, void *ctx, char *err,
			  size_t errlen)
{
	struct httpd *h;
	int fd = listen_socket(listen, err, errlen);

	if (fd < 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->fn = fn;
	h->ctx = ctx;
	h->port = bound_port(fd);
	/* MHD_USE_EPOLL without an internal thread: the caller's loop drives it. Its messages
	 * go to mhd_log (MHD_USE_ERROR_LOG), never to stderr. */
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_IDLE_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!h->mhd) {
		snprintf(err, errlen, "cannot start the HTTP server on %s: %s", listen,
			 h->last_log[0] ? h->last_log : "libmicrohttpd gave no reason");
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

int httpd_fd(const struct httpd *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

int httpd_timeout_ms(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(h->mhd, &t) != MHD_YES)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

void httpd_run(struct httpd *h)
{
	MHD_run(h->mhd);
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	/* MHD closes the listen socket it was given, with its connections. */
	MHD_stop_daemon(h->mhd);
	free(h);
}
