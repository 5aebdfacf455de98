/* SPDX-License-Identifier: MIT */
#ifndef MW_COMMANDS_H
#define MW_COMMANDS_H

#include <sys/types.h>
#include "detect/detect.h"

struct capture_opts {
	pid_t pid;
	double duration_s;
	const char *json_path;
	const char *ready_file;	/* created once every probe is attached */
	int ringbuf_mb;
	const char *folded_path;
	const char *dot_path;
	const char *record_path;	/* --record (hidden): the raw record stream, for tools/bench */
	double lock_baseline_s;	/* < 0: automatic */
	double budget;		/* most probe CPU, share of one CPU; 0: off */
	struct detect_opts thresholds;
};

/* Each returns an MW_EXIT_* status and has printed its one-line error. */
int cmd_capture(const struct capture_opts *o);
int cmd_info(pid_t pid, const char *binary);
int cmd_report(const char *path);

#endif
