/*
 * A small fixture for the canary and ipv6_leak suites: one lifter loaded
 * from the build tree through the real loader, rules from YAML text or
 * DECNET's directory, events run through hostapi_run().
 */
#ifndef TTPD_LIFTERFX_CANARY_H
#define TTPD_LIFTERFX_CANARY_H

#include <stddef.h>

#include "plugin.h"
#include "rules.h"
#include "tag.h"

struct lfx {
	struct registry reg;
	struct ruleset rules;
	struct plugin *p;
	char reports[4096];
	int nreports;
};

void lfx_open(struct lfx *fx, const char *plugin);
void lfx_close(struct lfx *fx);
/* Parse a rule from YAML and add it (assertion on a parse error). */
struct rule *lfx_add_yaml(struct lfx *fx, const char *yaml);
/* Add all of DECNET's rules (59). */
void lfx_load_decnet(struct lfx *fx);
/* registry_assign_rules(); returns its count of rejected rules. */
int lfx_assign(struct lfx *fx);
/* Run one event {payload_json} of `kind`; tags replace *out's content. */
void lfx_run(struct lfx *fx, const char *kind, const char *payload_json,
    struct tag_list *out);
/* How many tags of rule_id are in l. */
size_t lfx_count(const struct tag_list *l, const char *rule_id);
/* 1 when the tag's evidence equals the JSON object text `want`. */
int lfx_evidence_is(const struct tag *t, const char *want);

#endif
