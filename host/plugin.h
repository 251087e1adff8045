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

/* The match.kind owner of a rule among loaded plugins, or NULL. */
struct plugin *registry_rule_owner(const struct registry *reg,
    const char *kind);

#endif
