/*
 * The registry: loaded plugins, which source kinds go to which plugins,
 * and which plugin owns which rule.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "hostapi.h"
#include "log.h"
#include "plugin.h"
#include "rules.h"
#include "xmalloc.h"

/* DECNET's KNOWN_SOURCE_KINDS. */
static const char *const known_kinds[] = {
	"command", "intel", "email", "canary_fingerprint", "identity",
	"credential", "auth_attempt", "payload", "session", "http_request",
	"http_fingerprint", "ipv6_leak", NULL
};

const char *const *
source_kinds_known(void)
{
	return known_kinds;
}

int
source_kind_known(const char *kind)
{
	size_t i;

	if (kind == NULL)
		return 0;
	for (i = 0; known_kinds[i] != NULL; i++)
		if (strcmp(known_kinds[i], kind) == 0)
			return 1;
	return 0;
}

void
registry_init(struct registry *reg)
{
	memset(reg, 0, sizeof *reg);
}

struct plugin *
registry_find(const struct registry *reg, const char *name)
{
	size_t i;

	for (i = 0; i < reg->nplugins; i++)
		if (strcmp(reg->plugins[i]->name, name) == 0)
			return reg->plugins[i];
	return NULL;
}

void
registry_add(struct registry *reg, struct plugin *p)
{
	reg->plugins = xreallocarray(reg->plugins, reg->nplugins + 1,
	    sizeof *reg->plugins);
	reg->plugins[reg->nplugins++] = p;
	if (p->desc->flags & TTPD_LIFTER_F_GENERIC_RULES)
		reg->generic_owner = p;
}

static void
kinds_free(struct registry *reg)
{
	size_t i;

	for (i = 0; i < reg->nkinds; i++) {
		free(reg->kinds[i].kind);
		free(reg->kinds[i].plugins);
	}
	free(reg->kinds);
	reg->kinds = NULL;
	reg->nkinds = 0;
}

void
registry_finish(struct registry *reg)
{
	size_t i, k;

	kinds_free(reg);
	for (i = 0; i < reg->nplugins; i++) {
		struct plugin *p = reg->plugins[i];
		const char *const *kp;

		for (kp = p->desc->source_kinds; kp != NULL && *kp != NULL;
		    kp++) {
			struct kind_entry *e = NULL;

			for (k = 0; k < reg->nkinds; k++)
				if (strcmp(reg->kinds[k].kind, *kp) == 0)
					e = &reg->kinds[k];
			if (e == NULL) {
				reg->kinds = xreallocarray(reg->kinds,
				    reg->nkinds + 1, sizeof *reg->kinds);
				e = &reg->kinds[reg->nkinds++];
				e->kind = xstrdup(*kp);
				e->plugins = NULL;
				e->n = 0;
			}
			e->plugins = xreallocarray(e->plugins, e->n + 1,
			    sizeof *e->plugins);
			e->plugins[e->n++] = p;
		}
	}
}

struct plugin *const *
registry_plugins_for(const struct registry *reg, const char *kind, size_t *n)
{
	size_t k;

	for (k = 0; k < reg->nkinds; k++)
		if (strcmp(reg->kinds[k].kind, kind) == 0) {
			*n = reg->kinds[k].n;
			return reg->kinds[k].plugins;
		}
	*n = 0;
	return NULL;
}

/* How well does plugin p claim match.kind `kind`? 0 = not at all. */
static size_t
claim_strength(const struct plugin *p, const char *kind)
{
	const char *const *rk = p->desc->rule_kinds;
	size_t best = 0;

	if (rk == NULL) {
		/* default: "lifter:<name>_*" */
		size_t n = strlen(p->name);

		if (strncmp(kind, "lifter:", 7) == 0 &&
		    strncmp(kind + 7, p->name, n) == 0 && kind[7 + n] == '_')
			return 7 + n + 1;
		return 0;
	}
	for (; *rk != NULL; rk++) {
		size_t len = strlen(*rk);

		if (!rule_kind_matches(*rk, kind))
			continue;
		if (len == 0 || (*rk)[len - 1] != '*')
			return (size_t)-1; /* exact beats every prefix */
		if (len > best)
			best = len; /* longer prefix wins; "*" alone is 1 */
	}
	return best;
}

struct plugin *
registry_rule_owner(const struct registry *reg, const char *kind)
{
	struct plugin *best = NULL;
	size_t i, best_strength = 0;

	if (kind == NULL || strncmp(kind, "lifter:", 7) != 0)
		return reg->generic_owner;
	for (i = 0; i < reg->nplugins; i++) {
		size_t s = claim_strength(reg->plugins[i], kind);

		if (s > best_strength) {
			best = reg->plugins[i];
			best_strength = s;
		}
	}
	return best;
}

static int
plugin_handles(const struct plugin *p, const char *kind)
{
	const char *const *kp;

	for (kp = p->desc->source_kinds; kp != NULL && *kp != NULL; kp++)
		if (strcmp(*kp, kind) == 0)
			return 1;
	return 0;
}

static void
bucket_add(struct plugin *p, const char *kind, struct rule *r)
{
	struct kind_rules *b = NULL;
	size_t i;

	for (i = 0; i < p->nby_kind; i++)
		if (strcmp(p->by_kind[i].kind, kind) == 0)
			b = &p->by_kind[i];
	if (b == NULL) {
		p->by_kind = xreallocarray(p->by_kind, p->nby_kind + 1,
		    sizeof *p->by_kind);
		b = &p->by_kind[p->nby_kind++];
		b->kind = xstrdup(kind);
		b->v = NULL;
		b->n = 0;
		b->pubs = NULL;
		b->gen = 0;
	}
	for (i = 0; i < b->n; i++)
		if (b->v[i] == r)
			return; /* applies_to listed the kind twice */
	b->v = xreallocarray(b->v, b->n + 1, sizeof *b->v);
	b->v[b->n++] = r;
	rules_changed();
}

/*
 * rule_prepare() of r by its owner p.  0, or -1 with the message
 * ("path:line: rule R: rejected by plugin p: reason") in *msg (malloc'd).
 */
static int
prepare_one(struct plugin *p, struct rule *r, char **msg)
{
	struct crash_scope cs;
	ttpd_err err;
	void *prep = NULL;
	int rc;

	r->pub.prepared = NULL;
	if (p->desc->rule_prepare == NULL)
		return 0;
	hostapi_err_prepare(&err);
	crash_enter(&cs, p->name, p->path, "rule_prepare", NULL);
	rc = p->desc->rule_prepare(p->state, &r->pub, &prep, &err);
	crash_leave(&cs);
	hostapi_err_finish(&err, rc < 0);
	if (rc < 0) {
		*msg = xasprintf("%s:%u: rule %s: rejected by plugin %s: %s",
		    r->pub.path, r->pub.line, r->pub.rule_id, p->name,
		    err.msg[0] != '\0' ? err.msg : "(no reason given)");
		return -1;
	}
	r->pub.prepared = prep;
	return 0;
}

static void
release_one(struct plugin *p, struct rule *r)
{
	struct crash_scope cs;

	if (p->desc->rule_release != NULL) {
		crash_enter(&cs, p->name, p->path, "rule_release", NULL);
		p->desc->rule_release(p->state, &r->pub, r->pub.prepared);
		crash_leave(&cs);
	}
	r->pub.prepared = NULL;
	r->owner = NULL;
	r->prepared = 0;
}

static void
log_inert(const struct rule *r)
{
	log_notice("%s:%u: rule %s: match.kind '%s' belongs to no loaded "
	    "plugin; the rule is inert", r->pub.path, r->pub.line,
	    r->pub.rule_id, r->pub.kind != NULL ? r->pub.kind : "(none)");
}

/* Does rule r claim kind (in its applies_to)? */
static int
rule_claims(const struct rule *r, const char *kind)
{
	size_t k;

	for (k = 0; k < r->pub.n_applies_to; k++)
		if (strcmp(r->pub.applies_to[k], kind) == 0)
			return 1;
	return 0;
}

/* A prepared rule joins its owner's list and kind buckets (at the end). */
static void
attach_one(struct plugin *p, struct rule *r)
{
	size_t k;

	r->owner = p;
	r->prepared = 1;
	p->rules = xreallocarray(p->rules, p->nrules + 1, sizeof *p->rules);
	p->rules[p->nrules++] = r;
	for (k = 0; k < r->pub.n_applies_to; k++) {
		const char *kind = r->pub.applies_to[k];

		if (!plugin_handles(p, kind)) {
			log_notice("%s:%u: rule %s applies to '%s', which its "
			    "plugin %s does not handle; it never fires there",
			    r->pub.path, r->pub.line, r->pub.rule_id, kind,
			    p->name);
			continue;
		}
		bucket_add(p, kind, r);
	}
}

/* Take r out of its owner's list and buckets (no rule_release()). */
static void
unlink_one(struct plugin *p, struct rule *r)
{
	size_t i, k;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i] == r) {
			memmove(&p->rules[i], &p->rules[i + 1],
			    (p->nrules - i - 1) * sizeof *p->rules);
			p->nrules--;
			break;
		}
	for (k = 0; k < p->nby_kind; k++) {
		struct kind_rules *b = &p->by_kind[k];

		for (i = 0; i < b->n; i++)
			if (b->v[i] == r) {
				memmove(&b->v[i], &b->v[i + 1],
				    (b->n - i - 1) * sizeof *b->v);
				b->n--;
				break;
			}
	}
	rules_changed();
}

int
registry_assign_rules(struct registry *reg, struct ruleset *rs,
    void (*report)(void *ud, const char *msg), void *ud)
{
	size_t i;
	int rejected = 0;

	for (i = 0; i < rs->n; i++) {
		struct rule *r = rs->v[i];
		struct plugin *p = registry_rule_owner(reg, r->pub.kind);
		char *msg = NULL;

		r->owner = NULL;
		r->prepared = 0;
		r->pub.prepared = NULL;
		if (p == NULL) {
			log_inert(r);
			continue;
		}
		if (prepare_one(p, r, &msg) != 0) {
			if (report != NULL)
				report(ud, msg);
			free(msg);
			rejected++;
			continue;
		}
		attach_one(p, r);
	}
	return rejected;
}

int
registry_prepare_rule(struct registry *reg, struct rule *r, char *err,
    size_t errlen)
{
	struct plugin *p = registry_rule_owner(reg, r->pub.kind);
	char *msg = NULL;

	r->owner = NULL;
	r->prepared = 0;
	r->pub.prepared = NULL;
	if (p == NULL)
		return 0;
	if (prepare_one(p, r, &msg) != 0) {
		snprintf(err, errlen, "%s", msg);
		free(msg);
		return -1;
	}
	/* owner known, not attached yet: registry_swap_rule() does that */
	r->owner = p;
	return 1;
}

void
registry_unprepare_rule(struct rule *r)
{
	if (r->owner != NULL)
		release_one(r->owner, r);
}

void
registry_detach_rule(struct registry *reg, struct rule *r)
{
	struct plugin *p = r->owner;

	(void)reg;
	if (p == NULL || !r->prepared)
		return;
	unlink_one(p, r);
	release_one(p, r);
}

void
registry_swap_rule(struct registry *reg, struct rule *old, struct rule *r)
{
	struct plugin *p = r->owner;
	size_t i, k;

	if (old != NULL && (p == NULL || old->owner != p || !old->prepared)) {
		/* a new owner (or none): the new version goes at the end */
		registry_detach_rule(reg, old);
		old = NULL;
	}
	if (p == NULL) {
		log_inert(r);
		return;
	}
	if (old == NULL) {
		attach_one(p, r);
		return;
	}
	/* same owner: r takes old's place in load order and in every
	 * bucket both claim; the buckets old alone claimed lose it, the
	 * ones r alone claims gain it at the end */
	for (i = 0; i < p->nrules; i++)
		if (p->rules[i] == old)
			p->rules[i] = r;
	for (k = 0; k < p->nby_kind; k++) {
		struct kind_rules *b = &p->by_kind[k];

		for (i = 0; i < b->n; i++) {
			if (b->v[i] != old)
				continue;
			if (rule_claims(r, b->kind))
				b->v[i] = r;
			else {
				memmove(&b->v[i], &b->v[i + 1],
				    (b->n - i - 1) * sizeof *b->v);
				b->n--;
			}
			break;
		}
	}
	r->prepared = 1;
	rules_changed();
	for (k = 0; k < r->pub.n_applies_to; k++) {
		const char *kind = r->pub.applies_to[k];

		if (rule_claims(old, kind))
			continue;
		if (!plugin_handles(p, kind)) {
			log_notice("%s:%u: rule %s applies to '%s', which its "
			    "plugin %s does not handle; it never fires there",
			    r->pub.path, r->pub.line, r->pub.rule_id, kind,
			    p->name);
			continue;
		}
		bucket_add(p, kind, r);
	}
	release_one(p, old);
}

static void
plugin_release_rules(struct plugin *p)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		release_one(p, p->rules[i]);
	free(p->rules);
	p->rules = NULL;
	p->nrules = 0;
	for (i = 0; i < p->nby_kind; i++) {
		free(p->by_kind[i].kind);
		free(p->by_kind[i].v);
		free(p->by_kind[i].pubs);
	}
	free(p->by_kind);
	p->by_kind = NULL;
	p->nby_kind = 0;
	rules_changed();
}

void
registry_release_rules(struct registry *reg)
{
	size_t i;

	for (i = 0; i < reg->nplugins; i++)
		plugin_release_rules(reg->plugins[i]);
}

void
registry_free(struct registry *reg)
{
	size_t i;

	registry_release_rules(reg);
	for (i = 0; i < reg->nplugins; i++) {
		struct plugin *p = reg->plugins[i];
		struct crash_scope cs;

		crash_enter(&cs, p->name, p->path, "destroy", NULL);
		p->desc->destroy(p->state);
		crash_leave(&cs);
		hostapi_ctx_free(p->ctx);
		free(p->name);
		free(p->path);
		free(p);
	}
	free(reg->plugins);
	kinds_free(reg);
	memset(reg, 0, sizeof *reg);
}
