/*
 * The rule store: the only module that includes libyaml.
 *
 * Loads DECNET-format YAML rule files (decnet-lifters.md section 2,
 * decnet-host.md section 4): one rule per file, file names that fully
 * match [A-Za-z0-9_]+\.ya?ml (others are ignored), YAML 1.1 scalars.
 */
#ifndef TTPD_RULES_H
#define TTPD_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "tag.h"
#include "ttpd/lifter.h"

struct plugin;

/* A loaded rule.  `pub` is what the owning plugin sees; everything it
 * points to is owned by the rule. */
struct rule {
	ttpd_rule pub;
	char *description;
	struct plugin *owner;     /* set by dispatch; NULL = owned by nobody */
	struct rule_state state;  /* from ttp_rule_state; default enabled */
	int prepared;             /* owner's rule_prepare() succeeded */
	uint64_t content_hash;    /* FNV-1a of the file text (hot reload:
	                           * an unchanged file is not reloaded) */
	/* storage behind pub */
	ttpd_value *match;        /* reference held */
	ttpd_emit *emit_store;
	const ttpd_emit **emit_ptrs;
	char **applies_store;
	char **evidence_store;
};

struct ruleset {
	struct rule **v;
	size_t n, cap;
};

/* 1 when a base name is a rule file name DECNET would load. */
int rules_filename_ok(const char *basename);

/*
 * Parse one rule from a buffer (path is used in messages and stored in
 * the rule).  Returns the rule, or NULL with "path:line: reason" in err.
 * Validation: top level is a mapping; rule_id (non-empty string of
 * [A-Za-z0-9_.-]), rule_version (int >= 0), name (string), description
 * (string, optional), applies_to (non-empty list of strings), match
 * (mapping; `kind` a string when present; `field`/`pattern` strings when
 * present), emits (list of mappings with non-empty technique_id and tactic
 * strings, optional sub_technique_id string or null, numeric confidence),
 * evidence_fields (list of strings, optional).  Unknown top-level keys are
 * ignored, as DECNET does.  A rule with an empty applies_to and an empty
 * emits is DECNET's deletion sentinel and is reported as an error here.
 */
struct rule *rules_parse_buffer(const char *path, const char *buf,
    size_t len, char *err, size_t errlen);
struct rule *rules_parse_file(const char *path, char *err, size_t errlen);
void rule_free(struct rule *r);

/*
 * Load every rule file of every directory, each directory in sorted
 * file-name order.  A missing directory is an error.  Every invalid file is
 * reported through `report` (one call per problem, "path:line: reason");
 * a rule_id defined twice is reported naming both files.  Returns the
 * number of problems (0 = all good); valid rules are appended to out
 * whatever happens, so a caller can choose to fail closed.
 */
int rules_load_dirs(const char *const *dirs, size_t ndirs,
    struct ruleset *out, void (*report)(void *ud, const char *msg),
    void *ud);

void ruleset_init(struct ruleset *rs);
void ruleset_push(struct ruleset *rs, struct rule *r);
struct rule *ruleset_find(const struct ruleset *rs, const char *rule_id);

/*
 * A rule's state (ttp_tag_rule_state) and which rules a plugin has for a
 * kind change rarely; the host keeps its rules_for() answers until they
 * do.  rule_set_state() sets a state and says so; whoever writes
 * r->state.state directly, or changes a plugin's rule lists, calls
 * rules_changed().  rules_generation() tells a cached answer's age.
 */
void rule_set_state(struct rule *r, const struct rule_state *st);
void rules_changed(void);
unsigned long rules_generation(void);
/* Frees the rules too. */
void ruleset_free(struct ruleset *rs);
/* Hot reload: put r in old's place / take r out (neither is freed).
 * Return 0, or -1 when old / r is not in the set. */
int ruleset_replace(struct ruleset *rs, struct rule *old, struct rule *r);
int ruleset_remove(struct ruleset *rs, struct rule *r);

/* Does match.kind `kind` (may be NULL) match a plugin's rule_kinds entry?
 * An entry ending in '*' is a prefix. */
int rule_kind_matches(const char *pattern, const char *kind);

#endif
