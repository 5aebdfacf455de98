// SPDX-License-Identifier: MIT
/*
 * The HTTP listener driven by an epoll loop of the test's own, as the daemon will drive it:
 * a client socket in the same thread sends a request, the loop runs the server until the
 * answer is complete. Bad listen addresses and a port in use fail with one line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "httpd.h"
#include "metrics.h"

static int scrapes, fail_scrape;

static int fill(GString *body, void *ctx)
{
	(void)ctx;
	scrapes++;
	if (fail_scrape)
		return -1;
	g_string_append(body, "# HELP mapwatch_targets Go processes.\n# TYPE mapwatch_targets "
			      "gauge\nmapwatch_targets 3\n");
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Send req to the server on port, run the server from an epoll loop until the server closes
 * the connection (HTTP/1.0), at most 5 s; the whole answer, or NULL.
 */
static char *exchange(struct httpd *h, const char *req)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(httpd_port(h)) };
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	GString *out = g_string_new(NULL);
	double end = now() + 5;
	bool eof = false;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	epoll_ctl(ep, EPOLL_CTL_ADD, httpd_fd(h), &ev);
	/* loopback: connect completes into the backlog before the server accepts */
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(c, req, strlen(req)) != (ssize_t)strlen(req))
		eof = true;
	fcntl(c, F_SETFL, O_NONBLOCK);
	while (!eof && now() < end) {
		struct epoll_event got;
		int t = httpd_timeout_ms(h);
		char buf[4096];
		ssize_t n;

		epoll_wait(ep, &got, 1, t < 0 || t > 50 ? 50 : t);
		httpd_run(h);
		while ((n = read(c, buf, sizeof(buf))) > 0)
			g_string_append_len(out, buf, n);
		eof = n == 0 || (n < 0 && errno != EAGAIN);
	}
	close(c);
	close(ep);
	if (!eof) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

/* The status code of an HTTP/1.x answer, or 0. */
static int status(const char *r)
{
	int code = 0;

	return r && sscanf(r, "HTTP/1.%*d %d ", &code) == 1 ? code : 0;
}

/* A server on a free loopback port, or NULL (a failed case). */
static struct httpd *start(void)
{
	char err[256];
	struct httpd *h = httpd_start("127.0.0.1:0", fill, NULL, err, sizeof(err));

	EXPECT_MSG(h, "%s", err);
	return h;
}

static void metrics(void)
{
	struct httpd *h = start();
	char *r;

	if (!h)
		return;
	EXPECT(httpd_port(h) > 0 && httpd_fd(h) >= 0);
	scrapes = 0;
	r = exchange(h, "GET /metrics HTTP/1.0\r\n\r\n");
	EXPECT_MSG(status(r) == 200, "%s", r ? r : "(no answer)");
	EXPECT(r && strstr(r, "\r\nContent-Type: " MX_CONTENT_TYPE "\r\n"));
	EXPECT(r && strstr(r, "\r\n\r\n# HELP mapwatch_targets") && strstr(r, "\nmapwatch_targets 3\n"));
	EXPECT(scrapes == 1);
	g_free(r);

	/* a second scrape on a new connection: the server is still serving */
	r = exchange(h, "GET /metrics HTTP/1.0\r\n\r\n");
	EXPECT(r && strstr(r, "\nmapwatch_targets 3\n") && scrapes == 2);
	g_free(r);
	httpd_stop(h);
}

static void other_requests(void)
{
	struct httpd *h = start();
	char *r;

	if (!h)
		return;
	r = exchange(h, "GET /nope HTTP/1.0\r\n\r\n");
	EXPECT_MSG(status(r) == 404, "%s", r ? r : "(no answer)");
	g_free(r);
	r = exchange(h, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
	EXPECT_MSG(status(r) == 405 && strstr(r, "\r\nAllow: GET, HEAD\r\n"),
		   "%s", r ? r : "(no answer)");
	g_free(r);
	r = exchange(h, "HEAD /metrics HTTP/1.0\r\n\r\n");
	EXPECT(status(r) == 200 && !strstr(r, "mapwatch_targets 3"));
	g_free(r);
	fail_scrape = 1;
	r = exchange(h, "GET /metrics HTTP/1.0\r\n\r\n");
	EXPECT_MSG(status(r) == 500, "%s", r ? r : "(no answer)");
	fail_scrape = 0;
	g_free(r);
	httpd_stop(h);
}

/* Every bad address is refused before anything listens, in one line. */
static void bad_addresses(void)
{
	static const char *const bad[] = {
		"27362", ":27362", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
		"127.0.0.1:-1", "::1:27362", "[::1:27362", "300.1.1.1:27362", "example.com:27362",
		"[]:27362",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct httpd *h = httpd_start(bad[i], fill, NULL, err, sizeof(err));

		EXPECT_MSG(!h, "%s accepted", bad[i]);
		EXPECT_MSG(!strncmp(err, "bad listen address \"", 20) && !strchr(err, '\n'),
			   "%s: %s", bad[i], err);
		httpd_stop(h);
	}
}

static void good_addresses(void)
{
	static const char *const good[] = { "127.0.0.1:0", "[::1]:0", "localhost:0" };
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		EXPECT_MSG(!httpd_parse_listen(good[i], &ss, &len, err, sizeof(err)), "%s: %s",
			   good[i], err);
	EXPECT(!httpd_parse_listen(HTTPD_DEFAULT_LISTEN, &ss, &len, err, sizeof(err)) &&
	       ss.ss_family == AF_INET && ntohs(((struct sockaddr_in *)&ss)->sin_port) == 27362);
}

static void port_in_use(void)
{
	char err[256], addr[64];
	struct httpd *a = start(), *b;

	if (!a)
		return;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", httpd_port(a));
	b = httpd_start(addr, fill, NULL, err, sizeof(err));
	EXPECT(!b);
	EXPECT_MSG(strstr(err, "cannot listen on 127.0.0.1:") && strstr(err, "Address already in use") &&
			   !strchr(err, '\n'), "%s", err);
	httpd_stop(b);
	httpd_stop(a);
	/* stopped, the port is free again (the listen socket was closed with the server) */
	b = httpd_start(addr, fill, NULL, err, sizeof(err));
	EXPECT_MSG(b, "%s", err);
	httpd_stop(b);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(metrics), CASE(other_requests), CASE(bad_addresses), CASE(good_addresses),
		CASE(port_in_use),
	};

	return check_run("httpd", cases, sizeof(cases) / sizeof(cases[0]));
}
