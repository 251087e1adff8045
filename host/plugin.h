/*
 * A loaded lifter instance and the registry that dispatches events to them.
 */
#ifndef TTPD_PLUGIN_H
#define TTPD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "tag.h"
#include "ttpd/lifter.h"

struct rule;
struct ruleset;

struct plugin_counters {
	uint64_t events;   /* handle() calls */
	uint64_t tags;     /* tags produced (before the insert floor) */
	uint64_t errors;   /* handle() errors */
	uint64_t gated;    /* emits refused by rule state */
	uint64_t ns_spent; /* time inside handle() */
};

struct plugin {
	char *name;               /* descriptor name (copied) */
	char *path;               /* file it was loaded from */
	void *dl;                 /* dlopen handle */
	const ttpd_lifter *desc;  /* static in the plugin */
	uint32_t desc_size;       /* min(desc->size, sizeof(ttpd_lifter)) */
	ttpd_ctx *ctx;            /* host side of the instance */
	void *state;              /* the plugin's */
	int disabled;             /* set after TTPD_EFATAL */
	struct plugin_counters counters;
	/* rules owned, in load order (pointers into the ruleset) */
	struct rule **rules;
	size_t nrules;
	/* the same rules bucketed by source kind (applies_to) */
	struct kind_rules {
		char *kind;
		struct rule **v;
		size_t n;
		/* rules_for() answer when no rule of v is disabled, as of
		 * rules_generation() == gen (host/hostapi.c) */
		const ttpd_rule **pubs;
		int any_disabled;
		unsigned long gen;
	} *by_kind;
	size_t nby_kind;
};

/* Everything loaded: plugins and the kind -> plugins table. */
struct registry {
	struct plugin **plugins;
	size_t nplugins;
	struct plugin *generic_owner; /* the F_GENERIC_RULES plugin, or NULL */
	/* kind table, built by registry_finish() */
	struct kind_entry {
		char *kind;
		struct plugin **plugins;
		size_t n;
	} *kinds;
	size_t nkinds;
};

void registry_init(struct registry *reg);
/* Find by descriptor name. */
struct plugin *registry_find(const struct registry *reg, const char *name);
/* Adds a fully initialised plugin (takes ownership). */
void registry_add(struct registry *reg, struct plugin *p);
/* Destroy every plugin (destroy(), release rules) and free. dlclose is
 * never called: plugins stay resident (RTLD_NODELETE). */
void registry_free(struct registry *reg);

/* The source kinds ttpd knows (DECNET's KNOWN_SOURCE_KINDS). */
int source_kind_known(const char *kind);
/* All of them, NULL-terminated. */
const char *const *source_kinds_known(void);

/* The match.kind owner of a rule among loaded plugins, or NULL: an exact
 * rule_kinds entry wins over a prefix, a longer prefix over a shorter one;
 * a kind that does not start with "lifter:" (or none) goes to the
 * F_GENERIC_RULES plugin. */
struct plugin *registry_rule_owner(const struct registry *reg,
    const char *kind);

/* Build the kind -> plugins table after all plugins are added. */
void registry_finish(struct registry *reg);
/* Plugins that handle a source kind (load order), or NULL with *n = 0. */
struct plugin *const *registry_plugins_for(const struct registry *reg,
    const char *kind, size_t *n);

/*
 * Hand every rule of rs to its owner: rule_prepare() (when the plugin has
 * one), then the owner's rule list and kind buckets.  A rule owned by no
 * loaded plugin stays inert and is logged once (notice).  Each rule a
 * plugin rejects is reported ("path:line: rule R: plugin p: reason").
 * Returns the number of rejected rules.
 */
int registry_assign_rules(struct registry *reg, struct ruleset *rs,
    void (*report)(void *ud, const char *msg), void *ud);
/* Undo registry_assign_rules(): rule_release() and empty the lists. */
void registry_release_rules(struct registry *reg);

/*
 * One rule at a time (hot reload, host/reload.c), on the tagging thread
 * between events.  registry_prepare_rule(): find r's owner and
 * rule_prepare() it without attaching it: 1 prepared (r->owner set), 0
 * owned by no loaded plugin (inert), -1 rejected ("path:line: rule R:
 * rejected by plugin p: reason" in err).  registry_swap_rule(): attach r
 * (prepared, or inert) in place of old (NULL: a new rule): old leaves its
 * owner's lists and is rule_release()d; with the same owner r keeps old's
 * place in load order.  registry_detach_rule(): a rule leaves (release).
 * registry_unprepare_rule(): drop a prepared rule never attached.
 */
int registry_prepare_rule(struct registry *reg, struct rule *r, char *err,
    size_t errlen);
void registry_swap_rule(struct registry *reg, struct rule *old,
    struct rule *r);
void registry_detach_rule(struct registry *reg, struct rule *r);
void registry_unprepare_rule(struct rule *r);

#endif
