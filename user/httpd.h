/* SPDX-License-Identifier: MIT */
/*
 * The daemon's HTTP listener (libmicrohttpd): GET /metrics answered from a callback, in the
 * caller's own event loop. It has no thread: the caller adds httpd_fd() to its epoll set
 * (readable: call httpd_run()) and waits at most httpd_timeout_ms(), after which it calls
 * httpd_run() too. So the callback runs on the caller's thread, between its other events,
 * and reads the caller's state without a lock.
 */
#ifndef MW_HTTPD_H
#define MW_HTTPD_H

#include <glib.h>
#include <stddef.h>
#include <sys/socket.h>

/* The daemon's default: loopback only, a port of its own (README: Daemon building blocks). */
#define HTTPD_DEFAULT_LISTEN "127.0.0.1:27362"

struct httpd;

/* Fill body (Prometheus text) for one scrape; nonzero answers 500 instead. */
typedef int (*httpd_metrics_fn)(GString *body, void *ctx);

/*
 * "HOST:PORT", "[V6]:PORT" (HOST numeric, or "localhost"); port 0 picks a free one.
 * 0, or -1 with a one-line message in err.
 */
int httpd_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
		       size_t errlen);
/* Listen and serve; NULL with a one-line message in err (bad address, port in use, ...). */
struct httpd *httpd_start(const char *listen, httpd_metrics_fn fn, void *ctx, char *err,
			  size_t errlen);
/* An epoll fd: readable when there is work for httpd_run(). */
int httpd_fd(const struct httpd *h);
/* The longest the caller may wait before calling httpd_run() (-1: no limit). */
int httpd_timeout_ms(struct httpd *h);
/* Accept, read, answer, time out idle connections; never blocks. */
void httpd_run(struct httpd *h);
/* The port listened on (the one picked, for port 0). */
int httpd_port(const struct httpd *h);
void httpd_stop(struct httpd *h);

#endif
