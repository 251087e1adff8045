/*
 * A one-plugin fixture for the lifter suites: the real loader, rule store,
 * dispatch and hostapi_run() behind one lifter plugin.
 */
#ifndef TTPD_LIFTER_FX_H
#define TTPD_LIFTER_FX_H

#include <stddef.h>

#include "plugin.h"
#include "rules.h"
#include "tag.h"

struct lfx {
	struct registry reg;
	struct ruleset rules;
	struct plugin *p;
	struct tag_list tags;   /* tags of the last lfx_run() */
	char reports[4096];     /* problems reported by rule assignment */
	int nreports;
};

/* Load plugin `name` from the build tree (config: JSON text or NULL). */
void lfx_open(struct lfx *fx, const char *name, const char *config_json);
void lfx_close(struct lfx *fx);

/* Add a rule from YAML text (returned); add DECNET's rules R<lo>..R<hi>
 * from $TTPD_SHARED_DIR. */
struct rule *lfx_add_yaml(struct lfx *fx, const char *yaml);
void lfx_add_decnet(struct lfx *fx, int lo, int hi);
struct rule *lfx_rule(struct lfx *fx, const char *rule_id);

/* Hand the rules to the plugin; returns the number rejected. */
int lfx_assign(struct lfx *fx);

/*
 * Run one event (payload as JSON text) through the plugin; the tags
 * replace fx->tags.  Returns hostapi_run()'s result.
 */
int lfx_run(struct lfx *fx, const char *kind, const char *attacker_uuid,
    const char *identity_uuid, const char *payload_json);

/* The tag of rule_id in fx->tags (the n-th one), or NULL. */
const struct tag *lfx_tag(const struct lfx *fx, const char *rule_id);
size_t lfx_count(const struct lfx *fx, const char *rule_id);

/* Assert rule_id fired once per emit with exactly this evidence (JSON
 * text, compared member by member and in order). */
void lfx_assert_evidence(const struct lfx *fx, const char *rule_id,
    const char *evidence_json);

/* 1 when a tag's evidence equals the JSON object text `want` (member by
 * member, whatever the order); prints both when it does not. */
int lfx_evidence_is(const struct tag *t, const char *want);

/* Add the default pack's rule conf/rules/<rule_id>.yaml. */
void lfx_add_pack(struct lfx *fx, const char *rule_id);

/*
 * The default pack's rules decide like DECNET's: load DECNET's R<lo>..R<hi>
 * and the pack rules `pack[i]` standing for `decnet[i]` (NULL-terminated)
 * into plugin `name`, replay every golden event of the plugin's source
 * kinds, and assert each pair fires on the same events with the same
 * evidence, techniques and confidences.  Returns how many tags the DECNET
 * rules gave (so a caller can see the comparison was not vacuous).
 */
size_t lfx_assert_pack_agrees(const char *name, int lo, int hi,
    const char *const *decnet, const char *const *pack);

#endif
