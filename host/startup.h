/*
 * Start-up shared by ttpd (daemon, -t, -T, --replay, SIGHUP reload) and
 * ttpctl: plugins (with crash attribution, and the forked probe of -t),
 * rules, the ATT&CK check, rule states from the store, rule ownership.
 * Every problem is logged and counted; the caller decides what it means.
 */
#ifndef TTPD_STARTUP_H
#define TTPD_STARTUP_H

#include "plugin.h"
#include "rules.h"

struct attack;
struct config;
struct store;
struct store_options;

/* startup_load() flags */
#define STARTUP_PLUGINS 0x1u /* load plugins.load (else: rules only) */
#define STARTUP_GUARD   0x2u /* crash attribution before plugin code runs */
#define STARTUP_PROBE   0x4u /* with GUARD: fork-probe every plugin (-t) */
#define STARTUP_KEEP_ATTACK 0x8u /* keep the loaded bundle in ->attack */

struct startup {
	struct registry reg;
	struct ruleset rules;
	struct attack *attack;  /* with STARTUP_KEEP_ATTACK, else NULL */
	int problems;           /* rule, bundle and plugin problems */
	int loaded;             /* reg and rules initialised */
};

/*
 * Plugins (as flags say), rules from rules.dirs, the ATT&CK check
 * (attack_setup(): may set cfg->attack_release).  Returns s->problems.
 */
int startup_load(struct startup *s, struct config *cfg, unsigned flags);

/* Apply ttp_rule_state from st to the loaded rules: store_rule_states()'s
 * return (0, or -1 with store_error(st) set). */
int startup_rule_states(struct startup *s, struct store *st);

/* Hand rules to their plugins; rejected rules count as problems.
 * Returns s->problems. */
int startup_assign(struct startup *s);

/* The count of a problem found by the caller (logged by it). */
void startup_problem(void *s, const char *msg);

void startup_free(struct startup *s);

/* The store options the config sets (store.busy_timeout_ms, ...). */
void startup_store_options(const struct config *cfg,
    struct store_options *so);

#endif
