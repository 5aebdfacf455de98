/* SPDX-License-Identifier: MIT */
/*
 * Readiness and status for systemd (Type=notify, tools/mapwatch.service), through libsystemd.
 * Outside systemd (no NOTIFY_SOCKET) every call does nothing and returns 0.
 */
#ifndef MW_SDNOTIFY_H
#define MW_SDNOTIFY_H

/* READY=1 with a status line: after the first scan, when every process found is handled. */
int sdn_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STATUS=..., shown by systemctl status. */
int sdn_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* STOPPING=1: detaching from every target on the way out. */
int sdn_stopping(void);

#endif
