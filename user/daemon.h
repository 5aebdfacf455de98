/* SPDX-License-Identifier: MIT */
/*
 * mapwatch daemon: options, and the config file whose keys are the long options' names.
 *
 * Options come from three places, later ones winning: defaults, the config file (--config),
 * the command line. Rules (exe, comm, pid, all-go) add up from both. SIGHUP builds them all
 * again from the same command line and the file as it is now.
 */
#ifndef MW_DAEMON_H
#define MW_DAEMON_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include "detect/detect.h"
#include "watch.h"

#define DAEMON_DEFAULT_STATE_DIR "/var/lib/mapwatch"
#define DAEMON_DEFAULT_BUDGET_PCT 1.0	/* per target, % of one CPU */
#define DAEMON_DEFAULT_HOST_BUDGET_PCT 10.0	/* every target together */

struct daemon_opts {
	struct watch_rules rules;
	char *listen;
	double budget;		/* per target, share of one CPU */
	double host_budget;	/* all targets together, share of one CPU */
	char *state_dir;
	size_t max_maps;	/* per target, for metrics; 0: no limit */
	unsigned max_reports;	/* evidence reports kept in the state dir */
	double interval_s;	/* an epoch: what one report and one metrics update cover */
	int ringbuf_mb;
	bool check;
	char *config;
	struct detect_opts thresholds;
};

void daemon_opts_init(struct daemon_opts *o);
void daemon_opts_free(struct daemon_opts *o);
/*
 * Set one option by its long name ("exe", "budget", ...; "config" and "check" too). 0, or -1
 * with one line in err.
 */
int daemon_opt_set(struct daemon_opts *o, const char *key, const char *val, char *err,
		   size_t errlen);
/*
 * Defaults, then the config file (if one is named, in cli or by config), then the command
 * line's (key, value) pairs, in order. 0, or -1 with one line in err.
 */
int daemon_opts_build(struct daemon_opts *o, const GPtrArray *cli, char *err, size_t errlen);
/* Pure: one line of a config file: "key = value", "key value", "key", comment or blank. */
int daemon_config_line(const char *line, char **key, char **val);

/* The daemon; cli as for daemon_opts_build. An MW_EXIT_* status. */
int cmd_daemon(const GPtrArray *cli);

#endif
