/*
 * The start-up sequence shared by ttpd and ttpctl (see startup.h).
 */
#include "config.h"

#include <string.h>

#include "attack.h"
#include "conf.h"
#include "loader.h"
#include "log.h"
#include "probe.h"
#include "startup.h"
#include "store.h"

void
startup_problem(void *ud, const char *msg)
{
	struct startup *s = ud;

	s->problems++;
	log_err("%s", msg);
}

int
startup_load(struct startup *s, struct config *cfg, unsigned flags)
{
	char err[1024];
	size_t i;

	memset(s, 0, sizeof *s);
	registry_init(&s->reg);
	ruleset_init(&s->rules);
	s->loaded = 1;
	if (flags & STARTUP_PLUGINS) {
		/* crash attribution; -t: crash-safe probe of every plugin */
		if (flags & STARTUP_GUARD)
			s->problems += probe_guard_plugins(cfg,
			    (flags & STARTUP_PROBE) != 0);
		for (i = 0; i < cfg->nplugins; i++)
			if (loader_load(&s->reg, cfg->plugins_dir,
			    &cfg->plugins[i], err, sizeof err) != 0)
				s->problems++; /* logged by the loader */
	}
	registry_finish(&s->reg);
	rules_load_dirs((const char *const *)cfg->rules_dirs,
	    cfg->nrules_dirs, &s->rules, startup_problem, s);
	attack_setup(cfg, &s->rules, startup_problem, s,
	    (flags & STARTUP_KEEP_ATTACK) ? &s->attack : NULL);
	return s->problems;
}

static void
apply_rule_state(void *ud, const char *rule_id, const struct rule_state *st)
{
	struct startup *s = ud;
	struct rule *r = ruleset_find(&s->rules, rule_id);

	if (r != NULL)
		rule_set_state(r, st);
}

int
startup_rule_states(struct startup *s, struct store *st)
{
	return store_rule_states(st, apply_rule_state, s);
}

int
startup_assign(struct startup *s)
{
	if (registry_assign_rules(&s->reg, &s->rules, startup_problem, s) > 0)
		s->problems++;
	return s->problems;
}

void
startup_free(struct startup *s)
{
	if (s->loaded) {
		registry_free(&s->reg);
		ruleset_free(&s->rules);
	}
	attack_free(s->attack);
	memset(s, 0, sizeof *s);
}

void
startup_store_options(const struct config *cfg, struct store_options *so)
{
	store_options_default(so);
	so->busy_timeout_ms = (int)cfg->store_busy_timeout_ms;
	so->cache_size_kib = cfg->store_cache_kib;
	so->synchronous = cfg->store_synchronous;
	so->indexes = cfg->store_indexes == 1 ? STORE_INDEXES_DECNET :
	    STORE_INDEXES_COMPACT;
}
