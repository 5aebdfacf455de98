// SPDX-License-Identifier: MIT
/* sd_notify through user/sdnotify.c, received on a socket standing in for systemd's. */
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "check.h"
#include "sdnotify.h"

static int sock = -1;

/* The next datagram, or "" after 2 s. */
static const char *next_msg(void)
{
	static char buf[1024];
	struct timeval tv = { 2, 0 };
	ssize_t n;

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(sock, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void ready(void)
{
	const char *m;

	EXPECT(sdn_ready("watching %d Go processes", 3) > 0);
	m = next_msg();
	EXPECT_MSG(!strcmp(m, "READY=1\nSTATUS=watching 3 Go processes"), "got \"%s\"", m);
}

static void status_and_stopping(void)
{
	const char *m;

	EXPECT(sdn_status("attached to %s", "PID 42") > 0);
	m = next_msg();
	EXPECT_MSG(!strcmp(m, "STATUS=attached to PID 42"), "got \"%s\"", m);
	EXPECT(sdn_stopping() > 0);
	m = next_msg();
	EXPECT_MSG(!strcmp(m, "STOPPING=1"), "got \"%s\"", m);
}

/* Not started by systemd: nothing is sent, and that is not an error. */
static void outside_systemd(void)
{
	char *saved = strdup(getenv("NOTIFY_SOCKET"));

	unsetenv("NOTIFY_SOCKET");
	EXPECT(sdn_ready("x") == 0);
	EXPECT(sdn_stopping() == 0);
	setenv("NOTIFY_SOCKET", saved, 1);
	free(saved);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(ready), CASE(status_and_stopping), CASE(outside_systemd),
	};
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/mw-sdnotify.XXXXXX";
	int r;

	if (!mkdtemp(dir))
		return 1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("notify socket");
		return 1;
	}
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	r = check_run("sdnotify", cases, sizeof(cases) / sizeof(cases[0]));
	close(sock);
	unlink(sa.sun_path);
	rmdir(dir);
	return r;
}
