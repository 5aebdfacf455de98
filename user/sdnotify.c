// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include "sdnotify.h"

/* sd_notify's result: > 0 sent, 0 not under systemd, < 0 -errno. */
static int notify(const char *head, const char *fmt, va_list ap)
{
	char status[512];

	vsnprintf(status, sizeof(status), fmt, ap);
	return sd_notifyf(0, "%sSTATUS=%s", head, status);
}

int sdn_ready(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = notify("READY=1\n", fmt, ap);
	va_end(ap);
	return r;
}

int sdn_status(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = notify("", fmt, ap);
	va_end(ap);
	return r;
}

int sdn_stopping(void)
{
	return sd_notify(0, "STOPPING=1");
}
