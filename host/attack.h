/*
 * The MITRE ATT&CK bundle: MITRE's enterprise STIX 2.x bundle
 * (enterprise-attack.json), read through host/json.h.
 *
 * Only what ttpd needs is kept: every technique, sub-technique and tactic
 * by its ATT&CK id (the "mitre-attack" external_reference), its name, its
 * revoked / x_mitre_deprecated flags and, for techniques, the tactics of
 * its kill_chain_phases.  The bundle itself is freed after indexing.
 */
#ifndef TTPD_ATTACK_H
#define TTPD_ATTACK_H

#include <stddef.h>

struct attack;
struct config;
struct ruleset;

/* What an ATT&CK id resolves to. */
enum attack_status {
	ATTACK_UNKNOWN = 0,
	ATTACK_OK,
	ATTACK_REVOKED,
	ATTACK_DEPRECATED
};

/*
 * Read and index the bundle at `path`.  With `sha256` (64 hex digits, or
 * NULL/"" for none) the file's SHA-256 must match before anything is
 * parsed.  Returns NULL with a message naming the file in err.
 */
struct attack *attack_load(const char *path, const char *sha256, char *err,
    size_t errlen);
void attack_free(struct attack *a);

/* The file it was read from. */
const char *attack_path(const struct attack *a);
/*
 * The ATT&CK release of the bundle without a leading 'v' ("18.1"): the
 * x_mitre_version of its x-mitre-collection object, else the version in a
 * file name like enterprise-attack-18.1.json; NULL when neither says.
 */
const char *attack_version(const struct attack *a);
size_t attack_ntechniques(const struct attack *a);
size_t attack_ntactics(const struct attack *a);

/* Status of a technique / sub-technique id ("T1059", "T1059.004") or a
 * tactic id ("TA0002"). */
enum attack_status attack_lookup(const struct attack *a, const char *id);
/* "unknown", "valid", "revoked", "deprecated". */
const char *attack_status_name(enum attack_status st);

/*
 * Display name of an id: technique name, "Parent: Child" for a
 * sub-technique, tactic name.  NULL when unknown.  Caller frees.
 */
char *attack_name(const struct attack *a, const char *id);

/* 1 when technique or sub-technique `id` is listed under tactic
 * `tactic_id` in the bundle, 0 otherwise. */
int attack_has_tactic(const struct attack *a, const char *id,
    const char *tactic_id);
/* Tactic ids of a technique, comma-separated ("TA0002,TA0004"), or NULL.
 * Caller frees. */
char *attack_tactics_of(const struct attack *a, const char *id);

/*
 * Check every emits entry of every rule: tactic, technique and
 * sub-technique known, neither revoked nor deprecated; the sub-technique
 * listed under the entry's tactic (its parent is technique_id: the rule
 * loader checks that).  One `report` call per problem,
 * "file:line: rule R: ..."; a plain technique listed under other tactics
 * only is logged as a warning (DECNET's own pack pairs T1029 with
 * TA0011).  Returns the number of problems.
 */
int attack_check_rules(const struct attack *a, const struct ruleset *rs,
    void (*report)(void *ud, const char *msg), void *ud);

/*
 * Start-up (ttpd, ttpd -t, ttpctl): without attack.bundle, say once that
 * ids are unchecked; with it, load it (honouring attack.sha256) and check
 * the rules.  Either way make cfg->attack_release the value tags carry:
 * attack.release when configured, else "v<bundle version>", else DECNET's
 * "v15.1".  Problems go to `report`; returns their number.  With `keep`
 * the loaded bundle is handed to the caller (NULL without one).
 */
int attack_setup(struct config *cfg, const struct ruleset *rs,
    void (*report)(void *ud, const char *msg), void *ud,
    struct attack **keep);

#endif
